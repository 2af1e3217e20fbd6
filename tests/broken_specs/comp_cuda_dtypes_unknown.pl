% expect: 9 cuda_dtypes of 'bad_op' must be a non-empty list drawn from float32, float64, float16,
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(bad_op, devices, [cpu, cuda]).
component(bad_op, cuda_dtypes, [float8]).
