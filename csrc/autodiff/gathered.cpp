// A program's last fused group evaluated through an index map: see Note [Gathered tail] in
// autodiff/gathered.h.
#include "autodiff/gathered.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "kernels/fused.h"

namespace tapegrad {
namespace autodiff {

using kernels::FusedKernel;
using kernels::FusedStep;

namespace {

// Elements as unsigned integers of their size: copies and comparisons of bit patterns.
struct Bits128 {
  uint64_t lo, hi;
  bool operator==(const Bits128& o) const { return lo == o.lo && hi == o.hi; }
};

// Calls f with a null pointer of the bit type of elements of `size` bytes (1, 2, 4, 8 or 16).
template <class F>
void with_bits(size_t size, F&& f) {
  switch (size) {
    case 1: return f(static_cast<uint8_t*>(nullptr));
    case 2: return f(static_cast<uint16_t*>(nullptr));
    case 4: return f(static_cast<uint32_t*>(nullptr));
    case 8: return f(static_cast<uint64_t*>(nullptr));
    default:
      TG_CHECK(size == 16, "gathered tail: elements of ", size, " bytes");
      return f(static_cast<Bits128*>(nullptr));
  }
}

// The elements of an index map (an Int32 tensor).
const int32_t* indices_of(const Tensor& idx) { return static_cast<const int32_t*>(idx.raw_data()); }

// out[p] = src.flat[idx[p]] for a contiguous `src` (indices known to lie in it).
Tensor gather_flat(const Tensor& src0, const Tensor& idx_map) {
  const Tensor src = src0.is_contiguous() ? src0 : src0.contiguous();
  const int32_t* idx = indices_of(idx_map);
  const int64_t n = idx_map.numel();
  Tensor out = Tensor::empty(Shape{n}, src.dtype());
  with_bits(itemsize(src.dtype()), [&](auto* type) {
    using U = std::remove_pointer_t<decltype(type)>;
    const U* s = static_cast<const U*>(src.raw_data());
    U* o = static_cast<U*>(out.raw_data());
    for (int64_t p = 0; p < n; ++p) o[p] = s[idx[p]];
  });
  return out;
}

// A fixed operand gathered at planning: when its count values hold at most 256 distinct bit
// patterns, `table` holds them and `codes` (UInt8) picks one per element; else `values` is the
// gathered operand itself.
struct FixedOperand {
  Tensor table, codes, values;
};

// The codes of src.flat[idx[p]] for elements of bit type U, read straight from src (the gathered
// operand is only built when the values turn out too many to code). A run of equal values (a seed
// matrix's zeros) costs one comparison an element; a few distinct values are found by a scan, the
// hash map takes over past 16. Bit patterns: -0.0 and each NaN stay apart.
template <class U>
FixedOperand encode_fixed_as(const Tensor& src, const Tensor& idx_map) {
  FixedOperand f;
  const U* s = static_cast<const U*>(src.raw_data());
  const int32_t* idx = indices_of(idx_map);
  const size_t n = size_t(idx_map.numel());
  f.codes = Tensor::empty(Shape{int64_t(n)}, DType::UInt8);
  uint8_t* codes = static_cast<uint8_t*>(f.codes.raw_data());
  std::vector<U> distinct;
  std::unordered_map<uint64_t, uint8_t> code;  // past 16 values: by bit pattern (sizes up to 8)
  size_t last = 0;
  for (size_t p = 0; p < n; ++p) {
    const U bits = s[idx[p]];
    if (!distinct.empty() && distinct[last] == bits) {
      codes[p] = uint8_t(last);
      continue;
    }
    size_t j = 0;
    if (distinct.size() <= 16 || sizeof(U) > 8) {
      while (j < distinct.size() && !(distinct[j] == bits)) ++j;
    } else {
      uint64_t key = 0;
      std::memcpy(&key, &bits, sizeof(U) < 8 ? sizeof(U) : 8);
      auto it = code.find(key);
      j = it == code.end() ? distinct.size() : it->second;
    }
    if (j == distinct.size()) {
      if (distinct.size() == 256) {
        f.codes = Tensor();
        f.values = gather_flat(src, idx_map);
        return f;
      }
      distinct.push_back(bits);
      if constexpr (sizeof(U) <= 8) {
        auto key_of = [](const U& v) {
          uint64_t key = 0;
          std::memcpy(&key, &v, sizeof(U));
          return key;
        };
        if (distinct.size() == 17)
          for (size_t d = 0; d < distinct.size(); ++d) code.emplace(key_of(distinct[d]), uint8_t(d));
        else if (distinct.size() > 17) code.emplace(key_of(bits), uint8_t(j));
      }
    }
    codes[p] = uint8_t(j);
    last = j;
  }
  // A table of kFusedTableBytes (padded with its first value) runs the vector lookup loop.
  const size_t sz = sizeof(U);
  size_t entries = distinct.size();
  if ((sz == 4 || sz == 8) && int64_t(entries * sz) <= kernels::kFusedTableBytes)
    entries = size_t(kernels::kFusedTableBytes) / sz;
  f.table = Tensor::empty(Shape{int64_t(entries)}, src.dtype());
  U* t = static_cast<U*>(f.table.raw_data());
  for (size_t j = 0; j < entries; ++j) t[j] = distinct[j < distinct.size() ? j : 0];
  return f;
}

FixedOperand encode_fixed(const Tensor& src0, const Tensor& idx) {
  const Tensor src = src0.is_contiguous() ? src0 : src0.contiguous();
  FixedOperand f;
  with_bits(itemsize(src.dtype()),
            [&](auto* type) { f = encode_fixed_as<std::remove_pointer_t<decltype(type)>>(src, idx); });
  return f;
}

// Quotients by a divisor fixed for many dividends, all below 2^31: the double reciprocal gives the
// quotient within one (its relative error is about 2^-52, so the product is off by less than
// 2^-21), and one multiply-and-compare corrects it. Several times the speed of a 64-bit division.
struct Divider {
  int64_t d;
  double inv;
  explicit Divider(int64_t d_) : d(d_), inv(1.0 / double(d_)) {}
  int64_t quot(int64_t x) const {
    int64_t q = int64_t(double(x) * inv);
    const int64_t r = x - q * d;
    q += r < 0 ? -1 : (r >= d ? 1 : 0);
    return q;
  }
};

}  // namespace

void set_releases(Program& q) {
  std::vector<int64_t> last(size_t(q.num_slots), -1);
  for (size_t k = 0; k < q.recs.size(); ++k) {
    q.recs[k].release.clear();
    for (int32_t s : q.recs[k].in)
      if (s >= 0) last[size_t(s)] = int64_t(k);
  }
  for (int32_t s : q.outputs) last[size_t(s)] = int64_t(q.recs.size());
  for (const Program::Constant& c : q.constants) last[size_t(c.slot)] = int64_t(q.recs.size());
  for (int32_t s = 0; s < q.num_slots; ++s) {
    const int64_t k = last[size_t(s)];
    if (k >= 0 && k < int64_t(q.recs.size())) q.recs[size_t(k)].release.push_back(s);
  }
}

std::shared_ptr<const GatheredTail> plan_gathered_tail(const Program& p, const std::vector<Tensor>& fixed,
                                                       const int64_t* take, int64_t count) {
  if (!p.fusion || p.impure || !p.guards.empty() || p.outputs.size() != 1 || count <= 0 || count > INT32_MAX ||
      fixed.size() != size_t(p.num_slots))
    return nullptr;
  const FusionPlan& plan = *p.fusion;
  // The output, through trailing reshapes (flat order unchanged), to the last group.
  int32_t s = p.outputs[0];
  std::vector<uint8_t> drop(p.recs.size(), 0);
  size_t end = plan.items.size();
  for (; end > 0; --end) {
    const FusionPlan::Item& it = plan.items[end - 1];
    if (it.rec < 0) break;
    const Program::Rec& r = p.recs[size_t(it.rec)];
    if (std::strcmp(r.prim->name, "reshape") != 0 || r.out.size() != 1 || r.out[0] != s || r.in.empty() || r.in[0] < 0)
      return nullptr;
    s = r.in[0];
    drop[size_t(it.rec)] = 1;
  }
  if (end == 0 || plan.items[end - 1].group < 0) return nullptr;
  const FusionPlan::Group& g = plan.groups[size_t(plan.items[end - 1].group)];
  const FusedKernel& k = g.kernel;
  if (g.out_slots.size() != 1 || g.out_slots[0] != s || !g.sum_slots.empty() || !g.deferred.empty() ||
      k.num_outputs != 1 || k.num_sums != 0 || k.row != 0 || k.n <= 1 || k.n > int64_t(INT32_MAX) + 1)
    return nullptr;
  for (int64_t i = 0; i < count; ++i)
    if (take[i] < 0 || take[i] >= k.n) return nullptr;
  for (const FusedStep& st : k.steps)
    if (FusedStep::is_reduction(st.kind) || st.kind == FusedStep::Gather ||
        (st.kind == FusedStep::Expand && (st.a < 0 || st.a >= k.num_inputs)))
      return nullptr;

  // How each input register is read: directly (scalar or full) or by Expand steps only.
  const int32_t I = k.num_inputs, R = k.num_regs;
  std::vector<uint8_t> direct(size_t(I), 0), expanded(size_t(I), 0);
  for (const FusedStep& st : k.steps)
    for (int32_t r : {st.a, st.b, st.c})
      if (r >= 0 && r < I) (st.kind == FusedStep::Expand && r == st.a ? expanded : direct)[size_t(r)] = 1;
  for (int32_t i = 0; i < I; ++i) {
    if (direct[size_t(i)] && expanded[size_t(i)]) return nullptr;
    if (direct[size_t(i)] && !k.reg_scalar[size_t(i)] && k.in_numel[size_t(i)] != k.n) return nullptr;
  }

  auto t = std::make_shared<GatheredTail>();
  t->dtype = g.out_dtypes[0];
  // Index maps, one per broadcast pattern: (div, mod) = (1, 0) is take itself.
  // Each map's largest index is checked against the operand it reads (the runner trusts them).
  std::map<std::pair<int64_t, int64_t>, std::pair<Tensor, int64_t>> maps;
  bool out_of_range = false;
  auto index_map = [&](int64_t div, int64_t mod, int64_t bound) -> const Tensor& {
    auto it = maps.find({div, mod});
    if (it == maps.end()) {
      Tensor m = Tensor::empty(Shape{count}, DType::Int32);
      int32_t* v = static_cast<int32_t*>(m.raw_data());
      int64_t top = -1;
      if (div <= 0) {
        std::fill(v, v + count, 0);
        top = INT64_MAX;  // no element of the operand: out of range
      } else {
        // take[i] lies in [0, k.n] with k.n <= 2^31 (checked above): quotients by the Divider.
        const Divider dv(div), dm(mod > 0 ? mod : 1);
        for (int64_t i = 0; i < count; ++i) {
          const int64_t e = div == 1 ? take[i] : dv.quot(take[i]);
          const int64_t ix = mod > 0 ? e - dm.quot(e) * mod : e;
          v[i] = int32_t(ix);
          top = std::max(top, ix);
        }
      }
      it = maps.emplace(std::make_pair(div, mod), std::make_pair(std::move(m), top)).first;
    }
    if (it->second.second >= bound) out_of_range = true;
    return it->second.first;
  };
  // Extra inputs (registers I + j) and the new temporaries (registers after the old ones), named
  // before the old temporaries are renumbered: a pending register is (kind, index).
  std::vector<Tensor> extra;
  std::vector<DType> extra_dtype;
  std::map<std::pair<int64_t, int64_t>, int32_t> map_input;  // index map -> extra
  auto add_extra = [&](const Tensor& v) {
    extra.push_back(v);
    extra_dtype.push_back(v.dtype());
    return int32_t(extra.size() - 1);
  };
  auto map_extra = [&](int64_t div, int64_t mod, int64_t bound) {
    index_map(div, mod, bound);  // checks the bound
    auto it = map_input.find({div, mod});
    if (it != map_input.end()) return it->second;
    const int32_t j = add_extra(index_map(div, mod, bound));
    map_input.emplace(std::make_pair(div, mod), j);
    return j;
  };
  enum : int { Old, Extra, New };
  struct PReg {
    int kind = Old;
    int32_t i = -1;
  };
  struct PStep {
    FusedStep st;
    PReg out, a, b;  // for a Gather step; other steps keep st's registers (remapped)
  };
  std::vector<PStep> pre;                           // Gather steps run first (full operands)
  std::vector<DType> new_dtype;                     // of the new temporaries
  std::map<int32_t, PReg> sub;                      // an old register read through another
  std::vector<std::pair<size_t, PStep>> expand_as;  // step index -> its replacement (Gather)
  std::vector<uint8_t> drop_step(k.steps.size(), 0);
  t->fixed.assign(size_t(I), Tensor());
  t->from_head.assign(size_t(I), -1);
  std::vector<int32_t> head_outputs;
  auto from_head = [&](int32_t i) {
    const int32_t slot = g.in_slots[size_t(i)];
    auto it = std::find(head_outputs.begin(), head_outputs.end(), slot);
    if (it != head_outputs.end()) return int32_t(it - head_outputs.begin());
    head_outputs.push_back(slot);
    return int32_t(head_outputs.size() - 1);
  };
  auto gather_step = [&](PReg out, PReg a, PReg b, DType d) {
    PStep ps;
    ps.st.kind = FusedStep::Gather;
    ps.st.dtype = d;
    ps.out = out;
    ps.a = a;
    ps.b = b;
    return ps;
  };
  for (int32_t i = 0; i < I; ++i) {
    const int32_t slot = g.in_slots[size_t(i)];
    const Tensor& fv = fixed[size_t(slot)];
    const DType d = k.reg_dtype[size_t(i)];
    if (fv.defined() &&
        (fv.device() != Device::CPU || !fv.has_data() || fv.dtype() != d || fv.numel() != k.in_numel[size_t(i)]))
      return nullptr;
    if (!direct[size_t(i)] && !expanded[size_t(i)]) {  // read by no step (folded away): pass anything
      t->fixed[size_t(i)] = Tensor::empty(Shape{1}, d);
      continue;
    }
    if (direct[size_t(i)] && k.reg_scalar[size_t(i)]) {
      if (fv.defined()) t->fixed[size_t(i)] = fv;
      else t->from_head[size_t(i)] = from_head(i);
      continue;
    }
    if (direct[size_t(i)]) {  // a full operand
      if (fv.defined()) {
        const Tensor& ix = index_map(1, 0, fv.numel());
        if (out_of_range) return nullptr;
        FixedOperand f = encode_fixed(fv, ix);
        if (f.values.defined()) {
          t->fixed[size_t(i)] = f.values;
          ++t->pregathered;
        } else {
          t->fixed[size_t(i)] = f.table;
          new_dtype.push_back(d);
          const PReg tmp{New, int32_t(new_dtype.size() - 1)};
          pre.push_back(gather_step(tmp, PReg{Old, i}, PReg{Extra, add_extra(f.codes)}, d));
          sub[i] = tmp;
          ++t->coded;
        }
      } else {
        t->from_head[size_t(i)] = from_head(i);
        new_dtype.push_back(d);
        const PReg tmp{New, int32_t(new_dtype.size() - 1)};
        pre.push_back(gather_step(tmp, PReg{Old, i}, PReg{Extra, map_extra(1, 0, k.in_numel[size_t(i)])}, d));
        sub[i] = tmp;
        ++t->gathered;
      }
      continue;
    }
    // Read by Expand steps only: each becomes a Gather through its broadcast's index map.
    if (fv.defined()) t->fixed[size_t(i)] = fv;
    else t->from_head[size_t(i)] = from_head(i);
    for (size_t si = 0; si < k.steps.size(); ++si) {
      const FusedStep& st = k.steps[si];
      if (st.kind != FusedStep::Expand || st.a != i) continue;
      if (!fv.defined()) {
        expand_as.push_back({si, gather_step(PReg{Old, st.out}, PReg{Old, i},
                                             PReg{Extra, map_extra(st.div, st.mod, k.in_numel[size_t(i)])}, d)});
        ++t->gathered;
        continue;
      }
      const Tensor& ix = index_map(st.div, st.mod, fv.numel());
      if (out_of_range) return nullptr;
      FixedOperand f = encode_fixed(fv, ix);
      if (f.values.defined()) {  // read in order: the step's register becomes an input
        sub[st.out] = PReg{Extra, add_extra(f.values)};
        drop_step[si] = 1;
        ++t->pregathered;
      } else {
        expand_as.push_back(
            {si, gather_step(PReg{Old, st.out}, PReg{Extra, add_extra(f.table)}, PReg{Extra, add_extra(f.codes)}, d)});
        ++t->coded;
      }
    }
  }

  if (out_of_range) return nullptr;

  // Final numbering: old inputs, extras, old temporaries, new temporaries.
  const int32_t X = int32_t(extra.size());
  auto num = [&](PReg r) -> int32_t {
    if (r.kind == Extra) return I + r.i;
    if (r.kind == New) return R + X + r.i;
    return r.i < I ? r.i : r.i + X;
  };
  auto read = [&](int32_t r) -> int32_t {
    if (r < 0) return r;
    auto it = sub.find(r);
    return it != sub.end() ? num(it->second) : num(PReg{Old, r});
  };
  FusedKernel& nk = t->kernel;
  nk.n = count;
  nk.num_inputs = I + X;
  nk.num_regs = R + X + int32_t(new_dtype.size());
  nk.costly = k.costly;
  nk.num_outputs = 1;
  nk.reg_dtype.assign(size_t(nk.num_regs), DType::Float32);
  nk.reg_scalar.assign(size_t(nk.num_regs), 0);
  nk.in_numel.assign(size_t(nk.num_regs), 0);
  nk.reg_output.assign(size_t(nk.num_regs), -1);
  nk.reg_scratch.assign(size_t(nk.num_regs), -1);
  for (int32_t r = 0; r < R; ++r) {
    const int32_t q = num(PReg{Old, r});
    nk.reg_dtype[size_t(q)] = k.reg_dtype[size_t(r)];
    if (r < I) {
      nk.reg_scalar[size_t(q)] = k.reg_scalar[size_t(r)];
      const Tensor& f = t->fixed[size_t(r)];
      nk.in_numel[size_t(q)] = f.defined() ? f.numel() : k.in_numel[size_t(r)];
    } else {
      nk.reg_output[size_t(q)] = k.reg_output[size_t(r)];
      nk.reg_scratch[size_t(q)] = k.reg_scratch[size_t(r)];
    }
  }
  for (int32_t j = 0; j < X; ++j) {
    nk.reg_dtype[size_t(I + j)] = extra_dtype[size_t(j)];
    nk.in_numel[size_t(I + j)] = extra[size_t(j)].numel();
  }
  nk.num_scratch = k.num_scratch;
  for (size_t j = 0; j < new_dtype.size(); ++j) {
    const int32_t q = R + X + int32_t(j);
    nk.reg_dtype[size_t(q)] = new_dtype[j];
    nk.reg_scratch[size_t(q)] = nk.num_scratch++;
  }
  auto emit = [&](const PStep& ps) {
    FusedStep st = ps.st;
    st.out = num(ps.out);
    st.a = num(ps.a);
    st.b = num(ps.b);
    nk.steps.push_back(st);
  };
  for (const PStep& ps : pre) emit(ps);
  for (size_t si = 0; si < k.steps.size(); ++si) {
    if (drop_step[si]) continue;
    auto rep = std::find_if(expand_as.begin(), expand_as.end(), [&](const auto& e) { return e.first == si; });
    if (rep != expand_as.end()) {
      emit(rep->second);
      continue;
    }
    FusedStep st = k.steps[si];
    st.a = read(st.a);
    st.b = read(st.b);
    st.c = read(st.c);
    st.out = st.out >= 0 ? num(PReg{Old, st.out}) : -1;
    st.out2 = st.out2 >= 0 ? num(PReg{Old, st.out2}) : -1;
    nk.steps.push_back(st);
  }
  // The output register must be written by a step (not an input read through).
  bool written = false;
  for (const FusedStep& st : nk.steps)
    written = written || (st.out >= 0 && nk.reg_output[size_t(st.out)] == 0) ||
              (st.out2 >= 0 && nk.reg_output[size_t(st.out2)] == 0);
  if (!written) return nullptr;
  // Extras are inputs too: fixed values.
  for (int32_t j = 0; j < X; ++j) {
    t->fixed.push_back(extra[size_t(j)]);
    t->from_head.push_back(-1);
  }

  // The head: the same records without the group's (and the trailing reshapes), returning the
  // varying operands.
  for (int32_t ri : g.recs) drop[size_t(ri)] = 1;
  auto h = std::make_shared<Program>();
  h->num_inputs = p.num_inputs;
  h->num_slots = p.num_slots;
  h->input_shapes = p.input_shapes;
  h->input_dtypes = p.input_dtypes;
  h->outputs = head_outputs;
  std::vector<uint8_t> used(size_t(p.num_slots), 0);
  for (size_t ri = 0; ri < p.recs.size(); ++ri)
    if (!drop[ri]) {
      h->recs.push_back(p.recs[ri]);
      for (int32_t sl : p.recs[ri].in)
        if (sl >= 0) used[size_t(sl)] = 1;
    }
  for (int32_t sl : head_outputs) used[size_t(sl)] = 1;
  for (const Program::Constant& c : p.constants)
    if (used[size_t(c.slot)]) h->constants.push_back(c);
  set_releases(*h);
  plan_fusion(*h);
  t->head = std::move(h);
  return t;
}

Tensor run_gathered_tail(const GatheredTail& t, const TensorList& inputs) {
  TensorList outs;
  if (!t.head->replay(inputs, outs) || outs.size() != t.head->outputs.size()) return Tensor();
  const FusedKernel& k = t.kernel;
  TensorList in;
  in.reserve(size_t(k.num_inputs));
  for (int32_t i = 0; i < k.num_inputs; ++i) {
    const int32_t h = t.from_head[size_t(i)];
    if (h < 0) {
      in.push_back(t.fixed[size_t(i)]);
      continue;
    }
    const Tensor& v = outs[size_t(h)];
    if (!v.defined() || v.tracked() || !v.has_data() || v.device() != Device::CPU ||
        v.dtype() != k.reg_dtype[size_t(i)] || v.numel() != k.in_numel[size_t(i)])
      return Tensor();
    in.push_back(v.is_contiguous() ? v : v.contiguous());
  }
  Tensor data = Tensor::empty(Shape{k.n}, t.dtype);
  kernels::fused_run(k, in.data(), &data, nullptr);
  return data;
}

std::string explain_gathered_tail(const GatheredTail& t) {
  std::string s = "gathered tail: " + std::to_string(t.kernel.n) + " elements, " +
                  std::to_string(t.kernel.steps.size()) + " steps [";
  for (size_t i = 0; i < t.kernel.steps.size(); ++i) {
    const FusedStep& st = t.kernel.steps[i];
    s += i ? " " : "";
    s += st.kind == FusedStep::Gather ? "gather" : "op";
  }
  s += "], operands: " + std::to_string(t.coded) + " coded, " + std::to_string(t.pregathered) + " gathered once, " +
       std::to_string(t.gathered) + " gathered per call\nhead: " + explain_fusion(*t.head);
  return s;
}

}  // namespace autodiff
}  // namespace tapegrad
