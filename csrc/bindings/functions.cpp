// Module-level functions; the ones that take a tensor first are also bound as Tensor methods.
#include "bindings/common.h"
#include "ops/runtime.h"

namespace tapegrad {
namespace bind {

// Docstrings of the functions, methods and properties bound in this file. Every `>>>` example
// runs as a doctest (tests/test_doctests.py) with `tg` (tapegrad) and `np` (numpy) in scope;
// `...` in an output stands for digits that may differ in the last place between SIMD paths.
namespace docs {

inline constexpr char logical_xor[] =
    R"doc(XOR of the truth values (nonzero is True), elementwise: a Bool tensor (also `^` on Bool
tensors).

>>> a, b = tg.tensor([True, True, False]), tg.tensor([True, False, False])
>>> tg.logical_xor(a, b)
Tensor(shape=[3], dtype=Bool, value= [False,  True, False])
>>> a ^ b
Tensor(shape=[3], dtype=Bool, value= [False,  True, False])
)doc";

inline constexpr char clip[] =
    R"doc(x limited to [min, max], elementwise; either bound may be None, a scalar or a tensor.

The gradient is 1 inside the bounds and 0 outside.

>>> x = tg.tensor([-2.0, 0.5, 3.0])
>>> tg.clip(x, -1.0, 1.0)
Tensor(shape=[3], dtype=Float32, value= [-1.00000000e+00,  5.00000000e-01,  1.00000000e+00])
>>> x.clip(max=0.0)
Tensor(shape=[3], dtype=Float32, value= [-2.00000000e+00,  0.00000000e+00,  0.00000000e+00])
)doc";

inline constexpr char where[] =
    R"doc(Elements of x where condition is True and of y elsewhere (the three broadcast).

The gradient flows to x where the condition holds and to y elsewhere.

>>> cond = tg.tensor([True, False, True])
>>> tg.where(cond, tg.tensor([1.0, 2.0, 3.0]), 0.0)
Tensor(shape=[3], dtype=Float32, value= [ 1.00000000e+00,  0.00000000e+00,  3.00000000e+00])
)doc";

inline constexpr char astype[] =
    R"doc(x converted to dtype (a tapegrad dtype, a numpy dtype or a name); floats to integers
truncate, as numpy. The gradient of a float-to-float cast is cast back.

>>> x = tg.tensor([1.7, -2.7])
>>> x.astype(tg.int32)
Tensor(shape=[2], dtype=Int32, value= [ 1, -2])
>>> tg.astype(x, "float64").dtype
Float64
)doc";

inline constexpr char sum[] =
    R"doc(The sum over axis (None: every axis; an int or a tuple of ints), keeping the reduced axes
as size 1 with keepdims. Integer and Bool sums are Int64, as numpy.

>>> x = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
>>> tg.sum(x)
Tensor(shape=[], dtype=Float32, value= 10)
>>> x.sum(axis=0)
Tensor(shape=[2], dtype=Float32, value= [ 4.00000000e+00,  6.00000000e+00])
>>> x.sum(axis=1, keepdims=True).shape
(2, 1)
)doc";

inline constexpr char mean[] =
    R"doc(The mean over axis (None: every axis; an int or a tuple of ints), keeping the reduced axes
as size 1 with keepdims. Integers give Float32.

>>> x = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
>>> tg.mean(x)
Tensor(shape=[], dtype=Float32, value= 2.5)
>>> x.mean(axis=1)
Tensor(shape=[2], dtype=Float32, value= [ 1.50000000e+00,  3.50000000e+00])
)doc";

inline constexpr char broadcast_to[] =
    R"doc(x broadcast to shape (numpy's rules); a view, no copy. The gradient sums over the
broadcast axes.

>>> x = tg.tensor([1.0, 2.0])
>>> tg.broadcast_to(x, (2, 2))
Tensor(shape=[2, 2], dtype=Float32, value=
[[ 1.00000000e+00,  2.00000000e+00],
 [ 1.00000000e+00,  2.00000000e+00]])
>>> x.broadcast_to((3, 2)).shape
(3, 2)
)doc";

inline constexpr char reshape[] =
    R"doc(x with a new shape of the same size; one dimension may be -1 (inferred). A view when the
layout allows, else a copy.

>>> print(tg.reshape(tg.arange(6), (2, 3)))
[[0 1 2]
 [3 4 5]]
>>> tg.arange(6).reshape(3, -1).shape
(3, 2)
)doc";

inline constexpr char Tensor_reshape[] =
    R"doc(The tensor with a new shape of the same size: `x.reshape(2, 3)` or `x.reshape((2, 3))`;
one dimension may be -1 (inferred).

>>> x = tg.arange(6)
>>> x.reshape(2, 3).shape, x.reshape((3, -1)).shape
((2, 3), (3, 2))
)doc";

inline constexpr char Tensor_view[] =
    R"doc(MindSpore's name for `reshape`: `x.view(2, 3)` or `x.view((2, 3))`.

>>> print(tg.arange(4).view(2, 2))
[[0 1]
 [2 3]]
)doc";

inline constexpr char transpose[] =
    R"doc(x with its axes permuted by axes (default: reversed). A view.

>>> x = tg.tensor([[1, 2, 3]])
>>> tg.transpose(x)
Tensor(shape=[3, 1], dtype=Int64, value=
[[1],
 [2],
 [3]])
>>> tg.transpose(tg.ones((2, 3, 4)), (1, 2, 0)).shape
(3, 4, 2)
)doc";

inline constexpr char Tensor_transpose[] =
    R"doc(The tensor with its axes permuted: `x.transpose()` reverses them, `x.transpose(1, 0, 2)`
or `x.transpose((1, 0, 2))` permutes them. A view.

>>> x = tg.ones((2, 3, 4))
>>> x.transpose().shape, x.transpose(1, 0, 2).shape
((4, 3, 2), (3, 2, 4))
)doc";

inline constexpr char swapaxes[] =
    R"doc(x with axes axis1 and axis2 exchanged. A view.

>>> x = tg.ones((2, 3, 4))
>>> tg.swapaxes(x, 0, 2).shape
(4, 3, 2)
>>> x.swapaxes(1, -1).shape
(2, 4, 3)
)doc";

inline constexpr char expand_dims[] =
    R"doc(x with new axes of size 1 at axis (an int or a tuple of ints).

>>> x = tg.tensor([1.0, 2.0])
>>> tg.expand_dims(x, 0).shape, x.expand_dims(1).shape, x.expand_dims((0, 2)).shape
((1, 2), (2, 1), (1, 2, 1))
)doc";

inline constexpr char squeeze[] =
    R"doc(x without its axes of size 1 (all of them, or those in axis).

>>> x = tg.ones((1, 2, 1))
>>> tg.squeeze(x).shape, x.squeeze(0).shape
((2,), (2, 1))
)doc";

inline constexpr char flatten[] =
    R"doc(x as a 1-d tensor (a copy when not contiguous).

>>> tg.flatten(tg.tensor([[1, 2], [3, 4]]))
Tensor(shape=[4], dtype=Int64, value= [1, 2, 3, 4])
)doc";

inline constexpr char copy[] =
    R"doc(A copy of x with its own memory; differentiable (the gradient passes through).

>>> x = tg.tensor([1.0, 2.0])
>>> y = x.copy()
>>> y[0] = 5.0
>>> print(x, y)
[1. 2.] [5. 2.]
)doc";

}  // namespace docs

namespace {
using kernels::Bin;
using kernels::Cmp;
using kernels::Pred;
using kernels::Un;

// An explicit empty axes tuple is the identity only for a 0-d tensor (numpy: "axes don't match
// array"); ops::transpose takes an empty permutation as "reverse the axes" (the default).
void check_transpose_axes(const Tensor& x, const Shape& axes) {
  TG_CHECK_SHAPE(!axes.empty() || x.ndim() == 0, "transpose: axes () don't match a tensor of ", x.ndim(),
                 " dimensions (shape ", shape_str(x.shape()), ")");
}

const char* reads_str(const Prim& p) {
  if (!p.vjp) return "none";
  switch (p.vjp_reads) {
    case kReadsInOut: return "both";
    case kReadsInputs: return "inputs";
    case kReadsOutputs: return "outputs";
    default: return "none";
  }
}

// `path` ("sum", "linalg.norm", "Tensor.__getitem__") looked up from the tapegrad module; None if
// it is not there.
py::object resolve(const py::object& root, const std::string& path) {
  py::object o = root;
  size_t s = 0;
  for (;;) {
    const size_t e = path.find('.', s);
    const std::string part = path.substr(s, e == std::string::npos ? std::string::npos : e - s);
    if (!py::hasattr(o, part.c_str())) return py::none();
    o = o.attr(part.c_str());
    if (e == std::string::npos) return o;
    s = e + 1;
  }
}

// _core._prims(): every prim as a dict (Note [Op table] in ops/prims.h).
py::list prims_list() {
  ops::PrimRegistry all = ops::all_prims();
  all.push_back(custom_vjp_prim());
  all.push_back(custom_jvp_prim());
  const py::object tg = py::module_::import("tapegrad");
  py::list out;
  for (const Prim* p : all) {
    py::list pub;
    const std::string api = p->api ? p->api : p->name;
    for (size_t s = 0; s < api.size();) {
      size_t e = api.find(' ', s);
      if (e == std::string::npos) e = api.size();
      if (e > s) pub.append(api.substr(s, e - s));
      s = e + 1;
    }
    py::object doc = py::str(p->doc ? p->doc : "");
    if (!p->doc && !pub.empty()) {
      // Not an op of the table: the docstring beside the binding of its first function.
      py::object f = resolve(tg, pub[0].cast<std::string>());
      if (!f.is_none() && py::hasattr(f, "__doc__") && !f.attr("__doc__").is_none()) doc = f.attr("__doc__");
    }
    py::dict d;
    d["name"] = p->name;
    d["differentiable"] = p->vjp != nullptr;
    d["jvp"] = p->jvp != nullptr;
    d["batch"] = p->batch != nullptr;
    d["vjp_reads"] = reads_str(*p);
    d["doc"] = doc;
    d["public"] = pub;
    const char* kind = ops::elementwise_kind(p);
    d["kind"] = kind ? py::object(py::str(kind)) : py::object(py::none());
    out.append(d);
  }
  return out;
}

}  // namespace

void bind_functions(py::module_& m) {
  auto cls = py::reinterpret_borrow<py::class_<Tensor>>(reinterpret_cast<PyObject*>(g_tensor_type));

  // Testing hook: run the CPU kernels (loops, vector math, reductions, random words) with another
  // SIMD path ("sse2", "avx2", "avx512", "best"); False when this CPU cannot run it.
  // (Note [SIMD dispatch])
  m.def("_set_simd_path", [](const std::string& name) { return ops::set_simd_path(name.c_str()); });
  // Every prim, as dicts (Note [Op table]).
  m.def("_prims", &prims_list);

  // Binary functions: the first tensor argument sets the kind of Python scalars.
  auto pair = [](py::handle a, py::handle b, const char* op) {
    if (is_tensor(a)) {
      Tensor x = as_tensor(a);
      return std::make_pair(x, operand(b, x, op));
    }
    if (is_tensor(b)) {
      Tensor y = as_tensor(b);
      return std::make_pair(operand(a, y, op), y);
    }
    return std::make_pair(arg_tensor(a, op), arg_tensor(b, op));
  };

  // The elementwise ops: one binding per row of the op table (core/elementwise_ops.def), by its
  // bind column: Both = module function and Tensor method, Function = module function, Operator =
  // nothing here (the operator slots in tensor.cpp reach it).
#define TG_BIND_UNARY_Both(Id, name, doc)                                                     \
  def_both(                                                                                   \
      m, #name,                                                                               \
      [](py::handle x) {                                                                      \
        Tensor t = arg_tensor(x, #name);                                                      \
        return nogil_if_large(t.numel(), t.tracked(), [&] { return ops::unary(Un::Id, t); }); \
      },                                                                                      \
      doc);
#define TG_BIND_PREDICATE_Both(Id, name, doc) \
  def_both(m, #name, [](py::handle x) { return ops::predicate(Pred::Id, arg_tensor(x, #name)); }, doc);
#define TG_BIND_PREDICATE_Function(Id, name, doc) \
  m.def(#name, [](py::handle x) { return ops::predicate(Pred::Id, arg_tensor(x, #name)); }, py::arg("x"), doc);
#define TG_BIND_BINARY_Function(Id, name, doc)                                                             \
  m.def(                                                                                                   \
      #name,                                                                                               \
      [pair](py::handle a, py::handle b) {                                                                 \
        auto xy = pair(a, b, #name);                                                                       \
        return nogil_if_large(xy.first.numel() + xy.second.numel(), ops::any_tracked(xy.first, xy.second), \
                              [&] { return ops::binary(Bin::Id, xy.first, xy.second); });                  \
      },                                                                                                   \
      py::arg("x1"), py::arg("x2"), doc);
#define TG_BIND_COMPARE_Function(Id, name, doc)            \
  m.def(                                                   \
      #name,                                               \
      [pair](py::handle a, py::handle b) {                 \
        auto xy = pair(a, b, #name);                       \
        return ops::compare(Cmp::Id, xy.first, xy.second); \
      },                                                   \
      py::arg("x1"), py::arg("x2"), doc);
#define TG_BIND_UNARY_Operator(Id, name, doc)
#define TG_BIND_BINARY_Operator(Id, name, doc)
#define TG_UNARY_OP(Id, name, bind, diff, reads, doc) TG_BIND_UNARY_##bind(Id, name, doc)
#define TG_PREDICATE_OP(Id, name, bind, diff, reads, doc) TG_BIND_PREDICATE_##bind(Id, name, doc)
#define TG_BINARY_OP(Id, name, bind, diff, reads, doc) TG_BIND_BINARY_##bind(Id, name, doc)
#define TG_COMPARE_OP(Id, name, bind, diff, reads, doc) TG_BIND_COMPARE_##bind(Id, name, doc)
#include "core/elementwise_ops.def"
#undef TG_BIND_UNARY_Both
#undef TG_BIND_PREDICATE_Both
#undef TG_BIND_PREDICATE_Function
#undef TG_BIND_BINARY_Function
#undef TG_BIND_COMPARE_Function
#undef TG_BIND_UNARY_Operator
#undef TG_BIND_BINARY_Operator

  m.def(
      "logical_xor",
      [pair](py::handle a, py::handle b) {
        auto xy = pair(a, b, "logical_xor");
        return ops::logical_xor(xy.first, xy.second);
      },
      py::arg("x1"), py::arg("x2"), docs::logical_xor);

  // clip(x, min=None, max=None): bounds are scalars (weak, NEP 50) or tensors.
  def_both(
      m, "clip",
      [](py::handle x, py::handle lo, py::handle hi) {
        Tensor t = arg_tensor(x, "clip");
        // numpy: a Python int bound beyond the integer dtype on its own side (uint8 clipped below
        // at -1, int8 above at 300) bounds nothing; beyond on the other side it is an OverflowError.
        auto beyond = [&t](py::handle b, bool low) {
          if (!PyLong_CheckExact(b.ptr()) || !is_int(t.dtype())) return false;
          int overflow = 0;
          const long long v = PyLong_AsLongLongAndOverflow(b.ptr(), &overflow);
          if (low) return overflow < 0 || (!overflow && v < int_min(t.dtype()));
          if (overflow > 0 && t.dtype() == DType::UInt64) {  // 2**63 <= v: beyond only past 2**64 - 1
            PyLong_AsUnsignedLongLong(b.ptr());
            if (!PyErr_Occurred()) return false;
            PyErr_Clear();
            return true;
          }
          return overflow > 0 || (!overflow && v > 0 && uint64_t(v) > int_max_u64(t.dtype()));
        };
        Tensor l = lo.is_none() || beyond(lo, true) ? Tensor() : operand(lo, t, "clip");
        Tensor h = hi.is_none() || beyond(hi, false) ? Tensor() : operand(hi, t, "clip");
        return nogil_if_large(t.numel(), t.tracked() || (l.defined() && l.tracked()) || (h.defined() && h.tracked()),
                              [&] { return ops::clip(t, l, h); });
      },
      py::arg("min") = py::none(), py::arg("max") = py::none(), docs::clip);
  m.def(
      "where",
      [pair](py::handle c, py::handle a, py::handle b) {
        Tensor cond = arg_tensor(c, "where");
        auto xy = pair(a, b, "where");
        return nogil_if_large(cond.numel() + xy.first.numel(), ops::any_tracked(cond, xy.first, xy.second),
                              [&] { return ops::where(cond, xy.first, xy.second); });
      },
      py::arg("condition"), py::arg("x"), py::arg("y"), docs::where);
  m.def("stop_gradient", [](py::handle x) { return ops::stop_gradient(arg_tensor(x, "stop_gradient")); });
  // The complex parts (tapegrad.numpy's real, imag, conj, angle and complex construction wrap them).
  m.def("_complex_part", [](py::handle x, const std::string& which) {
    const Tensor t = arg_tensor(x, which.c_str());
    if (which == "real") return ops::real(t);
    if (which == "imag") return ops::imag(t);
    if (which == "conj") return ops::conj(t);
    if (which == "angle") return ops::angle(t);
    throw ValueError(str_cat("_complex_part: unknown part '", which, "'"));
  });
  m.def("_complex", [](py::handle re, py::handle im) {
    return ops::complex_from_parts(arg_tensor(re, "complex"), arg_tensor(im, "complex"));
  });
  def_both(
      m, "astype", [](py::handle x, py::handle dt) { return ops::cast(arg_tensor(x, "astype"), parse_dtype(dt)); },
      py::arg("dtype"), docs::astype);
  // Every other way of calling astype (copy=, a wrong keyword): a second overload, tried only when
  // the plain one above does not match, so the per-op path pays nothing for it.
  def_both(m, "astype", [](py::handle x, py::args args, py::kwargs kw) {
    Tensor t = arg_tensor(x, "astype");
    py::object dt, copy = py::bool_(true);
    if (args.size() > 1)
      throw TypeError(str_cat("astype() takes the dtype and the keyword argument copy, got ", args.size(),
                              " positional arguments"));
    if (args.size() == 1) dt = args[0];
    for (auto item : kw) {
      const std::string key = py::str(item.first);
      if (key == "dtype" && !dt) {
        dt = py::reinterpret_borrow<py::object>(item.second);
      } else if (key == "copy") {
        copy = py::reinterpret_borrow<py::object>(item.second);
      } else {
        throw TypeError(str_cat("astype() got an unexpected keyword argument '", key, "'"));
      }
    }
    if (!dt) throw TypeError("astype() missing the required argument 'dtype'");
    if (!PyBool_Check(copy.ptr())) {
      if (!py::isinstance(copy, py::module_::import("numpy").attr("bool_")))
        throw TypeError(
            str_cat("astype: copy must be True or False, got ", py::str(py::repr(copy)).cast<std::string>()));
      copy = py::bool_(copy.cast<bool>());
    }
    const DType to = parse_dtype(dt);
    if (t.dtype() == to) {
      // copy=True: new memory (numpy); copy=False: the tensor itself, as numpy gives the array.
      if (copy.ptr() == Py_True) return py::cast(ops::copy(t));
      return py::reinterpret_borrow<py::object>(x);
    }
    return py::cast(ops::cast(t, to));
  });

  // Reductions.
  def_both(
      m, "sum",
      [](py::handle x, py::handle axis, py::handle keepdims_h) {
        const bool keepdims = bool_param(keepdims_h, "sum", "keepdims");
        AxisArg ax = parse_axis(axis, "sum");
        return ops::sum(arg_tensor(x, "sum"), ax.axes, ax.all, keepdims);
      },
      py::arg("axis") = py::none(), py::arg("keepdims") = false, docs::sum);
  def_both(
      m, "mean",
      [](py::handle x, py::handle axis, py::handle keepdims_h) {
        const bool keepdims = bool_param(keepdims_h, "mean", "keepdims");
        AxisArg ax = parse_axis(axis, "mean");
        return ops::mean(arg_tensor(x, "mean"), ax.axes, ax.all, keepdims);
      },
      py::arg("axis") = py::none(), py::arg("keepdims") = false, docs::mean);

  // Shape.
  def_both(
      m, "broadcast_to",
      [](py::handle x, py::handle shape) {
        return ops::broadcast_to(arg_tensor(x, "broadcast_to"), parse_shape(shape, "broadcast_to"));
      },
      py::arg("shape"), docs::broadcast_to);
  m.def(
      "reshape",
      [](py::handle x, py::handle shape) {
        return ops::reshape(arg_tensor(x, "reshape"), parse_shape(shape, "reshape"));
      },
      py::arg("x"), py::arg("shape"), docs::reshape);
  cls.def(
      "reshape",
      [](const Tensor& x, py::args shape) {
        // numpy's a.reshape() without a shape is a TypeError; a 0-d result is spelled reshape(()).
        if (shape.size() == 0)
          throw py::type_error("reshape() takes the new shape (ints or one tuple; () for a 0-d result), got none");
        if (shape.size() == 1) return ops::reshape(x, parse_shape(shape[0], "reshape"));
        return ops::reshape(x, parse_shape(shape, "reshape"));
      },
      docs::Tensor_reshape);
  cls.def(
      "view",
      [](const Tensor& x, py::args shape) {
        // numpy's a.view() without a shape is a TypeError; a 0-d result is spelled view(()).
        if (shape.size() == 0)
          throw py::type_error("view() takes the new shape (ints or one tuple; () for a 0-d result), got none");
        if (shape.size() == 1) return ops::reshape(x, parse_shape(shape[0], "view"));
        return ops::reshape(x, parse_shape(shape, "view"));
      },
      docs::Tensor_view);
  m.def(
      "transpose",
      [](py::handle x, py::handle axes) {
        SmallVec<int64_t, 6> p;
        Tensor t = arg_tensor(x, "transpose");
        if (!axes.is_none()) {
          Shape s = parse_shape(axes, "transpose");
          check_transpose_axes(t, s);
          p = SmallVec<int64_t, 6>(s.begin(), s.end());
        }
        return ops::transpose(t, p);
      },
      py::arg("x"), py::arg("axes") = py::none(), docs::transpose);
  cls.def(
      "transpose",
      [](const Tensor& x, py::args axes) {
        SmallVec<int64_t, 6> p;
        if (axes.size() == 1 && !axes[0].is_none()) {
          Shape s = parse_shape(axes[0], "transpose");
          check_transpose_axes(x, s);
          p = SmallVec<int64_t, 6>(s.begin(), s.end());
        } else if (axes.size() > 1) {
          Shape s = parse_shape(axes, "transpose");
          p = SmallVec<int64_t, 6>(s.begin(), s.end());
        }
        return ops::transpose(x, p);
      },
      docs::Tensor_transpose);
  def_both(
      m, "swapaxes",
      [](py::handle x, py::handle a, py::handle b) {
        return ops::swapaxes(arg_tensor(x, "swapaxes"), axis_param(a, "swapaxes"), axis_param(b, "swapaxes"));
      },
      py::arg("axis1"), py::arg("axis2"), docs::swapaxes);
  def_both(
      m, "expand_dims",
      [](py::handle x, py::handle axis) {
        AxisArg ax = parse_axis(axis, "expand_dims");
        TG_CHECK_TYPE(!ax.all, "expand_dims: axis must be an int or a tuple of ints, got None");
        return ops::expand_dims(arg_tensor(x, "expand_dims"), SmallVec<int64_t, 6>(ax.axes.begin(), ax.axes.end()));
      },
      py::arg("axis"), docs::expand_dims);
  def_both(
      m, "squeeze",
      [](py::handle x, py::handle axis) {
        AxisArg ax = parse_axis(axis, "squeeze");
        return ops::squeeze(arg_tensor(x, "squeeze"), SmallVec<int64_t, 6>(ax.axes.begin(), ax.axes.end()), ax.all);
      },
      py::arg("axis") = py::none(), docs::squeeze);
  def_both(m, "flatten", [](py::handle x) { return ops::flatten(arg_tensor(x, "flatten")); }, docs::flatten);
  def_both(m, "copy", [](py::handle x) { return ops::copy(arg_tensor(x, "copy")); }, docs::copy);
}

}  // namespace bind
}  // namespace tapegrad
