/*  cf_flash (flash_attention): causal by default, a non-None default scale, the attrs in the other
    order (scale first), inputs and output named otherwise than the bundled op's. */
entity(cf_flash).
component(cf_flash, kind, flash_attention).
component(cf_flash, doc, "Flash attention, causal and scaled by 0.25 unless told otherwise.").
component(cf_flash, input, q).
component(cf_flash, input, k).
component(cf_flash, input, v).
component(cf_flash, attr, scale: optional(float) = 0.25).
component(cf_flash, attr, causal: bool = true).
component(cf_flash, output, o).
component(cf_flash, peer, 'torch.nn.functional.scaled_dot_product_attention'(q, k, v, is_causal = causal, scale = scale)).
component(cf_flash, dtypes, [float32, float64]).
component(cf_flash, devices, [cpu, cuda]).
component(cf_flash, cuda_dtypes, [bfloat16]).
component(cf_flash, bench, shape([1, 2, 256, 32])).
