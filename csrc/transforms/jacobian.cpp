// Jacobians by one batched sweep: see Note [Jacobians] in transforms/jacobian.h.
#include "transforms/jacobian.h"

#include <memory>

#include "autodiff/levels.h"
#include "ops/ops.h"

namespace tapegrad {
namespace transforms {

using namespace autodiff;  // the levels these transforms push

namespace {

Shape concat_shapes(const Shape& a, const Shape& b) {
  Shape s = a;
  for (int64_t d : b) s.push_back(d);
  return s;
}

Shape with_front(int64_t n, const Shape& s) {
  Shape r;
  r.push_back(n);
  for (int64_t d : s) r.push_back(d);
  return r;
}

// The columns [offset, offset + shape.numel) of the n x n identity as a batch of n values of
// `shape`: physical shape (n, *shape).
Tensor basis_block(int64_t n, int64_t offset, const Shape& shape, DType dt) {
  return ops::reshape(ops::eye(n, numel(shape), -offset, dt), with_front(n, shape));
}

// Rows [start, start + len) of `t` along axis 0 (a view).
Tensor rows(const Tensor& t, int64_t start, int64_t len) {
  if (start == 0 && len == t.shape()[0]) return t;
  ops::IndexItem it;
  it.kind = ops::IndexItem::Slice;
  it.start = start;
  it.stop = start + len;
  it.has_start = it.has_stop = true;
  return ops::getitem(t, {it});
}

DType basis_dtype(const TensorList& ts) {
  for (const Tensor& t : ts)
    if (is_float(t.dtype())) return t.dtype();
  return DType::Float32;
}

Tensor unwrap_at(const Tensor& t, uint64_t level_id) {
  LevelMeta* m = meta_at(t, level_id);
  return m ? m->primal : t;
}

}  // namespace

Tensor drop_stale(const Tensor& t) {
  Tensor cur = t;
  while (cur.defined() && cur.tracked()) {
    auto* m = static_cast<LevelMeta*>(cur.ad());
    if (m->bdim >= 0 || depth_of(m->level_id) >= 0) break;
    Tensor inner = m->primal;
    cur = std::move(inner);
  }
  return cur;
}

std::vector<TensorList> jacrev(const FlatFn& f, const TensorList& xs, TensorList* values) {
  auto level = std::make_shared<ReverseLevel>();
  TensorList tracked;
  for (const Tensor& x : xs) tracked.push_back(level->track(x));
  TensorList outs;
  {
    ScopedLevel scope(level);
    outs = f(tracked);
    scope.pop();
  }
  if (values) {
    values->clear();
    for (const Tensor& o : outs) values->push_back(unwrap_at(o, level->id()));
  }
  int64_t total = 0;
  for (const Tensor& o : outs) total += o.numel();
  std::vector<TensorList> jac(outs.size());
  if (total == 0) {
    for (size_t k = 0; k < outs.size(); ++k)
      for (const Tensor& x : xs) jac[k].push_back(ops::zeros(concat_shapes(outs[k].shape(), x.shape()), x.dtype()));
    return jac;
  }
  // One sweep, its cotangent the M x M identity split into one block per output.
  const DType dt = basis_dtype(outs);
  auto batch = std::make_shared<BatchLevel>(total);
  TensorList grads;
  {
    ScopedLevel scope(batch);
    TensorList cots;
    int64_t off = 0;
    for (const Tensor& o : outs) {
      const DType odt = is_inexact(o.dtype()) ? o.dtype() : dt;  // complex outputs: complex seeds
      cots.push_back(batch->track(basis_block(total, off, o.shape(), odt), 0));
      off += o.numel();
    }
    grads = level->backward(outs, cots, tracked);
    for (Tensor& g : grads) g = batch->unwrap(g, 0);  // (M, *x.shape)
    scope.pop();
  }
  int64_t off = 0;
  for (size_t k = 0; k < outs.size(); ++k) {
    const int64_t m = outs[k].numel();
    for (size_t j = 0; j < xs.size(); ++j)
      jac[k].push_back(ops::reshape(rows(grads[j], off, m), concat_shapes(outs[k].shape(), xs[j].shape())));
    off += m;
  }
  return jac;
}

std::vector<TensorList> jacfwd(const FlatFn& f, const TensorList& xs, TensorList* values) {
  int64_t total = 0;
  for (const Tensor& x : xs) total += x.numel();
  auto fwd = std::make_shared<ForwardLevel>();
  TensorList outs, tangents;
  if (total == 0) {
    ScopedLevel scope(fwd);
    outs = f(xs);
    scope.pop();
  } else {
    // The identity's columns as batched tangents: input j gets columns [off_j, off_j + n_j).
    auto batch = std::make_shared<BatchLevel>(total);
    ScopedLevel bscope(batch);
    TensorList tracked;
    int64_t off = 0;
    for (const Tensor& x : xs) {
      Tensor t = batch->track(basis_block(total, off, x.shape(), x.dtype()), 0);
      tracked.push_back(fwd->track(x, t));
      off += x.numel();
    }
    {
      ScopedLevel scope(fwd);
      outs = f(tracked);
      scope.pop();
    }
    for (const Tensor& o : outs) tangents.push_back(batch->unwrap(fwd->tangent_of(o), 0));  // (N, *o.shape)
    bscope.pop();
  }
  TensorList vals;
  for (const Tensor& o : outs) vals.push_back(unwrap_at(o, fwd->id()));
  std::vector<TensorList> jac(outs.size());
  for (size_t k = 0; k < outs.size(); ++k) {
    const Shape& os = vals[k].shape();
    if (total == 0 || !is_inexact(vals[k].dtype())) {
      for (const Tensor& x : xs) jac[k].push_back(ops::zeros(concat_shapes(os, x.shape()), x.dtype()));
      continue;
    }
    // (N, *out.shape) -> (*out.shape, N), then input j's columns.
    SmallVec<int64_t, 6> perm;
    for (int64_t i = 1; i <= int64_t(os.size()); ++i) perm.push_back(i);
    perm.push_back(0);
    int64_t off = 0;
    for (const Tensor& x : xs) {
      const int64_t n = x.numel();
      Tensor block = ops::transpose(rows(tangents[k], off, n), perm);
      block = ops::reshape(block, concat_shapes(os, x.shape()));
      // A complex output of a real input keeps its complex Jacobian (JAX's jacfwd).
      if (block.dtype() != x.dtype() && !(is_complex(block.dtype()) && !is_complex(x.dtype())))
        block = ops::cast(block, x.dtype());
      jac[k].push_back(block);
      off += n;
    }
  }
  if (values) *values = std::move(vals);
  return jac;
}

}  // namespace transforms
}  // namespace tapegrad
