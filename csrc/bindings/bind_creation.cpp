// Bindings of the creation family: creation and random functions (the Python wrappers with the
// public signatures are in python/tapegrad/_creation.py) and DLPack (dlpack.cpp).
#include <cmath>

#include "bindings/buffer.h"
#include "bindings/common.h"
#include "ops/runtime.h"

namespace tapegrad {
namespace bind {

namespace {

// Bind `f` as _core.<name>, replacing any earlier binding of that name (not adding an overload).
template <class F, class... Extra>
void def_new(py::module_& m, const char* name, F&& f, const Extra&... extra) {
  py::cpp_function cf(std::forward<F>(f), py::name(name), py::scope(m), extra...);
  m.add_object(name, cf, /*overwrite=*/true);
}

std::string repr_of(py::handle h) { return py::repr(h); }

// An integer argument (Python int, numpy integer, integer tensor with one element).
bool is_int_like(py::handle h) {
  PyObject* p = h.ptr();
  if (PyLong_Check(p)) return true;
  if (is_tensor(h)) return !is_inexact(as_tensor(h).dtype());
  if (PyFloat_Check(p)) return false;
  return PyIndex_Check(p);
}

double real_arg(py::handle h, const char* op, const char* what) {
  PyObject* p = h.ptr();
  if (PyFloat_Check(p)) return PyFloat_AS_DOUBLE(p);
  if (is_tensor(h)) {
    Tensor t = ops::stop_gradient(as_tensor(h));
    TG_CHECK_TYPE(t.numel() == 1, op, ": ", what, " must be a number, got a tensor of shape ", shape_str(t.shape()));
    check_has_data(t, op);
    return t.item_as_double(0);
  }
  const bool bad = p == Py_None || PyUnicode_Check(p) || PyBytes_Check(p) || PyComplex_Check(p) ||
                   (PyObject_HasAttrString(p, "dtype") && py::str(h.attr("dtype").attr("kind")).equal(py::str("c")));
  if (!bad) {
    PyObject* f = PyNumber_Float(p);
    if (f) {
      const double v = PyFloat_AS_DOUBLE(f);
      Py_DECREF(f);
      return v;
    }
    PyErr_Clear();
  }
  throw TypeError(str_cat(op, ": ", what, " must be a real number, got ", repr_of(h)));
}

int64_t int_arg(py::handle h, const char* op, const char* what) {
  PyObject* p = h.ptr();
  if (is_tensor(h)) {
    Tensor t = ops::stop_gradient(as_tensor(h));
    TG_CHECK_TYPE(!is_inexact(t.dtype()) && t.numel() == 1, op, ": ", what, " must be an int, got a ",
                  dtype_name(t.dtype()), " tensor of shape ", shape_str(t.shape()));
    check_has_data(t, op);
    if (t.device() != Device::CPU) t = t.to_device(Device::CPU);  // read on the host
    return t.dtype() == DType::Int64 ? *t.data<int64_t>() : int64_t(t.item_as_double(0));
  }
  if (PyFloat_Check(p) || !PyIndex_Check(p))
    throw TypeError(str_cat(op, ": ", what, " must be an int, got ", repr_of(h)));
  py::int_ i = py::reinterpret_steal<py::int_>(PyNumber_Index(p));
  if (!i) throw py::error_already_set();
  int overflow = 0;
  const long long v = PyLong_AsLongLongAndOverflow(i.ptr(), &overflow);
  TG_CHECK(!overflow, op, ": ", what, " ", repr_of(h), " does not fit in 64 bits");
  return v;
}

DType dtype_or(py::handle dt, DType fallback) { return dt.is_none() ? fallback : parse_dtype(dt); }

// Shapes of random functions: None means a 0-d result.
Shape shape_arg(py::handle shape, const char* op) { return shape.is_none() ? Shape{} : parse_shape(shape, op); }

// A fill value as a tensor, converted to `dt` if one is given (Python scalars exactly).
Tensor fill_arg(py::handle v, py::handle dt, const char* op) {
  if (is_tensor(v)) return as_tensor(v);
  try {
    return tensor_from_py(v, dt, false);
  } catch (TypeError& e) { throw TypeError(str_cat(op, ": fill_value: ", e.what())); }
}

Tensor arange(py::handle start, py::handle stop, py::handle step, py::handle dtype) {
  if (stop.is_none()) {
    stop = start;
    start = py::int_(0);
  }
  if (is_int_like(start) && is_int_like(stop) && is_int_like(step)) {
    const int64_t a = int_arg(start, "arange", "start"), b = int_arg(stop, "arange", "stop"),
                  s = int_arg(step, "arange", "step");
    return ops::arange_int(a, b, s, dtype_or(dtype, DType::Int64));
  }
  const double a = real_arg(start, "arange", "start"), b = real_arg(stop, "arange", "stop"),
               s = real_arg(step, "arange", "step");
  return ops::arange(a, b, s, dtype_or(dtype, DType::Float32));
}

uint64_t seed_arg(py::handle seed) {
  PyObject* p = seed.ptr();
  TG_CHECK_TYPE(!PyFloat_Check(p) && PyIndex_Check(p) && !is_tensor(seed), "set_seed: seed must be an int, got ",
                repr_of(seed));
  py::int_ i = py::reinterpret_steal<py::int_>(PyNumber_Index(p));
  if (!i) throw py::error_already_set();
  TG_CHECK(PyObject_RichCompareBool(i.ptr(), py::int_(0).ptr(), Py_GE) == 1,
           "set_seed: seed must be non-negative, got ", repr_of(seed));
  const unsigned long long v = PyLong_AsUnsignedLongLong(i.ptr());
  if (PyErr_Occurred()) {
    PyErr_Clear();
    throw ValueError(str_cat("set_seed: seed must be less than 2**64, got ", repr_of(seed)));
  }
  return v;
}

}  // namespace

void bind_creation(py::module_& m) {
  // ---- creation ----
  def_new(m, "_empty", [](py::handle shape, py::handle dt) {
    return ops::empty(parse_shape(shape, "empty"), dtype_or(dt, DType::Float32));
  });
  def_new(m, "_zeros", [](py::handle shape, py::handle dt) {
    return ops::zeros(parse_shape(shape, "zeros"), dtype_or(dt, DType::Float32));
  });
  def_new(m, "_ones", [](py::handle shape, py::handle dt) {
    return ops::ones(parse_shape(shape, "ones"), dtype_or(dt, DType::Float32));
  });
  def_new(m, "_full", [](py::handle shape, py::handle value, py::handle dt) {
    Shape s = parse_shape(shape, "full");
    Tensor v = fill_arg(value, dt, "full");
    return ops::full(s, v, dtype_or(dt, v.dtype()));
  });
  def_new(m, "_empty_like", [](py::handle x, py::handle dt) {
    Tensor t = arg_tensor(x, "empty_like");
    return Tensor::empty(t.shape(), dtype_or(dt, t.dtype()), t.device());
  });
  auto zeros_like = [](py::handle x, py::handle dt) {
    Tensor t = arg_tensor(x, "zeros_like");
    return ops::zeros_like(t, dtype_or(dt, t.dtype()));
  };
  auto ones_like = [](py::handle x, py::handle dt) {
    Tensor t = arg_tensor(x, "ones_like");
    return ops::ones_like(t, dtype_or(dt, t.dtype()));
  };
  def_new(m, "_zeros_like", zeros_like);
  def_new(m, "_ones_like", ones_like);
  // Replace the earlier placeholders in functions.cpp so that _core has one behaviour.
  def_new(m, "zeros_like", zeros_like, py::arg("x"), py::arg("dtype") = py::none());
  def_new(m, "ones_like", ones_like, py::arg("x"), py::arg("dtype") = py::none());
  def_new(m, "_full_like", [](py::handle x, py::handle value, py::handle dt) {
    Tensor t = arg_tensor(x, "full_like");
    const DType d = dtype_or(dt, t.dtype());
    Tensor v = fill_arg(value, dtype_object(d), "full_like");
    return ops::full_like(t, v, d);
  });
  def_new(m, "_arange", &arange);
  def_new(m, "_linspace", [](py::handle start, py::handle stop, py::handle num, py::handle endpoint, py::handle dt) {
    const double a = real_arg(start, "linspace", "start"), b = real_arg(stop, "linspace", "stop");
    const int64_t n = int_arg(num, "linspace", "num");
    const int truth = PyObject_IsTrue(endpoint.ptr());
    if (truth < 0) throw py::error_already_set();
    return ops::linspace(a, b, n, truth == 1, dtype_or(dt, DType::Float32));
  });
  def_new(m, "_eye", [](py::handle n, py::handle mm, py::handle k, py::handle dt) {
    const int64_t rows = int_arg(n, "eye", "N");
    const int64_t cols = mm.is_none() ? rows : int_arg(mm, "eye", "M");
    return ops::eye(rows, cols, int_arg(k, "eye", "k"), dtype_or(dt, DType::Float32));
  });

  // ---- random ----
  def_new(m, "_set_seed", [](py::handle seed) { ops::set_seed(seed_arg(seed)); });
  def_new(m, "_get_seed", [] { return ops::get_seed(); });
  def_new(m, "_uniform", [](py::handle low, py::handle high, py::handle shape, py::handle dt) {
    const double a = real_arg(low, "uniform", "low"), b = real_arg(high, "uniform", "high");
    return ops::rand_uniform(shape_arg(shape, "uniform"), a, b, dtype_or(dt, DType::Float32));
  });
  def_new(m, "_normal", [](py::handle mean, py::handle stddev, py::handle shape, py::handle dt) {
    const double a = real_arg(mean, "normal", "mean"), b = real_arg(stddev, "normal", "stddev");
    return ops::rand_normal(shape_arg(shape, "normal"), a, b, dtype_or(dt, DType::Float32));
  });
  def_new(m, "_randint", [](py::handle low, py::handle high, py::handle shape, py::handle dt) {
    int64_t a = int_arg(low, "randint", "low");
    int64_t b;
    if (high.is_none()) {
      b = a;
      a = 0;
    } else {
      b = int_arg(high, "randint", "high");
    }
    return ops::randint(shape_arg(shape, "randint"), a, b, dtype_or(dt, DType::Int64));
  });
  // The raw generator, for known-answer tests.
  def_new(m, "_philox4x32_10", [](std::array<uint32_t, 4> ctr, std::array<uint32_t, 2> key) {
    std::array<uint32_t, 4> out;
    ops::philox_block(ctr.data(), key.data(), out.data());
    return out;
  });

  bind_dlpack(m);
}

}  // namespace bind
}  // namespace tapegrad
