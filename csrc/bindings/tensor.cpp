// The Tensor class: construction, attributes, conversions, operators, indexing.
#include <cstring>

#include "bindings/common.h"

namespace tapegrad {
namespace bind {

namespace {

using kernels::Bin;
using kernels::Cmp;
using kernels::Un;

// Large kernels run without the GIL so that other Python threads can work meanwhile.
constexpr int64_t kReleaseGil = 1 << 16;

template <class F>
Tensor maybe_nogil(int64_t n, F&& f) {
  if (n >= kReleaseGil) {
    py::gil_scoped_release nogil;
    return f();
  }
  return f();
}

Tensor bin_op(Bin op, const Tensor& a, py::handle b, bool reflected, const char* name) {
  Tensor o = operand(b, a, name);
  const Tensor& x = reflected ? o : a;
  const Tensor& y = reflected ? a : o;
  return maybe_nogil(a.numel(), [&] {
    if (op == Bin::Div) return ops::div(x, y);
    return ops::binary(op, x, y);
  });
}

Tensor cmp_op(Cmp op, const Tensor& a, py::handle b) {
  Tensor o = operand(b, a, "compare");
  return maybe_nogil(a.numel(), [&] { return ops::compare(op, a, o); });
}

Tensor logic_op(Bin op, const Tensor& a, py::handle b, bool reflected, const char* name) {
  Tensor o = operand(b, a, name);
  const Tensor& x = reflected ? o : a;
  const Tensor& y = reflected ? a : o;
  if (x.dtype() == DType::Bool && y.dtype() == DType::Bool) {
    if (op == Bin::BitAnd) return ops::compare(Cmp::LogicalAnd, x, y);
    if (op == Bin::BitOr) return ops::compare(Cmp::LogicalOr, x, y);
    return ops::compare(Cmp::Ne, x, y);
  }
  return ops::binary(op, x, y);
}

// Python scalar of element 0.
py::object scalar_value(const Tensor& t) {
  check_has_data(t, "item");
  double v = t.item_as_double(0);
  switch (t.dtype()) {
    case DType::Bool: return py::bool_(v != 0);
    case DType::Int32: return py::int_(int64_t(v));
    case DType::Int64: return py::int_(*t.data<int64_t>());  // exact beyond 2^53
    default: return py::float_(v);
  }
}

void need_one(const Tensor& t, const char* what, bool value_error) {
  if (t.numel() != 1) {
    std::string msg = str_cat(what, ": only tensors with one element can be converted to Python scalars, got shape ",
                              shape_str(t.shape()));
    if (value_error) throw ValueError(msg);
    throw TypeError(msg);
  }
}

// ---- index parsing ------------------------------------------------------------------------
// A slice bound: None, or anything with __index__ (numpy clamps huge values, so do we).
bool slice_bound(PyObject* p, int64_t& out) {
  if (p == Py_None) return false;
  if (!PyIndex_Check(p))
    throw TypeError(str_cat("slice indices must be integers or None or have an __index__ method, got ",
                            std::string(py::repr(py::handle(p)))));
  Py_ssize_t v = PyNumber_AsSsize_t(p, nullptr);
  if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
  out = int64_t(v);
  return true;
}

bool is_numpy_bool_scalar(py::handle h) {
  static PyObject* np_bool = py::object(py::module_::import("numpy").attr("bool_")).release().ptr();
  return PyObject_TypeCheck(h.ptr(), reinterpret_cast<PyTypeObject*>(np_bool));
}

ops::IndexItem array_index(Tensor t) {
  TG_CHECK_T(IndexError, !is_float(t.dtype()),
             "arrays used as indices must be of integer or Bool dtype, got ", dtype_name(t.dtype()));
  ops::IndexItem it;
  it.kind = ops::IndexItem::Array;
  it.array = std::move(t);
  return it;
}

ops::IndexItem parse_item(py::handle h) {
  ops::IndexItem it;
  PyObject* p = h.ptr();
  if (p == Py_None) {
    it.kind = ops::IndexItem::NewAxis;
  } else if (p == Py_Ellipsis) {
    it.kind = ops::IndexItem::Ellipsis;
  } else if (PySlice_Check(p)) {
    it.kind = ops::IndexItem::Slice;
    auto* sl = reinterpret_cast<PySliceObject*>(p);
    int64_t step = 1;
    if (slice_bound(sl->step, step)) TG_CHECK(step != 0, "slice step cannot be zero");
    it.step = step;
    it.has_start = slice_bound(sl->start, it.start);
    it.has_stop = slice_bound(sl->stop, it.stop);
  } else if (PyBool_Check(p) || is_numpy_bool_scalar(h)) {
    it = array_index(Tensor::scalar(PyObject_IsTrue(p) ? 1.0 : 0.0, DType::Bool));
  } else if (is_tensor(h)) {
    // A 0-d integer tensor is an advanced index (a copy), as a 0-d numpy array is.
    it = array_index(ops::stop_gradient(as_tensor(h)));
  } else if (py::isinstance<py::array>(h) || py::isinstance<py::list>(h) || py::isinstance<py::tuple>(h)) {
    Tensor t;
    try {
      t = tensor_from_py(h, py::none(), false);
    } catch (TypeError&) {
      throw IndexError(str_cat("only integers, slices (`:`), ellipsis (`...`), None and integer or Bool "
                               "arrays are valid indices, got ", std::string(py::repr(h))));
    }
    if (t.numel() == 0 && is_float(t.dtype()) && !py::isinstance<py::array>(h)) t = t.to(DType::Int64);  // x[[]]
    it = array_index(std::move(t));
  } else if (PyIndex_Check(p)) {
    it.kind = ops::IndexItem::Int;
    Py_ssize_t v = PyNumber_AsSsize_t(p, PyExc_IndexError);
    if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
    it.i = int64_t(v);
  } else {
    throw IndexError(str_cat("only integers, slices (`:`), ellipsis (`...`), None and integer or Bool "
                             "arrays are valid indices, got ", std::string(py::repr(h))));
  }
  return it;
}

std::vector<ops::IndexItem> parse_index(py::handle idx) {
  std::vector<ops::IndexItem> items;
  if (PyTuple_Check(idx.ptr())) {
    items.reserve(size_t(PyTuple_GET_SIZE(idx.ptr())));
    for (py::handle h : idx) items.push_back(parse_item(h));
  } else {
    items.push_back(parse_item(idx));
  }
  return items;
}

}  // namespace

void bind_tensor(py::module_& m) {
  py::class_<Tensor> cls(m, "Tensor");
  g_tensor_type = reinterpret_cast<PyTypeObject*>(cls.ptr());
  cls.def(py::init([](py::handle data, py::handle dtype) { return tensor_from_py(data, dtype, true); }),
          py::arg("data"), py::arg("dtype") = py::none())
      .def_property_readonly("shape", [](const Tensor& t) {
        py::tuple r(size_t(t.ndim()));
        for (int64_t i = 0; i < t.ndim(); ++i) r[size_t(i)] = py::int_(t.shape()[size_t(i)]);
        return r;
      })
      .def_property_readonly("dtype", [](const Tensor& t) { return dtype_object(t.dtype()); })
      .def_property_readonly("ndim", [](const Tensor& t) { return t.ndim(); })
      .def_property_readonly("size", [](const Tensor& t) { return t.numel(); })
      .def_property_readonly("itemsize", [](const Tensor& t) { return itemsize(t.dtype()); })
      .def_property_readonly("nbytes", [](const Tensor& t) { return int64_t(itemsize(t.dtype())) * t.numel(); })
      .def_property_readonly("strides", [](const Tensor& t) {
        py::tuple r(size_t(t.ndim()));
        for (int64_t i = 0; i < t.ndim(); ++i) r[size_t(i)] = py::int_(t.strides()[size_t(i)] * int64_t(itemsize(t.dtype())));
        return r;
      })
      .def_property_readonly("device", [](const Tensor& t) { return std::string(device_name(t.device())); })
      .def_property_readonly("T", [](const Tensor& t) { return ops::transpose(t, {}); })
      .def("is_contiguous", [](const Tensor& t) { return t.is_contiguous(); })
      .def("_is_tracked", [](const Tensor& t) { return t.tracked(); })
      .def("_shares_memory", [](const Tensor& a, const Tensor& b) {
        return a.has_data() && b.has_data() && a.storage() == b.storage();
      })
      .def("asnumpy", [](const Tensor& t) { return to_numpy_view(t, false).attr("copy")(); })
      .def("numpy", [](const Tensor& t) { return to_numpy_view(t, false).attr("copy")(); })
      // numpy's protocol: a read-only view when possible; copy=True gives a fresh writable array,
      // copy=False raises when a dtype conversion makes a copy unavoidable.
      .def("__array__", [](const Tensor& t, py::handle dtype, py::handle copy) {
        py::object a = to_numpy_view(ops::stop_gradient(t), false);
        const bool force = !copy.is_none() && py::cast<bool>(copy);
        const bool never = !copy.is_none() && !py::cast<bool>(copy);
        if (!dtype.is_none()) {
          py::dtype want = py::dtype::from_args(py::reinterpret_borrow<py::object>(dtype));
          if (!want.equal(a.attr("dtype"))) {
            TG_CHECK(!never, "__array__: converting ", dtype_name(t.dtype()), " to ", std::string(py::str(want)),
                     " needs a copy, but copy=False");
            return a.attr("astype")(want);
          }
        }
        return force ? a.attr("copy")() : a;
      }, py::arg("dtype") = py::none(), py::arg("copy") = py::none())
      .def("item", [](const Tensor& t) {
        need_one(t, "item", true);
        return scalar_value(t);
      })
      .def("tolist", [](const Tensor& t) { return to_numpy_view(t, false).attr("tolist")(); })
      .def("__float__", [](const Tensor& t) {
        need_one(t, "float", false);
        check_has_data(t, "float");
        return t.item_as_double(0);
      })
      .def("__int__", [](const Tensor& t) {
        need_one(t, "int", false);
        return py::int_(scalar_value(t).attr("__int__")());
      })
      .def("__index__", [](const Tensor& t) {
        TG_CHECK_TYPE(!is_float(t.dtype()) && t.dtype() != DType::Bool && t.ndim() == 0,
                      "only 0-d integer tensors can be converted to an index, got a ", dtype_name(t.dtype()),
                      " tensor of shape ", shape_str(t.shape()));
        return py::int_(scalar_value(t));
      })
      .def("__bool__", [](const Tensor& t) {
        if (t.numel() != 1)
          throw ValueError(str_cat("The truth value of a Tensor with ", t.numel() == 0 ? "no elements" : "more than one element",
                                   " is ambiguous (shape ", shape_str(t.shape()), "). Use a.any() or a.all()"));
        check_has_data(t, "bool");
        return t.item_as_double(0) != 0;
      })
      .def("__len__", [](const Tensor& t) {
        TG_CHECK_TYPE(t.ndim() > 0, "len() of a 0-d tensor");
        return t.shape()[0];
      })
      .def("__hash__", [](py::handle self) { return py::hash(py::int_(reinterpret_cast<uintptr_t>(self.ptr()))); })
      .def("__getitem__", [](const Tensor& t, py::handle idx) {
        std::vector<ops::IndexItem> items = parse_index(idx);
        return maybe_nogil(t.numel(), [&] { return ops::getitem(t, items); });
      })
      .def("__setitem__", [](Tensor& t, py::handle idx, py::handle v) {
        Tensor val = operand(v, t, "setitem");
        std::vector<ops::IndexItem> items = parse_index(idx);
        maybe_nogil(t.numel(), [&] {
          ops::setitem(t, items, val);
          return Tensor();
        });
      })
      .def("_value_repr", [](const Tensor& t) { return to_numpy_view(t, false); })
      .def("__copy__", [](const Tensor& t) { return ops::copy(t); })
      .def("__deepcopy__", [](const Tensor& t, py::handle) { return ops::copy(t); })
      .def(py::pickle(
          [](const Tensor& t) {
            check_has_data(t, "pickle");
            return py::make_tuple(to_numpy_view(t, false).attr("copy")(), std::string(dtype_numpy_name(t.dtype())));
          },
          [](py::tuple st) {
            TG_CHECK_TYPE(st.size() == 2, "Tensor.__setstate__: bad state");
            return tensor_from_py(st[0], st[1], true);
          }));

  // Arithmetic. Numpy arrays defer to these through __array_ufunc__ = None (set in Python).
#define TG_BIN(pyname, rpyname, OP, label)                                                           \
  cls.def(pyname, [](const Tensor& a, py::handle b) { return bin_op(OP, a, b, false, label); });   \
  cls.def(rpyname, [](const Tensor& a, py::handle b) { return bin_op(OP, a, b, true, label); });
  TG_BIN("__add__", "__radd__", Bin::Add, "add")
  TG_BIN("__sub__", "__rsub__", Bin::Sub, "sub")
  TG_BIN("__mul__", "__rmul__", Bin::Mul, "mul")
  TG_BIN("__truediv__", "__rtruediv__", Bin::Div, "div")
  TG_BIN("__floordiv__", "__rfloordiv__", Bin::FloorDiv, "floor_divide")
  TG_BIN("__mod__", "__rmod__", Bin::Mod, "mod")
  TG_BIN("__pow__", "__rpow__", Bin::Pow, "pow")
#undef TG_BIN
#define TG_LOGIC(pyname, rpyname, OP, label)                                                           \
  cls.def(pyname, [](const Tensor& a, py::handle b) { return logic_op(OP, a, b, false, label); });   \
  cls.def(rpyname, [](const Tensor& a, py::handle b) { return logic_op(OP, a, b, true, label); });
  TG_LOGIC("__and__", "__rand__", Bin::BitAnd, "and")
  TG_LOGIC("__or__", "__ror__", Bin::BitOr, "or")
  TG_LOGIC("__xor__", "__rxor__", Bin::BitXor, "xor")
#undef TG_LOGIC
  cls.def("__eq__", [](const Tensor& a, py::handle b) { return cmp_op(Cmp::Eq, a, b); });
  cls.def("__ne__", [](const Tensor& a, py::handle b) { return cmp_op(Cmp::Ne, a, b); });
  cls.def("__lt__", [](const Tensor& a, py::handle b) { return cmp_op(Cmp::Lt, a, b); });
  cls.def("__le__", [](const Tensor& a, py::handle b) { return cmp_op(Cmp::Le, a, b); });
  cls.def("__gt__", [](const Tensor& a, py::handle b) { return cmp_op(Cmp::Gt, a, b); });
  cls.def("__ge__", [](const Tensor& a, py::handle b) { return cmp_op(Cmp::Ge, a, b); });
  cls.def("__neg__", [](const Tensor& a) { return ops::neg(a); });
  cls.def("__pos__", [](const Tensor& a) { return a; });
  cls.def("__abs__", [](const Tensor& a) { return ops::unary(Un::Abs, a); });
  cls.def("__invert__", [](const Tensor& a) {
    if (a.dtype() == DType::Bool) return ops::predicate(kernels::Pred::LogicalNot, a);
    return ops::unary(Un::BitNot, a);
  });
}

}  // namespace bind
}  // namespace tapegrad
