% expect: 8 module name 'Profiler' of 'bad_op' is not usable: 'Profiler' is a name the generated
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(bad_op, module, 'Profiler').
