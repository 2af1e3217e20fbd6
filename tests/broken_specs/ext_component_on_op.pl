% expect: 8 'namespace' is a component of an extension, not of op 'bad_op'.
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(bad_op, namespace, my_ops).
