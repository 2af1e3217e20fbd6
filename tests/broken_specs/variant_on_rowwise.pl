% expect: 9 'variant' is a component of elementwise ops, not of rowwise op 'bad_op'
entity(bad_op).
component(bad_op, kind, rowwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x - max(x)).
component(bad_op, peer, 'torch.nn.functional.softmax'(x, -1)).
component(bad_op, variant, out).
