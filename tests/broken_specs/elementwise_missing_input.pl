% expect: 3 has no 'input' component
% An elementwise op with no input fact.
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A constant.").
component(bad_op, output, y).
component(bad_op, forward, y = 2.0).
