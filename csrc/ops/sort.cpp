// Sorting: argsort (non-differentiable), sort (differentiable as a gather by argsort) and the
// permutation-gather prim behind it, whose transpose is the gather by the inverse permutation.
#include "autodiff/batching.h"
#include "kernels/kernels_extra.h"
#include "ops/ops.h"

namespace tapegrad {
namespace ops {

namespace {

// Sorting float16 goes through float32 (same order).
Tensor sortable(const Tensor& x) { return x.dtype() == DType::Float16 ? x.to(DType::Float32) : x.contiguous(); }

// argsort: attrs ints[0] = axis (normalised), flag = descending.
TensorList argsort_impl(const TensorList& in, const Attrs& a) {
  check_op_input(in[0], "argsort");
  Tensor idx = Tensor::empty(in[0].shape(), DType::Int64, in[0].device());
  kernels::sort(Tensor(), idx, sortable(in[0]), a.ints[0], a.flag != 0);
  return {idx};
}
// vmap: the batch axis first, the sorted axis shifted past it
constexpr Prim kArgsort =
    PrimDef("argsort").impl(argsort_impl).batch(autodiff::one_axis_batch).nondiff().api("argsort sort");

TensorList sort_values_impl(const TensorList& in, const Attrs& a) {
  check_op_input(in[0], "sort");
  Tensor x = sortable(in[0]);
  Tensor v = Tensor::empty(x.shape(), x.dtype(), x.device());
  kernels::sort(v, Tensor(), x, a.ints[0], a.flag != 0);
  return {v.dtype() == in[0].dtype() ? v : v.to(in[0].dtype())};
}

// permute_along: inputs (x, idx Int64 of x's shape), attrs ints[0] = axis.
TensorList permute_impl(const TensorList& in, const Attrs& a) {
  check_op_input(in[0], "sort");
  Tensor out = Tensor::empty(in[1].shape(), in[0].dtype(), in[0].device());
  kernels::gather_axis(out, in[0].contiguous(), in[1].contiguous(), a.ints[0]);
  return {out};
}
Tensor inverse_permutation(const Tensor& idx, int64_t axis) {
  Tensor i = autodiff::strip(idx);
  // Batched by vmap: the stable argsort of a permutation is its inverse.
  if (i.tracked()) {
    Attrs at;
    at.ints.push_back(axis);
    return autodiff::apply1(kArgsort, {i}, at);
  }
  i = i.contiguous();
  Tensor inv = Tensor::empty(i.shape(), DType::Int64, i.device());
  kernels::invert_permutation(inv, i, axis);
  return inv;
}
// permute'^T g = g gathered by the inverse permutation (a permutation's transpose)
TensorList permute_vjp(const TensorList& g, const TensorList& in, const TensorList&, const Attrs& a, uint32_t) {
  return {permute_along(g[0], inverse_permutation(in[1], a.ints[0]), a.ints[0]), Tensor()};
}
TensorList permute_jvp(const TensorList& t, const TensorList& in, const TensorList&, const Attrs& a) {
  return {t[0].defined() ? permute_along(t[0], in[1], a.ints[0]) : Tensor()};
}
// vmap: values and indices with the batch axis first (an unbatched one broadcast), axis + 1
constexpr Prim kPermute = PrimDef("permute_along")
                              .impl(permute_impl)
                              .vjp(permute_vjp)
                              .jvp(permute_jvp)
                              .batch(autodiff::shared_axis_batch)
                              .api("sort");

// (x, attrs) for sort/argsort: flattened for axis=None, axis checked.
std::pair<Tensor, Attrs> sort_args(const Tensor& a, int64_t axis, bool descending, bool flatten, const char* name) {
  Tensor x = flatten ? reshape(a, Shape{a.numel()}) : a;
  if (flatten) axis = 0;
  TG_CHECK_INDEX(x.ndim() > 0, name, ": axis ", axis, " is out of bounds for a tensor of dimension 0");
  Attrs at;
  at.ints.push_back(norm_axis(axis, x.ndim(), name));
  at.flag = descending;
  return {x, at};
}

}  // namespace

Tensor argsort(const Tensor& a, int64_t axis, bool descending, bool flatten) {
  auto xa = sort_args(a, axis, descending, flatten, "argsort");
  if (!any_tracked(xa.first)) return argsort_impl({xa.first}, xa.second)[0];
  return autodiff::apply1(kArgsort, {xa.first}, xa.second);
}

Tensor sort(const Tensor& a, int64_t axis, bool descending, bool flatten) {
  auto xa = sort_args(a, axis, descending, flatten, "sort");
  const Tensor& x = xa.first;
  if (!any_tracked(x)) return sort_values_impl({x}, xa.second)[0];
  // sort(x) = x gathered by argsort(x): the permutation is a constant of x's derivatives. (The
  // argsort goes through dispatch: under vmap x is batched.)
  Tensor idx = autodiff::apply1(kArgsort, {autodiff::strip(x)}, xa.second);
  return permute_along(x, idx, xa.second.ints[0]);
}

Tensor permute_along(const Tensor& a, const Tensor& idx, int64_t axis) {
  TG_CHECK_DTYPE(idx.dtype() == DType::Int64, "permute_along: indices must be Int64, got ", describe(idx));
  TG_CHECK_SHAPE(idx.shape() == a.shape(), "permute_along: indices of shape ", shape_str(idx.shape()),
                 " do not match a tensor of shape ", shape_str(a.shape()));
  const int64_t k = norm_axis(axis, a.ndim(), "permute_along");
  Attrs at;
  at.ints.push_back(k);
  Tensor i = autodiff::strip(idx);
  if (!any_tracked(a, i)) return permute_impl({a, i}, at)[0];
  return autodiff::apply1(kPermute, {a, i}, at);
}

void add_sort_prims(PrimRegistry& r) {
  for (const Prim* p : {&kArgsort, &kPermute}) r.push_back(p);
}

}  // namespace ops
}  // namespace tapegrad
