% expect: 8 test_range x:[3,-3] of 'bad_op' must read Input: [Low, High] with Low < High and Input
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(bad_op, test_range, x: [3, -3]).
