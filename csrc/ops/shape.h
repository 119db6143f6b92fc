// Shape and layout ops. Views share storage where numpy's would.
#pragma once
#include <vector>

#include "core/small_vec.h"
#include "core/tensor.h"

namespace tapegrad {
namespace ops {

Tensor broadcast_to(const Tensor& a, const Shape& shape);
Tensor reshape(const Tensor& a, const Shape& shape);  // one -1 allowed
Tensor transpose(const Tensor& a, const SmallVec<int64_t, 6>& perm);  // empty perm: reverse
Tensor swapaxes(const Tensor& a, int64_t i, int64_t j);
Tensor squeeze(const Tensor& a, const SmallVec<int64_t, 6>& axes, bool all_axes);
Tensor expand_dims(const Tensor& a, int64_t axis);
Tensor flatten(const Tensor& a);
Tensor concatenate(const std::vector<Tensor>& xs, int64_t axis);
Tensor stack(const std::vector<Tensor>& xs, int64_t axis);
std::vector<Tensor> split(const Tensor& a, const SmallVec<int64_t, 6>& sections_or_indices, bool by_count,
                          int64_t axis);
Tensor flip(const Tensor& a, const SmallVec<int64_t, 6>& axes, bool all_axes);
Tensor tile(const Tensor& a, const SmallVec<int64_t, 6>& reps);
Tensor repeat(const Tensor& a, const Tensor& repeats, int64_t axis, bool flatten);
Tensor sort(const Tensor& a, int64_t axis, bool descending);
Tensor argsort(const Tensor& a, int64_t axis, bool descending);
Tensor copy(const Tensor& a);  // a contiguous copy (differentiable)

}  // namespace ops
}  // namespace tapegrad
