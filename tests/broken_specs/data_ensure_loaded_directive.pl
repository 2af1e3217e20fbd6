% expect: 3 directive `:- ensure_loaded(library(process))` refused: a spec file cannot load or include another file
% ensure_loaded/1 would load a library (and run its directives).
:- ensure_loaded(library(process)).
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "Doubles x.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
