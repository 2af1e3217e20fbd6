% expect: 6 default yes of attr 'beta' of 'bad_op' is not a float
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "Scales x.").
component(bad_op, input, x).
component(bad_op, attr, beta: float = yes).
component(bad_op, output, y).
component(bad_op, forward, y = beta * x).
