// Shape and layout prims.
#include "ops/shape.h"

#include "autodiff/batching.h"
#include "ops/ops.h"

namespace tapegrad {
namespace ops {

namespace {

Shape to_shape(const SmallVec<int64_t, 8>& v) { return Shape(v.begin(), v.end()); }
SmallVec<int64_t, 8> to_ints(const Shape& s) { return SmallVec<int64_t, 8>(s.begin(), s.end()); }

// broadcast_to: a zero-stride view.
Tensor broadcast_fwd(const Tensor& a, const Shape& shape) {
  const size_t nd = shape.size(), ad = a.shape().size();
  auto fail = [&] {
    throw ShapeError(str_cat("broadcast_to: cannot broadcast a tensor of shape ", shape_str(a.shape()), " to shape ",
                             shape_str(shape)));
  };
  if (ad > nd) fail();
  for (size_t i = 0; i < nd; ++i)
    if (shape[i] < 0) fail();
  Strides st(nd, 0);
  for (size_t i = 0; i < nd; ++i) {
    if (i < nd - ad) continue;
    int64_t d = a.shape()[i - (nd - ad)];
    if (d == shape[i]) {
      st[i] = a.strides()[i - (nd - ad)];
    } else if (d != 1) {
      fail();
    }
  }
  return a.view_as(shape, st, a.offset());
}
TensorList bcast_impl(const TensorList& in, const Attrs& a) { return {broadcast_fwd(in[0], to_shape(a.ints))}; }
// broadcast_to'(x) = sum_to(g, x.shape)
TensorList bcast_vjp(const TensorList& g, const TensorList& x, const TensorList&, const Attrs&, uint32_t) {
  return {sum_to(g[0], x[0].shape())};
}
TensorList bcast_jvp(const TensorList& t, const TensorList&, const TensorList&, const Attrs& a) {
  return {broadcast_to(t[0], to_shape(a.ints))};
}
// vmap: the batch axis first, padded to the target rank, then the batch size prepended to the shape
TensorList bcast_batch(const Prim& p, const TensorList& in, const BatchDims& bd, const Attrs& a, int64_t size,
                       BatchDims& obd) {
  Attrs b = a;
  b.ints.insert(0, size);
  obd.push_back(0);
  return autodiff::apply(p, {autodiff::batch_first_padded(in[0], bd[0], int64_t(a.ints.size()))}, b);
}
constexpr Prim kBroadcast = PrimDef("broadcast_to").impl(bcast_impl).vjp(bcast_vjp).jvp(bcast_jvp).batch(bcast_batch);

// Strides of a view of `a` with shape `s`, if one exists without copying.
bool view_strides(const Tensor& a, const Shape& s, Strides& out) {
  if (a.is_contiguous() || a.numel() == 0) {
    out = contiguous_strides(s);
    return true;
  }
  // Walk matching blocks of old and new dims (numpy's attempt_nocopy_reshape idea).
  const Shape& os = a.shape();
  const Strides& ost = a.strides();
  Shape oshape;
  Strides ostr;
  for (size_t i = 0; i < os.size(); ++i)
    if (os[i] != 1) {
      oshape.push_back(os[i]);
      ostr.push_back(ost[i]);
    }
  out = Strides(s.size(), 0);
  size_t oi = 0, ni = 0;
  const size_t on = oshape.size(), nn = s.size();
  while (oi < on && ni < nn) {
    int64_t np = s[ni], op = oshape[oi];
    size_t oj = oi + 1, nj = ni + 1;
    while (np != op) {
      if (np < op) np *= s[nj++];
      else op *= oshape[oj++];
    }
    for (size_t k = oi; k + 1 < oj; ++k)
      if (ostr[k] != ostr[k + 1] * oshape[k + 1]) return false;
    out[nj - 1] = ostr[oj - 1];
    for (size_t k = nj - 1; k > ni; --k) out[k - 1] = out[k] * s[k];
    oi = oj;
    ni = nj;
  }
  for (; ni < nn; ++ni) out[ni] = 1;
  return true;
}

Tensor reshape_fwd(const Tensor& a, const Shape& s) {
  Strides st;
  if (view_strides(a, s, st)) return a.view_as(s, st, a.offset());
  Tensor c = a.clone();
  return c.view_as(s, contiguous_strides(s), c.offset());
}
TensorList reshape_impl(const TensorList& in, const Attrs& a) { return {reshape_fwd(in[0], to_shape(a.ints))}; }
TensorList reshape_vjp(const TensorList& g, const TensorList& x, const TensorList&, const Attrs&, uint32_t) {
  return {reshape(g[0], x[0].shape())};
}
TensorList reshape_jvp(const TensorList& t, const TensorList&, const TensorList&, const Attrs& a) {
  return {reshape(t[0], to_shape(a.ints))};
}
// vmap: the batch axis first, the batch size prepended to the shape
TensorList reshape_batch(const Prim& p, const TensorList& in, const BatchDims& bd, const Attrs& a, int64_t size,
                         BatchDims& obd) {
  Attrs b = a;
  b.ints.insert(0, size);
  obd.push_back(0);
  return autodiff::apply(p, {autodiff::batch_first(in[0], bd[0])}, b);
}
constexpr Prim kReshape = PrimDef("reshape").impl(reshape_impl).vjp(reshape_vjp).jvp(reshape_jvp).batch(reshape_batch);

TensorList transpose_impl(const TensorList& in, const Attrs& a) {
  const Tensor& x = in[0];
  Shape s;
  Strides st;
  for (int64_t p : a.ints) {
    s.push_back(x.shape()[size_t(p)]);
    st.push_back(x.strides()[size_t(p)]);
  }
  return {x.view_as(s, st, x.offset())};
}
SmallVec<int64_t, 6> inverse_perm(const SmallVec<int64_t, 8>& p) {
  SmallVec<int64_t, 6> inv(p.size(), 0);
  for (size_t i = 0; i < p.size(); ++i) inv[size_t(p[i])] = int64_t(i);
  return inv;
}
// transpose'(x) = transpose(g, inverse(perm))
TensorList transpose_vjp(const TensorList& g, const TensorList&, const TensorList&, const Attrs& a, uint32_t) {
  return {transpose(g[0], inverse_perm(a.ints))};
}
TensorList transpose_jvp(const TensorList& t, const TensorList&, const TensorList&, const Attrs& a) {
  return {transpose(t[0], SmallVec<int64_t, 6>(a.ints.begin(), a.ints.end()))};
}
// vmap: the batch axis stays where it is; the permutation of the other axes moves around it
TensorList transpose_batch(const Prim& p, const TensorList& in, const BatchDims& bd, const Attrs& a, int64_t,
                           BatchDims& obd) {
  Attrs b = a;
  b.ints.clear();
  b.ints.push_back(0);
  for (int64_t v : a.ints) b.ints.push_back(v + 1);
  obd.push_back(0);
  return autodiff::apply(p, {autodiff::batch_first(in[0], bd[0])}, b);
}
constexpr Prim kTranspose =
    PrimDef("transpose").impl(transpose_impl).vjp(transpose_vjp).jvp(transpose_jvp).batch(transpose_batch);

}  // namespace

Tensor broadcast_to(const Tensor& a, const Shape& shape) {
  if (a.shape() == shape) return a;
  checked_numel(shape, itemsize(a.dtype()), "broadcast_to");
  Attrs at;
  at.ints = to_ints(shape);
  if (!any_tracked(a)) return broadcast_fwd(a, shape);
  return autodiff::apply1(kBroadcast, {a}, at);
}

Tensor reshape(const Tensor& a, const Shape& shape_in) {
  Shape shape = shape_in;
  int64_t known = 1, neg = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      TG_CHECK_SHAPE(neg < 0, "reshape: can only specify one unknown dimension");
      neg = int64_t(i);
    } else {
      TG_CHECK_SHAPE(shape[i] >= 0, "reshape: negative dimension in ", shape_str(shape_in));
      TG_CHECK_SHAPE(!__builtin_mul_overflow(known, shape[i], &known), "reshape: cannot reshape a tensor of size ",
                     a.numel(), " into shape ", shape_str(shape_in), " (its size does not fit in 64 bits)");
    }
  }
  if (neg >= 0) {
    TG_CHECK_SHAPE(known != 0 && a.numel() % known == 0, "reshape: cannot reshape a tensor of size ", a.numel(),
                   " into shape ", shape_str(shape_in));
    shape[size_t(neg)] = a.numel() / known;
  }
  TG_CHECK_SHAPE(checked_numel(shape, itemsize(a.dtype()), "reshape") == a.numel(),
                 "reshape: cannot reshape a tensor of size ", a.numel(), " into shape ", shape_str(shape_in));
  if (shape == a.shape()) return a;
  if (!any_tracked(a)) return reshape_fwd(a, shape);
  Attrs at;
  at.ints = to_ints(shape);
  return autodiff::apply1(kReshape, {a}, at);
}

Tensor transpose(const Tensor& a, const SmallVec<int64_t, 6>& perm_in) {
  const int64_t nd = a.ndim();
  Attrs at;
  if (perm_in.empty()) {
    for (int64_t i = nd - 1; i >= 0; --i) at.ints.push_back(i);
  } else {
    TG_CHECK_SHAPE(int64_t(perm_in.size()) == nd, "transpose: axes ", shape_str(Shape(perm_in.begin(), perm_in.end())),
                   " don't match a tensor of ", nd, " dimensions");
    uint64_t seen = 0;
    for (int64_t p : perm_in) {
      int64_t k = norm_axis(p, nd, "transpose");
      TG_CHECK(!((seen >> k) & 1), "transpose: repeated axis in transpose");
      seen |= uint64_t(1) << k;
      at.ints.push_back(k);
    }
  }
  if (!any_tracked(a)) return transpose_impl({a}, at)[0];
  return autodiff::apply1(kTranspose, {a}, at);
}

Tensor swapaxes(const Tensor& a, int64_t i, int64_t j) {
  const int64_t nd = a.ndim();
  i = norm_axis(i, nd, "swapaxes");
  j = norm_axis(j, nd, "swapaxes");
  SmallVec<int64_t, 6> p;
  for (int64_t k = 0; k < nd; ++k) p.push_back(k);
  std::swap(p[size_t(i)], p[size_t(j)]);
  return transpose(a, p);
}

Tensor expand_dims(const Tensor& a, int64_t axis) {
  int64_t k = norm_axis(axis, a.ndim() + 1, "expand_dims");
  Shape s = a.shape();
  s.insert(size_t(k), 1);
  return reshape(a, s);
}

Tensor squeeze(const Tensor& a, const SmallVec<int64_t, 6>& axes, bool all_axes) {
  Shape s;
  uint64_t m = 0;
  if (!all_axes) {
    for (int64_t ax : axes) {
      int64_t k = norm_axis(ax, a.ndim(), "squeeze");
      TG_CHECK(a.shape()[size_t(k)] == 1,
               "squeeze: cannot select an axis to squeeze out which has size not equal to one");
      m |= uint64_t(1) << k;
    }
  }
  for (int64_t i = 0; i < a.ndim(); ++i) {
    bool drop = all_axes ? a.shape()[size_t(i)] == 1 : ((m >> i) & 1);
    if (!drop) s.push_back(a.shape()[size_t(i)]);
  }
  return reshape(a, s);
}

Tensor expand_dims(const Tensor& a, const SmallVec<int64_t, 6>& axes) {
  const int64_t nd = a.ndim() + int64_t(axes.size());
  TG_CHECK(nd <= 63, "expand_dims: too many dimensions");
  uint64_t m = 0;
  for (int64_t ax : axes) {
    int64_t k = norm_axis(ax, nd, "expand_dims");
    TG_CHECK(!((m >> k) & 1), "expand_dims: repeated axis");
    m |= uint64_t(1) << k;
  }
  Shape s;
  size_t j = 0;
  for (int64_t d = 0; d < nd; ++d) s.push_back(((m >> d) & 1) ? 1 : a.shape()[j++]);
  return reshape(a, s);
}

Tensor ravel(const Tensor& a) { return reshape(a, Shape{a.numel()}); }

Tensor flatten(const Tensor& a) {
  Tensor r = reshape(a, Shape{a.numel()});
  // numpy's flatten always copies: never hand back memory shared with `a`.
  if (r.has_data() && a.has_data() && r.storage() == a.storage()) r = copy(r);
  return r;
}

}  // namespace ops
}  // namespace tapegrad

namespace tapegrad {
namespace ops {
namespace {
TensorList copy_impl(const TensorList& in, const Attrs&) { return {in[0].clone()}; }
TensorList copy_vjp(const TensorList& g, const TensorList&, const TensorList&, const Attrs&, uint32_t) {
  return {g[0]};
}
TensorList copy_jvp(const TensorList& t, const TensorList&, const TensorList&, const Attrs&) { return {t[0]}; }
constexpr Prim kCopy = PrimDef("copy").impl(copy_impl).vjp(copy_vjp).jvp(copy_jvp).batch(autodiff::elementwise_batch);
}  // namespace

Tensor copy(const Tensor& a) {
  check_op_input(a, "copy");
  if (!any_tracked(a)) return a.clone();
  return autodiff::apply1(kCopy, {a}, Attrs());
}

}  // namespace ops
}  // namespace tapegrad

// ---- concatenate / split / stack / flip / tile / repeat ------------------------------------------
#include "kernels/kernels.h"
#include "kernels/kernels_extra.h"

namespace tapegrad {
namespace ops {
namespace {

// Size of an input along the concatenation axis, for the rules.
SmallVec<int64_t, 6> cat_sizes(const TensorList& in, int64_t axis) {
  SmallVec<int64_t, 6> r;
  for (const Tensor& x : in) r.push_back(x.shape()[size_t(axis)]);
  return r;
}

// concatenate: attrs ints[0] = axis (normalised); inputs share dtype and all other dims.
TensorList concat_impl(const TensorList& in, const Attrs& a) {
  const int64_t axis = a.ints[0];
  Shape s = in[0].shape();
  int64_t total = 0;
  for (const Tensor& x : in) {
    check_op_input(x, "concatenate");
    total += x.shape()[size_t(axis)];
  }
  s[size_t(axis)] = total;
  Tensor out = Tensor::empty(s, in[0].dtype(), in[0].device());  // total <= the inputs' sizes
  const Strides& st = out.strides();
  int64_t pos = 0;
  for (const Tensor& x : in) {
    const int64_t n = x.shape()[size_t(axis)];
    if (n && x.numel()) kernels::copy(out.view_as(x.shape(), st, out.offset() + pos * st[size_t(axis)]), x);
    pos += n;
  }
  return {out};
}
// concatenate'^T g = split(g) at the input boundaries
TensorList concat_vjp(const TensorList& g, const TensorList& in, const TensorList&, const Attrs& a, uint32_t need) {
  const int64_t axis = a.ints[0];
  SmallVec<int64_t, 6> cuts;
  int64_t pos = 0;
  auto sizes = cat_sizes(in, axis);
  for (size_t i = 0; i + 1 < sizes.size(); ++i) cuts.push_back(pos += sizes[i]);
  std::vector<Tensor> parts = split(g[0], cuts, false, axis);
  TensorList r;
  for (size_t i = 0; i < parts.size(); ++i) r.push_back(((need >> i) & 1) ? parts[i] : Tensor());
  return r;
}
// concatenate' t = concatenate(t) (zeros for inputs without a tangent)
TensorList concat_jvp(const TensorList& t, const TensorList& in, const TensorList&, const Attrs& a) {
  std::vector<Tensor> ts;
  for (size_t i = 0; i < in.size(); ++i) ts.push_back(t[i].defined() ? t[i] : zeros_like(in[i]));
  return {concatenate(ts, a.ints[0])};
}
// vmap: every input with the batch axis first (unbatched ones broadcast along it), axis + 1
constexpr Prim kConcat = PrimDef("concatenate")
                             .impl(concat_impl)
                             .vjp(concat_vjp)
                             .jvp(concat_jvp)
                             .batch(autodiff::shared_axis_batch)
                             .api("concatenate concat stack");

// split: attrs ints = {axis, start_0, len_0, start_1, len_1, ...}; outputs are views.
TensorList split_impl(const TensorList& in, const Attrs& a) {
  const Tensor& x = in[0];
  const int64_t axis = a.ints[0];
  TensorList r;
  for (size_t k = 1; k + 1 < a.ints.size(); k += 2) {
    Shape s = x.shape();
    s[size_t(axis)] = a.ints[k + 1];
    int64_t off = x.offset() + (a.ints[k + 1] ? a.ints[k] * x.strides()[size_t(axis)] : 0);
    r.push_back(x.view_as(s, x.strides(), off));
  }
  return r;
}
// Pieces that tile the axis in order: their transpose is a concatenation.
bool split_tiles(const Attrs& a, int64_t n) {
  int64_t pos = 0;
  for (size_t k = 1; k + 1 < a.ints.size(); k += 2) {
    if (a.ints[k + 1] && a.ints[k] != pos) return false;
    pos += a.ints[k + 1];
  }
  return pos == n;
}
// split'^T (g_0, ..., g_k) = concatenate(g) when the pieces tile the axis; otherwise each g_i is
// placed at its offset between zeros and the results summed (numpy allows overlapping pieces).
TensorList split_vjp(const TensorList& g, const TensorList& x, const TensorList& out, const Attrs& a, uint32_t) {
  const int64_t axis = a.ints[0], n = x[0].shape()[size_t(axis)];
  std::vector<Tensor> gs;
  for (size_t i = 0; i < out.size(); ++i) gs.push_back(g[i].defined() ? g[i] : zeros_like(out[i]));
  if (split_tiles(a, n)) {
    std::vector<Tensor> nz;
    for (size_t i = 0; i < gs.size(); ++i)
      if (a.ints[1 + 2 * i + 1]) nz.push_back(gs[i]);
    if (nz.empty()) return {zeros_like(x[0])};
    return {concatenate(nz, axis)};
  }
  Tensor acc;
  for (size_t i = 0; i < gs.size(); ++i) {
    const int64_t start = a.ints[1 + 2 * i], len = a.ints[2 + 2 * i];
    if (!len) continue;
    Shape sb = x[0].shape(), sa = x[0].shape();
    sb[size_t(axis)] = start;
    sa[size_t(axis)] = n - start - len;
    Tensor placed = concatenate({Tensor::zeros(sb, gs[i].dtype()), gs[i], Tensor::zeros(sa, gs[i].dtype())}, axis);
    acc = opt_add(acc, placed);
  }
  return {acc.defined() ? acc : zeros_like(x[0])};
}
TensorList split_apply(const Tensor& x, const Attrs& a);
TensorList split_jvp(const TensorList& t, const TensorList&, const TensorList&, const Attrs& a) {
  return split_apply(t[0], a);
}
// vmap: the batch axis first, axis + 1 (the pieces' bounds are unchanged); every piece is batched
TensorList split_batch(const Prim& p, const TensorList& in, const BatchDims& bd, const Attrs& a, int64_t,
                       BatchDims& obd) {
  Attrs b = a;
  b.ints[0] = a.ints[0] + 1;
  TensorList r = autodiff::apply(p, {autodiff::batch_first(in[0], bd[0])}, b);
  for (size_t j = 0; j < r.size(); ++j) obd.push_back(0);
  return r;
}
constexpr Prim kSplit = PrimDef("split").impl(split_impl).vjp(split_vjp).jvp(split_jvp).batch(split_batch);
TensorList split_apply(const Tensor& x, const Attrs& a) {
  if (!any_tracked(x)) return split_impl({x}, a);
  return autodiff::apply(kSplit, {x}, a);
}

// flip: attrs ints[0] = mask of flipped axes; a view with negated strides.
TensorList flip_impl(const TensorList& in, const Attrs& a) {
  const Tensor& x = in[0];
  const uint64_t m = uint64_t(a.ints[0]);
  Strides st = x.strides();
  int64_t off = x.offset();
  for (int64_t d = 0; d < x.ndim(); ++d) {
    if (!((m >> d) & 1)) continue;
    const int64_t n = x.shape()[size_t(d)];
    if (n > 0) off += (n - 1) * st[size_t(d)];
    st[size_t(d)] = -st[size_t(d)];
  }
  if (x.numel() == 0) off = x.offset();
  return {x.view_as(x.shape(), st, off)};
}
SmallVec<int64_t, 6> mask_list(uint64_t m) {
  SmallVec<int64_t, 6> r;
  for (int i = 0; i < 63; ++i)
    if ((m >> i) & 1) r.push_back(i);
  return r;
}
// flip'^T g = flip(g)
TensorList flip_vjp(const TensorList& g, const TensorList&, const TensorList&, const Attrs& a, uint32_t) {
  return {flip(g[0], mask_list(uint64_t(a.ints[0])), false)};
}
TensorList flip_jvp(const TensorList& t, const TensorList&, const TensorList&, const Attrs& a) {
  return {flip(t[0], mask_list(uint64_t(a.ints[0])), false)};
}
// mask shifted
constexpr Prim kFlip = PrimDef("flip").impl(flip_impl).vjp(flip_vjp).jvp(flip_jvp).batch(autodiff::axis_mask_batch);

// repeat along an axis with one count per element (inputs x, counts Int64) and its transpose, the
// segment sum (inputs g, counts). attrs: ints[0] = axis, ints[1] = output length along axis.
Tensor repeat_counts(const Tensor& x, const Tensor& counts, int64_t axis, int64_t total);
Tensor segment_sum(const Tensor& g, const Tensor& counts, int64_t axis, int64_t len);

TensorList repeat_impl(const TensorList& in, const Attrs& a) {
  const Tensor& x = in[0];
  check_op_input(x, "repeat");
  const int64_t axis = a.ints[0];
  Shape s = x.shape();
  s[size_t(axis)] = a.ints[1];
  Tensor out = Tensor::empty(s, x.dtype(), x.device());
  kernels::repeat_axis(out, x.contiguous(), in[1].contiguous(), axis);
  return {out};
}
// repeat'^T g = sum of g over each run of repeats
TensorList repeat_vjp(const TensorList& g, const TensorList& in, const TensorList&, const Attrs& a, uint32_t) {
  return {segment_sum(g[0], in[1], a.ints[0], in[0].shape()[size_t(a.ints[0])]), Tensor()};
}
TensorList repeat_jvp(const TensorList& t, const TensorList& in, const TensorList&, const Attrs& a) {
  return {repeat_counts(t[0], in[1], a.ints[0], a.ints[1])};
}
// vmap (repeat and repeat_transpose): the batch axis first, axis + 1. The counts fix the output
// shape, so they cannot differ across the batch (repeat() refuses batched counts).
TensorList repeat_batch(const Prim& p, const TensorList& in, const BatchDims& bd, const Attrs& a, int64_t,
                        BatchDims& obd) {
  TG_CHECK(bd[1] < 0,
           "repeat: the repeat counts cannot be batched by vmap (the output shape would differ "
           "across the batch)");
  Attrs b = a;
  b.ints[0] = a.ints[0] + 1;
  obd.push_back(0);
  return autodiff::apply(p, {autodiff::batch_first(in[0], bd[0]), in[1]}, b);
}
constexpr Prim kRepeat = PrimDef("repeat").impl(repeat_impl).vjp(repeat_vjp).jvp(repeat_jvp).batch(repeat_batch);

TensorList segsum_impl(const TensorList& in, const Attrs& a) {
  const Tensor& g = in[0];
  check_op_input(g, "repeat");
  const int64_t axis = a.ints[0];
  Shape s = g.shape();
  s[size_t(axis)] = a.ints[1];
  DType cd = is_float(g.dtype()) ? compute_dtype(g.dtype()) : DType::Int64;
  Tensor gg = g.dtype() == cd ? g.contiguous() : g.to(cd);
  Tensor out = Tensor::empty(s, cd, g.device());
  kernels::segment_sum(out, gg, in[1].contiguous(), axis);
  return {cd == g.dtype() ? out : out.to(g.dtype())};
}
// segment_sum'^T g = repeat(g)
TensorList segsum_vjp(const TensorList& g, const TensorList& in, const TensorList&, const Attrs& a, uint32_t) {
  return {repeat_counts(g[0], in[1], a.ints[0], in[0].shape()[size_t(a.ints[0])]), Tensor()};
}
TensorList segsum_jvp(const TensorList& t, const TensorList& in, const TensorList&, const Attrs& a) {
  return {segment_sum(t[0], in[1], a.ints[0], a.ints[1])};
}
constexpr Prim kSegmentSum =
    PrimDef("repeat_transpose").impl(segsum_impl).vjp(segsum_vjp).jvp(segsum_jvp).batch(repeat_batch).api("");

Tensor repeat_counts(const Tensor& x, const Tensor& counts, int64_t axis, int64_t total) {
  Attrs at;
  at.ints.push_back(axis);
  at.ints.push_back(total);
  if (!any_tracked(x)) return repeat_impl({x, counts}, at)[0];
  return autodiff::apply1(kRepeat, {x, counts}, at);
}
Tensor segment_sum(const Tensor& g, const Tensor& counts, int64_t axis, int64_t len) {
  Attrs at;
  at.ints.push_back(axis);
  at.ints.push_back(len);
  if (!any_tracked(g)) return segsum_impl({g, counts}, at)[0];
  return autodiff::apply1(kSegmentSum, {g, counts}, at);
}

}  // namespace

// Largest number of inputs one concatenate record takes (the sweep's `need` mask is 32 bits).
constexpr size_t kMaxCatInputs = 32;

Tensor concatenate(const std::vector<Tensor>& xs_in, int64_t axis_in, bool flatten) {
  TG_CHECK(!xs_in.empty(), "concatenate: need at least one tensor to concatenate");
  std::vector<Tensor> xs;
  xs.reserve(xs_in.size());
  for (const Tensor& x : xs_in) xs.push_back(flatten ? reshape(x, Shape{x.numel()}) : x);
  const Tensor& x0 = xs[0];
  TG_CHECK(x0.ndim() > 0, "concatenate: zero-dimensional tensors cannot be concatenated");
  const int64_t axis = flatten ? 0 : norm_axis(axis_in, x0.ndim(), "concatenate");
  DType dt = x0.dtype();
  bool tracked = false;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor& x = xs[i];
    TG_CHECK_SHAPE(x.ndim() == x0.ndim(),
                   "concatenate: all the input tensors must have the same number of "
                   "dimensions, but tensor 0 has shape ",
                   shape_str(x0.shape()), " and tensor ", i, " has shape ", shape_str(x.shape()));
    for (int64_t d = 0; d < x0.ndim(); ++d)
      TG_CHECK_SHAPE(d == axis || x.shape()[size_t(d)] == x0.shape()[size_t(d)],
                     "concatenate: the input shapes must match except along axis ", axis, ", but tensor 0 has shape ",
                     shape_str(x0.shape()), " and tensor ", i, " has shape ", shape_str(x.shape()));
    dt = promote(dt, x.dtype());
    tracked = tracked || any_tracked(x);
  }
  {
    Shape out = x0.shape();
    int64_t total = 0;
    for (const Tensor& x : xs) total = checked_add(total, x.shape()[size_t(axis)], "concatenate");
    out[size_t(axis)] = total;
    checked_numel(out, itemsize(dt), "concatenate");
  }
  for (Tensor& x : xs)
    if (x.dtype() != dt) x = cast(x, dt);
  Attrs at;
  at.ints.push_back(axis);
  if (!tracked) {
    TensorList in;
    for (const Tensor& x : xs) in.push_back(x);
    return concat_impl(in, at)[0];
  }
  if (xs.size() > kMaxCatInputs) {  // concatenate groups, then the groups
    std::vector<Tensor> groups;
    for (size_t i = 0; i < xs.size(); i += kMaxCatInputs)
      groups.push_back(concatenate(
          std::vector<Tensor>(xs.begin() + long(i), xs.begin() + long(std::min(xs.size(), i + kMaxCatInputs))), axis));
    return concatenate(groups, axis);
  }
  TensorList in;
  for (const Tensor& x : xs) in.push_back(x);
  return autodiff::apply1(kConcat, in, at);
}

Tensor stack(const std::vector<Tensor>& xs, int64_t axis) {
  TG_CHECK(!xs.empty(), "stack: need at least one tensor to stack");
  const int64_t k = norm_axis(axis, xs[0].ndim() + 1, "stack");
  std::vector<Tensor> ys;
  for (size_t i = 0; i < xs.size(); ++i) {
    TG_CHECK_SHAPE(xs[i].shape() == xs[0].shape(),
                   "stack: all input tensors must have the same shape, but "
                   "tensor 0 has shape ",
                   shape_str(xs[0].shape()), " and tensor ", i, " has shape ", shape_str(xs[i].shape()));
    ys.push_back(expand_dims(xs[i], k));
  }
  return concatenate(ys, k);
}

std::vector<Tensor> split(const Tensor& a, const SmallVec<int64_t, 6>& spec, bool by_count, int64_t axis_in) {
  TG_CHECK_INDEX(a.ndim() > 0, "split: axis ", axis_in, " is out of bounds for a tensor of dimension 0");
  const int64_t axis = norm_axis(axis_in, a.ndim(), "split");
  const int64_t n = a.shape()[size_t(axis)];
  Attrs at;
  at.ints.push_back(axis);
  if (by_count) {
    TG_CHECK(spec.size() == 1, "split: expected one number of sections");
    const int64_t k = spec[0];
    TG_CHECK(k > 0, "split: number of sections must be larger than 0, got ", k);
    TG_CHECK(n % k == 0, "split: tensor split does not result in an equal division (", n, " along axis ", axis,
             " into ", k, " sections)");
    for (int64_t i = 0; i < k; ++i) {
      at.ints.push_back(i * (n / k));
      at.ints.push_back(n / k);
    }
  } else {
    // Piece i is a[cut_{i-1} : cut_i] with Python slice rules (negative cuts count from the end,
    // cuts are clipped, a decreasing cut gives an empty piece).
    auto clip = [n](int64_t c) { return c < 0 ? std::max<int64_t>(c + n, 0) : std::min(c, n); };
    int64_t prev = 0;
    for (size_t i = 0; i <= spec.size(); ++i) {
      int64_t stop = i < spec.size() ? clip(spec[i]) : n;
      at.ints.push_back(prev);
      at.ints.push_back(std::max<int64_t>(stop - prev, 0));
      prev = stop;
    }
  }
  TensorList r = split_apply(a, at);
  return std::vector<Tensor>(r.begin(), r.end());
}

Tensor flip(const Tensor& a, const SmallVec<int64_t, 6>& axes, bool all_axes) {
  const int64_t nd = a.ndim();
  TG_CHECK(nd <= 63, "flip: too many dimensions");
  uint64_t m = 0;
  if (all_axes) {
    m = nd ? (uint64_t(1) << nd) - 1 : 0;
  } else {
    for (int64_t ax : axes) {
      int64_t k = norm_axis(ax, nd, "flip");
      TG_CHECK(!((m >> k) & 1), "flip: repeated axis");
      m |= uint64_t(1) << k;
    }
  }
  if (!m) return a;
  Attrs at;
  at.ints.push_back(int64_t(m));
  if (!any_tracked(a)) return flip_impl({a}, at)[0];
  return autodiff::apply1(kFlip, {a}, at);
}

// tile: broadcast a to (r0, s0, r1, s1, ...) and merge pairs; its VJP (sum over the tiles) comes
// from broadcast_to's.
Tensor tile(const Tensor& a, const SmallVec<int64_t, 6>& reps_in) {
  for (int64_t r : reps_in) TG_CHECK(r >= 0, "tile: negative repetitions are not allowed, got ", r);
  const size_t nd = std::max(size_t(a.ndim()), reps_in.size());
  Shape s(nd - size_t(a.ndim()), 1), reps(nd - reps_in.size(), 1);
  for (int64_t d : a.shape()) s.push_back(d);
  for (int64_t r : reps_in) reps.push_back(r);
  Shape pair_in, pair_out, out;
  for (size_t i = 0; i < nd; ++i) {
    pair_in.push_back(1);
    pair_in.push_back(s[i]);
    pair_out.push_back(reps[i]);
    pair_out.push_back(s[i]);
    out.push_back(checked_mul(reps[i], s[i], "tile"));
  }
  checked_numel(pair_out, itemsize(a.dtype()), "tile");
  Tensor b = broadcast_to(reshape(a, pair_in), pair_out);
  Tensor r = reshape(b, out);
  if (r.has_data() && a.has_data() && r.storage() == a.storage()) r = copy(r);  // numpy: always a copy
  return r;
}

Tensor repeat(const Tensor& a, const Tensor& repeats_in, int64_t axis_in, bool flatten) {
  Tensor x = flatten ? reshape(a, Shape{a.numel()}) : a;
  TG_CHECK_INDEX(x.ndim() > 0, "repeat: axis ", axis_in, " is out of bounds for a tensor of dimension 0");
  const int64_t axis = flatten ? 0 : norm_axis(axis_in, x.ndim(), "repeat");
  Tensor rep = autodiff::strip(repeats_in);
  TG_CHECK(!rep.tracked(),
           "repeat: the repeat counts cannot be batched by vmap (the output shape would differ "
           "across the batch); pass them as an unmapped argument (in_axes=None) or a constant");
  TG_CHECK_DTYPE(is_int(rep.dtype()) || rep.dtype() == DType::Bool, "repeat: repeats must be integers, got ",
                 describe(rep));
  TG_CHECK(rep.ndim() <= 1, "repeat: repeats must be an int or a 1-d sequence, got shape ", shape_str(rep.shape()));
  rep = rep.to(DType::Int64).contiguous().to_device(Device::CPU);  // sizes the output: read on the host
  const int64_t n = x.shape()[size_t(axis)];
  const int64_t* rc = rep.data<int64_t>();
  for (int64_t i = 0; i < rep.numel(); ++i)
    TG_CHECK(rc[i] >= 0, "repeat: repeats may not contain negative values, got ", rc[i]);
  if (rep.numel() == 1) {  // every element r times: broadcast a new axis after `axis` and merge
    const int64_t r = rc[0];
    Shape s1 = x.shape(), s2 = x.shape(), so = x.shape();
    s1.insert(size_t(axis) + 1, 1);
    s2.insert(size_t(axis) + 1, r);
    so[size_t(axis)] = checked_mul(n, r, "repeat");
    checked_numel(s2, itemsize(x.dtype()), "repeat");
    Tensor y = reshape(broadcast_to(reshape(x, s1), s2), so);
    if (y.has_data() && x.has_data() && y.storage() == x.storage()) y = copy(y);
    return y;
  }
  TG_CHECK_SHAPE(rep.numel() == n, "repeat: repeats of shape ", shape_str(rep.shape()),
                 " do not match a tensor of shape ", shape_str(x.shape()), " along axis ", axis);
  int64_t total = 0;
  for (int64_t i = 0; i < n; ++i) total = checked_add(total, rc[i], "repeat");
  Shape so = x.shape();
  so[size_t(axis)] = total;
  checked_numel(so, itemsize(x.dtype()), "repeat");
  return repeat_counts(x, rep, axis, total);
}

void add_shape_prims(PrimRegistry& r) {
  for (const Prim* p : {&kBroadcast, &kReshape, &kTranspose, &kCopy, &kConcat, &kSplit, &kFlip, &kRepeat, &kSegmentSum})
    r.push_back(p);
}

}  // namespace ops
}  // namespace tapegrad
