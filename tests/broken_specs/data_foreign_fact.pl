% expect: 9 foo/1 is not part of the spec vocabulary: a spec file holds only entity(Name) and component(Entity, Key, Value) facts.
% A fact of a predicate the vocabulary does not know.
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "Doubles x.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
foo(bar).
