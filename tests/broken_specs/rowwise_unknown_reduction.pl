% expect: 7 prod/1 is not in the expression grammar
entity(bad_norm).
component(bad_norm, kind, rowwise).
component(bad_norm, doc, "Divides by the product of the row.").
component(bad_norm, input, x).
component(bad_norm, output, y).
component(bad_norm, forward, y = x / prod(x)).
