% expect: 7 attr name forward of 'bad_op' is not usable (an attr becomes a parameter of the op's
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, attr, forward: float = 1.0).
component(bad_op, forward, y = x * forward).
