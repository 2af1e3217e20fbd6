% expect: 9 a rule (greeting --> ...) is not data
% A grammar rule is a rule too.
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "Doubles x.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
greeting --> [hello].
