% expect: 3 unknown kind 'elementwize'; did you mean 'elementwise'?
entity(bad_op).
component(bad_op, kind, elementwize).
component(bad_op, doc, "Doubles x.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
