% expect: 3 directive `:- include('/etc/passwd')` refused: a spec file cannot load or include another file
% include/1 would read another file (here one that is no spec at all): refused, and the file is never opened.
:- include('/etc/passwd').
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "Doubles x.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
