/*  gemm (gemm): c = a @ b, the plain matrix product. On CUDA its default is cuBLASLt; the generated
    tensor-core kernel (mma.sync, shared-memory tiling, bf16/fp16 in, fp32 accumulation) is selected
    with generated_ops.gemm_backend("mma"), so the two are measured side by side. */

entity(gemm).
component(gemm, kind, gemm).
component(gemm, doc, "c = a @ b, a [m, k] and b [k, n]: the plain matrix product.").
component(gemm, input, a).
component(gemm, input, b).
component(gemm, output, c).
component(gemm, forward, c = matmul(a, b)).
component(gemm, peer, 'torch.mm'(a, b)).
component(gemm, dtypes, [float32, float64]).
component(gemm, devices, [cpu, cuda]).
component(gemm, cuda_dtypes, [float32, float64, float16, bfloat16]).
component(gemm, module, 'Gemm').
component(gemm, bench, cuda(shape([8192, 8192, 8192]))).
component(gemm, bench, cpu(shape([1024, 1024, 1024]))).
