% expect: 6 input name training of 'bad_norm' is not usable (a column input becomes a parameter of
entity(bad_norm).
component(bad_norm, kind, rowwise).
component(bad_norm, doc, "A norm.").
component(bad_norm, input, x).
component(bad_norm, input, training).
component(bad_norm, column_input, training).
component(bad_norm, attr, eps: float = 1.0e-5).
component(bad_norm, output, y).
component(bad_norm, stat, ms = mean(x * x)).
component(bad_norm, forward, y = x * rsqrt(ms + eps) * training).
