// cf_custom: the CPU kernel bodies of the conformance suite's custom op (against
// conformance_ops/csrc/cf_custom_custom.h, generated from semantics/ops/cf_custom.pl).
//   y[r, c] = scale * x[r, c] * w[c]      rowsum[r] = sum_c x[r, c] * w[c]
//   grad_x[r, c] = w[c] * (scale * grad_y[r, c] + grad_rowsum[r])      (w is not differentiable)
#include "cf_custom_custom.h"

#include <ATen/AccumulateType.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>

void cf_custom_kernels::forward_cpu(const at::Tensor& x, const at::Tensor& w, double scale, at::Tensor& y,
                                    at::Tensor& rowsum) {
  const int64_t rows = x.size(0);
  const int64_t cols = x.size(1);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "cf_custom_forward_cpu", [&] {
    using acc_t = at::acc_type<scalar_t, /*is_cuda=*/false>;
    const scalar_t* in = x.const_data_ptr<scalar_t>();
    const scalar_t* col = w.const_data_ptr<scalar_t>();
    scalar_t* out = y.mutable_data_ptr<scalar_t>();
    scalar_t* sums = rowsum.mutable_data_ptr<scalar_t>();
    const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(cols, 1));
    at::parallel_for(0, rows, grain, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        acc_t sum = 0;
        for (int64_t c = 0; c < cols; ++c) {
          const acc_t xw = static_cast<acc_t>(in[r * cols + c]) * static_cast<acc_t>(col[c]);
          out[r * cols + c] = static_cast<scalar_t>(static_cast<acc_t>(scale) * xw);
          sum += xw;
        }
        sums[r] = static_cast<scalar_t>(sum);
      }
    });
  });
}

void cf_custom_kernels::backward_cpu(const at::Tensor& grad_y, const at::Tensor& grad_rowsum, const at::Tensor& x,
                                     const at::Tensor& w, const at::Tensor& y, const at::Tensor& rowsum, double scale,
                                     at::Tensor& grad_x) {
  const int64_t rows = x.size(0);
  const int64_t cols = x.size(1);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "cf_custom_backward_cpu", [&] {
    using acc_t = at::acc_type<scalar_t, /*is_cuda=*/false>;
    const scalar_t* gy = grad_y.const_data_ptr<scalar_t>();
    const scalar_t* gs = grad_rowsum.const_data_ptr<scalar_t>();
    const scalar_t* col = w.const_data_ptr<scalar_t>();
    scalar_t* out = grad_x.mutable_data_ptr<scalar_t>();
    const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(cols, 1));
    at::parallel_for(0, rows, grain, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const acc_t g_row = static_cast<acc_t>(gs[r]);
        for (int64_t c = 0; c < cols; ++c) {
          const acc_t g = static_cast<acc_t>(scale) * static_cast<acc_t>(gy[r * cols + c]) + g_row;
          out[r * cols + c] = static_cast<scalar_t>(static_cast<acc_t>(col[c]) * g);
        }
      }
    });
  });
}
