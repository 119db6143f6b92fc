// Every prim record of ops/, listed for _core._prims().
//
// Note [Op table]
// ~~~~~~~~~~~~~~~
// Every prim is one constexpr record (Note [Prim records] in core/prim.h) beside its rules. The
// elementwise ops are declared once more, one row each in core/elementwise_ops.def (enum id,
// Python name, binding, differentiability, what the VJP reads, docstring); generated from those
// rows are the kernel enums (kernels/kernels.h), the CPU kernel tables (kernels/cpu/loops_impl.h),
// the prims and their names (ops/elementwise.cpp, ops/elementwise.h), the fused replay's names
// (autodiff/fusion.cpp), and the Python functions and methods with their docs
// (bindings/functions.cpp). _core._prims() returns every prim, the two of user rules included,
// as dicts: what the tests iterate over to hold every prim to the same checks.
//
// Each ops file lists its own records in a function (below); prims.cpp calls them all. A function
// call, not a self-registering static object: the linker may drop an object file of a static
// library that nothing references, and with it such a registrar, and the order of static
// initialisers across files is unspecified.
#pragma once
#include <vector>

#include "core/prim.h"

namespace tapegrad {
namespace ops {

using PrimRegistry = std::vector<const Prim*>;

void add_elementwise_prims(PrimRegistry& r);
void add_index_prims(PrimRegistry& r);
void add_linalg_prims(PrimRegistry& r);
void add_random_prims(PrimRegistry& r);
void add_reduce_prims(PrimRegistry& r);
void add_shape_prims(PrimRegistry& r);
void add_sort_prims(PrimRegistry& r);

// The prims of every ops file, file by file.
PrimRegistry all_prims();
// The kind of an elementwise op of the table ("unary", "binary", "compare", "predicate"), or null
// for every other prim: what _core._prims() reports as "kind", for rules kept outside C++ (the
// sparsity detection's) to cover new table rows without a list of their own.
const char* elementwise_kind(const Prim* p);

}  // namespace ops
}  // namespace tapegrad
