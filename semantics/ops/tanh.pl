/*  tanh (elementwise): Hyperbolic tangent.
    The backward is derived from the forward expression. */

entity(tanh).
component(tanh, kind, elementwise).
component(tanh, doc, "Hyperbolic tangent.").
component(tanh, input, x).
component(tanh, output, y).
component(tanh, forward, y = tanh(x)).
component(tanh, peer, 'torch.tanh'(x)).
component(tanh, dtypes, [float32, float64, float16, bfloat16]).
component(tanh, devices, [cpu, cuda]).
component(tanh, bench, shape([16777216])).
