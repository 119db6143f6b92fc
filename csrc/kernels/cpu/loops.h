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
  Loop cast[kNumDTypes][kNumDTypes];  // [to][from]
};

const IsaTable* table_base();
const IsaTable* table_avx2();
const IsaTable* table_avx512();
// The table chosen for this CPU.
const IsaTable& isa();

}  // namespace cpu
}  // namespace kernels
}  // namespace tapegrad
