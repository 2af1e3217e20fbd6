// grimoire runtime library: grimoire_attention_math.h.
// Copied verbatim into every generated extension whose sources include it; edit it here, in
// grimoire's runtime/ folder, never in a generated package.
//
// Attention as matrix products, for the dtypes the tensor-core kernels do not take (float32 and
// float64 on CUDA): softmax(q k^T * scale) v through batched GEMMs (cuBLAS on CUDA), the way
// torch's math backend computes it, but over chunks of query rows so that the scores never exist
// whole: memory grows with seq_k, not seq_q x seq_k. The forward returns the row
// log-sum-exp as the tiled kernels do; the backward recomputes each chunk's probabilities.
// Any head size; key and value may differ in head size. Matmuls honour torch's TF32 setting
// (torch.backends.cuda.matmul.allow_tf32, off by default), as torch's own attention does.
#pragma once

#include <ATen/ATen.h>
#include <ATen/core/LegacyTypeDispatch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <tuple>

namespace grimoire::attention_math {

// Query rows per chunk: max(64, 2 d), so the backward's three [batch*heads, rows, seq_k] buffers
// (probabilities, their gradient, a product) stay a few times the size of key: memory linear in the
// sequence, as the tiled kernels' is. Fewer where even that would pass 256 MB.
inline int64_t chunk_rows(int64_t batch_heads, int64_t seq_q, int64_t seq_k, int64_t head_size,
                          int64_t elem_size) {
  constexpr int64_t kBudget = int64_t(256) << 20;
  const int64_t per_row = std::max<int64_t>(1, 3 * batch_heads * seq_k * elem_size);
  const int64_t rows = std::min(std::max<int64_t>(64, 2 * head_size), kBudget / per_row);
  return std::clamp<int64_t>(rows, 1, std::max<int64_t>(seq_q, 1));
}

// torch's math backend forms the scores as (q * sqrt|scale|) . (k * sqrt|scale|), q's factor
// carrying scale's sign: a huge or tiny scale then overflows or underflows where torch's does.
inline std::tuple<at::Tensor, at::Tensor> scaled_qk(const at::Tensor& q3, const at::Tensor& k3,
                                                    double scale) {
  const double r = std::sqrt(std::abs(scale));
  return {q3.mul(scale < 0 ? -r : r), k3.mul(r)};
}

// Scores of query rows [start, start + rows) against every key. A causal mask is added as torch's
// math adds it (-inf on keys j > i, top-left aligned): a masked NaN or +inf score still makes its
// row NaN, as there.
inline at::Tensor scores(const at::Tensor& qs, const at::Tensor& kst, int64_t start, int64_t rows,
                         bool causal) {
  at::Tensor s = at::bmm(qs.narrow(1, start, rows), kst);
  if (causal) {
    const auto idx = at::TensorOptions().dtype(at::kLong).device(qs.device());
    const at::Tensor row = at::arange(start, start + rows, idx).unsqueeze(1);
    const at::Tensor col = at::arange(kst.size(2), idx);
    s.add_(at::zeros({rows, kst.size(2)}, s.options())
               .masked_fill_(col.gt(row), -std::numeric_limits<double>::infinity()));
  }
  return s;
}

// A row's probabilities as torch's math computes them: a softmax (exp(s - max) / sum, exact where
// a log-sum-exp would round away a tie of huge scores), 0 for a row whose scores are all -inf
// (its output is then 0 @ V).
inline at::Tensor probabilities(const at::Tensor& s) { return at::_safe_softmax(s, -1); }

// (out [B, H, Sq, Dv], lse [B, H, Sq]) in the inputs' dtype; q, k, v are [B, H, S, D].
inline std::tuple<at::Tensor, at::Tensor> forward(const at::Tensor& q, const at::Tensor& k,
                                                  const at::Tensor& v, bool causal, double scale) {
  at::AutoDispatchBelowADInplaceOrView below_autograd;  // a kernel: record no graph
  const int64_t B = q.size(0), H = q.size(1), Sq = q.size(2), D = q.size(3);
  const int64_t Sk = k.size(2), Dv = v.size(3);
  const auto [qs, ks] = scaled_qk(q.reshape({B * H, Sq, D}), k.reshape({B * H, Sk, D}), scale);
  const at::Tensor kst = ks.transpose(1, 2);
  const at::Tensor v3 = v.reshape({B * H, Sk, Dv});
  at::Tensor out = at::empty({B * H, Sq, Dv}, q.options());
  at::Tensor lse = at::empty({B * H, Sq, 1}, q.options());
  const int64_t chunk = chunk_rows(B * H, Sq, Sk, D, q.element_size());
  for (int64_t start = 0; start < Sq; start += chunk) {
    const int64_t rows = std::min(chunk, Sq - start);
    const at::Tensor s = scores(qs, kst, start, rows, causal);
    out.narrow(1, start, rows).copy_(at::bmm(probabilities(s), v3));
    lse.narrow(1, start, rows).copy_(at::logsumexp(s, {-1}, /*keepdim=*/true));
  }
  return {out.view({B, H, Sq, Dv}), lse.view({B, H, Sq})};
}

// (dq, dk, dv) from the upstream gradient and the forward's inputs and output (its lse is not
// needed: each chunk holds whole rows of scores).
inline std::tuple<at::Tensor, at::Tensor, at::Tensor> backward(
    const at::Tensor& grad_out, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
    const at::Tensor& out, bool causal, double scale) {
  at::AutoDispatchBelowADInplaceOrView below_autograd;
  const int64_t B = q.size(0), H = q.size(1), Sq = q.size(2), D = q.size(3);
  const int64_t Sk = k.size(2), Dv = v.size(3);
  const auto [qs, ks] = scaled_qk(q.reshape({B * H, Sq, D}), k.reshape({B * H, Sk, D}), scale);
  const at::Tensor kst = ks.transpose(1, 2);
  const at::Tensor v3 = v.reshape({B * H, Sk, Dv});
  const at::Tensor g3 = grad_out.reshape({B * H, Sq, Dv});
  const at::Tensor o3 = out.reshape({B * H, Sq, Dv});
  const double r = std::sqrt(std::abs(scale));
  at::Tensor dq = at::empty({B * H, Sq, D}, q.options());
  at::Tensor dk = at::zeros({B * H, Sk, D}, q.options());
  at::Tensor dv = at::zeros({B * H, Sk, Dv}, q.options());
  const int64_t chunk = chunk_rows(B * H, Sq, Sk, D, q.element_size());
  for (int64_t start = 0; start < Sq; start += chunk) {
    const int64_t rows = std::min(chunk, Sq - start);
    const at::Tensor gc = g3.narrow(1, start, rows);
    // P recomputed from the chunk's whole rows of scores, as the forward formed it (the saved lse
    // would lose a tie of huge scores).
    const at::Tensor p = probabilities(scores(qs, kst, start, rows, causal));
    dv.baddbmm_(p.transpose(1, 2), gc);
    // dS = P * (dP - rowsum(dO * O)), the softmax's backward, in dP's buffer; then through the
    // scaled q and k as torch's math differentiates them.
    const at::Tensor delta = (gc * o3.narrow(1, start, rows)).sum({-1}, /*keepdim=*/true);
    const at::Tensor ds = at::bmm(gc, v3.transpose(1, 2)).sub_(delta).mul_(p);
    dq.narrow(1, start, rows).copy_(at::bmm(ds, ks).mul_(scale < 0 ? -r : r));
    dk.baddbmm_(ds.transpose(1, 2), qs.narrow(1, start, rows), /*beta=*/1, /*alpha=*/r);
  }
  return {dq.view({B, H, Sq, D}), dk.view({B, H, Sk, D}), dv.view({B, H, Sk, Dv})};
}

}  // namespace grimoire::attention_math
