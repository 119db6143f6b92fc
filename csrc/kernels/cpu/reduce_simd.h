// Vector loops for float reductions, written with GCC/Clang vector extensions at a vector width B
// (bytes). reduce.cpp compiles each one twice, at 16 bytes for the baseline ISA and at 32 bytes
// inside functions with target("avx2"), and picks one at run time (simd_fns()).
//
// Max/min ignore NaN in their vector lanes and report whether one was seen (the caller then
// returns NaN, as numpy does): a NaN-sticky select does not vectorise. Float32 sums add float lanes
// over short blocks and the blocks in double, so that sums of millions of elements stay accurate.
#pragma once
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

namespace tapegrad {
namespace kernels {
namespace cpu {

// Function pointers to the variant chosen for this CPU.
struct SimdFns {
  double (*sum_f32)(const float* p, int64_t n);
  double (*sum_f64)(const double* p, int64_t n);
  // Extremum of p[0:n) ignoring NaN; `nan` is set when p holds a NaN. n may be 0 (gives +-inf).
  float (*max_f32)(const float* p, int64_t n, bool& nan);
  float (*min_f32)(const float* p, int64_t n, bool& nan);
  double (*max_f64)(const double* p, int64_t n, bool& nan);
  double (*min_f64)(const double* p, int64_t n, bool& nan);
  // Columns: out[j] = reduce_l base[l * stride + j] for j < cb (cb <= kSimdColBlock). Extremes
  // write NaN into columns holding a NaN.
  void (*colsum_f32)(float* out, const float* base, int64_t len, int64_t stride, int64_t cb);
  void (*colsum_f64)(double* out, const double* base, int64_t len, int64_t stride, int64_t cb);
  void (*colmax_f32)(float* out, const float* base, int64_t len, int64_t stride, int64_t cb);
  void (*colmin_f32)(float* out, const float* base, int64_t len, int64_t stride, int64_t cb);
  void (*colmax_f64)(double* out, const double* base, int64_t len, int64_t stride, int64_t cb);
  void (*colmin_f64)(double* out, const double* base, int64_t len, int64_t stride, int64_t cb);
};
constexpr int64_t kSimdColBlock = 4096;  // 16 KB of float32 per row segment: prefetch-friendly
const SimdFns& simd_fns();

namespace simd {

// Everything below is always inlined into the per-ISA wrappers, so the vector-argument ABI note
// GCC gives for 32-byte vectors outside AVX functions does not apply.
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
  constexpr int64_t kBlock = 512;  // float lanes add at most kBlock / (4 L) values each
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

}  // namespace simd
}  // namespace cpu
}  // namespace kernels
}  // namespace tapegrad
