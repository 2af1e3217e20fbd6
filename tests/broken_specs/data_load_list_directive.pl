% expect: 9 directive `:- ['/tmp/other.pl']` refused: a spec file cannot load or include another file
% The list form of consult.
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "Doubles x.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
:- ['/tmp/other.pl'].
