% expect: 9 directive `:- initialization(shell('touch /tmp/grimoire_spec_ran_init'))` refused: a spec file is data
% initialization/1 would run after loading: refused like any directive.
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "Doubles x.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
:- initialization(shell('touch /tmp/grimoire_spec_ran_init')).
