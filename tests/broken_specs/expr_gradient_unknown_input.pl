% expect: 8 gradient of 'bad_op' names z, which is not an input (inputs: [x]).
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(bad_op, gradient, z = grad_y * 2).
