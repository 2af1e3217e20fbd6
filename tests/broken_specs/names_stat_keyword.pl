% expect: 10 stat name class of 'bad_norm' is not usable: write a lower_snake_case identifier.
entity(bad_norm).
component(bad_norm, kind, rowwise).
component(bad_norm, doc, "A norm.").
component(bad_norm, input, x).
component(bad_norm, input, weight).
component(bad_norm, column_input, weight).
component(bad_norm, attr, eps: float = 1.0e-5).
component(bad_norm, output, y).
component(bad_norm, stat, class = mean(x * x)).
component(bad_norm, forward, y = x * rsqrt(class + eps) * weight).
