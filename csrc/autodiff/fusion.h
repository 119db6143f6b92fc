// Fused replay of tg.jit recordings (Note [Fused replay]).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "autodiff/trace.h"
#include "kernels/fused.h"

namespace tapegrad {
namespace autodiff {

// Note [Fused replay]
// ~~~~~~~~~~~~~~~~~~~
// A replay (Note [Tape replay]) runs one kernel per record: on large arrays every intermediate is
// written to memory and read back, so a long elementwise chain (a gradient is mostly one) runs at
// memory speed and holds many arrays at once. After a recording, plan_fusion groups the records
// into fused groups:
//
// * Members: elementwise prims (unary, binary, compare, predicate, where, cast) whose dtypes are
//   float32/float64 (Bool for masks), whose output has the group's n elements and whose inputs each
//   have n elements or one (a scalar operand, broadcast) or are partially broadcast (per row, as
//   (n, 1) to (n, m), or per column, as (m,) or (1, m) to (n, m): an expand step copies each block's
//   part of such an operand into a register, in runs); broadcast_to and stop_gradient are
//   aliases of their input (broadcast_to of a partial operand is its expand step); a `sum`, `amax` or `amin` over all axes of a member's value ends in the
//   group (its result is usable only after the group), and so does one over the last axis of a
//   value a step computes, with rows of at most kFusedMaxRow elements, one row length per group:
//   the group's blocks then hold whole rows and each row is reduced by the eager reduction's
//   vector loop (the same bits); a `sum`, `amax` or `amin` over any other set of axes (the first
//   axis, middle axes, axes with gaps, the last axis with others: a kernels::ReduceMap) of a value
//   a step computes ends the group too, with at most kFusedMaxCols results (SumCols/MaxCols/
//   MinCols: float64 accumulators per result in fixed chunks; a sum is within
//   len * eps * sum|x| of the exact sum per result, the eager bound too, and a column of -0.0
//   sums to +0.0 as eagerly; an extremum is exact, NaN-sticky with the eager NaN, the eager value
//   but for the sign of a zero held with both signs; the same bits for any number of threads),
//   unless the value it reduces is written to memory anyway (another op reads it): then it runs
//   right after the group as the eager reduction (vectorised, the eager bits), since fusing it
//   saves no memory traffic. Records are scanned in order with one open group: a fusable
//   record joins it; a record that is not fusable and does not read the group's values runs before
//   the group (the group runs where it is closed); one that reads them, or writes into memory
//   (setitem on an outside tensor), closes it first. Random draws keep their order (they are never
//   members). Programs with guards are not fused.
// * Each group becomes a register program (kernels/fused.h): inputs are the values the group reads,
//   steps call the very elementwise loops the eager ops call (the per-ISA tables of
//   kernels/cpu/loops.h, vector math included), so a member's value is bit-identical to eager; a
//   `sum` accumulates block sums in float64, which reorders the sum (within n * eps * sum|x| of the
//   exact sum, the bound of the eager sum too); `amax`/`amin` take each block's extremum with the
//   eager vector loop and merge blocks in order, NaN-sticky: the eager value, except that where the
//   extremum is a zero held with both signs its sign may differ. Identical steps are computed once
//   (CSE: same kind, op, dtype and input registers) and steps nobody reads are dropped (members are
//   pure). A sin and a cos of the same register become one sincos step (one range reduction and
//   one pair of polynomials, which each of the sin and cos kernels computes anyway: vecmath's
//   SinCosK, the same expressions, so the same bits); a gradient through sin or cos needs both.
//   Constant folding: a member whose result is exactly one operand is that operand's register --
//   x*1, 1*x, x/1, x**1, x-(+0), x+(-0), (-0)+x, exact for every x, NaN and signed zeros included
//   (never x+0: -0 + +0 is +0) -- where the other operand is a value the trace knows: a one-element
//   float constant that only the program holds (no caller can change it between replays; not in
//   programs with recorded writes), or a reshape, broadcast or float cast of one (a gradient's
//   seed of ones).
// * Outside groups: a record none of whose outputs is read (nor a program output) is dropped unless
//   it has a side effect (random draws, writes, user-defined rules); a record identical to an
//   earlier one (same prim, attrs and input values, not a program output) takes its outputs.
// * The runner takes blocks of kFusedBlock elements, split across the kernel thread pool: a thread
//   claims kFusedUnitCostly/Cheap elements of whole blocks at a time, whoever is free next (the
//   caller too), so a thread a busy core stalls holds up only those (Note [Kernel thread pool]:
//   the caller then also works alone for a while); results never depend on the split. Each
//   block runs every step on block-sized scratch registers (reused once dead), reading inputs and
//   writing outputs in place. Inputs no step reads (an operand constant folding removed) are not
//   inputs of the group. Only live values are materialised: those read after the group by
//   another record, and the program's outputs; an intermediate the group consumes never is.
// * The replay checks, per group, that each input has the recorded dtype and size (a strided view
//   is copied to contiguous memory first); otherwise it runs the group's records one by one (the
//   plain replay). A replay under an
//   outer transform (grad(jit(f)), vmap(jit(f))) always takes the plain path: the outer level must
//   see each prim.
// Groups below kMinFuseElements elements or with one member stay unfused: small replays run the
// records exactly as before (one pointer test more). tg.jit(f, fuse=False) or TAPEGRAD_JIT_FUSE=0
// turns fusion off; f.explain() prints the groups, what the simplifications removed and each
// group's register program. Memory: Note [Replay arena].

// Note [Replay arena]
// ~~~~~~~~~~~~~~~~~~~~
// The memory plan of a fused program. Liveness comes from the recording: each value is freed after
// the last item of the schedule that reads it (FusionPlan::Item::release), and the intermediates a
// group consumes are registers of its blocks, never tensors (Note [Fused replay]). What remains
// materialised -- outputs of records run op by op and group outputs read by a later item, other than
// the program's outputs -- comes from the program's arena: while a fused replay runs, the arena is
// this thread's storage source (Note [Storage sources] in core/storage.h), so every CPU buffer that
// such a record or group allocates is taken from it: a buffer of the same size that nobody else
// holds, or a new one that the arena keeps. The arena thus ends up holding the most buffers of each
// size that the replay had alive at once, and a later replay with the same schedule reuses them:
// it allocates nothing but the program's outputs (and what records that produce an output allocate
// for it). Buffers the arena holds count as in use in tg.memory_stats(). A buffer that escaped (a
// program output that is a view of an arena buffer, a tensor a user-defined rule kept) is still
// referenced by someone else when the next replay starts: the arena lets go of it then, and it is
// freed as any tensor once its last holder drops it. One replay at a time uses the arena; a
// concurrent replay of the same program (another thread) allocates as usual.
class ReplayArena;

struct FusionPlan {
  struct Group {
    kernels::FusedKernel kernel;
    std::vector<int32_t> in_slots;   // slot of each input register
    std::vector<int32_t> out_slots;  // slot of each output number
    std::vector<Shape> out_shapes;
    std::vector<DType> out_dtypes;
    std::vector<int32_t> sum_slots;  // slot of each sum result
    std::vector<Shape> sum_shapes;
    std::vector<DType> sum_dtypes;
    std::vector<int32_t> recs;         // members, in order (the unfused fallback)
    std::vector<int32_t> internal;     // member outputs that are not live (freed after a fallback)
    std::vector<int32_t> deferred;     // column sums of live outputs: plain records after the group
    std::vector<uint8_t> out_escapes;  // per output: a program output (allocated outside the arena)
    std::vector<uint8_t> sum_escapes;  // the same per sum result
    // Simplifications (f.explain()): members folded away (x*1), steps identical to an earlier one,
    // steps nobody reads, sin/cos pairs merged.
    int32_t folded = 0, repeated = 0, dead = 0, sincos = 0;
  };
  struct Item {
    int32_t rec = -1;      // a record run as in the plain replay, or
    int32_t group = -1;    // a group, or
    int32_t same_as = -1;  // record `rec_cse`'s outputs are those of this earlier identical record
    int32_t rec_cse = -1;
    std::vector<int32_t> release;  // slots no longer needed after this item
    bool escapes = false;          // a record producing a program output: runs outside the arena
  };
  std::vector<Group> groups;
  std::vector<Item> items;
  std::shared_ptr<ReplayArena> arena;  // Note [Replay arena]
  int32_t dead_records = 0;            // records dropped: nobody reads them
  int32_t same_records = 0;            // records that reuse an identical earlier record's outputs
};

// What a program's arena holds now (f.cache_info()): buffers and their bytes.
struct ArenaStats {
  int64_t buffers = 0, bytes = 0;
};
ArenaStats arena_stats(const Program& p);

// Groups with fewer elements are not fused: kMinFuseElements, or the environment variable
// TAPEGRAD_JIT_FUSE_MIN read once (a testing knob: 1 fuses every group, to run the jit tests through
// the fused path).
constexpr int64_t kMinFuseElements = 4096;
int64_t fuse_min_elements();

// Sets p.fusion when some group is worth fusing.
void plan_fusion(Program& p);
// Program::replay's fused path (no guards; no active level).
bool replay_fused(const Program& p, const TensorList& inputs, TensorList& outs);
// Human-readable list of the groups (f.explain()).
std::string explain_fusion(const Program& p);

}  // namespace autodiff
}  // namespace tapegrad
