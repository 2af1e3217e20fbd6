// cf_custom: the CUDA kernel bodies of the conformance suite's custom op (against
// conformance_ops/csrc/cf_custom_custom.h). float32, float64 and the half types (CUDA only), computed in
// the accumulation type. One thread per row for the forward (simple, not fast), one per element for the
// backward. The wrapper has set the device; everything runs on the current stream.
#include "cf_custom_custom.h"

#include <ATen/AccumulateType.h>
#include <ATen/Dispatch.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAStream.h>

namespace {

constexpr int kThreads = 256;

template <typename scalar_t>
__global__ void forward_rows(const scalar_t* __restrict__ x, const scalar_t* __restrict__ w,
                             scalar_t* __restrict__ y, scalar_t* __restrict__ rowsum, int64_t rows, int64_t cols,
                             double scale) {
  using acc_t = at::acc_type<scalar_t, /*is_cuda=*/true>;
  const int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= rows) {
    return;
  }
  acc_t sum = 0;
  for (int64_t c = 0; c < cols; ++c) {
    const acc_t xw = static_cast<acc_t>(x[r * cols + c]) * static_cast<acc_t>(w[c]);
    y[r * cols + c] = static_cast<scalar_t>(static_cast<acc_t>(scale) * xw);
    sum += xw;
  }
  rowsum[r] = static_cast<scalar_t>(sum);
}

template <typename scalar_t>
__global__ void backward_elements(const scalar_t* __restrict__ grad_y, const scalar_t* __restrict__ grad_rowsum,
                                  const scalar_t* __restrict__ w, scalar_t* __restrict__ grad_x, int64_t n,
                                  int64_t cols, double scale) {
  using acc_t = at::acc_type<scalar_t, /*is_cuda=*/true>;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) {
    return;
  }
  const acc_t g = static_cast<acc_t>(scale) * static_cast<acc_t>(grad_y[i]) + static_cast<acc_t>(grad_rowsum[i / cols]);
  grad_x[i] = static_cast<scalar_t>(static_cast<acc_t>(w[i % cols]) * g);
}

}  // namespace

void cf_custom_kernels::forward_cuda(const at::Tensor& x, const at::Tensor& w, double scale, at::Tensor& y,
                                     at::Tensor& rowsum) {
  const int64_t rows = x.size(0);
  const int64_t cols = x.size(1);
  if (rows == 0) {
    return;
  }
  const int64_t blocks = (rows + kThreads - 1) / kThreads;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::ScalarType::Half, at::ScalarType::BFloat16, x.scalar_type(),
                                  "cf_custom_forward_cuda", [&] {
    forward_rows<scalar_t><<<blocks, kThreads, 0, c10::cuda::getCurrentCUDAStream()>>>(
        x.const_data_ptr<scalar_t>(), w.const_data_ptr<scalar_t>(), y.mutable_data_ptr<scalar_t>(),
        rowsum.mutable_data_ptr<scalar_t>(), rows, cols, scale);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
}

void cf_custom_kernels::backward_cuda(const at::Tensor& grad_y, const at::Tensor& grad_rowsum, const at::Tensor& x,
                                      const at::Tensor& w, const at::Tensor& y, const at::Tensor& rowsum,
                                      double scale, at::Tensor& grad_x) {
  const int64_t n = grad_x.numel();
  if (n == 0) {
    return;
  }
  const int64_t blocks = (n + kThreads - 1) / kThreads;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::ScalarType::Half, at::ScalarType::BFloat16, x.scalar_type(),
                                  "cf_custom_backward_cuda", [&] {
    backward_elements<scalar_t><<<blocks, kThreads, 0, c10::cuda::getCurrentCUDAStream()>>>(
        grad_y.const_data_ptr<scalar_t>(), grad_rowsum.const_data_ptr<scalar_t>(), w.const_data_ptr<scalar_t>(),
        grad_x.mutable_data_ptr<scalar_t>(), n, x.size(1), scale);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
}
