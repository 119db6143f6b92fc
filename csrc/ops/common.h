// Shared helpers for writing ops and their rules.
#pragma once
#include "autodiff/levels.h"
#include "core/error.h"
#include "core/prim.h"
#include "core/tensor.h"
#include "ops/prims.h"

namespace tapegrad {
namespace ops {

// True when the op must go through autodiff::apply: an input is tracked at some level, or a jit
// trace is being recorded (it records ops on constants too, Note [Tape replay]). Else the op runs
// its forward directly: the per-op fast path.
inline bool any_tracked(const Tensor& a) { return a.tracked() || autodiff::traces_recording(); }
inline bool any_tracked(const Tensor& a, const Tensor& b) {
  return a.tracked() || b.tracked() || autodiff::traces_recording();
}
inline bool any_tracked(const Tensor& a, const Tensor& b, const Tensor& c) {
  return a.tracked() || b.tracked() || c.tracked() || autodiff::traces_recording();
}

// Rule helpers treating an undefined Tensor as zero.
Tensor opt_add(const Tensor& a, const Tensor& b);
Tensor opt_sub(const Tensor& a, const Tensor& b);
Tensor opt_neg(const Tensor& a);

// Float16 values are computed in float32 and rounded back.
inline DType compute_dtype(DType d) { return d == DType::Float16 ? DType::Float32 : d; }
// The device of an elementwise result: its first operand's, except that a 0-d CPU operand (a
// Python scalar) takes the other operands' device (kernels/dispatch.cpp lets it through).
inline Device result_device(const Tensor& a, const Tensor& b) {
  return (a.device() == Device::CPU && a.ndim() == 0) ? b.device() : a.device();
}
inline Device result_device(const Tensor& a, const Tensor& b, const Tensor& c) {
  return (a.device() == Device::CPU && a.ndim() == 0) ? result_device(b, c) : a.device();
}

std::string describe(const Tensor& t);  // "Tensor(shape=(2, 3), dtype=Float32)"

}  // namespace ops
}  // namespace tapegrad
