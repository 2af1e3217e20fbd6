% expect: 5 input name type of 'bad_op' is not usable: 'type' is a Python soft keyword: choose
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, type).
component(bad_op, output, y).
component(bad_op, forward, y = type * 2).
