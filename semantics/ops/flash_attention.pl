/*  flash_attention (flash_attention kind): softmax(q @ k^T * scale) @ v over [batch, heads, seq, d]
    without the seq x seq matrix — the flash attention of the kernel-library project. Causal masking
    is top-left aligned, as scaled_dot_product_attention(is_causal=True): query i sees keys j <= i.
    On CUDA, float16/bfloat16 run on tensor cores and take d in {32, 64, 128}; float32/float64 run as
    cuBLAS matmuls over chunks of query rows (any d), as torch's math attention computes them. */

entity(flash_attention).
component(flash_attention, kind, flash_attention).
component(flash_attention, doc, "Flash attention: tiled, online-softmax attention with O(seq) memory and causal masking.").
component(flash_attention, input, query).
component(flash_attention, input, key).
component(flash_attention, input, value).
component(flash_attention, attr, causal: bool = false).
component(flash_attention, attr, scale: optional(float) = none).
component(flash_attention, output, output).
component(flash_attention, dtypes, [float32, float64]).
component(flash_attention, devices, [cpu, cuda]).
component(flash_attention, cuda_dtypes, [float16, bfloat16, float32, float64]).
component(flash_attention, module, 'FlashAttention').
component(flash_attention, bench, cuda(shape([4, 16, 4096, 64]))).
component(flash_attention, bench, cuda(shape([4, 16, 4096, 128]))).
component(flash_attention, bench, cpu(shape([1, 8, 1024, 64]))).
