% expect: 5 input name list of 'bad_op' is not usable: 'list' is a Python builtin, which the
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, list).
component(bad_op, output, y).
component(bad_op, forward, y = list * 2).
