// Reductions. `axes` empty with all=true means every axis.
#pragma once
#include "core/small_vec.h"
#include "core/tensor.h"

namespace tapegrad {
namespace ops {

using Axes = SmallVec<int64_t, 6>;

// axes: the axes to reduce (normalised or negative); `all_axes` reduces everything.
Tensor sum(const Tensor& a, const Axes& axes, bool all_axes, bool keepdims);
inline Tensor sum_all(const Tensor& a) { return sum(a, {}, true, false); }
Tensor mean(const Tensor& a, const Axes& axes, bool all_axes, bool keepdims);
Tensor prod(const Tensor& a, const Axes& axes, bool all_axes, bool keepdims);
Tensor amax(const Tensor& a, const Axes& axes, bool all_axes, bool keepdims);
Tensor amin(const Tensor& a, const Axes& axes, bool all_axes, bool keepdims);
Tensor argmax(const Tensor& a, int64_t axis, bool all_axes, bool keepdims);
Tensor argmin(const Tensor& a, int64_t axis, bool all_axes, bool keepdims);
Tensor var(const Tensor& a, const Axes& axes, bool all_axes, bool keepdims, int64_t ddof);
Tensor std_(const Tensor& a, const Axes& axes, bool all_axes, bool keepdims, int64_t ddof);
Tensor logsumexp(const Tensor& a, const Axes& axes, bool all_axes, bool keepdims);
Tensor softmax(const Tensor& a, int64_t axis);
Tensor log_softmax(const Tensor& a, int64_t axis);
Tensor any(const Tensor& a, const Axes& axes, bool all_axes, bool keepdims);
Tensor all(const Tensor& a, const Axes& axes, bool all_axes, bool keepdims);
Tensor cumsum(const Tensor& a, int64_t axis, bool flatten);
Tensor cumprod(const Tensor& a, int64_t axis, bool flatten);

// Sum `a` down to `shape` (undoes broadcasting).
Tensor sum_to(const Tensor& a, const Shape& shape);

}  // namespace ops
}  // namespace tapegrad
