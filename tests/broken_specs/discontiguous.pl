% expect: 4 scale_of/2 is not part of the spec vocabulary
% A helper predicate, split by other facts: a spec file holds only entity/1 and component/3 facts, so
% it is refused at its first clause, and the diagnostic names the other (it is no longer consulted).
scale_of(bad_op, 2).
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "Doubles x.").
component(bad_op, input, x).
component(bad_op, output, y).
scale_of(other_op, 3).
component(bad_op, forward, y = x * 2).
