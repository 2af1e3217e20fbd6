% expect: 8 replaces of 'bad_op' must name a torch module class, e.g. 'torch.nn.LayerNorm'; got
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(bad_op, replaces, 'numpy.Module').
