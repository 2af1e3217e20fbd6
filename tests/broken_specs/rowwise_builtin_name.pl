% expect: 5 'n' is a builtin of rowwise ops
entity(bad_norm).
component(bad_norm, kind, rowwise).
component(bad_norm, doc, "Row sums.").
component(bad_norm, input, n).
component(bad_norm, output, y).
component(bad_norm, forward, y = sum(n)).
