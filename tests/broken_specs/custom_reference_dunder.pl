% expect: 8 '__bases__' is not allowed
entity(bad_op).
component(bad_op, kind, custom).
component(bad_op, doc, "Doubles x.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, shape, y = like(x)).
component(bad_op, reference, "x.__class__.__bases__[0] and x * 2").
component(bad_op, sample, [[3]]).
