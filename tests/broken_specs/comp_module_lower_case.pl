% expect: 8 module name bad_module of 'bad_op' must be a CamelCase class name, e.g. 'BadOp' (write a
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(bad_op, module, bad_module).
