% expect: 7 forward of 'bad_op' holds 99999999999999999999, which does not fit in 64 bits (int64
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 99999999999999999999).
