// Indexing: numpy basic and advanced indexing, read and write; gathers.
#pragma once
#include <vector>

#include "core/tensor.h"

namespace tapegrad {
namespace ops {

// One item of an index tuple, as parsed from Python (bindings/tensor.cpp).
struct IndexItem {
  enum Kind : uint8_t { Int, Slice, NewAxis, Ellipsis, Array } kind = Int;
  int64_t i = 0;                          // Int (raw: may be negative)
  int64_t start = 0, stop = 0, step = 1;  // Slice, raw (resolved against the dim by the op)
  bool has_start = false, has_stop = false;
  Tensor array;  // Array: Int32/Int64 indices or a Bool mask, untracked; any ndim (0-d too)
};

// a[idx] with numpy's rules: basic indexing gives a view sharing a's memory; advanced indexing
// (integer arrays, Bool masks) gathers into a new tensor.
Tensor getitem(const Tensor& a, const std::vector<IndexItem>& idx);
// a[idx] = v: writes into `a`'s memory when nothing is tracked, else rebinds `a` to a functional
// update (so gradients flow through both the old value and v). v is cast to a's dtype and
// broadcast to the shape of a[idx].
void setitem(Tensor& a, const std::vector<IndexItem>& idx, const Tensor& v);

// numpy.take (axis ignored when `flatten`: a is flattened first).
Tensor take(const Tensor& a, const Tensor& indices, int64_t axis, bool flatten);
// numpy.take_along_axis (`flatten`: axis=None, a flattened and indices 1-d).
Tensor take_along_axis(const Tensor& a, const Tensor& indices, int64_t axis, bool flatten = false);
// MindSpore's one_hot: a new axis of size `depth` at `axis` holding on_value where it equals the
// index and off_value elsewhere (indices out of [0, depth) give off_value everywhere). Output dtype:
// on_value's. Differentiable in on_value and off_value, not in indices.
Tensor one_hot(const Tensor& indices, int64_t depth, const Tensor& on_value, const Tensor& off_value,
               int64_t axis = -1);
Tensor one_hot(const Tensor& indices, int64_t depth, DType dt);

// Canonical index primitives (see kernels/kernels_index.h): `idx` is a contiguous Int64 tensor of
// shape B + (k,) with in-range rows indexing the first k dims of `x`; values have shape
// B + x.shape[k:].
Tensor index_gather(const Tensor& x, const Tensor& idx);                // x[idx]
Tensor index_add(const Tensor& x, const Tensor& idx, const Tensor& v);  // x with x[idx] += v
Tensor index_put(const Tensor& x, const Tensor& idx, const Tensor& v);  // x with x[idx] = v

}  // namespace ops
}  // namespace tapegrad
