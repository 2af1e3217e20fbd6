% expect: 10 gives x 1 dims, but its rank is 2
entity(bad_op).
component(bad_op, kind, custom).
component(bad_op, doc, "Row sums of x.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, rank, x = 2).
component(bad_op, shape, y = [size(x, 0)]).
component(bad_op, reference, "x.sum(dim=1)").
component(bad_op, sample, [[3]]).
