// Python <-> C++ conversions.
#include <cstring>

#include "bindings/buffer.h"
#include "bindings/common.h"
#include "ops/device.h"

namespace tapegrad {
namespace bind {

// Docstrings of the functions, methods and properties bound in this file. Every `>>>` example
// runs as a doctest (tests/test_doctests.py) with `tg` (tapegrad) and `np` (numpy) in scope;
// `...` in an output stands for digits that may differ in the last place between SIMD paths.
namespace docs {

inline constexpr char dtype[] =
    R"doc(A tensor element type: `tg.float32`, `tg.float64`, `tg.float16`, `tg.int32`, `tg.int64`,
`tg.bool_`. It prints as MindSpore's name and compares equal to the numpy dtype and its name, so
numpy accepts it too.

>>> tg.float32, tg.bool_
(Float32, Bool)
>>> tg.float32 == "float32", tg.float32 == np.float32
(True, True)
>>> np.zeros(2, dtype=tg.float64).dtype
dtype('float64')
)doc";

inline constexpr char dtype_name[] =
    R"doc(numpy's name of the dtype.

>>> tg.float32.name, tg.bool_.name
('float32', 'bool')
)doc";

inline constexpr char dtype_itemsize[] =
    R"doc(Bytes per element.

>>> tg.float16.itemsize, tg.int64.itemsize
(2, 8)
)doc";

inline constexpr char dtype_is_floating_point[] =
    R"doc(Whether the dtype is a floating-point type (differentiable).

>>> tg.float64.is_floating_point, tg.int32.is_floating_point
(True, False)
)doc";

inline constexpr char dtype_numpy_dtype[] =
    R"doc(The numpy dtype.

>>> tg.int32.numpy_dtype
dtype('int32')
)doc";

inline constexpr char dtype_dtype[] =
    R"doc(The numpy dtype (numpy reads `.dtype` of any object: `np.dtype(tg.float32)`).

>>> np.dtype(tg.float32)
dtype('float32')
)doc";

inline constexpr char dtype_call[] =
    R"doc(`x` as a Tensor of this dtype, as JAX's `jnp.float32(x)`: numpy code calls its dtypes as
conversion functions (`np.float32(3)`, `np.int64(x)`). A Python or numpy scalar gives a 0-d Tensor,
a list or ndarray a Tensor of its shape, a Tensor `x.astype(dtype)` (differentiable; `x` itself
when it already has the dtype). It never returns a numpy scalar.

>>> tg.float64(3), tg.int64(tg.tensor([1.5, -2.5]))
(Tensor(shape=[], dtype=Float64, value= 3), Tensor(shape=[2], dtype=Int64, value= [ 1, -2]))
)doc";

}  // namespace docs

namespace {

// Leaked on purpose: they must outlive interpreter finalisation.
PyObject* g_dtype_objs[kNumDTypes];

py::dtype np_dtype(DType d) { return py::dtype(dtype_numpy_name(d)); }

// Our dtype for a numpy dtype; false for what no dtype of ours can hold.
bool dtype_from_numpy(const py::dtype& dt, DType& out) {
  const char kind = dt.kind();
  const size_t sz = size_t(dt.itemsize());
  if (kind == 'b') {
    out = DType::Bool;
    return true;
  }
  if (kind == 'i' || kind == 'u') {
    const bool u = kind == 'u';
    switch (sz) {
      case 1: out = u ? DType::UInt8 : DType::Int8; return true;
      case 2: out = u ? DType::UInt16 : DType::Int16; return true;
      case 4: out = u ? DType::UInt32 : DType::Int32; return true;
      case 8: out = u ? DType::UInt64 : DType::Int64; return true;
      default: return false;
    }
  }
  if (kind == 'c' && (sz == 8 || sz == 16)) {
    out = sz == 8 ? DType::Complex64 : DType::Complex128;
    return true;
  }
  if (kind == 'f') {
    if (sz == 2) {
      out = DType::Float16;
      return true;
    }
    if (sz == 4) {
      out = DType::Float32;
      return true;
    }
    if (sz == 8) {
      out = DType::Float64;
      return true;
    }
  }
  return false;
}

void release_pyobject(void* ctx) {
  // The last reference may go away at interpreter exit, after Python is gone.
  if (!Py_IsInitialized()) return;
  py::gil_scoped_acquire g;
  Py_DECREF(reinterpret_cast<PyObject*>(ctx));
}

Tensor from_numpy_array(py::array arr, bool& zero_copy) {
  py::dtype dt = arr.dtype();
  DType d;
  if (!dtype_from_numpy(dt, d))
    throw TypeError(str_cat("tensor: numpy dtype ", std::string(py::str(dt)), " is not supported (supported: ",
                            "bool, int8-64, uint8-64, float16, float32, float64, complex64, complex128)"));
  const int64_t isz = int64_t(itemsize(d));
  const py::ssize_t nd = arr.ndim();
  Shape shape;
  Strides strides;
  bool ok = dt.byteorder() != '>';
  const char* base = static_cast<const char*>(arr.data());
  int64_t min_off = 0;
  for (py::ssize_t i = 0; i < nd; ++i) {
    shape.push_back(int64_t(arr.shape(i)));
    int64_t sb = int64_t(arr.strides(i));
    if (sb % isz != 0) ok = false;
    strides.push_back(sb / isz);
    if (arr.shape(i) > 0 && sb < 0) min_off += sb * (int64_t(arr.shape(i)) - 1);
  }
  if (reinterpret_cast<uintptr_t>(base) % uintptr_t(isz) != 0) ok = false;
  if (ok) {
    // Borrow numpy's buffer: the Storage starts at the lowest address any element uses.
    int64_t max_off = 0;
    for (py::ssize_t i = 0; i < nd; ++i)
      if (arr.shape(i) > 0 && arr.strides(i) > 0) max_off += int64_t(arr.strides(i)) * (int64_t(arr.shape(i)) - 1);
    size_t nbytes = size_t(max_off - min_off + isz);
    Ref<Storage> st = borrow_from_python(const_cast<char*>(base) + min_off, nbytes, arr, !arr.writeable());
    zero_copy = true;
    return Tensor::from_storage(std::move(st), -min_off / isz, shape, strides, d);
  }
  zero_copy = false;
  py::array cc = py::module_::import("numpy").attr("ascontiguousarray")(arr, np_dtype(d));
  Tensor t = Tensor::empty(shape, d);
  std::memcpy(t.raw_data(), cc.data(), size_t(t.numel()) * size_t(isz));
  return t;
}

}  // namespace

Ref<Storage> borrow_from_python(void* data, size_t nbytes, py::handle owner, bool readonly) {
  Py_INCREF(owner.ptr());
  return Storage::borrow(data, nbytes, Device::CPU, release_pyobject, owner.ptr(), readonly);
}

py::object buffer_owner(const Tensor& t) {
  Storage* st = t.storage();
  if (st->borrowed() && st->ext_release != release_pyobject) st->make_writable();  // not ours: cannot track
  if (st->borrowed()) return py::reinterpret_borrow<py::object>(reinterpret_cast<PyObject*>(st->ext_ctx));
  // Our own memory never moves while the Storage lives.
  auto* keep = new Ref<Storage>(t.impl()->storage);
  return py::capsule(keep, [](void* p) { delete static_cast<Ref<Storage>*>(p); });
}

py::object dtype_object(DType d) { return py::reinterpret_borrow<py::object>(g_dtype_objs[int(d)]); }

bool is_none(py::handle h) { return h.is_none(); }

DType parse_dtype(py::handle h) {
  if (py::isinstance<PyDType>(h)) return h.cast<PyDType&>().get();
  // numpy reads None as float64; for us it is a missing dtype, which callers handle themselves.
  if (h.is_none()) throw TypeError("dtype: None is not a dtype");
  if (h.ptr() == reinterpret_cast<PyObject*>(&PyBool_Type)) return DType::Bool;
  if (h.ptr() == reinterpret_cast<PyObject*>(&PyLong_Type)) return DType::Int64;
  if (h.ptr() == reinterpret_cast<PyObject*>(&PyFloat_Type)) return DType::Float32;
  // Python's complex: the complex dtype of the default float (Float32), as the Array API's default.
  if (h.ptr() == reinterpret_cast<PyObject*>(&PyComplex_Type)) return DType::Complex64;
  if (py::isinstance<py::str>(h)) {
    std::string s = h.cast<std::string>();
    for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    if (s == "bool" || s == "bool_") return DType::Bool;
    if (s == "int32") return DType::Int32;
    if (s == "int64" || s == "int") return DType::Int64;
    if (s == "int8") return DType::Int8;
    if (s == "int16") return DType::Int16;
    if (s == "uint8") return DType::UInt8;
    if (s == "uint16") return DType::UInt16;
    if (s == "uint32") return DType::UInt32;
    if (s == "uint64") return DType::UInt64;
    if (s == "float16" || s == "half") return DType::Float16;
    if (s == "float32" || s == "float") return DType::Float32;
    if (s == "float64" || s == "double") return DType::Float64;
    if (s == "complex64") return DType::Complex64;
    if (s == "complex128" || s == "complex") return DType::Complex128;
    // numpy's other spellings ('f4', '<f8', 'i8', '?', 'e', 'single', 'longlong'): numpy reads the
    // string as given (its one-letter codes are case-sensitive: 'b' is int8, 'B' uint8).
    py::dtype dt;
    DType d;
    try {
      dt = py::dtype::from_args(py::reinterpret_borrow<py::object>(h));
    } catch (py::error_already_set&) {
      throw TypeError(str_cat("dtype: '", h.cast<std::string>(), "' is not a supported dtype"));
    }
    if (!dtype_from_numpy(dt, d))
      throw TypeError(
          str_cat("dtype: '", h.cast<std::string>(), "' (", std::string(py::str(dt)), ") is not a supported dtype"));
    return d;
  }
  py::object np = py::module_::import("numpy");
  py::dtype dt;
  try {
    dt = py::dtype::from_args(py::reinterpret_borrow<py::object>(h));
  } catch (py::error_already_set&) { throw TypeError(str_cat("dtype: ", std::string(py::repr(h)), " is not a dtype")); }
  DType d;
  if (!dtype_from_numpy(dt, d)) throw TypeError(str_cat("dtype: ", std::string(py::str(dt)), " is not supported"));
  return d;
}

py::array to_numpy_view(const Tensor& t0, bool writable) {
  check_has_data(t0, "asnumpy");
  // GPU memory is copied to the host (asnumpy, np.asarray, printing); the array owns the copy.
  if (t0.device() != Device::CPU) return to_numpy_view(ops::to_device(ops::stop_gradient(t0), Device::CPU), writable);
  const Tensor& t = t0;
  const int64_t isz = int64_t(itemsize(t.dtype()));
  std::vector<py::ssize_t> shape, strides;
  for (int64_t i = 0; i < t.ndim(); ++i) {
    shape.push_back(py::ssize_t(t.shape()[size_t(i)]));
    strides.push_back(py::ssize_t(t.strides()[size_t(i)] * isz));
  }
  // A writable view must not write into a lender's memory: take our own copy first.
  if (writable && t.storage()->borrowed()) t.storage()->make_writable();
  // See Note [Borrowed buffers].
  py::object owner = buffer_owner(t);
  py::array a(np_dtype(t.dtype()), shape, strides, t.raw_data(), owner);
  if (!writable) a.attr("flags").attr("writeable") = false;
  return a;
}

namespace {

// Does a nested list/tuple hold a value that is float64 in its own right (a numpy float64
// scalar or array, a Float64 tensor), rather than only Python floats?
bool has_strong_float64(py::handle obj, int depth) {
  if (depth > 64) return false;
  PyObject* p = obj.ptr();
  if (PyList_Check(p) || PyTuple_Check(p)) {
    for (py::handle h : obj)
      if (has_strong_float64(h, depth + 1)) return true;
    return false;
  }
  if (PyFloat_CheckExact(p) || PyLong_Check(p) || PyComplex_CheckExact(p)) return false;
  if (is_tensor(obj)) return as_tensor(obj).dtype() == DType::Float64 || as_tensor(obj).dtype() == DType::Complex128;
  if (PyObject_HasAttrString(p, "dtype")) {
    try {
      py::dtype dt = py::dtype::from_args(obj.attr("dtype"));
      return (dt.kind() == 'f' && dt.itemsize() == 8) || (dt.kind() == 'c' && dt.itemsize() == 16);
    } catch (py::error_already_set&) { return false; }
  }
  return false;
}

std::string type_name(py::handle obj) { return py::str(py::type::handle_of(obj).attr("__name__")); }

// repr(obj) for an error message, cut to a readable length; the type's name where repr itself fails
// (a list nested thousands deep exhausts Python's recursion limit in repr).
std::string data_repr(py::handle obj) {
  std::string r;
  try {
    r = py::repr(obj);
  } catch (py::error_already_set&) { return str_cat("a deeply nested ", type_name(obj)); }
  constexpr size_t kMax = 200;
  if (r.size() > kMax) r = r.substr(0, kMax) + "...";
  return r;
}

// The first Python int in a nested list/tuple that does not fit in int64 (null if none).
PyObject* find_big_int(py::handle obj, int depth) {
  if (depth > 64) return nullptr;
  PyObject* p = obj.ptr();
  if (PyList_Check(p) || PyTuple_Check(p)) {
    for (py::handle h : obj)
      if (PyObject* b = find_big_int(h, depth + 1)) return b;
    return nullptr;
  }
  if (PyLong_CheckExact(p)) {
    int overflow = 0;
    PyLong_AsLongLongAndOverflow(p, &overflow);
    if (overflow) return p;
  }
  return nullptr;
}

// Float data (a numpy array) into an integer dtype: truncation toward zero, as numpy, but NaN, inf
// and values beyond the dtype raise (numpy only warns and writes INT_MIN; a C cast is undefined).
void check_float_to_int(const py::array& arr, DType want) {
  if (arr.size() == 0) return;
  py::module_ np = py::module_::import("numpy");
  py::object a = arr.attr("astype")("float64");
  const char* dt = dtype_numpy_name(want);
  if (np.attr("isnan")(a).attr("any")().cast<bool>())
    throw ValueError(str_cat("tensor: cannot convert float NaN to integer (", dt, ")"));
  if (np.attr("isinf")(a).attr("any")().cast<bool>())
    throw OverflowError(str_cat("tensor: cannot convert float infinity to integer (", dt, ")"));
  // Truncation keeps x when min - 1 < x < max + 1; both bounds are exact doubles (powers of two,
  // or a power of two minus one below 2**53).
  const double hi = double(int_max_u64(want)) + (int_max_u64(want) >> 53 ? 0.0 : 1.0);  // 2**63, 2**64 round
  const double lo = double(int_min(want)) - 1.0;  // -2**63 - 1 rounds to -2**63: its test is >=
  const double mx = a.attr("max")().cast<double>(), mn = a.attr("min")().cast<double>();
  const bool lo_ok = int_min(want) == INT64_MIN ? mn >= lo : mn > lo;
  if (!(mx < hi) || !lo_ok)
    throw OverflowError(str_cat("tensor: value ", mx < hi ? mn : mx, " out of bounds for ", dt));
}

[[noreturn]] void int_out_of_range(py::handle v, const char* dt) {
  throw OverflowError(str_cat("tensor: Python integer ", std::string(py::str(v)), " out of bounds for ", dt));
}

}  // namespace

// A 0-d tensor of integer dtype d holding the Python int p exactly; numpy 2's OverflowError
// (naming `op`) when d cannot hold it (NEP 50: no silent wrap of a Python int, e.g. uint8 + 300).
Tensor py_int_scalar(PyObject* p, DType d, const char* op) {
  bool ok = false;
  uint64_t bits = 0;
  int overflow = 0;
  const long long v = PyLong_AsLongLongAndOverflow(p, &overflow);
  if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
  if (!overflow) {
    ok = v >= int_min(d) && (v < 0 || uint64_t(v) <= int_max_u64(d));
    bits = uint64_t(v);
  } else if (overflow > 0 && d == DType::UInt64) {
    const unsigned long long u = PyLong_AsUnsignedLongLong(p);
    if (u == static_cast<unsigned long long>(-1) && PyErr_Occurred()) PyErr_Clear();
    else ok = true, bits = uint64_t(u);
  }
  if (!ok) {
    PyErr_Format(PyExc_OverflowError, "%s: Python integer %S out of bounds for %s", op, p, dtype_numpy_name(d));
    throw py::error_already_set();
  }
  Tensor t = Tensor::empty(Shape{}, d);
  TG_DISPATCH_NUM(d, *t.data<T>() = T(bits));
  return t;
}

Tensor complex_scalar(PyObject* p, DType d) {
  const Py_complex c = PyComplex_AsCComplex(p);
  if (c.real == -1.0 && PyErr_Occurred()) throw py::error_already_set();
  Tensor t = Tensor::empty(Shape{}, d);
  if (d == DType::Complex64) *t.data<std::complex<float>>() = std::complex<float>(float(c.real), float(c.imag));
  else *t.data<std::complex<double>>() = std::complex<double>(c.real, c.imag);
  return t;
}

namespace {
// The tail of tensor_from_py for numpy data (an array given, or the array numpy made of a list).
Tensor tensor_from_array(py::array arr, bool has_dt, DType want) {
  char kind = arr.dtype().kind();
  if (kind == 'O' || kind == 'U' || kind == 'S' || kind == 'V' || kind == 'M' || kind == 'm' ||
      (kind == 'c' && arr.dtype().itemsize() > 16))
    throw TypeError(str_cat("tensor: cannot make a tensor from data of numpy dtype ", std::string(py::str(arr.dtype())),
                            " (supported: bool, integers, float16, float32, float64, complex64, complex128)"));
  if (has_dt && kind == 'c' && !is_complex(want))
    throw TypeError(str_cat("tensor: cannot make a ", dtype_numpy_name(want),
                            " tensor from complex data of numpy dtype ", std::string(py::str(arr.dtype())),
                            " (the imaginary part would be lost)"));
  if (has_dt && kind == 'f' && is_int(want)) check_float_to_int(arr, want);
  bool zc = false;
  Tensor t = from_numpy_array(std::move(arr), zc);
  if (has_dt && t.dtype() != want) return t.to(want);
  return t;
}
}  // namespace

Tensor tensor_from_py(py::handle obj, py::handle dtype, bool copy_tensor) {
  const bool has_dt = !dtype.is_none();
  const DType want = has_dt ? parse_dtype(dtype) : DType::Float32;
  if (is_tensor(obj)) {
    Tensor& t = as_tensor(obj);
    check_has_data(t, "tensor");
    Tensor base = ops::stop_gradient(t);
    if (has_dt && want != base.dtype()) return base.to(want);
    return copy_tensor ? base.clone() : t;
  }
  // A numpy array next, before any attribute lookup or import: the per-call path of a transform
  // (or a jitted function) called with ndarrays comes here on every call.
  if (py::isinstance<py::array>(obj)) return tensor_from_array(py::reinterpret_borrow<py::array>(obj), has_dt, want);
  PyObject* p = obj.ptr();
  if (p == Py_None) throw TypeError("tensor: cannot make a tensor from None");
  // Python scalars (weak types): bool -> Bool, int -> Int64, float -> Float32. numpy scalars
  // (np.float64 subclasses float) keep their dtype and go through numpy below.
  const bool numpy_like = !PyFloat_CheckExact(p) && !PyLong_CheckExact(p) && PyObject_HasAttrString(p, "dtype");
  if (PyBool_Check(p)) return Tensor::scalar(p == Py_True ? 1.0 : 0.0, has_dt ? want : DType::Bool);
  if (PyLong_Check(p) && !numpy_like) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(p, &overflow);
    // numpy: OverflowError for a Python int the target integer dtype cannot hold.
    if (overflow && has_dt && is_float(want)) {
      const double d = PyLong_AsDouble(p);
      if (d == -1.0 && PyErr_Occurred()) throw py::error_already_set();
      return Tensor::scalar(d, want);
    }
    if (has_dt && is_float(want)) return Tensor::scalar(double(v), want);
    if (has_dt && is_int(want)) return py_int_scalar(p, want, "tensor");
    if (overflow) int_out_of_range(obj, "int64");
    Tensor t = Tensor::empty(Shape{}, DType::Int64);
    *t.data<int64_t>() = v;
    return has_dt ? t.to(want) : t;
  }
  // numpy scalars (np.float64 subclasses float) keep their dtype through the numpy path below.
  if (PyFloat_CheckExact(p)) {
    // Into an integer dtype as numpy does, through Python's int(): truncation toward zero; inf is
    // an OverflowError, nan a ValueError and a value beyond the dtype an OverflowError (a C cast
    // of an out-of-range double is undefined, and gave INT_MIN).
    if (has_dt && is_int(want)) {
      py::object as_int = py::reinterpret_steal<py::object>(PyNumber_Long(p));
      if (!as_int) throw py::error_already_set();
      return tensor_from_py(as_int, dtype, copy_tensor);
    }
    return Tensor::scalar(PyFloat_AS_DOUBLE(p), has_dt ? want : DType::Float32);
  }
  if (p == Py_None) throw TypeError("tensor: cannot make a tensor from None");
  if (PyUnicode_Check(p) || PyBytes_Check(p))
    throw TypeError(str_cat("tensor: cannot make a tensor from a string (", data_repr(obj), ")"));
  if (PyComplex_CheckExact(p)) {
    TG_CHECK_TYPE(!has_dt || is_complex(want), "tensor: cannot make a ", dtype_numpy_name(want),
                  " tensor from the complex number ", data_repr(obj));
    return complex_scalar(p, has_dt ? want : DType::Complex64);
  }
  py::module_ np = py::module_::import("numpy");
  const bool is_array = py::isinstance<py::array>(obj);
  const bool from_sequence = !is_array && (PyList_Check(p) || PyTuple_Check(p));
  if (from_sequence && !copy_tensor && autodiff::any_level_active()) {
    // An op's argument such as mean([x, x + 2]) inside a transform: the Tensors a transform tracks
    // are stacked, so their derivatives flow (numpy's asarray below would copy their numbers and
    // silently give a zero derivative). The constructor (copy_tensor) keeps its copying meaning;
    // tg.tensor does the same stacking itself.
    py::object tracked = py::module_::import("tapegrad._autodiff").attr("_tensor_tracked")(obj, dtype);
    if (!tracked.is_none()) return as_tensor(tracked);
  }
  py::array arr;
  if (from_sequence) {
    // Python ints beyond int64 are an OverflowError unless a float dtype is asked for (numpy
    // would silently make float64 or object arrays of them).
    if (PyObject* big = find_big_int(obj, 0))
      if (!(has_dt && (is_float(want) || want == DType::UInt64)))
        int_out_of_range(big, has_dt ? dtype_numpy_name(want) : "int64");
  }
  if (is_array) {
    arr = py::reinterpret_borrow<py::array>(obj);
  } else if (from_sequence && has_dt) {
    // numpy converts the Python values to the asked dtype itself: an int out of its range is an
    // OverflowError, as in np.array([2**40], dtype=np.int32).
    try {
      arr = np.attr("asarray")(obj, np_dtype(want));
    } catch (py::error_already_set& e) {
      if (e.matches(PyExc_OverflowError)) throw;
      if (e.matches(PyExc_ValueError))
        throw ValueError(
            str_cat("tensor: cannot make a ", dtype_numpy_name(want), " tensor from ", data_repr(obj), ": ", e.what()));
      throw TypeError(str_cat("tensor: cannot make a tensor from ", data_repr(obj), ": ", e.what()));
    }
  } else if (from_sequence || numpy_like || PySequence_Check(p) || PyObject_HasAttrString(p, "__array__") ||
             PyObject_HasAttrString(p, "__array_interface__")) {
    try {
      arr = np.attr("asarray")(obj);
    } catch (py::error_already_set& e) {
      // Ragged nesting is a ValueError in numpy too; anything else cannot be data.
      if (e.matches(PyExc_ValueError))
        throw ValueError(str_cat("tensor: cannot make a tensor from ", data_repr(obj), ": ", e.what()));
      throw TypeError(str_cat("tensor: cannot make a tensor from ", data_repr(obj), ": ", e.what()));
    }
  } else {
    throw TypeError(str_cat("tensor: cannot make a tensor from an object of type ", type_name(obj)));
  }
  // Python floats in a list become float32 (the default float), as in MindSpore and JAX, unless the
  // list holds float64 values of its own (numpy float64 scalars or arrays, Float64 tensors).
  if (from_sequence && !has_dt && arr.dtype().kind() == 'f' && arr.dtype().itemsize() == 8 &&
      !has_strong_float64(obj, 0))
    arr = arr.attr("astype")("float32");
  // Python complex numbers likewise become complex64, the complex dtype of the default float.
  if (from_sequence && !has_dt && arr.dtype().kind() == 'c' && arr.dtype().itemsize() == 16 &&
      !has_strong_float64(obj, 0))
    arr = arr.attr("astype")("complex64");
  return tensor_from_array(std::move(arr), has_dt, want);
}

Tensor operand(py::handle o, const Tensor& self, const char* op) {
  if (is_tensor(o)) return as_tensor(o);
  PyObject* p = o.ptr();
  if (PyBool_Check(p))
    return Tensor::scalar(p == Py_True ? 1.0 : 0.0,
                          promote_weak(self.dtype(), ScalarKind::Bool) == self.dtype() && self.dtype() != DType::Bool
                              ? self.dtype()
                              : DType::Bool);
  if (PyLong_Check(p)) {
    DType d = promote_weak(self.dtype(), ScalarKind::Int);
    if (is_inexact(d)) {
      double v = PyLong_AsDouble(p);
      if (v == -1.0 && PyErr_Occurred()) throw py::error_already_set();
      return Tensor::scalar(v, d);
    }
    if (d == DType::Int64) {
      int overflow = 0;
      long long v = PyLong_AsLongLongAndOverflow(p, &overflow);
      if (!overflow) {
        Tensor t = Tensor::empty(Shape{}, DType::Int64);
        *t.data<int64_t>() = v;
        return t;
      }
    }
    if (std::strcmp(op, "div") == 0) {
      // True division of integers runs numpy's float64 loop: a Python int that the tensor's dtype
      // cannot hold (int8 / 300) is still an operand there, not an OverflowError.
      int overflow = 0;
      const long long v = PyLong_AsLongLongAndOverflow(p, &overflow);
      if (overflow || v < int_min(d) || (v > 0 && uint64_t(v) > int_max_u64(d))) {
        const double f = PyLong_AsDouble(p);
        if (f == -1.0 && PyErr_Occurred()) throw py::error_already_set();
        return Tensor::scalar(f, DType::Float64);
      }
    }
    return py_int_scalar(p, d, op);
  }
  // Only Python's own float is weak: numpy scalars (np.float64 subclasses float) keep their dtype
  // (NEP 50).
  if (PyFloat_CheckExact(p)) return Tensor::scalar(PyFloat_AS_DOUBLE(p), promote_weak(self.dtype(), ScalarKind::Float));
  if (PyComplex_CheckExact(p)) return complex_scalar(p, promote_weak(self.dtype(), ScalarKind::Complex));
  if (p == Py_None || PyUnicode_Check(p) || PyBytes_Check(p))
    throw TypeError(str_cat(op, ": unsupported operand type ",
                            std::string(py::str(py::type::handle_of(o).attr("__name__"))), " for a Tensor"));
  return tensor_from_py(o, py::none(), false);
}

Tensor arg_tensor(py::handle o, const char* op) {
  if (is_tensor(o)) return as_tensor(o);
  try {
    return tensor_from_py(o, py::none(), false);
  } catch (TypeError& e) { throw TypeError(str_cat(op, ": ", e.what())); }
}

namespace {
std::string repr_str(py::handle h) { return py::repr(h); }

// An integer-valued array-like (numpy array or Tensor) of integer dtype with at most 1 dim, as
// numbers; false for anything else.
bool int_array_values(py::handle h, const char* op, const char* what, std::vector<py::object>& out, bool& zero_d) {
  py::object arr;
  if (is_tensor(h)) {
    const Tensor& t = as_tensor(h);
    TG_CHECK_TYPE(!is_float(t.dtype()) && t.dtype() != DType::Bool, op, ": ", what,
                  " must be integers, got a tensor of dtype ", dtype_name(t.dtype()));
    check_has_data(t, op);
    arr = to_numpy_view(ops::stop_gradient(t), false);
  } else if (py::isinstance<py::array>(h)) {
    arr = py::reinterpret_borrow<py::object>(h);
    const char kind = py::dtype::from_args(arr.attr("dtype")).kind();
    TG_CHECK_TYPE(kind == 'i' || kind == 'u', op, ": ", what, " must be integers, got a numpy array of dtype ",
                  std::string(py::str(arr.attr("dtype"))));
  } else {
    return false;
  }
  const int64_t nd = py::cast<int64_t>(arr.attr("ndim"));
  TG_CHECK_TYPE(nd <= 1, op, ": ", what, " must be an int or a 1-d sequence of ints, got an array of shape ",
                std::string(py::str(arr.attr("shape"))));
  zero_d = nd == 0;
  py::object items = arr.attr("tolist")();
  if (zero_d) {
    out.push_back(items);
  } else {
    for (py::handle v : items) out.push_back(py::reinterpret_borrow<py::object>(v));
  }
  return true;
}
}  // namespace

bool py_int64(py::handle h, int64_t& out) {
  PyObject* p = h.ptr();
  py::object idx = py::reinterpret_steal<py::object>(PyNumber_Index(p));
  if (!idx) throw py::error_already_set();
  int overflow = 0;
  const long long v = PyLong_AsLongLongAndOverflow(idx.ptr(), &overflow);
  if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
  if (overflow) {
    out = overflow > 0 ? INT64_MAX : INT64_MIN;
    return false;
  }
  out = v;
  return true;
}

bool is_index_like(py::handle h) {
  PyObject* p = h.ptr();
  if (PyBool_Check(p) || PyFloat_Check(p)) return false;
  if (is_tensor(h)) {
    const Tensor& t = as_tensor(h);
    return t.ndim() == 0 && is_int(t.dtype());
  }
  return PyIndex_Check(p);
}

int64_t int_param(py::handle h, const char* op, const char* what) {
  TG_CHECK_TYPE(is_index_like(h), op, ": ", what, " must be an int, got ", repr_str(h));
  int64_t v;
  if (!py_int64(h, v)) throw OverflowError(str_cat(op, ": ", what, " ", repr_str(h), " does not fit in 64 bits"));
  return v;
}

int64_t axis_param(py::handle h, const char* op) {
  TG_CHECK_TYPE(is_index_like(h), op, ": axis must be an int, got ", repr_str(h));
  int64_t v;
  py_int64(h, v);  // out of int64: clamped, so that the axis check reports it as out of bounds
  return v;
}

bool bool_param(py::handle h, const char* op, const char* what) {
  PyObject* p = h.ptr();
  if (p == Py_True) return true;
  if (p == Py_False) return false;
  TG_CHECK_TYPE(!is_tensor(h) || as_tensor(h).numel() == 1, op, ": ", what, " must be a bool, got ", repr_str(h));
  TG_CHECK_TYPE(p != Py_None && !PyUnicode_Check(p) && !PyBytes_Check(p) && !PySequence_Check(p), op, ": ", what,
                " must be a bool, got ", repr_str(h));
  const int t = PyObject_IsTrue(p);
  if (t < 0) throw py::error_already_set();
  return t == 1;
}

AxisArg parse_axis(py::handle axis, const char* op) {
  AxisArg r;
  if (axis.is_none()) return r;
  r.all = false;
  std::vector<py::object> vals;
  bool zero_d = false;
  if (int_array_values(axis, op, "axis", vals, zero_d)) {
    for (auto& v : vals) r.axes.push_back(axis_param(v, op));
    return r;
  }
  if (py::isinstance<py::tuple>(axis) || py::isinstance<py::list>(axis)) {
    for (py::handle h : axis) {
      TG_CHECK_TYPE(is_index_like(h), op, ": axis must be an int or a tuple of ints, got ", repr_str(axis));
      r.axes.push_back(axis_param(h, op));
    }
    return r;
  }
  TG_CHECK_TYPE(is_index_like(axis), op, ": axis must be None, an int or a tuple of ints, got ", repr_str(axis));
  r.axes.push_back(axis_param(axis, op));
  return r;
}

namespace {
int64_t dim_value(py::handle h, py::handle shape, const char* op) {
  TG_CHECK_TYPE(is_index_like(h), op, ": shape must contain ints, got ", repr_str(shape));
  int64_t v;
  TG_CHECK(py_int64(h, v), op, ": dimension ", repr_str(h), " in shape ", repr_str(shape),
           " does not fit in 64 bits (maximum allowed dimension exceeded)");
  return v;
}
}  // namespace

Shape parse_shape(py::handle shape, const char* op) {
  Shape s;
  std::vector<py::object> vals;
  bool zero_d = false;
  if (int_array_values(shape, op, "shape", vals, zero_d)) {
    for (auto& v : vals) s.push_back(dim_value(v, shape, op));
    return s;
  }
  if (is_index_like(shape)) {
    s.push_back(dim_value(shape, shape, op));
    return s;
  }
  TG_CHECK_TYPE(py::isinstance<py::tuple>(shape) || py::isinstance<py::list>(shape), op,
                ": shape must be an int or a tuple of ints, got ", repr_str(shape));
  for (py::handle h : shape) s.push_back(dim_value(h, shape, op));
  TG_CHECK(s.size() <= 64, op, ": shape ", repr_str(shape), " has ", s.size(), " dimensions; at most 64 are supported");
  return s;
}

void bind_dtypes(py::module_& m) {
  py::class_<PyDType>(m, "dtype", docs::dtype)
      .def("__repr__",
           [](const PyDType& d) { return d.code ? std::string(dtype_name(d.get())) : "<dtype, not initialised>"; })
      .def("__str__",
           [](const PyDType& d) { return d.code ? std::string(dtype_name(d.get())) : "<dtype, not initialised>"; })
      .def("__eq__",
           [](const PyDType& d, py::handle o) {
             try {
               return parse_dtype(o) == d.get();
             } catch (...) { return false; }
           })
      // Equal to the numpy name string, so hash like it (dicts keyed by 'float32' find tg.float32).
      .def("__hash__", [](const PyDType& d) { return py::hash(py::str(dtype_numpy_name(d.get()))); })
      .def_property_readonly(
          "name", [](const PyDType& d) { return std::string(dtype_numpy_name(d.get())); }, docs::dtype_name)
      .def_property_readonly(
          "itemsize", [](const PyDType& d) { return itemsize(d.get()); }, docs::dtype_itemsize)
      .def_property_readonly(
          "is_floating_point", [](const PyDType& d) { return is_float(d.get()); }, docs::dtype_is_floating_point)
      .def_property_readonly(
          "numpy_dtype", [](const PyDType& d) { return np_dtype(d.get()); }, docs::dtype_numpy_dtype)
      // numpy reads `.dtype` of any object: np.dtype(tg.float32), np.zeros(3, tg.float32).
      .def_property_readonly(
          "dtype", [](const PyDType& d) { return np_dtype(d.get()); }, docs::dtype_dtype)
      // numpy's dtypes are also conversion functions (np.float32(3)); ours convert as the Array API's
      // asarray(x, dtype=d), which keeps derivatives and lists of tracked Tensors (JAX's jnp.float32).
      // (the arguments are checked in Python, so that a wrong call's message names the dtype)
      .def(
          "__call__",
          [](py::object self, py::args args, py::kwargs kw) {
            return py::module_::import("tapegrad._array_api").attr("_dtype_call")(self, *args, **kw);
          },
          docs::dtype_call)
      .def("__reduce__", [](const PyDType& d) {
        return py::make_tuple(py::module_::import("tapegrad").attr("_dtype_from_name"),
                              py::make_tuple(std::string(dtype_numpy_name(d.get()))));
      });
  const char* names[] = {"bool_", "int32", "int64",  "float16", "float32", "float64",   "int8",
                         "int16", "uint8", "uint16", "uint32",  "uint64",  "complex64", "complex128"};
  for (int i = 0; i < kNumDTypes; ++i) {
    g_dtype_objs[i] = py::cast(PyDType(DType(i))).release().ptr();
    m.attr(names[i]) = dtype_object(DType(i));
  }
  m.def("_dtype_from_name", [](py::handle n) { return dtype_object(parse_dtype(n)); });
}

}  // namespace bind
}  // namespace tapegrad
