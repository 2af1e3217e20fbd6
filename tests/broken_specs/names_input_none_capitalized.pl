% expect: 5 input name 'None' of 'bad_op' is not usable: it has upper-case letters: write
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, 'None').
component(bad_op, output, y).
component(bad_op, forward, y = 'None' * 2).
