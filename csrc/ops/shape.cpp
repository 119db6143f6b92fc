// Shape and layout prims.
#include "ops/shape.h"

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
    throw ShapeError(str_cat("broadcast_to: cannot broadcast a tensor of shape ", shape_str(a.shape()),
                             " to shape ", shape_str(shape)));
  };
  if (ad > nd) fail();
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
const Prim kBroadcast = {"broadcast_to", bcast_impl, bcast_vjp, bcast_jvp};

// Strides of a view of `a` with shape `s`, if one exists without copying.
bool view_strides(const Tensor& a, const Shape& s, Strides& out) {
  if (a.is_contiguous()) {
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
const Prim kReshape = {"reshape", reshape_impl, reshape_vjp, reshape_jvp};

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
const Prim kTranspose = {"transpose", transpose_impl, transpose_vjp, transpose_jvp};

}  // namespace

Tensor broadcast_to(const Tensor& a, const Shape& shape) {
  if (a.shape() == shape) return a;
  Attrs at;
  at.ints = to_ints(shape);
  if (!a.tracked()) return broadcast_fwd(a, shape);
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
      known *= shape[i];
    }
  }
  if (neg >= 0) {
    TG_CHECK_SHAPE(known != 0 && a.numel() % known == 0, "reshape: cannot reshape a tensor of size ",
                   a.numel(), " into shape ", shape_str(shape_in));
    shape[size_t(neg)] = a.numel() / known;
  }
  TG_CHECK_SHAPE(numel(shape) == a.numel(), "reshape: cannot reshape a tensor of size ", a.numel(),
                 " into shape ", shape_str(shape_in));
  if (shape == a.shape()) return a;
  if (!a.tracked()) return reshape_fwd(a, shape);
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
  if (!a.tracked()) return transpose_impl({a}, at)[0];
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
      TG_CHECK(a.shape()[size_t(k)] == 1, "squeeze: cannot select an axis to squeeze out which has size not equal to one");
      m |= uint64_t(1) << k;
    }
  }
  for (int64_t i = 0; i < a.ndim(); ++i) {
    bool drop = all_axes ? a.shape()[size_t(i)] == 1 : ((m >> i) & 1);
    if (!drop) s.push_back(a.shape()[size_t(i)]);
  }
  return reshape(a, s);
}

Tensor flatten(const Tensor& a) { return reshape(a, Shape{a.numel()}); }

}  // namespace ops
}  // namespace tapegrad

namespace tapegrad {
namespace ops {
namespace {
TensorList copy_impl(const TensorList& in, const Attrs&) { return {in[0].clone()}; }
TensorList copy_vjp(const TensorList& g, const TensorList&, const TensorList&, const Attrs&, uint32_t) { return {g[0]}; }
TensorList copy_jvp(const TensorList& t, const TensorList&, const TensorList&, const Attrs&) { return {t[0]}; }
const Prim kCopy = {"copy", copy_impl, copy_vjp, copy_jvp};
}  // namespace

Tensor copy(const Tensor& a) {
  check_has_data(a, "copy");
  if (!a.tracked()) return a.clone();
  return autodiff::apply1(kCopy, {a}, Attrs());
}

}  // namespace ops
}  // namespace tapegrad
