// Jacobians by one batched sweep: see Note [Jacobians] in transforms/jacobian.h.
#include "transforms/jacobian.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>

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

// Note [Jacobian seed cache]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~
// The identity a Jacobian seeds its sweep with is a full pass over an n x n buffer (zero-fill and
// diagonal), as expensive as one of the sweep's own elementwise passes: at n = 1000 it is a fifth
// of an eager jacrev of an elementwise function. The same Jacobian is usually taken many times at
// one size (an optimiser's or a solver's loop), so the last seed built is kept and handed out
// again. A seed is an input of the sweep only: no op writes into its operands, and the storage's
// version counter (bumped by every in-place write) is checked before reuse all the same. A
// Jacobian that is (a view of) the seed itself, as for f(x) = x, is copied before it is returned,
// so that results never share memory with the cache or with one another. Only at top level (no
// transform level active, no tg.jit trace recording: a trace must record the eye op it replays)
// and only up to kSeedCacheElems elements, so the cache holds at most a few tens of MB. Blocks of at
// least kLazyIdentityMinElems real elements are seeded lazily instead (Note [Lazy identity batches]),
// with no identity to build: the cache serves the smaller ones, complex seeds and traces.
constexpr int64_t kSeedCacheElems = int64_t(1) << 22;

struct SeedCache {
  std::mutex mu;
  int64_t n = -1, m = -1, k = 0;
  DType dt = DType::Float32;
  Tensor eye;
  uint32_t version = 0;
  // eye's storage, for detach_from_seed's test without the lock: while it is set, `eye` holds the
  // storage, so no other live storage has its address.
  std::atomic<const Storage*> storage{nullptr};
};

SeedCache& seed_cache() {
  static SeedCache* c = new SeedCache;  // never destroyed: it may outlive the allocator at exit
  return *c;
}

// Whether this Jacobian may take its seed from the cache: no level active (the Jacobian's own are
// not pushed yet) and no trace recording.
bool seed_cacheable() { return !any_level_active() && !traces_recording(); }

// eye(n, m, k, dt), from the cache when `cached` and small enough.
Tensor identity_seed(int64_t n, int64_t m, int64_t k, DType dt, bool cached) {
  if (!cached || n > kSeedCacheElems / std::max<int64_t>(m, 1)) return ops::eye(n, m, k, dt);
  SeedCache& c = seed_cache();
  std::lock_guard<std::mutex> g(c.mu);
  if (c.eye.defined() && c.n == n && c.m == m && c.k == k && c.dt == dt &&
      c.eye.storage()->version.load(std::memory_order_acquire) == c.version)
    return c.eye;
  c.storage.store(nullptr, std::memory_order_release);
  c.eye = Tensor();  // release the old seed before building the new one
  Tensor e = ops::eye(n, m, k, dt);
  c.n = n;
  c.m = m;
  c.k = k;
  c.dt = dt;
  c.version = e.storage()->version.load(std::memory_order_acquire);
  c.eye = e;
  c.storage.store(e.storage(), std::memory_order_release);
  return e;
}

// A copy of `t` when it shares memory with the cached seed (see Note [Jacobian seed cache]).
Tensor detach_from_seed(const Tensor& t) {
  SeedCache& c = seed_cache();
  if (!t.defined() || !t.has_data() || t.storage() != c.storage.load(std::memory_order_acquire)) return t;
  std::lock_guard<std::mutex> g(c.mu);
  if (c.eye.defined() && t.defined() && t.storage() == c.eye.storage()) return t.clone();
  return t;
}

// The columns [offset, offset + shape.numel) of the n x n identity as a batch of n values of
// `shape`: physical shape (n, *shape).
Tensor basis_block(int64_t n, int64_t offset, const Shape& shape, DType dt, bool cached = false) {
  return ops::reshape(identity_seed(n, numel(shape), -offset, dt, cached), with_front(n, shape));
}

// The block of the n x n identity at columns [offset, offset + shape.numel) as a value of `shape`
// batched by `batch`: in lazy form (Note [Lazy identity batches]) when it is large enough, its
// dtype real, the values on the CPU and no trace records (a trace replays the dense ops), else dense
// (see basis_block).
Tensor seed_block(BatchLevel& batch, int64_t n, int64_t offset, const Shape& shape, DType dt, Device dev, bool cached) {
  const int64_t m = numel(shape);
  if ((dt == DType::Float32 || dt == DType::Float64) && dev == Device::CPU &&
      double(n) * double(m) >= double(kLazyIdentityMinElems) && !traces_recording())
    return batch.track_lazy(Tensor::full(shape, dt, 1.0), Tensor::zeros(shape, dt), offset);
  return batch.track(basis_block(n, offset, shape, dt, cached), 0);
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
  const bool top_level = seed_cacheable();
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
  if (outs.size() == 1 && total == 1) {
    // One output element (a Hessian's inner gradient): the sweep's cotangent is that element's
    // 1 with no batch level around it, so that each VJP op is one op, not a batching rule that
    // reshapes its operands to a batch of one and then runs the op. The same scalar products
    // (a matmul's rule may take the vector path of its kernel instead of a one-row batch).
    TensorList grads = level->backward(outs, TensorList(), tracked);
    for (size_t j = 0; j < xs.size(); ++j)
      jac[0].push_back(ops::reshape(grads[j], concat_shapes(outs[0].shape(), xs[j].shape())));
    return jac;
  }
  // One sweep, its cotangent the M x M identity split into one block per output.
  const DType dt = basis_dtype(outs);
  const bool cached = top_level && outs.size() == 1;
  auto batch = std::make_shared<BatchLevel>(total);
  TensorList grads;
  {
    ScopedLevel scope(batch);
    TensorList cots;
    int64_t off = 0;
    for (const Tensor& o : outs) {
      const DType odt = is_inexact(o.dtype()) ? o.dtype() : dt;  // complex outputs: complex seeds
      cots.push_back(seed_block(*batch, total, off, o.shape(), odt, o.device(), cached));
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
      jac[k].push_back(
          detach_from_seed(ops::reshape(rows(grads[j], off, m), concat_shapes(outs[k].shape(), xs[j].shape()))));
    off += m;
  }
  return jac;
}

std::vector<TensorList> jacfwd(const FlatFn& f, const TensorList& xs, TensorList* values) {
  const bool cached = seed_cacheable() && xs.size() == 1;
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
      Tensor t = seed_block(*batch, total, off, x.shape(), x.dtype(), x.device(), cached);
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
      jac[k].push_back(detach_from_seed(block));
      off += n;
    }
  }
  if (values) *values = std::move(vals);
  return jac;
}

}  // namespace transforms
}  // namespace tapegrad
