// Tape replay for tg.jit: see Note [Tape replay] in autodiff/trace.h.
#include "autodiff/trace.h"

#include <cstring>

#include "autodiff/fusion.h"

namespace tapegrad {
namespace autodiff {

namespace {

TraceLevel* active_trace(uint64_t level_id) {
  Level* l = find_level(level_id);
  return l && l->kind() == LevelKind::Trace ? static_cast<TraceLevel*>(l) : nullptr;
}

// The value under every wrapper (what the kernels see).
const Tensor& base_of(const Tensor& t) {
  const Tensor* cur = &t;
  while (cur->defined() && cur->tracked()) cur = &static_cast<LevelMeta*>(cur->ad())->primal;
  return *cur;
}

bool same_value(const Tensor& a, const Tensor& b) {
  if (!a.defined() || !b.defined() || !a.has_data() || !b.has_data()) return false;
  if (a.dtype() != b.dtype() || a.shape() != b.shape() || a.device() != b.device()) return false;
  // GPU values are compared on the host (to_device is the value itself on the CPU).
  Tensor ac = a.contiguous().to_device(Device::CPU), bc = b.contiguous().to_device(Device::CPU);
  return std::memcmp(ac.raw_data(), bc.raw_data(), size_t(a.numel()) * itemsize(a.dtype())) == 0;
}

// Tensor::raw_data/item_as_double call this for tracked values: a traced value whose data Python
// reads is a decision the replay must re-check.
void on_traced_read(const Tensor& t) {
  check_read(t, "reading a value (item, float, bool, asnumpy, print)");  // Note [Views of traced values]
  const Tensor* cur = &t;
  while (cur->defined() && cur->tracked()) {
    auto* m = static_cast<LevelMeta*>(cur->ad());
    if (TraceLevel* tl = active_trace(m->level_id)) {
      const Tensor& base = base_of(*cur);
      if (base.has_data()) tl->guard(m->node, base);
    }
    cur = &m->primal;
  }
}

struct InstallReadHook {
  InstallReadHook() { detail::g_traced_read_hook = on_traced_read; }
} g_install_read_hook;

// An output that shares memory with a constant of the program (a tensor made inside the function,
// a closed-over one, or a view of either) is handed out as a copy: the program keeps the constant
// for later calls, and a caller writing into its result must not change what they return.
void copy_constant_aliases(const std::vector<Program::Constant>& constants, TensorList& outs) {
  if (constants.empty()) return;
  for (Tensor& o : outs) {
    if (!o.defined() || o.tracked() || !o.has_data()) continue;
    for (const Program::Constant& c : constants)
      if (c.value.has_data() && c.value.storage() == o.storage()) {
        o = o.clone();
        break;
      }
  }
}

}  // namespace

TraceLevel::TraceLevel() : Level(LevelKind::Trace), prog_(std::make_shared<Program>()) {}

bool TraceLevel::is_constant_storage(const Storage* st) const {
  for (const Program::Constant& c : prog_->constants)
    if (c.value.has_data() && c.value.storage() == st) return true;
  return false;
}

bool TraceLevel::is_input_storage(const Storage* st) const {
  for (const Storage* s : input_storages_)
    if (s == st) return true;
  return false;
}

Tensor TraceLevel::track(const Tensor& x) {
  TG_CHECK(prog_->num_slots == prog_->num_inputs, "jit: inputs must be tracked before any op is recorded");
  if (x.has_data()) input_storages_.push_back(x.storage());
  const int32_t slot = prog_->num_slots++;
  prog_->num_inputs = prog_->num_slots;
  prog_->input_shapes.push_back(x.shape());
  prog_->input_dtypes.push_back(x.dtype());
  return wrap(x, id_, slot, Tensor());
}

void TraceLevel::mark_impure(const char* why) {
  if (!prog_->impure) prog_->impure_reason = why;
  prog_->impure = true;
}

int32_t TraceLevel::constant_slot(const Tensor& t) {
  auto it = const_index_.find(t.impl());
  if (it != const_index_.end()) return it->second;
  // A value another active transform tracks (e.g. closed over under grad) is a fresh wrapper on
  // every call: baking this one in would lose that transform's derivative.
  if (tracked_at_active_level(t))
    mark_impure("the function uses a value traced by another transform that is not one of its arguments");
  const int32_t slot = prog_->num_slots++;
  const uint32_t version = t.has_data() ? t.storage()->version.load(std::memory_order_relaxed) : 0;
  prog_->constants.push_back({slot, t, version});
  const_index_.emplace(t.impl(), slot);
  return slot;
}

void TraceLevel::guard(int32_t slot, const Tensor& base_value) {
  for (const Program::Guard& g : prog_->guards)
    if (g.slot == slot && g.after == prog_->recs.size()) return;
  prog_->guards.push_back({slot, prog_->recs.size(), base_value.clone()});
}

TensorList TraceLevel::process(const Prim& p, const TensorList& in, const Attrs& a) {
  Program::Rec r;
  r.prim = &p;
  r.attrs = a;
  TensorList down;
  for (const Tensor& x : in) {
    if (!x.defined()) {
      r.in.push_back(-1);
      down.push_back(x);
      continue;
    }
    LevelMeta* m = meta_at(x, id_);
    if (m) {
      r.in.push_back(m->node);
      down.push_back(m->primal);
    } else {
      r.in.push_back(constant_slot(x));
      down.push_back(x);
    }
  }
  TensorList out = in.empty() ? apply_nullary(p, a, depth_of(id_)) : apply(p, down, a);  // under the ceiling
  if (p.writes_input0 && down[0].has_data()) {  // a recorded write: not an unrecorded in-place change
    for (Program::Constant& c : prog_->constants)
      if (c.value.has_data() && c.value.storage() == down[0].storage())
        c.version = c.value.storage()->version.load(std::memory_order_relaxed);
  }
  TensorList wrapped;
  for (const Tensor& o : out) {
    const int32_t slot = prog_->num_slots++;
    r.out.push_back(slot);
    r.out_shapes.push_back(o.shape());
    r.out_dtypes.push_back(o.dtype());
    wrapped.push_back(wrap(o, id_, slot, Tensor()));
  }
  prog_->recs.push_back(std::move(r));
  return wrapped;
}

std::shared_ptr<Program> TraceLevel::finish(const TensorList& outputs, TensorList& values) {
  TG_CHECK(depth_of(id_) < 0, "jit: the trace is still active");
  Program& P = *prog_;
  values.clear();
  for (const Tensor& o : outputs) {
    check_read(o, "jit: the function returns");  // Note [Views of traced values]
    LevelMeta* m = meta_at(o, id_);
    if (m) {
      P.outputs.push_back(m->node);
      values.push_back(m->primal);
    } else {
      P.outputs.push_back(constant_slot(o));
      values.push_back(o);
    }
  }
  for (const Program::Constant& c : P.constants) {
    if (c.value.has_data() && c.value.storage()->version.load(std::memory_order_relaxed) != c.version)
      mark_impure("a tensor the function uses was written in place while it ran");
  }
  // Free each intermediate after its last use (outputs and guarded values live long enough).
  std::vector<int64_t> last(size_t(P.num_slots), -1);
  for (size_t k = 0; k < P.recs.size(); ++k)
    for (int32_t s : P.recs[k].in)
      if (s >= 0) last[size_t(s)] = int64_t(k);
  for (const Program::Guard& g : P.guards) {
    // Released after record `after`, i.e. after the check that follows record `after - 1`.
    const int64_t k = int64_t(g.after);
    if (k > last[size_t(g.slot)]) last[size_t(g.slot)] = k;
  }
  for (int32_t s : P.outputs) last[size_t(s)] = int64_t(P.recs.size());
  for (const Program::Constant& c : P.constants) last[size_t(c.slot)] = int64_t(P.recs.size());
  for (int32_t s = 0; s < P.num_slots; ++s) {
    const int64_t k = last[size_t(s)];
    if (k >= 0 && k < int64_t(P.recs.size())) P.recs[size_t(k)].release.push_back(s);
  }
  const_index_.clear();
  copy_constant_aliases(P.constants, values);
  return prog_;
}

bool Program::run_record(const Rec& r, std::vector<Tensor>& slot, TensorList& in) {
  in.clear();
  for (int32_t s : r.in) in.push_back(s >= 0 ? slot[size_t(s)] : Tensor());
  TensorList out = apply(*r.prim, in, r.attrs);
  if (out.size() != r.out.size()) return false;
  for (size_t j = 0; j < out.size(); ++j) {
    if (out[j].shape() != r.out_shapes[j] || out[j].dtype() != r.out_dtypes[j]) return false;
    slot[size_t(r.out[j])] = std::move(out[j]);
  }
  return true;
}

bool Program::replay(const TensorList& inputs, TensorList& outs) const {
  if (fusion && !any_level_active()) return replay_fused(*this, inputs, outs);  // Note [Fused replay]
  std::vector<Tensor> slot(static_cast<size_t>(num_slots));
  for (int32_t i = 0; i < num_inputs; ++i) slot[size_t(i)] = inputs[size_t(i)];
  for (const Constant& c : constants) slot[size_t(c.slot)] = c.value;
  size_t g = 0;
  auto guards_hold = [&](size_t done) {
    for (; g < guards.size() && guards[g].after == done; ++g)
      if (!same_value(base_of(slot[size_t(guards[g].slot)]), guards[g].value)) return false;
    return true;
  };
  if (!guards_hold(0)) return false;
  TensorList in;
  for (size_t k = 0; k < recs.size(); ++k) {
    const Rec& r = recs[k];
    if (!run_record(r, slot, in)) return false;
    for (int32_t s : r.release) slot[size_t(s)].reset();
    if (!guards_hold(k + 1)) return false;
  }
  outs.clear();
  for (int32_t s : outputs) outs.push_back(slot[size_t(s)]);
  copy_constant_aliases(constants, outs);
  return true;
}

void note_constant_read(const Tensor& t) {
  if (!t.defined() || t.tracked() || !t.has_data()) return;
  for (int d = num_levels() - 1; d >= 0; --d) {
    Level* l = level_at(d);
    if (l->kind() == LevelKind::Trace) static_cast<TraceLevel*>(l)->guard_constant(t);
  }
}

void TraceLevel::guard_constant(const Tensor& t) { guard(constant_slot(t), t); }

void note_impure(const char* why) {
  for (int d = num_levels() - 1; d >= 0; --d) {
    Level* l = level_at(d);
    if (l->kind() == LevelKind::Trace) static_cast<TraceLevel*>(l)->mark_impure(why);
  }
}

bool traced_only(const Tensor& t) {
  bool traced = false;
  for (const Tensor* cur = &t; cur->defined() && cur->tracked(); cur = &static_cast<LevelMeta*>(cur->ad())->primal) {
    Level* l = find_level(static_cast<LevelMeta*>(cur->ad())->level_id);
    if (!l) continue;
    if (l->kind() != LevelKind::Trace) return false;
    traced = true;
  }
  return traced;
}

Tensor trace_base(const Tensor& t) {
  const Tensor* cur = &t;
  while (cur->defined() && cur->tracked()) {
    Level* l = find_level(static_cast<LevelMeta*>(cur->ad())->level_id);
    if (l && l->kind() != LevelKind::Trace) return Tensor();
    cur = &static_cast<LevelMeta*>(cur->ad())->primal;
  }
  return *cur;
}

Tensor traced_argument_base(const Tensor& a) {
  if (!a.defined() || !a.tracked()) return Tensor();
  Tensor base = trace_base(a);
  if (!base.defined() || !base.has_data()) return Tensor();
  bool argument = false, constant = false;
  for (const Tensor* cur = &a; cur->tracked(); cur = &static_cast<LevelMeta*>(cur->ad())->primal)
    if (TraceLevel* tl = active_trace(static_cast<LevelMeta*>(cur->ad())->level_id)) {
      argument = argument || tl->is_input_storage(base.storage());
      constant = constant || tl->is_constant_storage(base.storage());
    }
  if (!argument && !constant) return Tensor();
  // A view of a constant (a tensor made inside the function or closed over) is traced under tg.jit:
  // eager code writes into the constant's memory, so the write must too (Note [Views of traced
  // values]).
  note_impure(argument ? "the function writes in place into one of its arguments"
                       : "the function writes in place through a view of a tensor it does not trace");
  return base;
}

void note_untraced_write(const Tensor& a) {
  bool any_trace = false;
  for (int d = num_levels() - 1; d >= 0 && !any_trace; --d) any_trace = level_at(d)->kind() == LevelKind::Trace;
  if (!any_trace) return;
  for (const Tensor* cur = &a; cur->defined() && cur->tracked(); cur = &static_cast<LevelMeta*>(cur->ad())->primal)
    if (active_trace(static_cast<LevelMeta*>(cur->ad())->level_id)) return;
  note_impure("a tensor that is not an argument of the function is written in place");
}

}  // namespace autodiff
}  // namespace tapegrad
