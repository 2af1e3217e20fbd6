% expect: 3 directive `:- repeat, fail` refused: a spec file is data, and nothing in it runs
% A directive that would never end: loading must not hang on it (it never runs).
:- repeat, fail.
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "Doubles x.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
