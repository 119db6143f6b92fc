// Included only by loops_<isa>.cpp, inside namespace TG_ISA_NS.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "kernels/cpu/loops.h"
#if defined(__AVX2__) && !defined(TAPEGRAD_NO_X86_SIMD)
#include <immintrin.h>
#endif

namespace tapegrad {
namespace kernels {
namespace cpu {
namespace TG_ISA_NS {

template <class T>
using Acc = std::conditional_t<std::is_same<T, bool>::value, int, T>;

// Integer arithmetic wraps modulo 2^bits as numpy's does; it goes through the unsigned type so
// that overflow is defined behaviour in C++ too (no UB for the optimiser or UBSan to act on).
// Types narrower than unsigned int compute in unsigned int: their own unsigned type would be
// promoted to (signed) int, where 65535 * 65535 overflows. The conversion back to T is modulo
// 2^bits (C++17 implementation-defined for signed T, two's complement on every compiler we build with).
template <class T>
using WrapU = std::conditional_t<(sizeof(T) < sizeof(unsigned)), unsigned, std::make_unsigned_t<T>>;
template <class T>
inline T wrap_add(T a, T b) {
  using U = WrapU<T>;
  return T(U(a) + U(b));
}
template <class T>
inline T wrap_sub(T a, T b) {
  using U = WrapU<T>;
  return T(U(a) - U(b));
}
template <class T>
inline T wrap_mul(T a, T b) {
  using U = WrapU<T>;
  return T(U(a) * U(b));
}
template <class T>
inline T wrap_neg(T a) {
  using U = WrapU<T>;
  return T(U(0) - U(a));
}
// x < 0 for any arithmetic T, without the always-false comparison warning for unsigned types.
template <class T>
constexpr bool is_neg(T x) {
  if constexpr (std::is_unsigned<T>::value) return false;
  else return x < T(0);
}

// ---- binary ------------------------------------------------------------------------------
struct AddF {
  template <class T>
  static T f(T a, T b) {
    if constexpr (std::is_same<T, bool>::value) return a || b;
    else if constexpr (std::is_integral<T>::value) return wrap_add(a, b);
    else return a + b;
  }
};
struct SubF {
  template <class T>
  static T f(T a, T b) {
    if constexpr (std::is_same<T, bool>::value) return a != b;
    else if constexpr (std::is_integral<T>::value) return wrap_sub(a, b);
    else return a - b;
  }
};
struct MulF {
  template <class T>
  static T f(T a, T b) {
    if constexpr (std::is_same<T, bool>::value) return a && b;
    else if constexpr (std::is_integral<T>::value) return wrap_mul(a, b);
    else return a * b;
  }
};
struct DivF {
  template <class T>
  static T f(T a, T b) {
    if constexpr (std::is_floating_point<T>::value) return a / b;
    else if constexpr (std::is_same<T, bool>::value) return a;
    else if constexpr (std::is_unsigned<T>::value) return b == 0 ? T(0) : T(a / b);
    else return b == 0 ? T(0) : (b == T(-1) ? wrap_neg(a) : T(a / b));
  }
};
// Integer floor division and modulo as numpy: x // 0 == 0 and x % 0 == 0 (numpy warns),
// INT_MIN // -1 == INT_MIN (wraps) and INT_MIN % -1 == 0 (never the CPU's division trap).
struct FloorDivF {
  template <class T>
  static T f(T a, T b) {
    if constexpr (std::is_floating_point<T>::value) {
      if (b == 0) return a / b;
      T m = std::fmod(a, b), d = (a - m) / b;
      if (m != 0 && ((b < 0) != (m < 0))) d -= 1;
      if (d == 0) return std::copysign(T(0), a / b);
      T fd = std::floor(d);
      if (d - fd > T(0.5)) fd += 1;
      return fd;
    } else if constexpr (std::is_same<T, bool>::value) {
      return a && b;
    } else if constexpr (std::is_unsigned<T>::value) {
      return b == 0 ? T(0) : T(a / b);
    } else {
      if (b == 0) return 0;
      if (b == T(-1)) return wrap_neg(a);
      T q = a / b;
      if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
      return q;
    }
  }
};
struct ModF {
  template <class T>
  static T f(T a, T b) {
    if constexpr (std::is_floating_point<T>::value) {
      if (b == 0) return std::fmod(a, b);
      T m = std::fmod(a, b);
      if (m != 0) {
        if ((b < 0) != (m < 0)) m += b;
      } else {
        m = std::copysign(T(0), b);
      }
      return m;
    } else if constexpr (std::is_same<T, bool>::value) {
      return false;
    } else if constexpr (std::is_unsigned<T>::value) {
      return b == 0 ? T(0) : T(a % b);
    } else {
      if (b == 0 || b == T(-1)) return 0;
      T m = a % b;
      if (m != 0 && ((m < 0) != (b < 0))) m += b;
      return m;
    }
  }
};
struct PowF {
  template <class T>
  static T f(T a, T b) {
    if constexpr (std::is_floating_point<T>::value) {
      // x ** 3 and x ** 4 (the powers of polynomials and of cubic residuals) by multiplication:
      // about 5x faster than pow, within 1.5 ulp of it, and the same at 0, -0, infinities and NaN.
      // (Only these two: each further multiplication adds error; 2, 0.5, -1 have their own fast
      // path in ops/elementwise.cpp; a negative n stays with pow, whose 1 / x^n does not overflow.)
      if (b == T(3)) return a * a * a;
      if (b == T(4)) {
        const T s = a * a;
        return s * s;
      }
      return std::pow(a, b);
    } else if constexpr (std::is_same<T, bool>::value) {
      return a || !b;
    } else {
      // Negative exponents are refused before the kernel runs (ops::binary), as numpy does; the
      // value here only keeps the loop defined.
      if constexpr (std::is_signed<T>::value)
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
// numpy's maximum/minimum: NaN in either operand propagates; on ties the second operand.
struct MaximumF {
  template <class T>
  static T f(T a, T b) {
    if constexpr (std::is_floating_point<T>::value) return (a > b || a != a) ? a : b;
    else return a > b ? a : b;
  }
};
struct MinimumF {
  template <class T>
  static T f(T a, T b) {
    if constexpr (std::is_floating_point<T>::value) return (a < b || a != a) ? a : b;
    else return a < b ? a : b;
  }
};
// numpy's clip: x if lo <= x <= hi (ties keep x, so clip(-0., 0., 1.) is -0.), hi if lo > hi;
// NaN in x or in a bound propagates.
struct ClipF {
  template <class T>
  static T f(T x, T lo, T hi) {
    T r = x < lo ? lo : x;
    r = r > hi ? hi : r;
    if constexpr (std::is_floating_point<T>::value) {
      if (lo != lo) r = lo;
      if (hi != hi) r = hi;
    }
    return r;
  }
};
struct Atan2F {
  template <class T>
  static T f(T a, T b) {
    if constexpr (std::is_floating_point<T>::value) return std::atan2(a, b);
    else return T(std::atan2(double(a), double(b)));
  }
};
// numpy.hypot: the C library's, exact to an ulp and free of overflow in the squares.
struct HypotF {
  template <class T>
  static T f(T a, T b) {
    if constexpr (std::is_floating_point<T>::value) return std::hypot(a, b);
    else return T(std::hypot(double(a), double(b)));
  }
};
// numpy.nextafter: the C library's (subnormals included: no flush to zero here).
struct NextAfterF {
  template <class T>
  static T f(T a, T b) {
    if constexpr (std::is_floating_point<T>::value) return std::nextafter(a, b);
    else return T(std::nextafter(double(a), double(b)));
  }
};
// numpy.logaddexp: the larger argument plus log1p(exp(-|a - b|)); equal arguments (two infinities
// of one sign included) give a + ln 2, a NaN propagates.
struct LogAddExpF {
  template <class T>
  static T f(T a, T b) {
    if constexpr (std::is_floating_point<T>::value) {
      if (a == b) return a + T(0.693147180559945309417232121458176568);
      const T d = a - b;
      if (d > 0) return a + std::log1p(std::exp(-d));
      if (d <= 0) return b + std::log1p(std::exp(d));
      return d;  // NaN
    } else {
      return T(f(double(a), double(b)));
    }
  }
};
struct BitAndF {
  template <class T>
  static T f(T a, T b) {
    if constexpr (std::is_integral<T>::value) return T(a & b);
    else return a;
  }
};
struct BitOrF {
  template <class T>
  static T f(T a, T b) {
    if constexpr (std::is_integral<T>::value) return T(a | b);
    else return a;
  }
};
struct BitXorF {
  template <class T>
  static T f(T a, T b) {
    if constexpr (std::is_integral<T>::value) return T(a ^ b);
    else return a;
  }
};

// ---- comparisons (Bool out) ----------------------------------------------------------------
struct EqF {
  template <class T>
  static bool f(T a, T b) {
    return a == b;
  }
};
struct NeF {
  template <class T>
  static bool f(T a, T b) {
    return a != b;
  }
};
struct LtF {
  template <class T>
  static bool f(T a, T b) {
    return a < b;
  }
};
struct LeF {
  template <class T>
  static bool f(T a, T b) {
    return a <= b;
  }
};
struct GtF {
  template <class T>
  static bool f(T a, T b) {
    return a > b;
  }
};
struct GeF {
  template <class T>
  static bool f(T a, T b) {
    return a >= b;
  }
};
struct LogicalAndF {
  template <class T>
  static bool f(T a, T b) {
    return (a != T(0)) && (b != T(0));
  }
};
struct LogicalOrF {
  template <class T>
  static bool f(T a, T b) {
    return (a != T(0)) || (b != T(0));
  }
};

// ---- unary -------------------------------------------------------------------------------
#define TG_FLOAT_UNARY(Name, expr)                      \
  struct Name##F {                                      \
    template <class T>                                  \
    static T f(T x) {                                   \
      if constexpr (std::is_floating_point<T>::value) { \
        return expr;                                    \
      } else {                                          \
        return x;                                       \
      }                                                 \
    }                                                   \
  };
struct NegF {
  template <class T>
  static T f(T x) {
    if constexpr (std::is_same<T, bool>::value) return !x;
    else if constexpr (std::is_integral<T>::value) return wrap_neg(x);
    else return T(-x);
  }
};
struct AbsF {
  template <class T>
  static T f(T x) {
    if constexpr (std::is_same<T, bool>::value) return x;
    else if constexpr (std::is_floating_point<T>::value) return std::fabs(x);
    else return is_neg(x) ? wrap_neg(x) : x;
  }
};
struct SignF {
  template <class T>
  static T f(T x) {
    if constexpr (std::is_same<T, bool>::value) return x;
    else if constexpr (std::is_floating_point<T>::value) return x != x ? x : T((x > 0) - (x < 0));
    else return T(int(x > 0) - int(is_neg(x)));
  }
};
// Integer reciprocal as numpy: 1 / x truncated (0 for |x| > 1; 0 for x == 0, where numpy warns).
struct ReciprocalF {
  template <class T>
  static T f(T x) {
    if constexpr (std::is_floating_point<T>::value) return T(1) / x;
    else if constexpr (std::is_same<T, bool>::value) return x;
    // numpy computes 1.0 / x and converts it back: 1/0 is inf, which x86-64 converts to the
    // 'integer indefinite' value, INT_MIN, for 32- and 64-bit destinations; the narrower
    // integers convert through a 32-bit int and keep its low bits, 0 (as the unsigned do).
    else if constexpr (std::is_signed<T>::value && sizeof(T) >= 4)
      return x == 0 ? std::numeric_limits<T>::min() : T(T(1) / x);
    else return x == 0 ? T(0) : T(T(1) / x);
  }
};
struct SquareF {
  template <class T>
  static T f(T x) {
    if constexpr (std::is_same<T, bool>::value) return x;
    else if constexpr (std::is_integral<T>::value) return wrap_mul(x, x);
    else return x * x;
  }
};
TG_FLOAT_UNARY(Exp, std::exp(x))
TG_FLOAT_UNARY(Exp2, std::exp2(x))
TG_FLOAT_UNARY(Log, std::log(x))
TG_FLOAT_UNARY(Log2, std::log2(x))
TG_FLOAT_UNARY(Log1p, std::log1p(x))
TG_FLOAT_UNARY(Expm1, std::expm1(x))
TG_FLOAT_UNARY(Sqrt, std::sqrt(x))
TG_FLOAT_UNARY(Rsqrt, T(1) / std::sqrt(x))
TG_FLOAT_UNARY(Sin, std::sin(x))
TG_FLOAT_UNARY(Cos, std::cos(x))
TG_FLOAT_UNARY(Tan, std::tan(x))
TG_FLOAT_UNARY(Arcsin, std::asin(x))
TG_FLOAT_UNARY(Arccos, std::acos(x))
TG_FLOAT_UNARY(Arctan, std::atan(x))
TG_FLOAT_UNARY(Sinh, std::sinh(x))
TG_FLOAT_UNARY(Cosh, std::cosh(x))
TG_FLOAT_UNARY(Tanh, std::tanh(x))
TG_FLOAT_UNARY(Sigmoid, x >= 0 ? T(1) / (T(1) + std::exp(-x)) : std::exp(x) / (T(1) + std::exp(x)))
TG_FLOAT_UNARY(Softplus, x > T(20) ? x : (x < T(-20) ? std::exp(x) : std::log1p(std::exp(x))))
TG_FLOAT_UNARY(Gelu, T(0.5) * x * (T(1) + std::erf(x * T(0.70710678118654752440))))
TG_FLOAT_UNARY(Erf, std::erf(x))
TG_FLOAT_UNARY(Floor, std::floor(x))
TG_FLOAT_UNARY(Ceil, std::ceil(x))
TG_FLOAT_UNARY(Round, std::nearbyint(x))
struct ReluF {
  template <class T>
  static T f(T x) {
    if constexpr (std::is_same<T, bool>::value) return x;
    else return x > T(0) ? x : (x != x ? x : T(0));
  }
};
struct BitNotF {
  template <class T>
  static T f(T x) {
    if constexpr (std::is_same<T, bool>::value) return !x;
    else if constexpr (std::is_integral<T>::value) return T(~x);
    else return x;
  }
};
#undef TG_FLOAT_UNARY

struct IsNanF {
  template <class T>
  static bool f(T x) {
    if constexpr (std::is_floating_point<T>::value) return x != x;
    else return false;
  }
};
struct IsFiniteF {
  template <class T>
  static bool f(T x) {
    if constexpr (std::is_floating_point<T>::value) return std::isfinite(x);
    else return true;
  }
};
// std::signbit reads the bit, so a NaN with its sign bit set counts as negative (numpy's answer).
struct SignBitF {
  template <class T>
  static bool f(T x) {
    if constexpr (std::is_floating_point<T>::value) return std::signbit(x);
    else if constexpr (std::is_signed<T>::value) return x < T(0);
    else return false;
  }
};
struct LogicalNotF {
  template <class T>
  static bool f(T x) {
    return !(x != T(0));
  }
};

// ---- loops -------------------------------------------------------------------------------
// Contiguous and scalar-broadcast runs get their own loops so that the compiler vectorises them.
template <class F, class T, class R>
void bin_loop(char** p, const int64_t* s, int64_t n) {
  R* __restrict o = reinterpret_cast<R*>(p[0]);
  const T* __restrict a = reinterpret_cast<const T*>(p[1]);
  const T* __restrict b = reinterpret_cast<const T*>(p[2]);
  constexpr int64_t so = sizeof(R), st = sizeof(T);
  if (s[0] == so && s[1] == st && s[2] == st) {
    for (int64_t i = 0; i < n; ++i) o[i] = F::f(a[i], b[i]);
  } else if (s[0] == so && s[1] == st && s[2] == 0) {
    const T bv = *b;
    for (int64_t i = 0; i < n; ++i) o[i] = F::f(a[i], bv);
  } else if (s[0] == so && s[1] == 0 && s[2] == st) {
    const T av = *a;
    for (int64_t i = 0; i < n; ++i) o[i] = F::f(av, b[i]);
  } else {
    const char* pa = p[1];
    const char* pb = p[2];
    char* po = p[0];
    for (int64_t i = 0; i < n; ++i, po += s[0], pa += s[1], pb += s[2])
      *reinterpret_cast<R*>(po) = F::f(*reinterpret_cast<const T*>(pa), *reinterpret_cast<const T*>(pb));
  }
}

template <class F, class T, class R>
void un_loop(char** p, const int64_t* s, int64_t n) {
  R* __restrict o = reinterpret_cast<R*>(p[0]);
  const T* __restrict a = reinterpret_cast<const T*>(p[1]);
  if (s[0] == int64_t(sizeof(R)) && s[1] == int64_t(sizeof(T))) {
    for (int64_t i = 0; i < n; ++i) o[i] = F::f(a[i]);
  } else {
    char* po = p[0];
    const char* pa = p[1];
    for (int64_t i = 0; i < n; ++i, po += s[0], pa += s[1])
      *reinterpret_cast<R*>(po) = F::f(*reinterpret_cast<const T*>(pa));
  }
}

template <class T>
void where_loop(char** p, const int64_t* s, int64_t n) {
  char* po = p[0];
  const char *pc = p[1], *pa = p[2], *pb = p[3];
  if (s[0] == int64_t(sizeof(T)) && s[1] == 1 && s[2] == int64_t(sizeof(T)) && s[3] == int64_t(sizeof(T))) {
    T* __restrict o = reinterpret_cast<T*>(po);
    const bool* __restrict c = reinterpret_cast<const bool*>(pc);
    const T* __restrict a = reinterpret_cast<const T*>(pa);
    const T* __restrict b = reinterpret_cast<const T*>(pb);
    for (int64_t i = 0; i < n; ++i) o[i] = c[i] ? a[i] : b[i];
    return;
  }
  for (int64_t i = 0; i < n; ++i, po += s[0], pc += s[1], pa += s[2], pb += s[3])
    *reinterpret_cast<T*>(po) =
        *reinterpret_cast<const bool*>(pc) ? *reinterpret_cast<const T*>(pa) : *reinterpret_cast<const T*>(pb);
}

template <class T>
void clip_loop(char** p, const int64_t* s, int64_t n) {
  constexpr int64_t st = int64_t(sizeof(T));
  if (s[0] == st && s[1] == st && s[2] == 0 && s[3] == 0) {  // scalar bounds: the common case
    T* __restrict o = reinterpret_cast<T*>(p[0]);
    const T* __restrict a = reinterpret_cast<const T*>(p[1]);
    const T lo = *reinterpret_cast<const T*>(p[2]);
    const T hi = *reinterpret_cast<const T*>(p[3]);
    for (int64_t i = 0; i < n; ++i) o[i] = ClipF::f(a[i], lo, hi);
    return;
  }
  char* po = p[0];
  const char *pa = p[1], *pl = p[2], *ph = p[3];
  for (int64_t i = 0; i < n; ++i, po += s[0], pa += s[1], pl += s[2], ph += s[3])
    *reinterpret_cast<T*>(po) =
        ClipF::f(*reinterpret_cast<const T*>(pa), *reinterpret_cast<const T*>(pl), *reinterpret_cast<const T*>(ph));
}

template <class To, class From>
inline To convert(From v) {
  if constexpr (std::is_same<From, Half>::value) {
    return convert<To>(half_to_float(v.bits));
  } else if constexpr (std::is_same<To, Half>::value) {
    return Half{float_to_half(float(v))};
  } else if constexpr (std::is_same<To, bool>::value) {
    return v != From(0);
  } else if constexpr (std::is_integral<To>::value && std::is_floating_point<From>::value) {
    // numpy leaves out-of-range float -> int undefined; we saturate and map NaN to the minimum.
    if (!(v == v)) return std::numeric_limits<To>::min();
    if (v >= From(std::numeric_limits<To>::max())) return std::numeric_limits<To>::max();
    if (v <= From(std::numeric_limits<To>::min())) return std::numeric_limits<To>::min();
    return To(v);
  } else {
    return To(v);
  }
}

template <class To, class From>
void cast_loop(char** p, const int64_t* s, int64_t n) {
  if (s[0] == int64_t(sizeof(To)) && s[1] == int64_t(sizeof(From))) {
    To* __restrict o = reinterpret_cast<To*>(p[0]);
    const From* __restrict a = reinterpret_cast<const From*>(p[1]);
    if constexpr (std::is_same<To, From>::value) {
      std::memcpy(o, a, size_t(n) * sizeof(To));
    } else {
      for (int64_t i = 0; i < n; ++i) o[i] = convert<To>(a[i]);
    }
    return;
  }
  char* po = p[0];
  const char* pa = p[1];
  for (int64_t i = 0; i < n; ++i, po += s[0], pa += s[1])
    *reinterpret_cast<To*>(po) = convert<To>(*reinterpret_cast<const From*>(pa));
}

// ---- table -------------------------------------------------------------------------------
template <class F, bool Cmp>
void fill_binary_row(Loop* row) {
  row[int(DType::Bool)] = Cmp ? &bin_loop<F, bool, bool> : &bin_loop<F, bool, bool>;
  if constexpr (Cmp) {
    row[int(DType::Int32)] = &bin_loop<F, int32_t, bool>;
    row[int(DType::Int64)] = &bin_loop<F, int64_t, bool>;
    row[int(DType::Float32)] = &bin_loop<F, float, bool>;
    row[int(DType::Float64)] = &bin_loop<F, double, bool>;
  } else {
    row[int(DType::Int32)] = &bin_loop<F, int32_t, int32_t>;
    row[int(DType::Int64)] = &bin_loop<F, int64_t, int64_t>;
    row[int(DType::Float32)] = &bin_loop<F, float, float>;
    row[int(DType::Float64)] = &bin_loop<F, double, double>;
  }
  row[int(DType::Float16)] = nullptr;
}

template <class F, bool Pred>
void fill_unary_row(Loop* row) {
  if constexpr (Pred) {
    row[int(DType::Bool)] = &un_loop<F, bool, bool>;
    row[int(DType::Int32)] = &un_loop<F, int32_t, bool>;
    row[int(DType::Int64)] = &un_loop<F, int64_t, bool>;
    row[int(DType::Float32)] = &un_loop<F, float, bool>;
    row[int(DType::Float64)] = &un_loop<F, double, bool>;
  } else {
    row[int(DType::Bool)] = &un_loop<F, bool, bool>;
    row[int(DType::Int32)] = &un_loop<F, int32_t, int32_t>;
    row[int(DType::Int64)] = &un_loop<F, int64_t, int64_t>;
    row[int(DType::Float32)] = &un_loop<F, float, float>;
    row[int(DType::Float64)] = &un_loop<F, double, double>;
  }
  row[int(DType::Float16)] = nullptr;
}

template <class To>
void fill_cast_row(Loop* row) {
  row[int(DType::Bool)] = &cast_loop<To, bool>;
  row[int(DType::Int32)] = &cast_loop<To, int32_t>;
  row[int(DType::Int64)] = &cast_loop<To, int64_t>;
  row[int(DType::Float16)] = &cast_loop<To, Half>;
  row[int(DType::Float32)] = &cast_loop<To, float>;
  row[int(DType::Float64)] = &cast_loop<To, double>;
}

// The columns of one of the integer dtypes that only the plain loops carry (is_small_int in
// core/dtype.h; kernels/cpu/small_ints.cpp compiles this once, for every ISA table): every
// elementwise op, where, clip, and the casts to and from every dtype.
template <class T>
void fill_small_int_column(IsaTable& t) {
  constexpr int d = int(dtype_of<T>::value);
#define TG_BINARY_OP(N, ...) t.binary[int(Bin::N)][d] = &bin_loop<N##F, T, T>;
#define TG_COMPARE_OP(N, ...) t.compare[int(Cmp::N)][d] = &bin_loop<N##F, T, bool>;
#define TG_UNARY_OP(N, ...) t.unary[int(Un::N)][d] = &un_loop<N##F, T, T>;
#define TG_PREDICATE_OP(N, ...) t.predicate[int(Pred::N)][d] = &un_loop<N##F, T, bool>;
#include "core/elementwise_ops.def"
  t.where[d] = &where_loop<T>;
  t.clip[d] = &clip_loop<T>;
  fill_cast_row<T>(t.cast[d]);
  t.cast[int(DType::Bool)][d] = &cast_loop<bool, T>;
  t.cast[int(DType::Int32)][d] = &cast_loop<int32_t, T>;
  t.cast[int(DType::Int64)][d] = &cast_loop<int64_t, T>;
  t.cast[int(DType::Float16)][d] = &cast_loop<Half, T>;
  t.cast[int(DType::Float32)][d] = &cast_loop<float, T>;
  t.cast[int(DType::Float64)][d] = &cast_loop<double, T>;
}

template <class To>
void fill_small_int_casts(Loop* row) {
  row[int(DType::Int8)] = &cast_loop<To, int8_t>;
  row[int(DType::Int16)] = &cast_loop<To, int16_t>;
  row[int(DType::UInt8)] = &cast_loop<To, uint8_t>;
  row[int(DType::UInt16)] = &cast_loop<To, uint16_t>;
  row[int(DType::UInt32)] = &cast_loop<To, uint32_t>;
  row[int(DType::UInt64)] = &cast_loop<To, uint64_t>;
}

inline void fill_small_ints(IsaTable& t) {
  fill_small_int_column<int8_t>(t);
  fill_small_int_column<int16_t>(t);
  fill_small_int_column<uint8_t>(t);
  fill_small_int_column<uint16_t>(t);
  fill_small_int_column<uint32_t>(t);
  fill_small_int_column<uint64_t>(t);
  // Between two of them (the rows above wrote only the first six columns).
  fill_small_int_casts<int8_t>(t.cast[int(DType::Int8)]);
  fill_small_int_casts<int16_t>(t.cast[int(DType::Int16)]);
  fill_small_int_casts<uint8_t>(t.cast[int(DType::UInt8)]);
  fill_small_int_casts<uint16_t>(t.cast[int(DType::UInt16)]);
  fill_small_int_casts<uint32_t>(t.cast[int(DType::UInt32)]);
  fill_small_int_casts<uint64_t>(t.cast[int(DType::UInt64)]);
}

// Byte-coded values (IsaTable::lookup): p[0][i] = table p[1][code p[2][i]], the table holding
// exactly kLookupBytes bytes (the zero-masked widenings: GCC 12 warns of the unmasked ones'
// undefined source). With AVX-512 eight (or sixteen) codes pick their values with one
// two-register permute, with AVX2 four (or eight) with four permutes and three blends; permutes
// and blends move bits, so the values are the table's exactly.
template <class E>
void lookup_loop(char** p, const int64_t*, int64_t n) {
  static_assert(sizeof(E) == 4 || sizeof(E) == 8, "lookup: 4- or 8-byte elements");
  E* o = reinterpret_cast<E*>(p[0]);
  const E* t = reinterpret_cast<const E*>(p[1]);
  const uint8_t* c = reinterpret_cast<const uint8_t*>(p[2]);
  int64_t i = 0;
#if defined(__AVX512F__) && !defined(TAPEGRAD_NO_X86_SIMD)
  if constexpr (sizeof(E) == 8) {
    const __m512i lo = _mm512_loadu_si512(t), hi = _mm512_loadu_si512(t + 8);
    for (; i + 8 <= n; i += 8) {
      const __m512i k = _mm512_maskz_cvtepu8_epi64(0xFF, _mm_loadl_epi64(reinterpret_cast<const __m128i*>(c + i)));
      _mm512_storeu_si512(o + i, _mm512_permutex2var_epi64(lo, k, hi));
    }
  } else {
    const __m512i lo = _mm512_loadu_si512(t), hi = _mm512_loadu_si512(t + 16);
    for (; i + 16 <= n; i += 16) {
      const __m512i k = _mm512_maskz_cvtepu8_epi32(0xFFFF, _mm_loadu_si128(reinterpret_cast<const __m128i*>(c + i)));
      _mm512_storeu_si512(o + i, _mm512_permutex2var_epi32(lo, k, hi));
    }
  }
#elif defined(__AVX2__) && !defined(TAPEGRAD_NO_X86_SIMD)
  // AVX2 permutes 32-bit lanes within one register: the table is four registers, each lane picks
  // from all four by its code's low bits, and the code's high bits choose among them by blends
  // (bitwise selects).
  if constexpr (sizeof(E) == 8) {
    const __m256i t0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t)),
                  t1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t + 4)),
                  t2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t + 8)),
                  t3 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t + 12));
    const __m256i three = _mm256_set1_epi64x(3), one = _mm256_set1_epi64x(1);
    for (; i + 4 <= n; i += 4) {
      int32_t w;
      std::memcpy(&w, c + i, 4);
      const __m256i k = _mm256_cvtepu8_epi64(_mm_cvtsi32_si128(w));
      const __m256i lo = _mm256_slli_epi64(_mm256_and_si256(k, three), 1);  // lanes 2 (c & 3), +1
      const __m256i ix = _mm256_or_si256(lo, _mm256_slli_epi64(_mm256_add_epi64(lo, one), 32));
      const __m256d p0 = _mm256_castsi256_pd(_mm256_permutevar8x32_epi32(t0, ix)),
                    p1 = _mm256_castsi256_pd(_mm256_permutevar8x32_epi32(t1, ix)),
                    p2 = _mm256_castsi256_pd(_mm256_permutevar8x32_epi32(t2, ix)),
                    p3 = _mm256_castsi256_pd(_mm256_permutevar8x32_epi32(t3, ix));
      const __m256d b2 = _mm256_castsi256_pd(_mm256_slli_epi64(k, 61)),
                    b3 = _mm256_castsi256_pd(_mm256_slli_epi64(k, 60));
      const __m256d r = _mm256_blendv_pd(_mm256_blendv_pd(p0, p1, b2), _mm256_blendv_pd(p2, p3, b2), b3);
      _mm256_storeu_pd(reinterpret_cast<double*>(o + i), r);
    }
  } else {
    const __m256i t0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t)),
                  t1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t + 8)),
                  t2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t + 16)),
                  t3 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t + 24));
    for (; i + 8 <= n; i += 8) {
      const __m256i k = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(c + i)));
      const __m256 p0 = _mm256_castsi256_ps(_mm256_permutevar8x32_epi32(t0, k)),
                   p1 = _mm256_castsi256_ps(_mm256_permutevar8x32_epi32(t1, k)),
                   p2 = _mm256_castsi256_ps(_mm256_permutevar8x32_epi32(t2, k)),
                   p3 = _mm256_castsi256_ps(_mm256_permutevar8x32_epi32(t3, k));
      const __m256 b3 = _mm256_castsi256_ps(_mm256_slli_epi32(k, 28)),
                   b4 = _mm256_castsi256_ps(_mm256_slli_epi32(k, 27));
      const __m256 r = _mm256_blendv_ps(_mm256_blendv_ps(p0, p1, b3), _mm256_blendv_ps(p2, p3, b3), b4);
      _mm256_storeu_ps(reinterpret_cast<float*>(o + i), r);
    }
  }
#endif
  for (; i < n; ++i) o[i] = t[c[i]];
}

inline IsaTable make_table(const char* name) {
  IsaTable t{};
  t.name = name;
  // One row per elementwise op of the table (core/elementwise_ops.def), computed by its functor IdF.
#define TG_BINARY_OP(N, ...) fill_binary_row<N##F, false>(t.binary[int(Bin::N)]);
#define TG_COMPARE_OP(N, ...) fill_binary_row<N##F, true>(t.compare[int(Cmp::N)]);
#define TG_UNARY_OP(N, ...) fill_unary_row<N##F, false>(t.unary[int(Un::N)]);
#define TG_PREDICATE_OP(N, ...) fill_unary_row<N##F, true>(t.predicate[int(Pred::N)]);
#include "core/elementwise_ops.def"
  t.where[int(DType::Bool)] = &where_loop<bool>;
  t.where[int(DType::Int32)] = &where_loop<int32_t>;
  t.where[int(DType::Int64)] = &where_loop<int64_t>;
  t.where[int(DType::Float16)] = &where_loop<Half>;
  t.where[int(DType::Float32)] = &where_loop<float>;
  t.where[int(DType::Float64)] = &where_loop<double>;
  t.clip[int(DType::Bool)] = &clip_loop<bool>;
  t.clip[int(DType::Int32)] = &clip_loop<int32_t>;
  t.clip[int(DType::Int64)] = &clip_loop<int64_t>;
  t.clip[int(DType::Float16)] = nullptr;
  t.clip[int(DType::Float32)] = &clip_loop<float>;
  t.clip[int(DType::Float64)] = &clip_loop<double>;
  fill_cast_row<bool>(t.cast[int(DType::Bool)]);
  fill_cast_row<int32_t>(t.cast[int(DType::Int32)]);
  fill_cast_row<int64_t>(t.cast[int(DType::Int64)]);
  fill_cast_row<Half>(t.cast[int(DType::Float16)]);
  fill_cast_row<float>(t.cast[int(DType::Float32)]);
  fill_cast_row<double>(t.cast[int(DType::Float64)]);
  t.lookup[0] = &lookup_loop<uint32_t>;
  t.lookup[1] = &lookup_loop<uint64_t>;
  return t;
}

}  // namespace TG_ISA_NS
}  // namespace cpu
}  // namespace kernels
}  // namespace tapegrad
