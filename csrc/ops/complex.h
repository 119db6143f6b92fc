// The complex functions composed of real ops on the parts (real, imag, conj, abs, angle) and the
// complex forms of sum and mean (Note [Complex dtypes]).
//
// Note [Complex dtypes]
// ~~~~~~~~~~~~~~~~~~~~~
// Complex64/Complex128 hold std::complex<float>/<double>: numpy's layout (real, imaginary side by
// side), so numpy and DLPack buffers are borrowed as they are. Five kinds of support:
// - elementwise loops of their own (kernels/cpu/complex.cpp, plain loops installed into every ISA
//   table): the ops that complex_capable (ops/elementwise.cpp) lets through (C99 Annex G's branch
//   cuts and special values through <complex>, numpy's formulas where numpy has its own), where,
//   the casts into complex; asinh/acosh/atanh/log10 compose them exactly in tapegrad.numpy;
// - compositions of real ops on strided views of the parts (part_view in ops/complex.cpp: element
//   strides doubled, the imaginary part one element further): real, imag, conj, abs, angle,
//   sum/mean;
// - compositions of differentiable complex ops: prod and cumprod (cumprod_scan in ops/reduce.cpp),
//   the creation functions with a complex dtype (real values cast);
// - BLAS and LAPACK's complex routines (kernels/cpu/blas.cpp): matmul (cgemm/zgemm), solve, inv,
//   det/slogdet (c/zgetrf...), cholesky (c/zpotrf), qr (c/zgeqrf, c/zungqr), svd (c/zgesdd), eigh
//   (c/zheevd), eig (c/zgeev; real input through s/dgeev). Their rules (ops/linalg.cpp) are JAX's,
//   written with conjugate transposes so that one formula serves real and complex matrices (Note
//   [Eig gradients]; the complex SVD keeps its own pair, svd_jvp_complex/svd_vjp_complex);
// - everything else refuses them with a DTypeError naming the op. Many paths pick a real dtype by
//   `is_float(dt) ? dt : Float64` (result dtypes, float_input, sum_dtype, LAPACK operands): each one
//   a complex value reaches is refused by name before it, and two nets catch the rest: the cast
//   from complex to a real dtype raises (ops::cast and the copy kernel have no such loop), and the
//   generic dtype switches (TG_DISPATCH_* in core/dtype.h) throw on complex instead of skipping.
// Differentiation, JAX's convention: with an op's derivative dz -> a dz + b conj(dz), the JVP is
// a v + b conj(v) and the VJP of a cotangent c is a c + conj(b c). Holomorphic ops (b = 0) keep their
// real rules unchanged; a real input takes the real part of its complex cotangent (the sweep's
// dtype fix, ops::cast_any). Tracked values never use the part views: real(z) is the cast prim to
// the part dtype (its cotangent rule gives g + 0i), and imag, conj, abs, angle, sum and the parts'
// recombination are composed from it and holomorphic ops, so every transform (grad, jvp, vmap, jit)
// carries them through existing prims. jacrev/jacfwd take complex values under JAX's `holomorphic`
// rules (bindings/bind_jacobian.cpp). On the GPU, kernels/dispatch.cpp refuses complex tensors
// (NotImplementedError).
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
// sum and mean over axes, part by part.
Tensor complex_sum(const Tensor& z, const Axes& axes, bool all_axes, bool keepdims, bool mean);

}  // namespace ops
}  // namespace tapegrad
