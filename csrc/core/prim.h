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

struct Prim;

// Batch axes of a prim's physical inputs or outputs under vmap: -1 = not batched.
using BatchDims = SmallVec<int32_t, 4>;

// Batching rule (vmap): the prim run once on the whole batch. `in` holds the physical values (each
// batched one carries the batch axis, of length `size`, at bdims[i]); the rule returns the physical
// outputs and sets out_bdims (one per output, -1: not batched). Rules call autodiff::apply on the
// same or other prims, so outer levels (nested vmap, grad around vmap) see the ops they run. Shared
// pieces (batch axis to the front, the elementwise rule, ...) are in autodiff/batching.h.
using BatchRule = TensorList (*)(const Prim& p, const TensorList& in, const BatchDims& bdims, const Attrs& a,
                                 int64_t size, BatchDims& out_bdims);

// Prim::vjp_reads bits.
constexpr uint8_t kReadsNone = 0, kReadsInputs = 1, kReadsOutputs = 2, kReadsInOut = 3;

struct Prim {
  const char* name;
  // Forward on values tracked at no level. Never sees the tape.
  TensorList (*impl)(const TensorList& in, const Attrs& a);
  // Reverse rule: cotangents of the outputs (an undefined Tensor is a zero) -> cotangent of each
  // input, undefined for "no gradient". `need` bit i asks for input i (i < 32; a rule of a prim
  // with more inputs computes the later ones always). Results may be broadcast
  // (the sweep sums them back to the input's shape) and of a wider dtype (cast back).
  TensorList (*vjp)(const TensorList& cots, const TensorList& in, const TensorList& out, const Attrs& a, uint32_t need);
  // Forward rule: tangents of the inputs (undefined = zero) -> tangent of each output (undefined =
  // zero). Written with ops, like vjp, so both compose to any order.
  TensorList (*jvp)(const TensorList& tangents, const TensorList& in, const TensorList& out, const Attrs& a);
  // Batching rule (vmap), see BatchRule. Null only for custom_vjp (its rule is Python code): the batch
  // level then runs the prim once per batch element (a loop in C++, counted by
  // autodiff::vmap_fallback_count()).
  BatchRule batch = nullptr;
  // Outputs are integer/boolean or piecewise constant: nothing flows through them.
  bool nondiff = false;
  // Optional: the forward a reverse level runs instead of impl, on the unwrapped inputs. It may
  // store what its vjp needs (residuals) in the record's attrs. Used by user-defined rules.
  TensorList (*record_forward)(const TensorList& in, Attrs& a) = nullptr;
  // Optional: forward mode is refused with this message (e.g. custom_vjp has no JVP).
  const char* no_jvp_reason = nullptr;
  // Writes into the memory of input 0 (a constant to every transform): a tg.jit trace records it
  // as a side effect to repeat on replay (setitem into a tensor the trace does not own).
  bool writes_input0 = false;
  // What the reverse rule reads besides shapes and dtypes: a reverse level keeps only that (the
  // rest is saved as shape and dtype alone, so its memory is freed as early as eager code frees it).
  uint8_t vjp_reads = kReadsInputs | kReadsOutputs;
  // The docstring, for the prims of the elementwise op table (core/elementwise_ops.def); null for
  // the others, whose docs are beside their bindings (_core._prims() reads them from there).
  const char* doc = nullptr;
  // The Python functions that reach this prim, space-separated, relative to the tapegrad module
  // ("sum mean", "linalg.norm"); null: the function of the prim's own name, if there is one;
  // "": none (an internal prim, reached only through other ops' rules).
  const char* api = nullptr;
};

// Note [Prim records]
// ~~~~~~~~~~~~~~~~~~~
// A prim is declared by name, field by field, instead of a positional initialiser of ten fields
// (C++17 has no designated initialisers):
//   constexpr Prim kSum = PrimDef("sum").impl(sum_impl).vjp(sum_vjp).jvp(sum_jvp).batch(b).reads(kReadsNone);
// Every step is constexpr, so the record is a constant (constant-initialised, no code at start-up;
// `constexpr` on the variable enforces it). Unset fields keep Prim's defaults.
class PrimDef {
 public:
  constexpr explicit PrimDef(const char* name) : p_{} { p_.name = name; }
  constexpr PrimDef impl(decltype(Prim::impl) f) const {
    PrimDef r = *this;
    r.p_.impl = f;
    return r;
  }
  constexpr PrimDef vjp(decltype(Prim::vjp) f) const {
    PrimDef r = *this;
    r.p_.vjp = f;
    return r;
  }
  constexpr PrimDef jvp(decltype(Prim::jvp) f) const {
    PrimDef r = *this;
    r.p_.jvp = f;
    return r;
  }
  constexpr PrimDef batch(BatchRule f) const {
    PrimDef r = *this;
    r.p_.batch = f;
    return r;
  }
  // Outputs are integer/boolean or piecewise constant (Prim::nondiff).
  constexpr PrimDef nondiff(bool v = true) const {
    PrimDef r = *this;
    r.p_.nondiff = v;
    return r;
  }
  constexpr PrimDef record_forward(decltype(Prim::record_forward) f) const {
    PrimDef r = *this;
    r.p_.record_forward = f;
    return r;
  }
  constexpr PrimDef no_jvp(const char* reason) const {
    PrimDef r = *this;
    r.p_.no_jvp_reason = reason;
    return r;
  }
  constexpr PrimDef writes_input0() const {
    PrimDef r = *this;
    r.p_.writes_input0 = true;
    return r;
  }
  constexpr PrimDef reads(uint8_t bits) const {
    PrimDef r = *this;
    r.p_.vjp_reads = bits;
    return r;
  }
  constexpr PrimDef doc(const char* d) const {
    PrimDef r = *this;
    r.p_.doc = d;
    return r;
  }
  constexpr PrimDef api(const char* names) const {
    PrimDef r = *this;
    r.p_.api = names;
    return r;
  }
  constexpr operator Prim() const { return p_; }  // NOLINT: the builder's product

 private:
  Prim p_;
};

}  // namespace tapegrad
