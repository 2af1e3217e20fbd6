% expect: 8 unbound Prolog variable
% X * X is not a singleton, so only the expression check can catch it.
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "Squares x.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = X * X).
