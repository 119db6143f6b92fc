// Folding the fixed parts of a compressed sweep, and its decompression: see Note [Compressed
// sweeps] in transforms/compressed.h.
#include "transforms/compressed.h"

#include "autodiff/gathered.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace tapegrad {
namespace transforms {

using autodiff::Program;
using autodiff::set_releases;

namespace {

// Held by the program alone: nobody can write into it between calls.
bool private_constant(const Tensor& t) {
  return t.defined() && !t.tracked() && t.has_data() && !t.storage()->borrowed() &&
         t.impl()->refcount_.load(std::memory_order_acquire) == 1 &&
         t.storage()->refcount_.load(std::memory_order_acquire) == 1;
}

// A record whose replay does more than compute its outputs from its inputs.
bool has_effect(const Program::Rec& r) {
  return r.in.empty() || r.prim->writes_input0 || r.attrs.payload || r.prim->record_forward;
}

// Recorded shape and dtype of every slot.
struct SlotInfo {
  std::vector<const Shape*> shape;
  std::vector<DType> dtype;
  explicit SlotInfo(const Program& p) : shape(size_t(p.num_slots), nullptr), dtype(size_t(p.num_slots), DType::Bool) {
    for (int32_t i = 0; i < p.num_inputs; ++i) {
      shape[size_t(i)] = &p.input_shapes[size_t(i)];
      dtype[size_t(i)] = p.input_dtypes[size_t(i)];
    }
    for (const Program::Constant& c : p.constants) {
      shape[size_t(c.slot)] = &c.value.shape();
      dtype[size_t(c.slot)] = c.value.dtype();
    }
    for (const Program::Rec& r : p.recs)
      for (size_t j = 0; j < r.out.size(); ++j) {
        shape[size_t(r.out[j])] = &r.out_shapes[j];
        dtype[size_t(r.out[j])] = r.out_dtypes[j];
      }
  }
};

// The branch a `where` record takes on every replay, when its condition is a folded single value
// and that branch already has the output's shape and dtype (pow's derivative guards its exponent
// being zero this way: with a literal exponent the test is folded, and the guard would cost two
// passes over the data for nothing). -1 otherwise.
int32_t chosen_branch(const Program::Rec& r, const std::vector<Tensor>& value, const std::vector<uint8_t>& foldable,
                      const SlotInfo& info) {
  if (std::strcmp(r.prim->name, "where") != 0 || r.in.size() != 3 || r.out.size() != 1) return -1;
  const int32_t c = r.in[0];
  if (c < 0 || !foldable[size_t(c)] || r.in[1] < 0 || r.in[2] < 0) return -1;
  const Tensor& cv = value[size_t(c)];
  if (cv.dtype() != DType::Bool || cv.numel() != 1 || cv.device() != Device::CPU) return -1;
  const int32_t pick = cv.item_as_double(0) != 0 ? r.in[1] : r.in[2];
  const Shape* shp = info.shape[size_t(pick)];
  return shp && *shp == r.out_shapes[0] && info.dtype[size_t(pick)] == r.out_dtypes[0] ? pick : -1;
}

template <class E, class I>
void gather_typed(const E* src, const I* take, int64_t count, E* out) {
  for (int64_t i = 0; i < count; ++i) out[i] = src[take[i]];
}

template <class I>
void gather_any(const void* src, size_t itemsize, const I* take, int64_t count, void* data) {
  switch (itemsize) {
    case 2: gather_typed(static_cast<const uint16_t*>(src), take, count, static_cast<uint16_t*>(data)); return;
    case 4: gather_typed(static_cast<const uint32_t*>(src), take, count, static_cast<uint32_t*>(data)); return;
    case 8: gather_typed(static_cast<const uint64_t*>(src), take, count, static_cast<uint64_t*>(data)); return;
    default: TG_CHECK(false, "sparse: no gather for elements of ", itemsize, " bytes");
  }
}

}  // namespace

std::shared_ptr<Program> fold_fixed_inputs(const Program& p, int32_t num_varying, const TensorList& fixed,
                                           FoldStats* stats, std::vector<Tensor>* fixed_slots) {
  TG_CHECK(num_varying >= 0 && int64_t(num_varying) + int64_t(fixed.size()) == p.num_inputs,
           "sparse: the program takes ", p.num_inputs, " inputs, got ", num_varying, " varying and ", fixed.size(),
           " fixed");
  if (p.impure || !p.guards.empty()) return nullptr;
  for (const Program::Rec& r : p.recs)
    if (r.in.empty() || r.prim->writes_input0) return nullptr;

  const size_t ns = size_t(p.num_slots);
  std::vector<Tensor> value(ns);  // values of the foldable slots
  std::vector<uint8_t> foldable(ns, 0);
  for (int32_t i = num_varying; i < p.num_inputs; ++i) {
    const Tensor& f = fixed[size_t(i - num_varying)];
    if (!f.defined() || f.tracked() || !f.has_data() || f.shape() != p.input_shapes[size_t(i)] ||
        f.dtype() != p.input_dtypes[size_t(i)])
      return nullptr;
    value[size_t(i)] = f;
    foldable[size_t(i)] = 1;
  }
  for (const Program::Constant& c : p.constants)
    if (private_constant(c.value)) {
      value[size_t(c.slot)] = c.value;
      foldable[size_t(c.slot)] = 1;
    }

  const SlotInfo info(p);
  std::vector<uint8_t> kept(p.recs.size(), 1);
  std::vector<int32_t> alias(ns);  // where(c, a, b) with c folded to one value: its output is a or b
  for (size_t s = 0; s < ns; ++s) alias[s] = int32_t(s);
  std::vector<uint8_t> is_output(ns, 0);
  for (int32_t s : p.outputs) is_output[size_t(s)] = 1;
  std::vector<Program::Rec> recs(p.recs);
  // A folded value is dropped after its last reader unless a kept record reads it (it becomes a
  // constant): the fold's peak memory stays that of a replay. last[s]: the last record reading s.
  std::vector<int64_t> last(ns, -1);
  for (size_t k = 0; k < recs.size(); ++k)
    for (int32_t s : recs[k].in)
      if (s >= 0) last[size_t(s)] = int64_t(k);
  for (int32_t s : p.outputs) last[size_t(s)] = INT64_MAX;
  std::vector<uint8_t> needed(ns, 0);
  auto drop_if_done = [&](int32_t s, size_t k) {
    if (s >= p.num_inputs && !needed[size_t(s)] && last[size_t(s)] <= int64_t(k)) value[size_t(s)].reset();
  };
  int64_t folded = 0;
  for (size_t k = 0; k < recs.size(); ++k) {
    Program::Rec& r = recs[k];
    for (int32_t& s : r.in)
      if (s >= 0) s = alias[size_t(s)];
    bool fold = !has_effect(r);
    for (int32_t s : r.in) fold = fold && (s < 0 || foldable[size_t(s)]);
    if (!fold) {
      const int32_t pick = chosen_branch(r, value, foldable, info);
      if (pick >= 0 && !is_output[size_t(r.out[0])]) {
        alias[size_t(r.out[0])] = pick;
        last[size_t(pick)] = std::max(last[size_t(pick)], last[size_t(r.out[0])]);
        for (int32_t s : r.in)
          if (s >= 0) drop_if_done(s, k);
        kept[k] = 0;
        ++folded;
      } else {
        for (int32_t s : r.in)
          if (s >= 0 && foldable[size_t(s)]) needed[size_t(s)] = 1;
      }
      continue;
    }
    TensorList in;
    for (int32_t s : r.in) in.push_back(s >= 0 ? value[size_t(s)] : Tensor());
    TensorList out = r.prim->impl(in, r.attrs);
    in.clear();
    if (out.size() != r.out.size()) return nullptr;
    for (size_t j = 0; j < out.size(); ++j) {
      if (out[j].shape() != r.out_shapes[j] || out[j].dtype() != r.out_dtypes[j]) return nullptr;
      value[size_t(r.out[j])] = std::move(out[j]);
      foldable[size_t(r.out[j])] = 1;
    }
    for (int32_t s : r.in)
      if (s >= 0) drop_if_done(s, k);
    for (int32_t s : r.out) drop_if_done(s, k);
    kept[k] = 0;
    ++folded;
  }

  auto q = std::make_shared<Program>();
  q->num_inputs = p.num_inputs;
  q->num_slots = p.num_slots;
  q->input_shapes = p.input_shapes;
  q->input_dtypes = p.input_dtypes;
  q->outputs = p.outputs;
  std::vector<uint8_t> read(ns, 0);
  for (size_t k = 0; k < recs.size(); ++k)
    if (kept[k]) {
      q->recs.push_back(recs[k]);
      for (int32_t s : recs[k].in)
        if (s >= 0) read[size_t(s)] = 1;
    }
  for (int32_t s : p.outputs) read[size_t(s)] = 1;
  // The original constants that remain in use, then the folded values later records read (inputs
  // stay inputs: every replay passes them).
  std::vector<uint8_t> is_constant(ns, 0);
  for (const Program::Constant& c : p.constants)
    if (read[size_t(c.slot)]) {
      q->constants.push_back(c);
      is_constant[size_t(c.slot)] = 1;
    }
  for (int32_t s = p.num_inputs; s < p.num_slots; ++s)
    if (read[size_t(s)] && foldable[size_t(s)] && !is_constant[size_t(s)]) {
      const Tensor& v = value[size_t(s)];
      q->constants.push_back({s, v, v.has_data() ? v.storage()->version.load(std::memory_order_relaxed) : 0});
    }
  set_releases(*q);
  if (fixed_slots) {
    fixed_slots->assign(ns, Tensor());
    for (int32_t i = num_varying; i < p.num_inputs; ++i) (*fixed_slots)[size_t(i)] = fixed[size_t(i - num_varying)];
    for (const Program::Constant& c : q->constants)
      if (foldable[size_t(c.slot)]) (*fixed_slots)[size_t(c.slot)] = c.value;
  }
  if (stats) {
    stats->folded = folded;
    stats->kept = int64_t(q->recs.size());
  }
  return q;
}

void gather_elements(const void* src, size_t itemsize, const int64_t* take, int64_t count, void* data) {
  gather_any(src, itemsize, take, count, data);
}
void gather_elements(const void* src, size_t itemsize, const int32_t* take, int64_t count, void* data) {
  gather_any(src, itemsize, take, count, data);
}

}  // namespace transforms
}  // namespace tapegrad
