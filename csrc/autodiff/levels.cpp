#include "autodiff/levels.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>

#include "autodiff/batching.h"
#include "core/error.h"
#include "core/layer_hooks.h"
#include "core/tls.h"

namespace tapegrad {
namespace autodiff {

namespace {
std::atomic<uint64_t> g_next_level{1};
using LevelStack = std::vector<std::shared_ptr<Level>>;
// The stack is read on every op that meets a tracked value: reached through one initial-exec
// pointer (Note [Per-thread caches] in core/tls.h), set on the thread's first push.
TG_TLS_FAST thread_local LevelStack* t_stack_ptr = nullptr;
thread_local bool t_stack_dead = false;
struct StackHolder {
  LevelStack stack;
  StackHolder() { t_stack_ptr = &stack; }
  ~StackHolder() {
    t_stack_ptr = nullptr;
    t_stack_dead = true;
  }
};
// No level was ever pushed on this thread, or its stack is gone (thread exit): an empty stack.
const LevelStack& empty_stack() {
  static const LevelStack e;
  return e;
}
// The thread's stack to read (empty when it has none).
inline const LevelStack& stack() {
  const LevelStack* s = t_stack_ptr;
  return __builtin_expect(s != nullptr, 1) ? *s : empty_stack();
}
// The thread's stack to change (made on the first push).
LevelStack& mutable_stack() {
  if (LevelStack* s = t_stack_ptr) return *s;
  TG_CHECK(!t_stack_dead, "transform levels: used during thread exit");
  thread_local StackHolder h;
  return h.stack;
}
thread_local int64_t t_vmap_fallbacks = 0;
thread_local LazyBatchCounts t_lazy_counts;

}  // namespace

int64_t vmap_fallback_count() { return t_vmap_fallbacks; }
LazyBatchCounts lazy_batch_counts() { return t_lazy_counts; }

Level::Level(LevelKind k) : id_(g_next_level.fetch_add(1)), kind_(k) {}

std::atomic<int> g_traces_recording{0};

namespace {
// apply() runs a level's process() with the ceiling at that level's depth: the ops process() runs
// one level down may be recorded by traces below it only (a trace takes untracked values too, so
// without the ceiling it would be handed its own ops again).
TG_TLS_FAST thread_local int t_ceiling = std::numeric_limits<int>::max();
// The ceiling only comes down: a level pushed inside a trace's process() (custom_jvp's batched
// function runs vmap there, under tg.jit) would otherwise lift it back above that trace, which then
// recorded the nested ops as its own and handed the prim outputs tracked at its own level.
struct Ceiling {
  int saved;
  explicit Ceiling(int d) : saved(t_ceiling) { t_ceiling = std::min(d, t_ceiling); }
  ~Ceiling() { t_ceiling = saved; }
};
}  // namespace

void push_level(std::shared_ptr<Level> l) {
  if (l->kind() == LevelKind::Trace) g_traces_recording.fetch_add(1, std::memory_order_relaxed);
  mutable_stack().push_back(std::move(l));
}

void pop_level(Level* l) {
  LevelStack* st = t_stack_ptr;
  TG_CHECK(st && !st->empty() && st->back().get() == l,
           "transform levels were exited out of order (a grad/jvp call did not finish)");
  if (l->kind() == LevelKind::Trace) g_traces_recording.fetch_sub(1, std::memory_order_relaxed);
  st->pop_back();
}

int depth_of(uint64_t id) {
  const LevelStack& t_stack = stack();
  for (int i = int(t_stack.size()) - 1; i >= 0; --i)
    if (t_stack[size_t(i)]->id() == id) return i;
  return -1;
}

bool any_level_active() { return !stack().empty(); }

Level* find_level(uint64_t id) {
  const int d = depth_of(id);
  return d < 0 ? nullptr : stack()[size_t(d)].get();
}

int num_levels() { return int(stack().size()); }

Level* level_at(int depth) { return stack()[size_t(depth)].get(); }

Tensor wrap(const Tensor& value, uint64_t level_id, int32_t node, Tensor tangent) {
  TensorImpl* v = value.impl();
  TensorImpl* t = TensorImpl::create();
  t->dtype = v->dtype;
  t->device = v->device;
  t->contiguous = v->contiguous;
  t->storage = v->storage;
  t->offset = v->offset;
  t->numel = v->numel;
  t->shape = v->shape;
  t->strides = v->strides;
  auto m = std::make_unique<LevelMeta>();
  m->level_id = level_id;
  m->primal = value;
  m->node = node;
  m->tangent = std::move(tangent);
  t->ad = std::move(m);
  return Tensor(Ref<TensorImpl>(t));
}

bool (*g_borrowed_may_change)(const Storage& s) = nullptr;

namespace {
// meta_at without materialising a lazy batch value (the batch level's own lookup).
inline LevelMeta* find_meta(const Tensor& t, uint64_t level_id) {
  const Tensor* cur = &t;
  while (cur->tracked()) {
    auto* m = static_cast<LevelMeta*>(cur->ad());
    if (m->level_id == level_id) return m;
    if (depth_of(m->level_id) >= 0) return nullptr;  // an active level wraps above this one
    cur = &m->primal;
  }
  return nullptr;
}

// The shape and dtype of a value with no data (see shape_only below; here with a given shape).
Tensor no_data(const Shape& s, DType dt, Device dev) {
  TensorImpl* m = TensorImpl::create();
  m->dtype = dt;
  m->device = dev;
  m->shape = s;
  m->strides = contiguous_strides(s);
  m->numel = numel(s);
  m->contiguous = true;
  return Tensor(Ref<TensorImpl>(m));
}

// Replaces a lazy batch value by its physical value (Note [Lazy identity batches]): every row
// is `off`, then the diagonal entries are `diag`: two copies, one pass over the n x m elements.
__attribute__((noinline, cold)) void materialise(LevelMeta* m) {
  std::unique_ptr<LazyDiag> z = std::move(m->lazy);
  ++t_lazy_counts.materialised;
  const Shape& s = m->primal.shape();
  const int64_t n = s[0], k = z->diag.numel();
  Tensor out = Tensor::empty(s, z->diag.dtype(), z->diag.device());
  if (n > 0 && k > 0) {
    Strides rows_st;
    rows_st.push_back(k);
    rows_st.push_back(1);
    Strides bc_st;
    bc_st.push_back(0);
    bc_st.push_back(1);
    Shape rows_sh;
    rows_sh.push_back(n);
    rows_sh.push_back(k);
    g_kernel_hooks.copy(out.view_as(rows_sh, rows_st, out.offset()), z->off.view_as(rows_sh, bc_st, z->off.offset()));
    const int64_t cnt = std::min(k, std::max<int64_t>(n - z->shift, 0));
    if (cnt > 0) {
      Shape d_sh;
      d_sh.push_back(cnt);
      Strides d_st;
      d_st.push_back(k + 1);
      Strides one;
      one.push_back(1);
      g_kernel_hooks.copy(out.view_as(d_sh, d_st, out.offset() + z->shift * k),
                          z->diag.view_as(d_sh, one, z->diag.offset()));
    }
  }
  m->primal = std::move(out);
}
// meta_at, inlined into this file's callers (the levels' per-op lookups).
__attribute__((always_inline)) inline LevelMeta* find_meta_dense(const Tensor& t, uint64_t level_id) {
  LevelMeta* m = find_meta(t, level_id);
  if (__builtin_expect(m != nullptr && m->lazy != nullptr, 0)) materialise(m);
  return m;
}
}  // namespace

LevelMeta* meta_at(const Tensor& t, uint64_t level_id) { return find_meta_dense(t, level_id); }

Tensor wrap_batched(const Tensor& physical, uint64_t level_id, int64_t bdim) {
  TensorImpl* t = TensorImpl::create();
  t->dtype = physical.dtype();
  t->device = physical.device();
  for (int64_t i = 0; i < physical.ndim(); ++i)
    if (i != bdim) t->shape.push_back(physical.shape()[size_t(i)]);
  t->strides = contiguous_strides(t->shape);
  t->numel = numel(t->shape);
  t->contiguous = true;
  auto m = std::make_unique<LevelMeta>();
  m->level_id = level_id;
  m->primal = physical;
  m->bdim = int32_t(bdim);
  t->ad = std::move(m);
  return Tensor(Ref<TensorImpl>(t));
}

bool tracked_at_active_level(const Tensor& t) {
  for (const Tensor* cur = &t; cur->defined() && cur->tracked(); cur = &static_cast<LevelMeta*>(cur->ad())->primal)
    if (depth_of(static_cast<LevelMeta*>(cur->ad())->level_id) >= 0) return true;
  return false;
}

bool forward_tracked(const Tensor& t) {
  for (const Tensor* cur = &t; cur->defined() && cur->tracked(); cur = &static_cast<LevelMeta*>(cur->ad())->primal) {
    auto* m = static_cast<LevelMeta*>(cur->ad());
    Level* l = m->tangent.defined() ? find_level(m->level_id) : nullptr;
    if (l && l->kind() == LevelKind::Forward) return true;
  }
  return false;
}

bool is_batched(const Tensor& t) {
  for (const Tensor* cur = &t; cur->defined() && cur->tracked(); cur = &static_cast<LevelMeta*>(cur->ad())->primal) {
    auto* m = static_cast<LevelMeta*>(cur->ad());
    if (m->bdim >= 0 && depth_of(m->level_id) >= 0) return true;
  }
  return false;
}

// Removes the differentiation levels (reverse, forward) and keeps batch levels (a value under
// vmap stays batched when it is made a constant) and active traces (what tg.jit records stays
// recorded).
Tensor strip(const Tensor& t) {
  if (!t.tracked()) return t;
  auto* m = static_cast<LevelMeta*>(t.ad());
  if (m->bdim >= 0) {
    Tensor inner = strip(m->primal);
    if (inner.impl() == m->primal.impl()) return t;
    return wrap_batched(inner, m->level_id, m->bdim);
  }
  Level* l = find_level(m->level_id);
  if (l && l->kind() == LevelKind::Trace) {
    Tensor inner = strip(m->primal);
    if (inner.impl() == m->primal.impl()) return t;
    return wrap(inner, m->level_id, m->node, Tensor());
  }
  return strip(m->primal);
}

// The innermost active trace below `below_depth` and the ceiling, or -1.
int trace_below(int below_depth) {
  const LevelStack& t_stack = stack();
  for (int d = std::min(below_depth, t_ceiling) - 1; d >= 0; --d)
    if (t_stack[size_t(d)]->kind() == LevelKind::Trace) return d;
  return -1;
}

TensorList apply_nullary(const Prim& p, const Attrs& a, int below_depth) {
  const int d = trace_below(below_depth);
  if (d < 0) return p.impl(TensorList(), a);
  Ceiling c(d);
  return stack()[size_t(d)]->process(p, TensorList(), a);
}

// ---- views of traced values (Note [Views of traced values]) -----------------------------------

namespace {
// setitem's exemption: the stale base a write back is about to replace may be read by that write.
thread_local const TensorImpl* t_view_exempt = nullptr;

LevelMeta* meta_of(const Tensor& t) { return static_cast<LevelMeta*>(t.ad()); }

// The memory underneath a value: its own, or (batch wrappers have none) its primal's.
const Storage* data_storage(const TensorImpl* t) {
  while (t && !t->storage && t->ad) t = static_cast<LevelMeta*>(t->ad.get())->primal.impl();
  return t ? t->storage.get() : nullptr;
}

[[noreturn]] void view_error(const char* op, bool is_view, const char* what) {
  throw ValueError(
      str_cat(op, ": ", what,
              is_view ? " a view taken from a traced value that was written in place after the view was taken"
                      : " a traced value after a write through a view taken from it",
              "; inside a transform (grad, vjp, jvp, vmap, jacrev, checkpoint, the recording of tg.jit) a view "
              "of a traced value is a copy, so writes through views of traced values do not reach the base (nor "
              "writes into the base the view), unlike eager code: write with y[idx] = ... or y[idx] *= ... on "
              "the base instead, and take views after the writes"));
}

// After a view-like op: outputs sharing the memory of input 0 (exactly when eager code gives a
// view) join its group.
void link_views(const Prim& p, const Attrs& a, const Tensor& base, TensorList& outs) {
  const Storage* bs = data_storage(base.impl());
  if (!bs) return;
  LevelMeta* bm = meta_of(base);
  for (Tensor& o : outs) {
    if (!o.defined() || !o.tracked() || o.impl() == base.impl() || data_storage(o.impl()) != bs) continue;
    if (!bm->view) {
      bm->view = std::make_unique<ViewLink>();
      bm->view->group = Ref<ViewGroup>(new ViewGroup);
    }
    auto l = std::make_unique<ViewLink>();
    l->group = bm->view->group;
    l->version = bm->view->version;
    l->origin = base.ref();
    l->origin_prim = &p;
    l->origin_ints = a.ints;
    l->origin_version = bm->view->version;
    meta_of(o)->view = std::move(l);
  }
}
// The level's process, then link_views when the op gave a view of its tracked input 0 (a
// function of its own so that `outs` is returned without a copy).
TensorList process_linking_views(Level& l, const Prim& p, const TensorList& in, const Attrs& a, const TensorImpl* in0) {
  TensorList outs = l.process(p, in, a);
  // A view shares the input's memory: one compare rules out other ops (batch wrappers have no
  // storage of their own: link_views looks under them). in[0] unchanged (not a stale wrapper seen
  // through) is alive, held by `in`.
  if (!outs.empty() && outs[0].defined() && (!in0->storage || outs[0].impl()->storage == in0->storage) &&
      in[0].impl() == in0)
    link_views(p, a, in[0], outs);
  return outs;
}
}  // namespace

void check_view_read(const Tensor& t, const char* op) {
  const ViewLink* l = meta_of(t)->view.get();
  if (!l || l->version == l->group->version || t.impl() == t_view_exempt) return;
  view_error(op, bool(l->origin), "reads");
}

void join_view_group(const Tensor& t) {
  if (!t.tracked()) return;
  LevelMeta* m = meta_of(t);
  if (m->view) return;
  m->view = std::make_unique<ViewLink>();
  m->view->group = Ref<ViewGroup>(new ViewGroup);
}

void drop_view_link(const Tensor& t) {
  if (t.tracked() && meta_of(t)->view && meta_of(t)->view->origin) meta_of(t)->view.reset();
}

ViewWrite::ViewWrite(const Tensor& a, const Tensor& v, bool whole, const Prim* prim, const SmallVec<int64_t, 8>& ints) {
  if (!a.tracked()) return;
  const ViewLink* l = meta_of(a)->view.get();
  if (!l) return;
  ViewGroup& g = *l->group;
  if (l->version != g.version) {
    // a is stale: only a write that makes it what eager memory holds is right
    bool ok = whole;
    if (!ok && v.tracked() && meta_of(v)->view) {
      const ViewLink& w = *meta_of(v)->view;
      ok = w.group == l->group && w.version == g.version && w.origin.get() == a.impl() && w.origin_prim == prim &&
           w.origin_ints.size() == ints.size() && std::equal(ints.begin(), ints.end(), w.origin_ints.begin()) &&
           l->version == w.origin_version && g.version - w.origin_version == w.writes;
    }
    if (!ok) view_error("setitem", bool(l->origin), "writes into");
    prev_exempt_ = t_view_exempt;
    t_view_exempt = a.impl();
    exempt_ = true;
  }
  next_ = std::make_unique<ViewLink>(*l);
  next_->writes = l->writes + 1;
}

ViewWrite::~ViewWrite() {
  if (exempt_) t_view_exempt = prev_exempt_;
}

void ViewWrite::done(const Tensor& out) {
  if (!next_ || !out.tracked()) return;
  next_->version = ++next_->group->version;
  meta_of(out)->view = std::move(next_);
}

TensorList apply(const Prim& p, TensorList in, const Attrs& a) {
  const LevelStack& t_stack = stack();
  if (in.empty()) return apply_nullary(p, a, int(t_stack.size()));
  int top = -1;
  const TensorImpl* in0 = in[0].defined() && in[0].tracked() ? in[0].impl() : nullptr;
  for (Tensor& x : in) {
    if (!x.defined()) continue;
    while (x.tracked()) {
      auto* m = static_cast<LevelMeta*>(x.ad());
      if (__builtin_expect(m->view != nullptr, 0)) check_view_read(x, p.name);
      int d = depth_of(m->level_id);
      if (d < 0) {  // stale wrapper: see through it
        TG_CHECK(m->bdim < 0, p.name,
                 ": a value batched by vmap was used outside its vmap (it escaped through "
                 "a closure or global); return it from the mapped function instead");
        Tensor inner = m->primal;
        x = std::move(inner);
        continue;
      }
      if (d > top) top = d;
      break;
    }
  }
  if (traces_recording()) {  // a trace above every input's level records the op too
    const int d = trace_below(int(t_stack.size()));
    if (d > top) top = d;
  }
  if (top < 0) return p.impl(in, a);
  Ceiling c(top);
  if (in0) return process_linking_views(*t_stack[size_t(top)], p, in, a, in0);
  return t_stack[size_t(top)]->process(p, in, a);
}

// ---- reverse ---------------------------------------------------------------------------------

namespace {
// The shape and dtype of `t` without its data: what the tape keeps of a value its rule does not
// read (an op on it fails with a clear "no data" error rather than reading freed memory).
Tensor shape_only(const Tensor& t) {
  if (!t.defined()) return t;
  TensorImpl* m = TensorImpl::create();
  m->dtype = t.dtype();
  m->device = t.device();
  m->shape = t.shape();
  m->strides = contiguous_strides(t.shape());
  m->numel = t.numel();
  m->contiguous = true;
  return Tensor(Ref<TensorImpl>(m));
}
}  // namespace

Tensor ReverseLevel::track(const Tensor& x) { return wrap(x, id_, new_node(), Tensor()); }

TensorList ReverseLevel::process(const Prim& p, const TensorList& in, const Attrs& a) {
  TensorList prim_in;
  SmallVec<int32_t, 4> nodes;
  bool any = false;
  for (const Tensor& x : in) {
    LevelMeta* m = x.defined() ? find_meta_dense(x, id_) : nullptr;
    if (m) {
      prim_in.push_back(m->primal);
      nodes.push_back(m->node);
      any = true;
    } else {
      prim_in.push_back(x);
      nodes.push_back(-1);
    }
  }
  Record r;
  r.attrs = a;
  TensorList out = (any && p.record_forward) ? p.record_forward(prim_in, r.attrs) : apply(p, prim_in, a);
  if (!any || p.nondiff) return out;
  r.prim = &p;
  r.in_nodes = nodes;
  if (p.vjp_reads & kReadsInputs) {
    // Memory tapegrad borrows from a writable numpy array (zero-copy tg.tensor) can be changed by
    // numpy, which bumps no version, and so can memory a DLPack consumer holds a view of (torch
    // writes through it): the rule gets the forward's value from a copy made now.
    for (Tensor& x : prim_in)
      if (x.defined() && !x.tracked() && x.has_data() &&
          ((x.storage()->borrowed() && !x.storage()->ext_readonly &&
            (!g_borrowed_may_change || g_borrowed_may_change(*x.storage()))) ||
           x.storage()->ext_views.load(std::memory_order_relaxed) > 0))
        x = x.clone();
  }
  for (const Tensor& x : prim_in) {
    r.versions.push_back(x.defined() && x.has_data() ? x.storage()->version.load(std::memory_order_relaxed) : 0);
  }
  if (p.vjp_reads & kReadsInputs) {
    r.saved_in = std::move(prim_in);
  } else {
    for (const Tensor& x : prim_in) r.saved_in.push_back(shape_only(x));
  }
  TensorList wrapped;
  for (const Tensor& o : out) {
    // Float and complex results carry derivatives (complex: JAX's convention, Note [Complex dtypes]).
    if (is_inexact(o.dtype())) {
      int32_t n = new_node();
      r.out_nodes.push_back(n);
      wrapped.push_back(wrap(o, id_, n, Tensor()));
    } else {
      r.out_nodes.push_back(-1);
      wrapped.push_back(o);
    }
  }
  if (p.vjp_reads & kReadsOutputs) {
    r.saved_out = std::move(out);
  } else {
    for (const Tensor& o : out) r.saved_out.push_back(shape_only(o));
  }
  // Room for a small tape at once: growing one record at a time moved every record twice for the
  // first two ops of each gradient.
  if (records_.capacity() == 0) records_.reserve(8);
  records_.push_back(std::move(r));
  return wrapped;
}

TensorList ReverseLevel::backward(const TensorList& outputs, const TensorList& cots, const TensorList& inputs) {
  TG_CHECK(depth_of(id_) < 0, "backward: the level is still active");
  // One cotangent slot per node; a small tape's slots live on the stack.
  SmallVec<Tensor, 16> slot(static_cast<size_t>(num_nodes_));
  for (size_t i = 0; i < outputs.size(); ++i) {
    LevelMeta* m = find_meta_dense(outputs[i], id_);
    if (!m || m->node < 0) continue;
    Tensor c = i < cots.size() && cots[i].defined() ? cots[i] : g_op_hooks.ones_like(m->primal);
    Tensor& s = slot[size_t(m->node)];
    s = s.defined() ? g_op_hooks.add(s, c) : c;
  }
  for (size_t k = records_.size(); k-- > 0;) {
    Record& r = records_[k];
    TensorList oc;
    bool any = false;
    for (size_t j = 0; j < r.out_nodes.size(); ++j) {
      int32_t n = r.out_nodes[j];
      if (n >= 0 && slot[size_t(n)].defined()) {
        oc.push_back(slot[size_t(n)]);
        slot[size_t(n)].reset();
        any = true;
      } else {
        oc.push_back(Tensor());
      }
    }
    if (any) {
      uint32_t need = 0;
      for (size_t i = 0; i < r.in_nodes.size(); ++i)
        if (r.in_nodes[i] >= 0 && i < 32) need |= 1u << i;  // later inputs: always computed
      for (size_t i = 0; i < r.saved_in.size(); ++i) {
        const Tensor& x = r.saved_in[i];
        if (x.defined() && x.has_data())
          TG_CHECK(x.storage()->version.load(std::memory_order_relaxed) == r.versions[i], r.prim->name,
                   ": an input saved for the gradient was modified in place after it "
                   "was used; copy it before writing into it",
                   x.storage()->exported.load(std::memory_order_relaxed)
                       ? " (or it was exported through DLPack after it was used, and the consumer may "
                         "have written into it: export a copy with __dlpack__(copy=True), or export "
                         "it before differentiating or after the gradient is taken)"
                       : "");
      }
      // Multi-output rules get zeros for the outputs that received no cotangent.
      if (oc.size() > 1)
        for (size_t j = 0; j < oc.size(); ++j)
          if (!oc[j].defined() && is_inexact(r.saved_out[j].dtype())) oc[j] = g_op_hooks.zeros_like(r.saved_out[j]);
      TG_CHECK_T(NotDifferentiable, r.prim->vjp, r.prim->name, ": reverse-mode differentiation is not implemented");
      TensorList ic = r.prim->vjp(oc, r.saved_in, r.saved_out, r.attrs, need);
      for (size_t i = 0; i < r.in_nodes.size() && i < ic.size(); ++i) {
        int32_t n = r.in_nodes[i];
        if (n < 0 || !ic[i].defined()) continue;
        const Tensor& x = r.saved_in[i];
        Tensor c = ic[i];
        if (c.shape() != x.shape()) c = g_op_hooks.sum_to(c, x.shape());
        if (c.dtype() != x.dtype()) c = g_op_hooks.cast(c, x.dtype());
        Tensor& s = slot[size_t(n)];
        s = s.defined() ? g_op_hooks.add(s, c) : c;
      }
    }
    // The tape is single use: free what this record saved as soon as it is done.
    r.saved_in.clear();
    r.saved_out.clear();
  }
  records_.clear();
  TensorList res;
  for (const Tensor& x : inputs) {
    LevelMeta* m = find_meta_dense(x, id_);
    if (m && m->node >= 0 && slot[size_t(m->node)].defined()) {
      Tensor g = slot[size_t(m->node)];
      if (g.shape() != m->primal.shape()) g = g_op_hooks.broadcast_to(g, m->primal.shape());
      res.push_back(g);
    } else {
      res.push_back(g_op_hooks.zeros_like(m ? m->primal : strip(x)));
    }
  }
  return res;
}

// ---- batching --------------------------------------------------------------------------------

Tensor BatchLevel::track(const Tensor& physical, int64_t bdim) {
  TG_CHECK(bdim >= 0 && bdim < physical.ndim(), "vmap: axis ", bdim, " is out of range for an input of shape ",
           shape_str(physical.shape()));
  TG_CHECK(physical.shape()[size_t(bdim)] == size_, "vmap: inputs have different sizes along the mapped axes (", size_,
           " and ", physical.shape()[size_t(bdim)], ")");
  return wrap_batched(physical, id_, bdim);
}

Tensor BatchLevel::unwrap(const Tensor& t, int64_t out_axis) {
  LevelMeta* m = find_meta_dense(t, id_);
  if (m && m->bdim >= 0) {
    TG_CHECK_T(IndexError, out_axis >= 0 && out_axis < m->primal.ndim(), "vmap: out_axes ", out_axis,
               " is out of range for an output of ", m->primal.ndim() - 1, " dimensions");
    return move_axis(m->primal, m->bdim, out_axis);
  }
  Tensor v = m ? m->primal : t;
  TG_CHECK_T(IndexError, out_axis >= 0 && out_axis <= v.ndim(), "vmap: out_axes ", out_axis,
             " is out of range for an output of ", v.ndim(), " dimensions");
  Shape s = v.shape();
  s.insert(size_t(out_axis), 1);
  Shape full = s;
  full[size_t(out_axis)] = size_;
  return g_op_hooks.broadcast_to(g_op_hooks.reshape(v, s), full);
}

// An empty batch has no element to run the op on, yet its outputs' shapes and dtypes are those of
// one element's. As JAX traces a custom_vjp function abstractly, run it once on zeros of an
// element's shape (a stand-in: the function's values are never seen) and return its outputs with
// a batch axis of length 0.
TensorList BatchLevel::process_empty(const Prim& p, const TensorList& phys, const BatchDims& bd, const Attrs& a) {
  TensorList xs;
  for (size_t i = 0; i < phys.size(); ++i) {
    if (bd[i] < 0) {
      xs.push_back(phys[i]);
      continue;
    }
    Shape s = phys[i].shape();
    s.erase(size_t(bd[i]));
    xs.push_back(Tensor::zeros(s, phys[i].dtype(), phys[i].device()));
  }
  TensorList o = apply(p, xs, a);
  TensorList wrapped;
  for (const Tensor& e : o) {
    Shape one = e.shape(), empty = e.shape();
    one.insert(0, 1);
    empty.insert(0, 0);
    wrapped.push_back(track(g_op_hooks.broadcast_to(g_op_hooks.reshape(e, one), empty), 0));
  }
  return wrapped;
}

Tensor BatchLevel::track_lazy(const Tensor& diag, const Tensor& off, int64_t shift) {
  Shape s = diag.shape();
  s.insert(0, size_);
  Tensor t = wrap_batched(no_data(s, diag.dtype(), diag.device()), id_, 0);
  auto z = std::make_unique<LazyDiag>();
  z->diag = diag;
  z->off = off;
  z->shift = shift;
  static_cast<LevelMeta*>(t.ad())->lazy = std::move(z);
  return t;
}

namespace {
bool lazy_dtype(DType dt) { return dt == DType::Float32 || dt == DType::Float64; }

// The ops a lazy batch value goes through as two small ops (Note [Lazy identity batches]):
// correctly rounded elementwise ones only.
bool lazy_prim(const Prim& p) {
  if (p.batch != elementwise_batch) return false;
  for (const char* name : {"mul", "add", "sub", "div", "neg", "astype"})
    if (std::strcmp(p.name, name) == 0) return true;
  return false;
}

// `p` on the lazy form of its batched inputs (`metas[i]` non-null for those, all lazy), or an
// undefined Tensor when the op needs the physical values.
Tensor lazy_apply(const Prim& p, const TensorList& in, const SmallVec<LevelMeta*, 4>& metas, const Attrs& a,
                  BatchLevel& level) {
  if (traces_recording() || !lazy_prim(p)) return Tensor();
  const LazyDiag* first = nullptr;
  const Shape* shape = nullptr;
  for (size_t i = 0; i < in.size(); ++i) {
    if (!in[i].defined()) return Tensor();
    if (metas[i]) {
      const LazyDiag& z = *metas[i]->lazy;
      if (!first) {
        first = &z;
        shape = &z.diag.shape();
      } else if (z.shift != first->shift || z.diag.shape() != *shape) {
        return Tensor();
      }
    }
  }
  for (size_t i = 0; i < in.size(); ++i) {
    if (metas[i]) continue;
    const Tensor& x = in[i];
    // An operand some level tracks (an outer transform must record the ops on the dense value),
    // or one that would broadcast the lazy value to more dims or a longer axis.
    if (x.tracked() || !lazy_dtype(x.dtype()) || x.device() != Device::CPU || x.ndim() > int64_t(shape->size()))
      return Tensor();
    const size_t lead = shape->size() - size_t(x.ndim());
    for (size_t d = 0; d < size_t(x.ndim()); ++d)
      if (x.shape()[d] != 1 && x.shape()[d] != (*shape)[lead + d]) return Tensor();
  }
  TensorList on_diag, on_off;
  for (size_t i = 0; i < in.size(); ++i) {
    on_diag.push_back(metas[i] ? metas[i]->lazy->diag : in[i]);
    on_off.push_back(metas[i] ? metas[i]->lazy->off : in[i]);
  }
  if (std::strcmp(p.name, "astype") == 0 && !lazy_dtype(a.dtype)) return Tensor();  // to a dense dtype
  TensorList d = p.impl(on_diag, a), o = p.impl(on_off, a);
  if (d.size() != 1 || !lazy_dtype(d[0].dtype()) || d[0].shape() != *shape || !d[0].is_contiguous() ||
      !o[0].is_contiguous())
    return Tensor();
  ++t_lazy_counts.ops;
  return level.track_lazy(d[0], o[0], first->shift);
}

// An op with a lazy input: in lazy form when lazy_apply can, else on the materialised values.
__attribute__((noinline, cold)) TensorList process_lazy(BatchLevel& level, const Prim& p, const TensorList& in,
                                                        const Attrs& a) {
  SmallVec<LevelMeta*, 4> metas;
  bool all_lazy = true;
  for (const Tensor& x : in) {
    LevelMeta* m = x.defined() ? find_meta(x, level.id()) : nullptr;
    metas.push_back(m);
    all_lazy = all_lazy && (!m || m->lazy);
  }
  if (all_lazy) {
    Tensor r = lazy_apply(p, in, metas, a, level);
    if (r.defined()) return {r};
  }
  for (LevelMeta* m : metas)
    if (m && m->lazy) materialise(m);
  return level.process(p, in, a);
}
}  // namespace

TensorList BatchLevel::process(const Prim& p, const TensorList& in, const Attrs& a) {
  TensorList phys;
  BatchDims bd;
  bool lazy = false;
  for (const Tensor& x : in) {
    LevelMeta* m = x.defined() ? find_meta(x, id_) : nullptr;
    if (m) {
      lazy |= m->lazy != nullptr;
      phys.push_back(m->primal);
      bd.push_back(m->bdim);
    } else {
      phys.push_back(x);
      bd.push_back(-1);
    }
  }
  if (__builtin_expect(lazy, 0)) return process_lazy(*this, p, in, a);
  BatchDims obd;
  TensorList out;
  if (p.batch) {
    out = p.batch(p, phys, bd, a, size_, obd);
  } else {
    // No rule: only custom_vjp, whose forward is Python code that may do anything with its
    // inputs. Run the prim on each batch element (in C++) and stack the results.
    ++t_vmap_fallbacks;
    if (size_ == 0) return process_empty(p, phys, bd, a);
    std::vector<std::vector<Tensor>> per_out;
    for (int64_t b = 0; b < size_; ++b) {
      TensorList xs;
      for (size_t i = 0; i < phys.size(); ++i) {
        if (bd[i] < 0) {
          xs.push_back(phys[i]);
        } else {
          xs.push_back(g_op_hooks.select(phys[i], bd[i], b));
        }
      }
      TensorList o = apply(p, xs, a);
      if (per_out.empty()) per_out.resize(o.size());
      for (size_t j = 0; j < o.size(); ++j) per_out[j].push_back(o[j]);
    }
    for (auto& v : per_out) {
      out.push_back(g_op_hooks.stack(v, 0));
      obd.push_back(0);
    }
  }
  TensorList wrapped;
  for (size_t j = 0; j < out.size(); ++j) {
    wrapped.push_back(j < obd.size() && obd[j] >= 0 ? track(out[j], obd[j]) : out[j]);
  }
  return wrapped;
}

// ---- forward ---------------------------------------------------------------------------------

Tensor ForwardLevel::track(const Tensor& x, const Tensor& tangent) { return wrap(x, id_, -1, tangent); }

Tensor ForwardLevel::tangent_of(const Tensor& t) {
  LevelMeta* m = find_meta_dense(t, id_);
  if (m && m->tangent.defined()) return m->tangent;
  return g_op_hooks.zeros_like(m ? m->primal : strip(t));
}

TensorList ForwardLevel::process(const Prim& p, const TensorList& in, const Attrs& a) {
  TensorList prim_in, tans;
  bool any = false;
  for (const Tensor& x : in) {
    LevelMeta* m = x.defined() ? find_meta_dense(x, id_) : nullptr;
    if (m) {
      prim_in.push_back(m->primal);
      tans.push_back(m->tangent);
      any = any || m->tangent.defined();
    } else {
      prim_in.push_back(x);
      tans.push_back(Tensor());
    }
  }
  if (any && p.no_jvp_reason) throw NotDifferentiable(str_cat(p.name, ": ", p.no_jvp_reason));
  TensorList out = apply(p, prim_in, a);
  if (!any || p.nondiff) return out;
  TG_CHECK_T(NotDifferentiable, p.jvp, p.name, ": forward-mode differentiation is not implemented");
  TensorList to = p.jvp(tans, prim_in, out, a);
  TensorList wrapped;
  for (size_t j = 0; j < out.size(); ++j) {
    const Tensor& o = out[j];
    if (!is_inexact(o.dtype())) {
      wrapped.push_back(o);
      continue;
    }
    Tensor t = j < to.size() ? to[j] : Tensor();
    if (t.defined()) {
      if (t.shape() != o.shape()) t = g_op_hooks.broadcast_to(t, o.shape());
      if (t.dtype() != o.dtype()) t = g_op_hooks.cast(t, o.dtype());
    }
    wrapped.push_back(wrap(o, id_, -1, t));
  }
  return wrapped;
}

}  // namespace autodiff
}  // namespace tapegrad
