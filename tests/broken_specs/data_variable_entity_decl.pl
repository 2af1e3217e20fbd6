% expect: 3 entity(_) has a variable where the entity's name goes
% entity(_) would declare every name.
entity(_).
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "Doubles x.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
