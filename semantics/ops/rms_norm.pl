/*  rms_norm (rowwise): x / sqrt(mean(x^2) + eps) * weight over the last dim (torch's rms_norm). */

entity(rms_norm).
component(rms_norm, kind, rowwise).
component(rms_norm, doc, "Root-mean-square normalization over the last dimension, with weight.").
component(rms_norm, input, x).
component(rms_norm, input, weight).
component(rms_norm, column_input, weight).
component(rms_norm, attr, eps: float = 1.0e-6).
component(rms_norm, output, y).
component(rms_norm, forward, y = x * rsqrt(mean(x * x) + eps) * weight).
component(rms_norm, peer, 'torch.nn.functional.rms_norm'(x, [shape(x, -1)], weight, eps)).
component(rms_norm, dtypes, [float32, float64, float16, bfloat16]).
component(rms_norm, devices, [cpu, cuda]).
component(rms_norm, module, 'FusedRMSNorm').
component(rms_norm, bench, cpu(shape([4096, 4096]))).
% Long rows on the CPU, against eager there too.
component(rms_norm, bench, cpu(shape([64, 131072]))).
component(rms_norm, bench, cpu(shape([8, 262144]))).
% On the GPU: two shapes (a square fp32 one, and many short rows as in a transformer).
component(rms_norm, bench, cuda(shape([4096, 4096]))).
component(rms_norm, bench, cuda(shape([32768, 1024]))).
component(rms_norm, replaces, 'torch.nn.RMSNorm').
% LLM shapes (benchmarks/results/llm-scale): tokens x hidden size, and long rows.
component(rms_norm, bench, cuda(shape([16384, 4096]))).
component(rms_norm, bench, cuda(shape([4096, 32768]))).
% Liger-Kernel's RMSNorm as Llama uses it; in_place writes dx into the incoming gradient.
component(rms_norm, bench_peer, cuda(liger = 'liger_kernel.transformers.functional.liger_rms_norm'(x, weight, eps, casting_mode = "llama", in_place = true))).
