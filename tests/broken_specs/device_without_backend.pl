% expect: 12 lists cuda, but kind toy_cpu_only has kernels only for cpu
% A kind with CPU kernels only (declared here, as a kind file would) and an op asking for CUDA.
op_kind(toy_cpu_only, "a kind with CPU kernels only").
kind_device(toy_cpu_only, cpu).

entity(bad_op).
component(bad_op, kind, toy_cpu_only).
component(bad_op, doc, "Doubles x.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, dtypes, [float32]).
component(bad_op, devices, [cpu, cuda]).
