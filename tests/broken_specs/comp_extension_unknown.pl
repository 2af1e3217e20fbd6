% expect: 8 op 'bad_op' names extension 'other_ops', which is not declared as an extension entity.
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(bad_op, extension, other_ops).
