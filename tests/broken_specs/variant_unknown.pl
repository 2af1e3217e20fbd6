% expect: 8 variant inplace_twice of 'bad_op' is not one grimoire knows
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(bad_op, variant, inplace_twice).
