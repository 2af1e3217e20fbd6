% expect: 9 component(bad_op, _, x) has a variable where the key goes
% A variable where the key goes.
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "Doubles x.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(bad_op, _, x).
