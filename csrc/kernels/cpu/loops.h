// Scalar definitions of every elementwise kernel and the loops over them. This header is compiled
// once per instruction set (loops_*.cpp, different -m flags), so the compiler vectorises each loop
// for that ISA; dispatch.cpp picks the table for the CPU at hand at run time.
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

struct IsaTable {
  const char* name;
  Loop binary[int(Bin::kCount)][kNumDTypes];
  Loop compare[int(Cmp::kCount)][kNumDTypes];
  Loop unary[int(Un::kCount)][kNumDTypes];
  Loop predicate[int(Pred::kCount)][kNumDTypes];
  Loop where[kNumDTypes];
  Loop clip[kNumDTypes];
  Loop cast[kNumDTypes][kNumDTypes];  // [to][from]
};

const IsaTable* table_base();
const IsaTable* table_avx2();
const IsaTable* table_avx512();
// The table in use: the best one for this CPU unless a test forced another (set_isa).
const IsaTable& isa();
// Force the table by name ("sse2", "avx2", "avx512"); false when this CPU cannot run it.
bool set_isa(const char* name);

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

}  // namespace cpu
}  // namespace kernels
}  // namespace tapegrad
