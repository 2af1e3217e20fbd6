% expect: 2 attention op 'bad_attention' needs the attr scale: add component(bad_attention, attr, scale: optional(float) = none)
entity(bad_attention).
component(bad_attention, kind, attention).
component(bad_attention, doc, "Attention without the scale attr the kind's kernels and wrapper take.").
component(bad_attention, input, query).
component(bad_attention, input, key).
component(bad_attention, input, value).
component(bad_attention, output, output).
component(bad_attention, output, attention_weights).
component(bad_attention, dtypes, [float32, float64]).
component(bad_attention, devices, [cpu, cuda]).
