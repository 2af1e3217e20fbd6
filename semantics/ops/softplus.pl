/*  softplus (elementwise): Softplus log(1 + exp(beta * x)) / beta, linear above the threshold (torch.nn.functional.softplus).
    The backward is derived from the forward expression. */

entity(softplus).
component(softplus, kind, elementwise).
component(softplus, doc, "Softplus log(1 + exp(beta * x)) / beta, linear above the threshold (torch.nn.functional.softplus).").
component(softplus, input, x).
component(softplus, attr, beta: float = 1.0).
component(softplus, attr, threshold: float = 20.0).
component(softplus, output, y).
component(softplus, forward, y = where(x * beta > threshold, x, log1p(exp(beta * x)) / beta)).
component(softplus, peer, 'torch.nn.functional.softplus'(x, beta = beta, threshold = threshold)).
component(softplus, dtypes, [float32, float64, float16, bfloat16]).
component(softplus, devices, [cpu, cuda]).
component(softplus, bench, shape([16777216])).
