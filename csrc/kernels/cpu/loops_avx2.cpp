// One instruction set's kernel table (Note [SIMD dispatch] in loops.h): the elementwise loops,
// the reductions' vector loops and the Philox words compiled with this file's -m flags
// (CMakeLists.txt), and the vector math of vecmath_avx2.cpp.
#define TG_ISA_NS isa_avx2
#include "kernels/cpu/loops_impl.h"
#include "kernels/cpu/philox_simd.h"
#include "kernels/cpu/reduce_simd.h"

namespace tapegrad {
namespace kernels {
namespace cpu {
const IsaTable* table_avx2() {
  static const IsaTable t = [] {
    IsaTable r = isa_avx2::make_table("avx2");
    install_vecmath_avx2(r);
    install_small_ints(r);
    install_complex(r);
    r.reduce = isa_avx2::reduce_loops();
    r.philox_words = &isa_avx2::philox::words;
    return r;
  }();
  return &t;
}
}  // namespace cpu
}  // namespace kernels
}  // namespace tapegrad
