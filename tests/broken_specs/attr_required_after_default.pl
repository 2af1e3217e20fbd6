% expect: 8 attr 'beta' of 'bad_op' has no default but follows attr 'alpha', which has one (Python
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, attr, alpha: float = 1.0).
component(bad_op, attr, beta: float).
component(bad_op, forward, y = x * alpha * beta).
