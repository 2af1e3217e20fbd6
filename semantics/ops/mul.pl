/*  mul (elementwise): Elementwise product x * y (torch.mul).
    The backward is derived from the forward expression. */

entity(mul).
component(mul, kind, elementwise).
component(mul, doc, "Elementwise product x * y (torch.mul).").
component(mul, input, x).
component(mul, input, y).
component(mul, output, z).
component(mul, forward, z = x * y).
component(mul, peer, 'torch.mul'(x, y)).
component(mul, dtypes, [float32, float64, float16, bfloat16]).
component(mul, devices, [cpu, cuda]).
component(mul, bench, shape([16777216])).
