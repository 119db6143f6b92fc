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
  int64_t acc = 0;  // SumCols: offset of its accumulators in a chunk's
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
      r.div = s.div;
      r.mod = s.mod;
      [[fallthrough]];
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

  // Adds elements [start, start + len) of a SumCols operand (at p) into chunk accumulators `acc`:
  // element i goes to column (i / (mod * div)) * div + i % div, in runs of consecutive columns.
  template <class T>
  static void add_cols(double* acc, const T* p, int64_t start, int64_t len, int64_t div, int64_t mod) {
    for (int64_t j = 0; j < len;) {
      const int64_t i = start + j;
      const int64_t c = i % div, run = std::min(len - j, div - c);
      double* a = acc + (i / (mod * div)) * div + c;
      const T* v = p + j;
      for (int64_t t = 0; t < run; ++t) a[t] += double(v[t]);
      j += run;
    }
  }

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
          if (op.red == FusedStep::SumCols) {
            double* acc = colacc.data() + chunk * acc_per_chunk + op.acc;
            if (st == 0) {  // a broadcast scalar (one value): add it once per element
              const double v = op.sum_dtype == DType::Float64 ? *reinterpret_cast<const double*>(p)
                                                              : double(*reinterpret_cast<const float*>(p));
              for (int64_t j = 0; j < len;) {
                const int64_t i = start + j, c = i % op.div, run = std::min(len - j, op.div - c);
                double* a = acc + (i / (op.mod * op.div)) * op.div + c;
                for (int64_t t = 0; t < run; ++t) a[t] += v;
                j += run;
              }
            } else if (op.sum_dtype == DType::Float64) {
              add_cols(acc, reinterpret_cast<const double*>(p), start, len, op.div, op.mod);
            } else {
              add_cols(acc, reinterpret_cast<const float*>(p), start, len, op.div, op.mod);
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
  for (const FusedStep& s : k.steps) run.ops.push_back(resolve(s, inputs));
  run.isz.resize(size_t(k.num_regs));
  for (int32_t r = 0; r < k.num_regs; ++r) run.isz[size_t(r)] = int64_t(itemsize(k.reg_dtype[size_t(r)]));
  for (int32_t i = 0; i < k.num_inputs; ++i) run.in_base.push_back(static_cast<char*>(inputs[i].raw_data()));
  for (int32_t j = 0; j < k.num_outputs; ++j) run.out_base.push_back(static_cast<char*>(outputs[j].raw_data()));
  const int64_t block = k.block();
  run.nblocks = (k.n + block - 1) / block;
  run.partials.assign(size_t(run.nblocks * k.num_sums), 0.0);
  // Grain as the eager kernels (Note [Kernel thread pool]): 4K elements per thread for
  // transcendental work, 16K for cheap arithmetic.
  const int64_t grain = std::max<int64_t>(1, (k.costly ? (int64_t(1) << 12) : (int64_t(1) << 14)) / block);
  for (Resolved& op : run.ops)
    if (op.red == FusedStep::SumCols && op.sum >= 0) {
      op.acc = run.acc_per_chunk;
      run.acc_per_chunk += k.n / op.mod;
    }
  if (run.acc_per_chunk > 0) {
    // Column sums: fixed chunks of blocks (not one per thread), each adding its rows in order into
    // its own accumulators (from +0.0, as the eager sum: a column of -0.0 sums to +0.0), merged in
    // chunk order below: the result does not depend on the number of threads.
    // One chunk per 8 blocks (at least one, at most kFusedColChunks): each chunk's accumulators
    // are zeroed and merged once, which should stay small against its blocks' work.
    const int64_t chunks = std::max<int64_t>(1, std::min(run.nblocks / 8, kFusedColChunks));
    run.colacc.assign(size_t(chunks * run.acc_per_chunk), 0.0);
    auto chunk_blocks = [&](int64_t c) { run.blocks(c * run.nblocks / chunks, (c + 1) * run.nblocks / chunks, c); };
    if (run.nblocks < 2 * grain) {
      for (int64_t c = 0; c < chunks; ++c) chunk_blocks(c);
    } else {
      parallel_for(chunks, 1, [&](int64_t b, int64_t e) {
        for (int64_t c = b; c < e; ++c) chunk_blocks(c);
      });
    }
    for (const Resolved& op : run.ops) {
      if (op.red != FusedStep::SumCols || op.sum < 0) continue;
      const int64_t cols = k.n / op.mod;
      char* o = static_cast<char*>(sums[op.sum].raw_data());
      for (int64_t j = 0; j < cols; ++j) {
        double total = 0.0;
        for (int64_t c = 0; c < chunks; ++c) total += run.colacc[size_t(c * run.acc_per_chunk + op.acc + j)];
        if (op.sum_dtype == DType::Float64) reinterpret_cast<double*>(o)[j] = total;
        else reinterpret_cast<float*>(o)[j] = float(total);
      }
    }
  } else if (run.nblocks < 2 * grain) {
    run.blocks(0, run.nblocks);
  } else {
    parallel_for(run.nblocks, grain, [&](int64_t b, int64_t e) { run.blocks(b, e); });
  }
  for (const Resolved& op : run.ops) {
    if (op.sum < 0 || FusedStep::is_row_reduction(op.red) || op.red == FusedStep::SumCols) continue;
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
