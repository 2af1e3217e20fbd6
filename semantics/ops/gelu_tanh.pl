/*  gelu_tanh (elementwise): Gaussian error linear unit, tanh approximation (GPT-2's gelu).
    The backward is derived from the forward expression. */

entity(gelu_tanh).
component(gelu_tanh, kind, elementwise).
component(gelu_tanh, doc, "Gaussian error linear unit, tanh approximation (GPT-2's gelu).").
component(gelu_tanh, input, x).
component(gelu_tanh, output, y).
component(gelu_tanh, forward, y = 0.5 * x * (1 + tanh(0.7978845608028654 * (x + 0.044715 * x ** 3)))).
component(gelu_tanh, peer, 'torch.nn.functional.gelu'(x, approximate = "tanh")).
component(gelu_tanh, dtypes, [float32, float64, float16, bfloat16]).
component(gelu_tanh, devices, [cpu, cuda]).
component(gelu_tanh, bench, shape([16777216])).
