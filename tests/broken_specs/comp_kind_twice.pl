% expect: 8 'bad_op' has more than one 'kind' component (elementwise and rowwise): keep one.
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(bad_op, kind, rowwise).
