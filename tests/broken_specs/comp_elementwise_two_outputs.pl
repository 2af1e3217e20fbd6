% expect: 7 elementwise op 'bad_op' has one output; remove output z.
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, output, z).
component(bad_op, forward, y = x * 2).
