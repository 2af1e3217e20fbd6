% expect: 10 dtypes of 'bad_attention' lists bfloat16, but kind attention supports only float32, float64 on cpu: keep dtypes to those and list bfloat16 in cuda_dtypes
entity(bad_attention).
component(bad_attention, kind, attention).
component(bad_attention, doc, "Attention with half types asked for on the CPU too.").
component(bad_attention, input, query).
component(bad_attention, input, key).
component(bad_attention, input, value).
component(bad_attention, output, output).
component(bad_attention, output, attention_weights).
component(bad_attention, dtypes, [float32, bfloat16]).
component(bad_attention, devices, [cpu, cuda]).
component(bad_attention, attr, scale: optional(float) = none).
