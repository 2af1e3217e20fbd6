% expect: 8 default slow of attr 'mode' of 'bad_op' is not a choice([fast,exact]) (write e.g. fast).
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(bad_op, attr, mode: choice([fast, exact]) = slow).
