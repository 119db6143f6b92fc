// Bindings of the reduction and shape families (module functions and Tensor methods).
// sum, mean, broadcast_to, reshape, transpose, swapaxes, expand_dims, squeeze, flatten and copy are
// bound in functions.cpp.
#include <string>
#include <vector>

#include "bindings/common.h"

namespace tapegrad {
namespace bind {

// Docstrings of the functions, methods and properties bound in this file. Every `>>>` example
// runs as a doctest (tests/test_doctests.py) with `tg` (tapegrad) and `np` (numpy) in scope;
// `...` in an output stands for digits that may differ in the last place between SIMD paths.
namespace docs {

inline constexpr char prod[] =
    R"doc(The product over axis. axis is None (every axis), an int or a tuple of ints; keepdims
keeps the reduced axes as size 1.

>>> x = tg.tensor([[1.0, 5.0], [3.0, 2.0]])
>>> tg.prod(x)
Tensor(shape=[], dtype=Float32, value= 30)
>>> x.prod(axis=1)
Tensor(shape=[2], dtype=Float32, value= [ 5.00000000e+00,  6.00000000e+00])
)doc";

inline constexpr char max[] =
    R"doc(The largest element over axis (numpy's amax). axis is None (every axis), an int or a tuple
of ints; keepdims keeps the reduced axes as size 1.

At ties the gradient is split evenly between the maxima.

>>> x = tg.tensor([[1.0, 5.0], [3.0, 2.0]])
>>> tg.max(x)
Tensor(shape=[], dtype=Float32, value= 5)
>>> x.max(axis=0)
Tensor(shape=[2], dtype=Float32, value= [ 3.00000000e+00,  5.00000000e+00])
)doc";

inline constexpr char min[] =
    R"doc(The smallest element over axis (numpy's amin). axis is None (every axis), an int or a
tuple of ints; keepdims keeps the reduced axes as size 1.

At ties the gradient is split evenly between the minima.

>>> x = tg.tensor([[1.0, 5.0], [3.0, 2.0]])
>>> tg.min(x)
Tensor(shape=[], dtype=Float32, value= 1)
>>> x.min(axis=1, keepdims=True).shape
(2, 1)
)doc";

inline constexpr char amax[] =
    R"doc(numpy's name for `max`: the largest element over axis. axis is None (every axis), an int
or a tuple of ints; keepdims keeps the reduced axes as size 1.

>>> tg.amax(tg.tensor([[1.0, 5.0], [3.0, 2.0]]), axis=1)
Tensor(shape=[2], dtype=Float32, value= [ 5.00000000e+00,  3.00000000e+00])
)doc";

inline constexpr char amin[] =
    R"doc(numpy's name for `min`: the smallest element over axis. axis is None (every axis), an int
or a tuple of ints; keepdims keeps the reduced axes as size 1.

>>> tg.amin(tg.tensor([[1.0, 5.0], [3.0, 2.0]]), axis=1)
Tensor(shape=[2], dtype=Float32, value= [ 1.00000000e+00,  2.00000000e+00])
)doc";

inline constexpr char logsumexp[] =
    R"doc(log(sum(exp(x))) over axis, computed without overflow. axis is None (every axis), an int
or a tuple of ints; keepdims keeps the reduced axes as size 1.

>>> tg.logsumexp(tg.tensor([0.0, 0.0]))  # log 2
Tensor(shape=[], dtype=Float32, value= 0.693147)
>>> tg.tensor([1000.0, 1000.0]).logsumexp()
Tensor(shape=[], dtype=Float32, value= 1000.69)
)doc";

inline constexpr char any[] =
    R"doc(Whether any element over axis is true (nonzero): a Bool tensor. axis is None (every axis),
an int or a tuple of ints; keepdims keeps the reduced axes as size 1.

>>> tg.any(tg.tensor([0, 1]))
Tensor(shape=[], dtype=Bool, value= True)
>>> tg.tensor([[0, 1], [0, 0]]).any(axis=1)
Tensor(shape=[2], dtype=Bool, value= [ True, False])
)doc";

inline constexpr char all[] =
    R"doc(Whether every element over axis is true (nonzero): a Bool tensor. axis is None (every
axis), an int or a tuple of ints; keepdims keeps the reduced axes as size 1.

>>> tg.all(tg.tensor([0, 1]))
Tensor(shape=[], dtype=Bool, value= False)
>>> bool((tg.arange(3) < 5).all())
True
)doc";

inline constexpr char argmax[] =
    R"doc(The index of the largest element along axis (None: of the flattened tensor), Int64; the
first one at ties.

>>> x = tg.tensor([[1.0, 5.0], [3.0, 2.0]])
>>> tg.argmax(x)
Tensor(shape=[], dtype=Int64, value= 1)
>>> x.argmax(axis=1)
Tensor(shape=[2], dtype=Int64, value= [1, 0])
)doc";

inline constexpr char argmin[] =
    R"doc(The index of the smallest element along axis (None: of the flattened tensor), Int64; the
first one at ties.

>>> x = tg.tensor([[1.0, 5.0], [3.0, 2.0]])
>>> tg.argmin(x, axis=0)
Tensor(shape=[2], dtype=Int64, value= [0, 1])
>>> x.argmin()
Tensor(shape=[], dtype=Int64, value= 0)
)doc";

inline constexpr char var[] =
    R"doc(The variance over axis, dividing by N - ddof (ddof=0: the population variance). axis is
None (every axis), an int or a tuple of ints; keepdims keeps the reduced axes as size 1.

>>> x = tg.tensor([1.0, 2.0, 3.0, 4.0])
>>> tg.var(x)
Tensor(shape=[], dtype=Float32, value= 1.25)
>>> x.var(ddof=1)
Tensor(shape=[], dtype=Float32, value= 1.66667)
)doc";

inline constexpr char std_[] =
    R"doc(The standard deviation over axis, dividing by N - ddof. axis is None (every axis), an int
or a tuple of ints; keepdims keeps the reduced axes as size 1.

>>> x = tg.tensor([1.0, 3.0])
>>> tg.std(x)
Tensor(shape=[], dtype=Float32, value= 1)
>>> tg.tensor([[1.0, 3.0], [2.0, 2.0]]).std(axis=1)
Tensor(shape=[2], dtype=Float32, value= [ 1.00000000e+00,  0.00000000e+00])
)doc";

inline constexpr char softmax[] =
    R"doc(exp(x) / sum(exp(x)) along axis (default -1), computed without overflow.

>>> tg.softmax(tg.tensor([0.0, 0.0]))
Tensor(shape=[2], dtype=Float32, value= [ 5.00000000e-01,  5.00000000e-01])
>>> print(tg.tensor([[1.0, 1.0], [0.0, 1000.0]]).softmax(axis=1))
[[0.5 0.5]
 [0.  1. ]]
)doc";

inline constexpr char log_softmax[] =
    R"doc(x - logsumexp(x) along axis (default -1): log(softmax(x)), computed stably.

>>> tg.log_softmax(tg.tensor([0.0, 0.0]))
Tensor(shape=[2], dtype=Float32, value= [-6.93147...e-01, -6.93147...e-01])
)doc";

inline constexpr char cumsum[] =
    R"doc(Running sums along axis (None: of the flattened tensor).

>>> tg.cumsum(tg.tensor([1, 2, 3]))
Tensor(shape=[3], dtype=Int64, value= [1, 3, 6])
>>> print(tg.tensor([[1.0, 2.0], [3.0, 4.0]]).cumsum(axis=0))
[[1. 2.]
 [4. 6.]]
)doc";

inline constexpr char cumprod[] =
    R"doc(Running products along axis (None: of the flattened tensor).

>>> tg.cumprod(tg.tensor([1.0, 2.0, 3.0]))
Tensor(shape=[3], dtype=Float32, value= [ 1.00000000e+00,  2.00000000e+00,  6.00000000e+00])
)doc";

inline constexpr char concatenate[] =
    R"doc(The tensors joined along an existing axis (default 0; None: flattened first). Their dtypes
are promoted as numpy does.

>>> tg.concatenate([tg.tensor([1, 2]), tg.tensor([3])])
Tensor(shape=[3], dtype=Int64, value= [1, 2, 3])
>>> tg.concatenate([tg.ones((1, 2)), tg.zeros((1, 2))], axis=1).shape
(1, 4)
)doc";

inline constexpr char concat[] =
    R"doc(MindSpore's name for `concatenate`: the tensors joined along an existing axis.

>>> tg.concat((tg.tensor([1, 2]), tg.tensor([3])))
Tensor(shape=[3], dtype=Int64, value= [1, 2, 3])
)doc";

inline constexpr char stack[] =
    R"doc(The tensors (all of one shape) joined along a new axis (default 0).

>>> tg.stack([tg.tensor([1, 2]), tg.tensor([3, 4])])
Tensor(shape=[2, 2], dtype=Int64, value=
[[1, 2],
 [3, 4]])
>>> tg.stack([tg.ones(3), tg.zeros(3)], axis=1).shape
(3, 2)
)doc";

inline constexpr char split[] =
    R"doc(x cut along axis into a list of tensors: into indices_or_sections equal parts (an int), or
at the given indices (a list).

>>> [t.tolist() for t in tg.split(tg.arange(6), 3)]
[[0, 1], [2, 3], [4, 5]]
>>> [t.tolist() for t in tg.split(tg.arange(6), [1, 4])]
[[0], [1, 2, 3], [4, 5]]
)doc";

inline constexpr char flip[] =
    R"doc(x with the order of elements reversed along axis (None: every axis).

>>> tg.flip(tg.tensor([1, 2, 3]))
Tensor(shape=[3], dtype=Int64, value= [3, 2, 1])
>>> print(tg.flip(tg.tensor([[1, 2], [3, 4]]), axis=1))
[[2 1]
 [4 3]]
)doc";

inline constexpr char tile[] =
    R"doc(x repeated reps times along each axis (numpy.tile).

>>> tg.tile(tg.tensor([1, 2]), 2)
Tensor(shape=[4], dtype=Int64, value= [1, 2, 1, 2])
>>> tg.tensor([[1, 2]]).tile((2, 1)).shape
(2, 2)
)doc";

inline constexpr char repeat[] =
    R"doc(Each element of x repeated along axis (None: of the flattened tensor); repeats is an int
or one count per element.

>>> tg.repeat(tg.tensor([1, 2]), 2)
Tensor(shape=[4], dtype=Int64, value= [1, 1, 2, 2])
>>> tg.tensor([1, 2]).repeat(tg.tensor([1, 2]))
Tensor(shape=[3], dtype=Int64, value= [1, 2, 2])
)doc";

inline constexpr char sort[] =
    R"doc(x sorted along axis (default -1; None: flattened), ascending unless descending=True. The
sort is stable; the gradient goes back to where each element came from.

>>> tg.sort(tg.tensor([3.0, 1.0, 2.0]))
Tensor(shape=[3], dtype=Float32, value= [ 1.00000000e+00,  2.00000000e+00,  3.00000000e+00])
>>> print(tg.sort(tg.tensor([3, 1, 2]), descending=True))
[3 2 1]
)doc";

inline constexpr char argsort[] =
    R"doc(The indices that sort x along axis (default -1; None: flattened), Int64; stable.

>>> tg.argsort(tg.tensor([3.0, 1.0, 2.0]))
Tensor(shape=[3], dtype=Int64, value= [1, 2, 0])
>>> tg.tensor([3.0, 1.0, 2.0]).argsort(descending=True)
Tensor(shape=[3], dtype=Int64, value= [0, 2, 1])
)doc";

inline constexpr char ravel[] =
    R"doc(x as a 1-d tensor: a view when contiguous, else a copy.

>>> tg.ravel(tg.tensor([[1, 2], [3, 4]]))
Tensor(shape=[4], dtype=Int64, value= [1, 2, 3, 4])
)doc";

}  // namespace docs

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
  // kind/stable are accepted for numpy compatibility: the sort is always stable (stable=True by
  // default, as the Array API writes it).
  m.def(
      "sort",
      [](py::handle x, py::handle axis, py::handle descending, py::handle, py::handle) {
        int64_t ax;
        bool flat = parse_one_axis(axis, "sort", ax);
        return ops::sort(arg_tensor(x, "sort"), ax, bool_param(descending, "sort", "descending"), flat);
      },
      py::arg("x"), py::arg("axis") = -1, py::arg("descending") = false, py::arg("kind") = py::none(),
      py::arg("stable") = true, docs::sort);
  def_both(
      m, "argsort",
      [](py::handle x, py::handle axis, py::handle descending, py::handle, py::handle) {
        int64_t ax;
        bool flat = parse_one_axis(axis, "argsort", ax);
        return ops::argsort(arg_tensor(x, "argsort"), ax, bool_param(descending, "argsort", "descending"), flat);
      },
      py::arg("axis") = -1, py::arg("descending") = false, py::arg("kind") = py::none(), py::arg("stable") = true,
      docs::argsort);
  def_both(m, "ravel", [](py::handle x) { return ops::ravel(arg_tensor(x, "ravel")); }, docs::ravel);
  (void)cls;
}

}  // namespace bind
}  // namespace tapegrad
