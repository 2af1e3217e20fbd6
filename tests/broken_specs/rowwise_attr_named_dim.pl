% expect: 7 rowwise op 'pick_norm': dim is the generated function's own argument
entity(pick_norm).
component(pick_norm, kind, rowwise).
component(pick_norm, doc, "A norm with a dim attr.").
component(pick_norm, input, x).
component(pick_norm, output, y).
component(pick_norm, attr, dim: int = 1).
component(pick_norm, forward, y = x / sum(x)).
