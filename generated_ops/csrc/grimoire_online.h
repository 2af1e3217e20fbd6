// grimoire runtime library: grimoire_online.h.
// Copied verbatim into every generated extension whose sources include it; edit it here, in
// grimoire's runtime/ folder, never in a generated package.
//
// An online max and sum of exp, for host and device: the GPU plans reduce sum(exp(b - max(b))) in
// max(b)'s pass (semantics/kinds/rowwise.pl's online/3). A thread keeps (m, s), s the sum of
// exp(b - m) over what it saw, and rescales s when m grows, a term at a time or a chunk at a time;
// partials combine the same way (the warp and block steps are in grimoire_rowwise.cuh).
// online_sum_exp then gives what the two-pass sum gives at the edges: NaN where the max is not
// finite and the row not empty (a row of -inf, a +inf or a NaN in it: some term exp(b - m) is NaN
// there), 0 for an empty row. Host code runs the same functions in tests/test_runtime.py.
#pragma once

#include <c10/macros/Macros.h>

#include <cmath>
#include <limits>

namespace grimoire::rowwise {

// The identity of a sum_exp statistic's accumulator (its max's is RowMax's, -inf).
struct OnlineMaxSum {
  template <typename T>
  C10_HOST_DEVICE static T identity() {
    return T(0);
  }
};

// One term b into a thread's (m, s).
template <typename T>
C10_HOST_DEVICE inline void online_max_sum(T& m, T& s, T b) {
  using std::exp;
  if (b > m) {
    s = s * exp(m - b) + T(1);  // m = -inf: s is 0, and 0 * exp(-inf) is 0
    m = b;
  } else if (b != b) {
    m = b;  // NaN propagates, as RowMax's
    s = b;
  } else if (b != -std::numeric_limits<T>::infinity()) {
    s += exp(b - m);
  }
}

// Two partials (m, s) and (m2, s2) into (m, s).
template <typename T>
C10_HOST_DEVICE inline void online_combine(T& m, T& s, T m2, T s2) {
  using std::exp;
  constexpr T kNegInf = -std::numeric_limits<T>::infinity();
  const T top = (m != m || m > m2) ? m : m2;  // NaN-propagating, as RowMax
  if (top == kNegInf) {
    s += s2;  // both saw only -inf (s = 0) or nothing
  } else {
    s = (m == kNegInf ? T(0) : s * exp(m - top)) + (m2 == kNegInf ? T(0) : s2 * exp(m2 - top));
  }
  m = top;
}

// A chunk of N terms (a 16-byte pack's) into a thread's (m, s): the chunk's max first, then the sum
// of its exps against that max, then one rescale. Each exp waits on the chunk's max only, not on
// the term before it as online_max_sum's do, and the chunk costs N + 2 exps, not up to 2N.
template <typename T, int N>
C10_HOST_DEVICE inline void online_chunk(T& m, T& s, const T (&b)[N]) {
  using std::exp;
  T top = b[0];
  for (int i = 1; i < N; ++i) {
    top = (top != top || top > b[i]) ? top : b[i];  // NaN-propagating, as RowMax
  }
  T sum = T(0);
  if (top != -std::numeric_limits<T>::infinity()) {  // else every term is -inf: exp(b - top) is NaN
    for (int i = 0; i < N; ++i) {
      sum += exp(b[i] - top);
    }
  }
  online_combine(m, s, top, sum);
}

// The row's sum of exp(b - m) from the reduced (m, s) of its n terms.
template <typename T>
C10_HOST_DEVICE inline T online_sum_exp(T s, T m, int64_t n) {
  using std::isfinite;
  return (n > 0 && !isfinite(m)) ? std::numeric_limits<T>::quiet_NaN() : s;
}

}  // namespace grimoire::rowwise
