% expect: 2 op name 'grad_scale' is not usable: names starting with grad_ are the generated code's
entity(grad_scale).
component(grad_scale, kind, elementwise).
component(grad_scale, doc, "A test op.").
component(grad_scale, input, x).
component(grad_scale, output, y).
component(grad_scale, forward, y = x * 2).
