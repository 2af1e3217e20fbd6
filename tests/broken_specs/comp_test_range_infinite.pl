% expect: 8 test_range of 'bad_op' holds -1.0Inf, which is not a finite number: write a finite one
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(bad_op, test_range, x: [-1.0Inf, 1.0]).
