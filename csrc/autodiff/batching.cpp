// Shared pieces of batching rules; see autodiff/batching.h. The per-prim rules are in ops/.
#include "autodiff/batching.h"

#include <algorithm>

#include "autodiff/levels.h"
#include "core/layer_hooks.h"

namespace tapegrad {
namespace autodiff {

Tensor move_axis(const Tensor& t, int64_t from, int64_t to) {
  if (from == to) return t;
  SmallVec<int64_t, 6> perm;
  for (int64_t i = 0; i < t.ndim(); ++i)
    if (i != from) perm.push_back(i);
  perm.insert(size_t(to), from);
  return g_op_hooks.transpose(t, perm);
}

Tensor batch_first(const Tensor& x, int32_t bdim) { return move_axis(x, bdim, 0); }

Tensor batch_first_padded(const Tensor& x, int32_t bdim, int64_t rank) {
  Tensor y = move_axis(x, bdim, 0);
  const int64_t lr = y.ndim() - 1;
  if (lr >= rank) return y;
  Shape s;
  s.push_back(y.shape()[0]);
  for (int64_t i = 0; i < rank - lr; ++i) s.push_back(1);
  for (int64_t i = 1; i < y.ndim(); ++i) s.push_back(y.shape()[size_t(i)]);
  return g_op_hooks.reshape(y, s);
}

Tensor batch_first_or_broadcast(const Tensor& x, int32_t bdim, int64_t size) {
  if (bdim >= 0) return move_axis(x, bdim, 0);
  Shape s = x.shape();
  s.insert(0, 1);
  Shape full = s;
  full[0] = size;
  return g_op_hooks.broadcast_to(g_op_hooks.reshape(x, s), full);
}

Tensor contiguous_rows(const Tensor& t) { return t.tracked() || t.is_contiguous() ? t : t.contiguous(); }

Tensor prepend_batch_index(const Tensor& rows, int64_t size) {
  // arange(size) laid along the first axis, broadcast to rows' shape with a last dim of 1
  Shape col = rows.shape();
  col.back() = 1;
  Shape lay(col.size(), 1);
  lay[0] = size;
  Tensor b = g_op_hooks.broadcast_to(g_op_hooks.reshape(g_op_hooks.arange_int(0, size, 1, DType::Int64), lay), col);
  return contiguous_rows(g_op_hooks.concatenate({b, rows}, -1));
}

namespace {
TensorList all_at(TensorList out, int32_t bdim, BatchDims& obd) {
  for (size_t j = 0; j < out.size(); ++j) obd.push_back(bdim);
  return out;
}
}  // namespace

// Every batched input as (B, 1..., logical shape): broadcasting lines up the logical dims of all
// inputs, batched or not, and the batch axis lands first in the result.
TensorList elementwise_batch(const Prim& p, const TensorList& in, const BatchDims& bd, const Attrs& a, int64_t,
                             BatchDims& obd) {
  int64_t rank = 0;
  for (size_t i = 0; i < in.size(); ++i)
    if (in[i].defined()) rank = std::max(rank, logical_rank(in[i], bd[i]));
  TensorList xs;
  for (size_t i = 0; i < in.size(); ++i) xs.push_back(bd[i] >= 0 ? batch_first_padded(in[i], bd[i], rank) : in[i]);
  return all_at(apply(p, xs, a), 0, obd);
}

// With the batch axis first, logical axis i is physical axis i + 1: shift the mask by one.
TensorList axis_mask_batch(const Prim& p, const TensorList& in, const BatchDims& bd, const Attrs& a, int64_t,
                           BatchDims& obd) {
  Attrs b = a;
  b.ints[0] = int64_t(uint64_t(a.ints[0]) << 1);
  return all_at(apply(p, {batch_first(in[0], bd[0])}, b), 0, obd);
}

TensorList one_axis_batch(const Prim& p, const TensorList& in, const BatchDims& bd, const Attrs& a, int64_t,
                          BatchDims& obd) {
  Attrs b = a;
  b.ints[0] = a.ints[0] + 1;
  return all_at(apply(p, {batch_first(in[0], bd[0])}, b), 0, obd);
}

TensorList shared_axis_batch(const Prim& p, const TensorList& in, const BatchDims& bd, const Attrs& a, int64_t size,
                             BatchDims& obd) {
  TensorList xs;
  for (size_t i = 0; i < in.size(); ++i) xs.push_back(batch_first_or_broadcast(in[i], bd[i], size));
  Attrs b = a;
  b.ints[0] = a.ints[0] + 1;
  return all_at(apply(p, xs, b), 0, obd);
}

TensorList leading_batch(const Prim& p, const TensorList& in, const BatchDims& bd, const Attrs& a, int64_t,
                         BatchDims& obd) {
  return all_at(apply(p, {batch_first(in[0], bd[0])}, a), 0, obd);
}

TensorList shared_leading_batch(const Prim& p, const TensorList& in, const BatchDims& bd, const Attrs& a, int64_t size,
                                BatchDims& obd) {
  TensorList xs;
  for (size_t i = 0; i < in.size(); ++i) xs.push_back(batch_first_or_broadcast(in[i], bd[i], size));
  return all_at(apply(p, xs, a), 0, obd);
}

}  // namespace autodiff
}  // namespace tapegrad
