% expect: 7 forward of 'bad_op': sigmoid() has no arguments: write sigmoid(x) or the name alone.
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * sigmoid()).
