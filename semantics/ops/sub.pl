/*  sub (elementwise): Elementwise difference with a scaled second operand: x - alpha * y (torch.sub).
    The backward is derived from the forward expression. */

entity(sub).
component(sub, kind, elementwise).
component(sub, doc, "Elementwise difference with a scaled second operand: x - alpha * y (torch.sub).").
component(sub, input, x).
component(sub, input, y).
component(sub, attr, alpha: float = 1.0).
component(sub, output, z).
component(sub, forward, z = x - alpha * y).
component(sub, peer, 'torch.sub'(x, y, alpha = alpha)).
component(sub, dtypes, [float32, float64, float16, bfloat16]).
component(sub, devices, [cpu, cuda]).
component(sub, bench, shape([16777216])).
