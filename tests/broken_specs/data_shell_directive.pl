% expect: 3 directive `:- shell('touch /tmp/grimoire_spec_ran_shell')` refused: a spec file is data, and nothing in it runs
% A directive in a spec would run while loading: it is refused, and nothing runs.
:- shell('touch /tmp/grimoire_spec_ran_shell').
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "Doubles x.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
