/*  cf_conv (conv): no bias, a fixed activation, stride and padding attrs whose defaults are not
    torch's (2 and 1), dilation and groups fixed at 1 (no attrs). */
entity(cf_conv).
component(cf_conv, kind, conv).
component(cf_conv, doc, "sigmoid(conv2d(x, w)) with stride 2 and padding 1 by default, no bias.").
component(cf_conv, input, x).
component(cf_conv, input, w).
component(cf_conv, attr, stride: int = 2).
component(cf_conv, attr, padding: int = 1).
component(cf_conv, output, y).
component(cf_conv, forward, y = sigmoid(conv2d(x, w))).
component(cf_conv, peer, 'torch.nn.functional.conv2d'(x, w, none, stride, padding)).
component(cf_conv, dtypes, [float32, float64]).
component(cf_conv, devices, [cpu, cuda]).
component(cf_conv, cuda_dtypes, [float32, float16]).
component(cf_conv, bench, shape([4, 16, 28, 28, 16, 3])).
