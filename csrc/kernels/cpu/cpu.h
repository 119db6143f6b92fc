// The CPU backend's kernel entry points: the signatures of the kernels/ interface (kernels.h,
// kernels_extra.h, kernels_index.h, creation.h, linalg.h, fused.h), in namespace cpu. The CPU entry
// of the device table (kernels/cpu/backend.cpp) points at them; nothing else calls them directly
// (Note [Kernel dispatch] in kernels/dispatch.h).
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/creation.h"
#include "kernels/fused.h"
#include "kernels/kernels.h"
#include "kernels/kernels_extra.h"

namespace tapegrad {
namespace kernels {
namespace cpu {

// elementwise.cpp
void binary(Bin op, const Tensor& out, const Tensor& a, const Tensor& b);
void compare(Cmp op, const Tensor& out, const Tensor& a, const Tensor& b);
void unary(Un op, const Tensor& out, const Tensor& a);
void predicate(Pred op, const Tensor& out, const Tensor& a);
void clip(const Tensor& out, const Tensor& x, const Tensor& lo, const Tensor& hi);
void where(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b);
void copy(const Tensor& out, const Tensor& src);
void fill(const Tensor& out, double value);
// reduce.cpp
void reduce(Red op, const Tensor& out, const Tensor& a, uint64_t axes_mask);
// axis_ops.cpp
void scan(Scan op, const Tensor& out, const Tensor& a, int64_t axis);
void softmax(const Tensor& out, const Tensor& a, int64_t axis, bool log);
void sort(const Tensor& values, const Tensor& indices, const Tensor& a, int64_t axis, bool descending);
void gather_axis(const Tensor& out, const Tensor& a, const Tensor& idx, int64_t axis);
void invert_permutation(const Tensor& out, const Tensor& idx, int64_t axis);
void repeat_axis(const Tensor& out, const Tensor& a, const Tensor& counts, int64_t axis);
void segment_sum(const Tensor& out, const Tensor& a, const Tensor& counts, int64_t axis);
// index.cpp
void index_gather(const Tensor& out, const Tensor& x, const Tensor& idx);
void index_scatter(const Tensor& x, const Tensor& v, const Tensor& idx, bool accumulate);
void index_last_writer(const Tensor& out, const Tensor& idx, const int64_t* dims);
int64_t count_true(const Tensor& mask);
void nonzero(const Tensor& out, const Tensor& mask);
int index_pack(const Tensor& out, const std::vector<Tensor>& arrays, const int64_t* dims, int64_t* bad);
// creation.cpp, random.cpp
void arange(const Tensor& out, double start, double step);
void arange_int(const Tensor& out, int64_t start, int64_t step);
void linspace(const Tensor& out, double start, double stop, bool endpoint);
void eye(const Tensor& out, int64_t k);
void random_fill(const Tensor& out, RandDist dist, uint64_t seed, uint64_t first_block, double a, double b);
void random_int_fill(const Tensor& out, uint64_t seed, uint64_t first_block, int64_t low, uint64_t range);
// blas.cpp
void matmul(const Tensor& out, const Tensor& a, const Tensor& b);
int64_t solve(const Tensor& x, const Tensor& a, const Tensor& b);
int64_t inv(const Tensor& out, const Tensor& a);
int64_t cholesky(const Tensor& out, const Tensor& a);
void slogdet(const Tensor& sign, const Tensor& logabs, const Tensor& a);
void det(const Tensor& out, const Tensor& a);
int64_t svd(const Tensor& u, const Tensor& s, const Tensor& vh, const Tensor& a, bool full, bool compute_uv);
int64_t eigh(const Tensor& w, const Tensor& v, const Tensor& a, bool lower, bool compute_v);
void qr(const Tensor& q, const Tensor& r, const Tensor& a, bool complete);
int64_t eig(const Tensor& w, const Tensor& v, const Tensor& a, bool compute_v);
// fused.cpp
void fused_run(const FusedKernel& k, const Tensor* inputs, const Tensor* outputs, const Tensor* sums);

}  // namespace cpu
}  // namespace kernels
}  // namespace tapegrad
