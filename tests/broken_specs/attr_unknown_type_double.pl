% expect: 7 attr 'beta' of 'bad_op' has unknown type double; types: float, int, bool,
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, attr, beta: double = 1.0).
component(bad_op, forward, y = x * beta).
