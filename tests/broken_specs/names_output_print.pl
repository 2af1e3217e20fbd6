% expect: 6 output name print of 'bad_op' is not usable: 'print' is a Python builtin, which the
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, print).
component(bad_op, forward, print = x * 2).
