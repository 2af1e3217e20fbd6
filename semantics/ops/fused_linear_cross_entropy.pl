/*  fused_linear_cross_entropy (linear_loss): cross_entropy(x @ weight^T + bias, target), the output
    layer of a language model and its loss in one op, computed in chunks of rows so that the
    [tokens, vocabulary] logits never exist at once. With inputs that need gradients, the forward
    also computes the gradients of x, weight and bias, chunk by chunk (each chunk's logits buffer
    receives its own gradient), and the backward scales them: torch's F.linear + F.cross_entropy
    would hold the logits, their softmax and their gradient. */

entity(fused_linear_cross_entropy).
component(fused_linear_cross_entropy, kind, linear_loss).
component(fused_linear_cross_entropy, doc, "Cross-entropy of x @ weight^T + bias against class indices, in chunks of rows: the logits never exist whole.").
component(fused_linear_cross_entropy, loss, cross_entropy).
component(fused_linear_cross_entropy, input, x).
component(fused_linear_cross_entropy, input, weight).
component(fused_linear_cross_entropy, input, target).
component(fused_linear_cross_entropy, input, bias).
component(fused_linear_cross_entropy, attr, ignore_index: int = -100).
component(fused_linear_cross_entropy, attr, label_smoothing: float = 0.0).
component(fused_linear_cross_entropy, attr, reduction: choice([none, mean, sum]) = mean).
component(fused_linear_cross_entropy, output, loss).
component(fused_linear_cross_entropy, dtypes, [float32, float64]).
component(fused_linear_cross_entropy, cuda_dtypes, [float32, bfloat16]).
component(fused_linear_cross_entropy, devices, [cpu, cuda]).
component(fused_linear_cross_entropy, module, 'FusedLinearCrossEntropyLoss').
component(fused_linear_cross_entropy, bench, cuda(shape([8192, 4096, 128256]))).
component(fused_linear_cross_entropy, bench, cpu(shape([512, 256, 8192]))).
% Llama 2's vocabulary beside Llama 3's (benchmarks/results/llm-scale).
component(fused_linear_cross_entropy, bench, cuda(shape([8192, 4096, 32000]))).
component(fused_linear_cross_entropy, bench_peer, cuda(liger = 'liger_kernel.transformers.functional.liger_fused_linear_cross_entropy'(x, weight, target))).
