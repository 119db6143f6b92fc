// Tape replay for tg.jit (Note [Tape replay]).
#pragma once
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "autodiff/levels.h"

namespace tapegrad {
namespace autodiff {

struct FusionPlan;  // autodiff/fusion.h

// Note [Tape replay]
// ~~~~~~~~~~~~~~~~~~
// tg.jit records a function once per input signature and replays the record in C++ afterwards.
// Recording pushes a TraceLevel: the function's tensor inputs become wrappers at that level (slot
// ids 0..n-1, kept in LevelMeta::node) and every prim applied to a traced value is processed by the
// level like any other transform: it runs one level down and appends {prim, attrs, input slots,
// output slots} to a Program. While a trace records, every op goes through apply, also ops on
// untracked values (traces_recording() in each op's fast-path test): the tensors an op meets that
// the trace does not track are captured as constants by reference, and ops on them are recorded
// too, so a parameter updated in place between calls is seen with its new value, as in eager mode. Because the trace sits on the same level stack as grad/jvp/vmap, whatever runs inside the
// function is recorded as the prims it comes down to: jit(grad(f)) records the forward ops and the
// reverse sweep's ops; grad(jit(f)) replays through apply(), so the outer level records the replayed
// ops as it would record eager ones.
//
// Python-visible decisions are guards: any read of a traced value's data (bool(), item(), float(),
// numpy conversion, printing, a traced index array) goes through Tensor::raw_data/item_as_double,
// whose hook snapshots the value; a replay compares the same slot with the snapshot once the slot is
// computed and gives up (the caller records again) when they differ. A replay also gives up when a
// prim returns a shape or dtype other than the recorded one (data-dependent shapes).
//
// Random draws are prims with no tensor inputs that the innermost trace records (apply_nullary), so
// a replay draws fresh numbers, in the order eager calls would. What cannot be replayed makes the
// program *impure*, and the caller then runs the function eagerly for that signature: set_seed
// inside the function, a constant written in place during recording, a constant that an outer
// transform tracks (a closed-over value under grad).
struct Program {
  struct Rec {
    const Prim* prim;
    Attrs attrs;
    SmallVec<int32_t, 4> in;   // slot per input, -1 for an undefined input
    SmallVec<int32_t, 2> out;  // slot per output
    SmallVec<Shape, 2> out_shapes;
    SmallVec<DType, 2> out_dtypes;
    SmallVec<int32_t, 2> release;  // slots no longer needed after this record
  };
  struct Constant {
    int32_t slot;
    Tensor value;
    uint32_t version;  // storage version at capture (in-place writes during recording are impure)
  };
  struct Guard {
    int32_t slot;
    size_t after;  // checked once this many records have run
    Tensor value;  // snapshot (contiguous, untracked)
  };
  int32_t num_inputs = 0;
  int32_t num_slots = 0;
  std::vector<Constant> constants;
  std::vector<Rec> recs;
  std::vector<Guard> guards;
  std::vector<int32_t> outputs;
  bool impure = false;
  const char* impure_reason = nullptr;
  // Shapes and dtypes of the inputs, and the fused groups of Note [Fused replay] (null: plain
  // replay), set by plan_fusion after the recording.
  std::vector<Shape> input_shapes;
  std::vector<DType> input_dtypes;
  std::shared_ptr<const FusionPlan> fusion;

  // Runs the program on `inputs` (the recorded signature) through autodiff::apply. False when a
  // guard or a recorded shape does not hold; `outs` is then unspecified.
  bool replay(const TensorList& inputs, TensorList& outs) const;
  // Runs record `r` on the values in `slot` through autodiff::apply and stores its outputs there;
  // false when an output's count, shape or dtype differs from the recorded one. `in` is scratch.
  static bool run_record(const Rec& r, std::vector<Tensor>& slot, TensorList& in);
};

class TraceLevel final : public Level {
 public:
  TraceLevel();
  TensorList process(const Prim& p, const TensorList& in, const Attrs& a) override;
  // The next input of the function: a wrapper with the next input slot.
  Tensor track(const Tensor& x);
  // Ends recording (the level must be popped): the outputs' slots, constants for untraced outputs.
  // Returns the program and, in `values`, the outputs with this level's wrappers removed.
  std::shared_ptr<Program> finish(const TensorList& outputs, TensorList& values);
  void guard(int32_t slot, const Tensor& base_value);
  void mark_impure(const char* why);
  // A constant whose values the recording reads to decide what to record (an index array): a
  // guard, so a replay re-records when the tensor was changed in place since.
  void guard_constant(const Tensor& t);
  bool is_input_storage(const Storage* s) const;
  bool is_constant_storage(const Storage* s) const;  // the memory of a constant of the recording

 private:
  int32_t constant_slot(const Tensor& t);
  std::shared_ptr<Program> prog_;
  std::unordered_map<const TensorImpl*, int32_t> const_index_;
  std::vector<const Storage*> input_storages_;
};

// True when `t` is tracked by active traces and by no other active level.
bool traced_only(const Tensor& t);
// An untracked tensor whose values an op reads while recording (an index array closed over by the
// function): guarded by every active trace, so it is read afresh (Note [Tape replay]).
void note_constant_read(const Tensor& t);
// Marks every trace being recorded on this thread impure (random numbers, global state).
void note_impure(const char* why);
// setitem's functional update of `a` (a rebinding, not a write into its memory): replayable only
// when an active trace owns `a`; else the traces being recorded become impure.
void note_untraced_write(const Tensor& a);
// `t` without the wrappers of active traces, or undefined when another active level tracks it.
Tensor trace_base(const Tensor& t);
// When `a` is traced only, and its memory is that of an argument (or a constant) of a function
// being recorded:
// the recordings become impure (later calls run eagerly) and the value under the traces is
// returned, for setitem to write into in place as eager code would (the caller sees the write).
// Else undefined.
Tensor traced_argument_base(const Tensor& a);

}  // namespace autodiff
}  // namespace tapegrad
