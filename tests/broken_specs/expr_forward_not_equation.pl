% expect: 7 forward of 'bad_op' must read Output = Expression, e.g. y = x * sigmoid(x); got x*2.
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, x * 2).
