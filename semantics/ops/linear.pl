/*  linear (gemm): x @ weight^T + bias, torch.nn.functional.linear; its module is a drop-in for
    nn.Linear (same parameters, initialisation and state_dict keys). */

entity(linear).
component(linear, kind, gemm).
component(linear, doc, "x @ weight^T + bias, as torch.nn.functional.linear.").
component(linear, input, x).
component(linear, input, weight).
component(linear, input, bias).
component(linear, output, y).
component(linear, forward, y = linear(x, weight) + bias).
component(linear, peer, 'torch.nn.functional.linear'(x, weight, bias)).
component(linear, dtypes, [float32, float64]).
component(linear, devices, [cpu, cuda]).
component(linear, cuda_dtypes, [float32, float64, float16, bfloat16]).
component(linear, module, 'Linear').
component(linear, bench, cuda(shape([4096, 4096, 4096]))).
component(linear, bench, cpu(shape([2048, 1024, 1024]))).
