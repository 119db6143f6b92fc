// Shared by the CUDA backend's files (the tapegrad._cuda plugin, Note [Device plugins] in
// core/storage.h): the plugin's link to _core, error reporting, and the N-d operand layout of the
// elementwise and reduction kernels.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>
#include <type_traits>

#include "kernels/cuda/cuda.h"

namespace tapegrad {
namespace kernels {
namespace cuda {

// IEEE half as stored (float16 tensors reach copy, fill and where; arithmetic is float32).
struct H16 {
  uint16_t bits;
};

template <class T>
__device__ __forceinline__ T load(const Iter& it, int k, int64_t off) {
  if (it.is_scalar[k]) return *reinterpret_cast<const T*>(it.scalar[k]);
  return *reinterpret_cast<const T*>(it.ptr[k] + off);
}

// Byte offsets of flat element i for every operand.
template <int N>
__device__ __forceinline__ void offsets(const Iter& it, int64_t i, int64_t (&off)[N]) {
  if (it.ndim == 1) {
#pragma unroll
    for (int k = 0; k < N; ++k) off[k] = i * it.stride[k][0];
    return;
  }
#pragma unroll
  for (int k = 0; k < N; ++k) off[k] = 0;
  for (int d = it.ndim - 1; d >= 0; --d) {
    const int64_t c = i % it.size[d];
    i /= it.size[d];
#pragma unroll
    for (int k = 0; k < N; ++k) off[k] += c * it.stride[k][d];
  }
}

constexpr int kThreads = 256;
inline unsigned blocks_for(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return unsigned(b < (int64_t(1) << 20) ? (b < 1 ? 1 : b) : (int64_t(1) << 20));  // grid-stride beyond
}

// std::numeric_limits is host-only under nvcc (without --expt-relaxed-constexpr): the limits the
// kernels need, as constants.
template <class T>
struct Lim;
template <>
struct Lim<bool> {
  static constexpr bool lo = false, hi = true;
};
template <>
struct Lim<int32_t> {
  static constexpr int32_t lo = INT32_MIN, hi = INT32_MAX;
};
template <>
struct Lim<int64_t> {
  static constexpr int64_t lo = INT64_MIN, hi = INT64_MAX;
};
template <>
struct Lim<float> {
  static constexpr float lo = -__builtin_huge_valf(), hi = __builtin_huge_valf();
};
template <>
struct Lim<double> {
  static constexpr double lo = -__builtin_huge_val(), hi = __builtin_huge_val();
};

// Integer arithmetic wraps modulo 2^bits as numpy's does (as the CPU kernels, through unsigned).
template <class T>
__device__ __forceinline__ T wrap_add(T a, T b) {
  using U = std::make_unsigned_t<T>;
  return T(U(a) + U(b));
}
template <class T>
__device__ __forceinline__ T wrap_sub(T a, T b) {
  using U = std::make_unsigned_t<T>;
  return T(U(a) - U(b));
}
template <class T>
__device__ __forceinline__ T wrap_mul(T a, T b) {
  using U = std::make_unsigned_t<T>;
  return T(U(a) * U(b));
}
template <class T>
__device__ __forceinline__ T wrap_neg(T a) {
  using U = std::make_unsigned_t<T>;
  return T(U(0) - U(a));
}

}  // namespace cuda
}  // namespace kernels
}  // namespace tapegrad
