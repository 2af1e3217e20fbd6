% expect: 8 unknown component 'devcies' of 'bad_op'; did you mean 'devices'?
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "Doubles x.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(bad_op, devcies, [cpu]).
