// The elementwise loops of the integer dtypes beyond Int32/Int64 (Int8, Int16, UInt8 ... UInt64),
// compiled once with the baseline flags and shared by every ISA table (Note [SIMD dispatch]):
// they are plain loops the compiler still vectorises for SSE2, and compiling them once per
// instruction set would triple their share of the build for kernels rarely on a hot path.
#define TG_ISA_NS isa_small_ints
#include "kernels/cpu/loops_impl.h"

namespace tapegrad {
namespace kernels {
namespace cpu {
void install_small_ints(IsaTable& t) { isa_small_ints::fill_small_ints(t); }
}  // namespace cpu
}  // namespace kernels
}  // namespace tapegrad
