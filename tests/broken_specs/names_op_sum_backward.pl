% expect: 8 op name 'sum_backward' is taken: op 'sum' registers its backward as sum_backward; name
entity(sum).
component(sum, kind, rowwise).
component(sum, doc, "Sum over the last dimension.").
component(sum, input, x).
component(sum, output, y).
component(sum, forward, y = sum(x)).
entity(sum_backward).
component(sum_backward, kind, elementwise).
component(sum_backward, doc, "A test op.").
component(sum_backward, input, x).
component(sum_backward, output, y).
component(sum_backward, forward, y = x * 2).
