// Shared conversions between Python objects and C++ tensors. Conversion only: no math here.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <shared_mutex>

#include "bindings/pybind_shim.h"
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
// Its memory starts zeroed (Note [Uninitialised tensors]): code 0 is an object made by
// dtype.__new__, which every use refuses.
struct PyDType {
  PyDType() = default;
  explicit PyDType(DType x) : code(uint8_t(uint8_t(x) + 1)) {}
  static void* operator new(size_t n) {
    void* p = ::operator new(n);
    std::memset(p, 0, n);
    return p;
  }
  static void operator delete(void* p) noexcept { ::operator delete(p); }
  static void* operator new(size_t, void* where) noexcept { return where; }
  static void operator delete(void*, void*) noexcept {}
  DType get() const {
    if (code == 0 || code > kNumDTypes) throw TypeError("dtype is not initialised (dtype.__new__ without a value)");
    return DType(code - 1);
  }
  uint8_t code = 0;
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
// A 0-d tensor of complex dtype d holding the Python complex p.
Tensor complex_scalar(PyObject* p, DType d);
// A 0-d tensor of integer dtype d holding the Python int p, or numpy 2's OverflowError naming op.
Tensor py_int_scalar(PyObject* p, DType d, const char* op);
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
// Shapes: an int, a tuple/list of ints, a 1-d integer numpy array or Tensor (numpy integers and
// 0-d integer tensors count as ints); a dimension beyond int64 is a ValueError.
AxisArg parse_axis(py::handle axis, const char* op);
Shape parse_shape(py::handle shape, const char* op);
// Python ints, numpy integers, 0-d integer tensors (no bools, no floats).
bool is_index_like(py::handle h);
// The value of an integer object; false (and the value clamped to int64) when it does not fit.
bool py_int64(py::handle h, int64_t& out);
// An int argument; TypeError for a non-integer, OverflowError beyond int64.
int64_t int_param(py::handle h, const char* op, const char* what);
// An axis: as int_param, but a value beyond int64 is clamped (the axis check then reports it).
int64_t axis_param(py::handle h, const char* op);
// A flag: bools, numpy bools, numbers (numpy's truth value); TypeError for other things.
bool bool_param(py::handle h, const char* op, const char* what);

void bind_dtypes(py::module_& m);
void bind_tensor(py::module_& m);
void bind_functions(py::module_& m);
void bind_autodiff(py::module_& m);
void bind_reduce_shape(py::module_& m);
void bind_index(py::module_& m);
void bind_linalg(py::module_& m);
void bind_creation(py::module_& m);
void bind_jacobian(py::module_& m);
void bind_tree(py::module_& m);
// _core._jacobian(fn, args, positions, forward, has_aux, what, flatten, holomorphic) -> (rows, out_def, aux)
// (bind_jacobian.cpp); also called by the jacobian functions of Note [Gradient functions in C].
py::tuple jacobian_call(py::handle fn, py::tuple args, py::tuple positions, bool forward, bool has_aux,
                        const char* what, py::handle flatten, bool holomorphic);
void bind_jit(py::module_& m);
void bind_custom(py::module_& m);
void bind_sparse(py::module_& m);
void bind_device(py::module_& m);
// Last: replaces pybind11 methods bound above by C functions (Note [Fast Tensor methods]).
void bind_fast_methods(py::module_& m);
// Clear messages for calls no overload accepts (Note [Argument errors]); after every binding.
void install_argument_errors(py::module_& m);

// The prims of user-defined rules (their rules call Python, so they live in bindings/), for
// _core._prims() beside ops::all_prims().
const Prim* custom_vjp_prim();
const Prim* custom_jvp_prim();

// Large kernels on untracked values run without the GIL so that other Python threads can work
// meanwhile (API section 8); small ones keep it (releasing costs more than they do), and so do
// tracked ones (their transform levels may call back into Python).
constexpr int64_t kReleaseGil = 1 << 16;

// Note [Concurrent writes]
// ~~~~~~~~~~~~~~~~~~~~~~~~
// An in-place write from Python (setitem, the in-place operators) never overlaps a kernel that
// reads the same memory in another thread, so a reader sees a tensor wholly before or wholly after
// a write (docs/guarantees.md). Writes keep the GIL, so kernels that keep it (small ones, tracked
// ones) cannot overlap them; kernels that run without the GIL (nogil_if_large, large replays,
// linalg) hold one process-wide reader-writer lock shared, and a write holds it exclusively.
// Deadlock freedom: a thread never blocks on the lock while holding the GIL (a write that finds
// the lock taken waits with the GIL released, readers release the GIL before locking), and a
// thread that already holds the lock (a user rule called back from a replay) does not lock again.
inline std::shared_mutex& data_lock() {
  static std::shared_mutex m;
  return m;
}
inline thread_local int t_data_lock_depth = 0;

// Held by a kernel that runs without the GIL: take it after releasing the GIL.
class SharedDataLock {
 public:
  SharedDataLock() : own_(t_data_lock_depth == 0) {
    if (own_) data_lock().lock_shared();
    ++t_data_lock_depth;
  }
  ~SharedDataLock() {
    --t_data_lock_depth;
    if (own_) data_lock().unlock_shared();
  }
  SharedDataLock(const SharedDataLock&) = delete;
  SharedDataLock& operator=(const SharedDataLock&) = delete;

 private:
  bool own_;
};

// Held by an in-place write from Python, which holds the GIL: waits for readers without it.
class WriteDataLock {
 public:
  WriteDataLock() : own_(t_data_lock_depth == 0) {
    if (own_ && !data_lock().try_lock()) {
      py::gil_scoped_release nogil;
      data_lock().lock();
    }
    ++t_data_lock_depth;
  }
  ~WriteDataLock() {
    --t_data_lock_depth;
    if (own_) data_lock().unlock();
  }
  WriteDataLock(const WriteDataLock&) = delete;
  WriteDataLock& operator=(const WriteDataLock&) = delete;

 private:
  bool own_;
};

template <class F>
Tensor nogil_if_large(int64_t n, bool tracked, F&& f) {
  if (n >= kReleaseGil && !tracked) {
    py::gil_scoped_release nogil;
    SharedDataLock lock;  // released before the GIL is taken back
    return f();
  }
  return f();
}

// An in-place write into a tensor's memory (Note [Concurrent writes]).
template <class F>
void locked_write(F&& f) {
  WriteDataLock lock;
  f();
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
