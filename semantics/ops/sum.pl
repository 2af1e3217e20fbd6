/*  sum (rowwise): the sum over the last dimension, optionally keeping it. */

entity(sum).
component(sum, kind, rowwise).
component(sum, doc, "Sum over the last dimension.").
component(sum, input, x).
component(sum, attr, keepdim: bool = false).
component(sum, output, y).
component(sum, forward, y = sum(x)).
component(sum, peer, 'torch.sum'(x, -1, keepdim = keepdim)).
component(sum, dtypes, [float32, float64, float16, bfloat16]).
component(sum, devices, [cpu, cuda]).
component(sum, bench, shape([4096, 4096])).
