% expect: 8 devices of 'bad_op' must be a list of cpu and cuda that includes cpu, got [cpu,tpu].
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(bad_op, devices, [cpu, tpu]).
