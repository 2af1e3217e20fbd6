/*  cf_row_var (rowwise): one value per row (the population variance), keepdim; CPU and CUDA dtypes
    disjoint (float32, float64 on the CPU; the half types on CUDA). */
entity(cf_row_var).
component(cf_row_var, kind, rowwise).
component(cf_row_var, doc, "Population variance over the last dimension (torch.var with correction=0).").
component(cf_row_var, input, x).
component(cf_row_var, attr, keepdim: bool = false).
component(cf_row_var, output, y).
component(cf_row_var, stat, mu = mean(x)).
component(cf_row_var, forward, y = mean((x - mu) ** 2)).
component(cf_row_var, peer, 'torch.var'(x, -1, correction = 0, keepdim = keepdim)).
component(cf_row_var, dtypes, [float32, float64]).
component(cf_row_var, devices, [cpu, cuda]).
component(cf_row_var, cuda_dtypes, [float16, bfloat16]).
component(cf_row_var, bench, shape([1024, 1024])).
