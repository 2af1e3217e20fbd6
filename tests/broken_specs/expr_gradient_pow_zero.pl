% expect: 8 gradient of 'bad_op' for x: pow(0, -2) divides by zero: write the value you mean, or drop
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(bad_op, gradient, x = grad_y * pow(0, -2)).
