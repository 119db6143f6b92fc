// The calls a lower layer makes into a higher one, as tables of function pointers (Note [Layer hooks]).
#pragma once
#include <cstdint>
#include <vector>

#include "core/small_vec.h"
#include "core/tensor.h"

namespace tapegrad {

// Note [Layer hooks]
// ~~~~~~~~~~~~~~~~~~
// csrc/ is layered, each layer including only those below it (docs/architecture.md, Layers;
// tools/check_layers.py enforces it):  bindings -> transforms -> ops -> autodiff -> kernels -> core.
// Two lower layers still run code of higher ones. They call it through the tables below, declared
// here and filled by the higher layer while the module loads (a static initializer in that layer,
// like detail::g_traced_read_hook in core/tensor.h): the dependency is on a signature, not on a
// header, and each call is one indirect call (no lookup, no allocation).
// * KernelHooks: Tensor::full, clone and to (core) fill and copy through the kernels; filled by
//   kernels/dispatch.cpp, so they take the device routing of every other kernel call.
// * OpHooks: autodiff's level machinery and batching helpers are written with ops (the reverse
//   sweep accumulates, sums broadcast cotangents back and casts them; the forward level broadcasts
//   tangents; the batching helpers move and broadcast batch axes; the vmap fallback selects batch
//   elements and stacks the results). Those ops must go through autodiff::apply, so that outer
//   levels record them: the ops layer's own functions are what the table holds. Filled by
//   ops/layer_hooks.cpp.
// Until filled, each entry is a stub that throws (a program linking core without the layer
// that fills it gets an error, not a crash).

namespace detail {
[[noreturn]] void layer_hook_missing();
template <class F>
struct MissingHook;
template <class R, class... A>
struct MissingHook<R (*)(A...)> {
  static R fn(A...) { layer_hook_missing(); }
};
template <class F>
constexpr F missing_hook = MissingHook<F>::fn;
}  // namespace detail

struct KernelHooks {
  using Fill = void (*)(const Tensor& out, double value);
  using Copy = void (*)(const Tensor& out, const Tensor& src);  // src converted to out's dtype
  Fill fill = detail::missing_hook<Fill>;
  Copy copy = detail::missing_hook<Copy>;
};
extern KernelHooks g_kernel_hooks;

struct OpHooks {
  using Unary = Tensor (*)(const Tensor& a);
  using Binary = Tensor (*)(const Tensor& a, const Tensor& b);
  using WithShape = Tensor (*)(const Tensor& a, const Shape& shape);
  using Cast = Tensor (*)(const Tensor& a, DType dt);
  using Transpose = Tensor (*)(const Tensor& a, const SmallVec<int64_t, 6>& perm);
  using Select = Tensor (*)(const Tensor& a, int64_t axis, int64_t index);
  using Join = Tensor (*)(const std::vector<Tensor>& xs, int64_t axis);
  using ArangeInt = Tensor (*)(int64_t start, int64_t stop, int64_t step, DType dt);
  Binary add = detail::missing_hook<Binary>;
  Unary zeros_like = detail::missing_hook<Unary>;
  Unary ones_like = detail::missing_hook<Unary>;
  WithShape sum_to = detail::missing_hook<WithShape>;  // sum broadcast axes back to `shape`
  WithShape broadcast_to = detail::missing_hook<WithShape>;
  WithShape reshape = detail::missing_hook<WithShape>;
  Cast cast = detail::missing_hook<Cast>;
  Transpose transpose = detail::missing_hook<Transpose>;
  Select select = detail::missing_hook<Select>;  // a[:, ..., :, index] with `axis` full slices first
  Join stack = detail::missing_hook<Join>;
  Join concatenate = detail::missing_hook<Join>;
  ArangeInt arange_int = detail::missing_hook<ArangeInt>;
};
extern OpHooks g_op_hooks;

}  // namespace tapegrad
