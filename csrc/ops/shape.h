// Shape and layout ops. Views share storage where numpy's would.
#pragma once
#include <vector>

#include "core/small_vec.h"
#include "core/tensor.h"

namespace tapegrad {
namespace ops {

Tensor broadcast_to(const Tensor& a, const Shape& shape);
Tensor reshape(const Tensor& a, const Shape& shape);                  // one -1 allowed
Tensor transpose(const Tensor& a, const SmallVec<int64_t, 6>& perm);  // empty perm: reverse
Tensor swapaxes(const Tensor& a, int64_t i, int64_t j);
Tensor squeeze(const Tensor& a, const SmallVec<int64_t, 6>& axes, bool all_axes);
Tensor expand_dims(const Tensor& a, int64_t axis);
Tensor expand_dims(const Tensor& a, const SmallVec<int64_t, 6>& axes);  // numpy: a tuple of axes
Tensor flatten(const Tensor& a);                                        // a 1-d copy (numpy's ndarray.flatten)
Tensor ravel(const Tensor& a);                                          // 1-d, a view when the layout allows
// `flatten`: axis=None, every input is flattened first.
Tensor concatenate(const std::vector<Tensor>& xs, int64_t axis, bool flatten = false);
Tensor stack(const std::vector<Tensor>& xs, int64_t axis);
// by_count: sections_or_indices = {N} equal sections; else split points (numpy slicing rules).
std::vector<Tensor> split(const Tensor& a, const SmallVec<int64_t, 6>& sections_or_indices, bool by_count,
                          int64_t axis);
Tensor flip(const Tensor& a, const SmallVec<int64_t, 6>& axes, bool all_axes);
Tensor tile(const Tensor& a, const SmallVec<int64_t, 6>& reps);
// repeats: an integer tensor with one element (every element repeated that often) or one count per
// element along axis. `flatten`: axis=None.
Tensor repeat(const Tensor& a, const Tensor& repeats, int64_t axis, bool flatten);
// Stable; NaN sorts as the largest value. `flatten`: axis=None.
Tensor sort(const Tensor& a, int64_t axis, bool descending, bool flatten = false);
Tensor argsort(const Tensor& a, int64_t axis, bool descending, bool flatten = false);
// out[..., j, ...] = a[..., idx[..., j, ...], ...] for an Int64 `idx` that is a permutation along
// `axis` (what argsort gives); differentiable in a.
Tensor permute_along(const Tensor& a, const Tensor& idx, int64_t axis);
Tensor copy(const Tensor& a);  // a contiguous copy (differentiable)

}  // namespace ops
}  // namespace tapegrad
