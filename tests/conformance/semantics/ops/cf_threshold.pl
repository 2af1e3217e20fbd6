/*  cf_threshold (elementwise): one input; a required attr (no default) before one with a default;
    CUDA lists more dtypes than the CPU (cuda_dtypes a superset of dtypes); an out= form beside the
    required attr. NaN passes through, as in torch.nn.functional.threshold. */
entity(cf_threshold).
component(cf_threshold, kind, elementwise).
component(cf_threshold, doc, "x where x > threshold, else value (torch.nn.functional.threshold).").
component(cf_threshold, input, x).
component(cf_threshold, attr, threshold: float).
component(cf_threshold, attr, value: float = 0.0).
component(cf_threshold, output, y).
component(cf_threshold, forward, y = where(x =< threshold, value, x)).
component(cf_threshold, variant, out).
component(cf_threshold, peer, 'torch.nn.functional.threshold'(x, threshold, value)).
component(cf_threshold, dtypes, [float32, float64]).
component(cf_threshold, devices, [cpu, cuda]).
component(cf_threshold, cuda_dtypes, [float32, float64, float16, bfloat16]).
component(cf_threshold, bench, shape([1048576])).
