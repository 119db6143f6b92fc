// Kernel entry points of the linear-algebra family (the CPU backend calls BLAS/LAPACK:
// kernels/cpu/blas.cpp, scipy-openblas32). Kernels only: no tape. Routed by device like every
// kernel (kernels/dispatch.h). Every entry point is batched over leading dims. Inputs may have any
// strides (zero strides for broadcast batch dims included); outputs are contiguous and allocated by
// the caller.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace tapegrad {
namespace kernels {

// out[..., m, n] = a[..., m, k] @ b[..., k, n]. a, b and out share one dtype (Float32/Float64/
// Complex64/Complex128 go to s/d/c/zgemm, Int32/Int64 to a loop) and one batch shape (a and b broadcast to it by strides).
// Transposed or otherwise strided matrices are handed to BLAS with trans flags and leading
// dimensions when their layout allows; only the others are copied.
void matmul(const Tensor& out, const Tensor& a, const Tensor& b);

// LAPACK, Float32/Float64 (solve, inv, slogdet, det: Complex64/Complex128 too). a: (..., n, n). Each returns the flat batch index of the first matrix
// that failed (singular for solve/inv, not positive definite for cholesky), or -1.
int64_t solve(const Tensor& x, const Tensor& a, const Tensor& b);  // x, b: (..., n, k); a x = b
int64_t inv(const Tensor& out, const Tensor& a);
int64_t cholesky(const Tensor& out, const Tensor& a);  // lower L with a = L L^T (reads a's lower triangle)
// sign and log|det| (shapes (...)); a singular matrix gives (0, -inf). Complex a: sign complex (of
// modulus 1), log|det| of the part dtype; det complex.
void slogdet(const Tensor& sign, const Tensor& logabs, const Tensor& a);
void det(const Tensor& out, const Tensor& a);
// Decompositions, Float32/Float64, a: (..., m, n) with any strides. svd and eigh return the flat
// batch index of the first matrix on which LAPACK failed to converge (or that holds NaN or inf,
// on which it may never stop), or -1.
// SVD a = U diag(s) Vh (gesdd): s (..., k), k = min(m, n), descending. With `compute_uv`, u is
// (..., m, m) and vh (..., n, n) when `full`, else (..., m, k) and (..., k, n); without it u and
// vh are not touched (undefined tensors allowed).
int64_t svd(const Tensor& u, const Tensor& s, const Tensor& vh, const Tensor& a, bool full, bool compute_uv);
// Symmetric eigendecomposition a = V diag(w) V^T (syevd) from the lower (`lower`) or upper triangle
// of a (..., n, n): w (..., n) ascending, v (..., n, n) with the eigenvectors as columns (only
// written when `compute_v`).
int64_t eigh(const Tensor& w, const Tensor& v, const Tensor& a, bool lower, bool compute_v);
// QR a = Q R (geqrf, orgqr): with k = min(m, n), q is (..., m, k) and r (..., k, n), or (..., m, m)
// and (..., m, n) when `complete`; q undefined: only r is computed.
void qr(const Tensor& q, const Tensor& r, const Tensor& a, bool complete);
// General (non-symmetric) eigendecomposition a V = V diag(w) (geev) of a (..., n, n) Float32/Float64
// (sgeev/dgeev) or Complex64/Complex128 (cgeev/zgeev): w (..., n) and v (..., n, n) complex of a's
// precision, v's columns the right eigenvectors, each of unit 2-norm with its largest component
// real (LAPACK's normalisation). v is only written when `compute_v`. Returns the flat batch index of
// the first matrix that holds NaN or inf or on which LAPACK failed to converge, or -1.
int64_t eig(const Tensor& w, const Tensor& v, const Tensor& a, bool compute_v);

// CPU backend settings (not routed: they concern the CPU's BLAS library).
// OpenBLAS's own thread count follows our pool's (kernels::num_threads()), so that the two never
// run more threads than cores between them. Called before each BLAS/LAPACK call; cheap.
void sync_blas_threads();
int blas_num_threads();
const char* blas_config();

}  // namespace kernels
}  // namespace tapegrad
