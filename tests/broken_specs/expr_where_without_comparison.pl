% expect: 7 forward of 'bad_op': where/3 needs a comparison (>, <, >=, =<, ==, \==) first, got x.
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = where(x, x, 0)).
