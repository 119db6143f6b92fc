// Indexing prims. An index expression is split into a basic part (ints, slices, None, `...`: a
// strided view) and an advanced part (integer arrays, Bool masks: a gather through index rows):
//
//   a[idx]  =  move_B(gather(transpose(view(a), advanced dims first), rows))
//
// where `rows` packs the broadcast index arrays into the canonical form of kernels_index.h and
// move_B puts the broadcast dims where numpy does (at the first advanced dim when the advanced
// indices are adjacent, else in front). Writes run the same pipeline backwards. Five prims carry
// derivative rules: basic_index / basic_put (views) and index_gather / index_add / index_put (rows);
// every rule is written with these ops, so derivatives of any order work. Two more, without
// derivatives, exist so that vmap can batch index arrays: index_pack (arrays -> rows, when an array
// is batched) and index_last_writer (which write of a repeated row wins, for index_put's VJP).
#include "ops/index.h"

#include "autodiff/batching.h"
#include "autodiff/trace.h"
#include "kernels/kernels.h"
#include "kernels/kernels_index.h"
#include "ops/ops.h"

namespace tapegrad {
namespace ops {

namespace {

using Perm = SmallVec<int64_t, 6>;

// ---- the basic part: a view described by 4 ints per index item -----------------------------
// kind, start, step, len; kind kInt consumes a dim (start = the index), kSlice keeps it,
// kNew inserts a size-1 dim.
constexpr int64_t kInt = 0, kSlice = 1, kNew = 2;

Tensor apply_view(const Tensor& x, const Attrs& a) {
  Shape s;
  Strides st;
  int64_t off = x.offset();
  size_t d = 0;
  for (size_t i = 0; i < a.ints.size(); i += 4) {
    const int64_t kind = a.ints[i], start = a.ints[i + 1], step = a.ints[i + 2], len = a.ints[i + 3];
    if (kind == kInt) {
      off += start * x.strides()[d++];
    } else if (kind == kSlice) {
      s.push_back(len);
      // With one element the step is never taken (and stride * step could overflow for a huge step).
      st.push_back(len > 1 ? x.strides()[d] * step : x.strides()[d]);
      if (len > 0) off += start * x.strides()[d];
      ++d;
    } else {
      s.push_back(1);
      st.push_back(0);
    }
  }
  return x.view_as(s, st, off);
}

// A zero of shape s that allocates one element (a broadcast view; never written into).
// Zeros of shape s as one broadcast element, on the device of the values they combine with.
Tensor zero_fill(const Shape& s, DType d, Device dev) {
  Tensor z = Tensor::zeros(Shape{}, d, dev);
  return z.view_as(s, Strides(s.size(), 0), z.offset());
}

Tensor basic_index(const Tensor& x, const Attrs& a);
Tensor basic_put(const Tensor& x, const Tensor& v, const Attrs& a);

TensorList basic_index_impl(const TensorList& in, const Attrs& a) {
  check_op_input(in[0], "getitem");
  return {apply_view(in[0], a)};
}
// view'(x) = g scattered into zeros of x's shape at the view's positions
TensorList basic_index_vjp(const TensorList& g, const TensorList& x, const TensorList&, const Attrs& a, uint32_t) {
  return {basic_put(zero_fill(x[0].shape(), g[0].dtype(), g[0].device()), g[0], a)};
}
TensorList basic_index_jvp(const TensorList& t, const TensorList&, const TensorList&, const Attrs& a) {
  return {basic_index(t[0], a)};
}
// vmap: the batch axis first, and a full slice of it in front of the index items
Attrs with_batch_slice(const Attrs& a, int64_t size) {
  Attrs b = a;
  b.ints.clear();
  for (int64_t v : {kSlice, int64_t(0), int64_t(1), size}) b.ints.push_back(v);
  for (int64_t v : a.ints) b.ints.push_back(v);
  return b;
}
TensorList basic_index_batch(const Prim& p, const TensorList& in, const BatchDims& bd, const Attrs& a, int64_t size,
                             BatchDims& obd) {
  obd.push_back(0);
  return autodiff::apply(p, {autodiff::batch_first(in[0], bd[0])}, with_batch_slice(a, size));
}
constexpr Prim kBasicIndex = PrimDef("basic_index")
                                 .impl(basic_index_impl)
                                 .vjp(basic_index_vjp)
                                 .jvp(basic_index_jvp)
                                 .batch(basic_index_batch)
                                 .api("Tensor.__getitem__");

// The copy of basic_put's x that the view is written into. A getitem's VJP puts into zero_fill, one
// +0 element broadcast: under a Hessian's batch that is a copy of n x n elements each time, so a
// broadcast zero is made by memset (the same bits) instead of by the element-wise copy loop.
Tensor put_base(const Tensor& x) {
  if (x.device() == Device::CPU && x.numel() > 1 && x.has_data()) {
    bool broadcast_one = true;
    for (int64_t st : x.strides()) broadcast_one = broadcast_one && st == 0;
    if (broadcast_one) {
      const auto* b = static_cast<const unsigned char*>(x.raw_data());
      bool zero = true;
      for (size_t i = 0; i < itemsize(x.dtype()); ++i) zero = zero && b[i] == 0;
      if (zero) return Tensor::zeros(x.shape(), x.dtype());
    }
  }
  return x.clone();
}

// basic_put(x, v): x with the view's positions replaced by v (v has the view's shape).
TensorList basic_put_impl(const TensorList& in, const Attrs& a) {
  check_op_input(in[0], "setitem");
  check_op_input(in[1], "setitem");
  Tensor out = put_base(in[0]);
  kernels::copy(apply_view(out, a), in[1]);
  return {out};
}
// basic_put'(x, v) = (g with the view zeroed, view(g))
TensorList basic_put_vjp(const TensorList& g, const TensorList& x, const TensorList&, const Attrs& a, uint32_t need) {
  Tensor gx = (need & 1) ? basic_put(g[0], zero_fill(x[1].shape(), g[0].dtype(), g[0].device()), a) : Tensor();
  Tensor gv = (need & 2) ? basic_index(g[0], a) : Tensor();
  return {gx, gv};
}
TensorList basic_put_jvp(const TensorList& t, const TensorList& x, const TensorList& y, const Attrs& a) {
  const DType d = y[0].dtype();
  Tensor tx = t[0].defined() ? t[0] : zero_fill(x[0].shape(), d, y[0].device());
  Tensor tv = t[1].defined() ? t[1] : zero_fill(x[1].shape(), d, y[0].device());
  return {basic_put(tx, tv, a)};
}
// vmap: x and v with the batch axis first (an unbatched one broadcast: x is copied anyway), and a
// full slice of it in front of the index items
TensorList basic_put_batch(const Prim& p, const TensorList& in, const BatchDims& bd, const Attrs& a, int64_t size,
                           BatchDims& obd) {
  obd.push_back(0);
  return autodiff::apply(
      p,
      {autodiff::batch_first_or_broadcast(in[0], bd[0], size), autodiff::batch_first_or_broadcast(in[1], bd[1], size)},
      with_batch_slice(a, size));
}
constexpr Prim kBasicPut = PrimDef("basic_put")
                               .impl(basic_put_impl)
                               .vjp(basic_put_vjp)
                               .jvp(basic_put_jvp)
                               .batch(basic_put_batch)
                               .api("Tensor.__setitem__");

// write_basic(dst, src): src (broadcast to the view) written into dst's memory through the basic
// view in attrs. Not a functional op: it is what setitem does to a tensor a tg.jit trace does not
// own (a Parameter an optimizer updates), recorded so that a replay writes it again. No outputs.
TensorList write_basic_impl(const TensorList& in, const Attrs& a) {
  Tensor dst = in[0];
  Tensor src = in[1];
  if (src.has_data() && src.storage() == dst.storage()) src = src.clone();  // read it before writing
  dst.prepare_write();
  Tensor view = apply_view(dst, a);
  if (view.numel() > 0) kernels::copy(view, broadcast_to(src, view.shape()));
  return {};
}
constexpr Prim kWriteBasic =
    PrimDef("write_basic").impl(write_basic_impl).nondiff().writes_input0().api("Tensor.__setitem__");

Tensor basic_index(const Tensor& x, const Attrs& a) {
  if (!any_tracked(x)) return basic_index_impl({x}, a)[0];
  return autodiff::apply1(kBasicIndex, {x}, a);
}
Tensor basic_put(const Tensor& x, const Tensor& v, const Attrs& a) {
  if (!any_tracked(x, v)) return basic_put_impl({x, v}, a)[0];
  return autodiff::apply1(kBasicPut, {x, v}, a);
}

// ---- the advanced part: gather / add / put through index rows -------------------------------

Shape value_shape(const Tensor& x, const Tensor& idx) {
  const int64_t k = idx.shape().back();
  Shape s(idx.shape().begin(), idx.shape().end() - 1);
  for (int64_t i = k; i < x.ndim(); ++i) s.push_back(x.shape()[size_t(i)]);
  return s;
}

void check_rows(const Tensor& x, const Tensor& idx, const char* op) {
  TG_CHECK(idx.dtype() == DType::Int64 && idx.ndim() >= 1 && idx.is_contiguous() && idx.shape().back() >= 1 &&
               idx.shape().back() <= x.ndim(),
           op, ": index rows must be a contiguous Int64 tensor of shape B + (k,) with 1 <= k <= ", x.ndim(), ", got ",
           describe(idx));
  if (!x.tracked()) check_op_input(x, op);
  if (!idx.tracked()) check_op_input(idx, op);
}

// Index rows are made on the CPU (they come from Python indices); a GPU gather or scatter takes a
// copy of them on its device.
Tensor rows_on(const Tensor& idx, const Tensor& x) { return idx.to_device(x.device()); }

TensorList gather_impl(const TensorList& in, const Attrs&) {
  Tensor out = Tensor::empty(value_shape(in[0], in[1]), in[0].dtype(), in[0].device());
  kernels::index_gather(out, in[0], rows_on(in[1], in[0]));
  return {out};
}
// gather'(x) = scatter-add g into zeros of x's shape (repeated rows accumulate)
TensorList gather_vjp(const TensorList& g, const TensorList& x, const TensorList&, const Attrs&, uint32_t) {
  return {index_add(zero_fill(x[0].shape(), g[0].dtype(), g[0].device()), x[1], g[0]), Tensor()};
}
TensorList gather_jvp(const TensorList& t, const TensorList& x, const TensorList&, const Attrs&) {
  return {index_gather(t[0], x[1])};
}
// vmap. Rows (B..., k) index the first k dims of x.
//  - rows unbatched: x's batch axis moves right after the k indexed dims, so each row picks a block
//    (size, rest...) and the output carries the batch axis after B...;
//  - rows batched, x not: one gather through all the rows (size, B..., k), batch axis first;
//  - both batched: x's batch axis first and each row prefixed by its batch index (size, B..., 1 + k).
TensorList gather_batch(const Prim& p, const TensorList& in, const BatchDims& bd, const Attrs& a, int64_t size,
                        BatchDims& obd) {
  const Tensor &x = in[0], &idx = in[1];
  if (bd[1] < 0) {
    const int64_t k = idx.shape().back();
    obd.push_back(int32_t(idx.ndim() - 1));
    return autodiff::apply(p, {autodiff::move_axis(x, bd[0], k), idx}, a);
  }
  Tensor rows = autodiff::contiguous_rows(autodiff::batch_first(idx, bd[1]));
  obd.push_back(0);
  if (bd[0] < 0) return autodiff::apply(p, {x, rows}, a);
  return autodiff::apply(p, {autodiff::batch_first(x, bd[0]), autodiff::prepend_batch_index(rows, size)}, a);
}
constexpr Prim kGather = PrimDef("index_gather")
                             .impl(gather_impl)
                             .vjp(gather_vjp)
                             .jvp(gather_jvp)
                             .batch(gather_batch)
                             .api("Tensor.__getitem__ take take_along_axis");

// x[idx] (+)= v on a fresh copy of x. Float16 accumulates in Float32.
Tensor scatter_fwd(const Tensor& x, const Tensor& idx, const Tensor& v, bool accumulate) {
  check_op_input(v, accumulate ? "index_add" : "index_put");
  const DType cd = accumulate ? compute_dtype(x.dtype()) : x.dtype();
  Tensor out = x.to(cd);
  if (out.impl() == x.impl()) out = x.clone();
  kernels::index_scatter(out, v.dtype() == cd ? v : v.to(cd), rows_on(idx, out), accumulate);
  return cd == x.dtype() ? out : out.to(x.dtype());
}

TensorList add_impl(const TensorList& in, const Attrs&) { return {scatter_fwd(in[0], in[1], in[2], true)}; }
// index_add'(x, v) = (g, g[idx])
TensorList add_vjp(const TensorList& g, const TensorList& x, const TensorList&, const Attrs&, uint32_t need) {
  return {g[0], Tensor(), (need & 4) ? index_gather(g[0], x[1]) : Tensor()};
}
TensorList add_jvp(const TensorList& t, const TensorList& x, const TensorList& y, const Attrs&) {
  if (!t[2].defined()) return {t[0]};
  Tensor tx = t[0].defined() ? t[0] : zero_fill(x[0].shape(), y[0].dtype(), y[0].device());
  return {index_add(tx, x[1], t[2])};
}
// vmap (index_add and index_put), like gather's: x and v always take the batch (x is copied anyway;
// an unbatched one is broadcast).
//  - rows unbatched: the batch axis sits right after the k indexed dims of x and after B... in v, so
//    each row writes a block (size, rest...); rows repeat in the same order as without the batch;
//  - rows batched: batch axis first on x and v, each row prefixed by its batch index, so rows of
//    different batch elements never collide and the order within one element is kept.
TensorList scatter_batch(const Prim& p, const TensorList& in, const BatchDims& bd, const Attrs& a, int64_t size,
                         BatchDims& obd) {
  const Tensor &x = in[0], &idx = in[1], &v = in[2];
  Tensor xb = autodiff::batch_first_or_broadcast(x, bd[0], size);
  Tensor vb = autodiff::batch_first_or_broadcast(v, bd[2], size);
  if (bd[1] < 0) {
    const int64_t k = idx.shape().back(), nb = idx.ndim() - 1;
    obd.push_back(int32_t(k));
    return autodiff::apply(p, {autodiff::move_axis(xb, 0, k), idx, autodiff::move_axis(vb, 0, nb)}, a);
  }
  Tensor rows = autodiff::prepend_batch_index(autodiff::batch_first(idx, bd[1]), size);
  obd.push_back(0);
  return autodiff::apply(p, {xb, rows, vb}, a);
}
constexpr Prim kIndexAdd = PrimDef("index_add").impl(add_impl).vjp(add_vjp).jvp(add_jvp).batch(scatter_batch).api("");

// ---- last_writer(rows): Bool of shape B, true where a row is the last one in C order equal to it
// (the write that wins an assignment through repeated rows). attrs.ints = sizes of the k indexed dims.
TensorList last_writer_impl(const TensorList& in, const Attrs& a) {
  const Tensor& idx = in[0];
  Tensor won = Tensor::empty(Shape(idx.shape().begin(), idx.shape().end() - 1), DType::Bool, idx.device());
  kernels::index_last_writer(won, idx, a.ints.data());
  return {won};
}
// vmap: each row prefixed by its batch index (rows of different batch elements never collide), the
// batch size prepended to the dims
TensorList last_writer_batch(const Prim& p, const TensorList& in, const BatchDims& bd, const Attrs& a, int64_t size,
                             BatchDims& obd) {
  Attrs b = a;
  b.ints.insert(0, size);
  obd.push_back(0);
  return autodiff::apply(p, {autodiff::prepend_batch_index(autodiff::batch_first(in[0], bd[0]), size)}, b);
}
constexpr Prim kLastWriter =
    PrimDef("index_last_writer").impl(last_writer_impl).batch(last_writer_batch).nondiff().api("");

Tensor last_writer(const Tensor& idx, const Shape& x_shape) {
  Attrs at;
  for (int64_t i = 0; i < idx.shape().back(); ++i) at.ints.push_back(x_shape[size_t(i)]);
  if (!any_tracked(idx)) return last_writer_impl({idx}, at)[0];
  return autodiff::apply1(kLastWriter, {idx}, at);
}

TensorList put_impl(const TensorList& in, const Attrs&) { return {scatter_fwd(in[0], in[1], in[2], false)}; }
// index_put'(x, v) = (g with the rows zeroed, g[idx] where the row's write is the one that won)
TensorList put_vjp(const TensorList& g, const TensorList& x, const TensorList&, const Attrs&, uint32_t need) {
  const Tensor& idx = x[1];
  Tensor gx = (need & 1) ? index_put(g[0], idx, zero_fill(x[2].shape(), g[0].dtype(), g[0].device())) : Tensor();
  Tensor gv;
  if (need & 4) {
    gv = index_gather(g[0], idx);
    const int64_t nb = idx.ndim() - 1;
    Tensor won = last_writer(idx, x[0].shape());
    // (under vmap `won` has no single value to count: always mask)
    if (won.tracked() || kernels::count_true(won) != won.numel()) {
      Shape ws = won.shape();
      for (int64_t i = nb; i < gv.ndim(); ++i) ws.push_back(1);
      gv = where(reshape(won, ws), gv, scalar_like(0.0, gv));
    }
  }
  return {gx, Tensor(), gv};
}
TensorList put_jvp(const TensorList& t, const TensorList& x, const TensorList& y, const Attrs&) {
  const DType d = y[0].dtype();
  Tensor tx = t[0].defined() ? t[0] : zero_fill(x[0].shape(), d, y[0].device());
  Tensor tv = t[2].defined() ? t[2] : zero_fill(x[2].shape(), d, y[0].device());
  return {index_put(tx, x[1], tv)};
}
constexpr Prim kIndexPut =
    PrimDef("index_put").impl(put_impl).vjp(put_vjp).jvp(put_jvp).batch(scatter_batch).api("Tensor.__setitem__");

// ---- planning: numpy's index rules ----------------------------------------------------------

void slice_bounds(const IndexItem& it, int64_t dim, int64_t& start, int64_t& len) {
  const int64_t step = it.step;
  int64_t lo, hi;
  if (step > 0) {
    lo = it.has_start ? it.start : 0;
    hi = it.has_stop ? it.stop : dim;
    if (lo < 0) lo += dim;
    if (hi < 0) hi += dim;
    lo = std::min(std::max<int64_t>(lo, 0), dim);
    hi = std::min(std::max<int64_t>(hi, 0), dim);
    // 0 <= hi - lo <= dim, so nothing here overflows, whatever the step (up to 2**63 - 1).
    len = hi > lo ? (hi - lo - 1) / step + 1 : 0;
  } else {
    lo = it.has_start ? it.start : dim - 1;
    if (it.has_start && lo < 0) lo += dim;
    hi = it.has_stop ? it.stop : -1;
    if (it.has_stop && hi < 0) hi += dim;
    lo = std::min(std::max<int64_t>(lo, -1), dim - 1);
    hi = std::min(std::max<int64_t>(hi, -1), dim - 1);
    // |step| in unsigned arithmetic: -step overflows for step == -2**63.
    const uint64_t mag = uint64_t(0) - uint64_t(step);
    len = lo > hi ? int64_t(uint64_t(lo - hi - 1) / mag + 1) : 0;
  }
  start = lo;
}

struct Plan {
  Attrs view;            // basic_index attrs
  Shape view_shape;      // shape of the basic view
  bool identity = true;  // the view is the tensor itself
  bool advanced = false;
  // Advanced part, one entry per advanced dim of the view.
  std::vector<Tensor> arrays;
  SmallVec<int64_t, 8> vdims;  // the view dim each array indexes
  SmallVec<int64_t, 8> axes;   // the tensor axis it indexes (-1: the new axis of a 0-d Bool)
  Tensor rows;                 // packed rows, shape B + (k,)
  Perm perm;                   // view -> advanced dims first (empty: identity)
  Perm place;                  // gathered (B + rest) -> numpy's result order (empty: identity)
  Shape result;                // shape of a[idx]
};

Shape index_broadcast(const std::vector<Tensor>& arrays) {
  Shape b;
  for (const Tensor& t : arrays) {
    const Shape& s = t.shape();
    Shape r(std::max(b.size(), s.size()), 1);
    bool ok = true;
    for (size_t i = 0; i < r.size(); ++i) {
      int64_t x = i < r.size() - b.size() ? 1 : b[i - (r.size() - b.size())];
      int64_t y = i < r.size() - s.size() ? 1 : s[i - (r.size() - s.size())];
      if (x != y && x != 1 && y != 1) ok = false;
      r[i] = x == 1 ? y : x;
    }
    if (!ok) {
      std::string shapes;
      for (const Tensor& u : arrays) shapes += shape_str(u.shape()) + " ";
      throw IndexError(str_cat("shape mismatch: indexing arrays could not be broadcast together with shapes ", shapes));
    }
    b = r;
  }
  return b;
}

// ---- index_pack(arrays...): integer index arrays, broadcast together, packed as the columns of
// rows B + (k,) with negatives wrapped and bounds checked. attrs.ints = the k sizes of the indexed
// dims, then the k tensor axes they belong to (for the message). Used when vmap batches an index
// array (the rows must then be computed by an op); plain arrays are packed by make_plan directly.
Tensor pack_rows_now(const std::vector<Tensor>& arrays, const Shape& b, const int64_t* dims, const int64_t* axes) {
  Shape rs = b;
  rs.push_back(int64_t(arrays.size()));
  Tensor rows = Tensor::empty(rs, DType::Int64);
  std::vector<Tensor> bc;
  for (const Tensor& t : arrays) bc.push_back(broadcast_to(t, b));
  int64_t bad = 0;
  int j = kernels::index_pack(rows, bc, dims, &bad);
  if (j >= 0) throw IndexError(str_cat("index ", bad, " is out of bounds for axis ", axes[j], " with size ", dims[j]));
  return rows;
}
TensorList pack_impl(const TensorList& in, const Attrs& a) {
  std::vector<Tensor> arrays(in.begin(), in.end());
  return {pack_rows_now(arrays, index_broadcast(arrays), a.ints.data(), a.ints.data() + in.size())};
}
// vmap: packing is elementwise over the broadcast index shape, so the elementwise rule serves
constexpr Prim kIndexPack = PrimDef("index_pack")
                                .impl(pack_impl)
                                .batch(autodiff::elementwise_batch)
                                .nondiff()
                                .api("Tensor.__getitem__ Tensor.__setitem__");

Plan make_plan(const Shape& shape, const std::vector<IndexItem>& idx) {
  Plan p;
  const int64_t nd = int64_t(shape.size());
  int64_t consumed = 0;
  bool ellipsis = false;
  for (const auto& it : idx) {
    switch (it.kind) {
      case IndexItem::Int:
      case IndexItem::Slice: ++consumed; break;
      case IndexItem::NewAxis: break;
      case IndexItem::Ellipsis:
        TG_CHECK_INDEX(!ellipsis, "an index can only have a single ellipsis ('...')");
        ellipsis = true;
        break;
      case IndexItem::Array:
        TG_CHECK_INDEX(!is_float(it.array.dtype()), "arrays used as indices must be of integer or Bool dtype, got ",
                       dtype_name(it.array.dtype()));
        // A batched (vmap) index array has no single value: it goes through the index_pack prim.
        TG_CHECK(!(it.array.dtype() == DType::Bool && autodiff::is_batched(it.array)),
                 "index: a Bool mask batched by vmap selects a different number of elements in each batch "
                 "element, so the result has no single shape; use where(mask, ...) instead");
        check_op_input(it.array, "index");
        p.advanced = true;
        consumed += it.array.dtype() == DType::Bool ? it.array.ndim() : 1;
        break;
    }
  }
  TG_CHECK_INDEX(consumed <= nd, "too many indices for tensor: tensor is ", nd, "-dimensional, but ", consumed,
                 " were indexed");

  int64_t d = 0;
  auto push = [&](int64_t kind, int64_t start, int64_t step, int64_t len) {
    p.view.ints.push_back(kind);
    p.view.ints.push_back(start);
    p.view.ints.push_back(step);
    p.view.ints.push_back(len);
    if (kind != kSlice || start != 0 || step != 1 || len != shape[size_t(d)]) p.identity = false;
    if (kind != kInt) p.view_shape.push_back(len);
  };
  auto full = [&]() {
    push(kSlice, 0, 1, shape[size_t(d)]);
    ++d;
  };
  auto new_axis = [&]() {
    p.identity = false;
    for (int64_t v : {kNew, int64_t(0), int64_t(0), int64_t(1)}) p.view.ints.push_back(v);
    p.view_shape.push_back(1);
  };
  // numpy decides adjacency on the index tuple: `...` between advanced indices separates them
  // even when it stands for no dims.
  bool split = false, ellipsis_after_adv = false;
  Tensor mask_rows;  // the coordinates of a mask's true elements: already rows
  auto adv = [&](const Tensor& a, int64_t axis) {
    if (ellipsis_after_adv) split = true;
    p.arrays.push_back(a);
    p.vdims.push_back(int64_t(p.view_shape.size()));
    p.axes.push_back(axis);
  };
  for (const auto& it : idx) {
    switch (it.kind) {
      case IndexItem::Ellipsis:
        if (!p.arrays.empty()) ellipsis_after_adv = true;
        for (int64_t k = nd - consumed; k > 0; --k) full();
        break;
      case IndexItem::NewAxis: new_axis(); break;
      case IndexItem::Int: {
        const int64_t dim = shape[size_t(d)];
        const int64_t i = it.i < 0 ? it.i + dim : it.i;
        TG_CHECK_INDEX(i >= 0 && i < dim, "index ", it.i, " is out of bounds for axis ", d, " with size ", dim);
        if (!p.advanced) {
          push(kInt, i, 0, 0);
          ++d;
        } else {  // with advanced indices, numpy treats an integer as a 0-d index array
          adv(Tensor::scalar_int(i), d);
          full();
        }
        break;
      }
      case IndexItem::Slice: {
        int64_t start, len;
        slice_bounds(it, shape[size_t(d)], start, len);
        push(kSlice, start, it.step, len);
        ++d;
        break;
      }
      case IndexItem::Array: {
        const Tensor& a = it.array;
        if (a.dtype() != DType::Bool && a.ndim() == 0 && !a.tracked()) {
          // numpy checks a 0-d index array like an integer, even when the result is empty
          const int64_t dim = shape[size_t(d)];
          const Tensor ah = a.to_device(Device::CPU);  // the host reads it (a copy only from a GPU)
          int64_t raw = 0;
          TG_DISPATCH_NUM(ah.dtype(), {
            const T v = *ah.data<T>();
            // A UInt64 beyond int64 is out of bounds of any axis: it reads as the largest int64.
            raw = std::is_unsigned<T>::value && sizeof(T) == 8 && uint64_t(v) > uint64_t(INT64_MAX) ? INT64_MAX
                                                                                                    : int64_t(v);
          });
          const int64_t i = raw < 0 ? raw + dim : raw;
          TG_CHECK_INDEX(i >= 0 && i < dim, "index ", raw, " is out of bounds for axis ", d, " with size ", dim);
          adv(Tensor::scalar_int(i), d);
          full();
        } else if (a.dtype() != DType::Bool) {
          adv(a, d);
          full();
        } else if (a.ndim() == 0) {  // x[True] / x[False]: a new axis indexed by [0] or []
          const bool on = a.item_as_double(0) != 0;
          adv(on ? Tensor::zeros(Shape{1}, DType::Int64) : Tensor::empty(Shape{0}, DType::Int64), -1);
          new_axis();
        } else {  // a mask: the coordinates of its true elements, one index array per mask dim
          const int64_t n = a.ndim();
          for (int64_t j = 0; j < n; ++j)  // numpy lets a mask dim of length 0 match any dim
            TG_CHECK_INDEX(a.shape()[size_t(j)] == 0 || a.shape()[size_t(j)] == shape[size_t(d + j)],
                           "boolean index did not match indexed tensor along axis ", d + j, "; size of axis is ",
                           shape[size_t(d + j)], " but size of corresponding boolean axis is ", a.shape()[size_t(j)]);
          const int64_t cnt = kernels::count_true(a);
          Tensor nz = Tensor::empty(Shape{cnt, n}, DType::Int64);
          kernels::nonzero(nz, a);
          mask_rows = nz;
          for (int64_t j = 0; j < n; ++j) {
            adv(nz.view_as(Shape{cnt}, Strides{n}, nz.offset() + j), d);
            full();
          }
        }
        break;
      }
    }
  }
  while (d < nd) full();
  TG_CHECK_INDEX(p.view_shape.size() <= 64, "index: the result would have ", p.view_shape.size(),
                 " dimensions (at most 64)");
  if (!p.advanced) {
    p.result = p.view_shape;
    return p;
  }

  const int64_t k = int64_t(p.arrays.size());
  Shape b;
  if (mask_rows.defined() && mask_rows.shape()[1] == k) {  // a mask is the only advanced index
    b.push_back(mask_rows.shape()[0]);
    p.rows = mask_rows;
  } else {
    // Broadcast the index arrays and pack them into rows (bounds checked, negatives wrapped).
    b = index_broadcast(p.arrays);
    Attrs pack;  // the sizes of the indexed dims, then their axes
    bool batched = false;
    for (int64_t j = 0; j < k; ++j) pack.ints.push_back(p.view_shape[size_t(p.vdims[size_t(j)])]);
    for (int64_t j = 0; j < k; ++j) {
      pack.ints.push_back(p.axes[size_t(j)]);
      batched = batched || p.arrays[size_t(j)].tracked();
    }
    if (!batched) {
      p.rows = pack_rows_now(p.arrays, b, pack.ints.data(), pack.ints.data() + k);
    } else {
      TensorList in(p.arrays.begin(), p.arrays.end());
      p.rows = autodiff::apply1(kIndexPack, in, pack);
    }
  }

  // Advanced dims first, then the others in order.
  const int64_t vn = int64_t(p.view_shape.size());
  bool front = true, adjacent = !split;
  for (int64_t i = 0; i < k; ++i) {
    if (p.vdims[size_t(i)] != i) front = false;
    if (i > 0 && p.vdims[size_t(i)] != p.vdims[size_t(i - 1)] + 1) adjacent = false;
  }
  Shape rest;
  if (!front) {
    for (int64_t v : p.vdims) p.perm.push_back(v);
  }
  for (int64_t i = 0, j2 = 0; i < vn; ++i) {
    if (j2 < k && p.vdims[size_t(j2)] == i) {
      ++j2;
      continue;
    }
    if (!front) p.perm.push_back(i);
    rest.push_back(p.view_shape[size_t(i)]);
  }
  // numpy puts the broadcast dims at the first advanced dim when the advanced dims are adjacent.
  const int64_t at = adjacent ? p.vdims[0] : 0;
  const int64_t nb = int64_t(b.size());
  if (at > 0 && nb > 0) {
    for (int64_t i = 0; i < at; ++i) p.place.push_back(nb + i);
    for (int64_t i = 0; i < nb; ++i) p.place.push_back(i);
    for (int64_t i = nb + at; i < nb + int64_t(rest.size()); ++i) p.place.push_back(i);
  }
  for (int64_t i = 0; i < at; ++i) p.result.push_back(rest[size_t(i)]);
  for (int64_t s : b) p.result.push_back(s);
  for (size_t i = size_t(at); i < rest.size(); ++i) p.result.push_back(rest[i]);
  return p;
}

Perm inverse(const Perm& p) {
  Perm inv(p.size(), 0);
  for (size_t i = 0; i < p.size(); ++i) inv[size_t(p[i])] = int64_t(i);
  return inv;
}

}  // namespace

// ---- public ops ---------------------------------------------------------------------------------

Tensor index_gather(const Tensor& x, const Tensor& idx) {
  check_rows(x, idx, "index_gather");
  if (!any_tracked(x, idx)) return gather_impl({x, idx}, Attrs())[0];
  return autodiff::apply1(kGather, {x, idx}, Attrs());
}

Tensor index_add(const Tensor& x, const Tensor& idx, const Tensor& v) {
  check_rows(x, idx, "index_add");
  TG_CHECK_SHAPE(v.shape() == value_shape(x, idx), "index_add: values of shape ", shape_str(v.shape()),
                 " do not match the indexed shape ", shape_str(value_shape(x, idx)));
  if (!any_tracked(x, idx, v)) return add_impl({x, idx, v}, Attrs())[0];
  return autodiff::apply1(kIndexAdd, {x, idx, v}, Attrs());
}

Tensor index_put(const Tensor& x, const Tensor& idx, const Tensor& v) {
  check_rows(x, idx, "index_put");
  TG_CHECK_SHAPE(v.shape() == value_shape(x, idx), "index_put: values of shape ", shape_str(v.shape()),
                 " do not match the indexed shape ", shape_str(value_shape(x, idx)));
  if (!any_tracked(x, idx, v)) return put_impl({x, idx, v}, Attrs())[0];
  return autodiff::apply1(kIndexPut, {x, idx, v}, Attrs());
}

Tensor getitem(const Tensor& a, const std::vector<IndexItem>& idx) {
  if (autodiff::traces_recording())  // tg.jit: a closed-over index array is read afresh
    for (const IndexItem& it : idx)
      if (it.kind == IndexItem::Array) autodiff::note_constant_read(it.array);
  Plan p = make_plan(a.shape(), idx);
  Tensor v = p.identity ? a : basic_index(a, p.view);
  if (!p.advanced) {
    // numpy gives a scalar (a copy) when integers index every dim; `a[..., 0]` stays a view.
    bool scalar = int64_t(idx.size()) == a.ndim();
    for (size_t i = 0; scalar && i < idx.size(); ++i) scalar = idx[i].kind == IndexItem::Int;
    if (v.tracked()) {  // Note [Views of traced values]: a scalar is a copy, the whole a is a
      if (scalar) {
        // tg.jit writes through a view of its argument into the caller's tensor: a scalar must
        // not be such a view (eager code copies it)
        if (autodiff::traces_recording()) return copy(v);
        autodiff::drop_view_link(v);
      } else if (p.identity) {
        autodiff::join_view_group(v);
      }
      return v;
    }
    return scalar ? v.clone() : v;
  }
  if (!p.perm.empty()) v = transpose(v, p.perm);
  Tensor g = index_gather(v, p.rows);
  return p.place.empty() ? g : transpose(g, p.place);
}

void setitem(Tensor& a, const std::vector<IndexItem>& idx, const Tensor& value) {
  if (!a.tracked()) check_op_input(a, "setitem");
  if (autodiff::traces_recording())  // tg.jit: a closed-over index array is read afresh
    for (const IndexItem& it : idx)
      if (it.kind == IndexItem::Array) autodiff::note_constant_read(it.array);
  Plan p = make_plan(a.shape(), idx);
  const Shape& target = p.result;
  // numpy 2 drops the imaginary part of a complex array written into a real one (a ComplexWarning;
  // a Python complex scalar is a TypeError there); tapegrad refuses every complex -> real cast
  // (docs/numpy.md, "Complex numbers"), so name the write rather than the cast inside it.
  TG_CHECK_DTYPE(!is_complex(value.dtype()) || is_complex(a.dtype()), "setitem: cannot write a ",
                 dtype_numpy_name(value.dtype()), " value into ", describe(a),
                 " (the imaginary part would be discarded); write real(z), imag(z) or abs(z), or make the "
                 "destination complex");
  Tensor v = cast(value, a.dtype());  // numpy casts the value to the destination's dtype
  // numpy drops leading size-1 dims of the value, then broadcasts it to a[idx]'s shape.
  while (v.ndim() > int64_t(target.size()) && v.shape()[0] == 1)
    v = reshape(v, Shape(v.shape().begin() + 1, v.shape().end()));
  bool ok = v.ndim() <= int64_t(target.size());
  for (int64_t i = 0; ok && i < v.ndim(); ++i) {
    int64_t s = v.shape()[size_t(i)], t = target[target.size() - size_t(v.ndim()) + size_t(i)];
    ok = s == t || s == 1;
  }
  TG_CHECK_SHAPE(ok, "setitem: could not broadcast a value of shape ", shape_str(value.shape()),
                 " into an indexed result of shape ", shape_str(target));

  if (!a.tracked() && !v.tracked() && !(p.rows.defined() && p.rows.tracked())) {
    // In place, into a's memory (and every view of it), as numpy does.
    for (int64_t i = 0; i < a.ndim(); ++i)
      TG_CHECK(a.numel() == 0 || a.shape()[size_t(i)] <= 1 || a.strides()[size_t(i)] != 0,
               "setitem: cannot write into ", describe(a), ": it is a broadcast view (axis ", i,
               " has stride 0, so its elements share memory); copy it first");
    check_op_input(v, "setitem");
    if (numel(target) == 0) return;                 // nothing to write
    if (v.storage() == a.storage()) v = v.clone();  // overlapping source: read it before writing
    a.prepare_write();
    Tensor dst = p.identity ? a : apply_view(a, p.view);
    Tensor src = broadcast_to(v, target);
    if (!p.advanced) {
      kernels::copy(dst, src);
      return;
    }
    if (!p.perm.empty()) dst = transpose(dst, p.perm);
    if (!p.place.empty()) src = transpose(src, inverse(p.place));
    kernels::index_scatter(dst, src, p.rows, false);
    return;
  }

  // tg.jit recording a function that writes into its own argument: eager code writes into the
  // caller's tensor, so do exactly that (the recording becomes impure: later calls run eagerly).
  if (a.tracked()) {
    Tensor vb = autodiff::trace_base(v);
    std::vector<IndexItem> bidx = idx;
    bool ok = vb.defined();
    for (IndexItem& it : bidx)
      if (ok && it.kind == IndexItem::Array) ok = (it.array = autodiff::trace_base(it.array)).defined();
    if (ok) {
      Tensor ab = autodiff::traced_argument_base(a);
      if (ab.defined()) {
        setitem(ab, bidx, vb);
        return;
      }
    }
  }

  // tg.jit recording: a write into a tensor the trace does not own (a Parameter an optimizer
  // updates) with a value only traces track is a side effect: done now and recorded for replays.
  if (!a.tracked() && !p.advanced && autodiff::traced_only(v)) {
    for (int64_t i = 0; i < a.ndim(); ++i)
      TG_CHECK(a.numel() == 0 || a.shape()[size_t(i)] <= 1 || a.strides()[size_t(i)] != 0,
               "setitem: cannot write into ", describe(a), ": it is a broadcast view (axis ", i,
               " has stride 0, so its elements share memory); copy it first");
    autodiff::apply(kWriteBasic, {a, v}, p.view);
    return;
  }

  // Tracked (or indices batched by vmap): a functional update, then `a` names the result.
  autodiff::note_untraced_write(a);
  autodiff::ViewWrite vw(a, value, p.identity && !p.advanced, &kBasicIndex, p.view.ints);
  Tensor src = broadcast_to(v, target);
  Tensor out;
  if (!p.advanced) {
    out = basic_put(a, src, p.view);
  } else {
    Tensor view = p.identity ? a : basic_index(a, p.view);
    if (!p.perm.empty()) view = transpose(view, p.perm);
    if (!p.place.empty()) src = transpose(src, inverse(p.place));
    Tensor upd = index_put(view, p.rows, src);
    if (!p.perm.empty()) upd = transpose(upd, inverse(p.perm));
    out = p.identity ? upd : basic_put(a, upd, p.view);
  }
  vw.done(out);
  a.rebind(out);
}

namespace {
IndexItem array_item(const Tensor& t) {
  IndexItem it;
  it.kind = IndexItem::Array;
  it.array = stop_gradient(t);
  return it;
}
}  // namespace

Tensor take(const Tensor& a, const Tensor& indices_in, int64_t axis, bool flatten) {
  Tensor indices = stop_gradient(indices_in);
  TG_CHECK_TYPE(!is_float(indices.dtype()), "take: indices must be integers, got ", describe(indices));
  if (indices.dtype() == DType::Bool) indices = cast(indices, DType::Int64);  // numpy casts safely
  if (flatten) return getitem(reshape(a, Shape{a.numel()}), {array_item(indices)});
  const int64_t ax = norm_axis(axis, a.ndim(), "take");
  std::vector<IndexItem> items(static_cast<size_t>(ax));
  for (auto& it : items) it.kind = IndexItem::Slice;
  items.push_back(array_item(indices));
  return getitem(a, items);
}

Tensor take_along_axis(const Tensor& a_in, const Tensor& indices_in, int64_t axis, bool flatten) {
  Tensor indices = stop_gradient(indices_in);
  TG_CHECK_INDEX(is_int(indices.dtype()), "take_along_axis: `indices` must be an integer tensor, got ",
                 describe(indices));
  Tensor a = a_in;
  if (flatten) {
    TG_CHECK(indices.ndim() == 1, "take_along_axis: when axis=None, `indices` must have a single dimension, got ",
             describe(indices));
    a = reshape(a, Shape{a.numel()});
    axis = 0;
  }
  TG_CHECK(indices.ndim() == a.ndim(),
           "take_along_axis: `indices` and `arr` must have the same number of dimensions, got ", describe(indices),
           " and ", describe(a));
  const int64_t nd = a.ndim();
  const int64_t ax = norm_axis(axis, nd, "take_along_axis");
  // a[arange(n0)[:, None, ...], ..., indices, ..., arange(nk)[..., None]]: every index advanced.
  std::vector<IndexItem> items;
  for (int64_t i = 0; i < nd; ++i) {
    if (i == ax) {
      items.push_back(array_item(indices));
      continue;
    }
    const int64_t n = a.shape()[size_t(i)];
    Tensor r = arange(0, double(n), 1, DType::Int64);
    Shape s(size_t(nd), 1);
    Strides st(size_t(nd), 0);
    s[size_t(i)] = n;
    st[size_t(i)] = 1;
    items.push_back(array_item(r.view_as(s, st, r.offset())));
  }
  return getitem(a, items);
}

Tensor one_hot(const Tensor& indices_in, int64_t depth, const Tensor& on_value, const Tensor& off_value, int64_t axis) {
  Tensor indices = stop_gradient(indices_in);
  TG_CHECK_TYPE(is_int(indices.dtype()), "one_hot: indices must be an integer tensor, got ", describe(indices));
  TG_CHECK(depth >= 0, "one_hot: depth must be non-negative, got ", depth);
  TG_CHECK(on_value.ndim() == 0 && off_value.ndim() == 0, "one_hot: on_value and off_value must be scalars, got ",
           describe(on_value), " and ", describe(off_value));
  const int64_t nd = indices.ndim() + 1;
  TG_CHECK_INDEX(axis >= -1 && axis < nd, "one_hot: axis ", axis, " is out of bounds for an output of dimension ", nd);
  const int64_t ax = axis < 0 ? nd - 1 : axis;
  // (indices expanded at axis) == arange(depth) laid along axis
  Tensor e = expand_dims(indices, ax);
  Tensor r = arange(0, double(depth), 1, indices.dtype());
  Shape s(size_t(nd - ax), 1);
  s[0] = depth;
  Tensor hit = eq(e, reshape(r, s));
  return where(hit, on_value, cast(off_value, on_value.dtype()));
}

Tensor one_hot(const Tensor& indices, int64_t depth, DType dt) {
  return one_hot(indices, depth, Tensor::scalar(1, dt), Tensor::scalar(0, dt), -1);
}

void add_index_prims(PrimRegistry& r) {
  for (const Prim* p :
       {&kBasicIndex, &kBasicPut, &kWriteBasic, &kGather, &kIndexAdd, &kLastWriter, &kIndexPut, &kIndexPack})
    r.push_back(p);
}

}  // namespace ops
}  // namespace tapegrad
