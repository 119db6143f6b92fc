// The elementwise loops compiled for one instruction set (flags set in CMakeLists.txt).
#define TG_ISA_NS isa_avx512
#include "kernels/cpu/loops_impl.h"

namespace tapegrad {
namespace kernels {
namespace cpu {
const IsaTable* table_avx512() {
  static const IsaTable t = [] {
    IsaTable r = isa_avx512::make_table("avx512");
    install_vecmath_avx512(r);
    return r;
  }();
  return &t;
}
}  // namespace cpu
}  // namespace kernels
}  // namespace tapegrad
