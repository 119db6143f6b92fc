// The per-ISA kernel table (Note [SIMD dispatch]) and the scalar definitions behind its
// elementwise loops. loops_impl.h is compiled once per instruction set (loops_*.cpp, different -m
// flags), so the compiler vectorises each loop for that ISA; simd_path.cpp picks the table for the
// CPU at hand at run time.
//
// Note [SIMD dispatch]
// ~~~~~~~~~~~~~~~~~~~~
// One mechanism for every CPU kernel family that has SIMD code: elementwise loops (loops_impl.h),
// vector math (vecmath_impl.h), the float reductions' vector loops (reduce_simd.h) and the Philox
// words behind random draws (philox_simd.h). Each is a header compiled inside namespace
// TG_ISA_NS by one translation unit per instruction set (loops_<isa>.cpp, vecmath_<isa>.cpp;
// CMakeLists.txt gives each its -m flags; never a flag for the build machine's own CPU), so no inline function compiled
// with AVX-512 flags can be picked by the linker for another path. Each set's functions go into
// one IsaTable. simd_path.cpp detects the CPU's features once (cpu_has), picks the best table (or
// the one TAPEGRAD_SIMD caps it at) on first use, and `set_isa` (the testing hook
// `_core._set_simd_path`) swaps the whole table: loops, vector math, reductions and random words
// move together. The per-call cost is one atomic load of the table pointer and an indexed call,
// as for the elementwise loops before.
// What differs between paths: the float sums' association (reduce_simd.h adds in vector lanes
// as wide as the ISA's registers: 16, 32 or 64 bytes), so float sums may differ in the last bits
// between paths (as they did between SSE2 and AVX2 before); vector math may differ by its stated
// ULP bound (FMA contraction). Everything else (max/min/argmax, column sums, products, the
// integer kernels, random words and therefore random draws) is bit-identical on every path, and
// tests/test_simd.py checks both.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "core/dtype.h"
#include "kernels/cpu/iter.h"
#include "kernels/kernels.h"

namespace tapegrad {
namespace kernels {
namespace cpu {

// The float reductions' vector loops (reduce_simd.h), at the width of the table's ISA.
struct ReduceLoops {
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

// Words of Philox blocks [first, first + n) of the stream keyed by `seed`, 4 per block, in order
// (philox_simd.h): the same words on every path.
using PhiloxWords = void (*)(uint64_t seed, uint64_t first, int n, uint32_t* out);

struct IsaTable {
  const char* name;
  Loop binary[int(Bin::kCount)][kNumDTypes];
  Loop compare[int(Cmp::kCount)][kNumDTypes];
  Loop unary[int(Un::kCount)][kNumDTypes];
  Loop predicate[int(Pred::kCount)][kNumDTypes];
  Loop where[kNumDTypes];
  Loop clip[kNumDTypes];
  Loop cast[kNumDTypes][kNumDTypes];  // [to][from]
  // sin and cos of one float operand (p[0] gets sin, p[1] cos, p[2] the argument) with one range
  // reduction, bit-equal to the unary Sin and Cos loops (the fused replay's sincos step); null
  // where the vector math is not installed.
  Loop sincos[kNumDTypes];
  // Byte-coded values, the fused replay's Gather step from a table of kLookupBytes bytes:
  // p[0][i] = p[1][p[2][i]] with UInt8 codes p[2]; [0] for 4-byte elements, [1] for 8-byte ones.
  Loop lookup[2];
  ReduceLoops reduce;
  PhiloxWords philox_words;
};

// The size of a table the lookup loops read whole (16 float64 or 32 float32 values).
constexpr int64_t kLookupBytes = 128;

const IsaTable* table_base();
const IsaTable* table_avx2();
const IsaTable* table_avx512();
// The table in use (simd_path.cpp): the best one for this CPU unless a test forced another.
const IsaTable& isa();
// Force the table by name ("sse2", "avx2", "avx512", or "best"); false when this CPU cannot run it.
bool set_isa(const char* name);
// Whether this CPU (and build) runs the named path.
bool cpu_has(const char* isa_name);

// The unary ops with vectorised float32/float64 kernels (vecmath_impl.h), and the per-ISA hooks
// that put them into a table.
// clang-format off
#define TG_VECMATH_KERNELS(X)                                                                 \
  X(Exp, ExpK) X(Exp2, Exp2K) X(Expm1, Expm1K) X(Log, LogK) X(Log2, Log2K) X(Log1p, Log1pK)  \
  X(Sin, SinK) X(Cos, CosK) X(Tan, TanK) X(Arcsin, ArcsinK) X(Arccos, ArccosK)               \
  X(Arctan, ArctanK) X(Sinh, SinhK) X(Cosh, CoshK) X(Tanh, TanhK) X(Sigmoid, SigmoidK)        \
  X(Softplus, SoftplusK) X(Gelu, GeluK) X(Erf, ErfK)
// clang-format on
void install_vecmath_base(IsaTable& t);
void install_vecmath_avx2(IsaTable& t);
void install_vecmath_avx512(IsaTable& t);
// The loops of the integer dtypes only plain loops carry (Int8 ... UInt64, is_small_int), from one
// translation unit (small_ints.cpp) into every table.
void install_small_ints(IsaTable& t);
// The loops of Complex64/Complex128 (complex.cpp), likewise into every table.
void install_complex(IsaTable& t);

}  // namespace cpu
}  // namespace kernels
}  // namespace tapegrad
