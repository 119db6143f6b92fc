// Later calls of sparse Jacobians and Hessians: the compressed sweep's recording with its fixed
// parts folded, and the decompression gather (Note [Compressed sweeps]).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "autodiff/trace.h"

namespace tapegrad {
namespace transforms {

// Note [Compressed sweeps]
// ~~~~~~~~~~~~~~~~~~~~~~~~
// SparseJacobian/SparseHessian (python/tapegrad/_sparse.py) evaluate one compressed sweep per call,
// B = vmap(jvp)(x, S) (or the vjp / Hessian form), then read each non-zero out of B. The sweep is
// recorded once as a program of (x, S); the seed matrix S never changes, and in a jvp the tangent
// path is linear in S: for the residual up[:-2] - 2 x + up[2:] - x**3, B = (S_up[:-2] - 2 S +
// S_up[2:]) - 3 x**2 S, and everything but the last product is the same on every call (a
// concatenation, copies of its strided slices, sums: most of the replay's memory traffic).
// fold_fixed_inputs therefore runs, once, every record that does not depend on the varying inputs
// (x), and keeps its outputs that later records read as constants of a new program; what remains
// is the work that depends on x, which plan_fusion then groups as for any recording.
//
// A record is folded only when every input is a fixed input, an output of a folded record, or a
// *private* constant: a tensor made while the function ran (a literal, a tg.zeros inside the
// function, a zero tangent) that nothing but the program holds (its TensorImpl and Storage each
// referenced once, memory not borrowed from numpy). A tensor the function closes over can be
// written in place between calls, and a replay reads it afresh (Note [Tape replay]); records that
// read one stay in the program, and so do their dependents. Nothing is folded in programs with
// guards, random draws or in-place writes (their replays are not a pure function of the inputs), nor
// records with user-defined rules or other side effects. A folded record runs the same kernel on the
// same values as the replay would, so the results are bit-identical. A `where` whose condition
// folds to a single value is replaced by the branch it picks (when that branch has the output's
// shape and dtype): pow's derivative guards a zero exponent that way, which with a literal exponent
// is decided once and for all.
//
// The decompression is one gather, data[p] = B.flat[take[p]], with `take` built once from the
// pattern and the colors and checked to lie in B, into a fresh tensor from the caching allocator
// (handed to numpy without a copy): the CSR value array of the result, in its order. When the
// folded program ends in a fused group, B is never formed: that group runs at the non-zeros only,
// writing the value array itself (Note [Gathered tail]).

// Records folded and kept by fold_fixed_inputs.
struct FoldStats {
  int64_t folded = 0;
  int64_t kept = 0;
};

// A copy of `p` in which the records that do not depend on inputs [0, num_varying) are replaced by
// constants holding their values (computed now, from `fixed`: the values of the other inputs, which
// every replay must pass unchanged). Null when the program cannot be folded (impure, guards,
// in-place writes, or a record whose value differs from its recording). `fixed_slots`, when given,
// receives per slot of the result the value of the fixed ones (fixed inputs, folded values, private
// constants), undefined for the others.
std::shared_ptr<autodiff::Program> fold_fixed_inputs(const autodiff::Program& p, int32_t num_varying,
                                                     const TensorList& fixed, FoldStats* stats,
                                                     std::vector<Tensor>* fixed_slots = nullptr);

// data[i] = src[take[i]] for i < count, elements of `itemsize` bytes (2, 4 or 8). The indices must
// be known to lie in src.
void gather_elements(const void* src, size_t itemsize, const int64_t* take, int64_t count, void* data);
void gather_elements(const void* src, size_t itemsize, const int32_t* take, int64_t count, void* data);

}  // namespace transforms
}  // namespace tapegrad
