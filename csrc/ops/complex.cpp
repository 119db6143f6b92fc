// Complex functions composed of real ops on the parts: see ops/complex.h.
#include "ops/complex.h"

#include "core/error.h"
#include "kernels/kernels.h"
#include "ops/common.h"
#include "ops/elementwise.h"
#include "ops/linalg.h"

namespace tapegrad {
namespace ops {

namespace {

// Until complex rules exist, a complex value seen by a transform (vmap, jit; grad and jvp refuse
// complex results earlier) is refused rather than handled as a plain buffer.
void untracked_only(const Tensor& z, const char* op) {
  TG_CHECK_TYPE(!any_tracked(z), op, ": ", dtype_numpy_name(z.dtype()),
                " values under a transform (grad, vmap, jit) are not supported yet");
}

// The real (which = 0) or imaginary (1) parts of z as a strided view of its buffer: std::complex
// is two values of the part type side by side, so element strides double and the offset moves
// by one for the imaginary part.
Tensor part_view(const Tensor& z, int which) {
  Strides st = z.strides();
  for (auto& s : st) s *= 2;
  return Tensor::from_storage(z.impl()->storage, 2 * z.offset() + which, z.shape(), st, real_dtype(z.dtype()));
}

Tensor part(const Tensor& z, int which, const char* op) {
  untracked_only(z, op);
  check_has_data(z, op);
  return part_view(z, which).clone();
}

}  // namespace

Tensor real(const Tensor& z) { return is_complex(z.dtype()) ? part(z, 0, "real") : z; }

Tensor imag(const Tensor& z) {
  if (is_complex(z.dtype())) return part(z, 1, "imag");
  return Tensor::zeros(z.shape(), z.dtype(), z.device());
}

Tensor complex_from_parts(const Tensor& re, const Tensor& im) {
  untracked_only(re, "complex");
  untracked_only(im, "complex");
  const DType pd = promote(re.dtype(), im.dtype());
  TG_CHECK_DTYPE(is_float(pd) || is_int(pd) || pd == DType::Bool, "complex: the parts must be real, got ", describe(re),
                 " and ", describe(im));
  const DType cd = pd == DType::Float16 || pd == DType::Float32 ? DType::Complex64 : DType::Complex128;
  Tensor out = Tensor::empty(broadcast_shapes(re.shape(), im.shape(), "complex"), cd, re.device());
  kernels::copy(part_view(out, 0), re);
  kernels::copy(part_view(out, 1), im);
  return out;
}

Tensor conj(const Tensor& z) {
  if (!is_complex(z.dtype())) return z;
  untracked_only(z, "conj");
  return complex_from_parts(part_view(z, 0), neg(part_view(z, 1)));
}

Tensor complex_abs(const Tensor& z) {
  untracked_only(z, "abs");
  return binary(kernels::Bin::Hypot, part_view(z, 0), part_view(z, 1));
}

Tensor angle(const Tensor& z) {
  if (!is_complex(z.dtype())) {
    // numpy: 0 for x >= 0 (and +0), pi for x < 0, in the float dtype of x.
    return arctan2(Tensor::zeros(z.shape(), float_result_dtype(z.dtype()), z.device()), z);
  }
  untracked_only(z, "angle");
  return arctan2(part_view(z, 1), part_view(z, 0));
}

Tensor complex_sum(const Tensor& z, const Axes& axes, bool all_axes, bool keepdims, bool mean_) {
  const char* op = mean_ ? "mean" : "sum";
  untracked_only(z, op);
  auto red = [&](const Tensor& p) {
    return mean_ ? mean(p, axes, all_axes, keepdims) : sum(p, axes, all_axes, keepdims);
  };
  return complex_from_parts(red(part_view(z, 0)), red(part_view(z, 1)));
}

Tensor complex_matmul(const Tensor& a, const Tensor& b) {
  untracked_only(a, "matmul");
  untracked_only(b, "matmul");
  const DType cd = promote(a.dtype(), b.dtype());
  const Tensor ac = a.to(cd), bc = b.to(cd);
  const Tensor ar = part_view(ac, 0).contiguous(), ai = part_view(ac, 1).contiguous();
  const Tensor br = part_view(bc, 0).contiguous(), bi = part_view(bc, 1).contiguous();
  // (ar + i ai)(br + i bi) = (ar br - ai bi) + i (ar bi + ai br): BLAS for each real product.
  return complex_from_parts(sub(matmul(ar, br), matmul(ai, bi)), add(matmul(ar, bi), matmul(ai, br)));
}

}  // namespace ops
}  // namespace tapegrad
