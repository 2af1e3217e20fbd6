% expect: 3 directive `:- op(700, xfx, ===>)` refused: a spec file cannot declare operators
% An operator declaration would change how every later file is read.
:- op(700, xfx, ===>).
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "Doubles x.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
