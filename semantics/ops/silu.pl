/*  silu (elementwise): Sigmoid linear unit (swish): x * sigmoid(x).
    The backward is derived from the forward expression. */

entity(silu).
component(silu, kind, elementwise).
component(silu, doc, "Sigmoid linear unit (swish): x * sigmoid(x).").
component(silu, input, x).
component(silu, output, y).
component(silu, forward, y = x * sigmoid(x)).
component(silu, peer, 'torch.nn.functional.silu'(x)).
component(silu, dtypes, [float32, float64, float16, bfloat16]).
component(silu, devices, [cpu, cuda]).
component(silu, bench, shape([16777216])).
