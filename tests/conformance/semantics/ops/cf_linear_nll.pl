/*  cf_linear_nll (linear_loss): a linear layer without a bias followed by cf_nll, a loss with no
    ignore index, no count (its mean divides by the rows) and a reduction defaulting to sum. */
entity(cf_linear_nll).
component(cf_linear_nll, kind, linear_loss).
component(cf_linear_nll, doc, "cf_nll of x @ weight^T, in chunks of rows.").
component(cf_linear_nll, loss, cf_nll).
component(cf_linear_nll, input, x).
component(cf_linear_nll, input, weight).
component(cf_linear_nll, input, target).
component(cf_linear_nll, attr, reduction: choice([sum, none, mean]) = sum).
component(cf_linear_nll, output, loss).
component(cf_linear_nll, dtypes, [float32, float64]).
component(cf_linear_nll, devices, [cpu, cuda]).
component(cf_linear_nll, module, 'CfLinearNll').
component(cf_linear_nll, bench, shape([256, 32, 1000])).
