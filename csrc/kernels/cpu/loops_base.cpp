// One instruction set's kernel table (Note [SIMD dispatch] in loops.h): the elementwise loops,
// the reductions' vector loops and the Philox words compiled with this file's -m flags
// (CMakeLists.txt), and the vector math of vecmath_base.cpp.
#define TG_ISA_NS isa_base
#include "kernels/cpu/loops_impl.h"
#include "kernels/cpu/philox_simd.h"
#include "kernels/cpu/reduce_simd.h"

namespace tapegrad {
namespace kernels {
namespace cpu {
const IsaTable* table_base() {
  static const IsaTable t = [] {
    IsaTable r = isa_base::make_table("sse2");
    install_vecmath_base(r);
    install_small_ints(r);
    install_complex(r);
    r.reduce = isa_base::reduce_loops();
    r.philox_words = &isa_base::philox::words;
    return r;
  }();
  return &t;
}
}  // namespace cpu
}  // namespace kernels
}  // namespace tapegrad
