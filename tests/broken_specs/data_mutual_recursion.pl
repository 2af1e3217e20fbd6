% expect: 9 a rule (component(bad_op, devices, D) :- ...) is not data: a spec file holds only entity(Name) and component(Entity, Key, Value) facts, and grimoire runs no rule written in one. Write what it would derive as facts; a rule that derives components belongs in a kind file (semantics/kinds/). Also at line 10.
% Two rules that call each other would loop forever once any check asked for devices: one diagnostic, naming both.
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "Doubles x.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(bad_op, devices, D) :- component(other_op, devices, D).
component(other_op, devices, D) :- component(bad_op, devices, D).
