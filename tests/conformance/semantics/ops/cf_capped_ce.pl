/*  cf_capped_ce (rowwise): cross-entropy over soft-capped logits (cap * tanh(x / cap), as Gemma 2 caps
    them) plus a z-loss term (z * lse^2, as PaLM adds it), one value per row: statistics over a
    transformed row, an index input, no reduction attr, and a peer composed of torch calls. */
entity(cf_capped_ce).
component(cf_capped_ce, kind, rowwise).
component(cf_capped_ce, doc, "Per-row cross-entropy of soft-capped logits against class indices, plus a z-loss.").
component(cf_capped_ce, input, x).
component(cf_capped_ce, input, target).
component(cf_capped_ce, index_input, target).
component(cf_capped_ce, attr, softcap: float = 30.0).
component(cf_capped_ce, attr, z_loss: float = 1.0e-4).
component(cf_capped_ce, output, loss).
component(cf_capped_ce, stat, c_max = max(softcap * tanh(x / softcap))).
component(cf_capped_ce, stat, log_sum = log(sum(exp(softcap * tanh(x / softcap) - c_max)))).
component(cf_capped_ce, stat, picked = sum(where(col == target, softcap * tanh(x / softcap), 0))).
component(cf_capped_ce, forward, loss = log_sum + (c_max - picked) + z_loss * (c_max + log_sum) ** 2).
component(cf_capped_ce, peer,
          'torch.add'('torch.nn.functional.cross_entropy'('torch.mul'(softcap, 'torch.tanh'('torch.div'(x, softcap))),
                                                          target, reduction = "none"),
                      'torch.mul'(z_loss, 'torch.square'('torch.logsumexp'('torch.mul'(softcap, 'torch.tanh'('torch.div'(x, softcap))), -1))))).
component(cf_capped_ce, dtypes, [float32, float64, bfloat16]).
component(cf_capped_ce, devices, [cpu, cuda]).
component(cf_capped_ce, bench, shape([1024, 4096])).
