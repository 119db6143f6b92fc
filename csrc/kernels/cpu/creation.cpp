// CPU kernels for arange, linspace and eye (see kernels/creation.h).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "kernels/cpu/iter.h"
#include "kernels/creation.h"

namespace tapegrad {
namespace kernels {

namespace {

constexpr int64_t kGrain = 1 << 16;

// Store a double into an element of type T as numpy's astype does (float16 rounds through float).
template <class T>
inline T from_double(double v) {
  // Integers go through a 64-bit integer, so that -1.0 into an unsigned dtype wraps as numpy's
  // does (a direct cast of a negative double to an unsigned type is undefined).
  if constexpr (std::is_integral<T>::value) return v < 0 ? T(int64_t(v)) : T(uint64_t(v));
  else return static_cast<T>(v);
}
template <>
inline Half from_double<Half>(double v) {
  return Half{float_to_half(static_cast<float>(v))};
}
template <>
inline bool from_double<bool>(double v) {
  return v != 0;
}

// Element type in which numpy's fill runs for T (float16 fills in float32).
template <class T>
struct FillType {
  using type = T;
};
template <>
struct FillType<Half> {
  using type = float;
};

template <class T>
void arange_fill(T* p, int64_t n, double start, double step) {
  using F = typename FillType<T>::type;
  // numpy: buffer[0] and buffer[1] are set from the Python values, the rest by its `fill`.
  const T t0 = from_double<T>(start);
  const T t1 = from_double<T>(start + step);
  const F v0 = static_cast<F>(t0);
  const F d = static_cast<F>(static_cast<F>(t1) - v0);
  cpu::parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) p[i] = static_cast<T>(v0 + static_cast<F>(i) * d);
  });
  if (n > 0) p[0] = t0;
  if (n > 1) p[1] = t1;
}

template <>
void arange_fill<Half>(Half* p, int64_t n, double start, double step) {
  const float v0 = half_to_float(float_to_half(static_cast<float>(start)));
  const uint16_t h1 = float_to_half(static_cast<float>(start + step));
  const float d = half_to_float(h1) - v0;
  cpu::parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) p[i].bits = float_to_half(v0 + static_cast<float>(i) * d);
  });
  if (n > 0) p[0].bits = float_to_half(v0);
  if (n > 1) p[1].bits = h1;
}

template <>
void arange_fill<bool>(bool* p, int64_t n, double start, double step) {
  // The caller allows at most two elements (numpy has no Bool fill).
  if (n > 0) p[0] = start != 0;
  if (n > 1) p[1] = (start + step) != 0;
}

}  // namespace

namespace cpu {

void arange(const Tensor& out, double start, double step) {
  const int64_t n = out.numel();
  TG_DISPATCH_ALL(out.dtype(), arange_fill<T>(out.data<T>(), n, start, step));
}

void arange_int(const Tensor& out, int64_t start, int64_t step) {
  const int64_t n = out.numel();
  if (!is_int(out.dtype())) {
    arange(out, double(start), double(step));
    return;
  }
  TG_DISPATCH_NUM(out.dtype(), {
    if constexpr (std::is_integral<T>::value) {
      T* p = out.data<T>();
      // Unsigned arithmetic: wraps like numpy's integer fill instead of overflowing (UB).
      cpu::parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) p[i] = T(uint64_t(start) + uint64_t(i) * uint64_t(step));
      });
    }
  });
}

void linspace(const Tensor& out, double start, double stop, bool endpoint) {
  const int64_t n = out.numel();
  const int64_t div = endpoint ? n - 1 : n;
  const double delta = stop - start;
  const double step = div > 0 ? delta / div : 0.0;
  // numpy: when the step underflows to zero, scale by i / div first.
  const bool step_zero = div > 0 && step == 0;
  const bool floor_it = is_int(out.dtype());
  auto value = [&](int64_t i) {
    double y;
    if (div > 0) y = step_zero ? (double(i) / double(div)) * delta : double(i) * step;
    else y = double(i) * delta;
    y += start;
    if (endpoint && n > 1 && i == n - 1) y = stop;
    return floor_it ? std::floor(y) : y;
  };
  TG_DISPATCH_ALL(out.dtype(), {
    T* p = out.data<T>();
    cpu::parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) p[i] = from_double<T>(value(i));
    });
  });
}

void eye(const Tensor& out, int64_t k) {
  const int64_t rows = out.shape()[0], cols = out.shape()[1];
  std::memset(out.raw_data(), 0, size_t(out.numel()) * itemsize(out.dtype()));
  // Diagonals entirely outside the matrix (any k, -2**63 included) leave it zero.
  if (k >= cols || k <= -rows) return;
  const int64_t r0 = k >= 0 ? 0 : -k, c0 = k >= 0 ? k : 0;
  const int64_t len = std::min(rows - r0, cols - c0);
  TG_DISPATCH_ALL(out.dtype(), {
    T* p = out.data<T>();
    const T one = from_double<T>(1.0);
    for (int64_t i = 0; i < len; ++i) p[(r0 + i) * cols + c0 + i] = one;
  });
}

}  // namespace cpu
}  // namespace kernels
}  // namespace tapegrad
