// Note [pybind11 internals]
// ~~~~~~~~~~~~~~~~~~~~~~~~~
// Every use of pybind11's private API (py::detail) in tapegrad, in this one header. Those are not
// covered by pybind11's compatibility promise, so pyproject.toml, .ci/sanitize and the README pin
// pybind11 to the major version they were checked against (>=3.0,<4). Checked against pybind11
// 3.1.0 (built and the suite run with it). A pybind11 that changes one of them breaks the build
// here, in one place.
//
// What is used, and why:
//  - type_caster<Tensor>: pybind11's caster plus a refusal of a Tensor whose __init__ never ran,
//    and casts to Python through type_caster_generic::cast with Tensor's type_info looked up once.
//  - instance::get_value_and_holder / simple layout fields: the C++ object of a known Python type
//    read without the type-registry lookup py::cast does (operator slots, jit's GC traversal).
//  - try_translate_exceptions: C-level slots map C++ exceptions as pybind11's dispatcher does.
//  - npy_api / array_proxy: whether a numpy array is a view (its memory may change elsewhere).
//  - get_type_info, is_holder_constructed: refusing objects made by __new__ without __init__.
//  - make_new_instance, value_and_holder, instance flags: Tensor results wrapped without the
//    instance registry (Note [Unregistered tensor objects]).
//  - function_record (name, scope, argument records and counts, signature, its PyMethodDef) and
//    function_record_ptr_from_PyObject: the call entry and messages of Note [Argument errors].
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <typeinfo>

#include "core/error.h"
#include "core/tensor.h"

// Every binding takes Tensors through this caster: pybind11's, plus a refusal of a Tensor whose
// __init__ never ran (Note [Uninitialised tensors] in core/tensor.h). One compare per argument.
namespace pybind11 {
namespace detail {
template <>
class type_caster<tapegrad::Tensor> : public type_caster_base<tapegrad::Tensor> {
  using base = type_caster_base<tapegrad::Tensor>;

 public:
  template <typename T>
  using cast_op_type = detail::cast_op_type<T>;
  // A Tensor to a new Python object with the type's record looked up once (pybind11 looks it up
  // by typeid on every cast: hash lookups in its internals, ~10% of a tiny gradient's per-op path).
  // Same policies as type_caster_base: a returned value is moved, a reference copied.
  // A value (moved or copied) becomes a new object that is not entered in pybind11's registry of
  // instances (Note [Unregistered tensor objects]); references keep pybind11's way.
  static handle cast(tapegrad::Tensor&& src, return_value_policy, handle) {
    return new_object(tapegrad::Tensor(std::move(src)));
  }
  static handle cast(const tapegrad::Tensor& src, return_value_policy policy, handle parent) {
    if (policy == return_value_policy::automatic || policy == return_value_policy::automatic_reference ||
        policy == return_value_policy::copy || policy == return_value_policy::move)
      return new_object(tapegrad::Tensor(src));
    return type_caster_generic::cast(std::addressof(src), policy, parent, tensor_type_info(),
                                     make_copy_constructor(&src), make_move_constructor(&src));
  }
  using base::cast;

  // Note [Unregistered tensor objects]
  // ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
  // pybind11 enters every object it makes for a C++ value in a registry (a hash map from the C++
  // address to the Python object) so that a C++ *reference* handed to Python again finds the
  // object that already owns it; it looks the address up before making an object and removes it
  // when the object dies. A Tensor result is always a fresh value that no other object owns, and
  // no binding returns a Tensor by reference, so for Tensors the registry is pure cost: three hash
  // operations (about a thousand instructions) per result, a sixth of a tiny gradient. Values
  // are therefore wrapped here as pybind11's own move path does it (a new instance, the value moved
  // to the heap, a unique_ptr holder constructed, the object owning it) but without the registry
  // entry. pybind11's deallocation skips deregistering an instance whose registered flag is clear,
  // so the object is freed as any other. Weak references, subclasses (made by their own __init__,
  // registered as before) and identity are unchanged: a Python object is still one value.
  static handle new_object(tapegrad::Tensor&& v) {
    const type_info* ti = tensor_type_info();
    PyObject* self = make_new_instance(ti->type);
    if (!self) throw error_already_set();
    auto* inst = reinterpret_cast<instance*>(self);
    if (!inst->simple_layout) {  // never for Tensor (one C++ type); pybind11's path if it were
      Py_DECREF(self);
      return type_caster_generic::cast(std::addressof(v), return_value_policy::move, handle(), ti,
                                       make_copy_constructor(&v), make_move_constructor(&v));
    }
    value_and_holder v_h(inst, ti, 0, 0);
    try {
      v_h.value_ptr() = new tapegrad::Tensor(std::move(v));
    } catch (...) {
      Py_DECREF(self);
      throw;
    }
    inst->owned = true;
    using Holder = std::unique_ptr<tapegrad::Tensor>;
    new (std::addressof(v_h.holder<Holder>())) Holder(v_h.value_ptr<tapegrad::Tensor>());
    v_h.set_holder_constructed();
    return self;
  }

  // NOLINTNEXTLINE(google-explicit-constructor)
  operator tapegrad::Tensor*() {
    check();
    return base::operator tapegrad::Tensor*();
  }
  // NOLINTNEXTLINE(google-explicit-constructor)
  operator tapegrad::Tensor&() {
    check();
    return base::operator tapegrad::Tensor&();
  }

 private:
  // Null until the class is registered (then kept: a registered type is never unregistered).
  static const type_info* tensor_type_info() {
    static const type_info* cached = nullptr;
    if (!cached) cached = get_type_info(typeid(tapegrad::Tensor));
    return cached;
  }
  void check() const {
    if (value && !static_cast<const tapegrad::Tensor*>(value)->defined())
      throw tapegrad::TypeError("Tensor is not initialised (Tensor.__new__ was called without Tensor.__init__)");
  }
};
}  // namespace detail
}  // namespace pybind11

namespace tapegrad {
namespace bind {
namespace shim {
namespace py = pybind11;

// The C++ value inside an instance of a pybind11 class with one C++ type; null when __init__ has
// not run. No type lookup: the caller knows the type.
inline void* value_ptr(PyObject* o) {
  return reinterpret_cast<py::detail::instance*>(o)->get_value_and_holder().value_ptr();
}

// Inside a catch (...): sets the Python error for the active C++ exception, as pybind11's
// dispatcher does (for C-level slots, which pybind11 does not wrap).
inline void translate_active_exception() { py::detail::try_translate_exceptions(); }

// Runs the body of a C-level slot or fast-call function, mapping C++ errors to Python ones as the
// pybind11 dispatcher does: returns f()'s result, or nullptr with the Python error set.
template <class F>
PyObject* guarded(F&& f) {
  try {
    return f();
  } catch (py::error_already_set& e) {
    e.restore();
    return nullptr;
  } catch (...) {
    translate_active_exception();
    return nullptr;
  }
}

// Whether `o` is a numpy array, and whether that array is a view of another object's memory.
inline bool is_numpy_array(PyObject* o) { return py::detail::npy_api::get().PyArray_Check_(o); }
inline bool numpy_array_has_base(PyObject* o) { return py::detail::array_proxy(o)->base != nullptr; }

// The holder (a shared_ptr) of `self`, an instance of the class bound for T; an empty holder when
// __init__ never ran.
template <class Holder, class T>
Holder holder_of(py::handle self) {
  auto v_h =
      reinterpret_cast<py::detail::instance*>(self.ptr())->get_value_and_holder(py::detail::get_type_info(typeid(T)));
  if (!v_h.holder_constructed() || v_h.value_ptr() == nullptr) return Holder();
  return v_h.template holder<Holder>();
}

// Whether the holder of `o` (a pybind11 instance) was constructed, i.e. __init__ ran.
inline bool is_holder_constructed(PyObject* o) { return py::detail::is_holder_constructed(o); }

// The C++ value of an instance of a class with pybind11's simple layout (one C++ type), read from
// the instance record alone (no type_info lookup, hence no allocation); null while not constructed.
template <class T>
T* simple_layout_value(PyObject* self) {
  auto* inst = reinterpret_cast<py::detail::instance*>(self);
  if (!inst->simple_layout || !inst->simple_holder_constructed) return nullptr;
  return static_cast<T*>(inst->simple_value_holder[0]);
}

// The head of the overload chain of a function object made by pybind11; null for any other object.
inline py::detail::function_record* function_record_of(PyObject* f) {
  if (f == nullptr || !PyCFunction_Check(f)) return nullptr;
  PyObject* self = PyCFunction_GET_SELF(f);  // null for a C function without one (the fast methods)
  return self == nullptr ? nullptr : py::detail::function_record_ptr_from_PyObject(self);
}

}  // namespace shim
}  // namespace bind
}  // namespace tapegrad
