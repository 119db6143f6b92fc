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
  static handle cast(tapegrad::Tensor&& src, return_value_policy, handle parent) {
    return type_caster_generic::cast(std::addressof(src), return_value_policy::move, parent, tensor_type_info(),
                                     make_copy_constructor(&src), make_move_constructor(&src));
  }
  static handle cast(const tapegrad::Tensor& src, return_value_policy policy, handle parent) {
    if (policy == return_value_policy::automatic || policy == return_value_policy::automatic_reference)
      policy = return_value_policy::copy;
    return type_caster_generic::cast(std::addressof(src), policy, parent, tensor_type_info(),
                                     make_copy_constructor(&src), make_move_constructor(&src));
  }
  using base::cast;

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

}  // namespace shim
}  // namespace bind
}  // namespace tapegrad
