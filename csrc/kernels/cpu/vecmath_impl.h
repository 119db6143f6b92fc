// Vectorised transcendental functions for float32 and float64, compiled once per instruction set
// (vecmath_<isa>.cpp, inside namespace TG_ISA_NS so that no inline function or template compiled
// with AVX-512 flags can be picked by the linker for the baseline path).
//
// Note [Vector math]
// ~~~~~~~~~~~~~~~~~~
// Each function is written once over GCC vector-extension types whose width matches the ISA
// (16/32/64 bytes), so the same source gives SSE2, AVX2+FMA and AVX-512 code. The pattern:
//   1. range reduction to a small interval with exactly representable constant parts
//      (Cody-Waite), 2. a minimax polynomial on that interval, 3. reconstruction.
// The polynomial coefficients were fitted by Remez exchange in mpmath (60 digits, 3000
// Chebyshev-spaced points, minimising the relative error of the fitted form noted above each
// table) and rounded to the target precision; the maximum error of the fit is beside each table.
// Measured against mpmath on random and hard inputs, the maximum error is <= 2.5 ULP for every
// function and both precisions except tan (float64: 3 ULP) and gelu (<= 5 ULP: a long
// polynomial times exp in its tail); tests/test_elementwise.py checks it against numpy/libm on
// every SIMD path, with NaN, +-Inf, -0, huge and tiny inputs, and tests/test_simd.py across
// paths. Against numpy's float64/long double functions on a dense sample (400K-700K points per
// function over its range, each path) the largest errors seen were: float32 tan 2.8, gelu 3.8;
// float64 tan 2.7, sigmoid 2.7, gelu 4.6; everything else <= 2.4 ULP.
// Lanes outside a function's fast domain (NaN, Inf, overflow, results that are subnormal, huge
// arguments of sin) are flagged and recomputed with the scalar libm function, so special values
// behave exactly as libm (and numpy) do; the vector path never needs -ffast-math.
// float32 sin/cos/tan reduce large arguments in float64, and float32 pow works in float64.
// TG_VM_X86: x86 intrinsics for what the vector extensions do not spell (lane tests, sqrt). A
// build without the x86 SIMD paths (other CPUs; TAPEGRAD_X86_SIMD=OFF) uses portable forms.
#if (defined(__x86_64__) || defined(__i386__)) && !defined(TAPEGRAD_NO_X86_SIMD)
#define TG_VM_X86 1
#include <immintrin.h>
#endif

#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include "kernels/cpu/iter.h"

namespace tapegrad {
namespace kernels {
namespace cpu {
namespace TG_ISA_NS {
namespace vm {

// Everything below is inlined into the loops: a call would pass registers through memory.
#define TG_VM_INLINE inline __attribute__((always_inline))

#if defined(__AVX512F__)
constexpr int kVB = 64;
#elif defined(__AVX2__)
constexpr int kVB = 32;
#else
constexpr int kVB = 16;
#endif

typedef float VF __attribute__((vector_size(kVB)));
typedef int32_t VI32 __attribute__((vector_size(kVB)));
typedef uint32_t VU32 __attribute__((vector_size(kVB)));
typedef double VD __attribute__((vector_size(kVB)));
typedef int64_t VI64 __attribute__((vector_size(kVB)));
typedef uint64_t VU64 __attribute__((vector_size(kVB)));
// Half a register of float32 lanes (widened to float64 they fill one register).
typedef float VFh __attribute__((vector_size(kVB / 2)));
typedef uint32_t VU32h __attribute__((vector_size(kVB / 2)));

template <class V>
struct VInfo;
template <>
struct VInfo<VF> {
  using T = float;
  using I = VI32;
  using U = VU32;
};
template <>
struct VInfo<VD> {
  using T = double;
  using I = VI64;
  using U = VU64;
};

// ---- constants per precision ---------------------------------------------------------------
template <class T>
struct K;
template <>
struct K<float> {
  using UInt = uint32_t;
  static constexpr int kMant = 23;
  static constexpr UInt kSign = 0x80000000u;
  static constexpr UInt kExpOffset = 128;         // 2^(exponent bits - 1)
  static constexpr UInt kSqrtHalf = 0x3f3504f3u;  // bits of sqrt(1/2)
  static constexpr float kMagic = 0x1.8p23f;      // x + kMagic - kMagic rounds to an integer
  static constexpr float kTwoMant = 0x1p23f;
  static constexpr float kLog2e = 0x1.715476p+0f;
  static constexpr float kLog2eLo = 0x1.4ae0cp-26f;
  static constexpr float kLn2Hi = 0x1.62e4p-1f;  // 16 bits: n * kLn2Hi is exact for |n| < 2^8
  static constexpr float kLn2Lo = 0x1.7f7d1cp-20f;
  static constexpr float kLn2 = 0x1.62e43p-1f;
  static constexpr float kPio2Hi = 0x1.921fb6p+0f, kPio2Lo = -0x1.777a5cp-25f;
  static constexpr float kPiHi = 0x1.921fb6p+1f, kPiLo = -0x1.777a5cp-24f;
  static constexpr float kPio4Hi = 0x1.921fb6p-1f, kPio4Lo = -0x1.777a5cp-26f;
  static constexpr float kExpMax = 87.0f;  // exp core: n in [-126, 126]
  static constexpr float kExp2Max = 125.0f;
  static constexpr float kTanhClamp = 9.0f;  // tanh rounds to 1 beyond
};
template <>
struct K<double> {
  using UInt = uint64_t;
  static constexpr int kMant = 52;
  static constexpr UInt kSign = 0x8000000000000000ull;
  static constexpr UInt kExpOffset = 1024;
  static constexpr UInt kSqrtHalf = 0x3fe6a09e667f3bcdull;
  static constexpr double kMagic = 0x1.8p52;
  static constexpr double kTwoMant = 0x1p52;
  static constexpr double kLog2e = 0x1.71547652b82fep+0;
  static constexpr double kLog2eLo = 0x1.777d0ffda0d24p-56;
  static constexpr double kLn2Hi = 0x1.62e42ffp-1;  // 32 bits: n * kLn2Hi is exact for |n| < 2^21
  static constexpr double kLn2Lo = -0x1.718432a1b0e26p-35;
  static constexpr double kLn2 = 0x1.62e42fefa39efp-1;
  static constexpr double kPio2Hi = 0x1.921fb54442d18p+0, kPio2Lo = 0x1.1a62633145c07p-54;
  static constexpr double kPiHi = 0x1.921fb54442d18p+1, kPiLo = 0x1.1a62633145c07p-53;
  static constexpr double kPio4Hi = 0x1.921fb54442d18p-1, kPio4Lo = 0x1.1a62633145c07p-55;
  static constexpr double kExpMax = 708.0;  // exp core: n in [-1022, 1022]
  static constexpr double kExp2Max = 1020.0;
  static constexpr double kTanhClamp = 20.0;
};

// ---- minimax coefficient tables (see Note [Vector math]) -----------------------------------
// exp: e^r = 1 + r + r^2 P(r) on [-ln2/2, ln2/2] (also expm1(r) = r + r^2 P(r)).
constexpr float kExpF[] = {0x1p-1f, 0x1.5554dep-3f, 0x1.5555bap-5f, 0x1.120b1cp-7f, 0x1.6c69f2p-10f};  // 1.2e-7
constexpr double kExpD[] = {0x1p-1,
                            0x1.5555555555557p-3,
                            0x1.555555555554ep-5,
                            0x1.11111111100eep-7,
                            0x1.6c16c16c1a074p-10,
                            0x1.a01a01abdf003p-13,
                            0x1.a01a019061fc0p-16,
                            0x1.71de024b44223p-19,
                            0x1.27e510db24f29p-22,
                            0x1.af4db8a2b58a0p-26,
                            0x1.1f19f322ff3e7p-29};  // 2.7e-18
// Lower degrees for float64 arithmetic whose result is rounded to float32 (pow, erf, gelu).
constexpr double kExpFD[] = {0x1.0000000b7e30dp-1, 0x1.555555273040cp-3,  0x1.5554e95900a9fp-5,
                             0x1.11114bddc2d6fp-7, 0x1.6d42ca5cfb8b1p-10, 0x1.a072c053a5905p-13};  // 2.7e-9
// log: log1p(f) = f - s (f - z Q(z)), s = f / (2 + f), z = s^2 <= ((sqrt2-1)/(sqrt2+1))^2.
constexpr float kLogF[] = {0x1.55555cp-1f, 0x1.997c26p-2f, 0x1.2ee78ap-2f};  // 2.8e-7
constexpr double kLogD[] = {0x1.5555555555558p-1, 0x1.99999999952a7p-2, 0x1.2492492df7086p-2, 0x1.c71c62defb7a8p-3,
                            0x1.7462b656a3693p-3, 0x1.39fe2def01becp-3, 0x1.2b5a867b2c93ap-3};  // 4.5e-16
constexpr double kLogFD[] = {0x1.5555554ba98aep-1, 0x1.9999eb8972296p-2, 0x1.245c33eed84e7p-2,
                             0x1.ddd199a4b471cp-3};  // 1.7e-9 (float32 results)
// sin: sin(r) = r + r^3 S(r^2); cos: cos(r) = 1 - r^2/2 + r^4 C(r^2); |r| <= pi/4.
constexpr float kSinF[] = {-0x1.555556p-3f, 0x1.11110ep-7f, -0x1.a013a2p-13f, 0x1.6dbc44p-19f};  // 1.7e-10
constexpr float kCosF[] = {0x1.555556p-5f, -0x1.6c16cp-10f, 0x1.a015c2p-16f, -0x1.25238ep-22f};  // 5.7e-11
constexpr double kSinD[] = {-0x1.5555555555555p-3, 0x1.1111111111110p-7,   -0x1.a01a01a01992ap-13,
                            0x1.71de3a545f19bp-19, -0x1.ae64541073e7ap-26, 0x1.61217d603b002p-33,
                            -0x1.ab16ed470a6c9p-41};  // 7.1e-20
constexpr double kCosD[] = {0x1.5555555555555p-5,   -0x1.6c16c16c16c16p-10, 0x1.a01a01a019d06p-16,
                            -0x1.27e4fb7712685p-22, 0x1.1eed8deaebdcdp-29,  -0x1.9394b91569c8fp-37,
                            0x1.ab77d55c2f16fp-45};  // 1.6e-20
// atan: atan(t) = t + t^3 A(t^2), |t| <= tan(pi/8).
constexpr float kAtanF[] = {-0x1.555554p-2f, 0x1.999738p-3f, -0x1.242114p-3f, 0x1.b82056p-4f,
                            -0x1.087428p-4f};  // 4.6e-8
constexpr double kAtanD[] = {-0x1.5555555555555p-2, 0x1.999999999936cp-3, -0x1.2492492437a2bp-3, 0x1.c71c71861d7a2p-4,
                             -0x1.745d0b49a1a06p-4, 0x1.3b1265d0af62dp-4, -0x1.10fa9c849577bp-4, 0x1.dfe8a3459f284p-5,
                             -0x1.a0a538f8d85f5p-5, 0x1.4182842df6c27p-5, -0x1.3a7b948532beap-6};  // 9.3e-17
// asin: asin(s) = s + s^3 B(s^2), s^2 <= 1/4.
constexpr float kAsinF[] = {0x1.555554p-3f, 0x1.33343cp-4f, 0x1.6d5902p-5f,
                            0x1.fdcb1ep-6f, 0x1.17dda4p-6f, 0x1.14e324p-5f};  // 2.1e-8
constexpr double kAsinD[] = {0x1.5555555555556p-3, 0x1.3333333332e84p-4, 0x1.6db6db6e38806p-5, 0x1.f1c71c19d5348p-6,
                             0x1.6e8bb25de1700p-6, 0x1.1c4d286b617d3p-6, 0x1.c9d08bc8fe483p-7, 0x1.7817d8bed7313p-7,
                             0x1.529e18a63daa8p-7, 0x1.62a4ad22c6452p-8, 0x1.1f1b0ec445453p-6, -0x1.eccf9b130aacep-7,
                             0x1.d9390527027cep-6};  // 7.5e-17
// erf: erf(x) = x E(x^2) for |x| < 1.
constexpr double kErfD[] = {0x1.20dd750429b6dp+0,   -0x1.812746b0379bdp-2,  0x1.ce2f21a040d16p-4,
                            -0x1.b82ce311fa93ep-6,  0x1.565bccf92b314p-8,   -0x1.c02db03dd7619p-11,
                            0x1.f9a2baa905608p-14,  -0x1.f4ca4d6fa3e01p-17, 0x1.b97fd3dd8c050p-20,
                            -0x1.5c072708f33dcp-23, 0x1.d71b0fc777a13p-27,  -0x1.abae4b23f571ep-31};  // 7.3e-18
constexpr float kErfF[] = {0x1.20dd74p+0f, -0x1.81273ep-2f,  0x1.ce2cf8p-4f, -0x1.b7f90ep-6f,
                           0x1.5405b2p-8f, -0x1.a3f700p-11f, 0x1.496a32p-14f};  // 1.2e-9
// erfc tail: erfc(a) = exp(-a^2) P(t) / (a + k), t = (a - k) / (a + k), k = 2.3, a in [0.5, 10.5].
constexpr double kErfcK = 2.3, kErfcLo = 0.5;
constexpr double kErfcD[] = {0x1.0b02c7f51b4cdp+0,   -0x1.86d9206a0271bp-1,  0x1.8e1de7ca68015p-2,
                             -0x1.d6eea795ec61fp-4,  0x1.d0cd6773b46f0p-10,  0x1.814f3ee82975cp-7,
                             -0x1.bfa414967ede5p-10, -0x1.944e7f791f603p-10, 0x1.06dc4810fb195p-12,
                             0x1.1e27a6ce8e741p-12,  -0x1.c89cdb1310387p-17, -0x1.c4626699abc5ap-15,
                             -0x1.125597f1f439ep-17, 0x1.3959de19fbf43p-17,  0x1.254426dc9f582p-18,
                             -0x1.ad762dd153abdp-21, -0x1.5ef4798733162p-20, -0x1.dfd66716ea8fcp-23,
                             0x1.062a814e78f94p-22,  0x1.7c8802ca87518p-24,  -0x1.6ac88725bb5ecp-26};  // 2.5e-18
// float32: k = 2.3 on [0.5, 10.5], degree 11 (8.8e-12 before rounding the coefficients).
constexpr float kErfcF[] = {0x1.0b02c8p+0f,  -0x1.86d920p-1f, 0x1.8e1de8p-2f,   -0x1.d6eea6p-4f,
                            0x1.d0d040p-10f, 0x1.814de4p-7f,  -0x1.bfc428p-10f, -0x1.93f216p-10f,
                            0x1.097d72p-12f, 0x1.182b64p-12f, -0x1.5209fep-16f, -0x1.641758p-15f};
// 3.0e-11 (float32 results)

// ---- lane helpers --------------------------------------------------------------------------
template <class V>
TG_VM_INLINE V bc(typename VInfo<V>::T s) {
  return s - V{};  // (not V{} + s, which turns -0 into +0)
}
template <class V>
TG_VM_INLINE V vabs(V x) {
  using U = typename VInfo<V>::U;
  using T = typename VInfo<V>::T;
  return (V)((U)x & ~(U{} + K<T>::kSign));
}
// x with the sign bit of s added (y must be non-negative).
template <class V>
TG_VM_INLINE V with_sign_of(V y, V s) {
  using U = typename VInfo<V>::U;
  using T = typename VInfo<V>::T;
  return (V)((U)y | ((U)s & K<T>::kSign));
}
template <class V>
TG_VM_INLINE V vmin(V a, V b) {
  return a < b ? a : b;
}
// min(a, b) that keeps a NaN in a (so it propagates through what follows, no blend needed).
template <class V>
TG_VM_INLINE V vmin_keep_nan(V a, V b) {
  return b < a ? b : a;
}
template <class V>
TG_VM_INLINE V vmax(V a, V b) {
  return a > b ? a : b;
}

// c[0] + x (c[1] + x (c[2] + ...)), unrolled at compile time.
template <size_t I, class V, class T, size_t N>
TG_VM_INLINE V horner_from(V x, const T (&c)[N]) {
  if constexpr (I + 1 == N) return bc<V>(c[I]);
  else return horner_from<I + 1>(x, c) * x + c[I];
}
template <class V, class T, size_t N>
TG_VM_INLINE V horner(V x, const T (&c)[N]) {
  return horner_from<0>(x, c);
}

TG_VM_INLINE bool any(VI32 m) {
#if defined(__AVX512F__)
  return _mm512_test_epi32_mask((__m512i)m, (__m512i)m) != 0;
#elif defined(__AVX2__)
  return !_mm256_testz_si256((__m256i)m, (__m256i)m);
#elif defined(TG_VM_X86)
  return _mm_movemask_epi8((__m128i)m) != 0;
#else
  int32_t r = 0;
  for (size_t i = 0; i < sizeof(VI32) / sizeof(int32_t); ++i) r |= m[i];
  return r != 0;
#endif
}
TG_VM_INLINE bool any(VI64 m) { return any((VI32)m); }

TG_VM_INLINE VF vsqrt(VF x) {
#if defined(__AVX512F__)
  return (VF)_mm512_maskz_sqrt_ps(__mmask16(0xffff), (__m512)x);
#elif defined(__AVX2__)
  return (VF)_mm256_sqrt_ps((__m256)x);
#elif defined(TG_VM_X86)
  return (VF)_mm_sqrt_ps((__m128)x);
#else
  for (size_t i = 0; i < sizeof(VF) / sizeof(float); ++i) x[i] = std::sqrt(x[i]);
  return x;
#endif
}
TG_VM_INLINE VD vsqrt(VD x) {
#if defined(__AVX512F__)
  return (VD)_mm512_maskz_sqrt_pd(__mmask8(0xff), (__m512d)x);
#elif defined(__AVX2__)
  return (VD)_mm256_sqrt_pd((__m256d)x);
#elif defined(TG_VM_X86)
  return (VD)_mm_sqrt_pd((__m128d)x);
#else
  for (size_t i = 0; i < sizeof(VD) / sizeof(double); ++i) x[i] = std::sqrt(x[i]);
  return x;
#endif
}

// Halves of a float32 register and their concatenation, in registers (a round trip through
// memory would stall store forwarding).
constexpr size_t kWF = kVB / 4;  // float32 lanes per register
template <class V, size_t... I>
TG_VM_INLINE auto lanes_from(V x, std::index_sequence<I...>) {
  return __builtin_shufflevector(x, x, I...);
}
template <class V, size_t... I>
TG_VM_INLINE auto lanes_from_hi(V x, std::index_sequence<I...>) {
  return __builtin_shufflevector(x, x, (I + sizeof...(I))...);
}
template <class H, size_t... I>
TG_VM_INLINE auto concat(H a, H b, std::index_sequence<I...>) {
  return __builtin_shufflevector(a, b, I...);
}
TG_VM_INLINE VFh lo_half(VF x) { return lanes_from(x, std::make_index_sequence<kWF / 2>()); }
TG_VM_INLINE VFh hi_half(VF x) { return lanes_from_hi(x, std::make_index_sequence<kWF / 2>()); }
TG_VM_INLINE VF concat(VFh a, VFh b) { return concat(a, b, std::make_index_sequence<kWF>()); }
TG_VM_INLINE VU32 concat(VU32h a, VU32h b) { return concat(a, b, std::make_index_sequence<kWF>()); }

// hi + lo = a * b exactly (fused multiply-add, or Dekker's product where there is none).
TG_VM_INLINE void two_prod(VD a, VD b, VD& hi, VD& lo) {
  hi = a * b;
#if defined(__AVX512F__)
  lo = (VD)_mm512_fmsub_pd((__m512d)a, (__m512d)b, (__m512d)hi);
#elif defined(__FMA__)
  lo = (VD)_mm256_fmsub_pd((__m256d)a, (__m256d)b, (__m256d)hi);
#else
  const double split = 134217729.0;  // 2^27 + 1
  VD ta = a * split, tb = b * split;
  VD ah = ta - (ta - a), al = a - ah;
  VD bh = tb - (tb - b), bl = b - bh;
  lo = ((ah * bh - hi) + ah * bl + al * bh) + al * bl;
#endif
}

TG_VM_INLINE void two_prod(VF a, VF b, VF& hi, VF& lo) {
  hi = a * b;
#if defined(__AVX512F__)
  lo = (VF)_mm512_fmsub_ps((__m512)a, (__m512)b, (__m512)hi);
#elif defined(__FMA__)
  lo = (VF)_mm256_fmsub_ps((__m256)a, (__m256)b, (__m256)hi);
#else
  const float split = 4097.0f;  // 2^12 + 1
  VF ta = a * split, tb = b * split;
  VF ah = ta - (ta - a), al = a - ah;
  VF bh = tb - (tb - b), bl = b - bh;
  lo = ((ah * bh - hi) + ah * bl + al * bh) + al * bl;
#endif
}

// ---- cores (valid inside each function's domain; callers flag the lanes outside) -----------

// 2^n for integer-valued n carried in the low bits of y = n + kMagic.
template <class V>
TG_VM_INLINE V pow2_from_magic(V y) {
  using U = typename VInfo<V>::U;
  using T = typename VInfo<V>::T;
  constexpr int kBias = (1 << (sizeof(T) == 4 ? 7 : 10)) - 1;
  U n = (U)y - (U)bc<V>(K<T>::kMagic);  // n modulo 2^bits
  return (V)((n + (U{} + typename K<T>::UInt(kBias))) << K<T>::kMant);
}

// kF32 (float64 only): float32 accuracy suffices (the result is rounded to float32).
template <class T, bool kF32 = false, class V>
TG_VM_INLINE V exp_poly(V r) {
  if constexpr (sizeof(T) == 4) return horner(r, kExpF);
  else if constexpr (kF32) return horner(r, kExpFD);
  else return horner(r, kExpD);
}

// e^x for |x| <= kExpMax.
template <bool kF32 = false, class V>
TG_VM_INLINE V exp_core(V x) {
  using T = typename VInfo<V>::T;
  V y = x * K<T>::kLog2e + K<T>::kMagic;
  V n = y - K<T>::kMagic;
  V r = x - n * K<T>::kLn2Hi;
  r = r - n * K<T>::kLn2Lo;
  V p = r + r * r * exp_poly<T, kF32>(r);
  return (p + T(1)) * pow2_from_magic(y);
}

// e^(x + lo) for |x| <= kExpMax and |lo| <= ulp(x): lo enters the reduced argument exactly.
template <bool kF32 = false, class V>
TG_VM_INLINE V exp_core2(V x, V lo) {
  using T = typename VInfo<V>::T;
  V y = x * K<T>::kLog2e + K<T>::kMagic;
  V n = y - K<T>::kMagic;
  V r = x - n * K<T>::kLn2Hi;
  r = (r + lo) - n * K<T>::kLn2Lo;
  V p = r + r * r * exp_poly<T, kF32>(r);
  return (p + T(1)) * pow2_from_magic(y);
}

// e^x - 1 for |x| <= kExpMax (x = +-0 is not preserved: callers restore it).
template <class V>
TG_VM_INLINE V expm1_core(V x) {
  using T = typename VInfo<V>::T;
  V y = x * K<T>::kLog2e + K<T>::kMagic;
  V n = y - K<T>::kMagic;
  V r = x - n * K<T>::kLn2Hi;
  r = r - n * K<T>::kLn2Lo;
  V p = r + r * r * exp_poly<T>(r);  // expm1(r)
  V s = pow2_from_magic(y);
  return (s - T(1)) + s * p;  // 2^n (1 + p) - 1, exact when n == 0
}

// 2^x for |x| <= kExp2Max.
template <class V>
TG_VM_INLINE V exp2_core(V x) {
  using T = typename VInfo<V>::T;
  V y = x + K<T>::kMagic;
  V n = y - K<T>::kMagic;
  V r = (x - n) * K<T>::kLn2;
  V p = r + r * r * exp_poly<T>(r);
  return (p + T(1)) * pow2_from_magic(y);
}

// u = 2^k m with m in [sqrt(1/2), sqrt(2)) for positive normal u: returns f = m - 1 and k.
template <class V>
TG_VM_INLINE V log_reduce(V u, V& kf) {
  using U = typename VInfo<V>::U;
  using T = typename VInfo<V>::T;
  constexpr int kMant = K<T>::kMant;
  U i = (U)u;
  U kb = (i - K<T>::kSqrtHalf + (U{} + (K<T>::kExpOffset << kMant))) >> kMant;  // k + offset
  kf = (V)(kb | (U)bc<V>(K<T>::kTwoMant)) - (K<T>::kTwoMant + T(K<T>::kExpOffset));
  V m = (V)(i - ((kb - K<T>::kExpOffset) << kMant));
  return m - T(1);
}

// log1p(f) for f in [sqrt(1/2) - 1, sqrt(2) - 1].
template <bool kF32 = false, class V>
TG_VM_INLINE V log1p_small(V f) {
  using T = typename VInfo<V>::T;
  V s = f / (f + T(2));
  V z = s * s;
  V q;
  if constexpr (sizeof(T) == 4) q = horner(z, kLogF);
  else if constexpr (kF32) q = horner(z, kLogFD);
  else q = horner(z, kLogD);
  return f - s * (f - z * q);
}

// log(x) for positive normal finite x.
template <bool kF32 = false, class V>
TG_VM_INLINE V log_core(V x) {
  using T = typename VInfo<V>::T;
  V kf;
  V f = log_reduce(x, kf);
  return kf * K<T>::kLn2Hi + (log1p_small<kF32>(f) + kf * K<T>::kLn2Lo);
}

// log1p(x) for x in (-1, max]; x = +-0 is not preserved (callers restore it).
template <class V>
TG_VM_INLINE V log1p_core(V x) {
  using T = typename VInfo<V>::T;
  V u = x + T(1);
  // The rounding error of 1 + x, divided by u: log(1 + x) = log(u) + c to first order.
  V c = x >= T(1) ? T(1) - (u - x) : x - (u - T(1));
  c = c / u;
  V kf;
  V f = log_reduce(u, kf);
  return kf * K<T>::kLn2Hi + (log1p_small(f) + (c + kf * K<T>::kLn2Lo));
}

// sin(r) and cos(r) for |r| <= pi/4 (any precision's coefficients by T).
template <class T, class V>
TG_VM_INLINE void sincos_poly(V r, V& s, V& c) {
  V z = r * r;
  if constexpr (sizeof(T) == 4) {
    s = r + r * z * horner(z, kSinF);
    V hz = z * T(0.5);
    V w = T(1) - hz;
    c = w + (((T(1) - w) - hz) + z * z * horner(z, kCosF));
  } else {
    s = r + r * z * horner(z, kSinD);
    V hz = z * T(0.5);
    V w = T(1) - hz;
    c = w + (((T(1) - w) - hz) + z * z * horner(z, kCosD));
  }
}

// For float32 |x| <= 1e6: r = |x| - n pi/2 (reduced in float64) and the quadrant n mod 4.
TG_VM_INLINE VF reduce_pio2_f(VF ax, VU32& q) {
  VFh r[2];
  VU32h qh[2];
  const VFh h[2] = {lo_half(ax), hi_half(ax)};
  for (int k = 0; k < 2; ++k) {
    VD xd = __builtin_convertvector(h[k], VD);
    VD y = xd * 0x1.45f306dc9c883p-1 + 0x1.8p52;  // 2/pi
    VD n = y - 0x1.8p52;
    VD rd = (xd - n * 0x1.921fb544p+0) - n * 0x1.0b4611a626331p-34;  // pi/2 in 33 + 53 bits
    qh[k] = __builtin_convertvector((VU64)y, VU32h);
    r[k] = __builtin_convertvector(rd, VFh);
  }
  q = concat(qh[0], qh[1]) & 3u;
  return concat(r[0], r[1]);
}

#if defined(__AVX512F__) || defined(__FMA__)
// c - a b with one rounding.
TG_VM_INLINE VF fnmadd(VF a, VF b, VF c) {
#if defined(__AVX512F__)
  return (VF)_mm512_fnmadd_ps((__m512)a, (__m512)b, (__m512)c);
#else
  return (VF)_mm256_fnmadd_ps((__m256)a, (__m256)b, (__m256)c);
#endif
}
#endif

// float32 |x| <= 1e6: r = |x| - n pi/2 and the quadrant. With fused multiply-adds, lanes with
// |x| <= 65536 reduce in float32 with pi/2 in three parts (the first step is exact: |x| - n c1 is
// a multiple of 2^-24 below 1), wider lanes in float64 (reduce_pio2_f). The choice is made per
// lane, never per register: a lane's result must not depend on which values share its register,
// or the bits would depend on where the thread pool's chunks begin (Note [Kernel thread pool]).
TG_VM_INLINE VF reduce_pio2(VF ax, VU32& q) {
#if defined(__AVX512F__) || defined(__FMA__)
  VF y = ax * 0x1.45f306p-1f + 0x1.8p23f;  // 2/pi
  VF n = y - 0x1.8p23f;
  VF r = fnmadd(n, bc<VF>(0x1.921fb6p+0f), ax);
  r = fnmadd(n, bc<VF>(-0x1.777a5cp-25f), r);
  r = fnmadd(n, bc<VF>(-0x1.ee59dap-50f), r);
  q = (VU32)y & 3u;
  const auto wide = ax > 65536.0f;
  if (!any(wide)) return r;
  VU32 qf;
  const VF rf = reduce_pio2_f(ax, qf);
  q = wide ? qf : q;
  return wide ? rf : r;
#else
  return reduce_pio2_f(ax, q);
#endif
}

// For float64 |x| <= 1e6: r = |x| - n pi/2 with pi/2 in four parts (33 + 33 + 33 + 53 bits) so
// that each n * part is exact and r keeps its relative accuracy near multiples of pi/2.
TG_VM_INLINE VD reduce_pio2(VD ax, VU64& q) {
  VD y = ax * 0x1.45f306dc9c883p-1 + 0x1.8p52;
  VD n = y - 0x1.8p52;
  VD r = ax - n * 0x1.921fb544p+0;
  r = r - n * 0x1.0b4611a6p-34;
  r = r - n * 0x1.3198a2ep-69;
  r = r - n * 0x1.b839a252049c1p-104;
  q = (VU64)y & 3u;
  return r;
}

// atan(|x|) without a domain limit (Inf gives pi/2; NaN propagates).
template <class V>
TG_VM_INLINE V atan_abs(V ax) {
  using T = typename VInfo<V>::T;
  auto big = ax > T(2.414213562373095);   // tan(3 pi / 8)
  auto mid = ax > T(0.4142135623730950);  // tan(pi / 8)
  V num = big ? bc<V>(T(-1)) : (mid ? ax - T(1) : ax);
  V den = big ? ax : (mid ? ax + T(1) : bc<V>(T(1)));
  V offh = big ? bc<V>(K<T>::kPio2Hi) : (mid ? bc<V>(K<T>::kPio4Hi) : V{});
  V offl = big ? bc<V>(K<T>::kPio2Lo) : (mid ? bc<V>(K<T>::kPio4Lo) : V{});
  V z = num / den;
  V t = z * z;
  V a;
  if constexpr (sizeof(T) == 4) a = horner(t, kAtanF);
  else a = horner(t, kAtanD);
  return offh + (z + (z * t * a + offl));
}

// asin(s) for s^2 = z <= 1/4 (s >= 0).
template <class V>
TG_VM_INLINE V asin_small(V s, V z) {
  using T = typename VInfo<V>::T;
  V b;
  if constexpr (sizeof(T) == 4) b = horner(z, kAsinF);
  else b = horner(z, kAsinD);
  return s + s * z * b;
}

// The factor q = P(t) / (a + k) of erfc(a) = exp(-a^2) q in the fitted range (the two are kept
// apart: exp(-a^2) may be near the bottom of the exponent range, q ~ 0.1).
template <class V, class T, size_t N>
TG_VM_INLINE V erfc_tail_q(V a, const T (&coef)[N], T k) {
  V inv = T(1) / (a + k);
  V t = (a - k) * inv;
  return horner(t, coef) * inv;
}

// ---- kernels: vec() on a register of lanes (flags lanes needing the scalar path in `bad`),
// scalar() the libm reference used for those lanes. ------------------------------------------
// Each kernel is one template over the element type F (float or double): the precision's
// constants come from K<F>, its coefficient tables and argument reduction by overload or
// `if constexpr` in the cores above. Only erf and gelu keep a specialisation per precision (their
// float32 and float64 forms are different algorithms, not twins), and pow exists for float32.

template <class F>
struct VecOf;
template <>
struct VecOf<float> {
  using V = VF;
  using M = VI32;
  using U = VU32;
};
template <>
struct VecOf<double> {
  using V = VD;
  using M = VI64;
  using U = VU64;
};
// The member types every kernel has (Kn::T, Kn::V, Kn::M are what the loops below use).
#define TG_VM_TYPES(F)            \
  using T = F;                    \
  using V = typename VecOf<F>::V; \
  using M = typename VecOf<F>::M; \
  using U = typename VecOf<F>::U;

template <class F>
struct ExpK {
  TG_VM_TYPES(F)
  TG_VM_INLINE static V vec(V x, M& bad) {
    bad = !(vabs(x) <= K<T>::kExpMax);
    return exp_core(x);
  }
  static T scalar(T x) { return std::exp(x); }
};

template <class F>
struct Exp2K {
  TG_VM_TYPES(F)
  TG_VM_INLINE static V vec(V x, M& bad) {
    bad = !(vabs(x) <= K<T>::kExp2Max);
    return exp2_core(x);
  }
  static T scalar(T x) { return std::exp2(x); }
};

template <class F>
struct Expm1K {
  TG_VM_TYPES(F)
  TG_VM_INLINE static V vec(V x, M& bad) {
    bad = !(vabs(x) <= K<T>::kExpMax);
    V r = expm1_core(x);
    return x == T(0) ? x : r;
  }
  static T scalar(T x) { return std::expm1(x); }
};

// The positive normal finite range: the domain of log_reduce.
template <class F>
struct LogK {
  TG_VM_TYPES(F)
  TG_VM_INLINE static V vec(V x, M& bad) {
    bad = !(x >= std::numeric_limits<T>::min() && x <= std::numeric_limits<T>::max());
    return log_core(x);
  }
  static T scalar(T x) { return std::log(x); }
};

template <class F>
struct Log2K {
  TG_VM_TYPES(F)
  TG_VM_INLINE static V vec(V x, M& bad) {
    bad = !(x >= std::numeric_limits<T>::min() && x <= std::numeric_limits<T>::max());
    V kf;
    V l = log1p_small(log_reduce(x, kf));
    return kf + (l * K<T>::kLog2e + l * K<T>::kLog2eLo);
  }
  static T scalar(T x) { return std::log2(x); }
};

template <class F>
struct Log1pK {
  TG_VM_TYPES(F)
  TG_VM_INLINE static V vec(V x, M& bad) {
    bad = !(x > T(-1) && x <= std::numeric_limits<T>::max());
    V r = log1p_core(x);
    return x == T(0) ? x : r;
  }
  static T scalar(T x) { return std::log1p(x); }
};

// sin, cos, tan: |x| reduced by n pi/2 (reduce_pio2 of the precision), the quadrant picks the
// polynomial and the sign.
// The quadrant's choice: sin(x) and cos(x) from sin(r), cos(r) and q (one polynomial pair for
// both; SinCosK below returns the two from one reduction, with the bits of SinK and CosK).
template <class V, class U>
TG_VM_INLINE V sin_of_quadrant(V x, U q, V s, V c) {
  using T = typename VInfo<V>::T;
  V r = (q & 1u) != 0u ? c : s;
  r = (q & 2u) != 0u ? -r : r;
  return (V)((U)r ^ ((U)x & K<T>::kSign));
}
template <class V, class U>
TG_VM_INLINE V cos_of_quadrant(U q, V s, V c) {
  V r = (q & 1u) != 0u ? s : c;
  return ((q + 1u) & 2u) != 0u ? -r : r;
}
template <class F>
struct SinK {
  TG_VM_TYPES(F)
  TG_VM_INLINE static V vec(V x, M& bad) {
    V ax = vabs(x);
    bad = !(ax <= T(1e6));
    U q;
    V s, c;
    sincos_poly<T>(reduce_pio2(ax, q), s, c);
    return sin_of_quadrant(x, q, s, c);
  }
  static T scalar(T x) { return std::sin(x); }
};
template <class F>
struct CosK {
  TG_VM_TYPES(F)
  TG_VM_INLINE static V vec(V x, M& bad) {
    V ax = vabs(x);
    bad = !(ax <= T(1e6));
    U q;
    V s, c;
    sincos_poly<T>(reduce_pio2(ax, q), s, c);
    return cos_of_quadrant(q, s, c);
  }
  static T scalar(T x) { return std::cos(x); }
};
// sin(x) and cos(x) together (the fused replay's sincos step): the same reduction, polynomials and
// quadrant choice as SinK and CosK, computed once, so each result has their bits.
template <class F>
struct SinCosK {
  TG_VM_TYPES(F)
  TG_VM_INLINE static void vec(V x, V& so, V& co, M& bad) {
    V ax = vabs(x);
    bad = !(ax <= T(1e6));
    U q;
    V s, c;
    sincos_poly<T>(reduce_pio2(ax, q), s, c);
    so = sin_of_quadrant(x, q, s, c);
    co = cos_of_quadrant(q, s, c);
  }
};
template <class F>
struct TanK {
  TG_VM_TYPES(F)
  TG_VM_INLINE static V vec(V x, M& bad) {
    V ax = vabs(x);
    bad = !(ax <= T(1e6));
    U q;
    V s, c;
    sincos_poly<T>(reduce_pio2(ax, q), s, c);
    auto odd = (q & 1u) != 0u;
    V r = (odd ? -c : s) / (odd ? s : c);
    return (V)((U)r ^ ((U)x & K<T>::kSign));
  }
  static T scalar(T x) { return std::tan(x); }
};

// Inverse trigonometric functions: no scalar path (|x| > 1 gives NaN through the square root).
template <class F>
struct ArctanK {
  TG_VM_TYPES(F)
  TG_VM_INLINE static V vec(V x, M& bad) {
    bad = M{};
    return with_sign_of(atan_abs(vabs(x)), x);
  }
  static T scalar(T x) { return std::atan(x); }
};
template <class F>
struct ArcsinK {
  TG_VM_TYPES(F)
  TG_VM_INLINE static V vec(V x, M& bad) {
    bad = M{};
    V ax = vabs(x);
    auto small = ax <= T(0.5);
    V z = small ? ax * ax : (T(1) - ax) * T(0.5);
    V s = small ? ax : vsqrt(z);
    V p = asin_small(s, z);
    V big = K<T>::kPio2Hi - (T(2) * p - K<T>::kPio2Lo);
    return with_sign_of(small ? p : big, x);
  }
  static T scalar(T x) { return std::asin(x); }
};
template <class F>
struct ArccosK {
  TG_VM_TYPES(F)
  TG_VM_INLINE static V vec(V x, M& bad) {
    bad = M{};
    V ax = vabs(x);
    auto small = ax <= T(0.5);
    V z = small ? x * x : (T(1) - ax) * T(0.5);
    V s = small ? ax : vsqrt(z);
    V p = asin_small(s, z);
    V mid = K<T>::kPio2Hi - (with_sign_of(p, x) - K<T>::kPio2Lo);
    V pos = T(2) * p;
    V neg = K<T>::kPiHi - (T(2) * p - K<T>::kPiLo);
    return small ? mid : (x > T(0) ? pos : neg);
  }
  static T scalar(T x) { return std::acos(x); }
};

// Hyperbolic functions and the activations built on exp.
// tanh|x| = e / (e + 2), e = expm1(2|x|); 2|x| is clamped where tanh rounds to 1.
template <class F>
struct TanhK {
  TG_VM_TYPES(F)
  TG_VM_INLINE static V vec(V x, M& bad) {
    bad = M{};
    V e = expm1_core(vmin_keep_nan(vabs(x), bc<V>(K<T>::kTanhClamp)) * T(2));
    return with_sign_of(e / (e + T(2)), x);  // NaN propagates
  }
  static T scalar(T x) { return std::tanh(x); }
};
// sinh|x| = (e + e / (e + 1)) / 2, e = expm1(|x|)
template <class F>
struct SinhK {
  TG_VM_TYPES(F)
  TG_VM_INLINE static V vec(V x, M& bad) {
    V ax = vabs(x);
    bad = !(ax <= K<T>::kExpMax);
    V e = expm1_core(ax);
    return with_sign_of((e + e / (e + T(1))) * T(0.5), x);
  }
  static T scalar(T x) { return std::sinh(x); }
};
template <class F>
struct CoshK {
  TG_VM_TYPES(F)
  TG_VM_INLINE static V vec(V x, M& bad) {
    V ax = vabs(x);
    bad = !(ax <= K<T>::kExpMax);
    V e = exp_core(ax);
    return e * T(0.5) + T(0.5) / e;
  }
  static T scalar(T x) { return std::cosh(x); }
};
// sigmoid(x) = 1 / (1 + e) for x >= 0, e / (1 + e) for x < 0, e = exp(-|x|)
template <class F>
struct SigmoidK {
  TG_VM_TYPES(F)
  TG_VM_INLINE static V vec(V x, M& bad) {
    bad = x < -K<T>::kExpMax;
    V e = exp_core(-vmin_keep_nan(vabs(x), bc<V>(K<T>::kExpMax)));
    V d = T(1) / (e + T(1));
    return x >= T(0) ? d : e * d;  // NaN: e is NaN
  }
  static T scalar(T x) {
    long double e = std::exp((long double)(-std::fabs(x)));
    return T(x >= 0 ? 1 / (1 + e) : e / (1 + e));
  }
};
// softplus(x) = max(x, 0) + log1p(exp(-|x|))
template <class F>
struct SoftplusK {
  TG_VM_TYPES(F)
  TG_VM_INLINE static V vec(V x, M& bad) {
    bad = x < -K<T>::kExpMax;
    V e = exp_core(-vmin_keep_nan(vabs(x), bc<V>(K<T>::kExpMax)));
    return vmax(x, V{}) + log1p_core(e);  // NaN: e is NaN
  }
  static T scalar(T x) {
    long double xl = x;
    return T((xl > 0 ? xl : 0) + std::log1p(std::exp(-std::fabs(xl))));
  }
};

// erf and gelu: erf(a) = a E(a^2) for small a; erfc(a) = exp(-a^2) P(t) / (a + k) in the tail,
// with a^2 carried exactly as hi + lo (a fused multiply-add, or Dekker's product) so that the
// exponential keeps its relative accuracy; gelu(x) = x - x erfc(a) / 2 (x > 0) or x erfc(a) / 2
// (x < 0), a = |x| / sqrt 2, so that its negative tail keeps relative accuracy too.
template <class F>
struct ErfK;
template <class F>
struct GeluK;
constexpr double kSqrtHalf = 0x1.6a09e667f3bcdp-1;
constexpr double kSqrtHalfLo = -0x1.bdd3413b26456p-55;

// erf(ax) for ax >= 0 with a2h + a2l = ax^2 exactly (float64); erf rounds to 1 from 5.92 on.
TG_VM_INLINE VD erf_abs(VD ax, VD a2h, VD a2l) {
  auto big = ax >= 1.0;
  VD small = ax * horner(big ? VD{} : a2h, kErfD);
  auto far = ax >= 6.0;
  VD a = far ? bc<VD>(6.0) : (big ? ax : bc<VD>(1.0));
  VD ah = far ? bc<VD>(36.0) : (big ? a2h : bc<VD>(1.0));
  VD al = big && !far ? a2l : VD{};
  VD tail = 1.0 - exp_core2(-ah, -al) * erfc_tail_q(a, kErfcD, kErfcK);
  return big ? tail : small;
}

template <>
struct ErfK<float> {
  TG_VM_TYPES(float)
  TG_VM_INLINE static V vec(V x, M& bad) {
    bad = M{};
    V ax = vabs(x);
    auto big = ax >= 1.0f;
    V small = ax * horner(big ? V{} : ax * ax, kErfF);
    V a = big ? vmin(ax, bc<V>(4.0f)) : bc<V>(1.0f);  // erf rounds to 1 from 3.92 on
    V a2h, a2l;
    two_prod(a, a, a2h, a2l);
    V tail = 1.0f - exp_core2(-a2h, -a2l) * erfc_tail_q(a, kErfcF, 2.3f);
    V r = with_sign_of(big ? tail : small, x);
    return x == x ? r : x;
  }
  static T scalar(T x) { return std::erf(x); }
};
template <>
struct ErfK<double> {
  TG_VM_TYPES(double)
  TG_VM_INLINE static V vec(V x, M& bad) {
    bad = M{};
    V ax = vabs(x);
    V a2h, a2l;
    two_prod(ax, ax, a2h, a2l);
    V r = erf_abs(ax, a2h, a2l);
    return x == x ? with_sign_of(r, x) : x;
  }
  static T scalar(T x) { return std::erf(x); }
};

// gelu(x) = x Phi(x) = x - x erfc(a) / 2 for x >= 0, x erfc(a) / 2 for x < 0, a = |x| / sqrt 2.
template <>
struct GeluK<float> {
  TG_VM_TYPES(float)
  TG_VM_INLINE static V vec(V x, M& bad) {
    V ax = vabs(x);
    V a = ax * float(kSqrtHalf);
    auto far = a > 9.3f;  // exp(-a^2) leaves float32's normal range: x < 0 takes the scalar path
    bad = far && x < 0.0f;
    auto big = a >= 0.5f;
    V xx = far ? bc<V>(1.0f) : x;
    V a2h, a2l;
    two_prod(xx, xx, a2h, a2l);  // a^2 = x^2 / 2 exactly
    a2h = a2h * 0.5f;
    a2l = a2l * 0.5f;
    V small = 1.0f - a * horner(big ? V{} : a2h, kErfF);
    auto tl = big && !far;
    V q = erfc_tail_q(tl ? a : bc<V>(0.5f), kErfcF, 2.3f);
    V e = exp_core2(tl ? -a2h : bc<V>(-0.25f), tl ? -a2l : V{});
    V h = big ? ((x * 0.5f) * q) * e : (x * 0.5f) * small;  // (e last: it may be near FLT_MIN)
    V r = x > 0.0f ? x - h : h;
    r = far ? x : r;
    return x == x ? r : x;
  }
  static T scalar(T x) {           // x < -13: a tiny or zero result, computed in float64
    if (x < -15.0f) return -0.0f;  // rounds to -0 (gelu(-inf) = -0, the limit)
    double xd = x;
    return T(0.5 * xd * std::erfc(-xd * kSqrtHalf));
  }
};
template <>
struct GeluK<double> {
  TG_VM_TYPES(double)
  TG_VM_INLINE static V vec(V x, M& bad) {
    V ax = vabs(x);
    V a = ax * kSqrtHalf;
    auto far = a > 10.5;
    bad = far && x < 0.0;
    V a2h, a2l;
    two_prod(ax, ax, a2h, a2l);  // a^2 = x^2 / 2 exactly
    a2h = a2h * 0.5;
    a2l = a2l * 0.5;
    auto tl = a >= kErfcLo && !far;
    V small = 1.0 - a * horner(tl || far ? V{} : a2h, kErfD);
    V q = erfc_tail_q(tl ? a : bc<V>(kErfcLo), kErfcD, kErfcK);
    V e = exp_core2(tl ? -a2h : bc<V>(-kErfcLo * kErfcLo), tl ? -a2l : V{});
    V h = tl ? ((x * 0.5) * q) * e : (x * 0.5) * small;
    V r = x > 0.0 ? x - h : h;
    r = far ? x : r;
    return x == x ? r : x;
  }
  // x < -14.8: erfc(a) for a = a_hi + a_lo (the rounding of -x / sqrt 2), using
  // d log erfc(a) / da = -2a - 1/a + O(a^-3).
  static T scalar(T x) {
    if (std::isnan(x)) return x;
    if (x >= 0) return x;
    if (x < -40.0) return -0.0;  // erfc underflows (and gelu(-inf) = -0, the limit)
    double ah = -x * kSqrtHalf;
    double al = std::fma(-x, kSqrtHalf, -ah) + (-x) * kSqrtHalfLo;
    return 0.5 * x * std::erfc(ah) * (1.0 - (2.0 * ah + 1.0 / ah) * al);
  }
};

// pow for float32: a^b = exp(b log a) in float64 (the product keeps ~1e-14 relative accuracy, so
// the float32 result is correctly rounded almost always; overflow and underflow happen in the
// final rounding). Lanes with a <= 0, NaN or Inf take libm's powf, which has numpy's special cases
// (negative bases with integer exponents, pow(x, 0) = 1, pow(1, y) = 1 ...).
struct PowF32 {
  TG_VM_TYPES(float)
  TG_VM_INLINE static V vec(V a, V b, M& bad) {
    bad = !(a > 0.0f && a <= FLT_MAX && vabs(b) <= FLT_MAX);
    auto half = [](VD ad, VD bd) {
      VD t = bd * log_core<true>(ad);
      t = vmin(vmax(t, bc<VD>(-708.0)), bc<VD>(708.0));
      return exp_core<true>(t);
    };
    VFh r0 = __builtin_convertvector(
        half(__builtin_convertvector(lo_half(a), VD), __builtin_convertvector(lo_half(b), VD)), VFh);
    VFh r1 = __builtin_convertvector(
        half(__builtin_convertvector(hi_half(a), VD), __builtin_convertvector(hi_half(b), VD)), VFh);
    return concat(r0, r1);
  }
  static T scalar(T a, T b) { return std::pow(a, b); }
};

// ---- exp on AVX-512 ---------------------------------------------------------------------------
// Note [AVX-512 exp loop]
// ~~~~~~~~~~~~~~~~~~~~~~~
// exp is the most used vector function (softmax, sigmoid-like models, the jit's expressions), and
// the generic ExpK loop leaves speed on the table on AVX-512: GCC re-broadcasts the polynomial's
// constants from memory in every iteration, turns the lane test into a vector mask and back, and
// keeps the argument in a stack slot for the scalar fix-up. This loop computes exactly the same
// arithmetic with intrinsics (the same FMA contractions: y = x log2e + magic, r = x - n ln2hi -
// n ln2lo, Horner, r + r^2 P(r), then (p + 1) 2^n), so its results are bit-identical to ExpK's;
// only two steps are spelled differently: the lane test is one compare into a mask register, and
// the reconstruction multiplies by 2^n with vscalef (exact, as the product by a power of two is;
// n stays in [-126, 126] / [-1022, 1022] in the lanes that keep the vector result). About 25%
// fewer ns per element than the generic loop (benchmarks: tapegrad exp at 10^4-10^6 elements).
#if defined(TG_VM_X86) && defined(__AVX512F__)
template <class T>
struct Zmm;
template <>
struct Zmm<float> {
  using R = __m512;
  using Mask = __mmask16;
  static constexpr int kW = 16;
  static TG_VM_INLINE R set1(float v) { return _mm512_set1_ps(v); }
  static TG_VM_INLINE R load(const float* p) { return _mm512_loadu_ps(p); }
  static TG_VM_INLINE void store(float* p, R v) { _mm512_storeu_ps(p, v); }
  static TG_VM_INLINE R fma(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
  static TG_VM_INLINE R fnma(R a, R b, R c) { return _mm512_fnmadd_ps(a, b, c); }  // c - a b
  static TG_VM_INLINE R fnms(R a, R b, R c) { return _mm512_fnmsub_ps(a, b, c); }  // -(a b) - c
  static TG_VM_INLINE R add(R a, R b) { return _mm512_add_ps(a, b); }
  static TG_VM_INLINE R sub(R a, R b) { return _mm512_sub_ps(a, b); }
  static TG_VM_INLINE R mul(R a, R b) { return _mm512_mul_ps(a, b); }
  // (masked forms, as vsqrt: GCC 12 warns about the undefined source of the unmasked ones)
  static TG_VM_INLINE R scalef(R a, R b) { return _mm512_maskz_scalef_ps(__mmask16(0xffff), a, b); }
  // Lanes where |x| <= m is false (NaN included).
  static TG_VM_INLINE Mask outside(R x, R m) { return _mm512_cmp_ps_mask(_mm512_abs_ps(x), m, _CMP_NLE_UQ); }
  static TG_VM_INLINE R abs(R a) { return _mm512_abs_ps(a); }
  static TG_VM_INLINE R div(R a, R b) { return _mm512_div_ps(a, b); }
  static TG_VM_INLINE R min(R a, R b) { return _mm512_maskz_min_ps(__mmask16(0xffff), a, b); }
  static TG_VM_INLINE R blend(Mask m, R a, R b) { return _mm512_mask_blend_ps(m, a, b); }  // m ? b : a
  static TG_VM_INLINE Mask cmp_lt(R a, R b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static TG_VM_INLINE Mask cmp_ge(R a, R b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
  // Integer lanes of the same width (the bits of R).
  static TG_VM_INLINE __m512i iadd(__m512i a, __m512i b) { return _mm512_add_epi32(a, b); }
  static TG_VM_INLINE __m512i isub(__m512i a, __m512i b) { return _mm512_sub_epi32(a, b); }
  static TG_VM_INLINE __m512i iset1(uint32_t v) { return _mm512_set1_epi32(int32_t(v)); }
  template <int S>
  static TG_VM_INLINE __m512i srl(__m512i a) {
    return _mm512_maskz_srli_epi32(__mmask16(0xffff), a, S);
  }
  template <int S>
  static TG_VM_INLINE __m512i sll(__m512i a) {
    return _mm512_maskz_slli_epi32(__mmask16(0xffff), a, S);
  }
  static TG_VM_INLINE __m512i bits(R a) { return _mm512_castps_si512(a); }
  static TG_VM_INLINE R from_bits(__m512i a) { return _mm512_castsi512_ps(a); }
  // Lanes where lo <= x <= hi is false (NaN included).
  static TG_VM_INLINE Mask not_within(R x, R lo, R hi) {
    return Mask(~(_mm512_cmp_ps_mask(x, lo, _CMP_GE_OQ) & _mm512_cmp_ps_mask(x, hi, _CMP_LE_OQ)));
  }
};
template <>
struct Zmm<double> {
  using R = __m512d;
  using Mask = __mmask8;
  static constexpr int kW = 8;
  static TG_VM_INLINE R set1(double v) { return _mm512_set1_pd(v); }
  static TG_VM_INLINE R load(const double* p) { return _mm512_loadu_pd(p); }
  static TG_VM_INLINE void store(double* p, R v) { _mm512_storeu_pd(p, v); }
  static TG_VM_INLINE R fma(R a, R b, R c) { return _mm512_fmadd_pd(a, b, c); }
  static TG_VM_INLINE R fnma(R a, R b, R c) { return _mm512_fnmadd_pd(a, b, c); }
  static TG_VM_INLINE R fnms(R a, R b, R c) { return _mm512_fnmsub_pd(a, b, c); }
  static TG_VM_INLINE R add(R a, R b) { return _mm512_add_pd(a, b); }
  static TG_VM_INLINE R sub(R a, R b) { return _mm512_sub_pd(a, b); }
  static TG_VM_INLINE R mul(R a, R b) { return _mm512_mul_pd(a, b); }
  static TG_VM_INLINE R scalef(R a, R b) { return _mm512_maskz_scalef_pd(__mmask8(0xff), a, b); }
  static TG_VM_INLINE Mask outside(R x, R m) { return _mm512_cmp_pd_mask(_mm512_abs_pd(x), m, _CMP_NLE_UQ); }
  static TG_VM_INLINE R abs(R a) { return _mm512_abs_pd(a); }
  static TG_VM_INLINE R div(R a, R b) { return _mm512_div_pd(a, b); }
  static TG_VM_INLINE R min(R a, R b) { return _mm512_maskz_min_pd(__mmask8(0xff), a, b); }
  static TG_VM_INLINE R blend(Mask m, R a, R b) { return _mm512_mask_blend_pd(m, a, b); }
  static TG_VM_INLINE Mask cmp_lt(R a, R b) { return _mm512_cmp_pd_mask(a, b, _CMP_LT_OQ); }
  static TG_VM_INLINE Mask cmp_ge(R a, R b) { return _mm512_cmp_pd_mask(a, b, _CMP_GE_OQ); }
  static TG_VM_INLINE __m512i iadd(__m512i a, __m512i b) { return _mm512_add_epi64(a, b); }
  static TG_VM_INLINE __m512i isub(__m512i a, __m512i b) { return _mm512_sub_epi64(a, b); }
  static TG_VM_INLINE __m512i iset1(uint64_t v) { return _mm512_set1_epi64(int64_t(v)); }
  template <int S>
  static TG_VM_INLINE __m512i srl(__m512i a) {
    return _mm512_maskz_srli_epi64(__mmask8(0xff), a, S);
  }
  template <int S>
  static TG_VM_INLINE __m512i sll(__m512i a) {
    return _mm512_maskz_slli_epi64(__mmask8(0xff), a, S);
  }
  static TG_VM_INLINE __m512i bits(R a) { return _mm512_castpd_si512(a); }
  static TG_VM_INLINE R from_bits(__m512i a) { return _mm512_castsi512_pd(a); }
  static TG_VM_INLINE Mask not_within(R x, R lo, R hi) {
    return Mask(~(_mm512_cmp_pd_mask(x, lo, _CMP_GE_OQ) & _mm512_cmp_pd_mask(x, hi, _CMP_LE_OQ)));
  }
};

// Whole registers of exp over a[0:n) into o[0:n) (o may be a); returns the elements done (the
// caller's loop does the rest). Lanes outside the fast domain take libm, as in ExpK.
template <class T, size_t N>
int64_t exp_avx512(const T* a, T* o, int64_t n, const T (&coef)[N]) {
  using Z = Zmm<T>;
  using R = typename Z::R;
  constexpr int W = Z::kW;
  // The constants live in registers for the whole loop (32 of them on AVX-512).
  const R log2e = Z::set1(K<T>::kLog2e), magic = Z::set1(K<T>::kMagic);
  const R ln2hi = Z::set1(K<T>::kLn2Hi), ln2lo = Z::set1(K<T>::kLn2Lo);
  const R one = Z::set1(T(1)), emax = Z::set1(K<T>::kExpMax);
  R c[N];
  for (size_t k = 0; k < N; ++k) c[k] = Z::set1(coef[k]);
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    const R x = Z::load(a + i);
    const typename Z::Mask bad = Z::outside(x, emax);
    const R y = Z::fma(x, log2e, magic);
    const R nn = Z::sub(y, magic);
    R r = Z::fnma(nn, ln2hi, x);
    r = Z::fnma(nn, ln2lo, r);
    R p = c[N - 1];
    for (size_t k = N - 1; k-- > 0;) p = Z::fma(p, r, c[k]);  // horner(r, coef)
    const R e = Z::fma(Z::mul(r, r), p, r);                   // r + r^2 P(r)
    R res = Z::scalef(Z::add(e, one), nn);
    if (__builtin_expect(bad != 0, 0)) {
      alignas(64) T xs[W], rs[W];
      Z::store(xs, x);
      Z::store(rs, res);
      for (int j = 0; j < W; ++j)
        if ((bad >> j) & 1) rs[j] = std::exp(xs[j]);
      res = Z::load(rs);
    }
    Z::store(o + i, res);
  }
  return i;
}
template <class T>
int64_t exp_avx512(const T* a, T* o, int64_t n) {
  if constexpr (sizeof(T) == 4) return exp_avx512(a, o, n, kExpF);
  else return exp_avx512(a, o, n, kExpD);
}

// Whole registers of body over a[0:n) into o[0:n) (o may be a): body(x, bad) returns the register
// of results and sets the mask of lanes that Kn::scalar recomputes. The body's constants are
// captured by value, so they stay in registers for the whole loop. Returns the elements done.
template <class Kn, class Body>
TG_VM_INLINE int64_t zmm_unary(const typename Kn::T* a, typename Kn::T* o, int64_t n, Body body) {
  using T = typename Kn::T;
  using Z = Zmm<T>;
  using R = typename Z::R;
  constexpr int W = Z::kW;
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    const R x = Z::load(a + i);
    typename Z::Mask bad = 0;
    R res = body(x, bad);
    if (__builtin_expect(bad != 0, 0)) {
      alignas(64) T xs[W], rs[W];
      Z::store(xs, x);
      Z::store(rs, res);
      for (int j = 0; j < W; ++j)
        if ((bad >> j) & 1) rs[j] = Kn::scalar(xs[j]);
      res = Z::load(rs);
    }
    Z::store(o + i, res);
  }
  return i;
}

// Note [AVX-512 sin, cos and log loops]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
// sin and cos are the next most used functions after exp (their gradients are each other; the
// jit's expressions), and the generic SinK/CosK loops lose on AVX-512 the way ExpK's did (Note
// [AVX-512 exp loop]). These loops compute the same arithmetic with intrinsics: reduce_pio2's
// reduction (float32: in float32 with pi/2 in three parts, lanes beyond 65536 by reduce_pio2_f,
// chosen per lane; float64: four parts), sincos_poly's two polynomials with
// GCC's contractions of them (w = 1 - z/2 and (1 - w) - z/2 are fused multiply-adds), and the
// quadrant's choice and sign of sin_of_quadrant / cos_of_quadrant (the two sign flips spelled as
// one xor of sign bits). Results are bit-identical to the generic kernels (multi-million point
// sweeps with NaN, +-Inf, +-0, subnormals, |x| up to 3e38 and near multiples of pi/2 on every
// length, stride and the fused replay; tests/test_simd.py compares the avx2 and avx512 paths).
// 10-20% fewer ns per element than the generic loops at 10^3-10^6 elements (one thread). The
// fused replay's sincos step (sincos_avx512) shares the code, so it keeps the unary loops' bits.
// log (log_avx512) the same way: log_reduce's integer steps, log1p_small with GCC's contractions
// (f - s (f - z Q) as two fused negated multiply-adds), log_core's sum: float32 only, 10-20%
// faster; the float64 form (same code with kLogD) was bit-identical too but not faster beyond the
// noise of repeated runs (-3% to +8%), so float64 keeps the generic loop. sigmoid (sigmoid_avx512) likewise with
// exp_core's steps as GCC spells them for exp_core(-m) (see there), 5-18% faster.
// tanh was tried the same way and gained under 5%: its loop is bound by the division e / (e + 2),
// which intrinsics do not change.
template <class T>
struct SinCosZmm;
template <>
struct SinCosZmm<float> {
  using Z = Zmm<float>;
  using R = __m512;
  using Q = __m512i;
  R lim = Z::set1(1e6f), wide = Z::set1(65536.0f), twoopi = Z::set1(0x1.45f306p-1f), magic = Z::set1(0x1.8p23f);
  R c1 = Z::set1(0x1.921fb6p+0f), c2 = Z::set1(-0x1.777a5cp-25f), c3 = Z::set1(-0x1.ee59dap-50f);
  R one = Z::set1(1.0f), half = Z::set1(0.5f);
  R sc[4], cc[4];
  SinCosZmm() {
    for (int k = 0; k < 4; ++k) sc[k] = Z::set1(kSinF[k]), cc[k] = Z::set1(kCosF[k]);
  }
  // s = sin(r), c = cos(r) of the reduced |x| and its quadrant q (low two bits); bad: |x| > 1e6 or NaN.
  TG_VM_INLINE void operator()(R x, R& s, R& c, Q& q, __mmask16& bad) const {
    const R ax = Z::abs(x);
    bad = Z::outside(x, lim);
    // reduce_pio2's per-lane choice: float32 reduction for |x| <= 65536, float64 beyond.
    const R y = Z::fma(ax, twoopi, magic);
    const R n = Z::sub(y, magic);
    R r = Z::fnma(n, c1, ax);
    r = Z::fnma(n, c2, r);
    r = Z::fnma(n, c3, r);
    q = _mm512_castps_si512(y);
    const __mmask16 wl = _mm512_cmp_ps_mask(ax, wide, _CMP_GT_OQ);
    if (__builtin_expect(wl != 0, 0)) {
      VU32 qv;
      r = _mm512_mask_blend_ps(wl, r, (R)reduce_pio2_f((VF)ax, qv));
      q = _mm512_mask_blend_epi32(wl, q, (Q)qv);
    }
    const R z = Z::mul(r, r);
    R ps = sc[3], pc = cc[3];
    for (int k = 3; k-- > 0;) {
      ps = Z::fma(ps, z, sc[k]);
      pc = Z::fma(pc, z, cc[k]);
    }
    s = Z::fma(Z::mul(r, z), ps, r);
    const R w = Z::fnma(z, half, one);
    c = Z::add(w, Z::fma(Z::mul(z, z), pc, Z::fnma(z, half, Z::sub(one, w))));
  }
  static TG_VM_INLINE R sin_of(R x, Q q, R s, R c) {
    const R r = _mm512_mask_blend_ps(_mm512_test_epi32_mask(q, _mm512_set1_epi32(1)), s, c);
    const Q sg =
        _mm512_and_si512(_mm512_xor_si512(_mm512_maskz_slli_epi32(__mmask16(0xffff), q, 30), _mm512_castps_si512(x)),
                         _mm512_set1_epi32(int32_t(0x80000000u)));
    return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(r), sg));
  }
  static TG_VM_INLINE R cos_of(Q q, R s, R c) {
    const R r = _mm512_mask_blend_ps(_mm512_test_epi32_mask(q, _mm512_set1_epi32(1)), c, s);
    const Q sg =
        _mm512_and_si512(_mm512_maskz_slli_epi32(__mmask16(0xffff), _mm512_add_epi32(q, _mm512_set1_epi32(1)), 30),
                         _mm512_set1_epi32(int32_t(0x80000000u)));
    return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(r), sg));
  }
};
template <>
struct SinCosZmm<double> {
  using Z = Zmm<double>;
  using R = __m512d;
  using Q = __m512i;
  R lim = Z::set1(1e6), twoopi = Z::set1(0x1.45f306dc9c883p-1), magic = Z::set1(0x1.8p52);
  R c1 = Z::set1(0x1.921fb544p+0), c2 = Z::set1(0x1.0b4611a6p-34), c3 = Z::set1(0x1.3198a2ep-69);
  R c4 = Z::set1(0x1.b839a252049c1p-104), one = Z::set1(1.0), half = Z::set1(0.5);
  R sc[7], cc[7];
  SinCosZmm() {
    for (int k = 0; k < 7; ++k) sc[k] = Z::set1(kSinD[k]), cc[k] = Z::set1(kCosD[k]);
  }
  TG_VM_INLINE void operator()(R x, R& s, R& c, Q& q, __mmask8& bad) const {
    const R ax = Z::abs(x);
    bad = Z::outside(x, lim);
    const R y = Z::fma(ax, twoopi, magic);
    const R n = Z::sub(y, magic);
    R r = Z::fnma(n, c1, ax);
    r = Z::fnma(n, c2, r);
    r = Z::fnma(n, c3, r);
    r = Z::fnma(n, c4, r);
    q = _mm512_castpd_si512(y);
    const R z = Z::mul(r, r);
    R ps = sc[6], pc = cc[6];
    for (int k = 6; k-- > 0;) {
      ps = Z::fma(ps, z, sc[k]);
      pc = Z::fma(pc, z, cc[k]);
    }
    s = Z::fma(Z::mul(r, z), ps, r);
    const R w = Z::fnma(z, half, one);
    c = Z::add(w, Z::fma(Z::mul(z, z), pc, Z::fnma(z, half, Z::sub(one, w))));
  }
  static TG_VM_INLINE R sin_of(R x, Q q, R s, R c) {
    const R r = _mm512_mask_blend_pd(_mm512_test_epi64_mask(q, _mm512_set1_epi64(1)), s, c);
    const Q sg =
        _mm512_and_si512(_mm512_xor_si512(_mm512_maskz_slli_epi64(__mmask8(0xff), q, 62), _mm512_castpd_si512(x)),
                         _mm512_set1_epi64(int64_t(0x8000000000000000ull)));
    return _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(r), sg));
  }
  static TG_VM_INLINE R cos_of(Q q, R s, R c) {
    const R r = _mm512_mask_blend_pd(_mm512_test_epi64_mask(q, _mm512_set1_epi64(1)), c, s);
    const Q sg =
        _mm512_and_si512(_mm512_maskz_slli_epi64(__mmask8(0xff), _mm512_add_epi64(q, _mm512_set1_epi64(1)), 62),
                         _mm512_set1_epi64(int64_t(0x8000000000000000ull)));
    return _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(r), sg));
  }
};
// log with LogK's arithmetic: log_reduce's integer steps, log1p_small, log_core's sum.
template <class T, size_t N>
int64_t log_avx512(const T* a, T* o, int64_t n, const T (&coef)[N]) {
  using Z = Zmm<T>;
  using R = typename Z::R;
  using UInt = typename K<T>::UInt;
  constexpr int kMant = K<T>::kMant;
  const R lo = Z::set1(std::numeric_limits<T>::min()), hi = Z::set1(std::numeric_limits<T>::max());
  const __m512i kadd = Z::iset1(UInt((K<T>::kExpOffset << kMant) - K<T>::kSqrtHalf));
  const __m512i twomant = Z::bits(Z::set1(K<T>::kTwoMant)), off = Z::iset1(K<T>::kExpOffset);
  const R kfsub = Z::set1(K<T>::kTwoMant + T(K<T>::kExpOffset)), one = Z::set1(T(1)), two = Z::set1(T(2));
  const R ln2hi = Z::set1(K<T>::kLn2Hi), ln2lo = Z::set1(K<T>::kLn2Lo);
  R c[N];
  for (size_t k = 0; k < N; ++k) c[k] = Z::set1(coef[k]);
  return zmm_unary<LogK<T>>(a, o, n, [=](R x, typename Z::Mask& bad) {
    bad = Z::not_within(x, lo, hi);
    const __m512i i = Z::bits(x);
    const __m512i kb = Z::template srl<kMant>(Z::iadd(i, kadd));  // k + offset
    const R kf = Z::sub(Z::from_bits(_mm512_or_si512(kb, twomant)), kfsub);
    const R f = Z::sub(Z::from_bits(Z::isub(i, Z::template sll<kMant>(Z::isub(kb, off)))), one);
    const R sv = Z::div(f, Z::add(f, two));
    const R z = Z::mul(sv, sv);
    R q = c[N - 1];
    for (size_t k = N - 1; k-- > 0;) q = Z::fma(q, z, c[k]);
    const R l = Z::fnma(sv, Z::fnma(z, q, f), f);
    return Z::fma(kf, ln2hi, Z::fma(kf, ln2lo, l));
  });
}
inline int64_t log_avx512(const float* a, float* o, int64_t n) { return log_avx512(a, o, n, kLogF); }

// sigmoid with SigmoidK's arithmetic: e = exp_core(-min(|x|, kExpMax)) (2^n by vscalef, as in
// exp_avx512), 1 / (e + 1), times e for x < 0.
template <class T, size_t N>
int64_t sigmoid_avx512(const T* a, T* o, int64_t n, const T (&coef)[N]) {
  using Z = Zmm<T>;
  using R = typename Z::R;
  const R log2e = Z::set1(K<T>::kLog2e), magic = Z::set1(K<T>::kMagic);
  const R ln2hi = Z::set1(K<T>::kLn2Hi), ln2lo = Z::set1(K<T>::kLn2Lo);
  const R one = Z::set1(T(1)), emax = Z::set1(K<T>::kExpMax), nemax = Z::set1(-K<T>::kExpMax);
  const R zero = Z::set1(T(0));
  R c[N];
  for (size_t k = 0; k < N; ++k) c[k] = Z::set1(coef[k]);
  return zmm_unary<SigmoidK<T>>(a, o, n, [=](R x, typename Z::Mask& bad) {
    bad = Z::cmp_lt(x, nemax);
    // m = min(|x|, kExpMax) enters negated, as GCC folds exp_core(-m): y = magic - m log2e and
    // r = -(n ln2hi) - m (the same roundings as with -m; a NaN keeps its sign, as there).
    const R m = Z::min(emax, Z::abs(x));
    const R y = Z::fnma(m, log2e, magic);
    const R nn = Z::sub(y, magic);
    R r = Z::fnms(nn, ln2hi, m);
    r = Z::fnma(nn, ln2lo, r);
    R p = c[N - 1];
    for (size_t k = N - 1; k-- > 0;) p = Z::fma(p, r, c[k]);
    const R e = Z::scalef(Z::add(Z::fma(Z::mul(r, r), p, r), one), nn);
    const R d = Z::div(one, Z::add(e, one));
    return Z::blend(Z::cmp_ge(x, zero), Z::mul(e, d), d);
  });
}
template <class T>
int64_t sigmoid_avx512(const T* a, T* o, int64_t n) {
  if constexpr (sizeof(T) == 4) return sigmoid_avx512(a, o, n, kExpF);
  else return sigmoid_avx512(a, o, n, kExpD);
}

template <class T>
int64_t sin_avx512(const T* a, T* o, int64_t n) {
  using Z = Zmm<T>;
  const SinCosZmm<T> sc;
  return zmm_unary<SinK<T>>(a, o, n, [=](typename Z::R x, typename Z::Mask& bad) {
    typename Z::R s, c;
    __m512i q;
    sc(x, s, c, q, bad);
    return SinCosZmm<T>::sin_of(x, q, s, c);
  });
}
template <class T>
int64_t cos_avx512(const T* a, T* o, int64_t n) {
  using Z = Zmm<T>;
  const SinCosZmm<T> sc;
  return zmm_unary<CosK<T>>(a, o, n, [=](typename Z::R x, typename Z::Mask& bad) {
    typename Z::R s, c;
    __m512i q;
    sc(x, s, c, q, bad);
    return SinCosZmm<T>::cos_of(q, s, c);
  });
}
// sin and cos together (the fused replay's sincos step) over whole registers; returns the
// elements done. Lanes flagged bad take libm for both, as run_sincos does.
template <class T>
int64_t sincos_avx512(const T* a, T* os, T* oc, int64_t n) {
  using Z = Zmm<T>;
  using R = typename Z::R;
  constexpr int W = Z::kW;
  const SinCosZmm<T> scz;
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    const R x = Z::load(a + i);
    R s, c;
    __m512i q;
    typename Z::Mask bad;
    scz(x, s, c, q, bad);
    R rs = SinCosZmm<T>::sin_of(x, q, s, c), rc = SinCosZmm<T>::cos_of(q, s, c);
    if (__builtin_expect(bad != 0, 0)) {
      alignas(64) T xs[W], ss[W], cs[W];
      Z::store(xs, x);
      Z::store(ss, rs);
      Z::store(cs, rc);
      for (int j = 0; j < W; ++j)
        if ((bad >> j) & 1) {
          ss[j] = SinK<T>::scalar(xs[j]);
          cs[j] = CosK<T>::scalar(xs[j]);
        }
      rs = Z::load(ss);
      rc = Z::load(cs);
    }
    Z::store(os + i, rs);
    Z::store(oc + i, rc);
  }
  return i;
}
#endif

// ---- loops -----------------------------------------------------------------------------------

// Contiguous run: whole registers, then the tail through a padded register.
template <class Kn>
void run_contig(const typename Kn::T* a, typename Kn::T* o, int64_t n) {
  using T = typename Kn::T;
  using V = typename Kn::V;
  using M = typename Kn::M;
  constexpr int W = int(sizeof(V) / sizeof(T));
  int64_t i = 0;
#if defined(TG_VM_X86) && defined(__AVX512F__)
  if constexpr (std::is_same<Kn, ExpK<T>>::value) i = exp_avx512(a, o, n);      // Note [AVX-512 exp loop]
  if constexpr (std::is_same<Kn, LogK<float>>::value) i = log_avx512(a, o, n);  // (float64: no gain)
  if constexpr (std::is_same<Kn, SigmoidK<T>>::value) i = sigmoid_avx512(a, o, n);
  if constexpr (std::is_same<Kn, SinK<T>>::value) i = sin_avx512(a, o, n);  // Note [AVX-512 sin, cos and log loops]
  if constexpr (std::is_same<Kn, CosK<T>>::value) i = cos_avx512(a, o, n);
#endif
  for (; i + W <= n; i += W) {
    V x;
    std::memcpy(&x, a + i, sizeof(V));
    M bad;
    V y = Kn::vec(x, bad);
    if (__builtin_expect(any(bad), 0)) {
      for (int j = 0; j < W; ++j)
        if (bad[j]) y[j] = Kn::scalar(x[j]);
    }
    std::memcpy(o + i, &y, sizeof(V));
  }
  if (i < n) {
    const int rem = int(n - i);
    V x = bc<V>(T(0.5));
    std::memcpy(&x, a + i, size_t(rem) * sizeof(T));
    M bad;
    V y = Kn::vec(x, bad);
    for (int j = 0; j < rem; ++j)
      if (bad[j]) y[j] = Kn::scalar(x[j]);
    std::memcpy(o + i, &y, size_t(rem) * sizeof(T));
  }
}

// The Loop (see iter.h): contiguous runs directly; strided runs through a small buffer.
template <class Kn>
void vm_loop(char** p, const int64_t* s, int64_t n) {
  using T = typename Kn::T;
  constexpr int64_t sz = int64_t(sizeof(T));
  if (s[0] == sz && s[1] == sz) {
    run_contig<Kn>(reinterpret_cast<const T*>(p[1]), reinterpret_cast<T*>(p[0]), n);
    return;
  }
  constexpr int64_t kBuf = 256;
  alignas(64) T in[kBuf], out[kBuf];
  char* po = p[0];
  const char* pa = p[1];
  for (int64_t b = 0; b < n; b += kBuf) {
    const int64_t m = n - b < kBuf ? n - b : kBuf;
    for (int64_t j = 0; j < m; ++j, pa += s[1]) std::memcpy(&in[j], pa, sizeof(T));
    run_contig<Kn>(in, out, m);
    for (int64_t j = 0; j < m; ++j, po += s[0]) std::memcpy(po, &out[j], sizeof(T));
  }
}

// Binary kernels: contiguous or scalar operands directly; anything else through small buffers.
template <class Kn>
void run_contig2(const typename Kn::T* a, int64_t sa, const typename Kn::T* b, int64_t sb, typename Kn::T* o,
                 int64_t n) {
  using T = typename Kn::T;
  using V = typename Kn::V;
  using M = typename Kn::M;
  constexpr int W = int(sizeof(V) / sizeof(T));
  V av = bc<V>(*a), bv = bc<V>(*b);  // for scalar operands (stride 0)
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    V x = av, y = bv;
    if (sa) std::memcpy(&x, a + i, sizeof(V));
    if (sb) std::memcpy(&y, b + i, sizeof(V));
    M bad;
    V r = Kn::vec(x, y, bad);
    if (__builtin_expect(any(bad), 0)) {
      for (int j = 0; j < W; ++j)
        if (bad[j]) r[j] = Kn::scalar(x[j], y[j]);
    }
    std::memcpy(o + i, &r, sizeof(V));
  }
  if (i < n) {
    const int rem = int(n - i);
    V x = sa ? bc<V>(T(1)) : av, y = sb ? bc<V>(T(1)) : bv;
    if (sa) std::memcpy(&x, a + i, size_t(rem) * sizeof(T));
    if (sb) std::memcpy(&y, b + i, size_t(rem) * sizeof(T));
    M bad;
    V r = Kn::vec(x, y, bad);
    for (int j = 0; j < rem; ++j)
      if (bad[j]) r[j] = Kn::scalar(x[j], y[j]);
    std::memcpy(o + i, &r, size_t(rem) * sizeof(T));
  }
}

template <class Kn>
void vm_bin_loop(char** p, const int64_t* s, int64_t n) {
  using T = typename Kn::T;
  constexpr int64_t sz = int64_t(sizeof(T));
  if (s[0] == sz && (s[1] == sz || s[1] == 0) && (s[2] == sz || s[2] == 0)) {
    run_contig2<Kn>(reinterpret_cast<const T*>(p[1]), s[1], reinterpret_cast<const T*>(p[2]), s[2],
                    reinterpret_cast<T*>(p[0]), n);
    return;
  }
  constexpr int64_t kBuf = 256;
  alignas(64) T ina[kBuf], inb[kBuf], out[kBuf];
  char* po = p[0];
  const char* pa = p[1];
  const char* pb = p[2];
  for (int64_t b = 0; b < n; b += kBuf) {
    const int64_t m = n - b < kBuf ? n - b : kBuf;
    for (int64_t j = 0; j < m; ++j, pa += s[1], pb += s[2]) {
      std::memcpy(&ina[j], pa, sizeof(T));
      std::memcpy(&inb[j], pb, sizeof(T));
    }
    run_contig2<Kn>(ina, 1, inb, 1, out, m);
    for (int64_t j = 0; j < m; ++j, po += s[0]) std::memcpy(po, &out[j], sizeof(T));
  }
}

// sin and cos of one operand: p[0] receives sin, p[1] cos, p[2] is the argument (a Loop with three
// operands; contiguous runs directly, strided ones through small buffers).
template <class F>
void run_sincos(const F* a, F* os, F* oc, int64_t n) {
  using Kn = SinCosK<F>;
  using V = typename Kn::V;
  using M = typename Kn::M;
  constexpr int W = int(sizeof(V) / sizeof(F));
  int64_t i = 0;
#if defined(TG_VM_X86) && defined(__AVX512F__)
  i = sincos_avx512(a, os, oc, n);  // Note [AVX-512 sin, cos and log loops]
#endif
  for (; i + W <= n; i += W) {
    V x, s, c;
    std::memcpy(&x, a + i, sizeof(V));
    M bad;
    Kn::vec(x, s, c, bad);
    if (__builtin_expect(any(bad), 0)) {
      for (int j = 0; j < W; ++j)
        if (bad[j]) {
          s[j] = SinK<F>::scalar(x[j]);
          c[j] = CosK<F>::scalar(x[j]);
        }
    }
    std::memcpy(os + i, &s, sizeof(V));
    std::memcpy(oc + i, &c, sizeof(V));
  }
  if (i < n) {
    const int rem = int(n - i);
    V x = bc<V>(F(0.5)), s, c;
    std::memcpy(&x, a + i, size_t(rem) * sizeof(F));
    M bad;
    Kn::vec(x, s, c, bad);
    for (int j = 0; j < rem; ++j)
      if (bad[j]) {
        s[j] = SinK<F>::scalar(x[j]);
        c[j] = CosK<F>::scalar(x[j]);
      }
    std::memcpy(os + i, &s, size_t(rem) * sizeof(F));
    std::memcpy(oc + i, &c, size_t(rem) * sizeof(F));
  }
}

template <class F>
void sincos_loop(char** p, const int64_t* s, int64_t n) {
  constexpr int64_t sz = int64_t(sizeof(F));
  if (s[0] == sz && s[1] == sz && s[2] == sz) {
    run_sincos<F>(reinterpret_cast<const F*>(p[2]), reinterpret_cast<F*>(p[0]), reinterpret_cast<F*>(p[1]), n);
    return;
  }
  constexpr int64_t kBuf = 256;
  alignas(64) F in[kBuf], os[kBuf], oc[kBuf];
  char* ps = p[0];
  char* pc = p[1];
  const char* pa = p[2];
  for (int64_t b = 0; b < n; b += kBuf) {
    const int64_t m = n - b < kBuf ? n - b : kBuf;
    for (int64_t j = 0; j < m; ++j, pa += s[2]) std::memcpy(&in[j], pa, sizeof(F));
    run_sincos<F>(in, os, oc, m);
    for (int64_t j = 0; j < m; ++j, ps += s[0], pc += s[1]) {
      std::memcpy(ps, &os[j], sizeof(F));
      std::memcpy(pc, &oc[j], sizeof(F));
    }
  }
}

// Puts this ISA's vector-math loops into its table (called by install_vecmath_<isa>).
inline void install(IsaTable& t) {
#define TG_VM_INSTALL(OP, KERNEL)                                      \
  t.unary[int(Un::OP)][int(DType::Float32)] = &vm_loop<KERNEL<float>>; \
  t.unary[int(Un::OP)][int(DType::Float64)] = &vm_loop<KERNEL<double>>;
  TG_VECMATH_KERNELS(TG_VM_INSTALL)
#undef TG_VM_INSTALL
  t.binary[int(Bin::Pow)][int(DType::Float32)] = &vm_bin_loop<PowF32>;
  t.sincos[int(DType::Float32)] = &sincos_loop<float>;
  t.sincos[int(DType::Float64)] = &sincos_loop<double>;
}

}  // namespace vm
}  // namespace TG_ISA_NS
}  // namespace cpu
}  // namespace kernels
}  // namespace tapegrad
