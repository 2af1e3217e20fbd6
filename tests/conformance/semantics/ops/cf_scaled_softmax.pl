/*  cf_scaled_softmax (rowwise): softmax of x * scale, the scale an attr (hoisted as a row scalar). Its
    sum of exp(x * scale - max) reduces online in the max's pass on CUDA (the GPU plan), in a second
    pass on the CPU. No torch function takes the scale: the tests check it against its composite
    (the spec as torch ops, in float64). */
entity(cf_scaled_softmax).
component(cf_scaled_softmax, kind, rowwise).
component(cf_scaled_softmax, doc, "softmax(x * scale) over the last dimension.").
component(cf_scaled_softmax, input, x).
component(cf_scaled_softmax, attr, scale: float = 0.5).
component(cf_scaled_softmax, output, y).
component(cf_scaled_softmax, stat, top = max(x * scale)).
component(cf_scaled_softmax, forward, y = exp(x * scale - top) / sum(exp(x * scale - top))).
component(cf_scaled_softmax, dtypes, [float32, float64, bfloat16]).
component(cf_scaled_softmax, devices, [cpu, cuda]).
component(cf_scaled_softmax, bench, shape([1024, 1024])).
