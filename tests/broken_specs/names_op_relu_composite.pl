% expect: 8 op name 'relu_composite' is taken: op 'relu' registers its composite forward (for double backward) as relu_composite
entity(relu).
component(relu, kind, elementwise).
component(relu, doc, "Rectified linear unit.").
component(relu, input, x).
component(relu, output, y).
component(relu, forward, y = relu(x)).
entity(relu_composite).
component(relu_composite, kind, elementwise).
component(relu_composite, doc, "Rectified linear unit.").
component(relu_composite, input, x).
component(relu_composite, output, y).
component(relu_composite, forward, y = relu(x)).
