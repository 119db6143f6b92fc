// Note [Tape levels]
// ~~~~~~~~~~~~~~~~~~~
// Each thread has a stack of transform levels (grad/vjp push a reverse level, jvp a forward level,
// vmap a batch level). A value tracked at level L is a *wrapper* TensorImpl whose AdMeta (LevelMeta)
// names L and holds the value one level down (`primal`); nesting transforms nests wrappers. Reverse
// and forward wrappers alias their primal's storage, so Python can still read them (bool(), item(),
// print). A batch wrapper has the logical shape (the primal's without its batch axis `bdim`) and no
// storage: there is no single value to read, and code that needs one must refuse it.
//
// apply(prim, inputs) finds the innermost active level among the inputs and lets it process the op:
// it unwraps its own wrappers, applies the op one level down (recursively), then records it (reverse),
// runs the JVP rule on the unwrapped primals and tangents (forward) or runs the prim's batching rule
// once on the whole batch (batch), and wraps the outputs.
// Rules therefore run on values of the lower levels only: their ops are recorded by the outer
// levels, which is what makes grad(grad(f)), jvp(grad(f)), grad(jvp(f)), vmap(grad(f)),
// grad(vmap(f)) and vmap(vmap(f)) work with no extra code.
// A wrapper whose level is gone (popped, or another thread's) is seen through, as its primal.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/prim.h"

namespace tapegrad {
namespace autodiff {

enum class LevelKind : uint8_t { Reverse, Forward, Batch, Trace };

// Note [Lazy identity batches]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
// A dense Jacobian's sweep (Note [Jacobians]) carries the identity as a batch: physical value
// (n, *shape) whose row b is the basis vector e_b. Each elementwise step of the sweep (the VJP or
// JVP of sin(x) * x: multiplies by cos(x), x and sin(x), one add) is then a full pass over n x m
// elements, although the value keeps one form throughout: entry [b, j] (j the flat logical index)
// is d[j] where b == j + shift and o[j] elsewhere, because every off-diagonal entry of column j is
// the same scalar computation on a zero of the seed. A batch wrapper may hold that form instead of
// its physical value (LevelMeta::lazy: d, o and shift; `primal` is then a shape-only tensor of the
// physical shape): the batch level runs an op on it by running the op on d and on o (two passes
// over m elements) when the op is add, sub, mul, div, neg or astype on float32/float64 whose other
// operands are untracked CPU values that broadcast to the lazy value's logical shape, and the lazy
// operands share n, shift and shape. These are correctly rounded scalar operations, so each entry
// is bit for bit the one the dense pass computes (signed zeros and NaNs included: o carries them).
// Any other use materialises the physical value first, once (the wrapper keeps it): another op, a
// dense batched operand, a tracked operand (an outer level must record the ops), and every reader
// of `primal` through meta_at (BatchLevel::unwrap, custom rules, the bindings). No trace (tg.jit)
// may be recording: a trace must see the dense ops it replays. The Jacobians seed lazily only when
// n x m is at least kLazyIdentityMinElems: below it a dense pass costs about what an op's dispatch
// does, and the lazy form runs two ops for one, so small Jacobians keep the dense path (and the seed
// cache). At sin(x) * x the sweep then writes its n x m elements once, in the materialisation.
struct LazyDiag {
  Tensor diag, off;   // the logical shape, float32/float64, untracked
  int64_t shift = 0;  // diagonal entries at physical [j + shift, j], 0 <= shift
};
constexpr int64_t kLazyIdentityMinElems = int64_t(1) << 14;

// Note [Views of traced values]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
// Inside a transform a write into a traced value rebinds its handle to a new value (the tape is
// functional), so a view of a traced value (y[0], y.T, y.reshape(-1), ...) is in effect a copy: a
// write through it does not reach its base, nor a write into the base the view. Rather than give
// a different number than eager code, such code raises. A view-like op on a traced value whose
// result shares the input's memory underneath (exactly when eager code would give a view) puts
// both in a ViewGroup; each member holds the group's version at which it was last consistent with
// what eager memory would hold. A write into a member bumps the version and gives the written value
// the new one, so every other member becomes stale, and reading a stale member (an op input, a
// conversion, a value returned from the function) raises ValueError. Two writes stay allowed: one
// overwriting the whole base, and writing a view back to exactly where it was taken (`y[0] *= 3`
// is `t = y[0]; t *= 3; y[0] = t`) when only that view was written since. Everything happens on
// the tracked path; the op's input loop tests one pointer of the wrapper's meta.
struct ViewGroup {
  std::atomic<int32_t> refcount_{1};
  uint32_t version = 0;
  static void release(ViewGroup* g) { delete g; }
};
struct ViewLink {
  Ref<ViewGroup> group;
  uint32_t version = 0;  // the group's version this value is consistent with
  // Where a view came from (for the write back of `y[idx] op= v`): the base's wrapper, the prim and
  // its index attributes, the group's version then, and the writes into this view since.
  Ref<TensorImpl> origin;
  const Prim* origin_prim = nullptr;
  SmallVec<int64_t, 8> origin_ints;
  uint32_t origin_version = 0;
  uint32_t writes = 0;
};

// (The two int32 fields side by side.)
struct LevelMeta final : AdMeta {
  uint64_t level_id = 0;
  Tensor primal;
  Tensor tangent;     // forward: undefined = zero
  int32_t node = -1;  // reverse: slot in the tape's cotangent array
  int32_t bdim = -1;  // batch: the batch axis of `primal` (the physical value); the wrapper has the
                      // logical shape (primal's without that axis) and no storage of its own
  // batch: the value in lazy form (Note [Lazy identity batches])
  std::unique_ptr<LazyDiag> lazy;
  std::unique_ptr<ViewLink> view;  // Note [Views of traced values]; null for most values
};

class Level {
 public:
  explicit Level(LevelKind k);
  virtual ~Level() = default;
  uint64_t id() const { return id_; }
  LevelKind kind() const { return kind_; }
  virtual TensorList process(const Prim& p, const TensorList& in, const Attrs& a) = 0;

 protected:
  uint64_t id_;
  LevelKind kind_;
};

// How many trace levels (tg.jit recordings) are active, on all threads. While one is, every op takes
// autodiff::apply, even on untracked values, so that a trace records ops on constants too (Note
// [Tape replay]); otherwise untracked values take each op's fast path. One relaxed load per op.
extern std::atomic<int> g_traces_recording;
inline bool traces_recording() { return g_traces_recording.load(std::memory_order_relaxed) != 0; }

// The thread's stack.
void push_level(std::shared_ptr<Level> l);
void pop_level(Level* l);         // throws unless l is on top
int depth_of(uint64_t level_id);  // -1 if not active on this thread
bool any_level_active();

// Pushes a level for its scope; pops it on the way out, by pop() or by an exception.
class ScopedLevel {
 public:
  explicit ScopedLevel(std::shared_ptr<Level> l) : level_(std::move(l)) { push_level(level_); }
  ScopedLevel(const ScopedLevel&) = delete;
  ScopedLevel& operator=(const ScopedLevel&) = delete;
  ~ScopedLevel() {
    if (active_ && depth_of(level_->id()) >= 0) {
      try {
        pop_level(level_.get());
      } catch (...) {  // an inner level was left on the stack: the first error is the one to report
      }
    }
  }
  void pop() {
    active_ = false;
    pop_level(level_.get());
  }

 private:
  std::shared_ptr<Level> level_;
  bool active_ = true;
};

// The active level with this id, or null. Levels by depth, 0 = outermost.
Level* find_level(uint64_t level_id);
int num_levels();
Level* level_at(int depth);

// Apply a primitive to possibly-tracked inputs (the slow path of every op).
TensorList apply(const Prim& p, TensorList in, const Attrs& a);
inline Tensor apply1(const Prim& p, TensorList in, const Attrs& a) { return apply(p, std::move(in), a)[0]; }
// A prim with no tensor inputs (a random draw): no transform tracks it, but the innermost active
// trace (tg.jit) below `below_depth` records it, so that a replay runs it again.
TensorList apply_nullary(const Prim& p, const Attrs& a, int below_depth);

// A new wrapper of `value` at `level_id`.
Tensor wrap(const Tensor& value, uint64_t level_id, int32_t node, Tensor tangent);
// If `t` is a wrapper at `level_id`, its meta; else null (looks through stale wrappers). A lazy
// batch wrapper's physical value is materialised first (Note [Lazy identity batches]).
LevelMeta* meta_at(const Tensor& t, uint64_t level_id);
// `t` without its reverse and forward wrappers; batch wrappers and those of active traces (tg.jit)
// are kept.
Tensor strip(const Tensor& t);
Tensor wrap_batched(const Tensor& physical, uint64_t level_id, int64_t bdim);
// True when some active level on this thread tracks `t` (stale wrappers do not count).
bool tracked_at_active_level(const Tensor& t);
// Whether memory a Storage borrows may be written by its lender behind tapegrad's back (a numpy
// array someone else still holds). Set by the Python bindings; null: always assumed.
extern bool (*g_borrowed_may_change)(const Storage& s);
// True when an active forward level (jvp) on this thread gives `t` a tangent, at any depth of its
// wrappers (tg.checkpoint differentiates its function directly in forward mode).
bool forward_tracked(const Tensor& t);
// True when an active batch level (vmap) carries `t` (it has no single value).
bool is_batched(const Tensor& t);

// Note [Views of traced values]. Raises unless `t` may be read (called by apply on each tracked
// input whose meta has a view link, and by the transforms on the values a function returns).
void check_view_read(const Tensor& t, const char* op);
inline void check_read(const Tensor& t, const char* op) {
  if (t.defined() && t.tracked() && static_cast<LevelMeta*>(t.ad())->view) check_view_read(t, op);
}
// getitem's views: the whole tensor (the same value: both names join a group), or a scalar
// (eager code copies it: no link).
void join_view_group(const Tensor& t);
void drop_view_link(const Tensor& t);
// setitem into a tracked `a` with `v`, before `a` is rebound to `out`: raises when the write would
// differ from eager code, else gives `out` its place in a's group. `whole`: the write covers all
// of a; `prim`/`ints`: the basic view written (for the write back of a view taken there).
class ViewWrite {
 public:
  ViewWrite(const Tensor& a, const Tensor& v, bool whole, const Prim* prim, const SmallVec<int64_t, 8>& ints);
  ~ViewWrite();
  ViewWrite(const ViewWrite&) = delete;
  ViewWrite& operator=(const ViewWrite&) = delete;
  void done(const Tensor& out);  // out: a's new value

 private:
  std::unique_ptr<ViewLink> next_;  // the link `out` gets (null: a has no group)
  const TensorImpl* prev_exempt_ = nullptr;
  bool exempt_ = false;
};

// ---- reverse mode --------------------------------------------------------------------------
class ReverseLevel final : public Level {
 public:
  ReverseLevel() : Level(LevelKind::Reverse) {}
  TensorList process(const Prim& p, const TensorList& in, const Attrs& a) override;
  // Mark `x` as an input to differentiate: a new wrapper with a fresh node and no record.
  Tensor track(const Tensor& x);
  // Sweep the tape backwards from `outputs` seeded with `cots` (undefined = ones) and return the
  // cotangent of each of `inputs` (zeros when it does not depend on them). The level must be popped.
  TensorList backward(const TensorList& outputs, const TensorList& cots, const TensorList& inputs);
  size_t num_records() const { return records_.size(); }

 private:
  struct Record {
    const Prim* prim;
    Attrs attrs;
    SmallVec<int32_t, 4> in_nodes;  // -1: constant at this level
    SmallVec<int32_t, 2> out_nodes;
    TensorList saved_in, saved_out;
    SmallVec<uint32_t, 4> versions;  // storage versions of saved_in at record time
  };
  int32_t new_node() { return num_nodes_++; }
  std::vector<Record> records_;
  int32_t num_nodes_ = 0;
};

// ---- forward mode --------------------------------------------------------------------------
class ForwardLevel final : public Level {
 public:
  ForwardLevel() : Level(LevelKind::Forward) {}
  TensorList process(const Prim& p, const TensorList& in, const Attrs& a) override;
  Tensor track(const Tensor& x, const Tensor& tangent);
  // Tangent of `t` at this level (zeros of t's shape when it was not perturbed).
  Tensor tangent_of(const Tensor& t);
};

// ---- batching (vmap) -------------------------------------------------------------------------
// Each op runs once on the physical values (batch axis included) through its batching rule (the
// prim's `batch` slot, written beside the prim in ops/; shared pieces in autodiff/batching.h). A prim
// without a rule (custom_vjp) falls back to a C++ loop over the batch.
class BatchLevel final : public Level {
 public:
  explicit BatchLevel(int64_t size) : Level(LevelKind::Batch), size_(size) {}
  TensorList process(const Prim& p, const TensorList& in, const Attrs& a) override;
  int64_t size() const { return size_; }
  // The logical value of `physical` whose batch axis is `bdim`.
  Tensor track(const Tensor& physical, int64_t bdim);
  // The physical value of `t` with the batch axis at `out_axis` (broadcast when t is unbatched).
  Tensor unwrap(const Tensor& t, int64_t out_axis);
  // The batched value of physical shape (size, *diag.shape) that is `diag` at [j + shift, j] and
  // `off` elsewhere, kept in that form while ops allow (Note [Lazy identity batches]). `diag` and
  // `off`: untracked, contiguous, float32 or float64, same shape and dtype; 0 <= shift.
  Tensor track_lazy(const Tensor& diag, const Tensor& off, int64_t shift);

 private:
  // The no-rule fallback over a batch of size 0 (one run on stand-in zeros, for the output shapes).
  TensorList process_empty(const Prim& p, const TensorList& phys, const BatchDims& bd, const Attrs& a);
  int64_t size_;
};

// How many times this thread's batch levels ran a prim once per batch element because the prim has
// no batching rule (only custom_vjp has none). Tests read it to check that no op fell back to the loop.
int64_t vmap_fallback_count();
// How many ops this thread's batch levels ran on lazy values (Note [Lazy identity batches]), and how
// many lazy values they materialised. Tests read them to check which path a sweep took.
struct LazyBatchCounts {
  int64_t ops = 0, materialised = 0;
};
LazyBatchCounts lazy_batch_counts();

}  // namespace autodiff
}  // namespace tapegrad
