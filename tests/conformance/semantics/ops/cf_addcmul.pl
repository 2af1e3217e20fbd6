/*  cf_addcmul (elementwise): three broadcasting inputs; CUDA lists fewer dtypes than the CPU
    (cuda_dtypes a subset of dtypes). */
entity(cf_addcmul).
component(cf_addcmul, kind, elementwise).
component(cf_addcmul, doc, "x + value * a * b (torch.addcmul).").
component(cf_addcmul, input, x).
component(cf_addcmul, input, a).
component(cf_addcmul, input, b).
component(cf_addcmul, attr, value: float = 1.0).
component(cf_addcmul, output, y).
component(cf_addcmul, forward, y = x + value * a * b).
component(cf_addcmul, variant, inplace).
component(cf_addcmul, peer, 'torch.addcmul'(x, a, b, value = value)).
component(cf_addcmul, dtypes, [float32, float64, float16, bfloat16]).
component(cf_addcmul, devices, [cpu, cuda]).
component(cf_addcmul, cuda_dtypes, [float32, float64]).
component(cf_addcmul, bench, shape([1048576])).
