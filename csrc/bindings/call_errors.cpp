// Clear TypeErrors for calls that no overload of a pybind11 function accepts.
#include "bindings/common.h"

namespace tapegrad {
namespace bind {

// Note [Argument errors]
// ~~~~~~~~~~~~~~~~~~~~~~
// When no overload of a pybind11 function accepts a call (a wrong number of arguments, an unknown
// keyword, None where an argument refuses it, a type no caster loads), pybind11 raises
// "f(): incompatible function arguments. The following argument types are supported: ..." with
// its C++-flavoured signatures, and never says what is wrong. Python's own functions say it
// ("f() takes 2 positional arguments but 3 were given", "missing 1 required positional argument",
// "got an unexpected keyword argument"), and so do numpy and PyTorch.
//
// So every pybind11 function object of _core (module functions, and the methods, static methods,
// constructors and property accessors of its classes) gets, once when the module loads, a call
// entry in front of pybind11's dispatcher: install_argument_errors replaces the entry of the
// function's PyMethodDef (pybind11 allocates one per function and CPython reads it on every call).
// The entry calls the dispatcher and returns its result untouched; only when it fails with that
// TypeError does it build the function's argument records (names, defaults, whether None is taken,
// positional and keyword-only counts, the signature) and let tapegrad._call_errors.explain write
// the message that names the function and the problem. A successful call pays one direct call and
// a null test (benchmarks/bench_perop_callgrind.py: no measurable change); everything else happens
// on the failure path. Functions with their own argument parsing (Note [Fast Tensor methods]) and
// the C-level operator slots already raise their own messages and are not pybind11 functions.
namespace {

using Dispatch = PyObject* (*)(PyObject*, PyObject* const*, size_t, PyObject*);
// pybind11's dispatcher, the same function for every pybind11 function object (read from the first
// one patched, so that no private symbol is named).
Dispatch g_dispatch = nullptr;

bool is_pybind_mismatch(const py::error_already_set& e) {
  if (!e.matches(PyExc_TypeError)) return false;
  const std::string msg = py::str(e.value());
  return msg.find("incompatible function arguments") != std::string::npos ||
         msg.find("incompatible constructor arguments") != std::string::npos;
}

// "sum", "Tensor.sum", "Tensor.__init__": the name the message starts with.
std::string qualified_name(const py::detail::function_record* rec) {
  std::string name = rec->name ? rec->name : "function";
  if (rec->scope && PyType_Check(rec->scope.ptr()))
    name = std::string(py::str(rec->scope.attr("__name__"))) + "." + name;
  return name;
}

// The overload records as Python data: for each overload a tuple (args, nargs_pos, nargs_pos_only,
// has_args, has_kwargs, is_method, signature); args a list of (name or None, has a default,
// None accepted), positional ones first, then the keyword-only ones.
py::list overload_records(const py::detail::function_record* rec) {
  py::list out;
  for (; rec != nullptr; rec = rec->next) {
    py::list args;
    for (const auto& a : rec->args)
      args.append(
          py::make_tuple(a.name ? py::object(py::str(a.name)) : py::object(py::none()), bool(a.value), bool(a.none)));
    out.append(py::make_tuple(args, int(rec->nargs_pos), int(rec->nargs_pos_only), bool(rec->has_args),
                              bool(rec->has_kwargs), bool(rec->is_method),
                              py::str(rec->signature ? rec->signature : "")));
  }
  return out;
}

// The failure path: replaces pybind11's mismatch error by one naming the function and the problem;
// any other error passes through unchanged. Always returns nullptr (the error set).
PyObject* explain_failure(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  if (!PyErr_ExceptionMatches(PyExc_TypeError)) return nullptr;
  py::error_already_set err;  // takes the error; restored below unless replaced
  if (!is_pybind_mismatch(err)) {
    err.restore();
    return nullptr;
  }
  const py::detail::function_record* rec = py::detail::function_record_ptr_from_PyObject(self);
  if (rec == nullptr) {
    err.restore();
    return nullptr;
  }
  const std::string name = qualified_name(rec);
  std::string msg;
  try {
    const Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    py::tuple pos(n);
    for (Py_ssize_t i = 0; i < n; ++i) pos[i] = py::reinterpret_borrow<py::object>(args[i]);
    py::dict kw;
    const Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t i = 0; i < nkw; ++i) kw[py::handle(PyTuple_GET_ITEM(kwnames, i))] = py::handle(args[n + i]);
    msg = py::str(py::module_::import("tapegrad._call_errors").attr("explain")(name, overload_records(rec), pos, kw));
  } catch (py::error_already_set&) {
    // Writing the message failed (tapegrad's Python package is not importable, say): a short
    // message of our own, never pybind11's.
    msg = name + "(): the arguments do not match " + name + (rec->signature ? rec->signature : "()");
  }
  PyErr_SetString(PyExc_TypeError, msg.c_str());
  return nullptr;
}

PyObject* call_entry(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  PyObject* r = g_dispatch(self, args, nargsf, kwnames);
  if (r != nullptr) return r;
  return explain_failure(self, args, nargsf, kwnames);
}

// Puts call_entry in front of the dispatcher of `f` if it is a pybind11 function not yet patched.
void patch(PyObject* f) {
  py::detail::function_record* rec = shim::function_record_of(f);
  if (rec == nullptr || rec->def == nullptr) return;
  auto current = reinterpret_cast<Dispatch>(reinterpret_cast<void (*)()>(rec->def->ml_meth));
  if (current == &call_entry) return;
  if (g_dispatch == nullptr) g_dispatch = current;
  if (current != g_dispatch) return;  // not pybind11's dispatcher: leave it alone
  rec->def->ml_meth = reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&call_entry));
}

// A class attribute: a method (instancemethod), static or class method, or property.
void patch_attribute(PyObject* v) {
  if (PyInstanceMethod_Check(v)) {
    patch(PyInstanceMethod_GET_FUNCTION(v));
  } else if (PyCFunction_Check(v)) {
    patch(v);
  } else {
    for (const char* attr : {"__func__", "fget", "fset"}) {
      if (!PyObject_HasAttrString(v, attr)) continue;
      py::object inner = py::getattr(v, attr, py::none());
      if (PyInstanceMethod_Check(inner.ptr())) patch(PyInstanceMethod_GET_FUNCTION(inner.ptr()));
      else patch(inner.ptr());
    }
  }
}

}  // namespace

void install_argument_errors(py::module_& m) {
  const std::string prefix = std::string(py::str(m.attr("__name__"))) + ".";
  for (auto item : py::reinterpret_borrow<py::dict>(m.attr("__dict__"))) {
    PyObject* v = item.second.ptr();
    if (PyModule_Check(v)) {
      // _core's own submodules (_core.linalg), not modules it imported.
      const char* name = PyModule_GetName(v);
      if (name == nullptr) {
        PyErr_Clear();
        continue;
      }
      if (std::string(name).rfind(prefix, 0) == 0) {
        py::module_ sub = py::reinterpret_borrow<py::module_>(v);
        install_argument_errors(sub);
      }
    } else if (PyCFunction_Check(v)) {
      patch(v);
    } else if (PyType_Check(v)) {
      // Only the class's own dictionary: inherited entries are patched through their own class.
      PyObject* d = reinterpret_cast<PyTypeObject*>(v)->tp_dict;
      if (d == nullptr) continue;
      PyObject *key, *value;
      Py_ssize_t pos = 0;
      while (PyDict_Next(d, &pos, &key, &value)) patch_attribute(value);
    }
  }
}

}  // namespace bind
}  // namespace tapegrad
