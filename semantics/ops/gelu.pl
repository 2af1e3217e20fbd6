/*  gelu (elementwise): Gaussian error linear unit, exact: x * Phi(x) = 0.5 * x * (1 + erf(x / sqrt(2))).
    The backward is derived from the forward expression. */

entity(gelu).
component(gelu, kind, elementwise).
component(gelu, doc, "Gaussian error linear unit, exact: x * Phi(x) = 0.5 * x * (1 + erf(x / sqrt(2))).").
component(gelu, input, x).
component(gelu, output, y).
component(gelu, forward, y = 0.5 * x * (1 + erf(x * 0.7071067811865476))).
component(gelu, peer, 'torch.nn.functional.gelu'(x)).
component(gelu, dtypes, [float32, float64, float16, bfloat16]).
component(gelu, devices, [cpu, cuda]).
component(gelu, bench, shape([16777216])).
