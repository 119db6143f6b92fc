// Fused replay of tg.jit recordings: see Note [Fused replay] in autodiff/fusion.h.
#include "autodiff/fusion.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <tuple>

#include "autodiff/batching.h"

namespace tapegrad {
namespace autodiff {

namespace {

using kernels::Bin;
using kernels::Cmp;
using kernels::FusedKernel;
using kernels::FusedStep;
using kernels::Pred;
using kernels::Un;

int64_t numel_of(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}
bool is_f(DType d) { return d == DType::Float32 || d == DType::Float64; }

// What a record is to the planner.
enum class Role { None, Step, Alias, Sum };
struct Classified {
  Role role = Role::None;
  FusedStep step;     // Role::Step: kind, op, dtype, from (registers are filled in later)
  int64_t n = 0;      // elements of the output
  int64_t row = 0;    // Role::Sum over the last axis: the row length
  bool cols = false;  // Role::Sum over other axes (SumCols/MaxCols/MinCols), through `map`
  kernels::ReduceMap map;
};

// The elementwise prims by name: each is named by the name column of the op table
// (core/elementwise_ops.def), in the order of its kernel enum.
int find_name(const char* name, const char* const* names, int count) {
  for (int i = 0; i < count; ++i)
    if (std::strcmp(name, names[i]) == 0) return i;
  return -1;
}
const char* const kUnNames[] = {
#define TG_UNARY_OP(Id, name, ...) #name,
#include "core/elementwise_ops.def"
};
const char* const kCmpNames[] = {
#define TG_COMPARE_OP(Id, name, ...) #name,
#include "core/elementwise_ops.def"
};
const char* const kPredNames[] = {
#define TG_PREDICATE_OP(Id, name, ...) #name,
#include "core/elementwise_ops.def"
};
// (the bitwise ones take no floats: the planner's float checks leave them out)
const char* const kBinNames[] = {
#define TG_BINARY_OP(Id, name, ...) #name,
#include "core/elementwise_ops.def"
};

// A step's name in f.explain().
const char* step_name(const FusedStep& st) {
  switch (st.kind) {
    case FusedStep::Unary: return kUnNames[st.op];
    case FusedStep::Binary: return kBinNames[st.op];
    case FusedStep::Compare: return kCmpNames[st.op];
    case FusedStep::Predicate: return kPredNames[st.op];
    case FusedStep::Where: return "where";
    case FusedStep::Cast: return st.from == st.dtype ? "copy" : "astype";
    case FusedStep::PowScalar: return "pow";
    case FusedStep::SumAll: return "sum";
    case FusedStep::SinCos: return "sincos";
    case FusedStep::MaxAll: return "amax";
    case FusedStep::MinAll: return "amin";
    case FusedStep::Expand: return "expand";
    case FusedStep::SumRows: return "sum_rows";
    case FusedStep::MaxRows: return "amax_rows";
    case FusedStep::MinRows: return "amin_rows";
    case FusedStep::SumCols: return "sum_cols";
    case FusedStep::MaxCols: return "amax_cols";
    case FusedStep::MinCols: return "amin_cols";
    case FusedStep::Gather: return "gather";
  }
  return "?";
}

// A partial broadcast of `in` to `out` (Note [Fused replay]): element i of the output reads element
// (i / div) % mod of the input (mod 0: no modulus). Per row: `in` is a leading part of `out`'s dims
// followed by ones ((n, 1) to (n, m)); per column: ones followed by a trailing part ((1, m) or (m,)
// to (n, m)).
bool partial_broadcast(const Shape& in, const Shape& out, int64_t& div, int64_t& mod) {
  if (in.size() > out.size()) return false;
  const size_t lead = out.size() - in.size();
  auto in_dim = [&](size_t d) { return d < lead ? int64_t(1) : in[d - lead]; };
  size_t p = 0;  // per row: dims [0, p) equal, [p, end) ones in `in`
  while (p < out.size() && in_dim(p) == out[p]) ++p;
  bool rows = true;
  for (size_t d = p; d < out.size(); ++d) rows = rows && in_dim(d) == 1;
  if (rows && p < out.size()) {
    div = 1;
    for (size_t d = p; d < out.size(); ++d) div *= out[d];
    mod = 0;
    return numel_of(in) > 1 && div > 1;
  }
  size_t q = out.size();  // per column: dims [q, end) equal, [0, q) ones in `in`
  while (q > 0 && in_dim(q - 1) == out[q - 1]) --q;
  for (size_t d = 0; d < q; ++d)
    if (in_dim(d) != 1) return false;
  div = 1;
  mod = numel_of(in);
  return mod > 1 && mod < numel_of(out);
}

struct SlotInfo {
  std::vector<Shape> shape;
  std::vector<DType> dtype;
};

Classified classify(const Program::Rec& r, const SlotInfo& si) {
  Classified c;
  if (r.out.size() != 1 || r.in.empty()) return c;
  for (int32_t s : r.in)
    if (s < 0) return c;
  const Shape& os = r.out_shapes[0];
  const DType od = r.out_dtypes[0];
  c.n = numel_of(os);
  const char* name = r.prim->name;
  auto ind = [&](size_t i) { return si.dtype[size_t(r.in[i])]; };
  auto inn = [&](size_t i) { return numel_of(si.shape[size_t(r.in[i])]); };
  const bool is_sum = std::strcmp(name, "sum") == 0, is_max = std::strcmp(name, "amax") == 0,
             is_min = std::strcmp(name, "amin") == 0;
  if (is_sum || is_max || is_min) {  // over all axes (one-element result), or over the last axis
    if (r.in.size() != 1 || !is_f(ind(0)) || od != ind(0) || inn(0) <= 1 || r.attrs.ints.empty()) return c;
    const Shape& is = si.shape[size_t(r.in[0])];
    const int64_t m = is.empty() ? 1 : is.back();
    if (c.n == 1) {
      c.role = Role::Sum;
      c.step.kind = is_sum ? FusedStep::SumAll : is_max ? FusedStep::MaxAll : FusedStep::MinAll;
    } else if (is.size() >= 2 && uint64_t(r.attrs.ints[0]) == (uint64_t(1) << (is.size() - 1)) && m >= 2 &&
               m <= kernels::kFusedMaxRow) {
      c.role = Role::Sum;
      c.row = m;
      c.step.kind = is_sum ? FusedStep::SumRows : is_max ? FusedStep::MaxRows : FusedStep::MinRows;
    } else if (is.size() >= 2 && r.attrs.ints[0] > 0 && c.n <= kernels::kFusedMaxCols &&
               uint64_t(r.attrs.ints[0]) != (uint64_t(1) << (is.size() - 1))) {
      // Over other axes (the first axis, middle axes, a set with gaps, or the last one with
      // others): the value's axes, size-1 ones dropped, runs of reduced or kept ones merged.
      const uint64_t mask = uint64_t(r.attrs.ints[0]);
      kernels::ReduceMap& map = c.map;
      std::vector<uint8_t> reduced;
      int64_t len = 1;
      for (size_t d = 0; d < is.size() && d < 64; ++d) {
        if (is[d] == 1) continue;
        const bool red = (mask >> d) & 1;
        if (red) len *= is[d];
        if (!reduced.empty() && reduced.back() == red) {
          map.extent.back() *= is[d];
        } else {
          map.extent.push_back(is[d]);
          reduced.push_back(red);
        }
      }
      int64_t stride = 1;
      map.out_stride.assign(map.extent.size(), 0);
      for (size_t d = map.extent.size(); d-- > 0;)
        if (!reduced[d]) {
          map.out_stride[d] = stride;
          stride *= map.extent[d];
        }
      map.outputs = stride;
      if (is.size() <= 64 && len >= 2 && stride == c.n && c.n >= 2) {
        c.role = Role::Sum;
        c.cols = true;
        c.step.kind = is_sum ? FusedStep::SumCols : is_max ? FusedStep::MaxCols : FusedStep::MinCols;
      }
    }
    c.step.dtype = od;
    return c;
  }
  // One-element work (a scalar chain of a gradient's seed) runs op by op: it neither joins nor
  // closes the open group.
  if (c.n <= 1) return c;
  for (size_t i = 0; i < r.in.size(); ++i) {
    int64_t div, mod;
    if (inn(i) != c.n && inn(i) != 1 && !partial_broadcast(si.shape[size_t(r.in[i])], os, div, mod)) return c;
  }
  if (std::strcmp(name, "broadcast_to") == 0 || std::strcmp(name, "stop_gradient") == 0) {
    if (r.in.size() == 1 && ind(0) == od && (is_f(od) || od == DType::Bool)) c.role = Role::Alias;
    return c;
  }
  if (r.prim->batch != elementwise_batch) return c;
  FusedStep& st = c.step;
  int k;
  if (r.in.size() == 1 && (k = find_name(name, kUnNames, int(Un::kCount))) >= 0) {
    if (!is_f(od) || ind(0) != od) return c;
    st.kind = FusedStep::Unary;
    st.op = uint8_t(k);
    st.dtype = od;
  } else if (r.in.size() == 2 && (k = find_name(name, kBinNames, int(sizeof(kBinNames) / sizeof(kBinNames[0])))) >= 0) {
    if (!is_f(od) || ind(0) != od || ind(1) != od) return c;
    st.kind = FusedStep::Binary;
    st.op = uint8_t(k);
    st.dtype = od;
    if (Bin(k) == Bin::Pow && inn(1) == 1 && si.shape[size_t(r.in[0])] == os) st.kind = FusedStep::PowScalar;
  } else if (r.in.size() == 2 && (k = find_name(name, kCmpNames, int(Cmp::kCount))) >= 0) {
    if (od != DType::Bool || !is_f(ind(0)) || ind(1) != ind(0)) return c;
    st.kind = FusedStep::Compare;
    st.op = uint8_t(k);
    st.dtype = ind(0);
  } else if (r.in.size() == 1 && (k = find_name(name, kPredNames, int(Pred::kCount))) >= 0) {
    if (od != DType::Bool || !is_f(ind(0))) return c;
    st.kind = FusedStep::Predicate;
    st.op = uint8_t(k);
    st.dtype = ind(0);
  } else if (r.in.size() == 3 && std::strcmp(name, "where") == 0) {
    if (!is_f(od) || ind(0) != DType::Bool || ind(1) != od || ind(2) != od) return c;
    st.kind = FusedStep::Where;
    st.dtype = od;
  } else if (r.in.size() == 1 && std::strcmp(name, "astype") == 0) {
    const DType from = ind(0);
    if (from == od || !(is_f(od) || od == DType::Bool) || !(is_f(from) || from == DType::Bool)) return c;
    st.kind = FusedStep::Cast;
    st.dtype = od;
    st.from = from;
  } else {
    return c;
  }
  c.role = Role::Step;
  return c;
}

struct Building {
  int64_t n = 0;
  std::vector<int32_t> recs;
  int64_t row = 0;  // row length of its row reductions (0: none)
};

// Compiles the members of a group into its register program; false when it is not worth it.
// Values the trace knows (Note [Fused replay], constant folding): has[s] when slot s holds one
// value `v[s]` on every replay.
struct Known {
  std::vector<uint8_t> has;
  std::vector<double> v;
  bool is(int32_t s, double x, bool sign) const {
    return s >= 0 && has[size_t(s)] && v[size_t(s)] == x && std::signbit(v[size_t(s)]) == sign;
  }
};

bool compile(const Program& p, const SlotInfo& si, const std::vector<Classified>& cls, const Building& b,
             const std::vector<uint8_t>& live, const Known& known, FusionPlan::Group& g) {
  FusedKernel& k = g.kernel;
  k.n = b.n;
  k.row = b.row;
  std::vector<int32_t> slot2reg(size_t(p.num_slots), -1);
  std::vector<uint8_t> produced(size_t(p.num_slots), 0);
  for (int32_t ri : b.recs)
    for (int32_t s : p.recs[size_t(ri)].out) produced[size_t(s)] = 1;
  auto new_reg = [&](DType d, bool scalar) {
    k.reg_dtype.push_back(d);
    k.reg_scalar.push_back(scalar ? 1 : 0);
    return k.num_regs++;
  };
  // Inputs first: registers [0, num_inputs).
  for (int32_t ri : b.recs)
    for (int32_t s : p.recs[size_t(ri)].in)
      if (!produced[size_t(s)] && slot2reg[size_t(s)] < 0) {
        const int64_t ne = numel_of(si.shape[size_t(s)]);
        slot2reg[size_t(s)] = new_reg(si.dtype[size_t(s)], ne == 1);
        k.in_numel.push_back(ne);
        g.in_slots.push_back(s);
      }
  k.num_inputs = k.num_regs;
  // The register of slot `s` as an operand of a record whose output has shape `os`: a partially
  // broadcast input is expanded block by block into a register of its own (once per pattern).
  std::map<std::tuple<int32_t, int64_t, int64_t>, int32_t> expanded;
  auto operand = [&](int32_t s, const Shape& os) {
    const int32_t reg = slot2reg[size_t(s)];
    int64_t div, mod;
    if (reg >= k.num_inputs || k.reg_scalar[size_t(reg)] || k.in_numel[size_t(reg)] == k.n ||
        !partial_broadcast(si.shape[size_t(s)], os, div, mod))
      return reg;
    auto key = std::make_tuple(reg, div, mod);
    auto it = expanded.find(key);
    if (it != expanded.end()) return it->second;
    FusedStep st;
    st.kind = FusedStep::Expand;
    st.dtype = k.reg_dtype[size_t(reg)];
    st.a = reg;
    st.div = div;
    st.mod = mod;
    st.out = new_reg(st.dtype, false);
    k.steps.push_back(st);
    expanded.emplace(key, st.out);
    return st.out;
  };
  std::map<std::tuple<int, int, int, int, int, int, int>, int32_t> cse;
  for (int32_t ri : b.recs) {
    const Program::Rec& r = p.recs[size_t(ri)];
    const Classified& c = cls[size_t(ri)];
    const int32_t out = r.out[0];
    if (c.role == Role::Alias) {
      slot2reg[size_t(out)] = operand(r.in[0], r.out_shapes[0]);
      continue;
    }
    if (c.role == Role::Sum) {
      if (!live[size_t(out)]) continue;  // a loss nobody reads (grad's forward pass): dead
      // A column sum of a value the group writes to memory anyway (a later op reads it) saves no
      // memory traffic: it runs after the group as the eager sum (vectorised, the eager bits).
      if (c.cols && live[size_t(r.in[0])]) {
        g.deferred.push_back(ri);
        continue;
      }
      FusedStep st = c.step;
      st.a = slot2reg[size_t(r.in[0])];
      st.out = k.num_sums++;
      if (c.cols) {
        st.map = int32_t(k.maps.size());
        k.maps.push_back(c.map);
      }
      k.steps.push_back(st);
      g.sum_slots.push_back(out);
      g.sum_shapes.push_back(r.out_shapes[0]);
      g.sum_dtypes.push_back(r.out_dtypes[0]);
      continue;
    }
    FusedStep st = c.step;
    const Shape& os = r.out_shapes[0];
    const int32_t regs[3] = {operand(r.in[0], os), r.in.size() > 1 ? operand(r.in[1], os) : -1,
                             r.in.size() > 2 ? operand(r.in[2], os) : -1};
    if (st.kind == FusedStep::PowScalar && !(regs[1] < k.num_inputs && k.reg_scalar[size_t(regs[1])]))
      st.kind = FusedStep::Binary;
    // Constant folding, only where the result is exactly the other operand, NaN and signed zeros
    // included: x*1, 1*x, x/1, x**1, x-(+0), x+(-0), (-0)+x (never x+0: -0 + +0 is +0). The operand
    // kept must have the output's n elements (a broadcast scalar would need a copy anyway).
    if (st.kind == FusedStep::Binary || st.kind == FusedStep::PowScalar) {
      const Bin op = Bin(st.op);
      const int32_t s0 = r.in[0], s1 = r.in[1];
      int keep = -1;
      if (op == Bin::Mul || op == Bin::Div || op == Bin::Pow) {
        if (known.is(s1, 1.0, false)) keep = 0;
        if (keep < 0 && op == Bin::Mul && known.is(s0, 1.0, false)) keep = 1;
      } else if (op == Bin::Sub) {
        if (known.is(s1, 0.0, false)) keep = 0;
      } else if (op == Bin::Add) {
        if (known.is(s1, 0.0, true)) keep = 0;
        if (keep < 0 && known.is(s0, 0.0, true)) keep = 1;
      }
      if (keep >= 0) {
        const int32_t kr = regs[keep];
        const int32_t ks = r.in[size_t(keep)];
        if (k.reg_dtype[size_t(kr)] == r.out_dtypes[0] && !(kr < k.num_inputs && k.reg_scalar[size_t(kr)]) &&
            (kr >= k.num_inputs || numel_of(si.shape[size_t(ks)]) == k.n)) {
          slot2reg[size_t(out)] = kr;
          ++g.folded;
          continue;
        }
      }
    }
    auto key = std::make_tuple(int(st.kind), int(st.op), int(st.dtype), int(st.from), regs[0], regs[1], regs[2]);
    auto it = cse.find(key);
    if (it != cse.end()) {  // the same kernel on the same registers: the same bits
      slot2reg[size_t(out)] = it->second;
      ++g.repeated;
      continue;
    }
    st.a = regs[0];
    st.b = regs[1];
    st.c = regs[2];
    st.out = new_reg(r.out_dtypes[0], false);
    k.costly = k.costly || (st.kind == FusedStep::Unary && !kernels::cheap_unary(Un(st.op))) ||
               st.kind == FusedStep::PowScalar || (st.kind == FusedStep::Binary && !kernels::cheap_binary(Bin(st.op)));
    cse.emplace(key, st.out);
    slot2reg[size_t(out)] = st.out;
    k.steps.push_back(st);
  }
  // Live outputs: a register of its own each, written in place (a copy where the value is an
  // input, a broadcast scalar, or another output's register).
  k.reg_output.assign(size_t(k.num_regs), -1);
  for (int32_t ri : b.recs) {
    const Program::Rec& r = p.recs[size_t(ri)];
    const int32_t s = r.out[0];
    if (cls[size_t(ri)].role == Role::Sum) continue;
    if (!live[size_t(s)]) {
      g.internal.push_back(s);
      continue;
    }
    int32_t reg = slot2reg[size_t(s)];
    if (reg < k.num_inputs || k.reg_output[size_t(reg)] >= 0) {
      FusedStep cp;
      cp.kind = FusedStep::Cast;
      cp.dtype = cp.from = k.reg_dtype[size_t(reg)];
      cp.a = reg;
      cp.out = new_reg(cp.dtype, false);
      k.reg_output.push_back(-1);
      k.steps.push_back(cp);
      reg = cp.out;
    }
    k.reg_output[size_t(reg)] = k.num_outputs++;
    g.out_slots.push_back(s);
    g.out_shapes.push_back(r.out_shapes[0]);
    g.out_dtypes.push_back(r.out_dtypes[0]);
  }
  // Dead steps (nobody reads them) go; then scratch buffers for the temporaries, reused once dead.
  std::vector<uint8_t> needed(size_t(k.num_regs), 0);
  std::vector<FusedStep> kept;
  for (size_t i = k.steps.size(); i-- > 0;) {
    const FusedStep& st = k.steps[i];
    const bool keep = FusedStep::is_reduction(st.kind) || needed[size_t(st.out)] || k.reg_output[size_t(st.out)] >= 0;
    if (!keep) {
      ++g.dead;
      continue;
    }
    for (int32_t r : {st.a, st.b, st.c})
      if (r >= 0) needed[size_t(r)] = 1;
    kept.push_back(st);
  }
  k.steps.assign(kept.rbegin(), kept.rend());
  // sin and cos of one register (a gradient of sin, or of cos, needs both): one sincos step at the
  // first of the two, sharing the range reduction and polynomials (the same bits as each).
  for (size_t i = 0; i < k.steps.size(); ++i) {
    FusedStep& st = k.steps[i];
    if (st.kind != FusedStep::Unary || (Un(st.op) != Un::Sin && Un(st.op) != Un::Cos)) continue;
    const Un other = Un(st.op) == Un::Sin ? Un::Cos : Un::Sin;
    for (size_t j = i + 1; j < k.steps.size(); ++j) {
      const FusedStep& o = k.steps[j];
      if (o.kind != FusedStep::Unary || Un(o.op) != other || o.a != st.a || o.dtype != st.dtype) continue;
      const int32_t sin_reg = other == Un::Cos ? st.out : o.out, cos_reg = other == Un::Cos ? o.out : st.out;
      st.kind = FusedStep::SinCos;
      ++g.sincos;
      st.out = sin_reg;
      st.out2 = cos_reg;
      k.steps.erase(k.steps.begin() + std::ptrdiff_t(j));
      break;
    }
  }
  // Inputs no step reads any more (an operand folded away, as a gradient's seed of ones) go: the
  // replay neither checks nor copies them, and f.explain() does not list them.
  {
    std::vector<uint8_t> read(size_t(k.num_inputs), 0);
    for (const FusedStep& st : k.steps)
      for (int32_t r : {st.a, st.b, st.c})
        if (r >= 0 && r < k.num_inputs) read[size_t(r)] = 1;
    std::vector<int32_t> to(size_t(k.num_regs), -1);
    int32_t next = 0;
    for (int32_t r = 0; r < k.num_regs; ++r)
      if (r >= k.num_inputs || read[size_t(r)]) to[size_t(r)] = next++;
    if (next < k.num_regs) {
      auto keep_regs = [&](auto& v) {
        size_t w = 0;
        for (int32_t r = 0; r < k.num_regs; ++r)
          if (to[size_t(r)] >= 0) v[w++] = v[size_t(r)];
        v.resize(w);
      };
      keep_regs(k.reg_dtype);
      keep_regs(k.reg_scalar);
      keep_regs(k.reg_output);
      size_t w = 0;
      for (int32_t r = 0; r < k.num_inputs; ++r)
        if (read[size_t(r)]) {
          k.in_numel[w] = k.in_numel[size_t(r)];
          g.in_slots[w++] = g.in_slots[size_t(r)];
        }
      k.in_numel.resize(w);
      g.in_slots.resize(w);
      for (FusedStep& st : k.steps) {
        for (int32_t* r : {&st.a, &st.b, &st.c, &st.out2})
          if (*r >= 0) *r = to[size_t(*r)];
        if (!FusedStep::is_reduction(st.kind)) st.out = to[size_t(st.out)];  // (a reduction's: its result)
      }
      k.num_inputs = int32_t(w);
      k.num_regs = next;
    }
  }
  std::vector<int64_t> last(size_t(k.num_regs), -1);
  for (size_t i = 0; i < k.steps.size(); ++i)
    for (int32_t r : {k.steps[i].a, k.steps[i].b, k.steps[i].c})
      if (r >= 0) last[size_t(r)] = int64_t(i);
  k.reg_scratch.assign(size_t(k.num_regs), -1);
  std::vector<int32_t> free_bufs;
  for (size_t i = 0; i < k.steps.size(); ++i) {
    const FusedStep& st = k.steps[i];
    // Buffers of registers last read by this step are free once it ran (a loop may write its
    // output over an input it reads element by element, but keep them apart to be safe).
    for (int32_t out : {st.out, st.out2}) {
      if (out < 0 || FusedStep::is_reduction(st.kind) || k.reg_output[size_t(out)] >= 0) continue;
      int32_t buf;
      if (!free_bufs.empty()) {
        buf = free_bufs.back();
        free_bufs.pop_back();
      } else {
        buf = k.num_scratch++;
      }
      k.reg_scratch[size_t(out)] = buf;
    }
    for (int32_t out : {st.out, st.out2})  // never read (only a sincos half can be)
      if (out >= 0 && !FusedStep::is_reduction(st.kind) && k.reg_output[size_t(out)] < 0 && last[size_t(out)] < 0)
        free_bufs.push_back(k.reg_scratch[size_t(out)]);
    for (int32_t r : {st.a, st.b, st.c})
      if (r >= k.num_inputs && last[size_t(r)] == int64_t(i) && k.reg_scratch[size_t(r)] >= 0) {
        bool dup = false;
        for (int32_t f : free_bufs) dup = dup || f == k.reg_scratch[size_t(r)];
        if (!dup) free_bufs.push_back(k.reg_scratch[size_t(r)]);
      }
  }
  g.recs.clear();
  for (int32_t ri : b.recs)
    if (std::find(g.deferred.begin(), g.deferred.end(), ri) == g.deferred.end()) g.recs.push_back(ri);
  int members = 0;
  for (const FusedStep& st : k.steps) members += st.kind != FusedStep::Cast || st.from != st.dtype;
  return b.n >= fuse_min_elements() && b.recs.size() >= 2 && members >= 1;
}

}  // namespace

// Note [Replay arena].
class ReplayArena final : public StorageSource {
 public:
  // Takes the arena for one replay on this thread; false when another replay holds it.
  bool acquire() {
    if (busy_.exchange(true, std::memory_order_acquire)) return false;
    // Buffers someone else still holds escaped the last replay: theirs now.
    size_t k = 0;
    for (size_t i = 0; i < bufs_.size(); ++i)
      if (bufs_[i].use_count() == 1) bufs_[k++] = std::move(bufs_[i]);
    bufs_.resize(k);
    return true;
  }
  void release() { busy_.store(false, std::memory_order_release); }
  Ref<Storage> take(size_t nbytes) override {
    for (const Ref<Storage>& b : bufs_)
      if (b->nbytes == nbytes && b.use_count() == 1) return b;
    StorageSource* prev = set_storage_source(nullptr);  // this allocation from the allocator
    Ref<Storage> b;
    try {
      b = Storage::allocate(nbytes);
    } catch (...) {
      set_storage_source(prev);
      throw;
    }
    set_storage_source(prev);
    bufs_.push_back(b);
    return b;
  }
  ArenaStats stats() {
    ArenaStats st;
    if (busy_.exchange(true, std::memory_order_acquire)) return st;  // in use by a replay
    for (const Ref<Storage>& b : bufs_) {
      ++st.buffers;
      st.bytes += int64_t(b->nbytes);
    }
    release();
    return st;
  }

 private:
  std::atomic<bool> busy_{false};
  std::vector<Ref<Storage>> bufs_;
};

ArenaStats arena_stats(const Program& p) {
  return p.fusion && p.fusion->arena ? p.fusion->arena->stats() : ArenaStats{};
}

namespace {
// While alive: `a` is this thread's storage source (when `a` is set and the arena was free).
class ArenaScope {
 public:
  explicit ArenaScope(ReplayArena* a) : a_(a && a->acquire() ? a : nullptr) {
    if (a_) prev_ = set_storage_source(a_);
  }
  ~ArenaScope() {
    if (!a_) return;
    set_storage_source(prev_);
    a_->release();
  }
  ArenaScope(const ArenaScope&) = delete;
  ArenaScope& operator=(const ArenaScope&) = delete;
  // Program outputs are allocated outside the arena (they leave with the caller).
  void outside(bool yes) {
    if (a_) set_storage_source(yes ? prev_ : a_);
  }

 private:
  ReplayArena* a_;
  StorageSource* prev_ = nullptr;
};
}  // namespace

int64_t fuse_min_elements() {
  static const int64_t v = [] {
    const char* e = std::getenv("TAPEGRAD_JIT_FUSE_MIN");
    if (!e || !*e) return kMinFuseElements;
    char* end = nullptr;
    const long long x = std::strtoll(e, &end, 10);
    return (end && *end == 0 && x >= 1) ? int64_t(x) : kMinFuseElements;
  }();
  return v;
}

void plan_fusion(Program& p) {
  p.fusion.reset();
  if (p.impure || !p.guards.empty() || p.recs.empty()) return;
  if (p.input_shapes.size() != size_t(p.num_inputs)) return;
  SlotInfo si;
  si.shape.resize(size_t(p.num_slots));
  si.dtype.resize(size_t(p.num_slots), DType::Float32);
  std::vector<uint8_t> known(size_t(p.num_slots), 0);
  for (int32_t i = 0; i < p.num_inputs; ++i) {
    si.shape[size_t(i)] = p.input_shapes[size_t(i)];
    si.dtype[size_t(i)] = p.input_dtypes[size_t(i)];
    known[size_t(i)] = 1;
  }
  for (const Program::Constant& c : p.constants) {
    if (!c.value.defined()) continue;
    si.shape[size_t(c.slot)] = c.value.shape();
    si.dtype[size_t(c.slot)] = c.value.dtype();
    known[size_t(c.slot)] = 1;
  }
  for (const Program::Rec& r : p.recs)
    for (size_t j = 0; j < r.out.size(); ++j) {
      si.shape[size_t(r.out[j])] = r.out_shapes[j];
      si.dtype[size_t(r.out[j])] = r.out_dtypes[j];
      known[size_t(r.out[j])] = 1;
    }
  // Dead records: every output unread and not a program output, and no side effect (random draws
  // have no inputs; writes and user-defined rules are kept). Removed from the fused schedule.
  std::vector<uint8_t> dead(p.recs.size(), 0);
  int32_t plan_dead = 0, plan_same = 0;
  {
    std::vector<int32_t> readers(size_t(p.num_slots), 0);
    for (const Program::Rec& r : p.recs)
      for (int32_t s : r.in)
        if (s >= 0) ++readers[size_t(s)];
    for (int32_t s : p.outputs) ++readers[size_t(s)];
    for (size_t k = p.recs.size(); k-- > 0;) {
      const Program::Rec& r = p.recs[k];
      if (r.in.empty() || r.prim->writes_input0 || r.attrs.payload || r.prim->record_forward) continue;
      bool unread = true;
      for (int32_t s : r.out) unread = unread && readers[size_t(s)] == 0;
      if (!unread) continue;
      dead[k] = 1;
      for (int32_t s : r.in)
        if (s >= 0) --readers[size_t(s)];
    }
  }
  for (uint8_t d : dead) plan_dead += d;
  // Values the trace knows, for constant folding: a one-element float constant that only this
  // program holds (no user reference, no view, not numpy's memory: nothing can change it between
  // replays), and reshapes, broadcasts and float casts of one. Programs with recorded writes are
  // left alone (a write could reach a constant through a view).
  Known kn;
  kn.has.assign(size_t(p.num_slots), 0);
  kn.v.assign(size_t(p.num_slots), 0.0);
  bool writes = false;
  for (const Program::Rec& r : p.recs) writes = writes || r.prim->writes_input0;
  for (const Program::Constant& c : p.constants) {
    const Tensor& t = c.value;
    if (writes || !t.defined() || !t.has_data() || t.tracked() || t.numel() != 1 || !is_f(t.dtype()) ||
        t.device() != Device::CPU || t.ref().use_count() != 1 || t.storage()->borrowed() ||
        t.impl()->storage.use_count() != 1)
      continue;
    kn.has[size_t(c.slot)] = 1;
    kn.v[size_t(c.slot)] = t.dtype() == DType::Float32 ? double(*t.data<float>()) : *t.data<double>();
  }
  for (const Program::Rec& r : p.recs) {
    if (r.in.size() != 1 || r.out.size() != 1 || r.in[0] < 0 || !kn.has[size_t(r.in[0])]) continue;
    const char* name = r.prim->name;
    if (std::strcmp(name, "reshape") == 0 || std::strcmp(name, "broadcast_to") == 0 ||
        std::strcmp(name, "stop_gradient") == 0 || (std::strcmp(name, "astype") == 0 && is_f(r.out_dtypes[0]))) {
      const double v = kn.v[size_t(r.in[0])];
      // A cast keeps the value when float32 holds it exactly (0, -0 and 1 do).
      if (r.out_dtypes[0] == DType::Float32 && double(float(v)) != v) continue;
      kn.has[size_t(r.out[0])] = 1;
      kn.v[size_t(r.out[0])] = v;
    }
  }
  std::vector<Classified> cls(p.recs.size());
  for (size_t k = 0; k < p.recs.size(); ++k) {
    bool ok = true;
    for (int32_t s : p.recs[k].in) ok = ok && (s < 0 || known[size_t(s)]);
    if (ok) cls[k] = classify(p.recs[k], si);
  }
  // Identical records outside groups (same prim, attrs and input values) share their outputs.
  std::vector<int32_t> cse_of(p.recs.size(), -1);
  {
    std::vector<uint8_t> is_output(size_t(p.num_slots), 0);
    for (int32_t s : p.outputs) is_output[size_t(s)] = 1;
    std::vector<int32_t> canon(size_t(p.num_slots));
    for (int32_t s = 0; s < p.num_slots; ++s) canon[size_t(s)] = s;
    std::map<std::string, int32_t> seen;
    for (size_t k = 0; k < p.recs.size(); ++k) {
      const Program::Rec& r = p.recs[k];
      if (dead[k] || cls[k].role != Role::None || r.in.empty() || r.prim->writes_input0 || r.attrs.payload ||
          r.prim->record_forward)
        continue;
      std::string key(reinterpret_cast<const char*>(&r.prim), sizeof(r.prim));
      auto put = [&key](const void* v, size_t n) { key.append(static_cast<const char*>(v), n); };
      for (int32_t s : r.in) {
        const int32_t c = s >= 0 ? canon[size_t(s)] : -1;
        put(&c, sizeof(c));
      }
      key += '|';
      for (int64_t v : r.attrs.ints) put(&v, sizeof(v));
      put(&r.attrs.scalar, sizeof(double));
      put(&r.attrs.flag, sizeof(int64_t));
      put(&r.attrs.dtype, sizeof(DType));
      const size_t nout = r.out.size();
      put(&nout, sizeof(nout));
      auto it = seen.find(key);
      bool out_is_output = false;
      for (int32_t s : r.out) out_is_output = out_is_output || is_output[size_t(s)];
      if (it == seen.end()) {
        seen.emplace(std::move(key), int32_t(k));
        continue;
      }
      const Program::Rec& o = p.recs[size_t(it->second)];
      bool same = !out_is_output;
      for (size_t j = 0; same && j < nout; ++j)
        same = o.out_shapes[j] == r.out_shapes[j] && o.out_dtypes[j] == r.out_dtypes[j];
      if (!same) continue;
      cse_of[k] = it->second;
      ++plan_same;
      for (size_t j = 0; j < nout; ++j) canon[size_t(r.out[j])] = canon[size_t(o.out[j])];
    }
  }
  // Scan with one open group (Note [Fused replay]); `order` is the schedule: record k >= 0 or
  // group -1 - g.
  std::vector<Building> built;
  std::vector<int64_t> order;
  std::vector<int32_t> group_of(size_t(p.num_slots), -1);  // building group that produced a slot
  std::vector<uint8_t> is_sum(size_t(p.num_slots), 0);
  std::vector<uint8_t> step_value(size_t(p.num_slots), 0);  // computed by a step (not an alias)
  int32_t open = -1;
  auto close = [&]() {
    if (open >= 0) order.push_back(-1 - int64_t(open));
    open = -1;
  };
  for (size_t k = 0; k < p.recs.size(); ++k) {
    if (dead[k]) continue;
    const Program::Rec& r = p.recs[k];
    const Classified& c = cls[k];
    bool reads_open = false, reads_open_sum = false;
    for (int32_t s : r.in)
      if (s >= 0 && open >= 0 && group_of[size_t(s)] == open) {
        reads_open = true;
        reads_open_sum = reads_open_sum || is_sum[size_t(s)];
      }
    // A step of another size that reads nothing of the open group and is too small to be fused
    // itself runs op by op before the group instead of closing it: the per-element factors of a
    // batched Jacobian's sweep (cos(x) of d sin(x), n elements beside the group's n x n) would
    // otherwise cut the sweep into groups that pass their n x n values through memory.
    if (c.role == Role::Step && open >= 0 && built[size_t(open)].n != c.n && !reads_open && c.n < fuse_min_elements()) {
      order.push_back(int64_t(k));
      continue;
    }
    if (c.role == Role::Step || c.role == Role::Alias) {
      if (open < 0 || built[size_t(open)].n != c.n || reads_open_sum) {
        close();
        built.push_back(Building{c.n, {}});
        open = int32_t(built.size()) - 1;
      }
      built[size_t(open)].recs.push_back(int32_t(k));
      group_of[size_t(r.out[0])] = open;
      step_value[size_t(r.out[0])] = c.role == Role::Step;
      continue;
    }
    // A row reduction joins when it reduces a value a step of the group computes (an input or an
    // alias of one may be a strided view, which the eager reduction adds in another order) and
    // the group has no rows of another length (its blocks hold whole rows).
    const bool rows_ok = c.row == 0 || (open >= 0 && step_value[size_t(r.in[0])] && group_of[size_t(r.in[0])] == open &&
                                        (built[size_t(open)].row == 0 || built[size_t(open)].row == c.row));
    // A column sum likewise reads a value a step computes (contiguous, in the group's order).
    const bool cols_ok = !c.cols || (open >= 0 && step_value[size_t(r.in[0])] && group_of[size_t(r.in[0])] == open);
    if (c.role == Role::Sum && open >= 0 && reads_open && !reads_open_sum && rows_ok && cols_ok) {
      if (c.row) built[size_t(open)].row = c.row;
      built[size_t(open)].recs.push_back(int32_t(k));
      group_of[size_t(r.out[0])] = open;
      is_sum[size_t(r.out[0])] = 1;
      continue;
    }
    if (cse_of[k] >= 0) {  // reads nothing but the earlier record's outputs (never a group's)
      order.push_back(int64_t(k));
      continue;
    }
    if (reads_open || r.prim->writes_input0) close();
    order.push_back(int64_t(k));
  }
  close();
  // Live values: read by a record of another group or outside any group, or program outputs.
  std::vector<int32_t> owner(size_t(p.num_slots), -1);  // building group of each produced slot
  std::vector<int32_t> rec_group(p.recs.size(), -1);
  for (size_t g = 0; g < built.size(); ++g)
    for (int32_t ri : built[g].recs) {
      rec_group[size_t(ri)] = int32_t(g);
      for (int32_t s : p.recs[size_t(ri)].out) owner[size_t(s)] = int32_t(g);
    }
  std::vector<uint8_t> live(size_t(p.num_slots), 0);
  for (size_t k = 0; k < p.recs.size(); ++k)
    for (int32_t s : p.recs[k].in)
      if (!dead[k] && cse_of[k] < 0 && s >= 0 && owner[size_t(s)] >= 0 && owner[size_t(s)] != rec_group[k])
        live[size_t(s)] = 1;
  for (int32_t s : p.outputs) live[size_t(s)] = 1;
  auto plan = std::make_shared<FusionPlan>();
  bool any = false;
  for (int64_t o : order) {
    if (o >= 0) {
      FusionPlan::Item it;
      if (cse_of[size_t(o)] >= 0) {
        it.same_as = cse_of[size_t(o)];
        it.rec_cse = int32_t(o);
      } else {
        it.rec = int32_t(o);
      }
      plan->items.push_back(it);
      continue;
    }
    const Building& b = built[size_t(-1 - o)];
    FusionPlan::Group g;
    if (compile(p, si, cls, b, live, kn, g)) {
      FusionPlan::Item it;
      it.group = int32_t(plan->groups.size());
      const std::vector<int32_t> deferred = g.deferred;
      plan->groups.push_back(std::move(g));
      plan->items.push_back(it);
      for (int32_t ri : deferred) {  // column sums of the group's outputs, after it
        FusionPlan::Item d;
        d.rec = ri;
        plan->items.push_back(d);
      }
      any = true;
    } else {
      for (int32_t ri : b.recs) {
        FusionPlan::Item it;
        it.rec = ri;
        plan->items.push_back(it);
      }
    }
  }
  if (!any) return;
  // Free each value after the last item that reads it (outputs and constants live to the end).
  std::vector<int64_t> last(size_t(p.num_slots), -1);
  std::vector<uint8_t> keep(size_t(p.num_slots), 0);
  for (int32_t s : p.outputs) keep[size_t(s)] = 1;
  for (const Program::Constant& c : p.constants) keep[size_t(c.slot)] = 1;
  for (int32_t i = 0; i < p.num_inputs; ++i) keep[size_t(i)] = 1;
  for (size_t i = 0; i < plan->items.size(); ++i) {
    const FusionPlan::Item& it = plan->items[i];
    if (it.rec >= 0) {
      for (int32_t s : p.recs[size_t(it.rec)].in)
        if (s >= 0) last[size_t(s)] = int64_t(i);
      for (int32_t s : p.recs[size_t(it.rec)].out)
        if (last[size_t(s)] < int64_t(i)) last[size_t(s)] = int64_t(i);
    } else if (it.same_as >= 0) {
      for (int32_t s : p.recs[size_t(it.same_as)].out) last[size_t(s)] = int64_t(i);
      for (int32_t s : p.recs[size_t(it.rec_cse)].out)
        if (last[size_t(s)] < int64_t(i)) last[size_t(s)] = int64_t(i);
    } else {
      const FusionPlan::Group& g = plan->groups[size_t(it.group)];
      for (int32_t s : g.in_slots) last[size_t(s)] = int64_t(i);
      for (int32_t s : g.out_slots)
        if (last[size_t(s)] < int64_t(i)) last[size_t(s)] = int64_t(i);
      for (int32_t s : g.sum_slots)
        if (last[size_t(s)] < int64_t(i)) last[size_t(s)] = int64_t(i);
    }
  }
  for (int32_t s = 0; s < p.num_slots; ++s)
    if (!keep[size_t(s)] && last[size_t(s)] >= 0) plan->items[size_t(last[size_t(s)])].release.push_back(s);
  // Program outputs leave with the caller: they are allocated outside the arena.
  std::vector<uint8_t> is_out(size_t(p.num_slots), 0);
  for (int32_t s : p.outputs) is_out[size_t(s)] = 1;
  for (FusionPlan::Item& it : plan->items)
    if (it.rec >= 0)
      for (int32_t s : p.recs[size_t(it.rec)].out) it.escapes = it.escapes || is_out[size_t(s)];
  for (FusionPlan::Group& g : plan->groups) {
    for (int32_t s : g.out_slots) g.out_escapes.push_back(is_out[size_t(s)]);
    for (int32_t s : g.sum_slots) g.sum_escapes.push_back(is_out[size_t(s)]);
  }
  plan->arena = std::make_shared<ReplayArena>();
  plan->dead_records = plan_dead;
  plan->same_records = plan_same;
  p.fusion = plan;
}

bool replay_fused(const Program& p, const TensorList& inputs, TensorList& outs) {
  const FusionPlan& plan = *p.fusion;
  std::vector<Tensor> slot(static_cast<size_t>(p.num_slots));
  for (int32_t i = 0; i < p.num_inputs; ++i) slot[size_t(i)] = inputs[size_t(i)];
  for (const Program::Constant& c : p.constants) slot[size_t(c.slot)] = c.value;
  TensorList in;
  // Note [Replay arena]: intermediates come from the program's arena, outputs from the allocator.
  ArenaScope arena(plan.arena.get());
  auto run_rec = [&](int32_t k) { return Program::run_record(p.recs[size_t(k)], slot, in); };
  std::vector<Tensor> gin, gout, gsum;
  for (const FusionPlan::Item& it : plan.items) {
    if (it.rec >= 0) {
      arena.outside(it.escapes);
      const bool ok = run_rec(it.rec);
      arena.outside(false);
      if (!ok) return false;
    } else if (it.same_as >= 0) {
      const Program::Rec& o = p.recs[size_t(it.same_as)];
      const Program::Rec& r = p.recs[size_t(it.rec_cse)];
      for (size_t j = 0; j < r.out.size(); ++j) slot[size_t(r.out[j])] = slot[size_t(o.out[j])];
    } else {
      const FusionPlan::Group& g = plan.groups[size_t(it.group)];
      const kernels::FusedKernel& k = g.kernel;
      bool ok = true;
      gin.clear();
      for (size_t i = 0; i < g.in_slots.size() && ok; ++i) {
        const Tensor& t = slot[size_t(g.in_slots[i])];
        ok = t.defined() && !t.tracked() && t.has_data() && t.device() == Device::CPU && t.dtype() == k.reg_dtype[i] &&
             t.numel() == k.in_numel[i];
        // A strided view (x.T) is copied once: cheaper than running the group op by op.
        if (ok) gin.push_back(k.reg_scalar[i] || t.is_contiguous() ? t : t.contiguous());
      }
      if (ok) {
        gout.clear();
        gsum.clear();
        for (size_t j = 0; j < g.out_slots.size(); ++j) {
          arena.outside(g.out_escapes[j]);
          gout.push_back(Tensor::empty(g.out_shapes[j], g.out_dtypes[j]));
        }
        for (size_t j = 0; j < g.sum_slots.size(); ++j) {
          arena.outside(g.sum_escapes[j]);
          gsum.push_back(Tensor::empty(g.sum_shapes[j], g.sum_dtypes[j]));
        }
        arena.outside(false);
        kernels::fused_run(k, gin.data(), gout.data(), gsum.data());
        for (size_t j = 0; j < g.out_slots.size(); ++j) slot[size_t(g.out_slots[j])] = std::move(gout[j]);
        for (size_t j = 0; j < g.sum_slots.size(); ++j) slot[size_t(g.sum_slots[j])] = std::move(gsum[j]);
      } else {  // op by op, outside the arena (a member may produce a program output)
        arena.outside(true);
        for (int32_t ri : g.recs)
          if (!run_rec(ri)) return false;
        arena.outside(false);
        for (int32_t s : g.internal) slot[size_t(s)].reset();
      }
    }
    for (int32_t s : it.release) slot[size_t(s)].reset();
  }
  outs.clear();
  for (int32_t s : p.outputs) outs.push_back(slot[size_t(s)]);
  return true;
}

std::string explain_fusion(const Program& p) {
  std::ostringstream os;
  if (!p.fusion) {
    os << p.recs.size() << " ops recorded, no fused group";
    return os.str();
  }
  const FusionPlan& plan = *p.fusion;
  os << p.recs.size() << " ops recorded, " << plan.groups.size() << " fused group(s):";
  for (size_t gi = 0; gi < plan.groups.size(); ++gi) {
    const FusionPlan::Group& g = plan.groups[gi];
    const kernels::FusedKernel& k = g.kernel;
    os << "\n  group " << gi << ": " << k.n << " elements, " << g.recs.size() << " ops -> " << k.steps.size()
       << " steps [";
    for (size_t i = 0; i < k.steps.size(); ++i) os << (i ? " " : "") << step_name(k.steps[i]);
    os << "] from [";
    for (size_t i = 0; i < g.recs.size(); ++i) os << (i ? " " : "") << p.recs[size_t(g.recs[i])].prim->name;
    os << "], " << k.num_inputs << " inputs, " << k.num_outputs << " outputs, " << k.num_sums << " reductions";
    os << "\n    simplified: " << g.folded << " folded, " << g.repeated << " repeated, " << g.dead << " dead, "
       << g.sincos << " trig pair(s) merged";
    // The program itself: registers r<i> (inputs first), out<j> the group's outputs, sum<j> its
    // reduction results; a value read by several steps is computed once.
    os << "\n    program:";
    auto reg = [&](int32_t r) {
      std::string t =
          k.reg_output[size_t(r)] >= 0 ? "out" + std::to_string(k.reg_output[size_t(r)]) : "r" + std::to_string(r);
      return t;
    };
    for (const FusedStep& st : k.steps) {
      os << " ";
      if (FusedStep::is_reduction(st.kind)) os << "res" << st.out;
      else os << reg(st.out);
      if (st.out2 >= 0) os << "," << reg(st.out2);
      os << "=" << step_name(st) << "(";
      bool first = true;
      for (int32_t r : {st.a, st.b, st.c})
        if (r >= 0) {
          os << (first ? "" : ",") << reg(r);
          first = false;
        }
      os << ");";
    }
  }
  if (plan.dead_records || plan.same_records)
    os << "\n  dropped: " << plan.dead_records << " dead op(s), " << plan.same_records
       << " op(s) identical to an earlier one";
  os << "\n  op by op:";
  int unfused = 0;
  for (const FusionPlan::Item& it : plan.items)
    if (it.rec >= 0) {
      const Program::Rec& r = p.recs[size_t(it.rec)];
      os << " " << r.prim->name << "[" << (r.out_shapes.empty() ? 0 : numel_of(r.out_shapes[0])) << "]";
      ++unfused;
    }
  if (!unfused) os << " (none)";
  return os.str();
}

}  // namespace autodiff
}  // namespace tapegrad
