% expect: 5 input name х of 'bad_op' is not usable: its character 1 is 'х' (U+0445), not ASCII: write
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, х).
component(bad_op, output, y).
component(bad_op, forward, y = х * 2).
