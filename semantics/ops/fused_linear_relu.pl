/*  fused_linear_relu (gemm): relu(x @ weight^T + bias), the Linear + ReLU of the fused-linear
    project, in one op. CPU: BLAS matmul + one in-place bias+ReLU pass; CUDA: cuBLASLt's BIAS epilogue
    then one ReLU pass (its RELU epilogue turns NaN into 0, torch keeps NaN), or the generated
    tensor-core kernel. The backward reads the output only (ReLU's
    gradient is where(y > 0, g, 0)), so nothing but y is kept. */

entity(fused_linear_relu).
component(fused_linear_relu, kind, gemm).
component(fused_linear_relu, doc, "relu(x @ weight^T + bias): a Linear layer and its ReLU in one op.").
component(fused_linear_relu, input, x).
component(fused_linear_relu, input, weight).
component(fused_linear_relu, input, bias).
component(fused_linear_relu, output, y).
component(fused_linear_relu, forward, y = relu(linear(x, weight) + bias)).
component(fused_linear_relu, dtypes, [float32, float64]).
component(fused_linear_relu, devices, [cpu, cuda]).
component(fused_linear_relu, cuda_dtypes, [float32, float64, float16, bfloat16]).
component(fused_linear_relu, module, 'FusedLinearReLU').
component(fused_linear_relu, bench, cuda(shape([4096, 4096, 4096]))).
component(fused_linear_relu, bench, cuda(shape([8192, 1024, 4096]))).
component(fused_linear_relu, bench, cpu(shape([2048, 1024, 1024]))).
