/*  cf_attention (attention): a scale whose default is a number (not None: 1/sqrt(d)), inputs and
    outputs named otherwise than the bundled op's, float64 listed first. */
entity(cf_attention).
component(cf_attention, kind, attention).
component(cf_attention, doc, "softmax(q @ k^T * scale) @ v and the weights, scale 0.125 unless told otherwise.").
component(cf_attention, input, q).
component(cf_attention, input, k).
component(cf_attention, input, v).
component(cf_attention, attr, scale: optional(float) = 0.125).
component(cf_attention, output, o).
component(cf_attention, output, weights).
component(cf_attention, dtypes, [float64, float32]).
component(cf_attention, devices, [cpu, cuda]).
component(cf_attention, cuda_dtypes, [float32, float16]).
component(cf_attention, bench, shape([4, 128, 32])).
