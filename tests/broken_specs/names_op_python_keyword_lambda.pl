% expect: 2 op name 'lambda' is not usable: 'lambda' is a Python keyword: choose another name, e.g.
entity(lambda).
component(lambda, kind, elementwise).
component(lambda, doc, "A test op.").
component(lambda, input, x).
component(lambda, output, y).
component(lambda, forward, y = x * 2).
