% expect: 6 it has two underscores in a row, which C++ reserves for the compiler: write e.g. my_scale
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, attr, my__scale: float = 1.0).
component(bad_op, output, y).
component(bad_op, forward, y = x * my__scale).
