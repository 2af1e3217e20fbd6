// grimoire runtime library: grimoire_cuda.cuh.
// Copied verbatim into every generated extension whose sources include it; edit it here, in
// grimoire's runtime/ folder, never in a generated package.
//
// What every generated CUDA kernel shares: the math of the expression grammar as __device__
// functions over V = float, double, or HalfMath (float for half-type storage), so the bodies the
// grammar renders for the CPU (grimoire.h) compile unchanged here; and the reductions of row
// kernels. Every function the C++ emitter can write (grimoire/emit/cpp.py) needs an overload here:
// tests/test_cuda_compile.py holds it.
#pragma once

#include "grimoire_checks.h"

#include <ATen/OpMathType.h>
#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>
#include <c10/macros/Macros.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <limits>

namespace grimoire {

#define GRIMOIRE_DEVICE __device__ __forceinline__

// ------------------------------------------------------------------------------------------
// Math over V = float | double. No --use_fast_math: results match torch's own kernels.
// ------------------------------------------------------------------------------------------

#define GRIMOIRE_CUDA_UNARY(name, float_fn, double_fn)        \
  GRIMOIRE_DEVICE float name(float x) { return float_fn(x); } \
  GRIMOIRE_DEVICE double name(double x) { return double_fn(x); }

GRIMOIRE_CUDA_UNARY(exp, ::expf, ::exp)
GRIMOIRE_CUDA_UNARY(log, ::logf, ::log)
GRIMOIRE_CUDA_UNARY(log1p, ::log1pf, ::log1p)
GRIMOIRE_CUDA_UNARY(sqrt, ::sqrtf, ::sqrt)
GRIMOIRE_CUDA_UNARY(rsqrt, ::rsqrtf, ::rsqrt)
GRIMOIRE_CUDA_UNARY(sin, ::sinf, ::sin)
GRIMOIRE_CUDA_UNARY(cos, ::cosf, ::cos)
GRIMOIRE_CUDA_UNARY(tanh, ::tanhf, ::tanh)
GRIMOIRE_CUDA_UNARY(erf, ::erff, ::erf)
GRIMOIRE_CUDA_UNARY(abs, ::fabsf, ::fabs)
#undef GRIMOIRE_CUDA_UNARY

GRIMOIRE_DEVICE float pow(float x, float e) { return ::powf(x, e); }
GRIMOIRE_DEVICE double pow(double x, double e) { return ::pow(x, e); }

// ------------------------------------------------------------------------------------------
// Half-type storage (float16, bfloat16): the expression runs in float and its result is rounded to
// 11 or 8 significant bits, so float's last bits never show. HalfMath is that float with exp and
// division on the hardware approximations (__expf; a correctly rounded reciprocal times the
// dividend): relative error ~1e-6 and below, far under half a unit of the stored precision, at a
// fraction of the instructions. At 2 bytes per element an accurate sigmoid costs more time than the
// memory does. Functions whose approximations are coarse (log near 1, sin/cos of large arguments,
// tanh) stay accurate.
// ------------------------------------------------------------------------------------------

struct HalfMath {
  float v;
  HalfMath() = default;
  GRIMOIRE_DEVICE constexpr HalfMath(float x) : v(x) {}
  GRIMOIRE_DEVICE explicit constexpr operator float() const { return v; }
};

GRIMOIRE_DEVICE HalfMath operator-(HalfMath a) { return -a.v; }
GRIMOIRE_DEVICE HalfMath operator+(HalfMath a, HalfMath b) { return a.v + b.v; }
GRIMOIRE_DEVICE HalfMath operator-(HalfMath a, HalfMath b) { return a.v - b.v; }
GRIMOIRE_DEVICE HalfMath operator*(HalfMath a, HalfMath b) { return a.v * b.v; }
// The reciprocal of a divisor below float's smallest normal (a bfloat16 denormal, or 0) overflows,
// where the quotient need not: x / y of two denormals is finite, 0 / denormal is 0. Those divide
// exactly.
GRIMOIRE_DEVICE HalfMath operator/(HalfMath a, HalfMath b) {
  return ::fabsf(b.v) >= 1.17549435e-38f ? a.v * __frcp_rn(b.v) : a.v / b.v;
}
GRIMOIRE_DEVICE bool operator<(HalfMath a, HalfMath b) { return a.v < b.v; }
GRIMOIRE_DEVICE bool operator>(HalfMath a, HalfMath b) { return a.v > b.v; }
GRIMOIRE_DEVICE bool operator<=(HalfMath a, HalfMath b) { return a.v <= b.v; }
GRIMOIRE_DEVICE bool operator>=(HalfMath a, HalfMath b) { return a.v >= b.v; }
GRIMOIRE_DEVICE bool operator==(HalfMath a, HalfMath b) { return a.v == b.v; }
GRIMOIRE_DEVICE bool operator!=(HalfMath a, HalfMath b) { return a.v != b.v; }

#define GRIMOIRE_HALF_UNARY(name, float_fn) \
  GRIMOIRE_DEVICE HalfMath name(HalfMath x) { return float_fn(x.v); }
GRIMOIRE_HALF_UNARY(exp, __expf)
GRIMOIRE_HALF_UNARY(log, ::logf)
GRIMOIRE_HALF_UNARY(log1p, ::log1pf)
GRIMOIRE_HALF_UNARY(sqrt, ::sqrtf)
GRIMOIRE_HALF_UNARY(rsqrt, ::rsqrtf)
GRIMOIRE_HALF_UNARY(sin, ::sinf)
GRIMOIRE_HALF_UNARY(cos, ::cosf)
GRIMOIRE_HALF_UNARY(tanh, ::tanhf)
GRIMOIRE_HALF_UNARY(erf, ::erff)
GRIMOIRE_HALF_UNARY(abs, ::fabsf)
#undef GRIMOIRE_HALF_UNARY
GRIMOIRE_DEVICE HalfMath pow(HalfMath x, HalfMath e) { return ::powf(x.v, e.v); }

// The type an expression is computed in, per storage type: opmath, with HalfMath for half types.
template <typename scalar_t>
struct compute_type {
  using type = at::opmath_type<scalar_t>;
};
template <>
struct compute_type<c10::Half> {
  using type = HalfMath;
};
template <>
struct compute_type<c10::BFloat16> {
  using type = HalfMath;
};
template <typename scalar_t>
using compute_t = typename compute_type<scalar_t>::type;

// ------------------------------------------------------------------------------------------
// Compositions, for float, double and HalfMath alike.
// ------------------------------------------------------------------------------------------

template <typename V>
GRIMOIRE_DEVICE V square(V x) {
  return x * x;
}
// 1 / (1 + e^-x): e^-x overflows to inf for very negative x, and 1/inf is the right 0.
template <typename V>
GRIMOIRE_DEVICE V sigmoid(V x) {
  return V(1) / (V(1) + grimoire::exp(-x));
}
// relu, maximum and minimum propagate NaN, as torch does (x != x is NaN).
template <typename V>
GRIMOIRE_DEVICE V relu(V x) {
  return (x != x || x > V(0)) ? x : V(0);
}
// torch.nn.functional.softplus with beta=1, threshold=20: linear above the threshold.
template <typename V>
GRIMOIRE_DEVICE V softplus(V x) {
  return x > V(20) ? x : grimoire::log1p(grimoire::exp(x));
}
template <typename V>
GRIMOIRE_DEVICE V sign(V x) {
  return V((x > V(0)) - (x < V(0)));
}
template <typename V>
GRIMOIRE_DEVICE V maximum(V a, V b) {
  return (a != a || a > b) ? a : b;
}
template <typename V>
GRIMOIRE_DEVICE V minimum(V a, V b) {
  return (a != a || a < b) ? a : b;
}

template <typename V>
GRIMOIRE_DEVICE bool gt(V a, V b) {
  return a > b;
}
template <typename V>
GRIMOIRE_DEVICE bool lt(V a, V b) {
  return a < b;
}
template <typename V>
GRIMOIRE_DEVICE bool ge(V a, V b) {
  return a >= b;
}
template <typename V>
GRIMOIRE_DEVICE bool le(V a, V b) {
  return a <= b;
}
template <typename V>
GRIMOIRE_DEVICE bool eq(V a, V b) {
  return a == b;
}
template <typename V>
GRIMOIRE_DEVICE bool ne(V a, V b) {
  return a != b;
}
template <typename V>
GRIMOIRE_DEVICE V where(bool mask, V a, V b) {
  return mask ? a : b;
}
// x^N for a small integer N by repeated multiplication (pow is far slower, and exact here).
template <int N, typename V>
GRIMOIRE_DEVICE V ipow(V x) {
  V r = x;
#pragma unroll
  for (int i = 1; i < N; ++i) {
    r = r * x;
  }
  return r;
}

// ------------------------------------------------------------------------------------------
// Row reductions. A row is handled by blockDim.x threads (a multiple of 32), blockDim.y rows per
// block: warp shuffles first, then, for rows wider than a warp, one value per warp through shared
// memory (`scratch`, 32 values, one use per call; every thread of the block must call).
// ------------------------------------------------------------------------------------------

struct MaxOp {
  template <typename T>
  GRIMOIRE_DEVICE T operator()(T a, T b) const {
    return a > b ? a : b;
  }
  template <typename T>
  GRIMOIRE_DEVICE static T identity() {
    return -std::numeric_limits<T>::infinity();
  }
};

struct SumOp {
  template <typename T>
  GRIMOIRE_DEVICE T operator()(T a, T b) const {
    return a + b;
  }
  template <typename T>
  GRIMOIRE_DEVICE static T identity() {
    return T(0);
  }
};

template <typename T, typename Op>
GRIMOIRE_DEVICE T warp_reduce(T v, Op op) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) {
    v = op(v, __shfl_xor_sync(0xffffffffu, v, offset));
  }
  return v;
}

template <typename T, typename Op>
GRIMOIRE_DEVICE T row_reduce(T v, Op op, T* scratch) {
  v = warp_reduce(v, op);
  const int warps_per_row = blockDim.x / 32;
  if (warps_per_row == 1) {
    return v;
  }
  const int first = threadIdx.y * warps_per_row;
  if (threadIdx.x % 32 == 0) {
    scratch[first + threadIdx.x / 32] = v;
  }
  __syncthreads();
  T r = scratch[first];
  for (int w = 1; w < warps_per_row; ++w) {
    r = op(r, scratch[first + w]);
  }
  return r;
}

// A 16-byte (or narrower) vector of VEC elements, for vectorized row loads and stores.
template <typename scalar_t, int VEC>
struct alignas(sizeof(scalar_t) * VEC) Pack {
  scalar_t v[VEC];
};

inline bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

inline int ceil_pow2(int64_t n) {
  int p = 1;
  while (p < n) {
    p <<= 1;
  }
  return p;
}

}  // namespace grimoire
