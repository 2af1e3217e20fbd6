% expect: 8 op name 'relu_backward' is taken: op 'relu' registers its backward as relu_backward; name
entity(relu).
component(relu, kind, elementwise).
component(relu, doc, "Rectified linear unit.").
component(relu, input, x).
component(relu, output, y).
component(relu, forward, y = relu(x)).
entity(relu_backward).
component(relu_backward, kind, elementwise).
component(relu_backward, doc, "Rectified linear unit.").
component(relu_backward, input, x).
component(relu_backward, output, y).
component(relu_backward, forward, y = relu(x)).
