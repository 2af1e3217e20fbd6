% expect: 2 op name 'match' is not usable: 'match' is a Python soft keyword: choose another name,
entity(match).
component(match, kind, elementwise).
component(match, doc, "A test op.").
component(match, input, x).
component(match, output, y).
component(match, forward, y = x * 2).
