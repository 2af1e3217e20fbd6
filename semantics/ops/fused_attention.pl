/*  Fused attention returning its weights (the Grimoire template's attention op):
    output = softmax(query @ key^T * scale) @ value, scale defaulting to 1/sqrt(d),
    over [batch, seq, d] or [batch, heads, seq, d]. */

entity(fused_attention).
component(fused_attention, kind, attention).
component(fused_attention, doc, "Scaled dot-product attention that also returns the attention weights.").
component(fused_attention, input, query).
component(fused_attention, input, key).
component(fused_attention, input, value).
component(fused_attention, attr, scale: optional(float) = none).
component(fused_attention, output, output).
component(fused_attention, output, attention_weights).
component(fused_attention, dtypes, [float32, float64]).
component(fused_attention, devices, [cpu, cuda]).
component(fused_attention, cuda_dtypes, [float32, float64, float16, bfloat16]).
component(fused_attention, module, 'FusedAttention').
component(fused_attention, bench, cpu(shape([8, 512, 64]))).
% On the GPU: an LLM-sized shape (batch 4, heads 16, seq 2048, d 64; the weights alone are 256M elements).
component(fused_attention, bench, cuda(shape([4, 16, 2048, 64]))).
% The report's bar: the weights-returning forward at 1.5x eager's (which runs matmul, softmax, matmul).
component(fused_attention, bench_bar, cuda(forward, shape([4, 16, 2048, 64]), eager >= 1.5)).
