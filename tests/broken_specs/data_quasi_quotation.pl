% expect: 9 a quasi-quotation {|Syntax||Text|} is not data
% A quasi-quotation would call its syntax's parser while reading.
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "Doubles x.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(bad_op, module, {|string(X)||Doubler|}).
