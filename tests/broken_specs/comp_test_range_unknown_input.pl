% expect: 8 test_range z:[0,1] of 'bad_op' must read Input: [Low, High] with Low < High and Input one
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(bad_op, test_range, z: [0, 1]).
