/*  log_softmax (rowwise): x - log(sum(exp(x))) over the last dim, max-subtracted.
    The backward is given in terms of the output (as torch does): grad - exp(y) * sum(grad), one
    reduction where the derived one recomputed the max and the log-sum-exp from x. */

entity(log_softmax).
component(log_softmax, kind, rowwise).
component(log_softmax, doc, "Log-softmax over the last dimension.").
component(log_softmax, input, x).
component(log_softmax, output, y).
component(log_softmax, stat, x_max = max(x)).
component(log_softmax, forward, y = x - x_max - log(sum(exp(x - x_max)))).
component(log_softmax, gradient, x = grad_y - exp(y) * sum(grad_y)).
component(log_softmax, peer, 'torch.log_softmax'(x, -1)).
component(log_softmax, dtypes, [float32, float64, float16, bfloat16]).
component(log_softmax, devices, [cpu, cuda]).
component(log_softmax, bench, shape([4096, 4096])).
component(log_softmax, bench, cpu(shape([4096, 4096]))).
% Long rows on the CPU, against eager there too.
component(log_softmax, bench, cpu(shape([64, 131072]))).
component(log_softmax, bench, cpu(shape([8, 262144]))).
% An LLM shape (benchmarks/results/llm-scale), on the GPU only: Llama 2's vocabulary.
component(log_softmax, bench, cuda(shape([4096, 4096]))).
component(log_softmax, bench, cuda(shape([4096, 32000]))).
