% expect: 7 default 1.5 of attr 'n' of 'bad_op' is not a int (write e.g. 1).
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, attr, n: int = 1.5).
component(bad_op, forward, y = x * n).
