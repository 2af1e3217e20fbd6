% expect: 2 op 'bad_op' has no doc: add component(bad_op, doc, "What it computes.").
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
