% expect: 3 entiy/1 is not part of the spec vocabulary: a spec file holds only entity(Name) and component(Entity, Key, Value) facts. Did you mean entity(other_op)?
% A misspelled predicate is blamed where it is written (it used to be blamed on the components of an undeclared entity).
entiy(other_op).
component(other_op, kind, elementwise).
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "Doubles x.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
