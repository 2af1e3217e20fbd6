% expect: 8 'shape' is a component of custom ops, not of elementwise op 'bad_op'
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "Doubles x.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(bad_op, shape, y = like(x)).
