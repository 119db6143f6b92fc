// Complex functions composed of real ops on the parts: see ops/complex.h.
#include "ops/complex.h"

#include "core/error.h"
#include "kernels/kernels.h"
#include "ops/common.h"
#include "ops/elementwise.h"
#include "ops/linalg.h"
#include "ops/reduce.h"

namespace tapegrad {
namespace ops {

namespace {

// The real (which = 0) or imaginary (1) parts of z as a strided view of its buffer: std::complex
// is two values of the part type side by side, so element strides double and the offset moves
// by one for the imaginary part. Untracked values only (a view has no derivative).
Tensor part_view(const Tensor& z, int which) {
  Strides st = z.strides();
  for (auto& s : st) s *= 2;
  return Tensor::from_storage(z.impl()->storage, 2 * z.offset() + which, z.shape(), st, real_dtype(z.dtype()));
}

Tensor part(const Tensor& z, int which, const char* op) {
  check_has_data(z, op);
  return part_view(z, which).clone();
}

// A 0-d complex tensor re + i im of dtype d.
Tensor complex_scalar(double re, double im, DType d) {
  Tensor t = Tensor::empty(Shape{}, d);
  if (d == DType::Complex64) *t.data<std::complex<float>>() = std::complex<float>(float(re), float(im));
  else *t.data<std::complex<double>>() = std::complex<double>(re, im);
  return t;
}

DType complex_of(DType part) {
  return part == DType::Float16 || part == DType::Float32 ? DType::Complex64 : DType::Complex128;
}

}  // namespace

// Tracked values (grad, jvp, vmap, jit) go through prims with rules: real(z) is the cast to the part
// dtype (its cotangent rule gives g + 0i, JAX's convention), and the rest is composed from it, mul,
// add, hypot, arctan2 and the reductions. Untracked values read strided views of the parts.
Tensor real(const Tensor& z) {
  if (!is_complex(z.dtype())) return z;
  return any_tracked(z) ? cast_any(z, real_dtype(z.dtype())) : part(z, 0, "real");
}

Tensor imag(const Tensor& z) {
  if (is_complex(z.dtype())) {
    if (!any_tracked(z)) return part(z, 1, "imag");
    return cast_any(mul(z, complex_scalar(0.0, -1.0, z.dtype())), real_dtype(z.dtype()));  // Re(-i z)
  }
  return Tensor::zeros(z.shape(), z.dtype(), z.device());
}

Tensor complex_from_parts(const Tensor& re, const Tensor& im) {
  const DType pd = promote(re.dtype(), im.dtype());
  TG_CHECK_DTYPE(is_float(pd) || is_int(pd) || pd == DType::Bool, "complex: the parts must be real, got ", describe(re),
                 " and ", describe(im));
  const DType cd = complex_of(pd);
  if (any_tracked(re, im)) return add(cast_any(re, cd), mul(cast_any(im, cd), complex_scalar(0.0, 1.0, cd)));
  Tensor out = Tensor::empty(broadcast_shapes(re.shape(), im.shape(), "complex"), cd, re.device());
  kernels::copy(part_view(out, 0), re);
  kernels::copy(part_view(out, 1), im);
  return out;
}

Tensor conj(const Tensor& z) {
  if (!is_complex(z.dtype())) return z;
  if (any_tracked(z)) return sub(mul_scalar(cast_any(real(z), z.dtype()), 2.0), z);  // 2 Re z - z
  return complex_from_parts(part_view(z, 0), neg(part_view(z, 1)));
}

Tensor complex_abs(const Tensor& z) {
  if (any_tracked(z)) return binary(kernels::Bin::Hypot, real(z), imag(z));
  return binary(kernels::Bin::Hypot, part_view(z, 0), part_view(z, 1));
}

Tensor angle(const Tensor& z) {
  if (!is_complex(z.dtype())) {
    // numpy: 0 for x >= 0 (and +0), pi for x < 0, in the float dtype of x.
    return arctan2(Tensor::zeros(z.shape(), float_result_dtype(z.dtype()), z.device()), z);
  }
  if (any_tracked(z)) return arctan2(imag(z), real(z));
  return arctan2(part_view(z, 1), part_view(z, 0));
}

Tensor complex_sum(const Tensor& z, const Axes& axes, bool all_axes, bool keepdims, bool mean_) {
  auto red = [&](const Tensor& p) {
    return mean_ ? mean(p, axes, all_axes, keepdims) : sum(p, axes, all_axes, keepdims);
  };
  if (any_tracked(z)) return complex_from_parts(red(real(z)), red(imag(z)));
  return complex_from_parts(red(part_view(z, 0)), red(part_view(z, 1)));
}

}  // namespace ops
}  // namespace tapegrad
