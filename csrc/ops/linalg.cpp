// Linear algebra prims (matmul, diagonal, norms, LAPACK-backed solve/inv/det/slogdet/cholesky) and
// the composites built from them (dot, vdot, outer, trace, norm; einsum is in einsum.cpp). Forward kernels live in
// kernels/cpu/blas.cpp; every rule here is written with ops, so it is itself differentiable.
#include "ops/linalg.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "autodiff/batching.h"
#include "kernels/kernels.h"
#include "kernels/linalg.h"
#include "ops/ops.h"

namespace tapegrad {
namespace ops {

namespace {

Shape sub_shape(const Shape& s, size_t b, size_t e) { return Shape(s.begin() + b, s.begin() + e); }
Shape cat_shape(const Shape& a, const Shape& b) {
  Shape r = a;
  for (int64_t d : b) r.push_back(d);
  return r;
}
// Leading (batch) dims of a tensor whose last `core` dims are the matrix.
Shape batch_shape(const Tensor& x, size_t core) { return sub_shape(x.shape(), 0, x.shape().size() - core); }

// reshape, robust to zero-size inputs with degenerate strides (numpy gives empty arrays zero
// strides, which ops::reshape's view computation does not handle yet): those are copied first,
// which costs nothing.
Tensor reshape_(const Tensor& x, const Shape& s) {
  if (x.numel() == 0 && !x.is_contiguous()) return reshape(copy(x), s);
  return reshape(x, s);
}

// The last two axes swapped (matrix transpose of every matrix in a batch).
Tensor mT(const Tensor& x) { return swapaxes(x, -1, -2); }
// The conjugate transpose (the transpose of a real matrix).
Tensor mH(const Tensor& x) { return conj(mT(x)); }
// A 0-d complex constant re + i im of dtype d.
Tensor complex_const(double re, double im, DType d) {
  Tensor t = Tensor::empty(Shape{}, d);
  if (d == DType::Complex64) *t.data<std::complex<float>>() = std::complex<float>(float(re), float(im));
  else *t.data<std::complex<double>>() = std::complex<double>(re, im);
  return t;
}

// An untracked zero-stride view of `x` broadcast to `shape` (numpy rules; checked by the caller).
Tensor bview(const Tensor& x, const Shape& shape) {
  const size_t nd = shape.size(), xd = x.shape().size();
  Strides st(nd, 0);
  for (size_t i = 0; i < xd; ++i) {
    const size_t o = nd - xd + i;
    st[o] = x.shape()[i] == 1 && shape[o] != 1 ? 0 : x.strides()[i];
  }
  return x.view_as(shape, st, x.offset());
}

Shape keep_shape(const Shape& s, uint64_t m) {
  Shape r = s;
  for (size_t i = 0; i < s.size(); ++i)
    if ((m >> i) & 1) r[i] = 1;
  return r;
}
Axes mask_axes(uint64_t m) {
  Axes a;
  for (int i = 0; i < 63; ++i)
    if ((m >> i) & 1) a.push_back(i);
  return a;
}

// ---- matmul --------------------------------------------------------------------------------
// Inputs are at least 2-d here (the public op promotes 1-d operands); leading dims broadcast.
Tensor matmul_fwd(const Tensor& a, const Tensor& b) {
  const DType dt = promote(a.dtype(), b.dtype());
  // The integer dtypes without kernels of their own (is_small_int) multiply in Int64 and wrap back:
  // the same bits, sums of products being arithmetic modulo 2**bits. Complex runs cgemm/zgemm (its
  // rules are the real ones: holomorphic, JAX's convention).
  const DType cd = dt == DType::Bool || is_small_int(dt) ? DType::Int64 : compute_dtype(dt);
  const size_t an = a.shape().size(), bn = b.shape().size();
  const int64_t m = a.shape()[an - 2], k = a.shape()[an - 1], n = b.shape()[bn - 1];
  Shape batch = broadcast_shapes(batch_shape(a, 2), batch_shape(b, 2), "matmul");
  Tensor aa = bview(a.to(cd), cat_shape(batch, Shape{m, k}));
  Tensor bb = bview(b.to(cd), cat_shape(batch, Shape{k, n}));
  Tensor out = Tensor::empty(cat_shape(batch, Shape{m, n}), cd, a.device());
  kernels::matmul(out, aa, bb);
  if (cd == dt) return out;
  return out.to(dt);
}
TensorList matmul_impl(const TensorList& in, const Attrs&) { return {matmul_fwd(in[0], in[1])}; }
// (a @ b)' = (g @ b^T, a^T @ g), summed over broadcast batch dims by the sweep
TensorList matmul_vjp(const TensorList& g, const TensorList& in, const TensorList&, const Attrs&, uint32_t need) {
  const Tensor &a = in[0], &b = in[1];
  Tensor ga, gb;
  if (need & 1) ga = matmul(g[0], mT(b));
  if (need & 2) {
    if (b.ndim() == 2 && a.ndim() > 2) {
      // A batch against one matrix: one tall product instead of a batch of them and a sum.
      const int64_t k = a.shape().back(), n = b.shape().back();
      const int64_t rows = numel(batch_shape(a, 1));
      gb = matmul(mT(reshape_(a, Shape{rows, k})), reshape_(g[0], Shape{rows, n}));
    } else {
      gb = matmul(mT(a), g[0]);
    }
  }
  return {ga, gb};
}
TensorList matmul_jvp(const TensorList& t, const TensorList& in, const TensorList&, const Attrs&) {
  return {opt_add(t[0].defined() ? matmul(t[0], in[1]) : Tensor(), t[1].defined() ? matmul(in[0], t[1]) : Tensor())};
}
// vmap: both operands are at least 2-d here, so the batch axis joins numpy's broadcast batch dims:
// each batched operand gets it first, padded with size-1 dims to the larger logical rank; an unbatched
// operand broadcasts against it.
TensorList matmul_batch(const Prim& p, const TensorList& in, const BatchDims& bd, const Attrs& a, int64_t,
                        BatchDims& obd) {
  const int64_t rank = std::max(autodiff::logical_rank(in[0], bd[0]), autodiff::logical_rank(in[1], bd[1]));
  TensorList xs;
  for (size_t i = 0; i < 2; ++i) xs.push_back(bd[i] >= 0 ? autodiff::batch_first_padded(in[i], bd[i], rank) : in[i]);
  obd.push_back(0);
  return autodiff::apply(p, xs, a);
}
constexpr Prim kMatmul =
    PrimDef("matmul").impl(matmul_impl).vjp(matmul_vjp).jvp(matmul_jvp).batch(matmul_batch).api("matmul dot");

// ---- diagonal and its adjoint ----------------------------------------------------------------
// attrs.ints = {offset, axis1, axis2} (normalised, axis1 != axis2); diag_embed adds the full shape.
Tensor diagonal_view(const Tensor& a, int64_t offset, int64_t ax1, int64_t ax2) {
  const Shape& s = a.shape();
  const Strides& st = a.strides();
  const int64_t n1 = s[size_t(ax1)], n2 = s[size_t(ax2)];
  int64_t len = offset >= 0 ? std::min(n1, n2 - offset) : std::min(n1 + offset, n2);
  if (len < 0) len = 0;
  int64_t off = a.offset();
  if (len > 0) off += offset >= 0 ? offset * st[size_t(ax2)] : -offset * st[size_t(ax1)];
  Shape os;
  Strides ost;
  for (size_t i = 0; i < s.size(); ++i) {
    if (int64_t(i) == ax1 || int64_t(i) == ax2) continue;
    os.push_back(s[i]);
    ost.push_back(st[i]);
  }
  os.push_back(len);
  ost.push_back(st[size_t(ax1)] + st[size_t(ax2)]);
  return a.view_as(os, ost, off);
}
Tensor diagonal_p(const Tensor& a, int64_t offset, int64_t ax1, int64_t ax2);
Tensor diag_embed_p(const Tensor& g, const Shape& full, int64_t offset, int64_t ax1, int64_t ax2);

TensorList diagonal_impl(const TensorList& in, const Attrs& a) {
  return {diagonal_view(in[0], a.ints[0], a.ints[1], a.ints[2])};
}
// diagonal'(x) = the cotangent written back onto the diagonal of zeros
TensorList diagonal_vjp(const TensorList& g, const TensorList& in, const TensorList&, const Attrs& a, uint32_t) {
  return {diag_embed_p(g[0], in[0].shape(), a.ints[0], a.ints[1], a.ints[2])};
}
TensorList diagonal_jvp(const TensorList& t, const TensorList&, const TensorList&, const Attrs& a) {
  return {diagonal_p(t[0], a.ints[0], a.ints[1], a.ints[2])};
}
// vmap: the batch axis first, both axes shifted past it
TensorList diagonal_batch(const Prim& p, const TensorList& in, const BatchDims& bd, const Attrs& a, int64_t,
                          BatchDims& obd) {
  Attrs b = a;
  b.ints[1] += 1;
  b.ints[2] += 1;
  obd.push_back(0);
  return autodiff::apply(p, {autodiff::batch_first(in[0], bd[0])}, b);
}
constexpr Prim kDiagonal = PrimDef("diagonal")
                               .impl(diagonal_impl)
                               .vjp(diagonal_vjp)
                               .jvp(diagonal_jvp)
                               .batch(diagonal_batch)
                               .api("trace einsum");

TensorList diag_embed_impl(const TensorList& in, const Attrs& a) {
  Shape full(a.ints.begin() + 3, a.ints.end());
  Tensor out = Tensor::zeros(full, in[0].dtype(), in[0].device());
  kernels::copy(diagonal_view(out, a.ints[0], a.ints[1], a.ints[2]), in[0]);
  return {out};
}
// embed'(g) = diagonal(g): embed is diagonal's adjoint and the reverse
TensorList diag_embed_vjp(const TensorList& g, const TensorList&, const TensorList&, const Attrs& a, uint32_t) {
  return {diagonal_p(g[0], a.ints[0], a.ints[1], a.ints[2])};
}
TensorList diag_embed_jvp(const TensorList& t, const TensorList&, const TensorList&, const Attrs& a) {
  return {diag_embed_p(t[0], Shape(a.ints.begin() + 3, a.ints.end()), a.ints[0], a.ints[1], a.ints[2])};
}
// vmap: the batch axis first, both axes shifted past it, the batch size prepended to the full shape
TensorList diag_embed_batch(const Prim& p, const TensorList& in, const BatchDims& bd, const Attrs& a, int64_t size,
                            BatchDims& obd) {
  Attrs b = a;
  b.ints[1] += 1;
  b.ints[2] += 1;
  b.ints.insert(3, size);
  obd.push_back(0);
  return autodiff::apply(p, {autodiff::batch_first(in[0], bd[0])}, b);
}
constexpr Prim kDiagEmbed =
    PrimDef("diag_embed").impl(diag_embed_impl).vjp(diag_embed_vjp).jvp(diag_embed_jvp).batch(diag_embed_batch).api("");

Tensor diagonal_p(const Tensor& a, int64_t offset, int64_t ax1, int64_t ax2) {
  Attrs at;
  at.ints = {offset, ax1, ax2};
  if (!any_tracked(a)) return diagonal_impl({a}, at)[0];
  return autodiff::apply1(kDiagonal, {a}, at);
}
Tensor diag_embed_p(const Tensor& g, const Shape& full, int64_t offset, int64_t ax1, int64_t ax2) {
  Attrs at;
  at.ints = {offset, ax1, ax2};
  for (int64_t d : full) at.ints.push_back(d);
  if (!any_tracked(g)) return diag_embed_impl({g}, at)[0];
  return autodiff::apply1(kDiagEmbed, {g}, at);
}

// ---- 2-norm with a gradient defined at zero ----------------------------------------------------
// attrs.ints[0] = mask of reduced axes, flag = keepdims.
TensorList norm2_impl(const TensorList& in, const Attrs& a) {
  const Tensor& x = in[0];
  return {sqrt(sum(mul(x, x), mask_axes(uint64_t(a.ints[0])), false, a.flag != 0))};
}
// |x| with 0 replaced by 1: the rules divide by it, and x is all zeros exactly where |x| is 0.
Tensor safe_norm(const Tensor& n) { return where(eq(n, scalar_like(0.0, n)), scalar_like(1.0, n), n); }
// ||x||' = g x / ||x||, taken as 0 at x = 0 (as JAX's safe norm: the subgradient of least norm)
TensorList norm2_vjp(const TensorList& g, const TensorList& in, const TensorList& out, const Attrs& a, uint32_t) {
  const Tensor& x = in[0];
  const Shape ks = keep_shape(x.shape(), uint64_t(a.ints[0]));
  Tensor n = a.flag ? out[0] : reshape_(out[0], ks);
  Tensor gk = a.flag ? g[0] : reshape_(g[0], ks);
  return {mul(x, div(gk, safe_norm(n)))};
}
TensorList norm2_jvp(const TensorList& t, const TensorList& in, const TensorList& out, const Attrs& a) {
  Tensor dot_xt = sum(mul(in[0], t[0]), mask_axes(uint64_t(a.ints[0])), false, a.flag != 0);
  return {div(dot_xt, safe_norm(out[0]))};
}
// mask shifted
constexpr Prim kNorm2 =
    PrimDef("norm2").impl(norm2_impl).vjp(norm2_vjp).jvp(norm2_jvp).batch(autodiff::axis_mask_batch).api("linalg.norm");

Tensor norm2(const Tensor& x, uint64_t mask, bool keepdims) {
  Attrs at;
  at.ints.push_back(int64_t(mask));
  at.flag = keepdims;
  if (!any_tracked(x)) return norm2_impl({x}, at)[0];
  return autodiff::apply1(kNorm2, {x}, at);
}

// ---- max over axes (the inf-norms); ties share the gradient evenly, as in JAX ---------------
TensorList amax_impl(const TensorList& in, const Attrs& a) {
  const Tensor& x = in[0];
  const uint64_t m = uint64_t(a.ints[0]);
  const DType cd = compute_dtype(x.dtype());
  Tensor xx = x.to(cd);
  const Shape ks = keep_shape(x.shape(), m);
  Tensor out = Tensor::empty(ks, cd, x.device());
  kernels::reduce(kernels::Red::Max, out, xx, m);
  if (cd != x.dtype()) out = out.to(x.dtype());
  if (a.flag) return {out};
  Shape ds;
  for (size_t i = 0; i < x.shape().size(); ++i)
    if (!((m >> i) & 1)) ds.push_back(x.shape()[i]);
  return {out.view_as(ds, contiguous_strides(ds), out.offset())};
}
// weight of each element: 1/count where it equals the max, else 0 (a constant)
Tensor amax_weight(const Tensor& x, const Tensor& out_k, uint64_t m) {
  Tensor hit = cast(eq(x, out_k), x.dtype());
  return div(hit, sum(hit, mask_axes(m), false, true));
}
// max'(x) = g * [x == max] / #ties
TensorList amax_vjp(const TensorList& g, const TensorList& in, const TensorList& out, const Attrs& a, uint32_t) {
  const uint64_t m = uint64_t(a.ints[0]);
  const Shape ks = keep_shape(in[0].shape(), m);
  Tensor ok = a.flag ? out[0] : reshape_(out[0], ks);
  Tensor gk = a.flag ? g[0] : reshape_(g[0], ks);
  return {mul(gk, amax_weight(in[0], ok, m))};
}
TensorList amax_jvp(const TensorList& t, const TensorList& in, const TensorList& out, const Attrs& a) {
  const uint64_t m = uint64_t(a.ints[0]);
  Tensor ok = a.flag ? out[0] : reshape_(out[0], keep_shape(in[0].shape(), m));
  return {sum(mul(t[0], amax_weight(in[0], ok, m)), mask_axes(m), false, a.flag != 0)};
}
// mask shifted
constexpr Prim kAmax =
    PrimDef("norm_max").impl(amax_impl).vjp(amax_vjp).jvp(amax_jvp).batch(autodiff::axis_mask_batch).api("linalg.norm");

Tensor amax_p(const Tensor& x, uint64_t mask, bool keepdims, const char* op) {
  for (size_t i = 0; i < x.shape().size(); ++i)
    TG_CHECK(!((mask >> i) & 1) || x.shape()[i] > 0, op, ": zero-size reduction along axis ", i, " of shape ",
             shape_str(x.shape()), " has no identity");
  Attrs at;
  at.ints.push_back(int64_t(mask));
  at.flag = keepdims;
  if (!any_tracked(x)) return amax_impl({x}, at)[0];
  return autodiff::apply1(kAmax, {x}, at);
}
Tensor amin_p(const Tensor& x, uint64_t mask, bool keepdims, const char* op) {
  return neg(amax_p(neg(x), mask, keepdims, op));
}

// ---- LAPACK prims ----------------------------------------------------------------------------
std::string at_batch(const Tensor& a, int64_t idx) {
  if (a.ndim() <= 2) return "";
  return str_cat(" (matrix ", idx, " of the batch)");
}

TensorList solve_impl(const TensorList& in, const Attrs&) {
  const Tensor &a = in[0], &b = in[1];
  Tensor x = Tensor::empty(b.shape(), b.dtype(), b.device());
  int64_t bad = kernels::solve(x, a, b);
  TG_CHECK(bad < 0, "solve: singular matrix", at_batch(a, bad), "; ", describe(a));
  return {x};
}
// x = a^-1 b:  b' = a^-T g,  a' = -b' x^T
TensorList solve_vjp(const TensorList& g, const TensorList& in, const TensorList& out, const Attrs&, uint32_t need) {
  Tensor gb = solve(mT(in[0]), g[0]);
  Tensor ga = (need & 1) ? neg(matmul(gb, mT(out[0]))) : Tensor();
  return {ga, (need & 2) ? gb : Tensor()};
}
// dx = a^-1 (db - da x)
TensorList solve_jvp(const TensorList& t, const TensorList& in, const TensorList& out, const Attrs&) {
  Tensor rhs = opt_sub(t[1], t[0].defined() ? matmul(t[0], out[0]) : Tensor());
  return {rhs.defined() ? solve(in[0], rhs) : Tensor()};
}
// vmap: the LAPACK kernels loop over any leading dims, so the batch axis goes first on both operands
// (which must share their batch dims: an unbatched one is broadcast, a zero-stride view)
constexpr Prim kSolve = PrimDef("solve")
                            .impl(solve_impl)
                            .vjp(solve_vjp)
                            .jvp(solve_jvp)
                            .batch(autodiff::shared_leading_batch)
                            .api("linalg.solve");

TensorList inv_impl(const TensorList& in, const Attrs&) {
  const Tensor& a = in[0];
  Tensor out = Tensor::empty(a.shape(), a.dtype(), a.device());
  int64_t bad = kernels::inv(out, a);
  TG_CHECK(bad < 0, "inv: singular matrix", at_batch(a, bad), "; ", describe(a));
  return {out};
}
// inv'(a) = -inv^T g inv^T
TensorList inv_vjp(const TensorList& g, const TensorList&, const TensorList& out, const Attrs&, uint32_t) {
  Tensor yt = mT(out[0]);
  return {neg(matmul(matmul(yt, g[0]), yt))};
}
// d inv = -inv da inv
TensorList inv_jvp(const TensorList& t, const TensorList&, const TensorList& out, const Attrs&) {
  return {neg(matmul(matmul(out[0], t[0]), out[0]))};
}
// batch axis first
constexpr Prim kInv =
    PrimDef("inv").impl(inv_impl).vjp(inv_vjp).jvp(inv_jvp).batch(autodiff::leading_batch).api("linalg.inv");

Tensor batch_scalar_to_matrix(const Tensor& s) {  // (...) -> (..., 1, 1)
  Shape sh = s.shape();
  sh.push_back(1);
  sh.push_back(1);
  return reshape_(s, sh);
}
Tensor sum_last2(const Tensor& x) {
  const int64_t nd = x.ndim();
  return sum(x, Axes{nd - 2, nd - 1}, false, false);
}

TensorList det_impl(const TensorList& in, const Attrs&) {
  const Tensor& a = in[0];
  Tensor out = Tensor::empty(batch_shape(a, 2), a.dtype(), a.device());
  kernels::det(out, a);
  return {out};
}
// The cofactor matrix of a (..., n, n), adj(a)^T: C_ij = (-1)^(i+j) det(a without row i and
// column j). It is det's gradient, defined for every matrix, singular ones included.
Tensor cofactor_by_minors(const Tensor& a) {
  const int64_t n = a.shape()[a.shape().size() - 1];
  if (n <= 1) return Tensor::full(a.shape(), a.dtype(), 1.0);
  // idx lists, for each i, the n - 1 indices other than i: the rows (then columns) of the minors.
  Tensor idx = Tensor::empty(Shape{n * (n - 1)}, DType::Int64);
  int64_t* p = idx.data<int64_t>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < n; ++k)
      if (k != i) *p++ = k;
  const Shape batch = batch_shape(a, 2);
  const int64_t nb = int64_t(batch.size());
  Shape s1 = batch, s2 = batch;
  for (int64_t d : {n, n - 1, n}) s1.push_back(d);
  for (int64_t d : {n, n - 1, n, n - 1}) s2.push_back(d);
  Tensor rows = reshape(take(a, idx, -2, false), s1);  // (..., i, r, col)
  Tensor m = reshape(take(rows, idx, -1, false), s2);  // (..., i, r, j, c)
  SmallVec<int64_t, 6> perm;
  for (int64_t k = 0; k < nb; ++k) perm.push_back(k);
  for (int64_t k : {nb, nb + 2, nb + 1, nb + 3}) perm.push_back(k);
  Tensor minors = det(transpose(m, perm));  // (..., i, j)
  Tensor sign64 = Tensor::empty(Shape{n, n}, DType::Float64);
  double* q = sign64.data<double>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) q[i * n + j] = ((i + j) & 1) ? -1.0 : 1.0;
  return mul(minors, sign64.to(a.dtype()));
}
// Away from singular matrices C = det(a) a^-T (O(n^3)); where a has no inverse that formula has no
// value, and the minors give C exactly (O(n^5), only then).
Tensor cofactor(const Tensor& a, const Tensor& d) {
  try {
    return mul(batch_scalar_to_matrix(d), mT(inv(a)));
  } catch (const ValueError&) {}
  return cofactor_by_minors(a);
}
// det'(a) = g C(a)  (= g det a^-T for an invertible a)
TensorList det_vjp(const TensorList& g, const TensorList& in, const TensorList& out, const Attrs&, uint32_t) {
  return {mul(batch_scalar_to_matrix(g[0]), cofactor(in[0], out[0]))};
}
// d det = tr(adj(a) da) = sum(C(a) * da)
TensorList det_jvp(const TensorList& t, const TensorList& in, const TensorList& out, const Attrs&) {
  return {sum_last2(mul(cofactor(in[0], out[0]), t[0]))};
}
// batch axis first
constexpr Prim kDet =
    PrimDef("det").impl(det_impl).vjp(det_vjp).jvp(det_jvp).batch(autodiff::leading_batch).api("linalg.det");

TensorList slogdet_impl(const TensorList& in, const Attrs&) {
  const Tensor& a = in[0];
  Shape bs = batch_shape(a, 2);
  Tensor sign = Tensor::empty(bs, a.dtype(), a.device());
  Tensor logabs = Tensor::empty(bs, real_dtype(a.dtype()), a.device());
  kernels::slogdet(sign, logabs, a);
  return {sign, logabs};
}
// Real a: sign is piecewise constant; log|det|'(a) = g a^-T. Complex a (JAX's rules): with
// t = tr(a^-1 da), d log|det| = Re t and d sign = i Im(t) sign, so the VJP is
// (g_l + i Im(g_s sign)) a^-T.
TensorList slogdet_vjp(const TensorList& g, const TensorList& in, const TensorList& out, const Attrs&, uint32_t) {
  const Tensor& a = in[0];
  if (!is_complex(a.dtype())) {
    if (!g[1].defined()) return {Tensor()};
    return {mul(batch_scalar_to_matrix(g[1]), mT(inv(a)))};
  }
  const DType cd = a.dtype();
  Tensor c = cast_any(g[1], cd);
  if (g[0].defined()) {
    const Tensor q = imag(mul(g[0], out[0]));
    c = add(c, complex_from_parts(Tensor::zeros(q.shape(), q.dtype(), q.device()), q));
  }
  return {mul(batch_scalar_to_matrix(c), mT(inv(a)))};
}
TensorList slogdet_jvp(const TensorList& t, const TensorList& in, const TensorList& out, const Attrs&) {
  const Tensor tr = sum_last2(mul(mT(inv(in[0])), t[0]));
  if (!is_complex(in[0].dtype())) return {Tensor(), tr};
  const Tensor im = imag(tr);
  return {mul(complex_from_parts(Tensor::zeros(im.shape(), im.dtype(), im.device()), im), out[0]), real(tr)};
}
// batch axis first
constexpr Prim kSlogdet = PrimDef("slogdet")
                              .impl(slogdet_impl)
                              .vjp(slogdet_vjp)
                              .jvp(slogdet_jvp)
                              .batch(autodiff::leading_batch)
                              .api("linalg.slogdet");

// Constant n x n masks: tril(k) has ones where j <= i + k; phi has ones below the diagonal and 1/2 on it.
Tensor tri_mask(int64_t n, DType dt, int64_t k, double diag) {
  Tensor m = Tensor::zeros(Shape{n, n}, DType::Float64);
  double* p = m.data<double>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n && j <= i + k; ++j) p[i * n + j] = (i == j) ? diag : 1.0;
  return m.to(dt);
}

TensorList cholesky_impl(const TensorList& in, const Attrs&) {
  const Tensor& a = in[0];
  Tensor out = Tensor::empty(a.shape(), a.dtype(), a.device());
  int64_t bad = kernels::cholesky(out, a);
  TG_CHECK(bad < 0, "cholesky: matrix is not positive definite", at_batch(a, bad), "; ", describe(a));
  return {out};
}
Tensor sym_from_triangle(const Tensor& x, bool lower);
Tensor onto_triangle(const Tensor& g, bool lower);
// Only a's lower triangle is read, so the function is L(E) with E = tril(a) + tril(a, -1)^T
// (sym_from_triangle; for complex a the Hermitian tril(a, -1) + Re diag(a) + tril(a, -1)^H).
// Murray (2016): dL = L phi(L^-1 dE L^-H); its adjoint S = L^-T phi(L^T g) conj(L)^-1 on E (under
// Re sum(x y) for complex values; L^-T phi(L^T g) L^-1 for real ones), which maps back onto a
// through onto_triangle: a' = tril(S) + tril(S^T, -1) for real a.
TensorList cholesky_vjp(const TensorList& g, const TensorList&, const TensorList& out, const Attrs&, uint32_t) {
  const Tensor& L = out[0];
  const int64_t n = L.shape().back();
  const DType dt = L.dtype();
  Tensor lt = mT(L);
  Tensor p = mul(matmul(lt, g[0]), tri_mask(n, dt, 0, 0.5));
  Tensor y = solve(lt, p);             // L^-T P
  Tensor s = mT(solve(mH(L), mT(y)));  // L^-T P conj(L)^-1
  return {onto_triangle(s, true)};
}
TensorList cholesky_jvp(const TensorList& t, const TensorList&, const TensorList& out, const Attrs&) {
  const Tensor& L = out[0];
  const int64_t n = L.shape().back();
  const DType dt = L.dtype();
  Tensor e = sym_from_triangle(t[0], true);
  Tensor x = solve(L, mH(solve(L, e)));  // L^-1 E L^-H (E Hermitian)
  return {matmul(L, mul(x, tri_mask(n, dt, 0, 0.5)))};
}
// batch axis first
constexpr Prim kCholesky = PrimDef("cholesky")
                               .impl(cholesky_impl)
                               .vjp(cholesky_vjp)
                               .jvp(cholesky_jvp)
                               .batch(autodiff::leading_batch)
                               .api("linalg.cholesky");

// ---- decompositions: svd, svdvals, eigh, eigvalsh, qr -----------------------------------------
// Their rules are written with ops (matmul, solve, the elementwise ones), so they differentiate
// again; each prim runs on one stack of matrices, so vmap moves the batch axis first.
//
// Note [Decomposition gradients]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
// The factors of a decomposition are defined up to signs (a singular vector or an eigenvector times
// -1 is one too), and LAPACK picks one; a loss that does not depend on the pick (|U|, U S Vh, Q R,
// V diag(w) V^T, ...) has one gradient, and the rules give it. The rules (with k = min(m, n)):
//   svd (reduced; U m x k, S k, Vh k x n): F_ij = 1 / (s_j^2 - s_i^2) off the diagonal, 0 on it;
//     dP = U^T dA V, dS = diag(dP), dU = U (F o (dP S + S dP^T)) + (I - U U^T) dA V S^-1 (m > n),
//     dV = V (F o (S dP + dP^T S)) + (I - V V^T) dA^T U S^-1 (n > m); the VJP is its adjoint,
//     U [diag(gS) + (J + J^T) S + S (K + K^T)] Vh + the two projections, J = F o (U^T gU),
//     K = F o (V^T gV). full_matrices=True has no unique derivative for non-square inputs (the
//     extra columns are any orthonormal completion): its rules raise, as JAX's.
//   eigh (A = V diag(w) V^T from one triangle): F_ij = 1 / (w_j - w_i) off the diagonal;
//     dM = V^T dE V, dw = diag(dM), dV = V (F o dM), where dE is the symmetric matrix the read
//     triangle of dA defines; the VJP maps G = V (diag(gw) + F o (V^T gV)) V^T back onto that
//     triangle (the off-diagonal entries appear twice in E): tril(G) + tril(G^T, -1) for 'L'.
//   qr (reduced, m >= n): X = dA R^-1, C = Q^T X, O = tril(C, -1) - tril(C, -1)^T;
//     dQ = X + Q (O - C), dR = (C - O) R; the VJP is (gQ + Q N) R^-T with M = Q^T gQ - gR R^T,
//     N = tril(M - M^T, -1) - M. Wide (m < n) and complete non-square QR raise.
// Degenerate spectra: with two equal singular values (eigenvalues) F has an infinite entry, so the
// derivatives of U and Vh (V) are inf or nan there, as in JAX -- those factors are not even
// continuous functions of A at such points. A zero singular value of a non-square matrix does the
// same through S^-1. svdvals and eigvalsh are their own prims because their first derivatives
// stay finite at every A: U diag(g) Vh and V diag(g) V^T need no F; their VJPs recompute the
// vectors (with svd/eigh, so that second derivatives exist where the spectrum is simple).

// The identity of size n as a constant.
Tensor ident(int64_t n, DType dt) {
  Tensor m = Tensor::zeros(Shape{n, n}, DType::Float64);
  double* p = m.data<double>();
  for (int64_t i = 0; i < n; ++i) p[i * n + i] = 1.0;
  return m.to(dt);
}
// (..., k) -> (..., 1, k) (a row: scales columns) or (..., k, 1) (a column: scales rows).
Tensor as_row(const Tensor& s) {
  Shape sh = s.shape();
  sh.insert(sh.size() - 1, 1);
  return reshape_(s, sh);
}
Tensor as_col(const Tensor& s) {
  Shape sh = s.shape();
  sh.push_back(1);
  return reshape_(s, sh);
}
Tensor diag_of(const Tensor& x) { return diagonal_p(x, 0, x.ndim() - 2, x.ndim() - 1); }
// F_ij = 1 / (d_j - d_i) off the diagonal and 0 on it, for d (..., k) (JAX's form: an infinite
// entry where two values are equal).
Tensor gap_inverse(const Tensor& d) {
  const int64_t k = d.shape().back();
  const Tensor eye = ident(k, d.dtype());
  return sub(reciprocal(add(sub(as_row(d), as_col(d)), eye)), eye);
}
int64_t rows_of(const Tensor& x) { return x.shape()[x.shape().size() - 2]; }
int64_t cols_of(const Tensor& x) { return x.shape().back(); }

void check_svd_diff(const Tensor& a, const Attrs& at) {
  TG_CHECK_T(NotDifferentiable, !at.flag || rows_of(a) == cols_of(a),
             "svd: the derivative of U and Vh with full_matrices=True is not unique for a non-square matrix of shape ",
             shape_str(a.shape()), ": use full_matrices=False (or svdvals for the singular values alone)");
}

// attrs.flag = full_matrices.
TensorList svd_impl(const TensorList& in, const Attrs& at) {
  const Tensor& a = in[0];
  const int64_t m = rows_of(a), n = cols_of(a), k = std::min(m, n);
  const Shape bs = batch_shape(a, 2);
  Tensor u = Tensor::empty(cat_shape(bs, Shape{m, at.flag ? m : k}), a.dtype(), a.device());
  Tensor s = Tensor::empty(cat_shape(bs, Shape{k}), real_dtype(a.dtype()), a.device());
  Tensor vh = Tensor::empty(cat_shape(bs, Shape{at.flag ? n : k, n}), a.dtype(), a.device());
  const int64_t bad = kernels::svd(u, s, vh, a, at.flag != 0, true);
  TG_CHECK(bad < 0, "svd: SVD did not converge (NaN or inf in the input?)", at_batch(a, bad), "; ", describe(a));
  return {u, s, vh};
}
TensorList svd_vjp_complex(const TensorList& g, const TensorList& in, const TensorList& out);
TensorList svd_jvp_complex(const TensorList& t, const TensorList& in, const TensorList& out);
TensorList svd_vjp(const TensorList& g, const TensorList& in, const TensorList& out, const Attrs& at, uint32_t) {
  const Tensor& a = in[0];
  check_svd_diff(a, at);
  if (is_complex(a.dtype())) return svd_vjp_complex(g, in, out);
  const Tensor &u = out[0], &s = out[1], &vh = out[2];
  const int64_t m = rows_of(a), n = cols_of(a);
  const Tensor v = mT(vh), gv = mT(g[2]);
  const Tensor f = gap_inverse(square(s));
  const Tensor j = mul(f, matmul(mT(u), g[0]));
  const Tensor kk = mul(f, matmul(vh, gv));
  const Tensor sr = as_row(s), sc = as_col(s);
  Tensor core = add(mul(ident(s.shape().back(), s.dtype()), as_row(g[1])), mul(add(j, mT(j)), sr));
  core = add(core, mul(sc, add(kk, mT(kk))));
  Tensor ga = matmul(matmul(u, core), vh);
  if (m > n) ga = add(ga, matmul(div(sub(g[0], matmul(u, matmul(mT(u), g[0]))), sr), vh));
  if (n > m) ga = add(ga, matmul(u, div(mT(sub(gv, matmul(v, matmul(vh, gv)))), sc)));
  return {ga};
}
TensorList svd_jvp(const TensorList& t, const TensorList& in, const TensorList& out, const Attrs& at) {
  const Tensor& a = in[0];
  check_svd_diff(a, at);
  if (is_complex(a.dtype())) return svd_jvp_complex(t, in, out);
  const Tensor &u = out[0], &s = out[1], &vh = out[2], &da = t[0];
  const int64_t m = rows_of(a), n = cols_of(a);
  const Tensor v = mT(vh);
  const Tensor dav = matmul(da, v);
  const Tensor dp = matmul(mT(u), dav);
  const Tensor f = gap_inverse(square(s));
  const Tensor sr = as_row(s), sc = as_col(s);
  Tensor du = matmul(u, mul(f, add(mul(dp, sr), mul(sc, mT(dp)))));
  Tensor dv = matmul(v, mul(f, add(mul(sc, dp), mul(mT(dp), sr))));
  if (m > n) du = add(du, div(sub(dav, matmul(u, dp)), sr));
  if (n > m) {
    const Tensor dau = matmul(mT(da), u);
    dv = add(dv, div(sub(dau, matmul(v, matmul(vh, dau))), sr));
  }
  return {du, diag_of(dp), mT(dv)};
}
// batch axis first; the rules read the outputs (of the input only its shape)
constexpr Prim kSvd = PrimDef("svd")
                          .impl(svd_impl)
                          .vjp(svd_vjp)
                          .jvp(svd_jvp)
                          .batch(autodiff::leading_batch)
                          .reads(kReadsOutputs)
                          .api("linalg.svd");

Tensor svd_values(const Tensor& a) {
  const int64_t m = rows_of(a), n = cols_of(a);
  Tensor s = Tensor::empty(cat_shape(batch_shape(a, 2), Shape{std::min(m, n)}), real_dtype(a.dtype()), a.device());
  const int64_t bad = kernels::svd(Tensor(), s, Tensor(), a, false, false);
  TG_CHECK(bad < 0, "svdvals: SVD did not converge (NaN or inf in the input?)", at_batch(a, bad), "; ", describe(a));
  return s;
}
TensorList svdvals_impl(const TensorList& in, const Attrs&) { return {svd_values(in[0])}; }
TensorList svd_apply(const Tensor& a, bool full);
// svdvals'(a) = U diag(g) Vh (finite for every a; Note [Decomposition gradients])
// (conj(U) diag(g) conj(Vh) for complex a, the transpose of ds = Re diag(U^H dA V))
TensorList svdvals_vjp(const TensorList& g, const TensorList& in, const TensorList&, const Attrs&, uint32_t) {
  TensorList usv = svd_apply(in[0], false);
  return {matmul(mul(conj(usv[0]), as_row(g[0])), conj(usv[2]))};
}
// dS = diag(U^T dA V) (Re diag(U^H dA V))
TensorList svdvals_jvp(const TensorList& t, const TensorList& in, const TensorList&, const Attrs&) {
  TensorList usv = svd_apply(in[0], false);
  return {real(sum(mul(conj(usv[0]), matmul(t[0], mH(usv[2]))), Axes{in[0].ndim() - 2}, false, false))};
}
// batch axis first
constexpr Prim kSvdvals = PrimDef("svdvals")
                              .impl(svdvals_impl)
                              .vjp(svdvals_vjp)
                              .jvp(svdvals_jvp)
                              .batch(autodiff::leading_batch)
                              .reads(kReadsInputs)
                              .api("linalg.svdvals");

TensorList svd_apply(const Tensor& a, bool full) {
  Attrs at;
  at.flag = full;
  if (!any_tracked(a)) return svd_impl({a}, at);
  return autodiff::apply(kSvd, {a}, at);
}

// The diagonal of x as a matrix, its real part for complex x (Hermitian LAPACK routines read only
// the real part of the diagonal).
Tensor real_diag_part(const Tensor& x) {
  const Tensor d = mul(x, ident(cols_of(x), x.dtype()));
  return is_complex(x.dtype()) ? cast_any(real(d), x.dtype()) : d;
}

// Complex SVD, JAX's rules (its svd_jvp_rule), with V = Vh^H, dP = U^H dA V:
//   ds = Re diag(dP), dU = U (F o (dP S + S dP^H) + D) + [m > n] (I - U U^H) dA V S^-1,
//   dV = V (F o (S dP + dP^H S)) + [n > m] (I - V V^H) dA^H U S^-1, D = diag(i Im(dP_jj) / s_j)
// (the phase of each pair of singular vectors, fixed as JAX fixes it). The VJP is its transpose
// under Re sum(x y): with J = F o (U^T gU), K = F o (V^T gV), gV = gVh^H,
//   gP = diag(gs) + J S + J^H S + i diag(Im J_jj / s_j) + S K + S K^H,
//   gA = conj(U) gP conj(Vh) + the transposes of the projections.
TensorList svd_jvp_complex(const TensorList& t, const TensorList& in, const TensorList& out) {
  const Tensor &a = in[0], &u = out[0], &s = out[1], &vh = out[2];
  const DType cd = a.dtype();
  const Tensor da = cast_any(t[0], cd);
  const int64_t m = rows_of(a), n = cols_of(a);
  const Tensor v = mH(vh);
  const Tensor dav = matmul(da, v);
  const Tensor dp = matmul(mH(u), dav);
  const Tensor f = cast_any(gap_inverse(square(s)), cd);
  const Tensor sr = cast_any(as_row(s), cd), sc = cast_any(as_col(s), cd);
  const Tensor eye = ident(s.shape().back(), cd);
  const Tensor d = mul(mul(sub(dp, mH(dp)), eye), mul_scalar(reciprocal(sr), 0.5));
  Tensor du = matmul(u, add(mul(f, add(mul(dp, sr), mul(sc, mH(dp)))), d));
  Tensor dv = matmul(v, mul(f, add(mul(sc, dp), mul(mH(dp), sr))));
  if (m > n) du = add(du, div(sub(dav, matmul(u, dp)), sr));
  if (n > m) {
    const Tensor dau = matmul(mH(da), u);
    dv = add(dv, div(sub(dau, matmul(v, matmul(vh, dau))), sr));
  }
  return {du, real(diag_of(dp)), mH(dv)};
}
TensorList svd_vjp_complex(const TensorList& g, const TensorList& in, const TensorList& out) {
  const Tensor &a = in[0], &u = out[0], &s = out[1], &vh = out[2];
  const DType cd = a.dtype();
  const int64_t m = rows_of(a), n = cols_of(a);
  const Tensor gu = cast_any(g[0], cd), gvh = cast_any(g[2], cd);
  const Tensor v = mH(vh), gv = mH(gvh);
  const Tensor f = cast_any(gap_inverse(square(s)), cd);
  const Tensor sr = cast_any(as_row(s), cd), sc = cast_any(as_col(s), cd);
  const Tensor eye = ident(s.shape().back(), cd);
  const Tensor ju = matmul(mT(u), gu);
  const Tensor j = mul(f, ju), kk = mul(f, matmul(mT(v), gv));
  const Tensor im_diag = cast_any(imag(ju), cd);  // i Im(J_jj) / s_j on the diagonal
  Tensor gp = add(mul(eye, as_row(cast_any(g[1], cd))), mul(add(j, mH(j)), sr));
  gp = add(gp, mul(sc, add(kk, mH(kk))));
  gp = add(gp, mul(mul(eye, mul(im_diag, complex_const(0.0, 1.0, cd))), reciprocal(sr)));
  Tensor ga = matmul(matmul(conj(u), gp), conj(vh));
  if (m > n) ga = add(ga, matmul(div(sub(gu, matmul(conj(u), matmul(mT(u), gu))), sr), conj(vh)));
  if (n > m) ga = add(ga, matmul(conj(u), div(sub(gvh, matmul(matmul(gvh, mT(vh)), conj(vh))), sc)));
  return {ga};
}

// The symmetric (Hermitian) matrix that the triangle eigh reads defines, from a general a (or
// tangent): lower: tril(a) + tril(a, -1)^T, for complex a tril(a, -1) + Re diag(a) + tril(a, -1)^H.
Tensor sym_from_triangle(const Tensor& x, bool lower) {
  const int64_t n = cols_of(x);
  if (is_complex(x.dtype())) {
    const Tensor below = tri_mask(n, x.dtype(), -1, 1.0);
    const Tensor part = mul(x, lower ? below : mT(below));
    return add(add(part, real_diag_part(x)), mH(part));
  }
  const Tensor diag_and_below = tri_mask(n, x.dtype(), 0, 1.0), below = tri_mask(n, x.dtype(), -1, 1.0);
  if (lower) return add(mul(x, diag_and_below), mT(mul(x, below)));
  return add(mul(x, mT(diag_and_below)), mT(mul(x, mT(below))));
}
// The adjoint of sym_from_triangle (under JAX's pairing Re sum(x y) for complex values): G's
// entries summed onto the triangle read, tril(G, -1) + tril(G^H, -1) + Re diag(G) for complex G.
Tensor onto_triangle(const Tensor& g, bool lower) {
  const int64_t n = cols_of(g);
  if (is_complex(g.dtype())) {
    const Tensor below = tri_mask(n, g.dtype(), -1, 1.0);
    const Tensor m = lower ? below : mT(below);
    return add(add(mul(g, m), mul(mH(g), m)), real_diag_part(g));
  }
  const Tensor diag_and_below = tri_mask(n, g.dtype(), 0, 1.0), below = tri_mask(n, g.dtype(), -1, 1.0);
  if (lower) return add(mul(g, diag_and_below), mul(mT(g), below));
  return add(mul(g, mT(diag_and_below)), mul(mT(g), mT(below)));
}

// attrs.flag = lower (UPLO='L').
TensorList eigh_impl(const TensorList& in, const Attrs& at) {
  const Tensor& a = in[0];
  const int64_t n = cols_of(a);
  Tensor w = Tensor::empty(cat_shape(batch_shape(a, 2), Shape{n}), real_dtype(a.dtype()), a.device());
  Tensor v = Tensor::empty(a.shape(), a.dtype(), a.device());
  const int64_t bad = kernels::eigh(w, v, a, at.flag != 0, true);
  TG_CHECK(bad < 0, "eigh: eigenvalues did not converge (NaN or inf in the input?)", at_batch(a, bad), "; ",
           describe(a));
  return {w, v};
}
// Complex (Hermitian) a, JAX's rules: dM = V^H dE V, dw = Re diag(dM), dV = V (F o dM); the VJP's
// G = conj(V) (diag(gw) + F o (V^T gV)) V^T (V's conjugate in place of V for real a).
TensorList eigh_vjp(const TensorList& g, const TensorList&, const TensorList& out, const Attrs& at, uint32_t) {
  const Tensor &w = out[0], &v = out[1];
  Tensor core = add(mul(ident(cols_of(v), v.dtype()), as_row(g[0])), mul(gap_inverse(w), matmul(mT(v), g[1])));
  return {onto_triangle(matmul(matmul(conj(v), core), mT(v)), at.flag != 0)};
}
TensorList eigh_jvp(const TensorList& t, const TensorList&, const TensorList& out, const Attrs& at) {
  const Tensor &w = out[0], &v = out[1];
  const Tensor dm = matmul(mH(v), matmul(sym_from_triangle(t[0], at.flag != 0), v));
  return {real(diag_of(dm)), matmul(v, mul(gap_inverse(w), dm))};
}
// batch axis first
constexpr Prim kEigh = PrimDef("eigh")
                           .impl(eigh_impl)
                           .vjp(eigh_vjp)
                           .jvp(eigh_jvp)
                           .batch(autodiff::leading_batch)
                           .reads(kReadsOutputs)
                           .api("linalg.eigh");

TensorList eigh_apply(const Tensor& a, bool lower) {
  Attrs at;
  at.flag = lower;
  if (!any_tracked(a)) return eigh_impl({a}, at);
  return autodiff::apply(kEigh, {a}, at);
}
TensorList eigvalsh_impl(const TensorList& in, const Attrs& at) {
  const Tensor& a = in[0];
  Tensor w = Tensor::empty(cat_shape(batch_shape(a, 2), Shape{cols_of(a)}), real_dtype(a.dtype()), a.device());
  const int64_t bad = kernels::eigh(w, Tensor(), a, at.flag != 0, false);
  TG_CHECK(bad < 0, "eigvalsh: eigenvalues did not converge (NaN or inf in the input?)", at_batch(a, bad), "; ",
           describe(a));
  return {w};
}
// eigvalsh'(a) = V diag(g) V^T onto the triangle read (finite for every a)
TensorList eigvalsh_vjp(const TensorList& g, const TensorList& in, const TensorList&, const Attrs& at, uint32_t) {
  const Tensor v = eigh_apply(in[0], at.flag != 0)[1];
  return {onto_triangle(matmul(mul(conj(v), as_row(g[0])), mT(v)), at.flag != 0)};
}
// dw = diag(V^T dE V) (Re diag(V^H dE V) for complex a)
TensorList eigvalsh_jvp(const TensorList& t, const TensorList& in, const TensorList&, const Attrs& at) {
  const Tensor v = eigh_apply(in[0], at.flag != 0)[1];
  return {
      real(sum(mul(conj(v), matmul(sym_from_triangle(t[0], at.flag != 0), v)), Axes{in[0].ndim() - 2}, false, false))};
}
// batch axis first
constexpr Prim kEigvalsh = PrimDef("eigvalsh")
                               .impl(eigvalsh_impl)
                               .vjp(eigvalsh_vjp)
                               .jvp(eigvalsh_jvp)
                               .batch(autodiff::leading_batch)
                               .reads(kReadsInputs)
                               .api("linalg.eigvalsh");

// ---- eig, eigvals: the general (non-symmetric) eigendecomposition ----------------------------
//
// Note [Eig gradients]
// ~~~~~~~~~~~~~~~~~~~~
// a V = V diag(w) with V of unit-norm columns, each with its largest component real (LAPACK geev's
// gauge, numpy's and JAX's); w and V are complex even for real a (JAX's choice: numpy returns real
// arrays when every eigenvalue happens to be real, a type that depends on the values). The rules
// are JAX's (jax.lax.linalg.eig with enable_eigvec_derivs=True), the nondegenerate perturbation
// theory of e.g. Giles 2008, sec. 3.1: with F_ij = 1 / (w_j - w_i) off the diagonal (0 on it),
//   P = V^-1 dA V, dw = diag(P), U = V (F o P), dV = U + V diag(c),
//   c_j = -Re(v_j^H u_j) - i Im(u_kj) / Re(v_kj), k = argmax_i |v_ij|,
// c keeping dV in the gauge (Re(v^H dv) = 0 keeps the norm, Im(dv_k) = 0 the phase). The VJP is
// that map's transpose under JAX's pairing Re sum(x * y): with s_j = sum_i gV_ij v_ij,
//   gU = gV - conj(V) diag(Re s) - i M diag(Im s / Re v_k), M the 0/1 mask of the rows k,
//   gA = V^-T (diag(gw) + F o (V^T gU)) V^T,
// whose real part is the cotangent of a real a. Every step is an op, so it differentiates again.
// Repeated eigenvalues make F infinite (eigenvector derivatives inf/nan, as eigh's); a defective
// a (V singular) has no derivative at all (solve raises). eigvals is its own prim: its derivative
// V^-T diag(g) V^T needs no F, so it stays finite where eigenvalues repeat but V is invertible.
DType eig_dtype(DType d) { return d == DType::Float32 || d == DType::Complex64 ? DType::Complex64 : DType::Complex128; }

TensorList eig_impl(const TensorList& in, const Attrs&) {
  const Tensor& a = in[0];
  const DType cd = eig_dtype(a.dtype());
  Tensor w = Tensor::empty(cat_shape(batch_shape(a, 2), Shape{cols_of(a)}), cd, a.device());
  Tensor v = Tensor::empty(a.shape(), cd, a.device());
  const int64_t bad = kernels::eig(w, v, a, true);
  TG_CHECK(bad < 0, "eig: eigenvalues did not converge or the input holds NaN or inf", at_batch(a, bad), "; ",
           describe(a));
  return {w, v};
}
// The 0/1 mask (of v's dtype, a constant) of the largest-magnitude entry of every column of v: the
// entry geev made real.
Tensor eig_gauge_mask(const Tensor& v) {
  const Tensor k = argmax(complex_abs(v), v.ndim() - 2, false, true);  // (..., 1, n)
  const Tensor rows = reshape_(arange_int(0, rows_of(v), 1, k.dtype()), Shape{rows_of(v), 1});
  return cast_any(eq(rows, k), v.dtype());
}
TensorList eig_vjp(const TensorList& g, const TensorList&, const TensorList& out, const Attrs&, uint32_t) {
  const Tensor &w = out[0], &v = out[1];
  const DType cd = v.dtype();
  const int64_t n = cols_of(v);
  Tensor inner = mul(ident(n, cd), as_row(cast_any(g[0], cd)));
  if (g[1].defined()) {
    const Tensor gv = cast_any(g[1], cd);
    const Tensor m = eig_gauge_mask(v);
    const Tensor s = sum(mul(gv, v), Axes{v.ndim() - 2}, false, true);  // (..., 1, n)
    const Tensor vk = real(sum(mul(m, v), Axes{v.ndim() - 2}, false, true));
    Tensor gu = sub(gv, mul(conj(v), cast_any(real(s), cd)));
    gu = sub(gu, mul(mul(m, complex_const(0.0, 1.0, cd)), cast_any(div(imag(s), vk), cd)));
    inner = add(inner, mul(gap_inverse(w), matmul(mT(v), gu)));
  }
  const Tensor vt = mT(v);
  return {solve(vt, matmul(inner, vt))};
}
TensorList eig_jvp(const TensorList& t, const TensorList&, const TensorList& out, const Attrs&) {
  const Tensor &w = out[0], &v = out[1];
  const DType cd = v.dtype();
  const Tensor p = matmul(solve(v, cast_any(t[0], cd)), v);
  const Tensor u = matmul(v, mul(gap_inverse(w), p));
  const Tensor m = eig_gauge_mask(v);
  const Tensor vk = real(sum(mul(m, v), Axes{v.ndim() - 2}, false, true));
  const Tensor c_re = neg(real(sum(mul(conj(v), u), Axes{v.ndim() - 2}, false, true)));
  const Tensor c_im = neg(div(imag(sum(mul(m, u), Axes{v.ndim() - 2}, false, true)), vk));
  return {diag_of(p), add(u, mul(v, cast_any(complex_from_parts(c_re, c_im), cd)))};
}
// batch axis first; the rules read the outputs (of the input only its dtype)
constexpr Prim kEig = PrimDef("eig")
                          .impl(eig_impl)
                          .vjp(eig_vjp)
                          .jvp(eig_jvp)
                          .batch(autodiff::leading_batch)
                          .reads(kReadsOutputs)
                          .api("linalg.eig");

TensorList eig_apply(const Tensor& a) {
  if (!any_tracked(a)) return eig_impl({a}, Attrs());
  return autodiff::apply(kEig, {a}, Attrs());
}
TensorList eigvals_impl(const TensorList& in, const Attrs&) {
  const Tensor& a = in[0];
  Tensor w = Tensor::empty(cat_shape(batch_shape(a, 2), Shape{cols_of(a)}), eig_dtype(a.dtype()), a.device());
  const int64_t bad = kernels::eig(w, Tensor(), a, false);
  TG_CHECK(bad < 0, "eigvals: eigenvalues did not converge or the input holds NaN or inf", at_batch(a, bad), "; ",
           describe(a));
  return {w};
}
// eigvals'(a) = V^-T diag(g) V^T (Note [Eig gradients])
TensorList eigvals_vjp(const TensorList& g, const TensorList& in, const TensorList&, const Attrs&, uint32_t) {
  const Tensor v = eig_apply(in[0])[1];
  const Tensor vt = mT(v);
  return {solve(vt, mul(as_col(cast_any(g[0], v.dtype())), vt))};
}
// dw = diag(V^-1 dA V)
TensorList eigvals_jvp(const TensorList& t, const TensorList& in, const TensorList&, const Attrs&) {
  const Tensor v = eig_apply(in[0])[1];
  return {sum(mul(solve(v, cast_any(t[0], v.dtype())), mT(v)), Axes{v.ndim() - 1}, false, false)};
}
// batch axis first
constexpr Prim kEigvals = PrimDef("eigvals")
                              .impl(eigvals_impl)
                              .vjp(eigvals_vjp)
                              .jvp(eigvals_jvp)
                              .batch(autodiff::leading_batch)
                              .reads(kReadsInputs)
                              .api("linalg.eigvals");

// attrs.flag = complete (mode='complete'; else 'reduced').
TensorList qr_impl(const TensorList& in, const Attrs& at) {
  const Tensor& a = in[0];
  const int64_t m = rows_of(a), n = cols_of(a), k = std::min(m, n);
  const Shape bs = batch_shape(a, 2);
  Tensor q = Tensor::empty(cat_shape(bs, Shape{m, at.flag ? m : k}), a.dtype(), a.device());
  Tensor r = Tensor::empty(cat_shape(bs, Shape{at.flag ? m : k, n}), a.dtype(), a.device());
  kernels::qr(q, r, a, at.flag != 0);
  return {q, r};
}
void check_qr_diff(const Tensor& a, const Attrs& at) {
  TG_CHECK_T(NotDifferentiable, rows_of(a) >= cols_of(a) && (!at.flag || rows_of(a) == cols_of(a)),
             "qr: derivatives are implemented for mode='reduced' with m >= n (tall or square), got shape ",
             shape_str(a.shape()), at.flag ? " and mode='complete'" : "");
}
// X R^-1 and X R^-T for a stack of invertible upper-triangular R (by LU: solve); a singular R (A of
// lower rank) has no derivative.
Tensor solve_r(const Tensor& r, const Tensor& x, bool transposed) {
  try {
    return transposed ? mT(solve(r, mT(x))) : mT(solve(mT(r), mT(x)));
  } catch (const ValueError&) {
    throw ValueError("qr: the derivative needs a matrix of full column rank (R is singular)");
  }
}
// i Im(diag(x)) as a matrix: the complex correction of JAX's qr rule (zero for real x).
Tensor imag_diag_part(const Tensor& x) { return sub(mul(x, ident(cols_of(x), x.dtype())), real_diag_part(x)); }
// Complex a (JAX's rules): C = Q^H X, O = tril(C, -1) - tril(C, -1)^H + i Im diag(C); the VJP's
// N = tril(M - M^H, -1) - M + i Im diag(M) and a' = (gQ + conj(Q) N) R^-T (the transposes under
// Re sum(x y)).
TensorList qr_vjp(const TensorList& g, const TensorList& in, const TensorList& out, const Attrs& at, uint32_t) {
  check_qr_diff(in[0], at);
  const Tensor &q = out[0], &r = out[1];
  const Tensor mm = sub(matmul(mT(q), g[0]), matmul(g[1], mT(r)));
  const Tensor below = tri_mask(cols_of(r), r.dtype(), -1, 1.0);
  Tensor nn = sub(mul(sub(mm, mH(mm)), below), mm);
  if (is_complex(mm.dtype())) nn = add(nn, imag_diag_part(mm));
  return {solve_r(r, add(g[0], matmul(conj(q), nn)), true)};
}
TensorList qr_jvp(const TensorList& t, const TensorList& in, const TensorList& out, const Attrs& at) {
  check_qr_diff(in[0], at);
  const Tensor &q = out[0], &r = out[1];
  const Tensor x = solve_r(r, t[0], false);
  const Tensor c = matmul(mH(q), x);
  const Tensor low = mul(c, tri_mask(cols_of(r), r.dtype(), -1, 1.0));
  Tensor o = sub(low, mH(low));
  if (is_complex(c.dtype())) o = add(o, imag_diag_part(c));
  return {add(x, matmul(q, sub(o, c))), matmul(sub(c, o), r)};
}
// batch axis first
constexpr Prim kQr = PrimDef("qr")
                         .impl(qr_impl)
                         .vjp(qr_vjp)
                         .jvp(qr_jvp)
                         .batch(autodiff::leading_batch)
                         .reads(kReadsOutputs)
                         .api("linalg.qr");

// Checks a stack of matrices (..., m, n) and returns it in the dtype LAPACK runs on (numpy's rules,
// as square_operand).
Tensor matrix_operand(const Tensor& a, const char* op, bool complex_ok = false) {
  check_op_input(a, op);
  TG_CHECK_SHAPE(a.ndim() >= 2, op, ": ", a.ndim(),
                 "-dimensional array given; array must be at least two-dimensional (", describe(a), ")");
  TG_CHECK_DTYPE(a.dtype() != DType::Float16, op, ": array type float16 is unsupported in linalg (", describe(a), ")");
  TG_CHECK_DTYPE(complex_ok || !is_complex(a.dtype()), op, ": not supported for ", dtype_numpy_name(a.dtype()));
  return is_inexact(a.dtype()) ? a : cast(a, DType::Float64);
}

// Checks a stack of square matrices and returns it in the dtype LAPACK runs on: numpy's rules
// (integers and Bool as float64; float16 unsupported). `complex_ok`: the op runs on complex matrices
// too (the others refuse them by name).
Tensor square_operand(const Tensor& a, const char* op, bool complex_ok = false) {
  check_op_input(a, op);
  TG_CHECK_SHAPE(a.ndim() >= 2, op, ": ", a.ndim(),
                 "-dimensional array given; array must be at least two-dimensional (", describe(a), ")");
  TG_CHECK_SHAPE(a.shape()[a.shape().size() - 1] == a.shape()[a.shape().size() - 2], op,
                 ": last 2 dimensions of the array must be square, got shape ", shape_str(a.shape()));
  TG_CHECK_DTYPE(a.dtype() != DType::Float16, op, ": array type float16 is unsupported in linalg (", describe(a), ")");
  TG_CHECK_DTYPE(complex_ok || !is_complex(a.dtype()), op, ": not supported for ", dtype_numpy_name(a.dtype()));
  return is_inexact(a.dtype()) ? a : cast(a, DType::Float64);
}

// Broadcast of the batch dims of a2 and b2 (a, b as the user gave them, for the message).
Shape batch_broadcast(const Tensor& a, const Tensor& b, const Tensor& a2, const Tensor& b2, const char* op) {
  try {
    return broadcast_shapes(batch_shape(a2, 2), batch_shape(b2, 2), op);
  } catch (const ShapeError&) {
    throw ShapeError(str_cat(op, ": the batch dims of shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()),
                             " do not broadcast (", shape_str(batch_shape(a2, 2)), " vs ",
                             shape_str(batch_shape(b2, 2)), ")"));
  }
}

Tensor apply_or_impl(const Prim& p, const TensorList& in) {
  bool tr = autodiff::traces_recording();
  for (const Tensor& x : in) tr = tr || x.tracked();
  if (!tr) return p.impl(in, Attrs())[0];
  return autodiff::apply1(p, in, Attrs());
}

}  // namespace

// ---- public ops ------------------------------------------------------------------------------

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_op_input(a, "matmul");
  check_op_input(b, "matmul");
  TG_CHECK_SHAPE(a.ndim() >= 1,
                 "matmul: input operand 0 does not have enough dimensions (has 0, needs at least 1): ", describe(a),
                 "; use mul for scalars");
  TG_CHECK_SHAPE(b.ndim() >= 1,
                 "matmul: input operand 1 does not have enough dimensions (has 0, needs at least 1): ", describe(b),
                 "; use mul for scalars");
  const int64_t ka = a.shape().back();
  const int64_t kb = b.ndim() == 1 ? b.shape()[0] : b.shape()[b.shape().size() - 2];
  TG_CHECK_SHAPE(ka == kb, "matmul: shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()),
                 " are not aligned: ", ka, " (last dim of the first) != ", kb,
                 b.ndim() == 1 ? " (dim 0 of the second)" : " (second-to-last dim of the second)");
  const bool pa = a.ndim() == 1, pb = b.ndim() == 1;
  Tensor a2 = pa ? reshape_(a, Shape{1, ka}) : a;
  Tensor b2 = pb ? reshape_(b, Shape{kb, 1}) : b;
  const Shape batch = batch_broadcast(a, b, a2, b2, "matmul");
  Tensor out = !any_tracked(a2, b2) ? matmul_fwd(a2, b2) : autodiff::apply1(kMatmul, {a2, b2}, Attrs());
  if (!pa && !pb) return out;
  Shape s = batch;
  if (!pa) s.push_back(a2.shape()[a2.shape().size() - 2]);
  if (!pb) s.push_back(b2.shape().back());
  return reshape_(out, s);
}

Tensor dot(const Tensor& a, const Tensor& b) {
  check_op_input(a, "dot");
  check_op_input(b, "dot");
  if (a.ndim() == 0 || b.ndim() == 0) return mul(a, b);
  const int64_t k = a.shape().back();
  const int64_t kb = b.ndim() == 1 ? b.shape()[0] : b.shape()[b.shape().size() - 2];
  TG_CHECK_SHAPE(k == kb, "dot: shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()), " not aligned: ", k,
                 " (dim ", a.ndim() - 1, ") != ", kb, " (dim ", b.ndim() == 1 ? 0 : b.ndim() - 2, ")");
  if (b.ndim() <= 2) return matmul(a, b);
  // dot(a, b)[i..., j..., n] = sum_k a[i..., k] b[j..., k, n]: move b's k to the front.
  const int64_t bn = b.ndim();
  SmallVec<int64_t, 6> perm{bn - 2};
  for (int64_t i = 0; i < bn; ++i)
    if (i != bn - 2) perm.push_back(i);
  int64_t cols = 1;  // every dim of b but k
  for (int64_t i = 0; i < bn; ++i)
    if (i != bn - 2) cols *= b.shape()[size_t(i)];
  Tensor bt = reshape_(transpose(b, perm), Shape{k, cols});
  Tensor r = matmul(reshape_(a, Shape{numel(batch_shape(a, 1)), k}), bt);
  Shape s = sub_shape(a.shape(), 0, a.shape().size() - 1);
  for (int64_t i = 0; i < bn; ++i)
    if (i != bn - 2) s.push_back(b.shape()[size_t(i)]);
  return reshape_(r, s);
}

Tensor vdot(const Tensor& a, const Tensor& b) {
  TG_CHECK_SHAPE(a.numel() == b.numel(), "vdot: inputs of shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()),
                 " have different sizes (", a.numel(), " != ", b.numel(), ")");
  // numpy's vdot conjugates its first argument.
  const Tensor ac = is_complex(a.dtype()) ? conj(a) : a;
  return matmul(reshape_(ac, Shape{a.numel()}), reshape_(b, Shape{b.numel()}));
}

Tensor outer(const Tensor& a, const Tensor& b) {
  return mul(reshape_(a, Shape{a.numel(), 1}), reshape_(b, Shape{1, b.numel()}));
}

Tensor trace(const Tensor& a, int64_t offset, int64_t axis1, int64_t axis2) {
  check_op_input(a, "trace");
  TG_CHECK_SHAPE(a.ndim() >= 2, "trace: diag requires an array of at least two dimensions, got ", describe(a));
  const int64_t a1 = norm_axis(axis1, a.ndim(), "trace"), a2 = norm_axis(axis2, a.ndim(), "trace");
  TG_CHECK(a1 != a2, "trace: axis1 and axis2 cannot be the same (both ", a1, ")");
  Tensor d = diagonal_p(a, offset, a1, a2);
  return sum(d, Axes{d.ndim() - 1}, false, false);
}

namespace {

Tensor vector_norm(const Tensor& x, int64_t ax, double ord, bool has_ord, bool keepdims) {
  const uint64_t m = uint64_t(1) << ax;
  if (!has_ord || ord == 2.0) return norm2(x, m, keepdims);
  const Axes axes{ax};
  if (std::isinf(ord)) {
    Tensor ab = unary(kernels::Un::Abs, x);
    // The max of no elements is 0 for a norm (numpy); the min of none has no identity.
    if (ord > 0 && x.shape()[size_t(ax)] == 0) return sum(ab, axes, false, keepdims);
    return ord > 0 ? amax_p(ab, m, keepdims, "norm") : amin_p(ab, m, keepdims, "norm");
  }
  if (ord == 0.0) {  // the count of nonzeros: piecewise constant
    Tensor nz = cast(compare(kernels::Cmp::Ne, x, scalar_like(0.0, x)), x.dtype());
    return sum(nz, axes, false, keepdims);
  }
  Tensor ab = unary(kernels::Un::Abs, x);
  if (ord == 1.0) return sum(ab, axes, false, keepdims);
  Tensor s = sum(pow(ab, scalar_like(ord, x)), axes, false, keepdims);
  return pow(s, scalar_like(1.0 / ord, x));
}

// x with axes r and c moved last (in that order), the others kept in order.
Tensor matrix_axes_last(const Tensor& x, int64_t r, int64_t c) {
  SmallVec<int64_t, 6> perm;
  for (int64_t i = 0; i < x.ndim(); ++i)
    if (i != r && i != c) perm.push_back(i);
  perm.push_back(r);
  perm.push_back(c);
  return transpose(x, perm);
}

// numpy's matrix norms over axes (r, c).
Tensor matrix_norm(const Tensor& x, int64_t r, int64_t c, double ord, bool has_ord, bool fro, bool keepdims) {
  const uint64_t both = (uint64_t(1) << r) | (uint64_t(1) << c);
  if (!has_ord || fro) return norm2(x, both, keepdims);
  Tensor res;
  if (ord == 1.0 || ord == -1.0 || std::isinf(ord)) {
    const bool col_sums = !std::isinf(ord);  // ord = +-1: max/min column sum; +-inf: row sums
    const int64_t summed = col_sums ? r : c;
    int64_t other = col_sums ? c : r;
    if (other > summed) --other;
    Tensor s = sum(unary(kernels::Un::Abs, x), Axes{summed}, false, false);
    const uint64_t om = uint64_t(1) << other;
    if (ord > 0 && s.shape()[size_t(other)] == 0)  // no rows (columns): 0, as numpy
      res = sum(s, Axes{other}, false, false);
    else res = ord > 0 ? amax_p(s, om, false, "norm") : amin_p(s, om, false, "norm");
  } else if (ord == 2.0 || ord == -2.0) {
    // The largest (smallest) singular value of each matrix, the axes moved last.
    const Tensor s = svdvals(matrix_axes_last(x, r, c));
    const uint64_t last = uint64_t(1) << (s.ndim() - 1);
    if (ord > 0 && s.shape().back() == 0)  // no singular values: 0, as numpy
      res = sum(s, Axes{s.ndim() - 1}, false, false);
    else res = ord > 0 ? amax_p(s, last, false, "norm") : amin_p(s, last, false, "norm");
  } else {
    throw ValueError(str_cat("norm: invalid norm order ", ord, " for matrices"));
  }
  if (!keepdims) return res;
  return reshape_(res, keep_shape(x.shape(), both));
}

Tensor norm_impl(const Tensor& a, double ord, bool has_ord, bool fro, bool nuc, const Axes& axes_in, bool all_axes,
                 bool keepdims) {
  check_op_input(a, "norm");
  Tensor x;
  if (is_complex(a.dtype())) {
    // Every norm but the spectral and nuclear ones is that norm of |z|; those two take the
    // singular values of the complex matrices themselves.
    const bool matrix = all_axes ? a.ndim() == 2 : axes_in.size() == 2;
    x = nuc || (matrix && has_ord && std::fabs(ord) == 2.0) ? a : complex_abs(a);
  } else {
    x = is_float(a.dtype()) ? a : cast(a, DType::Float64);
  }
  const int64_t nd = x.ndim();
  Axes axes = axes_in;
  if (all_axes) {
    if (!has_ord && !fro && !nuc) {
      const uint64_t all = nd ? (uint64_t(1) << nd) - 1 : 0;
      return norm2(x, all, keepdims);
    }
    TG_CHECK(nd == 1 || nd == 2, "norm: improper number of dimensions to norm: ord given for a ", nd,
             "-dimensional tensor without axis");
    axes.clear();
    for (int64_t i = 0; i < nd; ++i) axes.push_back(i);
  }
  for (auto& ax : axes) ax = norm_axis(ax, nd, "norm");
  if (axes.size() == 1) {
    TG_CHECK(!fro && !nuc, "norm: invalid norm order '", fro ? "fro" : "nuc", "' for vectors");
    return vector_norm(x, axes[0], ord, has_ord, keepdims);
  }
  TG_CHECK(axes.size() == 2, "norm: improper number of dimensions to norm: axis names ", axes.size(), " axes");
  TG_CHECK(axes[0] != axes[1], "norm: duplicate axes given");
  if (nuc) {  // the sum of the singular values
    const Tensor s = svdvals(matrix_axes_last(x, axes[0], axes[1]));
    const Tensor res = sum(s, Axes{s.ndim() - 1}, false, false);
    return keepdims ? reshape_(res, keep_shape(x.shape(), (uint64_t(1) << axes[0]) | (uint64_t(1) << axes[1]))) : res;
  }
  return matrix_norm(x, axes[0], axes[1], ord, has_ord, fro, keepdims);
}

}  // namespace

Tensor norm(const Tensor& a, double ord, bool has_ord, const SmallVec<int64_t, 6>& axes, bool all_axes, bool keepdims) {
  return norm_impl(a, ord, has_ord, false, false, axes, all_axes, keepdims);
}

Tensor norm(const Tensor& a, const std::string& ord, const SmallVec<int64_t, 6>& axes, bool all_axes, bool keepdims) {
  TG_CHECK(ord == "fro" || ord == "nuc", "norm: invalid norm order '", ord, "' (use a number, None, 'fro' or 'nuc')");
  return norm_impl(a, 0.0, false, ord == "fro", ord == "nuc", axes, all_axes, keepdims);
}

Tensor solve(const Tensor& a_in, const Tensor& b_in) {
  Tensor a = square_operand(a_in, "solve", true);
  check_op_input(b_in, "solve");
  TG_CHECK_DTYPE(b_in.dtype() != DType::Float16, "solve: array type float16 is unsupported in linalg (", describe(b_in),
                 ")");
  const int64_t n = a.shape().back();
  const DType dt = promote(a.dtype(), is_inexact(b_in.dtype()) ? b_in.dtype() : DType::Float64);
  a = cast(a, dt);
  Tensor b = cast(b_in, dt);
  TG_CHECK_SHAPE(b.ndim() >= 1, "solve: b must be at least one-dimensional, got ", describe(b_in));
  const bool vec = b.ndim() == 1;
  const int64_t bn = vec ? b.shape()[0] : b.shape()[b.shape().size() - 2];
  TG_CHECK_SHAPE(bn == n, "solve: a of shape ", shape_str(a.shape()), " and b of shape ", shape_str(b.shape()),
                 " do not match: b", vec ? ".shape[0]" : ".shape[-2]", " is ", bn, ", expected ", n);
  if (vec) b = reshape_(b, Shape{n, 1});
  const Shape batch = batch_broadcast(a_in, b_in, a, b, "solve");
  a = broadcast_to(a, cat_shape(batch, Shape{n, n}));
  b = broadcast_to(b, cat_shape(batch, Shape{n, b.shape().back()}));
  Tensor x = apply_or_impl(kSolve, {a, b});
  if (vec) x = reshape_(x, cat_shape(batch, Shape{n}));
  return x;
}

Tensor inv(const Tensor& a) { return apply_or_impl(kInv, {square_operand(a, "inv", true)}); }

Tensor det(const Tensor& a) { return apply_or_impl(kDet, {square_operand(a, "det", true)}); }

std::vector<Tensor> slogdet(const Tensor& a_in) {
  Tensor a = square_operand(a_in, "slogdet", true);
  TensorList r = any_tracked(a) ? autodiff::apply(kSlogdet, {a}, Attrs()) : slogdet_impl({a}, Attrs());
  return {r[0], r[1]};
}

Tensor cholesky(const Tensor& a) { return apply_or_impl(kCholesky, {square_operand(a, "cholesky", true)}); }

std::vector<Tensor> svd(const Tensor& a_in, bool full_matrices) {
  const Tensor a = matrix_operand(a_in, "svd", true);
  TensorList r = svd_apply(a, full_matrices);
  return {r[0], r[1], r[2]};
}

Tensor svdvals(const Tensor& a_in) {
  const Tensor a = matrix_operand(a_in, "svdvals", true);
  if (!any_tracked(a)) return svd_values(a);
  return autodiff::apply1(kSvdvals, {a}, Attrs());
}

std::vector<Tensor> eigh(const Tensor& a_in, bool lower) {
  TensorList r = eigh_apply(square_operand(a_in, "eigh", true), lower);
  return {r[0], r[1]};
}

Tensor eigvalsh(const Tensor& a_in, bool lower) {
  const Tensor a = square_operand(a_in, "eigvalsh", true);
  Attrs at;
  at.flag = lower;
  if (!any_tracked(a)) return eigvalsh_impl({a}, at)[0];
  return autodiff::apply1(kEigvalsh, {a}, at);
}

std::vector<Tensor> qr(const Tensor& a_in, const std::string& mode) {
  TG_CHECK(mode == "reduced" || mode == "complete" || mode == "r", "qr: unrecognized mode '", mode,
           "' (use 'reduced', 'complete' or 'r')");
  const Tensor a = matrix_operand(a_in, "qr", true);
  Attrs at;
  at.flag = mode == "complete";
  if (mode == "r" && !any_tracked(a)) {  // R alone: no Q to form
    const int64_t m = rows_of(a), n = cols_of(a);
    Tensor r = Tensor::empty(cat_shape(batch_shape(a, 2), Shape{std::min(m, n), n}), a.dtype(), a.device());
    kernels::qr(Tensor(), r, a, false);
    return {r};
  }
  TensorList r = any_tracked(a) ? autodiff::apply(kQr, {a}, at) : qr_impl({a}, at);
  if (mode == "r") return {r[1]};
  return {r[0], r[1]};
}

std::vector<Tensor> eig(const Tensor& a_in) {
  TensorList r = eig_apply(square_operand(a_in, "eig", true));
  return {r[0], r[1]};
}

Tensor eigvals(const Tensor& a_in) {
  const Tensor a = square_operand(a_in, "eigvals", true);
  if (!any_tracked(a)) return eigvals_impl({a}, Attrs())[0];
  return autodiff::apply1(kEigvals, {a}, Attrs());
}

namespace linalg_detail {
Tensor diagonal(const Tensor& a, int64_t offset, int64_t ax1, int64_t ax2) { return diagonal_p(a, offset, ax1, ax2); }
Tensor reshape(const Tensor& x, const Shape& s) { return reshape_(x, s); }
}  // namespace linalg_detail

void add_linalg_prims(PrimRegistry& r) {
  for (const Prim* p : {&kMatmul, &kDiagonal, &kDiagEmbed, &kNorm2, &kAmax, &kSolve, &kInv, &kDet, &kSlogdet,
                        &kCholesky, &kSvd, &kSvdvals, &kEigh, &kEigvalsh, &kEig, &kEigvals, &kQr})
    r.push_back(p);
}

}  // namespace ops
}  // namespace tapegrad
