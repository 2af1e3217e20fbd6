/*  layer_norm (rowwise): (x - mean) / sqrt(var + eps) * weight + bias over the last dim.
    weight and bias are column inputs (shape [n]); their gradients are summed over the rows.
    The whole backward is derived from these four lines. */

entity(layer_norm).
component(layer_norm, kind, rowwise).
component(layer_norm, doc, "Layer normalization over the last dimension, with weight and bias.").
component(layer_norm, input, x).
component(layer_norm, input, weight).
component(layer_norm, input, bias).
component(layer_norm, column_input, weight).
component(layer_norm, column_input, bias).
component(layer_norm, attr, eps: float = 1.0e-5).
component(layer_norm, output, y).
component(layer_norm, stat, mu = mean(x)).
component(layer_norm, stat, var = mean((x - mu) ** 2)).
component(layer_norm, forward, y = (x - mu) * rsqrt(var + eps) * weight + bias).
component(layer_norm, peer, 'torch.nn.functional.layer_norm'(x, [shape(x, -1)], weight, bias, eps)).
component(layer_norm, dtypes, [float32, float64, float16, bfloat16]).
component(layer_norm, devices, [cpu, cuda]).
component(layer_norm, module, 'FusedLayerNorm').
component(layer_norm, bench, cpu(shape([4096, 4096]))).
% Long rows on the CPU, against eager there too.
component(layer_norm, bench, cpu(shape([64, 131072]))).
component(layer_norm, bench, cpu(shape([8, 262144]))).
% On the GPU: two shapes (a square fp32 one, and many short rows as in a transformer).
component(layer_norm, bench, cuda(shape([4096, 4096]))).
component(layer_norm, bench, cuda(shape([32768, 1024]))).
component(layer_norm, column_init, bias: zeros).
component(layer_norm, replaces, 'torch.nn.LayerNorm').
% LLM shapes (benchmarks/results/llm-scale): tokens x hidden size, and long rows.
component(layer_norm, bench, cuda(shape([16384, 4096]))).
component(layer_norm, bench, cuda(shape([8192, 8192]))).
component(layer_norm, bench, cuda(shape([4096, 32768]))).
component(layer_norm, bench_peer, cuda(liger = 'liger_kernel.transformers.functional.liger_layer_norm'(x, weight, bias, eps))).
