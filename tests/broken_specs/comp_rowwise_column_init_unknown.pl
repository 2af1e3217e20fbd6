% expect: 12 column_init of 'bad_norm' must read ColumnInput: ones or ColumnInput: zeros (column
entity(bad_norm).
component(bad_norm, kind, rowwise).
component(bad_norm, doc, "A norm.").
component(bad_norm, input, x).
component(bad_norm, input, weight).
component(bad_norm, column_input, weight).
component(bad_norm, attr, eps: float = 1.0e-5).
component(bad_norm, output, y).
component(bad_norm, stat, ms = mean(x * x)).
component(bad_norm, forward, y = x * rsqrt(ms + eps) * weight).
component(bad_norm, column_init, weight: twos).
