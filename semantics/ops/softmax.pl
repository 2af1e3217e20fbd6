/*  softmax (rowwise): exp(x) / sum(exp(x)) over the last dim, max-subtracted for stability.
    The backward is given in terms of the output (as torch does), which needs one reduction
    pass instead of recomputing the exponentials. */

entity(softmax).
component(softmax, kind, rowwise).
component(softmax, doc, "Softmax over the last dimension.").
component(softmax, input, x).
component(softmax, output, y).
component(softmax, forward, y = exp(x - max(x)) / sum(exp(x - max(x)))).
component(softmax, gradient, x = y * (grad_y - sum(grad_y * y))).
component(softmax, peer, 'torch.softmax'(x, -1)).
component(softmax, dtypes, [float32, float64, float16, bfloat16]).
component(softmax, devices, [cpu, cuda]).
component(softmax, bench, shape([4096, 4096])).
component(softmax, bench, cpu(shape([4096, 4096]))).
% Long rows on the CPU, against eager there too.
component(softmax, bench, cpu(shape([64, 131072]))).
component(softmax, bench, cpu(shape([8, 262144]))).
% LLM shapes (benchmarks/results/llm-scale), on the GPU only: rows of a hidden size and of vocabularies
% (Llama 2's 32000, Llama 3's 128256), and a few very long rows. The common shape stays beside them.
component(softmax, bench, cuda(shape([4096, 4096]))).
component(softmax, bench, cuda(shape([8192, 4096]))).
component(softmax, bench, cuda(shape([4096, 32000]))).
component(softmax, bench, cuda(shape([1024, 128256]))).
component(softmax, bench, cuda(shape([16, 262144]))).
component(softmax, bench_peer, cuda(liger = 'liger_kernel.transformers.functional.liger_softmax'(x))).
