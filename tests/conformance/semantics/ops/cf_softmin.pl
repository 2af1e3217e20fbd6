/*  cf_softmin (rowwise): softmax of -x, written with its own shift. The planner's online plan folds its
    sum of exp(-x - max(-x)) into the max's pass (the shifted body is -x, not an input); the CUDA
    streamed kernels run it, the register ones the two-pass plan, and its peer checks both. */
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
