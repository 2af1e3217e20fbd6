/*  mean (rowwise): the mean over the last dimension, optionally keeping it. */

entity(mean).
component(mean, kind, rowwise).
component(mean, doc, "Mean over the last dimension.").
component(mean, input, x).
component(mean, attr, keepdim: bool = false).
component(mean, output, y).
component(mean, forward, y = mean(x)).
component(mean, peer, 'torch.mean'(x, -1, keepdim = keepdim)).
component(mean, dtypes, [float32, float64, float16, bfloat16]).
component(mean, devices, [cpu, cuda]).
component(mean, bench, shape([4096, 4096])).
