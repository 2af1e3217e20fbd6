/*  cf_norm_affine (rowwise): a column input (weight, shape [n]) and no bias; a required attr (eps has no
    default, so the module takes it too); dtypes [float32, float64] on the CPU and the half types added
    on CUDA (the combination of a user's report, whose fake kernel refused the CUDA-only dtypes). */
entity(cf_norm_affine).
component(cf_norm_affine, kind, rowwise).
component(cf_norm_affine, doc, "Layer normalization over the last dim with a weight and no bias; eps is required.").
component(cf_norm_affine, input, x).
component(cf_norm_affine, input, weight).
component(cf_norm_affine, column_input, weight).
component(cf_norm_affine, attr, eps: float).
component(cf_norm_affine, output, y).
component(cf_norm_affine, stat, mu = mean(x)).
component(cf_norm_affine, stat, var = mean((x - mu) ** 2)).
component(cf_norm_affine, forward, y = (x - mu) * rsqrt(var + eps) * weight).
component(cf_norm_affine, peer, 'torch.nn.functional.layer_norm'(x, [shape(x, -1)], weight, none, eps)).
component(cf_norm_affine, dtypes, [float32, float64]).
component(cf_norm_affine, devices, [cpu, cuda]).
component(cf_norm_affine, cuda_dtypes, [float32, float64, float16, bfloat16]).
component(cf_norm_affine, bench, shape([1024, 1024])).
