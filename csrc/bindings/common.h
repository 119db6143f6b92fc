// Shared conversions between Python objects and C++ tensors. Conversion only: no math here.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "core/tensor.h"
#include "ops/ops.h"

namespace tapegrad {
namespace py = pybind11;
namespace bind {

// The Python type object of Tensor (set once the class is registered).
extern PyTypeObject* g_tensor_type;
inline bool is_tensor(py::handle h) {
  return Py_TYPE(h.ptr()) == g_tensor_type || PyType_IsSubtype(Py_TYPE(h.ptr()), g_tensor_type);
}
inline Tensor& as_tensor(py::handle h) { return py::cast<Tensor&>(h); }

// dtype objects exposed to Python (tg.float32 ...).
struct PyDType {
  DType d;
};
py::object dtype_object(DType d);
// Accepts tg dtypes, numpy dtypes and scalar types, strings, and Python's bool/int/float.
DType parse_dtype(py::handle h);
bool is_none(py::handle h);

// Tensor from any Python data (scalar, nested sequence, numpy array, Tensor): API.md section 2.
// `copy_tensor`: a Tensor argument is copied rather than aliased.
Tensor tensor_from_py(py::handle obj, py::handle dtype, bool copy_tensor = true);
// The other operand of a binary operator on `self`: Python scalars take self's dtype kind (NEP 50
// weak scalars); throws TypeError for what cannot be an operand.
Tensor operand(py::handle o, const Tensor& self, const char* op);
// For module functions: a Tensor argument as is, anything else through tensor_from_py (weak
// Python scalars default to float32/int64).
Tensor arg_tensor(py::handle o, const char* op);

// numpy view of a tensor's memory (keeps the storage alive). `writable=false` gives a read-only view.
py::array to_numpy_view(const Tensor& t, bool writable);

// Axis arguments: None, int, or a tuple/list of ints.
struct AxisArg {
  ops::Axes axes;
  bool all = true;
};
AxisArg parse_axis(py::handle axis, const char* op);
Shape parse_shape(py::handle shape, const char* op);

void bind_dtypes(py::module_& m);
void bind_tensor(py::module_& m);
void bind_functions(py::module_& m);
void bind_autodiff(py::module_& m);
void bind_reduce_shape(py::module_& m);
void bind_index(py::module_& m);
void bind_linalg(py::module_& m);
void bind_creation(py::module_& m);
void bind_jacobian(py::module_& m);
void bind_jit(py::module_& m);
void bind_custom(py::module_& m);
void bind_sparse(py::module_& m);

// Large kernels on untracked values run without the GIL so that other Python threads can work
// meanwhile (API section 8); small ones keep it (releasing costs more than they do), and so do
// tracked ones (their transform levels may call back into Python).
constexpr int64_t kReleaseGil = 1 << 16;
template <class F>
Tensor nogil_if_large(int64_t n, bool tracked, F&& f) {
  if (n >= kReleaseGil && !tracked) {
    py::gil_scoped_release nogil;
    return f();
  }
  return f();
}

// Bind `f` both as tapegrad._core.<name>(x, ...) and as Tensor.<name>(self, ...); `extra`
// annotates the arguments after the first.
template <class F, class... Extra>
void def_both(py::module_& m, const char* name, F&& f, const Extra&... extra) {
  auto cls = py::reinterpret_borrow<py::class_<Tensor>>(reinterpret_cast<PyObject*>(g_tensor_type));
  m.def(name, f, py::arg("x"), extra...);
  cls.def(name, f, extra...);
}

}  // namespace bind
}  // namespace tapegrad
