/*  Parametric Swish (the Grimoire template's elementwise op): y = x * sigmoid(beta * x).
    The backward is derived from the forward expression. */

entity(parametric_swish).
component(parametric_swish, kind, elementwise).
component(parametric_swish, doc, "Parametric Swish: x * sigmoid(beta * x).").
component(parametric_swish, input, x).
component(parametric_swish, attr, beta: float = 1.0).
component(parametric_swish, output, y).
component(parametric_swish, forward, y = x * sigmoid(beta * x)).
component(parametric_swish, dtypes, [float32, float64, float16, bfloat16]).
component(parametric_swish, devices, [cpu, cuda]).
component(parametric_swish, module, 'ParametricSwish').
component(parametric_swish, bench, shape([16777216])).
% On the GPU also 268M elements (1 GiB of float32 a tensor): far beyond any L2.
component(parametric_swish, bench, cuda(shape([16777216]))).
component(parametric_swish, bench, cuda(shape([268435456]))).
