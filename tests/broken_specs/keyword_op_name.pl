% expect: 2 op name 'double' is not usable
entity(double).
component(double, kind, elementwise).
component(double, doc, "Doubles x.").
component(double, input, x).
component(double, output, y).
component(double, forward, y = x * 2).
