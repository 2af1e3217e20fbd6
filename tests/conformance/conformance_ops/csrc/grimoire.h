// grimoire runtime library: grimoire.h.
// Copied verbatim into every generated extension whose sources include it; edit it here, in
// grimoire's runtime/ folder, never in a generated package.
//
// What every generated CPU kernel shares: argument checks with clear messages (grimoire_checks.h),
// and the math of the expression grammar written once for scalars and at::vec::Vectorized alike.
#pragma once

#include "grimoire_checks.h"

#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/core/Tensor.h>
#include <ATen/cpu/vec/functional.h>
#include <ATen/cpu/vec/functional_bfloat16.h>
#include <ATen/cpu/vec/vec.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <initializer_list>
#include <type_traits>

namespace grimoire {

// ------------------------------------------------------------------------------------------
// Math over V = a scalar type or at::vec::Vectorized<scalar>.
// ------------------------------------------------------------------------------------------

template <typename T>
struct is_vec : std::false_type {};
template <typename T>
struct is_vec<at::vec::Vectorized<T>> : std::true_type {};
template <typename V>
inline constexpr bool is_vec_v = is_vec<V>::value;

#define GRIMOIRE_UNARY(name, scalar_expr, vec_expr) \
  template <typename V>                             \
  inline V name(const V& x) {                       \
    if constexpr (is_vec_v<V>) {                    \
      return vec_expr;                              \
    } else {                                        \
      return scalar_expr;                           \
    }                                               \
  }

// exp_u20 (torch's softmax exp: a few ulp, about twice as fast as Sleef's) does not keep NaN:
// blended back.
GRIMOIRE_UNARY(exp, std::exp(x), V::blendv(x.exp_u20(), x, x.isnan()))
GRIMOIRE_UNARY(log, std::log(x), x.log())
GRIMOIRE_UNARY(log1p, std::log1p(x), x.log1p())
GRIMOIRE_UNARY(sqrt, std::sqrt(x), x.sqrt())
GRIMOIRE_UNARY(rsqrt, V(1) / std::sqrt(x), x.rsqrt())
GRIMOIRE_UNARY(sin, std::sin(x), x.sin())
GRIMOIRE_UNARY(cos, std::cos(x), x.cos())
GRIMOIRE_UNARY(tanh, std::tanh(x), x.tanh())
GRIMOIRE_UNARY(erf, std::erf(x), x.erf())
GRIMOIRE_UNARY(abs, std::abs(x), x.abs())
GRIMOIRE_UNARY(square, x* x, x* x)
// 1 / (1 + e^-x): e^-x overflows to inf for very negative x, and 1/inf is the right 0.
GRIMOIRE_UNARY(sigmoid, V(1) / (V(1) + std::exp(-x)), V(1) / (V(1) + x.neg().exp()))
// relu and friends propagate NaN, as torch does.
GRIMOIRE_UNARY(relu, (std::isnan(x) || x > V(0)) ? x : V(0), at::vec::maximum(x, V(0)))
// torch.nn.functional.softplus with beta=1, threshold=20: linear above the threshold.
GRIMOIRE_UNARY(softplus, x > V(20) ? x : std::log1p(std::exp(x)),
               V::blendv(x.exp().log1p(), x, x > V(20)))
GRIMOIRE_UNARY(sign, V((x > V(0)) - (x < V(0))),
               V::blendv(V(0), V(1), x > V(0)) - V::blendv(V(0), V(1), x < V(0)))
#undef GRIMOIRE_UNARY

template <typename V>
inline V pow(const V& x, const V& e) {
  if constexpr (is_vec_v<V>) {
    return x.pow(e);
  } else {
    return std::pow(x, e);
  }
}

// x^N for a small integer N by repeated multiplication (pow is far slower, and exact here).
template <int N, typename V>
inline V ipow(const V& x) {
  V r = x;
  for (int i = 1; i < N; ++i) {
    r = r * x;
  }
  return r;
}

template <typename V>
inline V maximum(const V& a, const V& b) {
  if constexpr (is_vec_v<V>) {
    return at::vec::maximum(a, b);
  } else {
    return (std::isnan(a) || a > b) ? a : b;
  }
}

template <typename V>
inline V minimum(const V& a, const V& b) {
  if constexpr (is_vec_v<V>) {
    return at::vec::minimum(a, b);
  } else {
    return (std::isnan(a) || a < b) ? a : b;
  }
}

// Comparisons give a bool for scalars and a lane mask for vectors; where() takes either.
template <typename V>
inline auto gt(const V& a, const V& b) {
  return a > b;
}
template <typename V>
inline auto lt(const V& a, const V& b) {
  return a < b;
}
template <typename V>
inline auto ge(const V& a, const V& b) {
  return a >= b;
}
template <typename V>
inline auto le(const V& a, const V& b) {
  return a <= b;
}
template <typename V>
inline auto eq(const V& a, const V& b) {
  return a == b;
}
template <typename V>
inline auto ne(const V& a, const V& b) {
  return a != b;
}

template <typename M, typename V>
inline V where(const M& mask, const V& a, const V& b) {
  if constexpr (is_vec_v<V>) {
    return V::blendv(b, a, mask);
  } else {
    return mask ? a : b;
  }
}

// ------------------------------------------------------------------------------------------
// Row kernels (rowwise kind): loads to opmath vectors, reductions, column accumulators.
// ------------------------------------------------------------------------------------------

template <typename T>
using OpVec = at::vec::Vectorized<at::opmath_type<T>>;

// OpVec<T>::size() elements of T, widened to opmath (half types load through float).
template <typename T>
inline OpVec<T> load(const T* p) {
  if constexpr (std::is_same_v<T, at::opmath_type<T>>) {
    return OpVec<T>::loadu(p);
  } else {
    OpVec<T> out;
    at::vec::load_to_float<T>(p, out);
    return out;
  }
}

// Stores OpVec<T>::size() elements, rounding once to T.
template <typename T>
inline void store(T* p, const OpVec<T>& v) {
  if constexpr (std::is_same_v<T, at::opmath_type<T>>) {
    v.store(p);
  } else {
    at::vec::convert_from_float<T>(v, v).store(p, OpVec<T>::size());
  }
}

enum class Reduce { Sum, Max, Min };

template <Reduce R, typename V>
inline V reduce_init() {
  if constexpr (R == Reduce::Sum) {
    return V(0);
  } else if constexpr (R == Reduce::Max) {
    return V(-std::numeric_limits<double>::infinity());
  } else {
    return V(std::numeric_limits<double>::infinity());
  }
}

template <Reduce R, typename V>
inline V reduce_step(const V& acc, const V& x) {
  if constexpr (R == Reduce::Sum) {
    return acc + x;
  } else if constexpr (R == Reduce::Max) {
    return maximum(acc, x);
  } else {
    return minimum(acc, x);
  }
}

// The lanes of a vector accumulator folded into one scalar.
template <Reduce R, typename T>
inline T reduce_lanes(const at::vec::Vectorized<T>& v) {
  __at_align__ T lanes[at::vec::Vectorized<T>::size()];
  v.store(lanes);
  T acc = lanes[0];
  for (int64_t i = 1; i < at::vec::Vectorized<T>::size(); ++i) {
    acc = reduce_step<R>(acc, lanes[i]);
  }
  return acc;
}

// The column index of each lane, as opmath values.
template <typename V, typename T>
inline V columns(int64_t j) {
  if constexpr (is_vec_v<V>) {
    return V::arange(static_cast<T>(j), static_cast<T>(1));
  } else {
    return static_cast<V>(j);
  }
}

}  // namespace grimoire
