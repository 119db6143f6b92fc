// Batching rules (vmap): how each prim runs once on values that carry a batch axis.
// Rules receive physical values and their batch axes (-1 = not batched) and return physical
// outputs with their batch axes. Prims without a rule fall back to a loop (levels.cpp).
#include <mutex>
#include <string>
#include <unordered_map>

#include "autodiff/levels.h"
#include "ops/ops.h"

namespace tapegrad {
namespace autodiff {
namespace {

int64_t logical_rank(const Tensor& x, int32_t bdim) { return x.ndim() - (bdim >= 0 ? 1 : 0); }

// Batch axis to the front; then pad with size-1 axes after it to logical rank `rank`.
Tensor to_front(const Tensor& x, int32_t bdim, int64_t rank) {
  Tensor y = move_axis(x, bdim, 0);
  int64_t lr = y.ndim() - 1;
  if (lr >= rank) return y;
  Shape s;
  s.push_back(y.shape()[0]);
  for (int64_t i = 0; i < rank - lr; ++i) s.push_back(1);
  for (int64_t i = 1; i < y.ndim(); ++i) s.push_back(y.shape()[size_t(i)]);
  return ops::reshape(y, s);
}

// Elementwise ops (any number of inputs, numpy broadcasting): align every batched input as
// (B, 1..., logical shape) and let broadcasting do the rest.
TensorList elementwise_rule(const Prim& p, const TensorList& in, const SmallVec<int32_t, 4>& bd, const Attrs& a,
                            int64_t, SmallVec<int32_t, 4>& obd) {
  int64_t rank = 0;
  for (size_t i = 0; i < in.size(); ++i)
    if (in[i].defined()) rank = std::max(rank, logical_rank(in[i], bd[i]));
  TensorList xs;
  for (size_t i = 0; i < in.size(); ++i) xs.push_back(bd[i] >= 0 ? to_front(in[i], bd[i], rank) : in[i]);
  TensorList out = apply(p, xs, a);
  for (size_t j = 0; j < out.size(); ++j) obd.push_back(0);
  return out;
}

// sum: attrs.ints[0] is the mask of reduced logical axes; shift it past the batch axis at 0.
TensorList sum_rule(const Prim& p, const TensorList& in, const SmallVec<int32_t, 4>& bd, const Attrs& a, int64_t,
                    SmallVec<int32_t, 4>& obd) {
  Tensor x = move_axis(in[0], bd[0], 0);
  Attrs b = a;
  b.ints[0] = int64_t(uint64_t(a.ints[0]) << 1);
  obd.push_back(0);
  return apply(p, {x}, b);
}

// Ops along one axis given as attrs.ints[0] (softmax, log_softmax).
TensorList axis_rule(const Prim& p, const TensorList& in, const SmallVec<int32_t, 4>& bd, const Attrs& a, int64_t,
                     SmallVec<int32_t, 4>& obd) {
  Tensor x = move_axis(in[0], bd[0], 0);
  Attrs b = a;
  b.ints[0] = a.ints[0] + 1;
  obd.push_back(0);
  return apply(p, {x}, b);
}

// Ops whose attrs.ints is a full logical shape (reshape, broadcast_to): prepend the batch size.
TensorList shape_attr_rule(const Prim& p, const TensorList& in, const SmallVec<int32_t, 4>& bd, const Attrs& a,
                           int64_t size, SmallVec<int32_t, 4>& obd) {
  int64_t rank = int64_t(a.ints.size());
  Tensor x = std::string(p.name) == "broadcast_to" ? to_front(in[0], bd[0], rank) : move_axis(in[0], bd[0], 0);
  Attrs b = a;
  b.ints.insert(0, size);
  obd.push_back(0);
  return apply(p, {x}, b);
}

// transpose: attrs.ints is a permutation of the logical axes.
TensorList transpose_rule(const Prim& p, const TensorList& in, const SmallVec<int32_t, 4>& bd, const Attrs& a,
                          int64_t, SmallVec<int32_t, 4>& obd) {
  Tensor x = move_axis(in[0], bd[0], 0);
  Attrs b = a;
  b.ints.clear();
  b.ints.push_back(0);
  for (int64_t v : a.ints) b.ints.push_back(v + 1);
  obd.push_back(0);
  return apply(p, {x}, b);
}

// matmul (numpy semantics, attrs unused): with the batch axis in front, numpy's batched matmul does
// the work whenever the batch axis lands among the broadcast batch dims. The cases where a batched
// operand is 1-d on the right, or where an unbatched operand carries batch dims against a 1-d batched
// left operand, go to the loop.
TensorList matmul_rule(const Prim& p, const TensorList& in, const SmallVec<int32_t, 4>& bd, const Attrs& a,
                       int64_t size, SmallVec<int32_t, 4>& obd) {
  const int64_t ra = logical_rank(in[0], bd[0]), rb = logical_rank(in[1], bd[1]);
  bool ok = false;
  if (ra >= 2 && rb >= 2) ok = true;                 // (B, .., m, k) @ (.., k, n)
  else if (ra == 1 && bd[0] >= 0 && bd[1] < 0) ok = in[1].ndim() <= 2;  // (B, k) @ (k[, n])
  else if (ra == 1 && bd[0] < 0 && rb >= 2) ok = true;   // (k,) @ (B, .., k, n)
  else if (ra >= 2 && rb == 1 && bd[1] < 0) ok = true;   // (B, .., m, k) @ (k,)
  if (!ok) return {};
  const int64_t rank = std::max(ra, rb);
  TensorList xs;
  for (size_t i = 0; i < 2; ++i) {
    const int64_t r = i == 0 ? ra : rb;
    xs.push_back(bd[i] >= 0 ? to_front(in[i], bd[i], r >= 2 ? rank : r) : in[i]);
  }
  obd.push_back(0);
  return apply(p, xs, a);
}

const std::unordered_map<std::string, BatchRule>& rules() {
  static const auto* m = [] {
    auto* r = new std::unordered_map<std::string, BatchRule>();
    const char* elementwise[] = {
        "add", "sub", "mul", "div", "floor_divide", "mod", "pow", "maximum", "minimum", "arctan2",
        "bitwise_and", "bitwise_or", "bitwise_xor", "where", "cast", "copy", "stop_gradient",
#define TG_NAME(N) #N,
        TG_UNARY_KERNELS(TG_NAME) TG_COMPARE_KERNELS(TG_NAME) TG_PREDICATE_KERNELS(TG_NAME)
#undef TG_NAME
    };
    for (const char* n : elementwise) (*r)[n] = elementwise_rule;
    for (const char* n : {"sum", "prod", "amax", "amin"}) (*r)[n] = sum_rule;  // ints[0]: axes mask
    (*r)["softmax"] = axis_rule;
    (*r)["log_softmax"] = axis_rule;
    (*r)["reshape"] = shape_attr_rule;
    (*r)["broadcast_to"] = shape_attr_rule;
    (*r)["transpose"] = transpose_rule;
    (*r)["matmul"] = matmul_rule;
    return r;
  }();
  return *m;
}

}  // namespace

BatchRule batch_rule_for(const Prim& p) {
  thread_local std::unordered_map<const Prim*, BatchRule> cache;
  auto it = cache.find(&p);
  if (it != cache.end()) return it->second;
  auto jt = rules().find(p.name);
  BatchRule r = jt == rules().end() ? nullptr : jt->second;
  cache.emplace(&p, r);
  return r;
}

}  // namespace autodiff
}  // namespace tapegrad
