// CUDA elementwise kernels: one templated kernel per family (binary, compare, unary, predicate,
// clip, where, cast), over the operand layout of Note [CUDA iteration] (kernels/cuda/cuda.h).
// The scalar semantics are the CPU kernels' (kernels/cpu/loops_impl.h): numpy's integer division
// and modulo, wrapping integer arithmetic, NaN-propagating maximum/minimum/clip, saturating
// float -> int casts.
#include <cuda_fp16.h>

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "kernels/cuda/common.cuh"

namespace tapegrad {
namespace kernels {
namespace cuda {

namespace {

template <class T>
constexpr bool kIsFloat = std::is_floating_point<T>::value;
template <class T>
constexpr bool kIsBool = std::is_same<T, bool>::value;
template <class T>
constexpr bool kIsInt = std::is_integral<T>::value && !std::is_same<T, bool>::value;

// ---- binary -----------------------------------------------------------------------------------
struct AddF {
  template <class T>
  __device__ static T f(T a, T b) {
    if constexpr (kIsBool<T>) return a || b;
    else if constexpr (kIsInt<T>) return wrap_add(a, b);
    else return a + b;
  }
};
struct SubF {
  template <class T>
  __device__ static T f(T a, T b) {
    if constexpr (kIsBool<T>) return a != b;
    else if constexpr (kIsInt<T>) return wrap_sub(a, b);
    else return a - b;
  }
};
struct MulF {
  template <class T>
  __device__ static T f(T a, T b) {
    if constexpr (kIsBool<T>) return a && b;
    else if constexpr (kIsInt<T>) return wrap_mul(a, b);
    else return a * b;
  }
};
struct DivF {
  template <class T>
  __device__ static T f(T a, T b) {
    if constexpr (kIsFloat<T>) return a / b;
    else if constexpr (kIsBool<T>) return a;
    else return b == 0 ? T(0) : (b == -1 ? wrap_neg(a) : T(a / b));
  }
};
struct FloorDivF {
  template <class T>
  __device__ static T f(T a, T b) {
    if constexpr (kIsFloat<T>) {
      if (b == 0) return a / b;
      T m = fmod(a, b), d = (a - m) / b;
      if (m != 0 && ((b < 0) != (m < 0))) d -= 1;
      if (d == 0) return copysign(T(0), a / b);
      T fd = floor(d);
      if (d - fd > T(0.5)) fd += 1;
      return fd;
    } else if constexpr (kIsBool<T>) {
      return a && b;
    } else {
      if (b == 0) return 0;
      if (b == -1) return wrap_neg(a);
      T q = a / b;
      if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
      return q;
    }
  }
};
struct ModF {
  template <class T>
  __device__ static T f(T a, T b) {
    if constexpr (kIsFloat<T>) {
      if (b == 0) return fmod(a, b);
      T m = fmod(a, b);
      if (m != 0) {
        if ((b < 0) != (m < 0)) m += b;
      } else {
        m = copysign(T(0), b);
      }
      return m;
    } else if constexpr (kIsBool<T>) {
      return false;
    } else {
      if (b == 0 || b == -1) return 0;
      T m = a % b;
      if (m != 0 && ((m < 0) != (b < 0))) m += b;
      return m;
    }
  }
};
struct PowF {
  template <class T>
  __device__ static T f(T a, T b) {
    if constexpr (kIsFloat<T>) {
      return pow(a, b);
    } else if constexpr (kIsBool<T>) {
      return a || !b;
    } else {
      // Negative exponents are refused by the ops layer; this keeps the kernel defined.
      if (b < 0) return a == 1 ? 1 : (a == -1 ? ((b & 1) ? -1 : 1) : 0);
      T r = 1, base = a;
      auto e = b;
      while (e) {
        if (e & 1) r = wrap_mul(r, base);
        base = wrap_mul(base, base);
        e >>= 1;
      }
      return r;
    }
  }
};
struct MaximumF {
  template <class T>
  __device__ static T f(T a, T b) {
    if constexpr (kIsFloat<T>) return (a > b || a != a) ? a : b;
    else return a > b ? a : b;
  }
};
struct MinimumF {
  template <class T>
  __device__ static T f(T a, T b) {
    if constexpr (kIsFloat<T>) return (a < b || a != a) ? a : b;
    else return a < b ? a : b;
  }
};
struct Atan2F {
  template <class T>
  __device__ static T f(T a, T b) {
    if constexpr (kIsFloat<T>) return atan2(a, b);
    else return T(atan2(double(a), double(b)));
  }
};
struct HypotF {
  template <class T>
  __device__ static T f(T a, T b) {
    if constexpr (kIsFloat<T>) return hypot(a, b);
    else return T(hypot(double(a), double(b)));
  }
};
struct NextAfterF {
  template <class T>
  __device__ static T f(T a, T b) {
    if constexpr (kIsFloat<T>) return nextafter(a, b);
    else return T(nextafter(double(a), double(b)));
  }
};
// As the CPU's (kernels/cpu/loops_impl.h): equal arguments give a + ln 2, a NaN propagates.
struct LogAddExpF {
  template <class T>
  __device__ static T f(T a, T b) {
    if constexpr (kIsFloat<T>) {
      if (a == b) return a + T(0.693147180559945309417232121458176568);
      const T d = a - b;
      if (d > 0) return a + log1p(exp(-d));
      if (d <= 0) return b + log1p(exp(d));
      return d;
    } else {
      return T(f(double(a), double(b)));
    }
  }
};
struct BitAndF {
  template <class T>
  __device__ static T f(T a, T b) {
    if constexpr (std::is_integral<T>::value) return T(a & b);
    else return a;
  }
};
struct BitOrF {
  template <class T>
  __device__ static T f(T a, T b) {
    if constexpr (std::is_integral<T>::value) return T(a | b);
    else return a;
  }
};
struct BitXorF {
  template <class T>
  __device__ static T f(T a, T b) {
    if constexpr (std::is_integral<T>::value) return T(a ^ b);
    else return a;
  }
};

// ---- comparisons (Bool out) ---------------------------------------------------------------------
struct EqF {
  template <class T>
  __device__ static bool f(T a, T b) {
    return a == b;
  }
};
struct NeF {
  template <class T>
  __device__ static bool f(T a, T b) {
    return a != b;
  }
};
struct LtF {
  template <class T>
  __device__ static bool f(T a, T b) {
    return a < b;
  }
};
struct LeF {
  template <class T>
  __device__ static bool f(T a, T b) {
    return a <= b;
  }
};
struct GtF {
  template <class T>
  __device__ static bool f(T a, T b) {
    return a > b;
  }
};
struct GeF {
  template <class T>
  __device__ static bool f(T a, T b) {
    return a >= b;
  }
};
struct LogicalAndF {
  template <class T>
  __device__ static bool f(T a, T b) {
    return (a != T(0)) && (b != T(0));
  }
};
struct LogicalOrF {
  template <class T>
  __device__ static bool f(T a, T b) {
    return (a != T(0)) || (b != T(0));
  }
};

// ---- unary --------------------------------------------------------------------------------------
#define TG_CUDA_FLOAT_UNARY(Name, expr) \
  struct Name##F {                      \
    template <class T>                  \
    __device__ static T f(T x) {        \
      if constexpr (kIsFloat<T>) {      \
        return expr;                    \
      } else {                          \
        return x;                       \
      }                                 \
    }                                   \
  };
struct NegF {
  template <class T>
  __device__ static T f(T x) {
    if constexpr (kIsBool<T>) return !x;
    else if constexpr (kIsInt<T>) return wrap_neg(x);
    else return T(-x);
  }
};
struct AbsF {
  template <class T>
  __device__ static T f(T x) {
    if constexpr (kIsBool<T>) return x;
    else if constexpr (kIsFloat<T>) return fabs(x);
    else return x < 0 ? wrap_neg(x) : x;
  }
};
struct SignF {
  template <class T>
  __device__ static T f(T x) {
    if constexpr (kIsBool<T>) return x;
    else if constexpr (kIsFloat<T>) return x != x ? x : T((x > 0) - (x < 0));
    else return T((x > 0) - (x < 0));
  }
};
struct ReciprocalF {
  template <class T>
  __device__ static T f(T x) {
    if constexpr (kIsFloat<T>) return T(1) / x;
    else if constexpr (kIsBool<T>) return x;
    // numpy computes 1.0 / x and converts it back: 1/0 is inf, which x86-64 converts to the
    // 'integer indefinite' value, INT_MIN, for 32- and 64-bit destinations; the narrower
    // integers convert through a 32-bit int and keep its low bits, 0 (as the unsigned do).
    else if constexpr (std::is_signed<T>::value && sizeof(T) >= 4)
      return x == 0 ? (sizeof(T) == 8 ? T(-9223372036854775807LL - 1) : T(-2147483647 - 1)) : T(T(1) / x);
    else return x == 0 ? T(0) : T(T(1) / x);
  }
};
struct SquareF {
  template <class T>
  __device__ static T f(T x) {
    if constexpr (kIsBool<T>) return x;
    else if constexpr (kIsInt<T>) return wrap_mul(x, x);
    else return x * x;
  }
};
TG_CUDA_FLOAT_UNARY(Exp, exp(x))
TG_CUDA_FLOAT_UNARY(Exp2, exp2(x))
TG_CUDA_FLOAT_UNARY(Log, log(x))
TG_CUDA_FLOAT_UNARY(Log2, log2(x))
TG_CUDA_FLOAT_UNARY(Log1p, log1p(x))
TG_CUDA_FLOAT_UNARY(Expm1, expm1(x))
TG_CUDA_FLOAT_UNARY(Sqrt, sqrt(x))
TG_CUDA_FLOAT_UNARY(Rsqrt, T(1) / sqrt(x))
TG_CUDA_FLOAT_UNARY(Sin, sin(x))
TG_CUDA_FLOAT_UNARY(Cos, cos(x))
TG_CUDA_FLOAT_UNARY(Tan, tan(x))
TG_CUDA_FLOAT_UNARY(Arcsin, asin(x))
TG_CUDA_FLOAT_UNARY(Arccos, acos(x))
TG_CUDA_FLOAT_UNARY(Arctan, atan(x))
TG_CUDA_FLOAT_UNARY(Sinh, sinh(x))
TG_CUDA_FLOAT_UNARY(Cosh, cosh(x))
TG_CUDA_FLOAT_UNARY(Tanh, tanh(x))
TG_CUDA_FLOAT_UNARY(Sigmoid, x >= 0 ? T(1) / (T(1) + exp(-x)) : exp(x) / (T(1) + exp(x)))
TG_CUDA_FLOAT_UNARY(Softplus, x > T(20) ? x : (x < T(-20) ? exp(x) : log1p(exp(x))))
TG_CUDA_FLOAT_UNARY(Gelu, T(0.5) * x * (T(1) + erf(x * T(0.70710678118654752440))))
TG_CUDA_FLOAT_UNARY(Erf, erf(x))
TG_CUDA_FLOAT_UNARY(Floor, floor(x))
TG_CUDA_FLOAT_UNARY(Ceil, ceil(x))
TG_CUDA_FLOAT_UNARY(Round, rint(x))  // half to even, as numpy (and nearbyint on the CPU)
#undef TG_CUDA_FLOAT_UNARY
struct ReluF {
  template <class T>
  __device__ static T f(T x) {
    if constexpr (kIsBool<T>) return x;
    else return x > T(0) ? x : (x != x ? x : T(0));
  }
};
struct BitNotF {
  template <class T>
  __device__ static T f(T x) {
    if constexpr (kIsBool<T>) return !x;
    else if constexpr (kIsInt<T>) return T(~x);
    else return x;
  }
};

struct IsNanF {
  template <class T>
  __device__ static bool f(T x) {
    if constexpr (kIsFloat<T>) return x != x;
    else return false;
  }
};
struct IsFiniteF {
  template <class T>
  __device__ static bool f(T x) {
    if constexpr (kIsFloat<T>) return isfinite(x);
    else return true;
  }
};
struct SignBitF {
  template <class T>
  __device__ static bool f(T x) {
    if constexpr (kIsFloat<T>) return signbit(x);
    else if constexpr (kIsInt<T> && std::is_signed<T>::value) return x < T(0);
    else return false;
  }
};
struct LogicalNotF {
  template <class T>
  __device__ static bool f(T x) {
    return !(x != T(0));
  }
};

// ---- kernels ------------------------------------------------------------------------------------
// Grid-stride loops over the flat output index (Note [CUDA iteration]).
template <class F, class T, class R>
__global__ void binary_kernel(const Iter it) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < it.numel; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[3];
    offsets<3>(it, i, off);
    *reinterpret_cast<R*>(it.ptr[0] + off[0]) = F::f(load<T>(it, 1, off[1]), load<T>(it, 2, off[2]));
  }
}

template <class F, class T, class R>
__global__ void unary_kernel(const Iter it) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < it.numel; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[2];
    offsets<2>(it, i, off);
    *reinterpret_cast<R*>(it.ptr[0] + off[0]) = F::f(load<T>(it, 1, off[1]));
  }
}

template <class T>
__global__ void clip_kernel(const Iter it) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < it.numel; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[4];
    offsets<4>(it, i, off);
    const T x = load<T>(it, 1, off[1]), lo = load<T>(it, 2, off[2]), hi = load<T>(it, 3, off[3]);
    T r = x < lo ? lo : x;
    r = r > hi ? hi : r;
    if constexpr (kIsFloat<T>) {
      if (lo != lo) r = lo;
      if (hi != hi) r = hi;
    }
    *reinterpret_cast<T*>(it.ptr[0] + off[0]) = r;
  }
}

// Selection moves bytes: one kernel per item size.
template <class B>
__global__ void where_kernel(const Iter it) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < it.numel; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[4];
    offsets<4>(it, i, off);
    *reinterpret_cast<B*>(it.ptr[0] + off[0]) =
        load<bool>(it, 1, off[1]) ? load<B>(it, 2, off[2]) : load<B>(it, 3, off[3]);
  }
}

// ---- casts --------------------------------------------------------------------------------------
template <class T>
struct Wide {
  using type = T;
};
template <>
struct Wide<H16> {
  using type = float;
};

template <class From>
__device__ __forceinline__ typename Wide<From>::type widen(From v) {
  if constexpr (std::is_same<From, H16>::value) return __half2float(__ushort_as_half(v.bits));
  else return v;
}

// As the CPU's convert (kernels/cpu/loops_impl.h): half through float, bool as != 0, float -> int
// saturating with NaN to the minimum.
template <class To, class From>
__device__ __forceinline__ To convert(From v0) {
  const auto v = widen(v0);
  using W = decltype(v);
  if constexpr (std::is_same<To, H16>::value) {
    return H16{__half_as_ushort(__float2half_rn(float(v)))};
  } else if constexpr (std::is_same<To, bool>::value) {
    return v != W(0);
  } else if constexpr (std::is_integral<To>::value && std::is_floating_point<W>::value) {
    if (!(v == v)) return Lim<To>::lo;
    if (v >= W(Lim<To>::hi)) return Lim<To>::hi;
    if (v <= W(Lim<To>::lo)) return Lim<To>::lo;
    return To(v);
  } else {
    return To(v);
  }
}

template <class To, class From>
__global__ void cast_kernel(const Iter it) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < it.numel; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[2];
    offsets<2>(it, i, off);
    *reinterpret_cast<To*>(it.ptr[0] + off[0]) = convert<To>(load<From>(it, 1, off[1]));
  }
}

// ---- host side ----------------------------------------------------------------------------------
template <class K>
void launch(K kernel, const Iter& it, const char* what) {
  if (it.numel == 0) return;
  kernel<<<blocks_for(it.numel), kThreads, 0, stream()>>>(it);
  check_launch(what);
}

// The arithmetic dtypes (float16 is computed in float32 by the ops layer).
#define TG_CUDA_NUM(dt, what, ...)                                                         \
  switch (dt) {                                                                            \
    case DType::Bool: {                                                                    \
      using T = bool;                                                                      \
      __VA_ARGS__;                                                                         \
      break;                                                                               \
    }                                                                                      \
    case DType::Int32: {                                                                   \
      using T = int32_t;                                                                   \
      __VA_ARGS__;                                                                         \
      break;                                                                               \
    }                                                                                      \
    case DType::Int64: {                                                                   \
      using T = int64_t;                                                                   \
      __VA_ARGS__;                                                                         \
      break;                                                                               \
    }                                                                                      \
    case DType::Float32: {                                                                 \
      using T = float;                                                                     \
      __VA_ARGS__;                                                                         \
      break;                                                                               \
    }                                                                                      \
    case DType::Float64: {                                                                 \
      using T = double;                                                                    \
      __VA_ARGS__;                                                                         \
      break;                                                                               \
    }                                                                                      \
    default: fail(kType, "%s: dtype %s is not supported on the GPU", what, dtype_str(dt)); \
  }

template <class F>
void run_binary(const Iter& it, DType dt) {
  TG_CUDA_NUM(dt, "binary", launch(binary_kernel<F, T, T>, it, "binary"));
}
template <class F>
void run_compare(const Iter& it, DType dt) {
  TG_CUDA_NUM(dt, "compare", launch(binary_kernel<F, T, bool>, it, "compare"));
}
template <class F>
void run_unary(const Iter& it, DType dt) {
  TG_CUDA_NUM(dt, "unary", launch(unary_kernel<F, T, T>, it, "unary"));
}
template <class F>
void run_predicate(const Iter& it, DType dt) {
  TG_CUDA_NUM(dt, "predicate", launch(unary_kernel<F, T, bool>, it, "predicate"));
}

template <class To>
void run_cast_to(const Iter& it, DType from) {
  switch (from) {
    case DType::Bool: launch(cast_kernel<To, bool>, it, "copy"); break;
    case DType::Int32: launch(cast_kernel<To, int32_t>, it, "copy"); break;
    case DType::Int64: launch(cast_kernel<To, int64_t>, it, "copy"); break;
    case DType::Float16: launch(cast_kernel<To, H16>, it, "copy"); break;
    case DType::Float32: launch(cast_kernel<To, float>, it, "copy"); break;
    case DType::Float64: launch(cast_kernel<To, double>, it, "copy"); break;
    // The integer dtypes beyond Int32/Int64 have no GPU kernels yet (a copy of one dtype is a
    // memcpy and never comes here).
    default: fail(kType, "copy: dtype %s is not supported on the GPU", dtype_str(from));
  }
}

void run_cast(const Iter& it, DType to, DType from) {
  switch (to) {
    case DType::Bool: run_cast_to<bool>(it, from); break;
    case DType::Int32: run_cast_to<int32_t>(it, from); break;
    case DType::Int64: run_cast_to<int64_t>(it, from); break;
    case DType::Float16: run_cast_to<H16>(it, from); break;
    case DType::Float32: run_cast_to<float>(it, from); break;
    case DType::Float64: run_cast_to<double>(it, from); break;
    default: fail(kType, "copy: dtype %s is not supported on the GPU", dtype_str(to));
  }
}

}  // namespace

void binary(Bin op, const Tensor& out, const Tensor& a, const Tensor& b) {
  const Tensor* ops[3] = {&out, &a, &b};
  const Iter it = make_iter(ops, 3, "binary");
  const DType dt = out.dtype();
  switch (op) {
#define TG_BINARY_OP(Id, ...) \
  case Bin::Id: run_binary<Id##F>(it, dt); break;
#include "core/elementwise_ops.def"
    case Bin::kCount: break;
  }
}

void compare(Cmp op, const Tensor& out, const Tensor& a, const Tensor& b) {
  const Tensor* ops[3] = {&out, &a, &b};
  const Iter it = make_iter(ops, 3, "compare");
  const DType dt = a.dtype();
  switch (op) {
#define TG_COMPARE_OP(Id, ...) \
  case Cmp::Id: run_compare<Id##F>(it, dt); break;
#include "core/elementwise_ops.def"
    case Cmp::kCount: break;
  }
}

void unary(Un op, const Tensor& out, const Tensor& a) {
  const Tensor* ops[2] = {&out, &a};
  const Iter it = make_iter(ops, 2, "unary");
  const DType dt = out.dtype();
  switch (op) {
#define TG_UNARY_OP(Id, ...) \
  case Un::Id: run_unary<Id##F>(it, dt); break;
#include "core/elementwise_ops.def"
    case Un::kCount: break;
  }
}

void predicate(Pred op, const Tensor& out, const Tensor& a) {
  const Tensor* ops[2] = {&out, &a};
  const Iter it = make_iter(ops, 2, "predicate");
  const DType dt = a.dtype();
  switch (op) {
#define TG_PREDICATE_OP(Id, ...) \
  case Pred::Id: run_predicate<Id##F>(it, dt); break;
#include "core/elementwise_ops.def"
    case Pred::kCount: break;
  }
}

void clip(const Tensor& out, const Tensor& x, const Tensor& lo, const Tensor& hi) {
  const Tensor* ops[4] = {&out, &x, &lo, &hi};
  const Iter it = make_iter(ops, 4, "clip");
  TG_CUDA_NUM(out.dtype(), "clip", launch(clip_kernel<T>, it, "clip"));
}

void where(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b) {
  const Tensor* ops[4] = {&out, &cond, &a, &b};
  const Iter it = make_iter(ops, 4, "where");
  switch (itemsize(out.dtype())) {
    case 1: launch(where_kernel<uint8_t>, it, "where"); break;
    case 2: launch(where_kernel<uint16_t>, it, "where"); break;
    case 4: launch(where_kernel<uint32_t>, it, "where"); break;
    default: launch(where_kernel<uint64_t>, it, "where"); break;
  }
}

void copy(const Tensor& out, const Tensor& src) {
  const Tensor* ops[2] = {&out, &src};
  const Iter it = make_iter(ops, 2, "copy");
  run_cast(it, out.dtype(), src.dtype());
}

void fill(const Tensor& out, double value) {
  // A cast from one float64 passed by value (the CPU kernel's fill is the same cast).
  const Tensor* ops[1] = {&out};
  Iter it = make_iter(ops, 1, "fill");
  it.nops = 2;
  it.is_scalar[1] = true;
  it.ptr[1] = nullptr;
  static_assert(sizeof(double) == 8, "scalar slot");
  __builtin_memcpy(it.scalar[1], &value, 8);
  for (int d = 0; d < it.ndim; ++d) it.stride[1][d] = 0;
  run_cast(it, out.dtype(), DType::Float64);
}

}  // namespace cuda
}  // namespace kernels
}  // namespace tapegrad
