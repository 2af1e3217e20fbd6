% expect: 4 doc of 'bad_op' must be a double-quoted string, as in component(bad_op, doc, "What it
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, 'A test op.').
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
