// Index kernels: gathers and scatters through integer index rows, and Bool mask helpers.
// They know nothing of tapes, and nothing of numpy's index syntax: the ops layer (ops/index.cpp)
// turns an index expression into the canonical form these kernels take.
//
// Canonical form: `x` is indexed on its first k dims by the rows of `idx`, a contiguous Int64
// tensor of shape B + (k,) whose values are already in range (negatives wrapped); the remaining
// dims of `x` (the "rest") are carried along. The gathered value, or the value scattered, has shape
// B + rest. Every tensor may have any strides (a scattered value may broadcast by zero strides).
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace tapegrad {
namespace kernels {

// out[b, r...] = x[idx[b, 0], ..., idx[b, k-1], r...]; out and x share a dtype.
void index_gather(const Tensor& out, const Tensor& x, const Tensor& idx);
// x[idx[b], r...] = v[b, r...] (accumulate: +=) for every b in C order, so that with repeated rows
// the last write wins (assignment) or every value adds up (accumulate, deterministic order).
// x and v share a dtype; accumulate does not take Float16 (the caller computes in Float32).
void index_scatter(const Tensor& x, const Tensor& v, const Tensor& idx, bool accumulate);
// out (Bool, shape B): true where row b is the last row in C order equal to idx[b] (the write that
// wins an assignment). `dims` holds the sizes of the k indexed dims.
void index_last_writer(const Tensor& out, const Tensor& idx, const int64_t* dims);

// Number of true elements of a Bool tensor.
int64_t count_true(const Tensor& mask);
// out (Int64, shape (count, mask.ndim)): the coordinates of mask's true elements in C order.
void nonzero(const Tensor& out, const Tensor& mask);

// Copies the integer index arrays `arrays[j]` (Int32/Int64, each already broadcast to B by zero
// strides) into column j of `out` (contiguous Int64, shape B + (k,)), wrapping negative values by
// dims[j]. Returns -1 when every value is in range, else the position j of the first offending
// array, with its value in *bad.
int index_pack(const Tensor& out, const std::vector<Tensor>& arrays, const int64_t* dims, int64_t* bad);

}  // namespace kernels
}  // namespace tapegrad
