% expect: 9 Clauses of scale_of/2 are not together
% A helper predicate split by other facts: SWI-Prolog warns, and the loader refuses the warning.
scale_of(bad_op, 2).
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "Doubles x.").
component(bad_op, input, x).
component(bad_op, output, y).
scale_of(other_op, 3).
component(bad_op, forward, y = x * 2).
