% expect: 9 component/4 has 4 arguments: a component is component(Entity, Key, Value); give several values as one list: component(bad_op, devices, [cpu, cuda])
% Several values written as extra arguments.
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "Doubles x.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(bad_op, devices, cpu, cuda).
