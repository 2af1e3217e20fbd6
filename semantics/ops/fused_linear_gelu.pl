/*  fused_linear_gelu (gemm): gelu(x @ weight^T + bias) with the tanh approximation, as
    torch._addmm_activation(use_gelu=True) and cuBLASLt's GELU epilogue compute it. Its gradient needs
    the pre-activation, which the op returns beside y (cuBLASLt's GELU_AUX_BIAS writes both). */

entity(fused_linear_gelu).
component(fused_linear_gelu, kind, gemm).
component(fused_linear_gelu, doc, "gelu_tanh(x @ weight^T + bias): a Linear layer and its tanh-approximated GELU in one op.").
component(fused_linear_gelu, input, x).
component(fused_linear_gelu, input, weight).
component(fused_linear_gelu, input, bias).
component(fused_linear_gelu, output, y).
component(fused_linear_gelu, forward, y = gelu_tanh(linear(x, weight) + bias)).
component(fused_linear_gelu, dtypes, [float32, float64]).
component(fused_linear_gelu, devices, [cpu, cuda]).
component(fused_linear_gelu, cuda_dtypes, [float32, float64, float16, bfloat16]).
component(fused_linear_gelu, module, 'FusedLinearGELU').
component(fused_linear_gelu, bench, cuda(shape([4096, 4096, 4096]))).
component(fused_linear_gelu, bench, cpu(shape([2048, 1024, 1024]))).
