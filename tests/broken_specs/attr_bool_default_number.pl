% expect: 7 default 1 of attr 'flag' of 'bad_op' is not a bool (write e.g. true).
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, attr, flag: bool = 1).
component(bad_op, forward, y = x * 2).
