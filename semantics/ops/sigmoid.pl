/*  sigmoid (elementwise): Logistic sigmoid 1 / (1 + exp(-x)).
    The backward is derived from the forward expression. */

entity(sigmoid).
component(sigmoid, kind, elementwise).
component(sigmoid, doc, "Logistic sigmoid 1 / (1 + exp(-x)).").
component(sigmoid, input, x).
component(sigmoid, output, y).
component(sigmoid, forward, y = sigmoid(x)).
component(sigmoid, peer, 'torch.sigmoid'(x)).
component(sigmoid, dtypes, [float32, float64, float16, bfloat16]).
component(sigmoid, devices, [cpu, cuda]).
component(sigmoid, bench, shape([16777216])).
