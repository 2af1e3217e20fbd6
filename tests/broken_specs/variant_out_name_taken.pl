% expect: 8 the out= form of 'bad_op' is the op 'bad_op_out', which is taken by another op
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(bad_op, variant, out).
entity(bad_op_out).
component(bad_op_out, kind, elementwise).
component(bad_op_out, doc, "Another op.").
component(bad_op_out, input, x).
component(bad_op_out, output, y).
component(bad_op_out, forward, y = x * 3).
