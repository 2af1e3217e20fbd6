% expect: 6 rowwise op 'dim_norm': dim is the generated function's own argument
entity(dim_norm).
component(dim_norm, kind, rowwise).
component(dim_norm, doc, "A norm of an input named dim.").
component(dim_norm, input, x).
component(dim_norm, input, dim).
component(dim_norm, output, y).
component(dim_norm, forward, y = x * dim / sum(x)).
