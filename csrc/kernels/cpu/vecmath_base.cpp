// Vector math kernels compiled for one instruction set (flags set in CMakeLists.txt); see
// Note [Vector math] in vecmath_impl.h.
#define TG_ISA_NS isa_base
#include "kernels/cpu/loops.h"
#include "kernels/cpu/vecmath_impl.h"

namespace tapegrad {
namespace kernels {
namespace cpu {

void install_vecmath_base(IsaTable& t) {
  using namespace isa_base::vm;
#define TG_VM_INSTALL(OP, KERNEL)                                                      \
  t.unary[int(Un::OP)][int(DType::Float32)] = &vm_loop<KERNEL<float>>;                 \
  t.unary[int(Un::OP)][int(DType::Float64)] = &vm_loop<KERNEL<double>>;
  TG_VECMATH_KERNELS(TG_VM_INSTALL)
#undef TG_VM_INSTALL
  t.binary[int(Bin::Pow)][int(DType::Float32)] = &vm_bin_loop<PowF32>;
}

}  // namespace cpu
}  // namespace kernels
}  // namespace tapegrad
