// One instruction set's kernel table (Note [SIMD dispatch] in loops.h): the elementwise loops,
// the reductions' vector loops and the Philox words compiled with this file's -m flags
// (CMakeLists.txt), and the vector math of vecmath_avx512.cpp.
#define TG_ISA_NS isa_avx512
#include "kernels/cpu/loops_impl.h"
#include "kernels/cpu/philox_simd.h"
#include "kernels/cpu/reduce_simd.h"

namespace tapegrad {
namespace kernels {
namespace cpu {
const IsaTable* table_avx512() {
  static const IsaTable t = [] {
    IsaTable r = isa_avx512::make_table("avx512");
    install_vecmath_avx512(r);
    install_small_ints(r);
    install_complex(r);
    r.reduce = isa_avx512::reduce_loops();
    r.philox_words = &isa_avx512::philox::words;
    return r;
  }();
  return &t;
}
}  // namespace cpu
}  // namespace kernels
}  // namespace tapegrad
