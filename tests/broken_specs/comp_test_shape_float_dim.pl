% expect: 8 test_shape of 'bad_op' must be shape([D1, D2, ...]) with non-negative integers, got
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(bad_op, test_shape, shape([2.5])).
