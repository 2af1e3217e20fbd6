% expect: 7 default inf of attr 'beta' of 'bad_op' is not a float (write e.g. 1.0).
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, attr, beta: float = inf).
component(bad_op, forward, y = x * beta).
