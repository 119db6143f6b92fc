// Full Jacobians in one batched sweep (Note [Jacobians]).
#pragma once
#include <functional>
#include <vector>

#include "core/prim.h"

namespace tapegrad {
namespace transforms {

// Note [Jacobians]
// ~~~~~~~~~~~~~~~~
// jacrev traces f once under a reverse level, then sweeps the tape once with a *batch* of
// cotangents: the rows of the identity, carried by a batch level of size M = total output size, so
// every VJP rule runs once on the whole batch (batching rules, autodiff/batching.cpp). jacfwd pushes
// a batch level of size N = total input size, gives each input the matching columns of the identity
// as its (batched) tangent, and runs f once under a forward level. Each output/input block of the
// identity is eye(M, m_k, -offset_k) reshaped, so no slicing is needed. The cost is one trace plus
// one batched sweep, never one sweep per row or column. A large block is seeded in lazy form (Note
// [Lazy identity batches]): an elementwise function's sweep then runs on n-element values and
// writes its n x n Jacobian once.

// f maps tracked inputs to its outputs (a flat list). Its outputs with the levels removed go to
// *values when not null.
using FlatFn = std::function<TensorList(const TensorList&)>;

// jac[k][j] = d outputs[k] / d xs[j], of shape outputs[k].shape + xs[j].shape and xs[j]'s dtype.
// Outputs that are not floating point (or do not depend on an input) give zeros.
std::vector<TensorList> jacrev(const FlatFn& f, const TensorList& xs, TensorList* values);
std::vector<TensorList> jacfwd(const FlatFn& f, const TensorList& xs, TensorList* values);

// `t` without the wrappers of levels that are no longer active on this thread (the value a
// transform hands back to its caller, e.g. has_aux outputs). Batch wrappers are kept.
Tensor drop_stale(const Tensor& t);

}  // namespace transforms
}  // namespace tapegrad
