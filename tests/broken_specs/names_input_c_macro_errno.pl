% expect: 5 input name errno of 'bad_op' is not usable: 'errno' is a macro of the C library the generated C++ includes
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, errno).
component(bad_op, output, y).
component(bad_op, forward, y = errno * 2).
