% expect: 7 attr beta of 'bad_op' is malformed: write Name: Type = Default, e.g. beta: float = 1.0.
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, attr, beta).
component(bad_op, forward, y = x * 2).
