/*  cf_gemm_act (gemm): matmul(a, b) (not linear) with a bias and a choice of activation picked per call,
    its default not the first choice; some choices' gradients read the output (sigmoid, tanh), one the
    pre-activation (silu). */
entity(cf_gemm_act).
component(cf_gemm_act, kind, gemm).
component(cf_gemm_act, doc, "act(a @ b + bias), the activation chosen per call.").
component(cf_gemm_act, input, a).
component(cf_gemm_act, input, b).
component(cf_gemm_act, input, bias).
component(cf_gemm_act, attr, act: choice([sigmoid, tanh, silu]) = tanh).
component(cf_gemm_act, output, y).
component(cf_gemm_act, forward, y = act(matmul(a, b) + bias)).
component(cf_gemm_act, dtypes, [float32, float64]).
component(cf_gemm_act, devices, [cpu, cuda]).
component(cf_gemm_act, cuda_dtypes, [float32, bfloat16]).
component(cf_gemm_act, bench, shape([256, 256, 256])).
