/*  conv2d_bias_act (conv): act(conv2d(x, weight) + bias), the conv+bias+activation fusion of the
    kernel-library project; the activation is picked per call. */

entity(conv2d_bias_act).
component(conv2d_bias_act, kind, conv).
component(conv2d_bias_act, doc, "act(conv2d(x, weight) + bias): a Conv2d, its bias and activation, the last two in one pass.").
component(conv2d_bias_act, input, x).
component(conv2d_bias_act, input, weight).
component(conv2d_bias_act, input, bias).
component(conv2d_bias_act, attr, stride: int = 1).
component(conv2d_bias_act, attr, padding: int = 0).
component(conv2d_bias_act, attr, dilation: int = 1).
component(conv2d_bias_act, attr, groups: int = 1).
component(conv2d_bias_act, attr, act: choice([relu, none, gelu, gelu_tanh, silu, sigmoid, tanh]) = relu).
component(conv2d_bias_act, output, y).
component(conv2d_bias_act, forward, y = act(conv2d(x, weight) + bias)).
component(conv2d_bias_act, dtypes, [float32, float64]).
component(conv2d_bias_act, devices, [cpu, cuda]).
component(conv2d_bias_act, cuda_dtypes, [float32, float64, float16, bfloat16]).
component(conv2d_bias_act, module, 'Conv2dBiasAct').
% [N, C_in, H, W, C_out, k]: padding k // 2 keeps H x W.
component(conv2d_bias_act, bench, cuda(shape([64, 128, 56, 56, 128, 3]))).
component(conv2d_bias_act, bench, cpu(shape([8, 64, 28, 28, 64, 3]))).
