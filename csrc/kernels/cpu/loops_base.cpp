// The elementwise loops compiled for one instruction set (flags set in CMakeLists.txt).
#define TG_ISA_NS isa_base
#include "kernels/cpu/loops_impl.h"

namespace tapegrad {
namespace kernels {
namespace cpu {
const IsaTable* table_base() {
  static const IsaTable t = [] {
    IsaTable r = isa_base::make_table("sse2");
    install_vecmath_base(r);
    return r;
  }();
  return &t;
}
}  // namespace cpu
}  // namespace kernels
}  // namespace tapegrad
