% expect: 8 module name 'Exception' of 'bad_op' is not usable: 'Exception' is a Python builtin, which
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(bad_op, module, 'Exception').
