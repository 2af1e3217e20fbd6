% expect: 8 differentiable of 'bad_op' lists x twice: list each input once, e.g. [x].
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(bad_op, differentiable, [x, x]).
