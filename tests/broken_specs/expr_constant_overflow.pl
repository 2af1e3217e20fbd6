% expect: 7 forward of 'bad_op': 1.0e+308*10 overflows a double: write the value you mean, or drop
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = 1.0e308 * 10 * x).
