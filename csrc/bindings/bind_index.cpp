// Bindings of the index family (module functions and Tensor methods). Conversion only.
#include "bindings/common.h"
#include "bindings/docstrings.h"

namespace tapegrad {
namespace bind {

namespace {

Tensor index_arg(py::handle h, const char* op) {
  Tensor t = ops::stop_gradient(arg_tensor(h, op));
  if (t.numel() == 0 && is_float(t.dtype()) && !is_tensor(h) && !py::isinstance<py::array>(h))
    t = t.to(DType::Int64);  // an empty list
  return t;
}

Tensor take_fn(py::handle a, py::handle indices, py::handle axis) {
  Tensor x = arg_tensor(a, "take");
  Tensor idx = index_arg(indices, "take");
  if (axis.is_none()) return ops::take(x, idx, 0, true);
  return ops::take(x, idx, axis_param(axis, "take"), false);
}

}  // namespace

void bind_index(py::module_& m) {
  def_both(m, "take", take_fn, py::arg("indices"), py::arg("axis") = py::none(), docs::take);
  // MindSpore's name for the same gather.
  def_both(m, "gather", take_fn, py::arg("indices"), py::arg("axis") = py::none(), docs::gather);
  m.def(
      "take_along_axis",
      [](py::handle a, py::handle indices, py::handle axis) {
        Tensor x = arg_tensor(a, "take_along_axis");
        Tensor idx = index_arg(indices, "take_along_axis");
        if (axis.is_none()) return ops::take_along_axis(x, idx, 0, true);
        return ops::take_along_axis(x, idx, axis_param(axis, "take_along_axis"), false);
      },
      py::arg("arr"), py::arg("indices"), py::arg("axis"), docs::take_along_axis);
  m.def(
      "one_hot",
      [](py::handle indices, py::handle depth_h, py::handle on_value, py::handle off_value, py::handle axis_h,
         py::handle dtype) {
        const int64_t depth = int_param(depth_h, "one_hot", "depth");
        const int64_t axis = axis_param(axis_h, "one_hot");
        Tensor idx = index_arg(indices, "one_hot");
        DType dt = DType::Float32;
        if (!dtype.is_none()) dt = parse_dtype(dtype);
        else if (is_tensor(on_value)) dt = as_tensor(on_value).dtype();
        else if (is_tensor(off_value)) dt = as_tensor(off_value).dtype();
        Tensor on = ops::cast(arg_tensor(on_value, "one_hot"), dt);
        Tensor off = ops::cast(arg_tensor(off_value, "one_hot"), dt);
        return ops::one_hot(idx, depth, on, off, axis);
      },
      py::arg("indices"), py::arg("depth"), py::arg("on_value") = 1, py::arg("off_value") = 0, py::arg("axis") = -1,
      py::arg("dtype") = py::none(), docs::one_hot);
}

}  // namespace bind
}  // namespace tapegrad
