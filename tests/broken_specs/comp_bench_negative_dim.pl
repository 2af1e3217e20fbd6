% expect: 8 bench of 'bad_op' must be shape([D1, D2, ...]) with non-negative integers (or
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(bad_op, bench, shape([-1])).
