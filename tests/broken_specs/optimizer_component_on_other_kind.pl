% expect: 8 'update' is a component of optimizer ops, not of elementwise op 'bad_op'
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "Doubles x.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = 2 * x).
component(bad_op, update, x = y).
