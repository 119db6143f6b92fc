// Indexing: numpy basic and advanced indexing, read and write; gathers.
#pragma once
#include <vector>

#include "core/tensor.h"

namespace tapegrad {
namespace ops {

// One item of an index tuple.
struct IndexItem {
  enum Kind : uint8_t { Int, Slice, NewAxis, Ellipsis, Array } kind = Int;
  int64_t i = 0;                       // Int
  int64_t start = 0, stop = 0, step = 1;  // Slice (already resolved against the dim? no: raw)
  bool has_start = false, has_stop = false;
  Tensor array;  // Array: Int32/Int64 indices or a Bool mask
};

Tensor getitem(const Tensor& a, const std::vector<IndexItem>& idx);
// a[idx] = v: writes into `a`'s memory when nothing is tracked, else rebinds `a` to a functional
// update (so gradients flow through both the old value and v).
void setitem(Tensor& a, const std::vector<IndexItem>& idx, const Tensor& v);

Tensor take(const Tensor& a, const Tensor& indices, int64_t axis, bool flatten);
Tensor take_along_axis(const Tensor& a, const Tensor& indices, int64_t axis);
Tensor one_hot(const Tensor& indices, int64_t depth, DType dt);

}  // namespace ops
}  // namespace tapegrad
