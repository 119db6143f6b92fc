// Memory shared with other Python libraries (numpy arrays, DLPack producers and consumers).
//
// Note [Borrowed buffers]
// ~~~~~~~~~~~~~~~~~~~~~~~
// A tensor made from a numpy array or a DLPack capsule borrows the lender's memory: its Storage
// holds a reference to a Python object (the array, or a capsule owning the DLPack tensor) and
// releases it when the Storage dies. Storage is copy-on-write for borrowed memory: before the
// first in-place write, make_writable() moves the data into our own buffer and drops the lender,
// so writes to the tensor never reach the lender's array. Whatever hands that memory out again
// (a numpy view, a DLPack capsule) must therefore keep the *lender* alive, not the Storage: the
// Storage may drop the lender while the view still points at its memory. buffer_owner() gives
// the right keeper for either case.
#pragma once
#include <pybind11/pybind11.h>

#include "core/tensor.h"

namespace tapegrad {
namespace bind {
namespace py = pybind11;

// A Storage borrowing `nbytes` at `data` owned by the Python object `owner` (a new reference to
// `owner` is taken and released with the Storage).
Ref<Storage> borrow_from_python(void* data, size_t nbytes, py::handle owner, bool readonly);
// A Python object that keeps the memory of `t` (as it is now) alive for as long as it lives.
py::object buffer_owner(const Tensor& t);

void bind_dlpack(py::module_& m);

}  // namespace bind
}  // namespace tapegrad
