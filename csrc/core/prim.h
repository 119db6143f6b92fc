// The op table's interface: a primitive with its forward and its derivative rules side by side.
// Declared in core so that autodiff/ can call rules without including ops/ (see DESIGN.md).
#pragma once
#include <cstdint>
#include <memory>

#include "core/small_vec.h"
#include "core/tensor.h"

namespace tapegrad {

using TensorList = SmallVec<Tensor, 4>;

// Everything an op needs besides its tensor inputs. Small and copyable: tapes store it inline.
struct Attrs {
  SmallVec<int64_t, 8> ints;  // axes, shapes, permutations, slice specs
  double scalar = 0.0;
  int64_t flag = 0;  // kernel selector, keepdims, ...
  DType dtype = DType::Float32;
  // Host-language payload of user-defined rules (custom_vjp): null for every built-in op.
  std::shared_ptr<void> payload;
};

struct Prim {
  const char* name;
  // Forward on values tracked at no level. Never sees the tape.
  TensorList (*impl)(const TensorList& in, const Attrs& a);
  // Reverse rule: cotangents of the outputs (an undefined Tensor is a zero) -> cotangent of each
  // input, undefined for "no gradient". `need` bit i asks for input i. Results may be broadcast
  // (the sweep sums them back to the input's shape) and of a wider dtype (cast back).
  TensorList (*vjp)(const TensorList& cots, const TensorList& in, const TensorList& out, const Attrs& a,
                    uint32_t need);
  // Forward rule: tangents of the inputs (undefined = zero) -> tangent of each output (undefined =
  // zero). Written with ops, like vjp, so both compose to any order.
  TensorList (*jvp)(const TensorList& tangents, const TensorList& in, const TensorList& out, const Attrs& a);
  // Outputs are integer/boolean or piecewise constant: nothing flows through them.
  bool nondiff = false;
  // Optional: the forward a reverse level runs instead of impl, on the unwrapped inputs. It may
  // store what its vjp needs (residuals) in the record's attrs. Used by user-defined rules.
  TensorList (*record_forward)(const TensorList& in, Attrs& a) = nullptr;
  // Optional: forward mode is refused with this message (e.g. custom_vjp has no JVP).
  const char* no_jvp_reason = nullptr;
};

}  // namespace tapegrad
