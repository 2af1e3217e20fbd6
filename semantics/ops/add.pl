/*  add (elementwise): Elementwise sum with a scaled second operand: x + alpha * y (torch.add).
    The backward is derived from the forward expression; out= and in-place forms write a caller's tensor. */

entity(add).
component(add, kind, elementwise).
component(add, doc, "Elementwise sum with a scaled second operand: x + alpha * y (torch.add).").
component(add, input, x).
component(add, input, y).
component(add, attr, alpha: float = 1.0).
component(add, output, z).
component(add, forward, z = x + alpha * y).
% add(x, y, out=t) writes into t, as torch.add(x, y, out=t) (extension-cpp's myadd_out); add_(x, y)
% writes into x, as x.add_(y).
component(add, variant, out).
component(add, variant, inplace).
component(add, peer, 'torch.add'(x, y, alpha = alpha)).
component(add, dtypes, [float32, float64, float16, bfloat16]).
component(add, devices, [cpu, cuda]).
component(add, bench, shape([16777216])).
