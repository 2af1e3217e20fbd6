% expect: 10 must list one shape per input
entity(bad_op).
component(bad_op, kind, custom).
component(bad_op, doc, "Adds x and w.").
component(bad_op, input, x).
component(bad_op, input, w).
component(bad_op, output, y).
component(bad_op, shape, y = like(x)).
component(bad_op, reference, "x + w").
component(bad_op, sample, [[3]]).
