// A program's last fused group evaluated only at the elements an index map picks (Note [Gathered
// tail]): the later calls of sparse Jacobians (Note [Compressed sweeps], transforms/compressed.h).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "autodiff/fusion.h"
#include "autodiff/trace.h"

namespace tapegrad {
namespace autodiff {

// Note [Gathered tail]
// ~~~~~~~~~~~~~~~~~~~~
// A compressed sweep's result B is read at a fixed list of positions, data[p] = B.flat[take[p]]
// (the non-zeros, in CSR order). When B is the output of the program's last fused group (Note
// [Fused replay]; a reshape of it counts too), that group need not compute B at all: every member
// is elementwise, so element p of data is the group's register program applied to each operand's
// element at take[p] (through the broadcast of an expanded operand: (take[p] / div) % mod). The
// group is rebuilt as a kernel of count elements whose output is data itself:
//
// * an operand fixed across calls (a seed matrix, a folded constant, which the caller names) is
//   gathered once, at planning, into count elements read in order -- or, when it holds at most 256
//   distinct bit patterns (seeds are 0 and 1, stencil coefficients a handful), kept as one byte
//   per element indexing a table of those values: the kernel gathers table[code[p]], a read of one
//   byte per element instead of eight (a table of at most 16 float64 or 32 float32 values is
//   padded to that size and read by the ISA's lookup loop: one permute per 8 or 16 codes);
// * an operand computed on each call becomes a Gather step through an Int32 index map built once
//   (take[p], or its broadcast), read straight from the tensor the rest of the program produced:
//   no per-block copy of a partially broadcast operand, no materialised B and no second pass.
//
// The rest of the program (the head) is the same records without the group's, fused as usual,
// returning the varying operands. Each element goes through the very loops the group would run,
// so data is bit-identical to gathering B. Not planned when the last group reduces, has several
// outputs, or when the index maps would not fit in Int32.
struct GatheredTail {
  std::shared_ptr<Program> head;                     // the program without the group: returns the varying operands
  kernels::FusedKernel kernel;                       // n = count; output 0 is the result
  std::vector<Tensor> fixed;                         // per kernel input: its value when fixed (planned), else undefined
  std::vector<int32_t> from_head;                    // per kernel input: the head output it is, or -1
  DType dtype = DType::Float32;                      // of the result
  int64_t coded = 0, pregathered = 0, gathered = 0;  // operands of each kind (explain)
};

// The plan for `p` (fused by plan_fusion) read at take[0..count): null when p does not end in a
// fusable group or the group is not elementwise. `fixed[s]` is defined for the slots whose values
// never change between calls (the caller guarantees it; they are gathered now).
std::shared_ptr<const GatheredTail> plan_gathered_tail(const Program& p, const std::vector<Tensor>& fixed,
                                                       const int64_t* take, int64_t count);
// data (count elements) for the program's inputs; undefined when the head cannot replay them or an
// operand differs from its recording.
Tensor run_gathered_tail(const GatheredTail& t, const TensorList& inputs);
std::string explain_gathered_tail(const GatheredTail& t);

// Sets each record's release list: a slot is released after the record that reads it last (as
// TraceLevel::finish does); outputs and constants live to the end. For programs built from others.
void set_releases(Program& q);

}  // namespace autodiff
}  // namespace tapegrad
