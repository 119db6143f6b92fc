// Linear algebra on BLAS/LAPACK (scipy-openblas32).
#pragma once
#include <string>
#include <vector>

#include "core/tensor.h"

namespace tapegrad {
namespace ops {

Tensor matmul(const Tensor& a, const Tensor& b);  // numpy matmul semantics (batched, 1-d promotion)
Tensor dot(const Tensor& a, const Tensor& b);     // numpy dot
Tensor vdot(const Tensor& a, const Tensor& b);
Tensor outer(const Tensor& a, const Tensor& b);
Tensor einsum(const std::string& spec, const std::vector<Tensor>& xs);
Tensor trace(const Tensor& a, int64_t offset, int64_t axis1, int64_t axis2);
// numpy.linalg.norm: `has_ord` false is ord=None; axes as in reductions (`all_axes`: axis=None).
// The 2-norm's gradient at x = 0 is 0 (not NaN), as JAX's safe norm.
Tensor norm(const Tensor& a, double ord, bool has_ord, const SmallVec<int64_t, 6>& axes, bool all_axes, bool keepdims);
// ord = "fro" or "nuc".
Tensor norm(const Tensor& a, const std::string& ord, const SmallVec<int64_t, 6>& axes, bool all_axes, bool keepdims);
Tensor solve(const Tensor& a, const Tensor& b);
Tensor inv(const Tensor& a);
Tensor det(const Tensor& a);
std::vector<Tensor> slogdet(const Tensor& a);  // {sign, log|det|}
Tensor cholesky(const Tensor& a);
// Decompositions of stacks of matrices (Note [Decomposition gradients] in linalg.cpp).
std::vector<Tensor> svd(const Tensor& a, bool full_matrices);  // {U, S, Vh}
Tensor svdvals(const Tensor& a);
std::vector<Tensor> eigh(const Tensor& a, bool lower);  // {eigenvalues, eigenvectors}
Tensor eigvalsh(const Tensor& a, bool lower);
// General eigendecomposition (geev; Note [Eig gradients]): {eigenvalues, eigenvectors}, complex
// for real input too.
std::vector<Tensor> eig(const Tensor& a);
Tensor eigvals(const Tensor& a);
std::vector<Tensor> qr(const Tensor& a, const std::string& mode);  // {Q, R}; mode "r": {R}

// linalg.cpp's helpers that einsum.cpp shares (not part of the op API).
namespace linalg_detail {
Tensor diagonal(const Tensor& a, int64_t offset, int64_t ax1, int64_t ax2);  // the diagonal prim, axes normalised
Tensor reshape(const Tensor& x, const Shape& s);  // reshape that also takes zero-size inputs with odd strides
}  // namespace linalg_detail

}  // namespace ops
}  // namespace tapegrad
