/*  cf_custom (custom): your own kernel with two inputs (one not differentiable), two outputs of different
    shapes, a required attr, exact ranks and half types on CUDA only. */
entity(cf_custom).
component(cf_custom, kind, custom).
component(cf_custom, doc, "y = scale * x * w (each row of x scaled by the columns of w) and the row sums of x * w.").
component(cf_custom, input, x).
component(cf_custom, input, w).
component(cf_custom, attr, scale: float).
component(cf_custom, output, y).
component(cf_custom, output, rowsum).
component(cf_custom, rank, x = 2).
component(cf_custom, rank, w = 1).
component(cf_custom, shape, y = like(x)).
component(cf_custom, shape, rowsum = [size(x, 0)]).
component(cf_custom, reference, "(scale * x * w, (x * w).sum(dim=1))").
component(cf_custom, differentiable, [x]).
component(cf_custom, sample, [[3, 5], [5]]).
component(cf_custom, sample, [[1, 1031], [1031]]).
component(cf_custom, sample, [[0, 4], [4]]).
component(cf_custom, sample, [[4, 0], [0]]).
component(cf_custom, bench_sample, [[1024, 1024], [1024]]).
component(cf_custom, dtypes, [float32, float64]).
component(cf_custom, devices, [cpu, cuda]).
component(cf_custom, cuda_dtypes, [float32, float64, float16, bfloat16]).
