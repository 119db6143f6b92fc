// Bindings of the index family (module functions and Tensor methods). Conversion only.
#include "bindings/common.h"

namespace tapegrad {
namespace bind {

// Docstrings of the functions, methods and properties bound in this file. Every `>>>` example
// runs as a doctest (tests/test_doctests.py) with `tg` (tapegrad) and `np` (numpy) in scope;
// `...` in an output stands for digits that may differ in the last place between SIMD paths.
namespace docs {

inline constexpr char take[] =
    R"doc(Elements of x at integer indices: along axis, or of the flattened x when axis is None
(numpy.take; a gather). Negative indices count from the end; out of range is an IndexError.

>>> x = tg.tensor([10, 20, 30])
>>> tg.take(x, tg.tensor([2, 0]))
Tensor(shape=[2], dtype=Int64, value= [30, 10])
>>> print(tg.take(tg.tensor([[1, 2], [3, 4]]), [1], axis=1))
[[2]
 [4]]
)doc";

inline constexpr char gather[] =
    R"doc(MindSpore's name for `take`: elements of x at integer indices along axis.

>>> x = tg.tensor([10.0, 20.0, 30.0])
>>> tg.gather(x, tg.tensor([2, 0]), axis=0)
Tensor(shape=[2], dtype=Float32, value= [ 3.00000000e+01,  1.00000000e+01])
>>> tg.grad(lambda x: x.gather(tg.tensor([2, 2]), axis=0).sum())(x)
Tensor(shape=[3], dtype=Float32, value= [ 0.00000000e+00,  0.00000000e+00,  2.00000000e+00])
)doc";

inline constexpr char take_along_axis[] =
    R"doc(Elements of arr picked along axis by indices of arr's rank (numpy's take_along_axis), e.g.
with the result of argsort or argmax(keepdims=True).

>>> x = tg.tensor([[10, 30], [40, 20]])
>>> tg.take_along_axis(x, x.argmax(axis=1, keepdims=True), axis=1)
Tensor(shape=[2, 1], dtype=Int64, value=
[[30],
 [40]])
)doc";

inline constexpr char one_hot[] =
    R"doc(One-hot vectors of length depth for integer indices: on_value where the index matches,
off_value elsewhere, along a new axis (default last); Float32 unless dtype is given.

>>> tg.one_hot(tg.tensor([0, 2]), 3)
Tensor(shape=[2, 3], dtype=Float32, value=
[[ 1.00000000e+00,  0.00000000e+00,  0.00000000e+00],
 [ 0.00000000e+00,  0.00000000e+00,  1.00000000e+00]])
>>> print(tg.one_hot(tg.tensor([1]), 3, dtype=tg.int32))
[[0 1 0]]
)doc";

}  // namespace docs

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
