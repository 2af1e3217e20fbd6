% expect: 9 a rule (component(bad_op, dtypes, Ds) :- ...) is not data: a spec file holds only entity(Name) and component(Entity, Key, Value) facts, and grimoire runs no rule written in one
% A component computed by a rule: grimoire runs no rule written in a spec; write the value.
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "Doubles x.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(bad_op, dtypes, Ds) :- findall(D, member(D, [float32, float64]), Ds).
