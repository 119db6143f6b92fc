// Module-level functions; the ones that take a tensor first are also bound as Tensor methods.
#include "bindings/common.h"
#include "bindings/docstrings.h"
#include "ops/runtime.h"

namespace tapegrad {
namespace bind {

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

}  // namespace

void bind_functions(py::module_& m) {
  auto cls = py::reinterpret_borrow<py::class_<Tensor>>(reinterpret_cast<PyObject*>(g_tensor_type));

  // Unary math: functions and methods.
#define TG_UNARY_BIND(N, pyname)                                                             \
  def_both(                                                                                  \
      m, #pyname,                                                                            \
      [](py::handle x) {                                                                     \
        Tensor t = arg_tensor(x, #pyname);                                                   \
        return nogil_if_large(t.numel(), t.tracked(), [&] { return ops::unary(Un::N, t); }); \
      },                                                                                     \
      docs::pyname);
  TG_UNARY_BIND(Neg, neg)
  TG_UNARY_BIND(Abs, abs)
  TG_UNARY_BIND(Sign, sign)
  TG_UNARY_BIND(Exp, exp)
  TG_UNARY_BIND(Exp2, exp2)
  TG_UNARY_BIND(Log, log)
  TG_UNARY_BIND(Log2, log2)
  TG_UNARY_BIND(Log1p, log1p)
  TG_UNARY_BIND(Expm1, expm1)
  TG_UNARY_BIND(Sqrt, sqrt)
  TG_UNARY_BIND(Rsqrt, rsqrt)
  TG_UNARY_BIND(Square, square)
  TG_UNARY_BIND(Reciprocal, reciprocal)
  TG_UNARY_BIND(Sin, sin)
  TG_UNARY_BIND(Cos, cos)
  TG_UNARY_BIND(Tan, tan)
  TG_UNARY_BIND(Arcsin, arcsin)
  TG_UNARY_BIND(Arccos, arccos)
  TG_UNARY_BIND(Arctan, arctan)
  TG_UNARY_BIND(Sinh, sinh)
  TG_UNARY_BIND(Cosh, cosh)
  TG_UNARY_BIND(Tanh, tanh)
  TG_UNARY_BIND(Sigmoid, sigmoid)
  TG_UNARY_BIND(Relu, relu)
  TG_UNARY_BIND(Softplus, softplus)
  TG_UNARY_BIND(Gelu, gelu)
  TG_UNARY_BIND(Erf, erf)
  TG_UNARY_BIND(Floor, floor)
  TG_UNARY_BIND(Ceil, ceil)
  TG_UNARY_BIND(Round, round)
#undef TG_UNARY_BIND
  // Testing hook: run the elementwise kernels with another SIMD path ("sse2", "avx2", "avx512",
  // "best"); returns False when this CPU cannot run it.
  m.def("_set_simd_path", [](const std::string& name) { return ops::set_simd_path(name.c_str()); });
  def_both(m, "isnan", [](py::handle x) { return ops::predicate(Pred::IsNan, arg_tensor(x, "isnan")); }, docs::isnan);
  def_both(
      m, "isfinite", [](py::handle x) { return ops::predicate(Pred::IsFinite, arg_tensor(x, "isfinite")); },
      docs::isfinite);
  def_both(
      m, "logical_not", [](py::handle x) { return ops::predicate(Pred::LogicalNot, arg_tensor(x, "logical_not")); },
      docs::logical_not);

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
#define TG_BINARY_BIND(N, pyname)                                                                          \
  m.def(                                                                                                   \
      #pyname,                                                                                             \
      [pair](py::handle a, py::handle b) {                                                                 \
        auto xy = pair(a, b, #pyname);                                                                     \
        return nogil_if_large(xy.first.numel() + xy.second.numel(), ops::any_tracked(xy.first, xy.second), \
                              [&] { return ops::binary(Bin::N, xy.first, xy.second); });                   \
      },                                                                                                   \
      py::arg("x1"), py::arg("x2"), docs::pyname);
  TG_BINARY_BIND(Add, add)
  TG_BINARY_BIND(Sub, sub)
  TG_BINARY_BIND(Mul, mul)
  TG_BINARY_BIND(FloorDiv, floor_divide)
  TG_BINARY_BIND(Mod, mod)
  TG_BINARY_BIND(Pow, pow)
  TG_BINARY_BIND(Maximum, maximum)
  TG_BINARY_BIND(Minimum, minimum)
#undef TG_BINARY_BIND
  m.def(
      "div",
      [pair](py::handle a, py::handle b) {
        auto xy = pair(a, b, "div");
        return nogil_if_large(xy.first.numel() + xy.second.numel(), ops::any_tracked(xy.first, xy.second),
                              [&] { return ops::div(xy.first, xy.second); });
      },
      py::arg("x1"), py::arg("x2"), docs::div);
  m.def(
      "arctan2",
      [pair](py::handle a, py::handle b) {
        auto xy = pair(a, b, "arctan2");
        return nogil_if_large(xy.first.numel() + xy.second.numel(), ops::any_tracked(xy.first, xy.second),
                              [&] { return ops::arctan2(xy.first, xy.second); });
      },
      py::arg("x1"), py::arg("x2"), docs::arctan2);
#define TG_CMP_BIND(N, pyname)                            \
  m.def(                                                  \
      #pyname,                                            \
      [pair](py::handle a, py::handle b) {                \
        auto xy = pair(a, b, #pyname);                    \
        return ops::compare(Cmp::N, xy.first, xy.second); \
      },                                                  \
      py::arg("x1"), py::arg("x2"), docs::pyname);
  TG_CMP_BIND(Eq, equal)
  TG_CMP_BIND(Ne, not_equal)
  TG_CMP_BIND(Lt, less)
  TG_CMP_BIND(Le, less_equal)
  TG_CMP_BIND(Gt, greater)
  TG_CMP_BIND(Ge, greater_equal)
  TG_CMP_BIND(LogicalAnd, logical_and)
  TG_CMP_BIND(LogicalOr, logical_or)
#undef TG_CMP_BIND
  m.def(
      "logical_xor",
      [pair](py::handle a, py::handle b) {
        auto xy = pair(a, b, "logical_xor");
        return ops::compare(Cmp::Ne, ops::cast(xy.first, DType::Bool), ops::cast(xy.second, DType::Bool));
      },
      py::arg("x1"), py::arg("x2"), docs::logical_xor);

  // clip(x, min=None, max=None): bounds are scalars (weak, NEP 50) or tensors.
  def_both(
      m, "clip",
      [](py::handle x, py::handle lo, py::handle hi) {
        Tensor t = arg_tensor(x, "clip");
        Tensor l = lo.is_none() ? Tensor() : operand(lo, t, "clip");
        Tensor h = hi.is_none() ? Tensor() : operand(hi, t, "clip");
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
  def_both(
      m, "astype", [](py::handle x, py::handle dt) { return ops::cast(arg_tensor(x, "astype"), parse_dtype(dt)); },
      py::arg("dtype"), docs::astype);

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
        if (shape.size() == 1) return ops::reshape(x, parse_shape(shape[0], "reshape"));
        return ops::reshape(x, parse_shape(shape, "reshape"));
      },
      docs::Tensor_reshape);
  cls.def(
      "view",
      [](const Tensor& x, py::args shape) {
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
