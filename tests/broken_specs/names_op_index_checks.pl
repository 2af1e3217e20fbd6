% expect: 2 op name 'index_checks' is not usable: 'index_checks' is a name the generated package
entity(index_checks).
component(index_checks, kind, elementwise).
component(index_checks, doc, "A test op.").
component(index_checks, input, x).
component(index_checks, output, y).
component(index_checks, forward, y = x * 2).
