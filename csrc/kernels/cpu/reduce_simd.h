// Vector loops for float reductions, written with GCC/Clang vector extensions at a vector width B
// (bytes). Included by each loops_<isa>.cpp inside namespace TG_ISA_NS (Note [SIMD dispatch] in
// loops.h), which instantiates them at its registers' width: 16 bytes (SSE2 / the portable
// base), 32 (AVX2), 64 (AVX-512); reduce_loops() gives the table entries.
//
// Max/min ignore NaN in their vector lanes and report whether one was seen (the caller then
// returns NaN, as numpy does): a NaN-sticky select does not vectorise. Float32 sums add float lanes
// over short blocks and the blocks in double, so that sums of millions of elements stay accurate.
// Only the row sums depend on B (which elements share a lane); extrema and column sums give the
// same bits at every width.
#pragma once
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "kernels/cpu/loops.h"

#ifndef TG_ISA_NS
#error "reduce_simd.h is included by loops_<isa>.cpp, which defines TG_ISA_NS"
#endif

namespace tapegrad {
namespace kernels {
namespace cpu {
namespace TG_ISA_NS {
namespace simd {

// Everything below is always inlined into the per-ISA wrappers, whose vector width never exceeds
// their ISA's registers; the pragma keeps GCC's vector-argument ABI note (-Wpsabi) quiet for
// the helpers' signatures all the same.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

#define TG_SIMD_INLINE inline __attribute__((always_inline))

template <class T, int B>
struct Vec {
  static constexpr int L = B / int(sizeof(T));
  using I = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;
  typedef T V __attribute__((vector_size(B)));
  typedef I M __attribute__((vector_size(B)));
};

template <class V, class T>
TG_SIMD_INLINE V load(const T* p) {
  V v;
  std::memcpy(&v, p, sizeof(V));
  return v;
}
template <class V, class T>
TG_SIMD_INLINE V splat(T x) {
  V v;
  for (int k = 0; k < int(sizeof(V) / sizeof(T)); ++k) v[k] = x;
  return v;
}

template <bool IsMax, class V>
TG_SIMD_INLINE V pick(V v, V a) {
  if constexpr (IsMax) return v > a ? v : a;
  else return v < a ? v : a;
}

template <int B, bool IsMax, class T>
TG_SIMD_INLINE T row_extreme(const T* p, int64_t n, bool& nan) {
  using V = typename Vec<T, B>::V;
  using M = typename Vec<T, B>::M;
  constexpr int L = Vec<T, B>::L;
  const T init = IsMax ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
  V a0 = splat<V>(init), a1 = a0, a2 = a0, a3 = a0;
  M bad = splat<M>(typename Vec<T, B>::I(0));
  int64_t i = 0;
  for (; i + 4 * L <= n; i += 4 * L) {
    V v0 = load<V>(p + i), v1 = load<V>(p + i + L), v2 = load<V>(p + i + 2 * L), v3 = load<V>(p + i + 3 * L);
    a0 = pick<IsMax>(v0, a0);
    a1 = pick<IsMax>(v1, a1);
    a2 = pick<IsMax>(v2, a2);
    a3 = pick<IsMax>(v3, a3);
    bad |= (v0 != v0) | (v1 != v1) | (v2 != v2) | (v3 != v3);
  }
  for (; i + L <= n; i += L) {
    V v = load<V>(p + i);
    a0 = pick<IsMax>(v, a0);
    bad |= (v != v);
  }
  a0 = pick<IsMax>(pick<IsMax>(a1, a0), pick<IsMax>(a3, a2));
  T m = init;
  bool seen = false;
  for (int k = 0; k < L; ++k) {
    m = IsMax ? (a0[k] > m ? a0[k] : m) : (a0[k] < m ? a0[k] : m);
    seen = seen || bad[k] != 0;
  }
  for (; i < n; ++i) {
    T v = p[i];
    if (v != v) seen = true;
    else m = IsMax ? (v > m ? v : m) : (v < m ? v : m);
  }
  nan = seen;
  return m;
}

template <int B, class T>
TG_SIMD_INLINE T lanes_sum(typename Vec<T, B>::V v) {
  T s = 0;
  for (int k = 0; k < Vec<T, B>::L; ++k) s += v[k];
  return s;
}

template <int B>
TG_SIMD_INLINE double row_sum_f32(const float* p, int64_t n) {
  using V = typename Vec<float, B>::V;
  constexpr int L = Vec<float, B>::L;
  // Float lanes add at most kBlock / (4 L) values each: 32 at 16 bytes, 16 from 32 bytes up (a
  // block as wide as 16 registers, so that the lanes' sum in double, one add per lane, stays a
  // small share of the work).
  constexpr int64_t kBlock = 16 * 4 * L > 512 ? 16 * 4 * L : 512;
  double total = 0;
  int64_t i = 0;
  while (i + L <= n) {
    const int64_t end = i + kBlock < n ? i + kBlock : n;
    V a0 = splat<V>(0.f), a1 = a0, a2 = a0, a3 = a0;
    for (; i + 4 * L <= end; i += 4 * L) {
      a0 += load<V>(p + i);
      a1 += load<V>(p + i + L);
      a2 += load<V>(p + i + 2 * L);
      a3 += load<V>(p + i + 3 * L);
    }
    for (; i + L <= end; i += L) a0 += load<V>(p + i);
    V s = (a0 + a1) + (a2 + a3);
    double bs = 0;
    for (int k = 0; k < L; ++k) bs += double(s[k]);
    total += bs;
  }
  for (; i < n; ++i) total += double(p[i]);
  return total;
}

template <int B>
TG_SIMD_INLINE double row_sum_f64(const double* p, int64_t n) {
  using V = typename Vec<double, B>::V;
  constexpr int L = Vec<double, B>::L;
  V a0 = splat<V>(0.0), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 4 * L <= n; i += 4 * L) {
    a0 += load<V>(p + i);
    a1 += load<V>(p + i + L);
    a2 += load<V>(p + i + 2 * L);
    a3 += load<V>(p + i + 3 * L);
  }
  for (; i + L <= n; i += L) a0 += load<V>(p + i);
  double total = lanes_sum<B, double>((a0 + a1) + (a2 + a3));
  for (; i < n; ++i) total += p[i];
  return total;
}

// Column sums of float32: float lanes over blocks of kRows rows, blocks added in double.
template <int B>
TG_SIMD_INLINE void colsum_f32(float* out, const float* base, int64_t len, int64_t stride, int64_t cb) {
  constexpr int64_t kRows = 32;
  double acc[kSimdColBlock];
  float part[kSimdColBlock];
  for (int64_t j = 0; j < cb; ++j) acc[j] = 0;
  for (int64_t l0 = 0; l0 < len; l0 += kRows) {
    const int64_t l1 = l0 + kRows < len ? l0 + kRows : len;
    for (int64_t j = 0; j < cb; ++j) part[j] = 0;
    int64_t l = l0;
    for (; l + 4 <= l1; l += 4) {
      const float* __restrict r0 = base + l * stride;
      const float* __restrict r1 = r0 + stride, * __restrict r2 = r1 + stride, * __restrict r3 = r2 + stride;
      for (int64_t j = 0; j < cb; ++j) part[j] += (r0[j] + r1[j]) + (r2[j] + r3[j]);
    }
    for (; l < l1; ++l) {
      const float* __restrict row = base + l * stride;
      for (int64_t j = 0; j < cb; ++j) part[j] += row[j];
    }
    for (int64_t j = 0; j < cb; ++j) acc[j] += double(part[j]);
  }
  for (int64_t j = 0; j < cb; ++j) out[j] = float(acc[j]);
}

template <int B>
TG_SIMD_INLINE void colsum_f64(double* out, const double* base, int64_t len, int64_t stride, int64_t cb) {
  double acc[kSimdColBlock];
  for (int64_t j = 0; j < cb; ++j) acc[j] = 0;
  int64_t l = 0;
  for (; l + 4 <= len; l += 4) {
    const double* __restrict r0 = base + l * stride;
    const double* __restrict r1 = r0 + stride, * __restrict r2 = r1 + stride, * __restrict r3 = r2 + stride;
    for (int64_t j = 0; j < cb; ++j) acc[j] += (r0[j] + r1[j]) + (r2[j] + r3[j]);
  }
  for (; l < len; ++l) {
    const double* __restrict row = base + l * stride;
    for (int64_t j = 0; j < cb; ++j) acc[j] += row[j];
  }
  for (int64_t j = 0; j < cb; ++j) out[j] = acc[j];
}

template <int B, bool IsMax, class T>
TG_SIMD_INLINE void col_extreme(T* out, const T* base, int64_t len, int64_t stride, int64_t cb) {
  using V = typename Vec<T, B>::V;
  using M = typename Vec<T, B>::M;
  using I = typename Vec<T, B>::I;
  constexpr int L = Vec<T, B>::L;
  constexpr int64_t kMaxVec = kSimdColBlock / L;
  const T init = IsMax ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
  const int64_t nv = cb / L, vend = nv * L;
  V acc[kMaxVec];
  M bad[kMaxVec];
  T tacc[L];
  bool tbad[L];
  for (int64_t c = 0; c < nv; ++c) {
    acc[c] = splat<V>(init);
    bad[c] = splat<M>(I(0));
  }
  for (int64_t j = vend; j < cb; ++j) {
    tacc[j - vend] = init;
    tbad[j - vend] = false;
  }
  int64_t l = 0;
  for (; l + 4 <= len; l += 4) {  // four rows per pass over the accumulators
    const T* r0 = base + l * stride;
    const T *r1 = r0 + stride, *r2 = r1 + stride, *r3 = r2 + stride;
    for (int64_t c = 0; c < nv; ++c) {
      V v0 = load<V>(r0 + c * L), v1 = load<V>(r1 + c * L), v2 = load<V>(r2 + c * L), v3 = load<V>(r3 + c * L);
      acc[c] = pick<IsMax>(pick<IsMax>(v0, v1), pick<IsMax>(pick<IsMax>(v2, v3), acc[c]));
      bad[c] |= (v0 != v0) | (v1 != v1) | (v2 != v2) | (v3 != v3);
    }
  }
  for (; l < len; ++l) {
    const T* row = base + l * stride;
    for (int64_t c = 0; c < nv; ++c) {
      V v = load<V>(row + c * L);
      acc[c] = pick<IsMax>(v, acc[c]);
      bad[c] |= (v != v);
    }
  }
  for (l = 0; l < len; ++l) {
    const T* row = base + l * stride;
    for (int64_t j = vend; j < cb; ++j) {
      T v = row[j];
      if (v != v) tbad[j - vend] = true;
      else
        tacc[j - vend] = IsMax ? (v > tacc[j - vend] ? v : tacc[j - vend]) : (v < tacc[j - vend] ? v : tacc[j - vend]);
    }
  }
  for (int64_t c = 0; c < nv; ++c)
    for (int k = 0; k < L; ++k) out[c * L + k] = bad[c][k] ? std::numeric_limits<T>::quiet_NaN() : acc[c][k];
  for (int64_t j = vend; j < cb; ++j) out[j] = tbad[j - vend] ? std::numeric_limits<T>::quiet_NaN() : tacc[j - vend];
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// The width of this ISA's registers, the lanes' width of the row loops.
#if defined(__AVX512F__)
constexpr int kReduceB = 64;
#elif defined(__AVX2__)
constexpr int kReduceB = 32;
#else
constexpr int kReduceB = 16;
#endif

}  // namespace simd

// The table's entries (IsaTable::reduce), one set per ISA namespace.
namespace entry {
inline double sum_f32(const float* p, int64_t n) { return simd::row_sum_f32<simd::kReduceB>(p, n); }
inline double sum_f64(const double* p, int64_t n) { return simd::row_sum_f64<simd::kReduceB>(p, n); }
inline float max_f32(const float* p, int64_t n, bool& nan) {
  return simd::row_extreme<simd::kReduceB, true>(p, n, nan);
}
inline float min_f32(const float* p, int64_t n, bool& nan) {
  return simd::row_extreme<simd::kReduceB, false>(p, n, nan);
}
inline double max_f64(const double* p, int64_t n, bool& nan) {
  return simd::row_extreme<simd::kReduceB, true>(p, n, nan);
}
inline double min_f64(const double* p, int64_t n, bool& nan) {
  return simd::row_extreme<simd::kReduceB, false>(p, n, nan);
}
inline void colsum_f32(float* o, const float* b, int64_t l, int64_t s, int64_t c) {
  simd::colsum_f32<simd::kReduceB>(o, b, l, s, c);
}
inline void colsum_f64(double* o, const double* b, int64_t l, int64_t s, int64_t c) {
  simd::colsum_f64<simd::kReduceB>(o, b, l, s, c);
}
inline void colmax_f32(float* o, const float* b, int64_t l, int64_t s, int64_t c) {
  simd::col_extreme<simd::kReduceB, true>(o, b, l, s, c);
}
inline void colmin_f32(float* o, const float* b, int64_t l, int64_t s, int64_t c) {
  simd::col_extreme<simd::kReduceB, false>(o, b, l, s, c);
}
inline void colmax_f64(double* o, const double* b, int64_t l, int64_t s, int64_t c) {
  simd::col_extreme<simd::kReduceB, true>(o, b, l, s, c);
}
inline void colmin_f64(double* o, const double* b, int64_t l, int64_t s, int64_t c) {
  simd::col_extreme<simd::kReduceB, false>(o, b, l, s, c);
}

}  // namespace entry

inline ReduceLoops reduce_loops() {
  using namespace entry;
  return {sum_f32,    sum_f64,    max_f32,    min_f32,    max_f64,    min_f64,
          colsum_f32, colsum_f64, colmax_f32, colmin_f32, colmax_f64, colmin_f64};
}

}  // namespace TG_ISA_NS
}  // namespace cpu
}  // namespace kernels
}  // namespace tapegrad
