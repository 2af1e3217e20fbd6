/*  cf_huber (rowwise): an element-output loss (one term per element, reduced over all of them) with
    a float attr beside the reduction; no cuda_dtypes (CUDA takes dtypes). */
entity(cf_huber).
component(cf_huber, kind, rowwise).
component(cf_huber, doc, "Huber loss between input and target (torch.nn.functional.huber_loss).").
component(cf_huber, input, x).
component(cf_huber, input, target).
component(cf_huber, attr, delta: float = 1.0).
component(cf_huber, attr, reduction: choice([none, mean, sum]) = mean).
component(cf_huber, loss_reduction, reduction).
component(cf_huber, output, loss).
component(cf_huber, forward, loss = where(abs(x - target) < delta, 0.5 * (x - target) ** 2,
                                          delta * (abs(x - target) - 0.5 * delta))).
component(cf_huber, peer, 'torch.nn.functional.huber_loss'(x, target, reduction = reduction, delta = delta)).
component(cf_huber, dtypes, [float32, float64]).
component(cf_huber, devices, [cpu, cuda]).
component(cf_huber, bench, shape([1024, 1024])).
