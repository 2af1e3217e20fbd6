% expect: 7 forward of 'bad_op': "2" is a string, not a number or a name: write numbers without
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * "2").
