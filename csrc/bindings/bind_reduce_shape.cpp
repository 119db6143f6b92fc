// Bindings of the reduction and shape families (module functions and Tensor methods).
// sum, mean, broadcast_to, reshape, transpose, swapaxes, expand_dims, squeeze, flatten and copy are
// bound in functions.cpp.
#include <string>
#include <vector>

#include "bindings/common.h"
#include "bindings/docstrings.h"

namespace tapegrad {
namespace bind {

namespace {

// A single axis or None (all): returns true for None.
bool parse_one_axis(py::handle h, const char* op, int64_t& axis) {
  if (h.is_none()) {
    axis = 0;
    return true;
  }
  TG_CHECK_TYPE(is_index_like(h), op, ": axis must be None or an int, got ", std::string(py::repr(h)));
  axis = axis_param(h, op);
  return false;
}

int64_t parse_int_axis(py::handle h, const char* op) {
  TG_CHECK_TYPE(is_index_like(h), op, ": axis must be an int, got ", std::string(py::repr(h)));
  return axis_param(h, op);
}

std::vector<Tensor> tensor_seq(py::handle seq, const char* op) {
  TG_CHECK_TYPE(!is_tensor(seq) && (py::isinstance<py::tuple>(seq) || py::isinstance<py::list>(seq)), op,
                ": expected a tuple or list of tensors, got ", std::string(py::str(py::type::handle_of(seq))));
  std::vector<Tensor> xs;
  for (py::handle h : seq) xs.push_back(arg_tensor(h, op));
  return xs;
}

SmallVec<int64_t, 6> to_vec(const Shape& s) { return SmallVec<int64_t, 6>(s.begin(), s.end()); }

using ReduceFn = Tensor (*)(const Tensor&, const ops::Axes&, bool, bool);

template <ReduceFn F>
void def_reduce(py::module_& m, const char* name, const char* doc, bool method = true) {
  auto f = [name](py::handle x, py::handle axis, py::handle keepdims) {
    AxisArg ax = parse_axis(axis, name);
    return F(arg_tensor(x, name), ax.axes, ax.all, bool_param(keepdims, name, "keepdims"));
  };
  if (method) {
    def_both(m, name, f, py::arg("axis") = py::none(), py::arg("keepdims") = false, doc);
  } else {
    m.def(name, f, py::arg("x"), py::arg("axis") = py::none(), py::arg("keepdims") = false, doc);
  }
}

}  // namespace

void bind_reduce_shape(py::module_& m) {
  auto cls = py::reinterpret_borrow<py::class_<Tensor>>(reinterpret_cast<PyObject*>(g_tensor_type));

  // ---- reductions ----
  def_reduce<ops::prod>(m, "prod", docs::prod);
  def_reduce<ops::amax>(m, "max", docs::max);
  def_reduce<ops::amin>(m, "min", docs::min);
  def_reduce<ops::amax>(m, "amax", docs::amax, false);
  def_reduce<ops::amin>(m, "amin", docs::amin, false);
  def_reduce<ops::logsumexp>(m, "logsumexp", docs::logsumexp);
  def_reduce<ops::any>(m, "any", docs::any);
  def_reduce<ops::all>(m, "all", docs::all);

  auto argf = [](Tensor (*f)(const Tensor&, int64_t, bool, bool), const char* name) {
    return [f, name](py::handle x, py::handle axis, py::handle keepdims) {
      int64_t ax;
      bool all = parse_one_axis(axis, name, ax);
      return f(arg_tensor(x, name), ax, all, bool_param(keepdims, name, "keepdims"));
    };
  };
  def_both(m, "argmax", argf(ops::argmax, "argmax"), py::arg("axis") = py::none(), py::arg("keepdims") = false,
           docs::argmax);
  def_both(m, "argmin", argf(ops::argmin, "argmin"), py::arg("axis") = py::none(), py::arg("keepdims") = false,
           docs::argmin);

  auto varf = [](Tensor (*f)(const Tensor&, const ops::Axes&, bool, bool, int64_t), const char* name) {
    return [f, name](py::handle x, py::handle axis, py::handle ddof, py::handle keepdims) {
      AxisArg ax = parse_axis(axis, name);
      return f(arg_tensor(x, name), ax.axes, ax.all, bool_param(keepdims, name, "keepdims"),
               int_param(ddof, name, "ddof"));
    };
  };
  def_both(m, "var", varf(ops::var, "var"), py::arg("axis") = py::none(), py::arg("ddof") = 0,
           py::arg("keepdims") = false, docs::var);
  def_both(m, "std", varf(ops::std_, "std"), py::arg("axis") = py::none(), py::arg("ddof") = 0,
           py::arg("keepdims") = false, docs::std_);

  def_both(
      m, "softmax",
      [](py::handle x, py::handle axis) {
        return ops::softmax(arg_tensor(x, "softmax"), parse_int_axis(axis, "softmax"));
      },
      py::arg("axis") = -1, docs::softmax);
  def_both(
      m, "log_softmax",
      [](py::handle x, py::handle axis) {
        return ops::log_softmax(arg_tensor(x, "log_softmax"), parse_int_axis(axis, "log_softmax"));
      },
      py::arg("axis") = -1, docs::log_softmax);

  auto scanf = [](Tensor (*f)(const Tensor&, int64_t, bool), const char* name) {
    return [f, name](py::handle x, py::handle axis) {
      int64_t ax;
      bool flat = parse_one_axis(axis, name, ax);
      return f(arg_tensor(x, name), ax, flat);
    };
  };
  def_both(m, "cumsum", scanf(ops::cumsum, "cumsum"), py::arg("axis") = py::none(), docs::cumsum);
  def_both(m, "cumprod", scanf(ops::cumprod, "cumprod"), py::arg("axis") = py::none(), docs::cumprod);

  // ---- shape ----
  auto catf = [](py::handle seq, py::handle axis) {
    int64_t ax;
    bool flat = parse_one_axis(axis, "concatenate", ax);
    return ops::concatenate(tensor_seq(seq, "concatenate"), ax, flat);
  };
  m.def("concatenate", catf, py::arg("tensors"), py::arg("axis") = 0, docs::concatenate);
  m.def("concat", catf, py::arg("tensors"), py::arg("axis") = 0, docs::concat);
  m.def(
      "stack",
      [](py::handle seq, py::handle axis) {
        return ops::stack(tensor_seq(seq, "stack"), parse_int_axis(axis, "stack"));
      },
      py::arg("tensors"), py::arg("axis") = 0, docs::stack);
  m.def(
      "split",
      [](py::handle x, py::handle spec, py::handle axis) {
        Tensor t = arg_tensor(x, "split");
        int64_t ax = parse_int_axis(axis, "split");
        if (is_index_like(spec))  // a number of sections
          return ops::split(t, {int_param(spec, "split", "indices_or_sections")}, true, ax);
        py::object cuts = is_tensor(spec) ? py::reinterpret_borrow<py::object>(spec).attr("tolist")()
                                          : py::reinterpret_borrow<py::object>(spec);
        return ops::split(t, to_vec(parse_shape(cuts, "split")), false, ax);
      },
      py::arg("x"), py::arg("indices_or_sections"), py::arg("axis") = 0, docs::split);
  m.def(
      "flip",
      [](py::handle x, py::handle axis) {
        AxisArg ax = parse_axis(axis, "flip");
        return ops::flip(arg_tensor(x, "flip"), SmallVec<int64_t, 6>(ax.axes.begin(), ax.axes.end()), ax.all);
      },
      py::arg("x"), py::arg("axis") = py::none(), docs::flip);
  def_both(
      m, "tile",
      [](py::handle x, py::handle reps) { return ops::tile(arg_tensor(x, "tile"), to_vec(parse_shape(reps, "tile"))); },
      py::arg("reps"), docs::tile);
  def_both(
      m, "repeat",
      [](py::handle x, py::handle repeats, py::handle axis) {
        int64_t ax;
        bool flat = parse_one_axis(axis, "repeat", ax);
        return ops::repeat(arg_tensor(x, "repeat"), arg_tensor(repeats, "repeat"), ax, flat);
      },
      py::arg("repeats"), py::arg("axis") = py::none(), docs::repeat);
  // kind/stable are accepted for numpy compatibility: the sort is always stable.
  m.def(
      "sort",
      [](py::handle x, py::handle axis, py::handle descending, py::handle, py::handle) {
        int64_t ax;
        bool flat = parse_one_axis(axis, "sort", ax);
        return ops::sort(arg_tensor(x, "sort"), ax, bool_param(descending, "sort", "descending"), flat);
      },
      py::arg("x"), py::arg("axis") = -1, py::arg("descending") = false, py::arg("kind") = py::none(),
      py::arg("stable") = py::none(), docs::sort);
  def_both(
      m, "argsort",
      [](py::handle x, py::handle axis, py::handle descending, py::handle, py::handle) {
        int64_t ax;
        bool flat = parse_one_axis(axis, "argsort", ax);
        return ops::argsort(arg_tensor(x, "argsort"), ax, bool_param(descending, "argsort", "descending"), flat);
      },
      py::arg("axis") = -1, py::arg("descending") = false, py::arg("kind") = py::none(), py::arg("stable") = py::none(),
      docs::argsort);
  def_both(m, "ravel", [](py::handle x) { return ops::ravel(arg_tensor(x, "ravel")); }, docs::ravel);
  (void)cls;
}

}  // namespace bind
}  // namespace tapegrad
