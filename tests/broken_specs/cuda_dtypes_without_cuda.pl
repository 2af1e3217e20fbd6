% expect: 8 gives cuda_dtypes but its devices [cpu] lack cuda
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "Doubles x.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(bad_op, cuda_dtypes, [float32, bfloat16]).
component(bad_op, devices, [cpu]).
