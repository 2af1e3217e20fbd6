/*  relu (elementwise): Rectified linear unit max(x, 0), NaN-propagating like torch.relu.
    The backward is derived from the forward expression. */

entity(relu).
component(relu, kind, elementwise).
component(relu, doc, "Rectified linear unit max(x, 0), NaN-propagating like torch.relu.").
component(relu, input, x).
component(relu, output, y).
component(relu, forward, y = relu(x)).
component(relu, peer, 'torch.relu'(x)).
component(relu, dtypes, [float32, float64, float16, bfloat16]).
component(relu, devices, [cpu, cuda]).
component(relu, bench, shape([16777216])).
