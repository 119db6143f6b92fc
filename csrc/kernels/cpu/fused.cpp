// CPU runner of a fused elementwise group (kernels/fused.h; Note [Fused replay] in
// autodiff/fusion.h): each thread takes whole blocks and runs every step of the group on them,
// through the ISA table's loops (the ones the eager ops call).
#include "kernels/fused.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "core/error.h"
#include "kernels/cpu/iter.h"
#include "kernels/cpu/loops.h"

namespace tapegrad {
namespace kernels {
namespace cpu {
namespace {

// A step with its loop chosen for this run.
struct Resolved {
  Loop loop = nullptr;                 // null: a full reduction (SumAll, MaxAll, MinAll)
  int32_t regs[4] = {-1, -1, -1, -1};  // output first, as the loops take them
  int nops = 0;
  int32_t sum = -1;  // a reduction's result number
  DType sum_dtype = DType::Float32;
  FusedStep::Kind red = FusedStep::SumAll;
  bool expand = false;  // an Expand step (div, mod)
  bool gather = false;  // a Gather step: regs[1] the source, regs[2] the index
  int64_t div = 1, mod = 0;
  const ReduceMap* map = nullptr;  // SumCols/MaxCols/MinCols: the axes, and
  int64_t acc = 0;                 // the offset of its accumulators in a chunk's
};

constexpr int32_t kRegOne = -2;  // a float64 1.0 broadcast (pow's x ** 0 fast path fills ones)
const double kOne = 1.0;

// Adds n values in several float64 lanes (vectorisable, and more accurate than one float sum).
template <class T>
double block_sum(const T* x, int64_t n) {
  constexpr int L = 16;
  double acc[L] = {};
  int64_t i = 0;
  for (; i + L <= n; i += L)
    for (int j = 0; j < L; ++j) acc[j] += double(x[i + j]);
  double tail = 0;
  for (; i < n; ++i) tail += double(x[i]);
  for (int w = L / 2; w >= 1; w /= 2)
    for (int j = 0; j < w; ++j) acc[j] += acc[j + w];
  return acc[0] + tail;
}

// The extremum of n values as the eager amax/amin's vector loop gives it (NaN when one is NaN),
// widened to float64 (exact).
double block_extreme(bool is_max, DType d, const char* p, int64_t n) {
  const ReduceLoops& f = isa().reduce;
  bool nan = false;
  double m;
  if (d == DType::Float64) m = (is_max ? f.max_f64 : f.min_f64)(reinterpret_cast<const double*>(p), n, nan);
  else m = double((is_max ? f.max_f32 : f.min_f32)(reinterpret_cast<const float*>(p), n, nan));
  return nan ? std::numeric_limits<double>::quiet_NaN() : m;
}

// Folds x into an extremum accumulator, NaN-sticky (a NaN accumulator stays NaN).
template <bool IsMax>
inline double pick(double acc, double x) {
  return (IsMax ? x > acc : x < acc) || x != x ? x : acc;
}

// Elements [start, start + len) of a SumCols/MaxCols/MinCols operand (at p, element stride vs: 1,
// or 0 for a broadcast scalar) into a chunk's accumulators `acc`, in runs along the innermost axis:
// a kept one adds a run into consecutive results, a reduced one reduces a run into one result.
template <FusedStep::Kind red, class T>
void reduce_axes(const ReduceMap& m, double* acc, const T* p, int64_t vs, int64_t start, int64_t len) {
  constexpr bool kMax = red == FusedStep::MaxCols;
  const size_t nd = m.extent.size();
  int64_t coord[64];  // merged axes: at most one per bit of an axis mask
  int64_t o = 0;
  for (size_t d = nd; d-- > 0;) {
    coord[d] = start % m.extent[d];
    start /= m.extent[d];
    o += coord[d] * m.out_stride[d];
  }
  const int64_t inner = m.extent[nd - 1], istride = m.out_stride[nd - 1];
  for (int64_t j = 0; j < len;) {
    const int64_t run = std::min(len - j, inner - coord[nd - 1]);
    const T* v = p + j * vs;
    if (istride != 0) {  // the innermost axis is kept: one result per element
      double* a = acc + o;
      if (vs == 0) {
        const double x = double(*v);
        for (int64_t t = 0; t < run; ++t) a[t] = red == FusedStep::SumCols ? a[t] + x : pick<kMax>(a[t], x);
      } else {
        for (int64_t t = 0; t < run; ++t)
          a[t] = red == FusedStep::SumCols ? a[t] + double(v[t]) : pick<kMax>(a[t], double(v[t]));
      }
    } else if (red == FusedStep::SumCols) {  // reduced: the run into one result
      acc[o] += vs == 0 ? double(run) * double(*v) : block_sum(v, run);
    } else {
      acc[o] = pick<kMax>(acc[o], vs == 0 ? double(*v)
                                          : block_extreme(kMax, sizeof(T) == 8 ? DType::Float64 : DType::Float32,
                                                          reinterpret_cast<const char*>(v), run));
    }
    j += run;
    coord[nd - 1] += run;
    o += run * istride;
    // Carry into the outer axes (the run ended the innermost one, or the range ends here).
    for (size_t d = nd - 1; d > 0 && coord[d] == m.extent[d]; --d) {
      o -= coord[d] * m.out_stride[d];
      coord[d] = 0;
      ++coord[d - 1];
      o += m.out_stride[d - 1];
    }
  }
}

static_assert(kLookupBytes == kFusedTableBytes, "the Gather step's table is the lookup loops' table");

// A Gather step's block: out[i] = src[idx[i]], elements of `sz` bytes, indices of `isz` bytes
// (UInt8 or Int32, checked against the source by the kernel's maker).
template <class E, class I>
void gather_typed(char* out, const char* src, const char* idx, int64_t len) {
  const I* ix = reinterpret_cast<const I*>(idx);
  const E* s = reinterpret_cast<const E*>(src);
  E* o = reinterpret_cast<E*>(out);
  for (int64_t i = 0; i < len; ++i) o[i] = s[ix[i]];
}
template <class I>
void gather_sized(char* out, const char* src, int64_t sz, const char* idx, int64_t len) {
  switch (sz) {
    case 1: gather_typed<uint8_t, I>(out, src, idx, len); return;
    case 2: gather_typed<uint16_t, I>(out, src, idx, len); return;
    case 4: gather_typed<uint32_t, I>(out, src, idx, len); return;
    case 8: gather_typed<uint64_t, I>(out, src, idx, len); return;
    default: TG_CHECK(false, "fused replay: no gather for elements of ", sz, " bytes");
  }
}
void gather_block(char* out, const char* src, int64_t sz, const char* idx, int64_t isz, int64_t len) {
  if (isz == 1) gather_sized<uint8_t>(out, src, sz, idx, len);
  else if (isz == 4) gather_sized<int32_t>(out, src, sz, idx, len);
  else TG_CHECK(false, "fused replay: gather indices must be UInt8 or Int32");
}

Resolved resolve(const FusedStep& s, const Tensor* inputs) {
  Resolved r;
  const IsaTable& t = isa();
  const int d = int(s.dtype);
  switch (s.kind) {
    case FusedStep::Unary:
      r.loop = t.unary[s.op][d];
      r.nops = 2;
      break;
    case FusedStep::Binary:
      r.loop = t.binary[s.op][d];
      r.nops = 3;
      break;
    case FusedStep::Compare:
      r.loop = t.compare[s.op][d];
      r.nops = 3;
      break;
    case FusedStep::Predicate:
      r.loop = t.predicate[s.op][d];
      r.nops = 2;
      break;
    case FusedStep::Where:
      r.loop = t.where[d];
      r.nops = 4;
      break;
    case FusedStep::Cast:
      r.loop = t.cast[d][int(s.from)];
      r.nops = 2;
      break;
    case FusedStep::PowScalar: {
      // As ops/elementwise.cpp's pow_fast_path, from the exponent's value on this run.
      const double c = inputs[s.b].item_as_double(0);
      r.nops = 2;
      if (c == 2.0) r.loop = t.unary[int(Un::Square)][d];
      else if (c == 0.5) r.loop = t.unary[int(Un::Sqrt)][d];
      else if (c == -1.0) r.loop = t.unary[int(Un::Reciprocal)][d];
      else if (c == 1.0) r.loop = t.cast[d][d];
      else if (c == 0.0) r.loop = t.cast[d][int(DType::Float64)];
      else {
        r.loop = t.binary[int(Bin::Pow)][d];
        r.nops = 3;
      }
      r.regs[0] = s.out;
      r.regs[1] = c == 0.0 && r.nops == 2 ? kRegOne : s.a;
      r.regs[2] = s.b;
      return r;
    }
    case FusedStep::SinCos:
      r.loop = t.sincos[d];
      TG_CHECK(r.loop != nullptr, "fused replay: no sincos kernel for dtype ", s.dtype);
      r.nops = 3;
      r.regs[0] = s.out;
      r.regs[1] = s.out2;
      r.regs[2] = s.a;
      return r;
    case FusedStep::Expand:
      r.expand = true;
      r.regs[0] = s.out;
      r.regs[1] = s.a;
      r.div = s.div;
      r.mod = s.mod;
      return r;
    case FusedStep::Gather:
      r.gather = true;
      r.regs[0] = s.out;
      r.regs[1] = s.a;
      r.regs[2] = s.b;
      return r;
    case FusedStep::SumCols:
    case FusedStep::MaxCols:
    case FusedStep::MinCols: [[fallthrough]];
    case FusedStep::SumAll:
    case FusedStep::MaxAll:
    case FusedStep::MinAll:
    case FusedStep::SumRows:
    case FusedStep::MaxRows:
    case FusedStep::MinRows:
      r.red = s.kind;
      r.sum = s.out;
      r.sum_dtype = s.dtype;
      r.regs[1] = s.a;
      return r;
  }
  TG_CHECK(r.loop != nullptr, "fused replay: no kernel for a step of dtype ", s.dtype);
  r.regs[0] = s.out;
  r.regs[1] = s.a;
  r.regs[2] = s.b;
  r.regs[3] = s.c;
  return r;
}

struct Run {
  const FusedKernel* k;
  const Tensor* inputs;
  const Tensor* outputs;
  const Tensor* sums;
  std::vector<Resolved> ops;
  std::vector<char*> in_base, out_base;
  std::vector<int64_t> isz;
  std::vector<double> partials;  // [block * num_sums + sum]
  int64_t nblocks = 0;
  std::vector<double> colacc;  // SumCols accumulators: [chunk * acc_per_chunk + step's acc + column]
  int64_t acc_per_chunk = 0;

  // Rows [r0, r0 + nrows) of a row reduction, from their values at p (contiguous): each row as the
  // eager reduction over the last axis computes it (the table's vector loop over the row), so the
  // same bits.
  void row_results(const Resolved& op, const char* p, int64_t r0, int64_t nrows) const {
    const int64_t m = k->row;
    const ReduceLoops& f = isa().reduce;
    char* o = static_cast<char*>(sums[op.sum].raw_data());
    for (int64_t i = 0; i < nrows; ++i) {
      double v;
      if (op.red == FusedStep::SumRows) {
        v = op.sum_dtype == DType::Float64 ? f.sum_f64(reinterpret_cast<const double*>(p) + i * m, m)
                                           : f.sum_f32(reinterpret_cast<const float*>(p) + i * m, m);
      } else {
        const int64_t isz = int64_t(itemsize(op.sum_dtype));
        v = block_extreme(op.red == FusedStep::MaxRows, op.sum_dtype, p + i * m * isz, m);
      }
      if (op.sum_dtype == DType::Float64) reinterpret_cast<double*>(o)[r0 + i] = v;
      else reinterpret_cast<float*>(o)[r0 + i] = float(v);
    }
  }

  // Elements [start, start + len) of the expansion of input register op.regs[1] into `o`, copied
  // in runs (a row's value repeated, or a stretch of the columns).
  void expand(const Resolved& op, char* o, int64_t start, int64_t len) const {
    const int32_t r = op.regs[1];
    const int64_t sz = isz[size_t(r)];
    const char* in = in_base[size_t(r)];
    for (int64_t j = 0; j < len;) {
      const int64_t i = start + j;
      if (op.mod == 0) {  // per row: element i / div repeated
        const int64_t run = std::min(len - j, op.div - i % op.div);
        const char* v = in + (i / op.div) * sz;
        if (sz == 4) std::fill_n(reinterpret_cast<float*>(o + j * sz), run, *reinterpret_cast<const float*>(v));
        else if (sz == 8) std::fill_n(reinterpret_cast<double*>(o + j * sz), run, *reinterpret_cast<const double*>(v));
        else std::memset(o + j * sz, *v, size_t(run));  // Bool
        j += run;
      } else {  // per column: elements i % mod onwards
        const int64_t off = i % op.mod, run = std::min(len - j, op.mod - off);
        std::memcpy(o + j * sz, in + off * sz, size_t(run * sz));
        j += run;
      }
    }
  }

  void blocks(int64_t b0, int64_t b1, int64_t chunk = 0) {
    thread_local std::vector<char> scratch;
    const int64_t block = k->block();
    const size_t need = size_t(k->num_scratch) * size_t(block) * 8 + 64;
    if (scratch.size() < need) scratch.resize(need);
    char* sbase = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(scratch.data()) + 63) & ~uintptr_t(63));
    char* ptrs[kMaxOperands];
    int64_t strides[kMaxOperands];
    for (int64_t blk = b0; blk < b1; ++blk) {
      const int64_t start = blk * block;
      const int64_t len = k->n - start < block ? k->n - start : block;
      auto ptr = [&](int32_t r, int64_t& stride) -> char* {
        if (r == kRegOne) {
          stride = 0;
          return reinterpret_cast<char*>(const_cast<double*>(&kOne));
        }
        const int64_t sz = isz[size_t(r)];
        if (r < k->num_inputs) {
          if (k->reg_scalar[size_t(r)]) {
            stride = 0;
            return in_base[size_t(r)];
          }
          stride = sz;
          return in_base[size_t(r)] + start * sz;
        }
        stride = sz;
        const int32_t o = k->reg_output[size_t(r)];
        if (o >= 0) return out_base[size_t(o)] + start * sz;
        return sbase + size_t(k->reg_scratch[size_t(r)]) * size_t(block) * 8;
      };
      for (const Resolved& op : ops) {
        if (op.gather) {
          int64_t st;
          const int32_t a = op.regs[1], ix = op.regs[2];
          const int64_t sz = isz[size_t(a)];
          if (isz[size_t(ix)] == 1 && (sz == 4 || sz == 8) && sz * k->in_numel[size_t(a)] == kLookupBytes) {
            // byte codes into a table of kLookupBytes: the ISA's lookup loop
            char* lp[3] = {ptr(op.regs[0], st), in_base[size_t(a)], in_base[size_t(ix)] + start};
            isa().lookup[sz == 8](lp, nullptr, len);
            continue;
          }
          gather_block(ptr(op.regs[0], st), in_base[size_t(a)], isz[size_t(a)],
                       in_base[size_t(ix)] + start * isz[size_t(ix)], isz[size_t(ix)], len);
          continue;
        }
        if (op.expand) {
          int64_t st;
          expand(op, ptr(op.regs[0], st), start, len);
          continue;
        }
        if (op.sum >= 0) {
          int64_t st;
          const char* p = ptr(op.regs[1], st);
          if (FusedStep::is_row_reduction(op.red)) {
            row_results(op, p, start / k->row, len / k->row);
            continue;
          }
          if (op.map) {
            double* acc = colacc.data() + chunk * acc_per_chunk + op.acc;
            const int64_t vs = st == 0 ? 0 : 1;
            const bool f64 = op.sum_dtype == DType::Float64;
            switch (op.red) {
              case FusedStep::SumCols:
                if (f64)
                  reduce_axes<FusedStep::SumCols>(*op.map, acc, reinterpret_cast<const double*>(p), vs, start, len);
                else reduce_axes<FusedStep::SumCols>(*op.map, acc, reinterpret_cast<const float*>(p), vs, start, len);
                break;
              case FusedStep::MaxCols:
                if (f64)
                  reduce_axes<FusedStep::MaxCols>(*op.map, acc, reinterpret_cast<const double*>(p), vs, start, len);
                else reduce_axes<FusedStep::MaxCols>(*op.map, acc, reinterpret_cast<const float*>(p), vs, start, len);
                break;
              default:
                if (f64)
                  reduce_axes<FusedStep::MinCols>(*op.map, acc, reinterpret_cast<const double*>(p), vs, start, len);
                else reduce_axes<FusedStep::MinCols>(*op.map, acc, reinterpret_cast<const float*>(p), vs, start, len);
                break;
            }
            continue;
          }
          double v;
          if (op.red != FusedStep::SumAll) {
            v = block_extreme(op.red == FusedStep::MaxAll, op.sum_dtype, p, st == 0 ? 1 : len);
          } else if (st == 0) {
            v = double(len) * (op.sum_dtype == DType::Float64 ? *reinterpret_cast<const double*>(p)
                                                              : double(*reinterpret_cast<const float*>(p)));
          } else if (op.sum_dtype == DType::Float64) {
            v = block_sum(reinterpret_cast<const double*>(p), len);
          } else {
            v = block_sum(reinterpret_cast<const float*>(p), len);
          }
          partials[size_t(blk * k->num_sums + op.sum)] = v;
          continue;
        }
        for (int j = 0; j < op.nops; ++j) ptrs[j] = ptr(op.regs[j], strides[j]);
        op.loop(ptrs, strides, len);
      }
    }
  }
};

}  // namespace

void fused_run(const FusedKernel& k, const Tensor* inputs, const Tensor* outputs, const Tensor* sums) {
  Run run;
  run.k = &k;
  run.inputs = inputs;
  run.outputs = outputs;
  run.sums = sums;
  for (const FusedStep& s : k.steps) {
    run.ops.push_back(resolve(s, inputs));
    if (FusedStep::is_col_reduction(s.kind)) run.ops.back().map = &k.maps[size_t(s.map)];
  }
  run.isz.resize(size_t(k.num_regs));
  for (int32_t r = 0; r < k.num_regs; ++r) run.isz[size_t(r)] = int64_t(itemsize(k.reg_dtype[size_t(r)]));
  for (int32_t i = 0; i < k.num_inputs; ++i) run.in_base.push_back(static_cast<char*>(inputs[i].raw_data()));
  for (int32_t j = 0; j < k.num_outputs; ++j) run.out_base.push_back(static_cast<char*>(outputs[j].raw_data()));
  const int64_t block = k.block();
  run.nblocks = (k.n + block - 1) / block;
  run.partials.assign(size_t(run.nblocks * k.num_sums), 0.0);
  // Threads from 2 grains up, as the eager kernels (Note [Kernel thread pool]): 4K elements per
  // thread for transcendental work, 16K for cheap arithmetic. Then whoever is free claims the next
  // few blocks (kFusedUnitCostly/Cheap elements), the caller too: a thread that a busy core stalls
  // holds up only the blocks it claimed, and every result is the same for any schedule (sums go
  // through per-block partials or fixed chunks, merged in order).
  const int64_t grain = std::max<int64_t>(1, (k.costly ? (int64_t(1) << 12) : (int64_t(1) << 14)) / block);
  const int64_t unit = std::max<int64_t>(1, (k.costly ? kFusedUnitCostly : kFusedUnitCheap) / block);
  const bool threads = run.nblocks >= 2 * grain;
  for (Resolved& op : run.ops)
    if (op.map && op.sum >= 0) {
      op.acc = run.acc_per_chunk;
      run.acc_per_chunk += op.map->outputs;
    }
  if (run.acc_per_chunk > 0) {
    // Reductions over other axes: fixed chunks of blocks (not one per thread), each adding its
    // elements in order into its own accumulators (sums from +0.0, as the eager sum: a column of
    // -0.0 sums to +0.0; extrema from -inf/+inf), merged in chunk order below: the result does not
    // depend on the number of threads. One chunk per 8 blocks, at most kFusedColChunks, and fewer
    // when their accumulators pass kFusedColAccs (each is filled and merged once: small against
    // its blocks' work).
    int64_t chunks = std::max<int64_t>(1, std::min(run.nblocks / 8, kFusedColChunks));
    chunks = std::max<int64_t>(1, std::min(chunks, kFusedColAccs / run.acc_per_chunk));
    run.colacc.resize(size_t(chunks * run.acc_per_chunk));
    for (const Resolved& op : run.ops) {
      if (!op.map || op.sum < 0) continue;
      const double init = op.red == FusedStep::SumCols   ? 0.0
                          : op.red == FusedStep::MaxCols ? -std::numeric_limits<double>::infinity()
                                                         : std::numeric_limits<double>::infinity();
      for (int64_t c = 0; c < chunks; ++c)
        std::fill_n(run.colacc.begin() + std::ptrdiff_t(c * run.acc_per_chunk + op.acc), op.map->outputs, init);
    }
    auto chunk_blocks = [&](int64_t b, int64_t e) {
      for (int64_t c = b; c < e; ++c) run.blocks(c * run.nblocks / chunks, (c + 1) * run.nblocks / chunks, c);
    };
    if (threads) parallel_for_units(chunks, 1, chunk_blocks);
    else chunk_blocks(0, chunks);
    for (const Resolved& op : run.ops) {
      if (!op.map || op.sum < 0) continue;
      const int64_t cols = op.map->outputs;
      char* o = static_cast<char*>(sums[op.sum].raw_data());
      const bool is_sum = op.red == FusedStep::SumCols, is_max = op.red == FusedStep::MaxCols;
      for (int64_t j = 0; j < cols; ++j) {
        double total = run.colacc[size_t(op.acc + j)];
        for (int64_t c = 1; c < chunks; ++c) {
          const double v = run.colacc[size_t(c * run.acc_per_chunk + op.acc + j)];
          total = is_sum ? total + v : total != total ? total : is_max ? pick<true>(total, v) : pick<false>(total, v);
        }
        if (!is_sum && total != total) total = std::numeric_limits<double>::quiet_NaN();  // the eager NaN
        if (op.sum_dtype == DType::Float64) reinterpret_cast<double*>(o)[j] = total;
        else reinterpret_cast<float*>(o)[j] = float(total);
      }
    }
  } else if (threads) {
    parallel_for_units(run.nblocks, unit, [&](int64_t b, int64_t e) { run.blocks(b, e); });
  } else {
    run.blocks(0, run.nblocks);
  }
  for (const Resolved& op : run.ops) {
    if (op.sum < 0 || FusedStep::is_row_reduction(op.red) || op.map) continue;
    const int32_t s = op.sum;
    double total = 0;
    if (op.red == FusedStep::SumAll) {
      for (int64_t b = 0; b < run.nblocks; ++b) total += run.partials[size_t(b * k.num_sums + s)];
    } else {  // blocks in order, NaN-sticky (the eager reduction's merge of its chunks)
      const bool is_max = op.red == FusedStep::MaxAll;
      total = is_max ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
      for (int64_t b = 0; b < run.nblocks && total == total; ++b) {
        const double v = run.partials[size_t(b * k.num_sums + s)];
        if (v != v || (is_max ? v > total : v < total)) total = v;
      }
    }
    const Tensor& out = sums[s];
    if (out.dtype() == DType::Float64) *static_cast<double*>(out.raw_data()) = total;
    else *static_cast<float*>(out.raw_data()) = float(total);
  }
}

}  // namespace cpu
}  // namespace kernels
}  // namespace tapegrad
