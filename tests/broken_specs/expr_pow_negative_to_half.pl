% expect: 7 forward of 'bad_op': pow(-8, 0.5) is undefined (a negative base to a fractional power, or
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x + pow(-8, 0.5)).
