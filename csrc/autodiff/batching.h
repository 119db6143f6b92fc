// Building blocks of batching rules (vmap). Each prim's rule is written beside the prim in
// csrc/ops/*.cpp (the `batch` slot of Prim, core/prim.h); the rules shared by whole families
// (elementwise ops, reductions over an axis mask, ops along one axis) and the helpers that move batch
// axes around live here. Everything is written with ops, so it runs through the outer levels too.
//
// Conventions: a *physical* value is what the batch level holds (the batch axis included); its batch
// axis `bdim` is -1 when the value is not batched. The *logical* rank is the rank the user's function
// sees (the physical rank minus one for batched values).
#pragma once
#include <cstdint>

#include "core/prim.h"

namespace tapegrad {
namespace autodiff {

inline int64_t logical_rank(const Tensor& x, int32_t bdim) { return x.ndim() - (bdim >= 0 ? 1 : 0); }

// Move axis `from` of `t` to position `to` (a transpose view).
Tensor move_axis(const Tensor& t, int64_t from, int64_t to);
// A batched x with its batch axis first (a view). Requires bdim >= 0.
Tensor batch_first(const Tensor& x, int32_t bdim);
// Batch axis first, then size-1 axes up to logical rank `rank`: numpy broadcasting then aligns the
// logical dims of every operand (unbatched operands are left as they are).
Tensor batch_first_padded(const Tensor& x, int32_t bdim, int64_t rank);
// Batch axis first; an unbatched x is broadcast along a new first axis of length `size` (a view).
// For ops whose operands must share the batch (concatenate, solve, scatters, ...).
Tensor batch_first_or_broadcast(const Tensor& x, int32_t bdim, int64_t size);
// `t` itself when it is contiguous or tracked (the level that unwraps it makes its value
// contiguous in turn), else a contiguous copy. For index rows, which kernels take contiguous.
Tensor contiguous_rows(const Tensor& t);
// Index rows (size, B..., k) of `size` independent row sets -> rows (size, B..., 1 + k) that also
// pick the batch element: row [b, ..., :] becomes (b, row...). With the batch axis first on the
// indexed tensor, one gather/scatter through them serves the whole batch.
Tensor prepend_batch_index(const Tensor& rows, int64_t size);

// Rules shared by families of prims.
// Elementwise with numpy broadcasting, any number of inputs (binary, unary, where, clip, cast, ...).
TensorList elementwise_batch(const Prim& p, const TensorList& in, const BatchDims& bd, const Attrs& a, int64_t size,
                             BatchDims& obd);
// One input, attrs.ints[0] = mask of the reduced logical axes (sum, prod, amax, any, std, norms, flip).
TensorList axis_mask_batch(const Prim& p, const TensorList& in, const BatchDims& bd, const Attrs& a, int64_t size,
                           BatchDims& obd);
// One input, attrs.ints[0] = one logical axis (softmax, cumsum, argmax, argsort, ...).
TensorList one_axis_batch(const Prim& p, const TensorList& in, const BatchDims& bd, const Attrs& a, int64_t size,
                          BatchDims& obd);
// Every input with the batch axis first (unbatched ones broadcast) and attrs.ints[0] a logical axis
// (concatenate, permute_along).
TensorList shared_axis_batch(const Prim& p, const TensorList& in, const BatchDims& bd, const Attrs& a, int64_t size,
                             BatchDims& obd);
// One input whose attrs do not mention its leading dims (the LAPACK prims: inv, det, slogdet,
// cholesky work on the last two dims of any batch): batch axis first, attrs as they are.
TensorList leading_batch(const Prim& p, const TensorList& in, const BatchDims& bd, const Attrs& a, int64_t size,
                         BatchDims& obd);
// Every input with the batch axis first (unbatched ones broadcast), attrs as they are (solve).
TensorList shared_leading_batch(const Prim& p, const TensorList& in, const BatchDims& bd, const Attrs& a, int64_t size,
                                BatchDims& obd);

}  // namespace autodiff
}  // namespace tapegrad
