// Tensor methods called through one METH_FASTCALL C function instead of pybind11's dispatcher.
#include "bindings/common.h"

namespace tapegrad {
namespace bind {

// Note [Fast Tensor methods]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~~
// `x.sum()` through pybind11 costs about 1.3k instructions besides the reduction itself: the
// dispatcher walks the overload record, loads three arguments through type casters, fills in the
// defaults and converts the result. In a tiny gradient (`(x * x).sum()` on 4 elements) that is a
// twentieth of the whole call. The hottest methods with plain arguments (sum and mean:
// `(x, axis=None, keepdims=False)`) are therefore C functions taking their arguments as the
// interpreter passes them (METH_FASTCALL | METH_KEYWORDS), installed on the Tensor type the way
// pybind11 installs its methods (a builtin function wrapped in an instancemethod, so the class
// attribute is the same kind of object, with pybind11's docstring and first-line signature). The
// argument rules and errors are those of the pybind11 binding they replace (module functions
// tg.sum/tg.mean keep it); the body is the same conversion and op.
namespace {

// Method names with the op each calls.
struct SumOp {
  static constexpr const char* name = "sum";
  static Tensor run(const Tensor& x, const ops::Axes& a, bool all, bool keep) { return ops::sum(x, a, all, keep); }
};
struct MeanOp {
  static constexpr const char* name = "mean";
  static Tensor run(const Tensor& x, const ops::Axes& a, bool all, bool keep) { return ops::mean(x, a, all, keep); }
};

// self.<op>(axis=None, keepdims=False); args[0] is self.
template <class Op>
PyObject* reduce_method(PyObject*, PyObject* const* args, Py_ssize_t nargsf, PyObject* kwnames) {
  return shim::guarded([&]() -> PyObject* {
    const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    // Python's own wording, as for the pybind11 functions (Note [Argument errors]).
    if (nargs < 1) throw TypeError(str_cat("Tensor.", Op::name, "() missing 1 required positional argument: 'self'"));
    if (nargs > 3)
      throw TypeError(
          str_cat("Tensor.", Op::name, "() takes from 0 to 2 positional arguments but ", nargs - 1, " were given"));
    PyObject* axis = nargs > 1 ? args[1] : Py_None;
    PyObject* keep = nargs > 2 ? args[2] : nullptr;
    bool have_axis = nargs > 1;
    const Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t i = 0; i < nkw; ++i) {
      PyObject* k = PyTuple_GET_ITEM(kwnames, i);
      const bool is_axis = PyUnicode_CompareWithASCIIString(k, "axis") == 0;
      if (!is_axis && PyUnicode_CompareWithASCIIString(k, "keepdims") != 0)
        throw TypeError(
            str_cat("Tensor.", Op::name, "() got an unexpected keyword argument '", std::string(py::str(k)), "'"));
      if (is_axis ? have_axis : keep != nullptr)
        throw TypeError(
            str_cat("Tensor.", Op::name, "() got multiple values for argument '", is_axis ? "axis" : "keepdims", "'"));
      if (is_axis) {
        axis = args[nargs + i];
        have_axis = true;
      } else {
        keep = args[nargs + i];
      }
    }
    const bool keepdims = keep ? bool_param(keep, Op::name, "keepdims") : false;
    AxisArg ax = parse_axis(axis, Op::name);
    return py::cast(Op::run(arg_tensor(args[0], Op::name), ax.axes, ax.all, keepdims)).release().ptr();
  });
}

// Replaces Tensor.<name> (a pybind11 method) by `fn`, keeping its docstring.
void install(py::module_& m, const char* name, PyCFunction fn) {
  auto cls = py::reinterpret_borrow<py::object>(reinterpret_cast<PyObject*>(g_tensor_type));
  // The definition must outlive the function object: one per method, never freed (as the module).
  const std::string doc = py::str(cls.attr(name).attr("__doc__"));
  auto* def = new PyMethodDef{name, fn, METH_FASTCALL | METH_KEYWORDS, (new std::string(doc))->c_str()};
  py::object f = py::reinterpret_steal<py::object>(PyCFunction_NewEx(def, nullptr, m.attr("__name__").ptr()));
  if (!f) throw py::error_already_set();
  py::object meth = py::reinterpret_steal<py::object>(PyInstanceMethod_New(f.ptr()));
  if (!meth) throw py::error_already_set();
  cls.attr(name) = meth;
}

// The function as the PyCFunction a METH_FASTCALL | METH_KEYWORDS definition stores.
template <class F>
PyCFunction fast(F f) {
  return reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(f));
}
}  // namespace

void bind_fast_methods(py::module_& m) {
  install(m, "sum", fast(&reduce_method<SumOp>));
  install(m, "mean", fast(&reduce_method<MeanOp>));
}

}  // namespace bind
}  // namespace tapegrad
