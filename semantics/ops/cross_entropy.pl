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
component(cross_entropy, stat, lse = x_max + log(sum(exp(x - x_max)))).
component(cross_entropy, stat, picked = sum(where(col == target, x, 0))).
% The smoothing term is guarded: without it, 0 * sum(x) is NaN as soon as a logit is -inf (a masked
% vocabulary) or the sum overflows, where torch gives the plain loss.
component(cross_entropy, forward, loss = where(target == ignore_index, 0,
                                              lse - (1 - label_smoothing) * picked
                                                  - where(label_smoothing == 0, 0, label_smoothing / n * sum(x)))).
component(cross_entropy, peer, 'torch.nn.functional.cross_entropy'(x, target, ignore_index = ignore_index,
                                                                   reduction = reduction, label_smoothing = label_smoothing)).
component(cross_entropy, dtypes, [float32, float64, float16, bfloat16]).
component(cross_entropy, devices, [cpu, cuda]).
component(cross_entropy, module, 'CrossEntropyLoss').
component(cross_entropy, bench, shape([4096, 4096])).
