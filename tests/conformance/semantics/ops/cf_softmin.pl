/*  cf_softmin (rowwise): softmax of -x, written with its own shift. Its sum of exp(-x - max(-x))
    reduces online in the max's pass on CUDA (the GPU plan: the shifted body is -x, not an input), in a
    second pass on the CPU. */
entity(cf_softmin).
component(cf_softmin, kind, rowwise).
component(cf_softmin, doc, "softmin over the last dimension: softmax(-x).").
component(cf_softmin, input, x).
component(cf_softmin, output, y).
component(cf_softmin, stat, top = max(-x)).
component(cf_softmin, forward, y = exp(-x - top) / sum(exp(-x - top))).
component(cf_softmin, peer, 'torch.nn.functional.softmin'(x, -1)).
component(cf_softmin, dtypes, [float32, float64, bfloat16]).
component(cf_softmin, devices, [cpu, cuda]).
component(cf_softmin, bench, shape([1024, 1024])).
