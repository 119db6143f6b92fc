// Reduction prims.
#include "ops/reduce.h"

#include "kernels/kernels.h"
#include "ops/ops.h"

namespace tapegrad {
namespace ops {

namespace {

// Bitmask of reduced axes, validated.
uint64_t axes_mask(const Tensor& a, const Axes& axes, bool all_axes, const char* op) {
  const int64_t nd = a.ndim();
  TG_CHECK(nd <= 63, op, ": too many dimensions");
  if (all_axes) return nd ? (uint64_t(1) << nd) - 1 : 0;
  uint64_t m = 0;
  for (int64_t ax : axes) {
    int64_t k = norm_axis(ax, nd, op);
    TG_CHECK(!((m >> k) & 1), op, ": duplicate value in 'axis'");
    m |= uint64_t(1) << k;
  }
  return m;
}

Shape keep_shape(const Shape& s, uint64_t m) {
  Shape r = s;
  for (size_t i = 0; i < s.size(); ++i)
    if ((m >> i) & 1) r[i] = 1;
  return r;
}
Shape drop_shape(const Shape& s, uint64_t m) {
  Shape r;
  for (size_t i = 0; i < s.size(); ++i)
    if (!((m >> i) & 1)) r.push_back(s[i]);
  return r;
}

DType sum_dtype(DType d) { return is_float(d) ? d : DType::Int64; }

Tensor reduce_fwd(kernels::Red op, const Tensor& a, uint64_t m, bool keepdims, DType out_dt) {
  DType cd = compute_dtype(out_dt);
  Tensor aa = a.dtype() == cd ? a : a.to(cd);
  Shape ks = keep_shape(a.shape(), m);
  Tensor out = Tensor::empty(ks, cd, a.device());
  kernels::reduce(op, out, aa, m);
  if (cd != out_dt) out = out.to(out_dt);
  if (!keepdims) out = out.view_as(drop_shape(a.shape(), m), contiguous_strides(drop_shape(a.shape(), m)), out.offset());
  return out;
}

// sum: attrs.ints[0] = mask, flag = keepdims.
TensorList sum_impl(const TensorList& in, const Attrs& a) {
  uint64_t m = uint64_t(a.ints[0]);
  return {reduce_fwd(kernels::Red::Sum, in[0], m, a.flag != 0, sum_dtype(in[0].dtype()))};
}
// sum'(x) = broadcast g back over the reduced axes
TensorList sum_vjp(const TensorList& g, const TensorList& x, const TensorList&, const Attrs& a, uint32_t) {
  uint64_t m = uint64_t(a.ints[0]);
  Tensor gk = a.flag ? g[0] : reshape(g[0], keep_shape(x[0].shape(), m));
  return {broadcast_to(gk, x[0].shape())};
}
TensorList sum_jvp(const TensorList& t, const TensorList&, const TensorList&, const Attrs& a) {
  uint64_t m = uint64_t(a.ints[0]);
  Axes axes;
  for (int i = 0; i < 63; ++i)
    if ((m >> i) & 1) axes.push_back(i);
  return {sum(t[0], axes, false, a.flag != 0)};
}
const Prim kSum = {"sum", sum_impl, sum_vjp, sum_jvp};

}  // namespace

Tensor sum(const Tensor& a, const Axes& axes, bool all_axes, bool keepdims) {
  Attrs at;
  at.ints.push_back(int64_t(axes_mask(a, axes, all_axes, "sum")));
  at.flag = keepdims;
  if (!a.tracked()) return sum_impl({a}, at)[0];
  return autodiff::apply1(kSum, {a}, at);
}

Tensor mean(const Tensor& a, const Axes& axes, bool all_axes, bool keepdims) {
  uint64_t m = axes_mask(a, axes, all_axes, "mean");
  int64_t count = 1;
  for (int64_t i = 0; i < a.ndim(); ++i)
    if ((m >> i) & 1) count *= a.shape()[size_t(i)];
  Tensor x = is_float(a.dtype()) ? a : cast(a, DType::Float64);
  Tensor s = sum(x, axes, all_axes, keepdims);
  return div(s, Tensor::scalar(double(count), s.dtype()));
}

Tensor sum_to(const Tensor& a, const Shape& shape) {
  if (a.shape() == shape) return a;
  const int64_t nd = a.ndim(), lead = nd - int64_t(shape.size());
  TG_CHECK_SHAPE(lead >= 0, "sum_to: cannot sum ", shape_str(a.shape()), " to ", shape_str(shape));
  Axes axes;
  for (int64_t i = 0; i < nd; ++i) {
    if (i < lead) {
      axes.push_back(i);
    } else if (shape[size_t(i - lead)] == 1 && a.shape()[size_t(i)] != 1) {
      axes.push_back(i);
    } else {
      TG_CHECK_SHAPE(shape[size_t(i - lead)] == a.shape()[size_t(i)], "sum_to: cannot sum ",
                     shape_str(a.shape()), " to ", shape_str(shape));
    }
  }
  Tensor s = sum(a, axes, false, true);
  return reshape(s, shape);
}

}  // namespace ops
}  // namespace tapegrad
