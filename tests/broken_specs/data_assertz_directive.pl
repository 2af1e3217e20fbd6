% expect: 9 directive `:- assertz(component(bad_op, devices, [cpu, cuda]))` refused: a spec file is data
% A component asserted by a directive instead of written as a fact.
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "Doubles x.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
:- assertz(component(bad_op, devices, [cpu, cuda])).
