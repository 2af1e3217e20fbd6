% expect: 6 output name 'Y' of 'bad_op' is not usable: it has upper-case letters: write
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, 'Y').
component(bad_op, forward, 'Y' = x * 2).
