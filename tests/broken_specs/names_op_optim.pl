% expect: 2 op name 'optim' is not usable: 'optim' is a name the generated package defines at its top
entity(optim).
component(optim, kind, elementwise).
component(optim, doc, "A test op.").
component(optim, input, x).
component(optim, output, y).
component(optim, forward, y = x * 2).
