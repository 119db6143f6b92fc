// Vector math kernels compiled for one instruction set (flags set in CMakeLists.txt); see
// Note [Vector math] in vecmath_impl.h.
#define TG_ISA_NS isa_avx2
#include "kernels/cpu/loops.h"
#include "kernels/cpu/vecmath_impl.h"

namespace tapegrad {
namespace kernels {
namespace cpu {

void install_vecmath_avx2(IsaTable& t) { isa_avx2::vm::install(t); }

}  // namespace cpu
}  // namespace kernels
}  // namespace tapegrad
