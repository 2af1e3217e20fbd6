% expect: 8 peer 'torch.mul' of 'bad_op' must call a torch.* function with the op's inputs, attrs,
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(bad_op, peer, 'torch.mul').
