// The elementwise loops of Complex64/Complex128 (std::complex storage): plain loops compiled once
// with the baseline flags and installed into every ISA table, as kernels/cpu/small_ints.cpp does
// for the narrow integers. Only the ops whose complex meaning numpy defines and that the ops layer
// lets through (complex_capable in ops/elementwise.cpp) get a loop; the others keep a null entry,
// which the CPU entry points turn into a TypeError.
#define TG_ISA_NS isa_complex
#include <complex>
#include <limits>

#include "kernels/cpu/loops_impl.h"

namespace tapegrad {
namespace kernels {
namespace cpu {
namespace isa_complex {
namespace {

template <class C>
using R = typename C::value_type;

struct CAddF {
  template <class C>
  static C f(C a, C b) {
    return a + b;
  }
};
struct CSubF {
  template <class C>
  static C f(C a, C b) {
    return a - b;
  }
};
// numpy's (and the Array API's) plain product (ac - bd) + (ad + bc)i, without C's recovery of
// infinities from NaN parts (numpy's 1j * (inf + inf j) is nan + nan j).
struct CMulF {
  template <class C>
  static C f(C a, C b) {
    return C(a.real() * b.real() - a.imag() * b.imag(), a.real() * b.imag() + a.imag() * b.real());
  }
};
// numpy's quotient (Smith's method, scaled by the larger part of the divisor; a zero divisor gives
// the parts divided by zero).
struct CDivF {
  template <class C>
  static C f(C a, C b) {
    using T = R<C>;
    const T ar = a.real(), ai = a.imag(), br = b.real(), bi = b.imag();
    const T abr = std::fabs(br), abi = std::fabs(bi);
    if (abr >= abi) {
      if (abr == 0 && abi == 0) return C(ar / abr, ai / abr);
      const T rat = bi / br, scl = T(1) / (br + bi * rat);
      return C((ar + ai * rat) * scl, (ai - ar * rat) * scl);
    }
    const T rat = br / bi, scl = T(1) / (bi + br * rat);
    return C((ar * rat + ai) * scl, (ai * rat - ar) * scl);
  }
};
// z**w as numpy: small integral real exponents by repeated squaring (exact for Gaussian
// integers, and 0**n == 0 for n > 0), 0**w with Re(w) > 0 and Im(w) == 0 gives 0, else exp(w log z).
struct CPowF {
  template <class C>
  static C f(C a, C b) {
    using T = R<C>;
    if (b.imag() == T(0)) {
      const T e = b.real();
      if (e == std::floor(e) && std::fabs(e) <= T(100)) {
        int64_t n = int64_t(std::fabs(e));
        C r(1), x = a;
        while (n) {
          if (n & 1) r *= x;
          x *= x;
          n >>= 1;
        }
        return e < 0 ? C(1) / r : r;
      }
      if (a == C(0) && e > 0) return C(0);
    }
    return std::pow(a, b);
  }
};
struct CEqF {
  template <class C>
  static bool f(C a, C b) {
    return a == b;
  }
};
struct CNeF {
  template <class C>
  static bool f(C a, C b) {
    return a != b;
  }
};
struct CNegF {
  template <class C>
  static C f(C a) {
    return -a;
  }
};
struct CExpF {
  template <class C>
  static C f(C a) {
    return std::exp(a);
  }
};
struct CLogF {
  template <class C>
  static C f(C a) {
    return std::log(a);
  }
};
struct CSqrtF {
  template <class C>
  static C f(C a) {
    return std::sqrt(a);
  }
};
struct CSquareF {
  template <class C>
  static C f(C a) {
    return a * a;
  }
};
// numpy's nc_reciprocal (Smith's method): 1 / 0 is nan + nan i, and zeros keep numpy's signs.
struct CReciprocalF {
  template <class C>
  static C f(C a) {
    using T = R<C>;
    const T x = a.real(), y = a.imag();
    if (std::fabs(y) <= std::fabs(x)) {
      const T r = y / x, d = x + y * r;
      return C(T(1) / d, -r / d);
    }
    const T r = x / y, d = x * r + y;
    return C(r / d, T(-1) / d);
  }
};
struct CSinF {
  template <class C>
  static C f(C a) {
    return std::sin(a);
  }
};
struct CCosF {
  template <class C>
  static C f(C a) {
    return std::cos(a);
  }
};
struct CTanhF {
  template <class C>
  static C f(C a) {
    return std::tanh(a);
  }
};
// The functions below follow numpy's complex loops (umath's nc_* functions): the C library's
// complex functions (C99 Annex G branch cuts and special values, the Array API's too) where numpy
// calls them, and numpy's own formulas for expm1, log1p, exp2 and log2.
struct CRsqrtF {
  template <class C>
  static C f(C a) {
    return C(1) / std::sqrt(a);
  }
};
// exp(z ln 2), as numpy
struct CExp2F {
  template <class C>
  static C f(C a) {
    using T = R<C>;
    const T ln2 = T(0.693147180559945309417232121458176568L);
    return std::exp(C(a.real() * ln2, a.imag() * ln2));
  }
};
// log(z) / ln 2, part by part (a complex product would turn log(0) = -inf + 0i into -inf + nan i)
struct CLog2F {
  template <class C>
  static C f(C a) {
    using T = R<C>;
    const T log2e = T(1.44269504088896340735992468100189214L);
    const C l = std::log(a);
    return C(l.real() * log2e, l.imag() * log2e);
  }
};
// numpy's nc_log1p: log|1 + z| + i arg(1 + z)
struct CLog1pF {
  template <class C>
  static C f(C a) {
    const auto re = a.real() + 1;
    return C(std::log(std::hypot(re, a.imag())), std::atan2(a.imag(), re));
  }
};
// numpy's nc_expm1: expm1(x) cos y - 2 sin^2(y / 2) + i e^x sin y (accurate near 0)
struct CExpm1F {
  template <class C>
  static C f(C a) {
    using T = R<C>;
    const T h = std::sin(a.imag() / 2);
    return C(std::expm1(a.real()) * std::cos(a.imag()) - 2 * h * h, std::exp(a.real()) * std::sin(a.imag()));
  }
};
struct CTanF {
  template <class C>
  static C f(C a) {
    return std::tan(a);
  }
};
struct CArcsinF {
  template <class C>
  static C f(C a) {
    return std::asin(a);
  }
};
struct CArccosF {
  template <class C>
  static C f(C a) {
    return std::acos(a);
  }
};
struct CArctanF {
  template <class C>
  static C f(C a) {
    return std::atan(a);
  }
};
struct CSinhF {
  template <class C>
  static C f(C a) {
    return std::sinh(a);
  }
};
struct CCoshF {
  template <class C>
  static C f(C a) {
    return std::cosh(a);
  }
};
// z / |z| (numpy 2, the Array API): 0 at 0; an infinite part gives the unit number in its
// direction whatever the other part (NaN when both are infinite), else a NaN part gives NaN.
struct CSignF {
  template <class C>
  static C f(C a) {
    using T = R<C>;
    const T x = a.real(), y = a.imag();
    const T nan = std::numeric_limits<T>::quiet_NaN();
    if (std::isinf(x)) return std::isinf(y) ? C(nan, nan) : C(std::copysign(T(1), x), T(0));
    if (std::isinf(y)) return C(T(0), std::copysign(T(1), y));
    if (std::isnan(x) || std::isnan(y)) return C(nan, nan);
    if (x == 0 && y == 0) return C(0);
    const T m = std::hypot(x, y);
    return C(x / m, y / m);
  }
};
// numpy rounds the two parts (half to even)
struct CRoundF {
  template <class C>
  static C f(C a) {
    return C(std::nearbyint(a.real()), std::nearbyint(a.imag()));
  }
};
struct CIsNanF {
  template <class C>
  static bool f(C a) {
    return std::isnan(a.real()) || std::isnan(a.imag());
  }
};
struct CIsFiniteF {
  template <class C>
  static bool f(C a) {
    return std::isfinite(a.real()) && std::isfinite(a.imag());
  }
};
struct CLogicalNotF {
  template <class C>
  static bool f(C a) {
    return a == C(0);
  }
};

// Complex -> real: the real part (ops::cast_any, behind ops::real and the sweeps' dtype fixes;
// the public astype refuses it before a kernel runs).
template <class To, class C>
void real_part_loop(char** p, const int64_t* s, int64_t n) {
  char* po = p[0];
  const char* pa = p[1];
  for (int64_t i = 0; i < n; ++i, po += s[0], pa += s[1])
    *reinterpret_cast<To*>(po) = convert<To>(reinterpret_cast<const C*>(pa)->real());
}

template <class C>
void fill_real_part_casts(IsaTable& t) {
  constexpr int d = int(dtype_of<C>::value);
  t.cast[int(DType::Bool)][d] = &real_part_loop<bool, C>;
  t.cast[int(DType::Int32)][d] = &real_part_loop<int32_t, C>;
  t.cast[int(DType::Int64)][d] = &real_part_loop<int64_t, C>;
  t.cast[int(DType::Float16)][d] = &real_part_loop<Half, C>;
  t.cast[int(DType::Float32)][d] = &real_part_loop<float, C>;
  t.cast[int(DType::Float64)][d] = &real_part_loop<double, C>;
  t.cast[int(DType::Int8)][d] = &real_part_loop<int8_t, C>;
  t.cast[int(DType::Int16)][d] = &real_part_loop<int16_t, C>;
  t.cast[int(DType::UInt8)][d] = &real_part_loop<uint8_t, C>;
  t.cast[int(DType::UInt16)][d] = &real_part_loop<uint16_t, C>;
  t.cast[int(DType::UInt32)][d] = &real_part_loop<uint32_t, C>;
  t.cast[int(DType::UInt64)][d] = &real_part_loop<uint64_t, C>;
}

template <class C>
void fill_column(IsaTable& t) {
  constexpr int d = int(dtype_of<C>::value);
  t.binary[int(Bin::Add)][d] = &bin_loop<CAddF, C, C>;
  t.binary[int(Bin::Sub)][d] = &bin_loop<CSubF, C, C>;
  t.binary[int(Bin::Mul)][d] = &bin_loop<CMulF, C, C>;
  t.binary[int(Bin::Div)][d] = &bin_loop<CDivF, C, C>;
  t.binary[int(Bin::Pow)][d] = &bin_loop<CPowF, C, C>;
  t.compare[int(Cmp::Eq)][d] = &bin_loop<CEqF, C, bool>;
  t.compare[int(Cmp::Ne)][d] = &bin_loop<CNeF, C, bool>;
  t.unary[int(Un::Neg)][d] = &un_loop<CNegF, C, C>;
  t.unary[int(Un::Exp)][d] = &un_loop<CExpF, C, C>;
  t.unary[int(Un::Log)][d] = &un_loop<CLogF, C, C>;
  t.unary[int(Un::Sqrt)][d] = &un_loop<CSqrtF, C, C>;
  t.unary[int(Un::Square)][d] = &un_loop<CSquareF, C, C>;
  t.unary[int(Un::Reciprocal)][d] = &un_loop<CReciprocalF, C, C>;
  t.unary[int(Un::Sin)][d] = &un_loop<CSinF, C, C>;
  t.unary[int(Un::Cos)][d] = &un_loop<CCosF, C, C>;
  t.unary[int(Un::Tanh)][d] = &un_loop<CTanhF, C, C>;
  t.unary[int(Un::Rsqrt)][d] = &un_loop<CRsqrtF, C, C>;
  t.unary[int(Un::Exp2)][d] = &un_loop<CExp2F, C, C>;
  t.unary[int(Un::Log2)][d] = &un_loop<CLog2F, C, C>;
  t.unary[int(Un::Log1p)][d] = &un_loop<CLog1pF, C, C>;
  t.unary[int(Un::Expm1)][d] = &un_loop<CExpm1F, C, C>;
  t.unary[int(Un::Tan)][d] = &un_loop<CTanF, C, C>;
  t.unary[int(Un::Arcsin)][d] = &un_loop<CArcsinF, C, C>;
  t.unary[int(Un::Arccos)][d] = &un_loop<CArccosF, C, C>;
  t.unary[int(Un::Arctan)][d] = &un_loop<CArctanF, C, C>;
  t.unary[int(Un::Sinh)][d] = &un_loop<CSinhF, C, C>;
  t.unary[int(Un::Cosh)][d] = &un_loop<CCoshF, C, C>;
  t.unary[int(Un::Sign)][d] = &un_loop<CSignF, C, C>;
  t.unary[int(Un::Round)][d] = &un_loop<CRoundF, C, C>;
  t.predicate[int(Pred::IsNan)][d] = &un_loop<CIsNanF, C, bool>;
  t.predicate[int(Pred::IsFinite)][d] = &un_loop<CIsFiniteF, C, bool>;
  t.predicate[int(Pred::LogicalNot)][d] = &un_loop<CLogicalNotF, C, bool>;
  t.where[d] = &where_loop<C>;
  // Casts into complex from every dtype.
  Loop* row = t.cast[d];
  row[int(DType::Bool)] = &cast_loop<C, bool>;
  row[int(DType::Int32)] = &cast_loop<C, int32_t>;
  row[int(DType::Int64)] = &cast_loop<C, int64_t>;
  row[int(DType::Float16)] = &cast_loop<C, Half>;
  row[int(DType::Float32)] = &cast_loop<C, float>;
  row[int(DType::Float64)] = &cast_loop<C, double>;
  row[int(DType::Int8)] = &cast_loop<C, int8_t>;
  row[int(DType::Int16)] = &cast_loop<C, int16_t>;
  row[int(DType::UInt8)] = &cast_loop<C, uint8_t>;
  row[int(DType::UInt16)] = &cast_loop<C, uint16_t>;
  row[int(DType::UInt32)] = &cast_loop<C, uint32_t>;
  row[int(DType::UInt64)] = &cast_loop<C, uint64_t>;
  row[int(DType::Complex64)] = &cast_loop<C, std::complex<float>>;
  row[int(DType::Complex128)] = &cast_loop<C, std::complex<double>>;
}

}  // namespace
}  // namespace isa_complex

void install_complex(IsaTable& t) {
  isa_complex::fill_column<std::complex<float>>(t);
  isa_complex::fill_column<std::complex<double>>(t);
  isa_complex::fill_real_part_casts<std::complex<float>>(t);
  isa_complex::fill_real_part_casts<std::complex<double>>(t);
}

}  // namespace cpu
}  // namespace kernels
}  // namespace tapegrad
