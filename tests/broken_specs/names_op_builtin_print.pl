% expect: 2 op name 'print' is not usable: 'print' is a Python builtin, which the generated Python
entity(print).
component(print, kind, elementwise).
component(print, doc, "A test op.").
component(print, input, x).
component(print, output, y).
component(print, forward, y = x * 2).
