% expect: 7 unknown name 'gamma'
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "Scales x.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * gamma).
