// Kernel entry points of the reduction/shape family beyond kernels.h: scans, fused softmax, sort,
// gathers and repeats along one axis. Like kernels.h they know nothing of tapes.
// Every kernel here takes C-contiguous tensors (the ops layer makes them so) and sees them as
// (outer, len, inner) around `axis`; `out` is allocated by the caller.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace tapegrad {
namespace kernels {

enum class Scan : uint8_t { Sum, Prod };

// out = inclusive scan of a along axis; a and out share a dtype (Int64, Float32 or Float64).
void scan(Scan op, const Tensor& out, const Tensor& a, int64_t axis);

// out = softmax(a) or log_softmax(a) along axis, computed stably in one kernel (Float32/Float64).
void softmax(const Tensor& out, const Tensor& a, int64_t axis, bool log);

// Stable sort along axis. `values` (a's dtype) and/or `indices` (Int64) may be undefined.
// NaN sorts as the largest value (last ascending, first descending), as numpy and torch.
void sort(const Tensor& values, const Tensor& indices, const Tensor& a, int64_t axis, bool descending);

// out[o, j, i] = a[o, idx[o, j, i], i]; idx Int64 with out's shape, entries in [0, a.shape[axis]).
void gather_axis(const Tensor& out, const Tensor& a, const Tensor& idx, int64_t axis);

// Inverse of a permutation along axis: out[o, idx[o, j, i], i] = j (idx and out Int64).
void invert_permutation(const Tensor& out, const Tensor& idx, int64_t axis);

// counts: Int64, one per element of a along axis. repeat: element l of a along axis appears
// counts[l] times in out. segment_sum: the transpose, summing each run of counts[l] rows of a.
void repeat_axis(const Tensor& out, const Tensor& a, const Tensor& counts, int64_t axis);
void segment_sum(const Tensor& out, const Tensor& a, const Tensor& counts, int64_t axis);

}  // namespace kernels
}  // namespace tapegrad
