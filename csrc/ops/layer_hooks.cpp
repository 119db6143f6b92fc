// Fills OpHooks (Note [Layer hooks], core/layer_hooks.h): the ops autodiff's levels and batching
// helpers run, which sit below ops and so cannot include them.
#include "core/layer_hooks.h"

#include <vector>

#include "ops/ops.h"

namespace tapegrad {
namespace ops {
namespace {

// The vmap fallback's batch element: a[:, ..., :, index] with `axis` full slices first.
Tensor select(const Tensor& a, int64_t axis, int64_t index) {
  std::vector<IndexItem> idx;
  for (int64_t k = 0; k < axis; ++k) {
    IndexItem it;
    it.kind = IndexItem::Slice;
    idx.push_back(it);
  }
  IndexItem it;
  it.kind = IndexItem::Int;
  it.i = index;
  idx.push_back(it);
  return getitem(a, idx);
}

struct InstallOpHooks {
  InstallOpHooks() {
    OpHooks& h = g_op_hooks;
    h.add = [](const Tensor& a, const Tensor& b) { return add(a, b); };
    h.zeros_like = [](const Tensor& a) { return zeros_like(a); };
    h.ones_like = [](const Tensor& a) { return ones_like(a); };
    h.sum_to = [](const Tensor& a, const Shape& s) { return sum_to(a, s); };
    h.broadcast_to = [](const Tensor& a, const Shape& s) { return broadcast_to(a, s); };
    h.reshape = [](const Tensor& a, const Shape& s) { return reshape(a, s); };
    h.cast = [](const Tensor& a, DType dt) { return cast_any(a, dt); };
    h.transpose = [](const Tensor& a, const SmallVec<int64_t, 6>& perm) { return transpose(a, perm); };
    h.select = select;
    h.stack = [](const std::vector<Tensor>& xs, int64_t axis) { return stack(xs, axis); };
    h.concatenate = [](const std::vector<Tensor>& xs, int64_t axis) { return concatenate(xs, axis); };
    h.arange_int = [](int64_t start, int64_t stop, int64_t step, DType dt) {
      return arange_int(start, stop, step, dt);
    };
  }
} g_install_op_hooks;

}  // namespace
}  // namespace ops
}  // namespace tapegrad
