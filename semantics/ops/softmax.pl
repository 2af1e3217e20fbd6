/*  softmax (rowwise): exp(x) / sum(exp(x)) over the last dim, max-subtracted for stability.
    The backward is given in terms of the output (as torch does), which needs one reduction
    pass instead of recomputing the exponentials. */

entity(softmax).
component(softmax, kind, rowwise).
component(softmax, doc, "Softmax over the last dimension.").
component(softmax, input, x).
component(softmax, output, y).
component(softmax, forward, y = exp(x - max(x)) / sum(exp(x - max(x)))).
component(softmax, gradient, x = y * (grad_y - sum(grad_y * y))).
component(softmax, peer, 'torch.softmax'(x, -1)).
component(softmax, dtypes, [float32, float64, float16, bfloat16]).
component(softmax, devices, [cpu, cuda]).
component(softmax, bench, shape([4096, 4096])).
