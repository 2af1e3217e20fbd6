% expect: 3 directive `:- dynamic(scale/2)` refused: a spec file needs no declarations
% Declarations are the vocabulary's business (semantics/core/ecs.pl).
:- dynamic scale/2.
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "Doubles x.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
