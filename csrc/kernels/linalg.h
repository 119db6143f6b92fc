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

// out[..., m, n] = a[..., m, k] @ b[..., k, n]. a, b and out share one dtype (Float32/Float64 go to
// sgemm/dgemm, Int32/Int64 to a loop) and one batch shape (a and b broadcast to it by strides).
// Transposed or otherwise strided matrices are handed to BLAS with trans flags and leading
// dimensions when their layout allows; only the others are copied.
void matmul(const Tensor& out, const Tensor& a, const Tensor& b);

// LAPACK, Float32/Float64. a: (..., n, n). Each returns the flat batch index of the first matrix
// that failed (singular for solve/inv, not positive definite for cholesky), or -1.
int64_t solve(const Tensor& x, const Tensor& a, const Tensor& b);  // x, b: (..., n, k); a x = b
int64_t inv(const Tensor& out, const Tensor& a);
int64_t cholesky(const Tensor& out, const Tensor& a);  // lower L with a = L L^T (reads a's lower triangle)
// sign and log|det| (shapes (...)); a singular matrix gives (0, -inf).
void slogdet(const Tensor& sign, const Tensor& logabs, const Tensor& a);
void det(const Tensor& out, const Tensor& a);

// CPU backend settings (not routed: they concern the CPU's BLAS library).
// OpenBLAS's own thread count follows our pool's (kernels::num_threads()), so that the two never
// run more threads than cores between them. Called before each BLAS/LAPACK call; cheap.
void sync_blas_threads();
int blas_num_threads();
const char* blas_config();

}  // namespace kernels
}  // namespace tapegrad
