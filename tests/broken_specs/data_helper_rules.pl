% expect: 9 a rule (ping :- ...) is not data
% A helper rule of another predicate is refused too (its body never runs).
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "Doubles x.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
ping :- ping.
