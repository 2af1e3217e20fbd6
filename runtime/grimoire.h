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

// A row's vector sum added in blocks of kBlock steps, each block's sum then added to the total: the
// rounding error grows with n / (kW * kBlock) + kBlock adds, not n / kW (a 262144-term float row:
// about 600 deep, not 32768), as torch's cascade sums keep theirs small.
template <typename V>
struct BlockSum {
  static constexpr int kBlock = 64;
  V block = V(0), total = V(0);
  int steps = 0;

  void step(const V& x) {
    block = block + x;
    if (++steps == kBlock) {
      total = total + block;
      block = V(0);
      steps = 0;
    }
  }
  V sum() const { return total + block; }
};

// One pass over a row for its mean and the mean of squared deviations from it (a variance), as the
// CPU plans reduce them (rowwise.pl's moments/3), without the cancellation of a sum of squares less
// n * mean^2. The running state is (mean, msd): msd is the mean squared deviation of the terms so
// far, taken over kMomentScale^2, and never n times it: a variance that float holds is held at
// every step (a sum of n squares would overflow n times sooner), and deviations as large as the two
// passes square without overflow square here too. Where they overflow, msd is inf, not NaN.
inline constexpr double kMomentScale = 0.125;  // a power of two: scaling by it rounds nothing

// A vector of running (mean, msd) pairs, one a lane, fed a vector of terms a step. moment_step a
// term would chain every step on the last (the mean's update waits on it): the lanes instead sum
// their terms' scaled deviations d from a shift, and d^2, over a chunk of kChunk steps (two
// independent adds), then merge the chunk into the running pair. A lane's mean is kept as shift +
// lo, lo scaled, so that merging compares chunk means relative to the shift, not rounded to the
// mean's magnitude (1e4 + noise of 1e-2 would lose its variance to that rounding). The shift is
// the lane's first term, then moves to the running mean after each chunk (exactly: lo keeps what
// the move left), so a chunk's mean d^2 less its mean d squared cancels no more than the
// deviations it measures.
template <typename V>
struct Moments {
  using T = typename V::value_type;
  static constexpr int kChunk = 8;
  V shift = V(0), lo = V(0), msd = V(0);  // mean = shift + lo / scale, over `done` terms a lane
  V s = V(0), q = V(0);                   // the chunk's sums of d and d^2, d = (x - shift) * scale
  int64_t done = 0;
  int chunk = 0;

  // The lane's first term, before any step: its shift (the caller's loop then needs no branch).
  void start(const V& x) { shift = x; }

  void step(const V& x) {
    const V d = (x - shift) * V(T(kMomentScale));
    s = s + d;
    q = q + d * d;
    if (++chunk == kChunk) {
      flush();
    }
  }

  // Merges the chunk's terms into (shift + lo, msd), then moves the shift to the mean.
  void flush() {
    if (chunk == 0) {
      return;
    }
    const T inv_c = T(1) / static_cast<T>(chunk);
    const V dev = s * V(inv_c);  // the chunk's mean less the shift, scaled
    // mean d^2 - dev^2; a sum of squares that overflowed stays inf, not inf - inf (dev^2
    // overflows only where some d^2 did).
    const V inf(std::numeric_limits<T>::infinity());
    const V chunk_msd = V::blendv(q * V(inv_c) - dev * dev, inf, q == inf);
    if (done == 0) {
      lo = dev;
      msd = chunk_msd;
    } else {
      const T total = static_cast<T>(done + chunk);
      const T wa = static_cast<T>(done) / total, wb = static_cast<T>(chunk) / total;
      const V delta = dev - lo;
      lo = lo + delta * V(wb);
      msd = msd * V(wa) + chunk_msd * V(wb) + (delta * V(wa)) * (delta * V(wb));
    }
    done += chunk;
    chunk = 0;
    const V moved = shift + lo * V(T(1 / kMomentScale));
    lo = lo - (moved - shift) * V(T(kMomentScale));
    shift = V::blendv(moved, shift, moved != moved);  // a NaN mean leaves it: lo holds the NaN
    s = V(0);
    q = V(0);
  }
};

// A row's (mean, msd) as one running pair, kept relative to ref (mean = ref + rel / scale), fed one
// term at a time by Welford's update: the lanes' pairs combined (moment_lanes), then the row's
// tail.
template <typename T>
struct MomentRow {
  T ref = T(0), rel = T(0), msd = T(0);
  int64_t count = 0;

  void step(T x) {
    if (count == 0) {
      ref = x;
    }
    const T inv_k = T(1) / static_cast<T>(++count);
    const T xr = (x - ref) * T(kMomentScale);
    const T d = xr - rel;
    rel = rel + d * inv_k;
    msd = msd * (T(1) - inv_k) + d * (xr - rel) * inv_k;  // inf stays inf (not inf - inf)
  }
  // The variance of the terms, and their sum of squared deviations from their mean.
  T var() const { return msd * T(1 / (kMomentScale * kMomentScale)); }
  T m2() const { return var() * static_cast<T>(count); }
};

// The lanes of vector Moments, flushed, folded into one MomentRow over all their terms (a lane at a
// time, relative to lane 0's shift: each lane holds as many terms).
template <typename T>
inline MomentRow<T> moment_lanes(Moments<at::vec::Vectorized<T>>& m) {
  constexpr int64_t kW = at::vec::Vectorized<T>::size();
  m.flush();
  MomentRow<T> r;
  if (m.done == 0) {
    return r;
  }
  __at_align__ T shifts[kW];
  __at_align__ T los[kW];
  __at_align__ T msds[kW];
  m.shift.store(shifts);
  m.lo.store(los);
  m.msd.store(msds);
  r.ref = shifts[0];
  r.rel = los[0];
  r.msd = msds[0];
  for (int64_t i = 1; i < kW; ++i) {
    const T w = T(1) / static_cast<T>(i + 1);
    const T delta = (shifts[i] - r.ref) * T(kMomentScale) + los[i] - r.rel;
    r.rel = r.rel + delta * w;
    r.msd = r.msd * (T(1) - w) + msds[i] * w + (delta * (T(1) - w)) * (delta * w);
  }
  r.count = m.done * kW;
  return r;
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
