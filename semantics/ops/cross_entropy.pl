/*  cross_entropy (rowwise): softmax cross-entropy of logits [..., n] against class indices [...],
    with ignore_index and label smoothing, as torch.nn.functional.cross_entropy for 2-D logits.
    Per row: lse - (1 - eps) * x[target] - eps / n * sum(x), lse = log(sum(exp(x))) max-subtracted;
    ignored rows give 0 and do not count toward the mean. */

entity(cross_entropy).
component(cross_entropy, kind, rowwise).
component(cross_entropy, doc, "Cross-entropy of logits against class indices, with ignore_index and label smoothing.").
component(cross_entropy, input, x).
component(cross_entropy, input, target).
component(cross_entropy, index_input, target).
component(cross_entropy, attr, ignore_index: int = -100).
component(cross_entropy, attr, label_smoothing: float = 0.0).
component(cross_entropy, attr, reduction: choice([none, mean, sum]) = mean).
component(cross_entropy, index_ignore, ignore_index).
component(cross_entropy, loss_reduction, reduction).
component(cross_entropy, loss_count, where(target == ignore_index, 0, 1)).
component(cross_entropy, output, loss).
component(cross_entropy, stat, x_max = max(x)).
component(cross_entropy, stat, log_sum = log(sum(exp(x - x_max)))).
component(cross_entropy, stat, picked = sum(where(col == target, x, 0))).
% lse - (1 - eps) * x[target] - eps / n * sum(x), written as torch's log_softmax computes it: the row max is
% taken from each logit before anything is added to it. lse - x[target] in that order is log(2) - 0 = 0 for
% two logits of 1e38 (lse rounds to 1e38), and sum(x) overflows where sum(x_max - x) does not.
% The smoothing term is guarded: without it, 0 * sum(...) is NaN as soon as a logit is -inf (a masked
% vocabulary), where torch gives the plain loss.
% An ignored row gives 0, as in torch, except in an empty row (n = 0) with smoothing: torch's
% smoothing weight eps / n is inf there and its 0 * inf is NaN (eps / n - eps / n spells that NaN).
component(cross_entropy, forward, loss = where(target == ignore_index,
                                              where(n == 0, where(label_smoothing == 0, 0,
                                                                  label_smoothing / n - label_smoothing / n), 0),
                                              log_sum + (1 - label_smoothing) * (x_max - picked)
                                                  + where(label_smoothing == 0, 0,
                                                          label_smoothing / n * sum(x_max - x)))).
component(cross_entropy, peer, 'torch.nn.functional.cross_entropy'(x, target, ignore_index = ignore_index,
                                                                   reduction = reduction, label_smoothing = label_smoothing)).
component(cross_entropy, dtypes, [float32, float64, float16, bfloat16]).
component(cross_entropy, devices, [cpu, cuda]).
component(cross_entropy, module, 'CrossEntropyLoss').
component(cross_entropy, bench, shape([4096, 4096])).
component(cross_entropy, bench, cpu(shape([4096, 4096]))).
% Long rows on the CPU, against eager there too.
component(cross_entropy, bench, cpu(shape([64, 131072]))).
component(cross_entropy, bench, cpu(shape([8, 262144]))).
% LLM shapes (benchmarks/results/llm-scale), on the GPU only: tokens x vocabulary (Llama 2, Llama 3).
component(cross_entropy, bench, cuda(shape([4096, 4096]))).
component(cross_entropy, bench, cuda(shape([8192, 32000]))).
component(cross_entropy, bench, cuda(shape([8192, 128256]))).
% Liger-Kernel's cross-entropy writes the gradient into the logits in its forward. Positional arguments
% only: its older releases are an autograd Function's apply, whose order after target differs.
component(cross_entropy, bench_peer, cuda(liger = 'liger_kernel.transformers.functional.liger_cross_entropy'(x, target))).
