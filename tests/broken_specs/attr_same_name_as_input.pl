% expect: 7 name 'x' is used twice among the inputs, attrs and outputs of 'bad_op': rename one.
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, attr, x: float = 1.0).
component(bad_op, forward, y = x * 2).
