% expect: 7 forward of 'bad_op': pow(0, -1) divides by zero: write the value you mean, or drop the
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x + pow(0, -1)).
