% expect: 9 component(_, doc, "Every op's doc.") has a variable where the entity goes
% A variable where a name goes would make the fact hold for every entity.
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "Doubles x.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(_, doc, "Every op's doc.").
