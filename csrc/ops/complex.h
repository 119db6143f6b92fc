// The complex functions composed of real ops on the parts (real, imag, conj, abs, angle) and the
// complex forms of sum, mean and matmul. Complex values are not differentiated yet (the reverse and
// forward levels refuse complex results), so these run on untracked tensors only.
#pragma once
#include "core/tensor.h"
#include "ops/reduce.h"

namespace tapegrad {
namespace ops {

// The real and imaginary parts (new tensors of the part dtype: Float32 for Complex64); of a real
// tensor: the tensor itself and zeros.
Tensor real(const Tensor& z);
Tensor imag(const Tensor& z);
// re + i im, broadcast; Complex128 when either part is Float64, else Complex64.
Tensor complex_from_parts(const Tensor& re, const Tensor& im);
Tensor conj(const Tensor& z);
// |z| = hypot(re, im) and arg z = arctan2(im, re), of the part dtype (numpy's abs and angle).
Tensor complex_abs(const Tensor& z);
Tensor angle(const Tensor& z);
// sum and mean over axes, part by part; the matrix product by four real products.
Tensor complex_sum(const Tensor& z, const Axes& axes, bool all_axes, bool keepdims, bool mean);
Tensor complex_matmul(const Tensor& a, const Tensor& b);

}  // namespace ops
}  // namespace tapegrad
