// Indexing prims. Basic indexing (ints, slices, None, ...) makes views; advanced indexing gathers.
#include "ops/index.h"

#include "ops/ops.h"

namespace tapegrad {
namespace ops {

namespace {

// Resolve the basic part of an index into a view description.
struct BasicView {
  Shape shape;
  Strides strides;
  int64_t offset = 0;
};

int64_t count_consumed(const std::vector<IndexItem>& idx) {
  int64_t n = 0;
  for (const auto& it : idx)
    if (it.kind == IndexItem::Int || it.kind == IndexItem::Slice) ++n;
    else if (it.kind == IndexItem::Array) n += it.array.dtype() == DType::Bool ? std::max<int64_t>(it.array.ndim(), 1) : 1;
  return n;
}

void slice_bounds(const IndexItem& it, int64_t dim, int64_t& start, int64_t& len) {
  int64_t step = it.step;
  int64_t lo, hi;
  if (step > 0) {
    lo = it.has_start ? it.start : 0;
    hi = it.has_stop ? it.stop : dim;
    if (lo < 0) lo += dim;
    if (hi < 0) hi += dim;
    lo = std::min(std::max<int64_t>(lo, 0), dim);
    hi = std::min(std::max<int64_t>(hi, 0), dim);
    len = hi > lo ? (hi - lo + step - 1) / step : 0;
  } else {
    lo = it.has_start ? it.start : dim - 1;
    hi = it.has_stop ? it.stop : -dim - 1;
    if (lo < 0) lo += dim;
    if (it.has_stop && hi < 0) hi += dim;
    if (!it.has_stop) hi = -1;
    lo = std::min(std::max<int64_t>(lo, -1), dim - 1);
    hi = std::min(std::max<int64_t>(hi, -1), dim - 1);
    len = lo > hi ? (lo - hi + (-step) - 1) / (-step) : 0;
  }
  start = lo;
}

BasicView basic_view(const Tensor& a, const std::vector<IndexItem>& idx) {
  BasicView v;
  v.offset = a.offset();
  const int64_t nd = a.ndim();
  int64_t consumed = count_consumed(idx);
  TG_CHECK_INDEX(consumed <= nd, "index: too many indices for a tensor of dimension ", nd, " (got ", consumed, ")");
  int64_t d = 0;
  bool seen_ellipsis = false;
  for (const auto& it : idx) {
    switch (it.kind) {
      case IndexItem::Ellipsis: {
        TG_CHECK_INDEX(!seen_ellipsis, "index: an index can only have a single ellipsis ('...')");
        seen_ellipsis = true;
        int64_t fill = nd - consumed;
        for (int64_t k = 0; k < fill; ++k, ++d) {
          v.shape.push_back(a.shape()[size_t(d)]);
          v.strides.push_back(a.strides()[size_t(d)]);
        }
        break;
      }
      case IndexItem::NewAxis:
        v.shape.push_back(1);
        v.strides.push_back(0);
        break;
      case IndexItem::Int: {
        int64_t dim = a.shape()[size_t(d)];
        int64_t i = it.i < 0 ? it.i + dim : it.i;
        TG_CHECK_INDEX(i >= 0 && i < dim, "index ", it.i, " is out of bounds for axis ", d, " with size ", dim);
        v.offset += i * a.strides()[size_t(d)];
        ++d;
        break;
      }
      case IndexItem::Slice: {
        int64_t dim = a.shape()[size_t(d)], start, len;
        slice_bounds(it, dim, start, len);
        v.shape.push_back(len);
        v.strides.push_back(a.strides()[size_t(d)] * it.step);
        if (len > 0) v.offset += start * a.strides()[size_t(d)];
        ++d;
        break;
      }
      case IndexItem::Array:
        throw IndexError("index: integer and Bool array indices are not supported yet");
    }
  }
  for (; d < nd; ++d) {
    v.shape.push_back(a.shape()[size_t(d)]);
    v.strides.push_back(a.strides()[size_t(d)]);
  }
  return v;
}

}  // namespace

Tensor getitem(const Tensor& a, const std::vector<IndexItem>& idx) {
  check_has_data(a, "getitem");
  BasicView v = basic_view(autodiff::strip(a), idx);
  TG_CHECK_T(ValueError, !a.tracked(), "getitem on tracked tensors is not supported yet");
  return a.view_as(v.shape, v.strides, v.offset);
}

void setitem(Tensor& a, const std::vector<IndexItem>& idx, const Tensor& v) {
  TG_CHECK_T(ValueError, !a.tracked() && !v.tracked(), "setitem on tracked tensors is not supported yet");
  BasicView bv = basic_view(a, idx);
  Tensor dst = a.view_as(bv.shape, bv.strides, bv.offset);
  Shape bs = broadcast_shapes(dst.shape(), v.shape(), "setitem");
  TG_CHECK_SHAPE(bs == dst.shape(), "setitem: could not broadcast a value of shape ", shape_str(v.shape()),
                 " into an indexed result of shape ", shape_str(dst.shape()));
  a.prepare_write();
  kernels::copy(dst, broadcast_to(v, dst.shape()));
}

}  // namespace ops
}  // namespace tapegrad
