% expect: 4 op_kind/2 is a hook of the vocabulary that kind files fill in, and a spec file cannot add to it
% A kind declared in an op file: a kind is code (semantics/kinds/), and a spec file is data. (The devices
% check this case once exercised is tested with a trusted kind file in tests/test_spec_sandbox.py.)
op_kind(toy_cpu_only, "a kind with CPU kernels only").
kind_device(toy_cpu_only, cpu).

entity(bad_op).
component(bad_op, kind, toy_cpu_only).
component(bad_op, doc, "Doubles x.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, dtypes, [float32]).
component(bad_op, devices, [cpu, cuda]).
