% expect: 7 attr of 'bad_op' holds 9223372036854775808, which does not fit in 64 bits (int64 holds
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, attr, n: int = 9223372036854775808).
component(bad_op, forward, y = x * n).
