% expect: 5 input name new of 'bad_op' is not usable: 'new' is a C++ keyword: choose another name,
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, new).
component(bad_op, output, y).
component(bad_op, forward, y = new * 2).
