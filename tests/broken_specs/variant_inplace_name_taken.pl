% expect: 8 the in-place form of 'bad_op' is 'bad_op_', which is taken by another op
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(bad_op, variant, inplace).
entity(bad_op_).
component(bad_op_, kind, elementwise).
component(bad_op_, doc, "Another op.").
component(bad_op_, input, x).
component(bad_op_, output, y).
component(bad_op_, forward, y = x * 3).
