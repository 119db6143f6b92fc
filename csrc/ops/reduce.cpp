// Reduction prims and composites. Prims: sum, prod, amax/amin, std, softmax, log_softmax, cumsum
// (differentiable) and argmax/argmin, any/all (non-differentiable). Composites (no rules of their
// own): mean, var, logsumexp, and cumprod of tracked values (a parallel prefix of multiplies, so
// that its derivatives never divide by x).
#include "ops/reduce.h"

#include <cmath>

#include "autodiff/batching.h"
#include "kernels/kernels.h"
#include "kernels/kernels_extra.h"
#include "ops/ops.h"

namespace tapegrad {
namespace ops {

namespace {

using autodiff::axis_mask_batch;
using autodiff::one_axis_batch;

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

Axes mask_axes(uint64_t m) {
  Axes axes;
  for (int i = 0; i < 63; ++i)
    if ((m >> i) & 1) axes.push_back(i);
  return axes;
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
// Number of elements reduced into each output.
int64_t reduced_count(const Shape& s, uint64_t m) {
  int64_t n = 1;
  for (size_t i = 0; i < s.size(); ++i)
    if ((m >> i) & 1) n *= s[i];
  return n;
}

// A reduction result `r` (keepdims shape when `keepdims`) in the keepdims form.
Tensor as_keep(const Tensor& r, const Shape& in_shape, uint64_t m, bool keepdims) {
  return keepdims ? r : reshape(r, keep_shape(in_shape, m));
}
// A keepdims-form result in the form the caller asked for.
Tensor from_keep(const Tensor& r, const Shape& in_shape, uint64_t m, bool keepdims) {
  return keepdims ? r : reshape(r, drop_shape(in_shape, m));
}

// numpy's default accumulator of sum, prod and cumsum: the platform integer of the kind (Int64 for
// Bool and signed integers, UInt64 for unsigned ones); floats keep their dtype.
DType sum_dtype(DType d) { return is_float(d) ? d : (is_unsigned(d) ? DType::UInt64 : DType::Int64); }
// The reductions have no complex loops yet: refused by name (sum_dtype and float_input would
// otherwise pick a real dtype for them).
static void refuse_complex(const Tensor& a, const char* op) {
  TG_CHECK_DTYPE(!is_complex(a.dtype()), op, ": not supported for ", dtype_numpy_name(a.dtype()));
}
Tensor float_input(const Tensor& a) { return is_float(a.dtype()) ? a : cast(a, DType::Float64); }

Tensor reduce_fwd(kernels::Red op, const Tensor& a, uint64_t m, bool keepdims, DType out_dt) {
  check_op_input(a, "reduce");
  DType cd = compute_dtype(out_dt);
  Tensor aa = a.dtype() == cd ? a : a.to(cd);
  Shape ks = keep_shape(a.shape(), m);
  Tensor out = Tensor::empty(ks, cd, a.device());
  kernels::reduce(op, out, aa, m);
  if (cd != out_dt) out = out.to(out_dt);
  if (!keepdims) {
    Shape ds = drop_shape(a.shape(), m);
    out = out.view_as(ds, contiguous_strides(ds), out.offset());
  }
  return out;
}

Attrs reduce_attrs(uint64_t m, bool keepdims) {
  Attrs at;
  at.ints.push_back(int64_t(m));
  at.flag = keepdims;
  return at;
}

// ---- sum -------------------------------------------------------------------------------------
// attrs: ints[0] = mask, flag = keepdims (the same for every reduction prim below).
TensorList sum_impl(const TensorList& in, const Attrs& a) {
  uint64_t m = uint64_t(a.ints[0]);
  return {reduce_fwd(kernels::Red::Sum, in[0], m, a.flag != 0, sum_dtype(in[0].dtype()))};
}
// sum'(x) = broadcast g back over the reduced axes
TensorList sum_vjp(const TensorList& g, const TensorList& x, const TensorList&, const Attrs& a, uint32_t) {
  uint64_t m = uint64_t(a.ints[0]);
  return {broadcast_to(as_keep(g[0], x[0].shape(), m, a.flag != 0), x[0].shape())};
}
TensorList sum_jvp(const TensorList& t, const TensorList&, const TensorList&, const Attrs& a) {
  return {sum(t[0], mask_axes(uint64_t(a.ints[0])), false, a.flag != 0)};
}
// vmap: the batch axis first, the mask of reduced axes shifted past it (the same for every prim
// below whose ints[0] is an axis mask).
// (its reverse rule reads the input's shape only)
constexpr Prim kSum =
    PrimDef("sum").impl(sum_impl).vjp(sum_vjp).jvp(sum_jvp).batch(axis_mask_batch).reads(kReadsNone).api("sum mean");

// ---- prod ------------------------------------------------------------------------------------
TensorList prod_impl(const TensorList& in, const Attrs& a) {
  uint64_t m = uint64_t(a.ints[0]);
  return {reduce_fwd(kernels::Red::Prod, in[0], m, a.flag != 0, sum_dtype(in[0].dtype()))};
}

// Exclusive cumulative product along the last axis: [1, x0, x0 x1, ...].
Tensor exclusive_cumprod_last(const Tensor& x) {
  const int64_t n = x.shape()[x.shape().size() - 1];
  Shape one = x.shape();
  one[one.size() - 1] = 1;
  Tensor ones = Tensor::full(one, x.dtype(), 1.0);
  if (n <= 1) return broadcast_to(ones, x.shape());
  Tensor head = split(x, {n - 1}, false, -1)[0];
  return concatenate({ones, cumprod(head, -1, false)}, -1);
}

// For each element, the product of the other elements of its reduction group, without dividing
// by x (exact when some elements are zero): exclusive products from the left times from the right.
Tensor prod_others(const Tensor& x, uint64_t m) {
  const int64_t nd = x.ndim();
  SmallVec<int64_t, 6> perm;
  Shape flat;
  for (int64_t d = 0; d < nd; ++d)
    if (!((m >> d) & 1)) {
      perm.push_back(d);
      flat.push_back(x.shape()[size_t(d)]);
    }
  for (int64_t d = 0; d < nd; ++d)
    if ((m >> d) & 1) perm.push_back(d);
  flat.push_back(reduced_count(x.shape(), m));
  Tensor xt = transpose(x, perm);
  Shape tshape = xt.shape();
  Tensor xr = reshape(xt, flat);
  Tensor left = exclusive_cumprod_last(xr);
  Tensor right = flip(exclusive_cumprod_last(flip(xr, {-1}, false)), {-1}, false);
  Tensor others = reshape(mul(left, right), tshape);
  SmallVec<int64_t, 6> inv(perm.size(), 0);
  for (size_t i = 0; i < perm.size(); ++i) inv[size_t(perm[i])] = int64_t(i);
  return transpose(others, inv);
}
// prod'(x)_i = g * prod_{j != i} x_j
TensorList prod_vjp(const TensorList& g, const TensorList& x, const TensorList&, const Attrs& a, uint32_t) {
  uint64_t m = uint64_t(a.ints[0]);
  return {mul(as_keep(g[0], x[0].shape(), m, a.flag != 0), prod_others(x[0], m))};
}
// prod'(x) . t = sum_i t_i prod_{j != i} x_j
TensorList prod_jvp(const TensorList& t, const TensorList& x, const TensorList&, const Attrs& a) {
  uint64_t m = uint64_t(a.ints[0]);
  return {sum(mul(t[0], prod_others(x[0], m)), mask_axes(m), false, a.flag != 0)};
}
constexpr Prim kProd = PrimDef("prod").impl(prod_impl).vjp(prod_vjp).jvp(prod_jvp).batch(axis_mask_batch);

// ---- amax / amin -------------------------------------------------------------------------------
template <kernels::Red R>
TensorList minmax_impl(const TensorList& in, const Attrs& a) {
  return {reduce_fwd(R, in[0], uint64_t(a.ints[0]), a.flag != 0, in[0].dtype())};
}
// Weights of the elements that attain the extremum: 1 / (number of ties) there, 0 elsewhere.
Tensor tie_weights(const Tensor& x, const Tensor& y_keep, uint64_t m) {
  Tensor hit = cast(eq(x, y_keep), x.dtype());
  Tensor count = sum(hit, mask_axes(m), false, true);
  return div(hit, count);
}
// max'(x) = g * [x == max] / #ties   (ties share the gradient equally, as in JAX)
TensorList minmax_vjp(const TensorList& g, const TensorList& x, const TensorList& y, const Attrs& a, uint32_t) {
  uint64_t m = uint64_t(a.ints[0]);
  bool kd = a.flag != 0;
  Tensor w = tie_weights(x[0], as_keep(y[0], x[0].shape(), m, kd), m);
  return {mul(as_keep(g[0], x[0].shape(), m, kd), w)};
}
TensorList minmax_jvp(const TensorList& t, const TensorList& x, const TensorList& y, const Attrs& a) {
  uint64_t m = uint64_t(a.ints[0]);
  bool kd = a.flag != 0;
  Tensor w = tie_weights(x[0], as_keep(y[0], x[0].shape(), m, kd), m);
  return {sum(mul(t[0], w), mask_axes(m), false, kd)};
}
constexpr Prim kAmax = PrimDef("amax")
                           .impl(minmax_impl<kernels::Red::Max>)
                           .vjp(minmax_vjp)
                           .jvp(minmax_jvp)
                           .batch(axis_mask_batch)
                           .api("amax max");
constexpr Prim kAmin = PrimDef("amin")
                           .impl(minmax_impl<kernels::Red::Min>)
                           .vjp(minmax_vjp)
                           .jvp(minmax_jvp)
                           .batch(axis_mask_batch)
                           .api("amin min");

// ---- argmax / argmin (non-differentiable) -----------------------------------------------------
// attrs: ints[0] = axis, flag = keepdims; the input is already flattened for axis=None.
template <kernels::Red R>
TensorList arg_impl(const TensorList& in, const Attrs& a) {
  const Tensor& x = in[0];
  check_op_input(x, "argmax");
  const int64_t axis = a.ints[0];
  DType cd = compute_dtype(x.dtype());
  Tensor xx = x.dtype() == cd ? x : x.to(cd);
  Shape ks = x.shape();
  ks[size_t(axis)] = 1;
  Tensor out = Tensor::empty(ks, DType::Int64, x.device());
  kernels::reduce(R, out, xx, uint64_t(1) << axis);
  if (!a.flag) {
    Shape ds = x.shape();
    ds.erase(size_t(axis));
    out = out.view_as(ds, contiguous_strides(ds), out.offset());
  }
  return {out};
}
// vmap: the batch axis first, the reduced axis shifted past it.
constexpr Prim kArgmax = PrimDef("argmax").impl(arg_impl<kernels::Red::ArgMax>).batch(one_axis_batch).nondiff();
constexpr Prim kArgmin = PrimDef("argmin").impl(arg_impl<kernels::Red::ArgMin>).batch(one_axis_batch).nondiff();

Tensor arg_reduce(const Prim& p, const char* name, const Tensor& a, int64_t axis, bool all_axes, bool keepdims) {
  Tensor x = a;
  Attrs at;
  at.flag = keepdims;
  if (all_axes) {
    TG_CHECK(a.numel() > 0, name, ": attempt to get ", name, " of an empty sequence");
    x = reshape(a, Shape{a.numel()});
    at.ints.push_back(0);
  } else {
    int64_t k = norm_axis(axis, a.ndim(), name);
    TG_CHECK(a.shape()[size_t(k)] > 0, name, ": attempt to get ", name, " of an empty sequence (axis ", axis,
             " of a tensor of shape ", shape_str(a.shape()), ")");
    at.ints.push_back(k);
  }
  Tensor r = any_tracked(x) ? autodiff::apply1(p, {x}, at) : p.impl({x}, at)[0];
  if (all_axes && keepdims) r = reshape(r, Shape(size_t(a.ndim()), 1));
  return r;
}

// ---- any / all (non-differentiable) ------------------------------------------------------------
template <kernels::Red R>
TensorList anyall_impl(const TensorList& in, const Attrs& a) {
  Tensor b = in[0].dtype() == DType::Bool ? in[0] : in[0].to(DType::Bool);
  return {reduce_fwd(R, b, uint64_t(a.ints[0]), a.flag != 0, DType::Bool)};
}
constexpr Prim kAny = PrimDef("any").impl(anyall_impl<kernels::Red::Any>).batch(axis_mask_batch).nondiff();
constexpr Prim kAll = PrimDef("all").impl(anyall_impl<kernels::Red::All>).batch(axis_mask_batch).nondiff();

// ---- std ---------------------------------------------------------------------------------------
// count - ddof, at least 0 (a huge negative ddof saturates rather than overflowing).
int64_t count_minus_ddof(int64_t count, int64_t ddof) {
  int64_t n;
  if (__builtin_sub_overflow(count, ddof, &n)) n = ddof < 0 ? INT64_MAX : 0;
  return std::max<int64_t>(n, 0);
}
// attrs: ints[0] = mask, ints[1] = ddof, flag = keepdims. Input is floating point.
Tensor var_impl_keep(const Tensor& x, uint64_t m, int64_t ddof) {
  const Axes axes = mask_axes(m);
  Tensor mu = mean(x, axes, false, true);
  Tensor d = sub(x, mu);
  Tensor s = sum(mul(d, d), axes, false, true);
  const int64_t n = count_minus_ddof(reduced_count(x.shape(), m), ddof);
  return div(s, scalar_like(double(n), s));
}
TensorList std_impl(const TensorList& in, const Attrs& a) {
  uint64_t m = uint64_t(a.ints[0]);
  Tensor r = sqrt(var_impl_keep(in[0], m, a.ints[1]));
  return {from_keep(r, in[0].shape(), m, a.flag != 0)};
}
// d std / dx = (x - mean) / (n_eff * std); where std == 0 (constant input) we use 0, a
// subgradient (std is not differentiable there: std(c + h v) = |h| std(v)), instead of 0/0 = NaN.
Tensor std_weights(const Tensor& x, const Tensor& y_keep, uint64_t m, int64_t ddof) {
  const int64_t n = count_minus_ddof(reduced_count(x.shape(), m), ddof);
  Tensor d = sub(x, mean(x, mask_axes(m), false, true));
  Tensor pos = gt(y_keep, scalar_like(0.0, y_keep));
  Tensor safe = where(pos, y_keep, scalar_like(1.0, y_keep));
  Tensor w = div(d, mul_scalar(safe, double(n)));
  return where(pos, w, scalar_like(0.0, w));
}
TensorList std_vjp(const TensorList& g, const TensorList& x, const TensorList& y, const Attrs& a, uint32_t) {
  uint64_t m = uint64_t(a.ints[0]);
  bool kd = a.flag != 0;
  Tensor w = std_weights(x[0], as_keep(y[0], x[0].shape(), m, kd), m, a.ints[1]);
  return {mul(as_keep(g[0], x[0].shape(), m, kd), w)};
}
TensorList std_jvp(const TensorList& t, const TensorList& x, const TensorList& y, const Attrs& a) {
  uint64_t m = uint64_t(a.ints[0]);
  bool kd = a.flag != 0;
  Tensor w = std_weights(x[0], as_keep(y[0], x[0].shape(), m, kd), m, a.ints[1]);
  return {sum(mul(t[0], w), mask_axes(m), false, kd)};
}
// ints[1] (ddof) unchanged
constexpr Prim kStd = PrimDef("std").impl(std_impl).vjp(std_vjp).jvp(std_jvp).batch(axis_mask_batch).api("std var");

// ---- softmax / log_softmax (fused forward) -----------------------------------------------------
// attrs: ints[0] = axis (normalised). Input is floating point.
template <bool Log>
TensorList softmax_impl(const TensorList& in, const Attrs& a) {
  const Tensor& x = in[0];
  check_op_input(x, Log ? "log_softmax" : "softmax");
  DType cd = compute_dtype(x.dtype());
  Tensor xx = x.dtype() == cd ? x.contiguous() : x.to(cd);
  Tensor out = Tensor::empty(x.shape(), cd, x.device());
  kernels::softmax(out, xx, a.ints[0], Log);
  return {cd == x.dtype() ? out : out.to(x.dtype())};
}
Axes one_axis(const Attrs& a) { return Axes{a.ints[0]}; }
// softmax'(x)^T g = y * (g - sum(g * y))
TensorList softmax_vjp(const TensorList& g, const TensorList&, const TensorList& y, const Attrs& a, uint32_t) {
  Tensor gy = sum(mul(g[0], y[0]), one_axis(a), false, true);
  return {mul(y[0], sub(g[0], gy))};
}
// softmax'(x) t = y * (t - sum(t * y))
TensorList softmax_jvp(const TensorList& t, const TensorList&, const TensorList& y, const Attrs& a) {
  Tensor ty = sum(mul(t[0], y[0]), one_axis(a), false, true);
  return {mul(y[0], sub(t[0], ty))};
}
// log_softmax'(x)^T g = g - exp(y) * sum(g)
TensorList log_softmax_vjp(const TensorList& g, const TensorList&, const TensorList& y, const Attrs& a, uint32_t) {
  return {sub(g[0], mul(exp(y[0]), sum(g[0], one_axis(a), false, true)))};
}
// log_softmax'(x) t = t - sum(exp(y) * t)
TensorList log_softmax_jvp(const TensorList& t, const TensorList&, const TensorList& y, const Attrs& a) {
  return {sub(t[0], sum(mul(exp(y[0]), t[0]), one_axis(a), false, true))};
}
// vmap: the batch axis first, the softmax axis shifted past it.
constexpr Prim kSoftmax =
    PrimDef("softmax").impl(softmax_impl<false>).vjp(softmax_vjp).jvp(softmax_jvp).batch(one_axis_batch);
constexpr Prim kLogSoftmax =
    PrimDef("log_softmax").impl(softmax_impl<true>).vjp(log_softmax_vjp).jvp(log_softmax_jvp).batch(one_axis_batch);

// ---- cumsum ------------------------------------------------------------------------------------
// attrs: ints[0] = axis (normalised). Input already of the result dtype.
Tensor scan_fwd(kernels::Scan op, const Tensor& x, int64_t axis) {
  check_op_input(x, op == kernels::Scan::Sum ? "cumsum" : "cumprod");
  DType cd = compute_dtype(x.dtype());
  Tensor xx = x.dtype() == cd ? x.contiguous() : x.to(cd);
  Tensor out = Tensor::empty(x.shape(), cd, x.device());
  kernels::scan(op, out, xx, axis);
  return cd == x.dtype() ? out : out.to(x.dtype());
}
TensorList cumsum_impl(const TensorList& in, const Attrs& a) {
  return {scan_fwd(kernels::Scan::Sum, in[0], a.ints[0])};
}
// cumsum'(x)^T g = reverse cumsum of g = flip(cumsum(flip(g)))
TensorList cumsum_vjp(const TensorList& g, const TensorList&, const TensorList&, const Attrs& a, uint32_t) {
  SmallVec<int64_t, 6> ax{a.ints[0]};
  return {flip(cumsum(flip(g[0], ax, false), a.ints[0], false), ax, false)};
}
TensorList cumsum_jvp(const TensorList& t, const TensorList&, const TensorList&, const Attrs& a) {
  return {cumsum(t[0], a.ints[0], false)};
}
// vmap: the batch axis first, the scanned axis shifted past it.
constexpr Prim kCumsum = PrimDef("cumsum").impl(cumsum_impl).vjp(cumsum_vjp).jvp(cumsum_jvp).batch(one_axis_batch);

// Cumulative product of values no derivative flows through (integers, and values no
// differentiation level tracks); the others use the differentiable composite cumprod_scan below. attrs: ints[0] = axis (normalised).
TensorList cumprod_impl(const TensorList& in, const Attrs& a) {
  return {scan_fwd(kernels::Scan::Prod, in[0], a.ints[0])};
}
constexpr Prim kCumprod = PrimDef("cumprod").impl(cumprod_impl).batch(one_axis_batch).nondiff();

// Inclusive prefix product along `axis` from differentiable ops (pairs multiplied, prefix of the
// pairs recursively, then the even positions filled in): O(n) work, log n depth. Used for tracked
// values so that every derivative of cumprod is exact at zeros.
Tensor cumprod_scan(const Tensor& x, int64_t axis) {
  const int64_t n = x.shape()[size_t(axis)];
  if (n <= 1) return x;
  const int64_t h = n / 2;
  Tensor head = x, tail;
  if (n % 2) {
    auto parts = split(x, {2 * h}, false, axis);
    head = parts[0];
    tail = parts[1];
  }
  Shape ps = head.shape();  // (.., h, 2, ..)
  ps[size_t(axis)] = h;
  ps.insert(size_t(axis) + 1, 2);
  Shape hs = head.shape();
  hs[size_t(axis)] = h;
  auto eo = split(reshape(head, ps), {2}, true, axis + 1);
  Tensor ev = reshape(eo[0], hs), od = reshape(eo[1], hs);  // x0 x2 x4 .. / x1 x3 x5 ..
  Tensor odd = cumprod_scan(mul(ev, od), axis);             // y1 y3 y5 ..
  Tensor even = ev;                                         // y0 = x0, y2k = y(2k-1) * x2k
  if (h > 1) {
    auto e_parts = split(ev, {1}, false, axis);
    auto o_parts = split(odd, {h - 1}, false, axis);
    even = concatenate({e_parts[0], mul(o_parts[0], e_parts[1])}, axis);
  }
  Shape full = head.shape();
  Tensor y = reshape(stack({even, odd}, axis + 1), full);
  if (n % 2) {
    Tensor last = mul(split(odd, {h - 1}, false, axis)[1], tail);
    y = concatenate({y, last}, axis);
  }
  return y;
}

// Shared argument handling of cumsum/cumprod: (x of the result dtype, normalised axis).
std::pair<Tensor, int64_t> scan_args(const Tensor& a, int64_t axis, bool flatten, const char* name) {
  Tensor x = a;
  if (flatten) {
    x = reshape(x, Shape{x.numel()});
    axis = 0;
  } else {
    TG_CHECK_INDEX(x.ndim() > 0, name, ": axis ", axis, " is out of bounds for a tensor of dimension 0");
    axis = norm_axis(axis, x.ndim(), name);
  }
  DType dt = sum_dtype(x.dtype());
  if (x.dtype() != dt) x = cast(x, dt);
  return {x, axis};
}

}  // namespace

// ---- public ops ----------------------------------------------------------------------------------

Tensor sum(const Tensor& a, const Axes& axes, bool all_axes, bool keepdims) {
  if (is_complex(a.dtype())) return complex_sum(a, axes, all_axes, keepdims, false);
  Attrs at = reduce_attrs(axes_mask(a, axes, all_axes, "sum"), keepdims);
  if (!any_tracked(a)) return sum_impl({a}, at)[0];
  return autodiff::apply1(kSum, {a}, at);
}

// Float16 statistics are computed in float32 and rounded once at the end, as numpy does: a
// float16 sum of more than 65504 ones is inf, while their mean is 1.
Tensor mean(const Tensor& a, const Axes& axes, bool all_axes, bool keepdims) {
  if (is_complex(a.dtype())) return complex_sum(a, axes, all_axes, keepdims, true);
  if (a.dtype() == DType::Float16) return cast(mean(cast(a, DType::Float32), axes, all_axes, keepdims), DType::Float16);
  uint64_t m = axes_mask(a, axes, all_axes, "mean");
  int64_t count = reduced_count(a.shape(), m);
  Tensor s = sum(float_input(a), axes, all_axes, keepdims);
  return div(s, Tensor::scalar(double(count), s.dtype()));
}

// Complex products have no reduction kernel: the reduced axes go last and are flattened, and the
// last of their prefix products (cumprod_scan, differentiable multiplications: holomorphic, so
// JAX's convention needs no rule of its own) is the product; 1 for an empty group, as numpy.
static Tensor complex_prod(const Tensor& x, uint64_t m, bool keepdims) {
  const int64_t nd = x.ndim();
  SmallVec<int64_t, 6> perm;
  Shape kept;
  for (int64_t d = 0; d < nd; ++d)
    if (!((m >> d) & 1)) {
      perm.push_back(d);
      kept.push_back(x.shape()[size_t(d)]);
    }
  for (int64_t d = 0; d < nd; ++d)
    if ((m >> d) & 1) perm.push_back(d);
  const int64_t n = reduced_count(x.shape(), m);
  const Shape out_shape = keepdims ? keep_shape(x.shape(), m) : kept;
  if (n == 0) return Tensor::full(out_shape, x.dtype(), 1.0, x.device());
  Shape flat = kept;
  flat.push_back(n);
  const Tensor xr = reshape(transpose(x, perm), flat);
  const Tensor last = split(cumprod_scan(xr, int64_t(kept.size())), {n - 1}, false, -1)[1];
  return reshape(last, out_shape);
}

Tensor prod(const Tensor& a, const Axes& axes, bool all_axes, bool keepdims) {
  if (is_complex(a.dtype())) return complex_prod(a, axes_mask(a, axes, all_axes, "prod"), keepdims);
  Attrs at = reduce_attrs(axes_mask(a, axes, all_axes, "prod"), keepdims);
  if (!any_tracked(a)) return prod_impl({a}, at)[0];
  return autodiff::apply1(kProd, {a}, at);
}

static Tensor minmax(const Prim& p, const char* name, const char* ufunc, const Tensor& a, const Axes& axes,
                     bool all_axes, bool keepdims) {
  uint64_t m = axes_mask(a, axes, all_axes, name);
  TG_CHECK(reduced_count(a.shape(), m) > 0, name, ": zero-size array to reduction operation ", ufunc,
           " which has no identity (shape ", shape_str(a.shape()), ")");
  Attrs at = reduce_attrs(m, keepdims);
  if (!any_tracked(a)) return p.impl({a}, at)[0];
  return autodiff::apply1(p, {a}, at);
}
Tensor amax(const Tensor& a, const Axes& axes, bool all_axes, bool keepdims) {
  refuse_complex(a, "max");
  return minmax(kAmax, "max", "maximum", a, axes, all_axes, keepdims);
}
Tensor amin(const Tensor& a, const Axes& axes, bool all_axes, bool keepdims) {
  refuse_complex(a, "min");
  return minmax(kAmin, "min", "minimum", a, axes, all_axes, keepdims);
}

Tensor argmax(const Tensor& a, int64_t axis, bool all_axes, bool keepdims) {
  refuse_complex(a, "argmax");
  return arg_reduce(kArgmax, "argmax", a, axis, all_axes, keepdims);
}
Tensor argmin(const Tensor& a, int64_t axis, bool all_axes, bool keepdims) {
  refuse_complex(a, "argmin");
  return arg_reduce(kArgmin, "argmin", a, axis, all_axes, keepdims);
}

Tensor var(const Tensor& a, const Axes& axes, bool all_axes, bool keepdims, int64_t ddof) {
  // numpy: mean |z - mean z|^2, real; |d|^2 = Re(d)^2 + Im(d)^2, so the parts' variances add.
  if (is_complex(a.dtype()))
    return add(var(real(a), axes, all_axes, keepdims, ddof), var(imag(a), axes, all_axes, keepdims, ddof));
  if (a.dtype() == DType::Float16)
    return cast(var(cast(a, DType::Float32), axes, all_axes, keepdims, ddof), DType::Float16);
  uint64_t m = axes_mask(a, axes, all_axes, "var");
  Tensor x = float_input(a);
  return from_keep(var_impl_keep(x, m, ddof), x.shape(), m, keepdims);
}

Tensor std_(const Tensor& a, const Axes& axes, bool all_axes, bool keepdims, int64_t ddof) {
  if (is_complex(a.dtype())) {
    // sqrt of the (real) variance, with the real std's subgradient 0 where the variance is 0 (a
    // constant input, one element among them): sqrt's derivative is infinite there, and 0 * inf
    // made the derivative NaN. ne, not gt, so that a NaN variance still gives NaN.
    Tensor v = var(a, axes, all_axes, keepdims, ddof);
    Tensor nonzero = ne(v, scalar_like(0.0, v));
    Tensor s = sqrt(where(nonzero, v, scalar_like(1.0, v)));
    return where(nonzero, s, scalar_like(0.0, s));
  }
  if (a.dtype() == DType::Float16)
    return cast(std_(cast(a, DType::Float32), axes, all_axes, keepdims, ddof), DType::Float16);
  Attrs at = reduce_attrs(axes_mask(a, axes, all_axes, "std"), keepdims);
  at.ints.push_back(ddof);
  Tensor x = float_input(a);
  if (!any_tracked(x)) return std_impl({x}, at)[0];
  return autodiff::apply1(kStd, {x}, at);
}

// logsumexp(x) = log(sum(exp(x - m))) + m with m = max(x) held constant (the result does not
// depend on m, so its derivatives are exact; m keeps exp from overflowing).
Tensor logsumexp(const Tensor& a, const Axes& axes, bool all_axes, bool keepdims) {
  refuse_complex(a, "logsumexp");
  uint64_t mk = axes_mask(a, axes, all_axes, "logsumexp");
  Tensor x = float_input(a);
  const Axes ax = mask_axes(mk);
  Tensor m;
  if (reduced_count(x.shape(), mk) > 0 && x.numel() > 0) {
    m = amax(stop_gradient(x), ax, false, true);
    m = where(predicate(kernels::Pred::IsFinite, m), m, scalar_like(0.0, m));
  } else {
    m = Tensor::zeros(keep_shape(x.shape(), mk), x.dtype());
  }
  Tensor r = add(log(sum(exp(sub(x, m)), ax, false, true)), m);
  return from_keep(r, x.shape(), mk, keepdims);
}

static Tensor softmax_common(const Prim& p, const char* name, const Tensor& a, int64_t axis) {
  refuse_complex(a, name);
  Tensor x = float_input(a);
  TG_CHECK_INDEX(x.ndim() > 0 || axis == -1 || axis == 0, name, ": axis ", axis,
                 " is out of bounds for a tensor of dimension 0");
  if (x.ndim() == 0)  // one element along no axis: softmax 1, log_softmax 0
    return reshape(softmax_common(p, name, reshape(x, Shape{1}), 0), Shape{});
  Attrs at;
  at.ints.push_back(norm_axis(axis, x.ndim(), name));
  if (!any_tracked(x)) return p.impl({x}, at)[0];
  return autodiff::apply1(p, {x}, at);
}
Tensor softmax(const Tensor& a, int64_t axis) { return softmax_common(kSoftmax, "softmax", a, axis); }
Tensor log_softmax(const Tensor& a, int64_t axis) { return softmax_common(kLogSoftmax, "log_softmax", a, axis); }

Tensor any(const Tensor& a, const Axes& axes, bool all_axes, bool keepdims) {
  if (is_complex(a.dtype())) return any(ne(a, Tensor::scalar(0.0, a.dtype())), axes, all_axes, keepdims);
  Attrs at = reduce_attrs(axes_mask(a, axes, all_axes, "any"), keepdims);
  if (!any_tracked(a)) return anyall_impl<kernels::Red::Any>({a}, at)[0];
  return autodiff::apply1(kAny, {a}, at);
}
Tensor all(const Tensor& a, const Axes& axes, bool all_axes, bool keepdims) {
  if (is_complex(a.dtype())) return all(ne(a, Tensor::scalar(0.0, a.dtype())), axes, all_axes, keepdims);
  Attrs at = reduce_attrs(axes_mask(a, axes, all_axes, "all"), keepdims);
  if (!any_tracked(a)) return anyall_impl<kernels::Red::All>({a}, at)[0];
  return autodiff::apply1(kAll, {a}, at);
}

Tensor cumsum(const Tensor& a, int64_t axis, bool flatten) {
  if (is_complex(a.dtype())) return complex_from_parts(cumsum(real(a), axis, flatten), cumsum(imag(a), axis, flatten));
  auto xa = scan_args(a, axis, flatten, "cumsum");
  Attrs at;
  at.ints.push_back(xa.second);
  if (!any_tracked(xa.first)) return cumsum_impl({xa.first}, at)[0];
  return autodiff::apply1(kCumsum, {xa.first}, at);
}

Tensor cumprod(const Tensor& a, int64_t axis, bool flatten) {
  if (is_complex(a.dtype())) {  // no complex scan kernel: the differentiable scan, for every value
    if (flatten) return cumprod_scan(reshape(a, Shape{a.numel()}), 0);
    TG_CHECK_INDEX(a.ndim() > 0, "cumprod: axis ", axis, " is out of bounds for a tensor of dimension 0");
    return cumprod_scan(a, norm_axis(axis, a.ndim(), "cumprod"));
  }
  auto xa = scan_args(a, axis, flatten, "cumprod");
  const Tensor& x = xa.first;
  Tensor c = autodiff::strip(x);  // x without its differentiation levels (vmap's are kept)
  if (c.impl() != x.impl() && is_float(x.dtype())) return cumprod_scan(x, xa.second);
  Attrs at;
  at.ints.push_back(xa.second);
  if (!any_tracked(c)) return cumprod_impl({c}, at)[0];
  return autodiff::apply1(kCumprod, {c}, at);
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
      TG_CHECK_SHAPE(shape[size_t(i - lead)] == a.shape()[size_t(i)], "sum_to: cannot sum ", shape_str(a.shape()),
                     " to ", shape_str(shape));
    }
  }
  Tensor s = sum(a, axes, false, true);
  return reshape(s, shape);
}

void add_reduce_prims(PrimRegistry& r) {
  for (const Prim* p : {&kSum, &kProd, &kAmax, &kAmin, &kArgmax, &kArgmin, &kAny, &kAll, &kStd, &kSoftmax, &kLogSoftmax,
                        &kCumsum, &kCumprod})
    r.push_back(p);
}

}  // namespace ops
}  // namespace tapegrad
