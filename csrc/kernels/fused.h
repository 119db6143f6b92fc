// A fused elementwise group: a small register program run block by block (Note [Fused replay] in
// autodiff/fusion.h). Built by autodiff/fusion.cpp from a tg.jit recording; knows nothing of tapes.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "kernels/kernels.h"

namespace tapegrad {
namespace kernels {

struct FusedStep {
  // Unary/Binary/Compare/Predicate/Where/Cast call the elementwise kernel of that kind and dtype
  // (the same loop the eager op calls, hence the same bits); PowScalar is `a ** b` with a
  // one-element b, which picks the eager op's fast path (x*x, sqrt, 1/x, copy, ones) from b's value
  // on each run; SumAll adds register `a` into the one-element result number `out` (MaxAll and MinAll
  // take its extremum there, NaN-sticky as the eager amax/amin); SinCos writes
  // sin(a) to `out` and cos(a) to `out2` with one range reduction (the bits of the Sin and Cos
  // loops: the planner merges a group's sin and cos of one register into it).
  // SumRows/MaxRows/MinRows reduce register `a` over each row of FusedKernel::row elements into the
  // result number `out` (one value per row, written as each block runs: blocks hold whole rows).
  // SumCols/MaxCols/MinCols reduce register `a`, a contiguous value seen through the axis map
  // FusedKernel::maps[map], over any of its axes but not all of them and not the last one alone
  // (those are the full and row reductions): the first axis, middle axes, or a set with gaps,
  // into the ReduceMap::outputs values of result `out`. Float64 accumulators per result in fixed
  // chunks of blocks (their number depends on n and the maps only: fused_col_chunks), each chunk
  // adding its elements in order, the chunks merged in order: the same bits for any number of
  // threads and any schedule. Extrema start from -inf/+inf and are NaN-sticky (a NaN anywhere
  // gives the eager reduction's NaN).
  // Gather: element i of `out` is element idx[i] of input register `a` (any number of elements, of
  // `dtype`), where idx is input register `b` (Int32 or UInt8, n elements): the group then runs on
  // the n elements an index map picks out of its operands (a sparse Jacobian's non-zeros, Note
  // [Compressed sweeps]). Whoever builds the kernel checks every index against `a`'s size; the
  // fusion planner never emits it. UInt8 codes into a table of exactly kFusedTableBytes bytes (16
  // float64 or 32 float32 values) run the ISA's vector lookup loop.
  enum Kind : uint8_t {
    Unary,
    Binary,
    Compare,
    Predicate,
    Where,
    Cast,
    PowScalar,
    SumAll,
    SinCos,
    MaxAll,
    MinAll,
    SumRows,
    MaxRows,
    MinRows,
    Expand,
    SumCols,
    MaxCols,
    MinCols,
    Gather
  };
  static bool is_full_reduction(Kind k) { return k == SumAll || k == MaxAll || k == MinAll; }
  static bool is_row_reduction(Kind k) { return k == SumRows || k == MaxRows || k == MinRows; }
  static bool is_col_reduction(Kind k) { return k == SumCols || k == MaxCols || k == MinCols; }
  static bool is_reduction(Kind k) { return is_full_reduction(k) || is_row_reduction(k) || is_col_reduction(k); }
  Kind kind = Unary;
  uint8_t op = 0;                            // Un / Bin / Cmp / Pred
  DType dtype = DType::Float32;              // the loop's dtype: of the output (of the input for Compare,
                                             // Predicate, reductions; the target for Cast)
  DType from = DType::Float32;               // Cast: the source dtype
  int32_t out = -1, a = -1, b = -1, c = -1;  // registers (reductions: `out` is the result number)
  int32_t out2 = -1;                         // SinCos: the cos register
  // Expand: element i of `out` is element (i / div) % mod (mod 0: none) of input register `a`,
  // a partially broadcast operand ((n, 1) or (1, m) to (n, m)) of `dtype`.
  int64_t div = 1, mod = 0;
  int32_t map = -1;  // SumCols/MaxCols/MinCols: index in FusedKernel::maps
};

// The axes of a reduced value (SumCols/MaxCols/MinCols), its size-1 axes dropped and runs of
// adjacent reduced (or kept) axes merged: element i, at coordinates c over `extent` (C order), goes
// to result sum over k of c[k] * out_stride[k] (0 for a reduced axis).
struct ReduceMap {
  std::vector<int64_t> extent, out_stride;
  int64_t outputs = 0;  // results (the kept extents' product)
};

struct FusedKernel {
  int64_t n = 0;           // elements of every full-size register
  int32_t num_inputs = 0;  // registers [0, num_inputs) are the inputs, in order
  int32_t num_regs = 0;
  std::vector<uint8_t> reg_scalar;  // 1: one element, broadcast (stride 0); only inputs
  std::vector<int64_t> in_numel;    // elements of each input: n, 1, or fewer read by Expand steps
  std::vector<DType> reg_dtype;
  std::vector<int32_t> reg_output;   // output number of a register written to an output, or -1
  std::vector<int32_t> reg_scratch;  // scratch buffer of a temporary register, or -1
  int32_t num_scratch = 0;
  std::vector<FusedStep> steps;
  std::vector<ReduceMap> maps;
  int32_t num_outputs = 0;
  int32_t num_sums = 0;  // results of reductions (full: one element; rows: n / row; others: ReduceMap::outputs)
  int64_t row = 0;       // row length of the row reductions (0: none); blocks then hold whole rows
  // Elements per block: kFusedBlock, or whole rows (at least one) when the group reduces rows.
  int64_t block() const;
  bool costly = false;  // transcendental steps: threads pay off from fewer elements
};

// Runs `k`: inputs[i] is register i (contiguous with n elements, or one element where
// reg_scalar), outputs[j] the contiguous n-element tensor of output number j, sums[k] the
// contiguous tensor of result number k (float sums accumulate in float64, in a fixed block or chunk
// order: the result does not depend on the number of threads or on which thread ran which blocks;
// extrema are the eager ones' values, NaN-sticky with the eager NaN, though
// where the extremum is a zero held with both signs the sign returned may differ, as it may
// between eager reductions over different chunkings).
void fused_run(const FusedKernel& k, const Tensor* inputs, const Tensor* outputs, const Tensor* sums);
// Elements per block and per register (a few KB: every register of a block stays in L1/L2).
constexpr int64_t kFusedBlock = 1024;
// The longest row a group reduces (a block of one row: 64 KB per float64 register).
constexpr int64_t kFusedMaxRow = 8192;
// A reduction over other axes (SumCols/MaxCols/MinCols) has at most kFusedMaxCols results, each
// with a float64 accumulator in each chunk: one chunk per 8 blocks, at most kFusedColChunks, and
// fewer where the accumulators of all chunks would pass kFusedColAccs (8 MB).
constexpr int64_t kFusedMaxCols = int64_t(1) << 16;
constexpr int64_t kFusedColChunks = 64;
constexpr int64_t kFusedColAccs = int64_t(1) << 20;
// Elements a thread claims at a time in a parallel run (whole blocks; Note [Kernel thread pool]):
// small enough that a thread the system stalls (a busy core) holds up only that much work, large
// enough that claiming costs about 1% of it. Transcendental work takes fewer elements per claim.
constexpr int64_t kFusedUnitCostly = int64_t(1) << 14;
constexpr int64_t kFusedUnitCheap = int64_t(1) << 15;
// The table size of a Gather step's vector lookup (FusedStep::Gather).
constexpr int64_t kFusedTableBytes = 128;
inline int64_t FusedKernel::block() const {
  return row > 0 ? (row < kFusedBlock ? kFusedBlock / row : 1) * row : kFusedBlock;
}

}  // namespace kernels
}  // namespace tapegrad
