/*  cf_nll (rowwise): an index input (target, one class per row), a loss whose reduction attr lists its
    choices in another order and defaults to sum; no ignore index. CUDA lists fewer dtypes. */
entity(cf_nll).
component(cf_nll, kind, rowwise).
component(cf_nll, doc, "Negative log-likelihood of log-probabilities against class indices (torch.nn.functional.nll_loss).").
component(cf_nll, input, x).
component(cf_nll, input, target).
component(cf_nll, index_input, target).
component(cf_nll, attr, reduction: choice([sum, none, mean]) = sum).
component(cf_nll, loss_reduction, reduction).
component(cf_nll, output, loss).
component(cf_nll, forward, loss = -sum(where(col == target, x, 0))).
component(cf_nll, peer, 'torch.nn.functional.nll_loss'(x, target, reduction = reduction)).
component(cf_nll, dtypes, [float32, float64, bfloat16]).
component(cf_nll, devices, [cpu, cuda]).
component(cf_nll, cuda_dtypes, [float32, float64]).
component(cf_nll, bench, shape([1024, 1024])).
