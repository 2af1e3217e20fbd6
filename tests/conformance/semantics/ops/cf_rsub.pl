/*  cf_rsub (elementwise): two broadcasting inputs; CPU and CUDA dtypes disjoint (bfloat16 and float64
    on the CPU, float16 and float32 on CUDA): no float32 kernel on the CPU. */
entity(cf_rsub).
component(cf_rsub, kind, elementwise).
component(cf_rsub, doc, "y - alpha * x (torch.rsub).").
component(cf_rsub, input, x).
component(cf_rsub, input, y).
component(cf_rsub, attr, alpha: float = 1.0).
component(cf_rsub, output, z).
component(cf_rsub, forward, z = y - alpha * x).
component(cf_rsub, variant, out).
component(cf_rsub, peer, 'torch.rsub'(x, y, alpha = alpha)).
component(cf_rsub, dtypes, [float64, bfloat16]).
component(cf_rsub, devices, [cpu, cuda]).
component(cf_rsub, cuda_dtypes, [float32, float16]).
component(cf_rsub, bench, shape([1048576])).
