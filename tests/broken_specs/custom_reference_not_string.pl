% expect: 8 reference of 'bad_op' must be a double-quoted string
entity(bad_op).
component(bad_op, kind, custom).
component(bad_op, doc, "Doubles x.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, shape, y = like(x)).
component(bad_op, reference, x * 2).
component(bad_op, sample, [[3]]).
