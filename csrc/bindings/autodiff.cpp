// Transform levels for the Python layer (python/tapegrad/_autodiff.py builds grad, vjp, jvp on them).
#include "autodiff/levels.h"
#include "bindings/buffer.h"
#include "bindings/common.h"

namespace tapegrad {
namespace bind {

namespace {
TensorList to_list(const std::vector<Tensor>& v) {
  TensorList r;
  for (const Tensor& t : v) r.push_back(t);
  return r;
}
std::vector<Tensor> from_list(const TensorList& v) { return std::vector<Tensor>(v.begin(), v.end()); }

// ---- user-defined reverse rules (custom_vjp, Cell.bprop) -----------------------------------
// fwd(*inputs) -> (list of outputs, residuals); bwd(residuals, list of output cotangents) -> list
// of input cotangents (None = no gradient). Residuals are stored per record in the attrs payload.
struct CustomPayload {
  py::object fwd, bwd, residuals;
};
std::shared_ptr<void> make_payload(py::object fwd, py::object bwd, py::object res) {
  auto* p = new CustomPayload{std::move(fwd), std::move(bwd), std::move(res)};
  return std::shared_ptr<void>(p, [](void* q) {
    py::gil_scoped_acquire g;
    delete static_cast<CustomPayload*>(q);
  });
}

TensorList run_fwd(const TensorList& in, const CustomPayload& P, py::object* res) {
  py::gil_scoped_acquire g;
  py::tuple args(in.size());
  for (size_t i = 0; i < in.size(); ++i) args[i] = py::cast(in[i]);
  py::object r = P.fwd(*args);
  py::tuple rt = r.cast<py::tuple>();
  TensorList out;
  for (py::handle h : rt[0]) out.push_back(h.cast<Tensor>());
  if (res) *res = rt[1];
  return out;
}

TensorList custom_impl(const TensorList& in, const Attrs& a) {
  return run_fwd(in, *static_cast<CustomPayload*>(a.payload.get()), nullptr);
}
TensorList custom_record_forward(const TensorList& in, Attrs& a) {
  auto* P = static_cast<CustomPayload*>(a.payload.get());
  py::object res;
  TensorList out = run_fwd(in, *P, &res);
  py::gil_scoped_acquire g;
  a.payload = make_payload(P->fwd, P->bwd, res);
  return out;
}
TensorList custom_vjp(const TensorList& gs, const TensorList& in, const TensorList& out, const Attrs& a, uint32_t) {
  auto* P = static_cast<CustomPayload*>(a.payload.get());
  py::gil_scoped_acquire g;
  py::list gl;
  for (size_t j = 0; j < gs.size(); ++j) gl.append(gs[j].defined() ? gs[j] : ops::zeros_like(out[j]));
  py::object r = P->bwd(P->residuals, gl);
  TensorList res;
  size_t i = 0;
  for (py::handle h : r) {
    if (h.is_none()) {
      res.push_back(Tensor());
    } else {
      Tensor t = arg_tensor(h, "custom_vjp");
      TG_CHECK(i < in.size() && t.shape() == in[i].shape(),
               "custom_vjp: the backward rule returned a cotangent of shape ", shape_str(t.shape()), " for input ", i,
               " of shape ", i < in.size() ? shape_str(in[i].shape()) : "?");
      res.push_back(t);
    }
    ++i;
  }
  TG_CHECK(res.size() == in.size(), "custom_vjp: the backward rule must return one cotangent per input (", in.size(),
           "), got ", res.size());
  return res;
}
// No batching rule: the forward is Python code, so vmap runs it once per batch element (the one
// prim that keeps the batch level's loop fallback).
constexpr Prim kCustomVjp =
    PrimDef("custom_vjp")
        .impl(custom_impl)
        .vjp(custom_vjp)
        .record_forward(custom_record_forward)
        .no_jvp("a custom_vjp function has no forward-mode rule (use custom_jvp for jvp/jacfwd)");
}  // namespace

// The release function of memory borrowed from a Python object (convert.cpp keeps it private:
// read off a probe borrow when the module is bound).
static void (*g_py_release)(void*) = nullptr;

// Memory a numpy array lends can change behind tapegrad's back when someone other than the tensor
// holds the array, or the array is a view of another. A temporary array made from a Python list is
// held by the tensor alone. Reads plain fields only (the caller may not hold the GIL).
static bool borrowed_may_change(const Storage& s) {
  if (!g_py_release || s.ext_release != g_py_release) return true;
  auto* o = static_cast<PyObject*>(s.ext_ctx);
  if (Py_REFCNT(o) > 1) return true;
  return !shim::is_numpy_array(o) || shim::numpy_array_has_base(o);
}

// The level behind a ReverseLevel/ForwardLevel/BatchLevel Python object; a TypeError for one made
// by __new__ without __init__ (or of another type).
template <class L>
std::shared_ptr<L> level_of(py::handle self, const char* cls, const char* method) {
  TG_CHECK_TYPE(py::isinstance<L>(self), cls, ".", method, ": expected a ", cls, ", got ",
                std::string(py::str(py::type::of(self).attr("__name__"))));
  std::shared_ptr<L> h = shim::holder_of<std::shared_ptr<L>, L>(self);
  TG_CHECK_TYPE(h != nullptr, cls, ".", method, ": this ", cls,
                " was made by __new__ without __init__ (uninitialised)");
  return h;
}

// Note [One call per gradient]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
// A tiny gradient (`GradOperation(get_all=True)(f)(x)` on 4 elements) costs a few tens of
// thousands of instructions, and the Python around the C++ work was a fifth of them: the transform's
// function, a helper frame, the tuple of positions, pybind11's argument dispatch, the (value, grads)
// tuple unpacked again. The transforms' functions (python/tapegrad/_autodiff.py) now make one call,
// `_core._grad_call(fn, args, position, flags)`, a METH_FASTCALL C function (no pybind11 dispatch):
// it converts numpy arrays at the differentiated positions, tracks them, runs fn, sweeps and
// returns the result in the transform's own shape (a gradient, a tuple of them, or (value, grads)).
// It declines (returns None, before running fn) what it does not cover, and the Python path takes
// over; when fn returned a nested structure it returns [out, level, wanted] (a list: never a
// result) and Python flattens it and finishes the sweep on the same level.
namespace {
constexpr long kGradValue = 1;  // return (value, grads)
constexpr long kGradTuple = 2;  // grads as a tuple even for one position
constexpr long kGradAux = 32;   // fn returns (output, *aux) (has_aux=True)

using Positions = SmallVec<size_t, 4>;

// `positions` (Python ints, negative from the end) as indices into n arguments; false for anything
// else (the Python path then raises the error).
bool positions_of(py::handle positions, size_t n, Positions& out) {
  for (py::handle p : positions) {
    if (!PyLong_Check(p.ptr())) return false;
    long k = PyLong_AsLong(p.ptr());
    if (k == -1 && PyErr_Occurred()) {
      PyErr_Clear();
      return false;
    }
    if (k < 0) k += long(n);
    if (k < 0 || size_t(k) >= n) return false;
    out.push_back(size_t(k));
  }
  return !out.empty();
}

// The Tensor inside a Python object known to be a Tensor (no type-registry lookup), or null when
// its __init__ never ran.
const Tensor* tensor_ptr(PyObject* o) {
  auto* t = static_cast<const Tensor*>(shim::value_ptr(o));
  return t && t->defined() ? t : nullptr;
}

struct FastGrad {
  py::object value;  // the output without this level (when asked for)
  TensorList grads;  // one per position, in the order given
  bool nested = false;
  py::object out, level, wanted;  // nested: what the caller needs to finish
  py::object aux;                 // has_aux: the aux part of the output without this level
};

// Runs fn under a new reverse level with the arguments at `pos` tracked and sweeps back from its
// output. False (before fn runs) when an argument is not covered: a position holding anything but
// a float Tensor or a float numpy array, another argument that is not a Tensor, number or array.
// `aux` with the wrappers of level `id` removed from its Tensors, as Python's _strip_level does;
// false (nothing built) for containers other than plain tuples (lists, dicts, namedtuples: their
// rebuilding rules are the Python pytree's), which the caller then leaves to Python.
bool strip_aux(py::handle aux, uint64_t id, py::object& out, int depth = 0) {
  PyObject* o = aux.ptr();
  if (is_tensor(aux)) {
    const Tensor* t = tensor_ptr(o);
    if (!t) return false;
    autodiff::check_read(*t, "the function returns");
    auto* m = autodiff::meta_at(*t, id);
    out = py::cast(m ? m->primal : *t);
    return true;
  }
  if (PyTuple_CheckExact(o)) {
    if (depth > 64) return false;
    const Py_ssize_t n = PyTuple_GET_SIZE(o);
    py::tuple t(n);
    for (Py_ssize_t i = 0; i < n; ++i) {
      py::object v;
      if (!strip_aux(PyTuple_GET_ITEM(o, i), id, v, depth + 1)) return false;
      t[size_t(i)] = v;
    }
    out = t;
    return true;
  }
  if (PyTuple_Check(o) || PyList_Check(o) || PyDict_Check(o)) return false;
  out = py::reinterpret_borrow<py::object>(aux);  // any other leaf, as it is
  return true;
}

bool grad_fast(py::handle fn, py::handle args_h, const Positions& pos, bool want_value, FastGrad& r,
               bool has_aux = false) {
  PyObject* args = args_h.ptr();
  const size_t n = size_t(PyTuple_GET_SIZE(args));
  SmallVec<Tensor, 4> tracked(n);  // the position's input, then its tracked wrapper
  SmallVec<char, 8> is_pos(n, 0);
  for (size_t k : pos) is_pos[k] = 1;
  for (size_t i = 0; i < n; ++i) {
    PyObject* a = PyTuple_GET_ITEM(args, i);
    const bool tensor = is_tensor(a);
    if (is_pos[i]) {
      if (tensor) {
        const Tensor* t = tensor_ptr(a);
        if (!t || !is_float(t->dtype())) return false;
        tracked[i] = *t;
      } else if (shim::is_numpy_array(a)) {
        // As tg.tensor converts it (zero copy where the layout allows).
        tracked[i] = tensor_from_py(a, py::none(), true);
        if (!is_float(tracked[i].dtype())) return false;
      } else {
        return false;
      }
    } else if (!tensor && !PyFloat_Check(a) && !PyLong_Check(a) && !shim::is_numpy_array(a)) {
      return false;
    }
  }
  auto level = std::make_shared<autodiff::ReverseLevel>();
  py::tuple new_args(n);
  for (size_t i = 0; i < n; ++i) {
    if (is_pos[i]) {
      tracked[i] = level->track(tracked[i]);
      new_args[i] = py::cast(tracked[i]);
    } else {
      new_args[i] = py::reinterpret_borrow<py::object>(PyTuple_GET_ITEM(args, i));
    }
  }
  // Order of positions as given (duplicates allowed, as in a tuple of positions).
  TensorList wanted;
  for (size_t k : pos) wanted.push_back(tracked[k]);
  py::object out;
  {
    autodiff::ScopedLevel scope(level);
    // The argument tuple as it is (fn(*new_args) would build another one through a list).
    out = py::reinterpret_steal<py::object>(PyObject_Call(fn.ptr(), new_args.ptr(), nullptr));
    if (!out) throw py::error_already_set();
    scope.pop();
  }
  TensorList outs;
  bool is_seq = false;
  auto nested = [&] {
    r.nested = true;
    r.out = out;
    r.level = py::cast(level);
    r.wanted = py::cast(from_list(wanted));
    return true;
  };
  // has_aux: fn returned (output, *aux); anything else is Python's to report (nested).
  py::object primary = out;
  if (has_aux) {
    if (!PyTuple_CheckExact(out.ptr()) || PyTuple_GET_SIZE(out.ptr()) < 1) return nested();
    const Py_ssize_t k = PyTuple_GET_SIZE(out.ptr());
    primary = py::reinterpret_borrow<py::object>(PyTuple_GET_ITEM(out.ptr(), 0));
    py::object aux;
    if (k == 2) {
      aux = py::reinterpret_borrow<py::object>(PyTuple_GET_ITEM(out.ptr(), 1));
    } else {
      aux = py::reinterpret_steal<py::object>(PyTuple_GetSlice(out.ptr(), 1, k));
      if (!aux) throw py::error_already_set();
    }
    if (!strip_aux(aux, level->id(), r.aux)) return nested();
  }
  if (is_tensor(primary)) {
    const Tensor* t = tensor_ptr(primary.ptr());
    if (!t) return nested();
    outs.push_back(*t);
  } else if (PyTuple_Check(primary.ptr()) || PyList_Check(primary.ptr())) {
    is_seq = true;
    for (py::handle h : primary) {
      const Tensor* t = is_tensor(h) ? tensor_ptr(h.ptr()) : nullptr;
      if (!t) return nested();
      outs.push_back(*t);
    }
  } else {
    return nested();
  }
  // An empty output with has_aux is Python's error to raise (without aux, zeros, as always).
  if (has_aux && outs.empty()) return nested();
  r.grads = level->backward(outs, TensorList(), wanted);
  if (!want_value) return true;
  auto unwrap = [&](const Tensor& t) {
    autodiff::check_read(t, "the function returns");
    auto* m = autodiff::meta_at(t, level->id());
    return m ? m->primal : t;
  };
  if (!is_seq) {
    r.value = py::cast(unwrap(outs[0]));
  } else {
    py::tuple v(outs.size());
    for (size_t i = 0; i < outs.size(); ++i) v[i] = py::cast(unwrap(outs[i]));
    r.value = PyList_Check(primary.ptr()) ? py::object(py::list(v)) : py::object(v);
  }
  return true;
}

py::tuple grads_tuple(TensorList& grads) {
  py::tuple g(grads.size());
  for (size_t i = 0; i < grads.size(); ++i) g[i] = py::cast(std::move(grads[i]));
  return g;
}

// _grad_call(fn, args, position, flags): differentiates the argument at `position` (negative: from
// the end), or every argument when position is kAllPositions (GradOperation(get_all=True)).
constexpr long kAllPositions = -(1L << 30);

// The body of _grad_call: a new reference to the result, None (declined) or [out, level, wanted]
// (nested output); throws on errors.
// `positions` (a tuple of ints, or null): differentiate at those instead of `position`.
PyObject* grad_call_impl(PyObject* fn, PyObject* args, long position, long flags, PyObject* positions = nullptr) {
  const size_t n = size_t(PyTuple_GET_SIZE(args));
  Positions pos;
  if (positions) {
    if (!positions_of(positions, n, pos)) Py_RETURN_NONE;  // out of range: the Python path's error
  } else if (position == kAllPositions) {
    for (size_t i = 0; i < n; ++i) pos.push_back(i);
  } else {
    const long k = position < 0 ? position + long(n) : position;
    if (k >= 0 && size_t(k) < n) pos.push_back(size_t(k));
  }
  FastGrad r;
  const bool aux = (flags & kGradAux) != 0;
  if (pos.empty() || !grad_fast(fn, args, pos, (flags & kGradValue) != 0, r, aux)) Py_RETURN_NONE;
  if (r.nested) {
    py::list l(3);
    l[0] = r.out;
    l[1] = r.level;
    l[2] = r.wanted;
    return l.release().ptr();
  }
  py::object g = (flags & kGradTuple) ? py::object(grads_tuple(r.grads)) : py::cast(std::move(r.grads[0]));
  if (aux) {  // ((value, aux), grads) or (grads, aux), as Python's grad/value_and_grad
    if (flags & kGradValue) return py::make_tuple(py::make_tuple(r.value, r.aux), g).release().ptr();
    return PyTuple_Pack(2, g.ptr(), r.aux.ptr());
  }
  if (flags & kGradValue) return PyTuple_Pack(2, r.value.ptr(), g.ptr());
  return g.release().ptr();
}

PyObject* grad_call(PyObject*, PyObject* const* argv, Py_ssize_t nargs) {
  return shim::guarded([&]() -> PyObject* {
    if (nargs != 4 || !PyTuple_Check(argv[1])) throw TypeError("_grad_call(fn, args, position, flags)");
    const long position = PyLong_AsLong(argv[2]);
    const long flags = PyLong_AsLong(argv[3]);
    if (PyErr_Occurred()) return nullptr;
    return grad_call_impl(argv[0], argv[1], position, flags);
  });
}

// Note [Gradient functions in C]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
// The function a transform returns (`GradOperation(get_all=True)(f)`) was a Python closure whose
// only work, in the common case, was to call _grad_call (Note [One call per gradient]); its frame
// and argument tuple were ~1.4k instructions of a 4-element gradient. It is now a _GradFn: a C
// object called through vectorcall that runs the same fast path itself and hands every other call
// to the Python closure it was made from (`slow`): keyword arguments, no arguments, graph mode,
// arguments the fast path declines (before fn ran), and, through `rest`, the sweep of a nested
// output (after fn ran once). functools.update_wrapper gives it the wrapped function's name, doc,
// module and __wrapped__ (it has an instance dict), it binds as a method as a function does, takes
// weak references, and pickles as the Python closure (cloudpickle sends that by value).
// jacrev/jacfwd at a fixed position make one too: a Tensor there goes straight to the C++ Jacobian
// (the call _core._jacobian makes), a single Tensor output is returned as is, and a pytree output
// is rebuilt by `rest`; other arguments (arrays, lists, subclasses) take the Python function.
struct GradFnObject {
  PyObject_HEAD PyObject* fn;  // the user's function
  PyObject* slow;              // the Python closure: the general path
  PyObject* rest;              // rest(r, args): finishes a nested output
  PyObject* graph;             // _mode.GRAPH (a list): its item 0 is true while graph mode may be on
  long position, flags;
  PyObject* positions;  // a tuple of positions (grad_position=(0, 1)), or null: `position`
  // Jacobians (jacrev/jacfwd, flags has kJacobian): the name for errors and the pytree flatten.
  PyObject* what;
  PyObject* flatten;
  PyObject* dict;
  PyObject* weakrefs;
  vectorcallfunc vectorcall;
};

// flags of a jacobian function (beside kGradValue/kGradTuple of a gradient function).
constexpr long kJacobian = 4, kJacForward = 8, kJacHasAux = 16;

// jacrev/jacfwd at one fixed position holding a Tensor: _core._jacobian's call, and for a single
// Tensor output its result as the Python function builds it; None when the Python path must
// decide (another argument there), [rows, out_def, aux] (a list) for a pytree output.
PyObject* jacobian_fast(GradFnObject* self, PyObject* tup) {
  const Py_ssize_t n = PyTuple_GET_SIZE(tup);
  if (self->position >= n || Py_TYPE(PyTuple_GET_ITEM(tup, self->position)) != g_tensor_type) Py_RETURN_NONE;
  const char* what = PyUnicode_AsUTF8(self->what);
  if (!what) throw py::error_already_set();
  py::tuple res = jacobian_call(self->fn, py::reinterpret_borrow<py::tuple>(tup), py::make_tuple(self->position),
                                (self->flags & kJacForward) != 0, (self->flags & kJacHasAux) != 0, what, self->flatten,
                                /*holomorphic=*/false);
  if (!res[1].is_none()) {
    py::list l(3);
    for (size_t i = 0; i < 3; ++i) l[i] = res[i];
    return l.release().ptr();
  }
  py::object j = res[0].cast<py::list>()[0].cast<py::tuple>()[0];
  if (self->flags & kJacHasAux) return PyTuple_Pack(2, j.ptr(), res[2].ptr());
  return j.release().ptr();
}

PyObject* gradfn_vectorcall(PyObject* self_o, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  auto* self = reinterpret_cast<GradFnObject*>(self_o);
  const Py_ssize_t n = PyVectorcall_NARGS(nargsf);
  if (n == 0 || (kwnames && PyTuple_GET_SIZE(kwnames) > 0))
    return PyObject_Vectorcall(self->slow, args, size_t(n), kwnames);
  const int graph = PyObject_IsTrue(PyList_GET_ITEM(self->graph, 0));
  if (graph < 0) return nullptr;
  if (graph) return PyObject_Vectorcall(self->slow, args, size_t(n), nullptr);
  PyObject* tup = PyTuple_New(n);
  if (!tup) return nullptr;
  for (Py_ssize_t i = 0; i < n; ++i) {
    Py_INCREF(args[i]);
    PyTuple_SET_ITEM(tup, i, args[i]);
  }
  PyObject* r = shim::guarded([&]() -> PyObject* {
    if (self->flags & kJacobian) return jacobian_fast(self, tup);
    return grad_call_impl(self->fn, tup, self->position, self->flags, self->positions);
  });
  if (r == Py_None) {  // declined before fn ran: the Python path decides
    Py_DECREF(r);
    r = PyObject_Call(self->slow, tup, nullptr);
  } else if (r && PyList_CheckExact(r)) {  // fn ran; its nested output is finished in Python
    PyObject* l = r;
    // rest(r, args, fn, position, flags, what): one module-level function for every transform
    PyObject* pos = PyLong_FromLong(self->position);
    PyObject* flags = pos ? PyLong_FromLong(self->flags) : nullptr;
    r = flags ? PyObject_CallFunctionObjArgs(self->rest, l, tup, self->fn, pos, flags, self->what, nullptr) : nullptr;
    Py_XDECREF(pos);
    Py_XDECREF(flags);
    Py_DECREF(l);
  }
  Py_DECREF(tup);
  return r;
}

int gradfn_traverse(PyObject* self_o, visitproc visit, void* arg) {
  auto* self = reinterpret_cast<GradFnObject*>(self_o);
  Py_VISIT(self->fn);
  Py_VISIT(self->slow);
  Py_VISIT(self->rest);
  Py_VISIT(self->graph);
  Py_VISIT(self->positions);
  Py_VISIT(self->what);
  Py_VISIT(self->flatten);
  Py_VISIT(self->dict);
  return 0;
}

int gradfn_clear(PyObject* self_o) {
  auto* self = reinterpret_cast<GradFnObject*>(self_o);
  Py_CLEAR(self->fn);
  Py_CLEAR(self->slow);
  Py_CLEAR(self->rest);
  Py_CLEAR(self->graph);
  Py_CLEAR(self->positions);
  Py_CLEAR(self->what);
  Py_CLEAR(self->flatten);
  Py_CLEAR(self->dict);
  return 0;
}

void gradfn_dealloc(PyObject* self_o) {
  auto* self = reinterpret_cast<GradFnObject*>(self_o);
  PyObject_GC_UnTrack(self_o);
  if (self->weakrefs) PyObject_ClearWeakRefs(self_o);
  gradfn_clear(self_o);
  Py_TYPE(self_o)->tp_free(self_o);
}

// As a function stored on a class: bound to the instance it is read from.
PyObject* gradfn_descr_get(PyObject* self, PyObject* obj, PyObject*) {
  if (obj == nullptr || obj == Py_None) {
    Py_INCREF(self);
    return self;
  }
  return PyMethod_New(self, obj);
}

// _core._grad_fn_unpickle(slow) -> slow: what a pickled _GradFn becomes.
PyObject* g_gradfn_unpickle = nullptr;
PyObject* gradfn_unpickle(PyObject*, PyObject* arg) {
  Py_INCREF(arg);
  return arg;
}

// Pickles as the Python closure, which cloudpickle sends by value (a module-level function is sent
// by reference as before); unpickled, it is that closure, which takes the same calls.
PyObject* gradfn_reduce(PyObject* self_o, PyObject*) {
  auto* self = reinterpret_cast<GradFnObject*>(self_o);
  return Py_BuildValue("(O(O))", g_gradfn_unpickle, self->slow);
}

PyTypeObject* g_gradfn_type = nullptr;
}  // namespace

void bind_autodiff(py::module_& m) {
  {
    static char byte = 0;
    Ref<Storage> probe = borrow_from_python(&byte, 1, py::none(), true);
    g_py_release = probe->ext_release;
    autodiff::g_borrowed_may_change = borrowed_may_change;
  }
  using autodiff::BatchLevel;
  using autodiff::ForwardLevel;
  using autodiff::ReverseLevel;
  // Every method takes the Python object and goes through level_of, which refuses a level made by
  // __new__ without __init__ (its holder was never constructed: a cast would read garbage memory).
  py::class_<ReverseLevel, std::shared_ptr<ReverseLevel>>(m, "ReverseLevel")
      .def(py::init<>())
      .def("push", [](py::handle self) { autodiff::push_level(level_of<ReverseLevel>(self, "ReverseLevel", "push")); })
      .def("pop",
           [](py::handle self) { autodiff::pop_level(level_of<ReverseLevel>(self, "ReverseLevel", "pop").get()); })
      .def("track", [](py::handle self,
                       const Tensor& t) { return level_of<ReverseLevel>(self, "ReverseLevel", "track")->track(t); })
      .def("num_records",
           [](py::handle self) { return level_of<ReverseLevel>(self, "ReverseLevel", "num_records")->num_records(); })
      .def("unwrap",
           [](py::handle self, const Tensor& t) {
             auto l = level_of<ReverseLevel>(self, "ReverseLevel", "unwrap");
             autodiff::check_read(t, "the function returns");
             auto* m = autodiff::meta_at(t, l->id());
             return m ? m->primal : t;
           })
      .def("backward", [](py::handle self, const std::vector<Tensor>& outs,
                          const std::vector<std::optional<Tensor>>& cots, const std::vector<Tensor>& ins) {
        auto l = level_of<ReverseLevel>(self, "ReverseLevel", "backward");
        TensorList c;
        for (auto& o : cots) c.push_back(o ? *o : Tensor());
        return from_list(l->backward(to_list(outs), c, to_list(ins)));
      });
  py::class_<ForwardLevel, std::shared_ptr<ForwardLevel>>(m, "ForwardLevel")
      .def(py::init<>())
      .def("push", [](py::handle self) { autodiff::push_level(level_of<ForwardLevel>(self, "ForwardLevel", "push")); })
      .def("pop",
           [](py::handle self) { autodiff::pop_level(level_of<ForwardLevel>(self, "ForwardLevel", "pop").get()); })
      .def("track",
           [](py::handle self, const Tensor& t, const Tensor& tangent) {
             return level_of<ForwardLevel>(self, "ForwardLevel", "track")->track(t, tangent);
           })
      .def("tangent_of",
           [](py::handle self, const Tensor& t) {
             return level_of<ForwardLevel>(self, "ForwardLevel", "tangent_of")->tangent_of(t);
           })
      .def("unwrap", [](py::handle self, const Tensor& t) {
        auto l = level_of<ForwardLevel>(self, "ForwardLevel", "unwrap");
        autodiff::check_read(t, "the function returns");
        auto* m = autodiff::meta_at(t, l->id());
        return m ? m->primal : t;
      });
  py::class_<BatchLevel, std::shared_ptr<BatchLevel>>(m, "BatchLevel")
      .def(py::init<int64_t>())
      .def("push", [](py::handle self) { autodiff::push_level(level_of<BatchLevel>(self, "BatchLevel", "push")); })
      .def("pop", [](py::handle self) { autodiff::pop_level(level_of<BatchLevel>(self, "BatchLevel", "pop").get()); })
      .def_property_readonly("size",
                             [](py::handle self) { return level_of<BatchLevel>(self, "BatchLevel", "size")->size(); })
      .def("track", [](py::handle self, const Tensor& t,
                       int64_t axis) { return level_of<BatchLevel>(self, "BatchLevel", "track")->track(t, axis); })
      .def("unwrap",
           [](py::handle self, const Tensor& t, int64_t out_axis) {
             autodiff::check_read(t, "the function returns");
             return level_of<BatchLevel>(self, "BatchLevel", "unwrap")->unwrap(t, out_axis);
           })
      .def("wraps", [](py::handle self, const Tensor& t) {
        return autodiff::meta_at(t, level_of<BatchLevel>(self, "BatchLevel", "wraps")->id()) != nullptr;
      });
  // Swap the value behind a Tensor object (used to track Parameters in place during a transform).
  m.def("_swap_value", [](Tensor& dst, Tensor& src) {
    Tensor tmp = dst;
    dst.rebind(src);
    src.rebind(tmp);
  });
  // A second Tensor object naming the same value (grad: was a tracked weight written in place?).
  m.def("_alias", [](const Tensor& t) { return Tensor(t); });
  // grad's weights in one call each way: _swap_value, and (in) a second object naming the value
  // `dst` gets, or (out) whether `dst` still names `entry` before the swap (fn did not write into
  // the weight).
  m.def("_swap_in", [](Tensor& dst, Tensor& src) {
    Tensor tmp = dst;
    dst.rebind(src);
    src.rebind(tmp);
    return Tensor(dst);
  });
  m.def("_swap_out", [](Tensor& dst, Tensor& src, const Tensor& entry) {
    bool same = dst.impl() == entry.impl();
    Tensor tmp = dst;
    dst.rebind(src);
    src.rebind(tmp);
    return same;
  });
  // Whether two Tensor objects name the same value (vmap: was a closed-over tensor rebound?).
  m.def("_same_value", [](const Tensor& a, const Tensor& b) { return a.impl() == b.impl(); });
  m.def("_levels_active", [] { return autodiff::any_level_active(); });
  m.def("_rng_state", [] { return ops::rng_state(); });
  m.def("_set_rng_state", [](uint64_t seed, uint64_t block) { ops::set_rng_state(seed, block); });
  m.def("strip", [](const Tensor& t) { return autodiff::strip(t); });
  m.def("_vmap_fallback_count", &autodiff::vmap_fallback_count);
  m.def("_lazy_batch_counts", [] {
    const autodiff::LazyBatchCounts c = autodiff::lazy_batch_counts();
    return py::make_tuple(c.ops, c.materialised);
  });
  m.def("_forward_tracked", [](const std::vector<Tensor>& ts) {
    for (const Tensor& t : ts)
      if (autodiff::forward_tracked(t)) return true;
    return false;
  });
  m.def("_any_tracked", [](const std::vector<Tensor>& ts) {
    for (const Tensor& t : ts)
      if (autodiff::tracked_at_active_level(t)) return true;
    return false;
  });
  // The common case of grad/value_and_grad/GradOperation in one C++ call (see grad_fast below).
  // Result: (value, grads tuple), None to decline, or (Ellipsis, out, level, wanted) when the output
  // was nested (the caller finishes the sweep).
  m.def("_grad_fast", [](py::handle fn, py::tuple args, py::tuple positions) -> py::object {
    Positions pos;
    if (!positions_of(positions, args.size(), pos)) return py::none();
    FastGrad r;
    if (!grad_fast(fn, args, pos, true, r)) return py::none();
    if (r.nested) return py::make_tuple(py::ellipsis(), r.out, r.level, r.wanted);
    return py::make_tuple(r.value, grads_tuple(r.grads));
  });
  // Note [One call per gradient]: the transforms' call path as one METH_FASTCALL function.
  {
    static PyMethodDef def = {"_grad_call", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&grad_call)),
                              METH_FASTCALL, "grad_call(fn, args, position, flags): the fast path of a gradient call"};
    m.add_object("_grad_call",
                 py::reinterpret_steal<py::object>(PyCFunction_NewEx(&def, nullptr, m.attr("__name__").ptr())));
    m.attr("_GRAD_VALUE") = int(kGradValue);
    m.attr("_GRAD_TUPLE") = int(kGradTuple);
    m.attr("_GRAD_AUX") = int(kGradAux);
    m.attr("_GRAD_ALL") = kAllPositions;
  }
  // Note [Gradient functions in C]: the type, its maker and its unpickler.
  {
    static PyMethodDef methods[] = {{"__reduce__", reinterpret_cast<PyCFunction>(gradfn_reduce), METH_NOARGS,
                                     "Pickles as the Python function it was made from."},
                                    {nullptr, nullptr, 0, nullptr}};
    static PyGetSetDef getset[] = {{"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, nullptr, nullptr},
                                   {nullptr, nullptr, nullptr, nullptr, nullptr}};
    static PyTypeObject type{};  // zeroed; filled below as PyVarObject_HEAD_INIT(nullptr, 0) would
    Py_SET_REFCNT(reinterpret_cast<PyObject*>(&type), 1);
    type.tp_name = "tapegrad._core._GradFn";
    type.tp_basicsize = sizeof(GradFnObject);
    type.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL;
    type.tp_doc = "A transform's gradient function (Note [Gradient functions in C]).";
    type.tp_dealloc = gradfn_dealloc;
    type.tp_traverse = gradfn_traverse;
    type.tp_clear = gradfn_clear;
    type.tp_call = PyVectorcall_Call;
    type.tp_vectorcall_offset = offsetof(GradFnObject, vectorcall);
    type.tp_dictoffset = offsetof(GradFnObject, dict);
    type.tp_weaklistoffset = offsetof(GradFnObject, weakrefs);
    type.tp_descr_get = gradfn_descr_get;
    type.tp_getattro = PyObject_GenericGetAttr;
    type.tp_setattro = PyObject_GenericSetAttr;
    type.tp_methods = methods;
    type.tp_getset = getset;
    if (PyType_Ready(&type) < 0) throw py::error_already_set();
    g_gradfn_type = &type;
    m.add_object("_GradFn", py::reinterpret_borrow<py::object>(reinterpret_cast<PyObject*>(&type)));
    static PyMethodDef unpickle = {"_grad_fn_unpickle", gradfn_unpickle, METH_O, "The unpickled _GradFn."};
    g_gradfn_unpickle = PyCFunction_NewEx(&unpickle, nullptr, m.attr("__name__").ptr());
    if (!g_gradfn_unpickle) throw py::error_already_set();
    m.add_object("_grad_fn_unpickle", py::reinterpret_borrow<py::object>(g_gradfn_unpickle));
    // _grad_fn(fn, position, flags, slow, rest, graph[, what, flatten]): made once per transform
    // (not per call); a jacobian function (flags has _JACOBIAN) names `what` and `flatten`.
    m.def(
        "_grad_fn",
        [](py::object fn, long position, long flags, py::object slow, py::object rest, py::list graph, py::str what,
           py::object flatten, py::object positions) -> py::object {
          TG_CHECK_TYPE(positions.is_none() || (PyTuple_Check(positions.ptr()) && py::len(positions) > 0),
                        "_grad_fn: positions must be None or a non-empty tuple");
          TG_CHECK_TYPE(graph.size() >= 1, "_grad_fn: graph must be a non-empty list");
          TG_CHECK_TYPE(!(flags & kJacobian) || position >= 0, "_grad_fn: a jacobian position must be >= 0");
          auto* o = PyObject_GC_New(GradFnObject, g_gradfn_type);
          if (!o) throw py::error_already_set();
          o->fn = fn.release().ptr();
          o->slow = slow.release().ptr();
          o->rest = rest.release().ptr();
          o->graph = graph.release().ptr();
          o->position = position;
          o->flags = flags;
          o->positions = positions.is_none() ? nullptr : positions.release().ptr();
          o->what = what.release().ptr();
          o->flatten = flatten.release().ptr();
          o->dict = nullptr;
          o->weakrefs = nullptr;
          o->vectorcall = gradfn_vectorcall;
          PyObject_GC_Track(reinterpret_cast<PyObject*>(o));
          auto g = py::reinterpret_steal<py::object>(reinterpret_cast<PyObject*>(o));
          // What functools.update_wrapper(g, fn) does, in one dict shared with `slow` (which
          // functools.wraps made from fn): what graph mode stores on the closure is seen on g.
          o->dict = PyObject_GenericGetDict(o->slow, nullptr);
          if (!o->dict) throw py::error_already_set();
          static PyObject* names = [] {
            return py::object(py::module_::import("functools").attr("WRAPPER_ASSIGNMENTS")).release().ptr();
          }();
          for (py::handle name : py::reinterpret_borrow<py::tuple>(names)) {
            PyObject* v = PyObject_GetAttr(o->fn, name.ptr());
            if (!v) {
              if (!PyErr_ExceptionMatches(PyExc_AttributeError)) throw py::error_already_set();
              PyErr_Clear();
              continue;
            }
            const int rc = PyDict_SetItem(o->dict, name.ptr(), v);
            Py_DECREF(v);
            if (rc < 0) throw py::error_already_set();
          }
          if (PyDict_SetItemString(o->dict, "__wrapped__", o->fn) < 0) throw py::error_already_set();
          return g;
        },
        py::arg("fn"), py::arg("position"), py::arg("flags"), py::arg("slow"), py::arg("rest"), py::arg("graph"),
        py::arg("what") = "grad", py::arg("flatten") = py::none(), py::arg("positions") = py::none());
    m.attr("_JACOBIAN") = int(kJacobian);
    m.attr("_JAC_FORWARD") = int(kJacForward);
    m.attr("_JAC_HAS_AUX") = int(kJacHasAux);
  }
  m.def("_custom_vjp_apply", [](py::object fwd, py::object bwd, const std::vector<Tensor>& inputs) {
    Attrs a;
    a.payload = make_payload(std::move(fwd), std::move(bwd), py::none());
    return from_list(autodiff::apply(kCustomVjp, to_list(inputs), a));
  });
}

const Prim* custom_vjp_prim() { return &kCustomVjp; }

}  // namespace bind
}  // namespace tapegrad
