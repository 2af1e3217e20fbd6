% expect: 7 foo/1 is not in the expression grammar
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "Applies foo.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = foo(x)).
