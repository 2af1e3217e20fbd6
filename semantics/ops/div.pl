/*  div (elementwise): Elementwise quotient x / y (torch.div, true division).
    The backward is derived from the forward expression. */

entity(div).
component(div, kind, elementwise).
component(div, doc, "Elementwise quotient x / y (torch.div, true division).").
component(div, input, x).
component(div, input, y).
component(div, output, z).
component(div, forward, z = x / y).
component(div, peer, 'torch.div'(x, y)).
component(div, dtypes, [float32, float64, float16, bfloat16]).
component(div, devices, [cpu, cuda]).
component(div, test_range, y: [0.5, 3.0]).
component(div, bench, shape([16777216])).
