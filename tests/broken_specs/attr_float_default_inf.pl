% expect: 7 attr of 'bad_op' holds 1.0Inf, which is not a finite number: write a finite one (e.g.
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, attr, beta: float = 1.0Inf).
component(bad_op, forward, y = x * beta).
