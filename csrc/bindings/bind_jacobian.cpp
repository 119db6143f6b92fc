// jacrev/jacfwd for the Python layer (python/tapegrad/_vmap.py arranges pytrees around it).
#include "bindings/common.h"
#include "transforms/jacobian.h"

namespace tapegrad {
namespace bind {

namespace {

// The same tree with every Tensor leaf replaced by f(leaf) (tuples, lists, dicts; others as is).
template <class F>
py::object map_tensors(py::handle tree, const F& f) {
  if (is_tensor(tree)) return py::cast(f(as_tensor(tree)));
  if (PyTuple_CheckExact(tree.ptr()) || PyList_CheckExact(tree.ptr())) {
    const bool is_list = PyList_CheckExact(tree.ptr());
    py::list items;
    for (py::handle h : tree) items.append(map_tensors(h, f));
    return is_list ? py::object(items) : py::object(py::tuple(items));
  }
  if (PyDict_CheckExact(tree.ptr())) {
    py::dict d;
    for (auto kv : py::reinterpret_borrow<py::dict>(tree)) d[kv.first] = map_tensors(kv.second, f);
    return d;
  }
  return py::reinterpret_borrow<py::object>(tree);
}

}  // namespace

void bind_jacobian(py::module_& m) {
  // _jacobian(fn, args, positions, forward, has_aux, what, flatten, holomorphic) -> (rows, out_def, aux)
  // The arguments at `positions` (distinct, in range) must be floating-point Tensors. rows[k][j] is
  // d out_k / d args[positions[j]] for the k-th output leaf; out_def is None when fn returned a
  // single Tensor, else the tree definition from flatten(output) (tapegrad._tree.flatten).
  // Complex values follow JAX: `holomorphic` needs complex inputs and outputs (the Jacobian is then
  // the complex derivative); without it, jacrev takes complex inputs but needs real outputs (rows
  // are gradients, d/dx - i d/dy) and jacfwd needs real inputs (its outputs may be complex).
  m.def("_jacobian", &jacobian_call);
}

py::tuple jacobian_call(py::handle fn, py::tuple args, py::tuple positions, bool forward, bool has_aux,
                        const char* what, py::handle flatten, bool holomorphic) {
  const size_t n = args.size();
  std::vector<size_t> pos;
  TensorList xs;
  for (py::handle p : positions) {
    const size_t k = p.cast<size_t>();
    TG_CHECK_T(IndexError, k < n, what, ": grad_position ", k, " is out of range for ", n, " argument(s)");
    py::handle a = args[k];
    TG_CHECK_T(TypeError, is_tensor(a), what, ": argument ", k, " must be a Tensor, got ", Py_TYPE(a.ptr())->tp_name);
    const Tensor& t = as_tensor(a);
    TG_CHECK_T(TypeError, is_inexact(t.dtype()), what,
               ": can only differentiate with respect to floating-point inputs, got a tensor of dtype ",
               dtype_name(t.dtype()), " and shape ", shape_str(t.shape()));
    TG_CHECK_T(TypeError, !holomorphic || is_complex(t.dtype()), what,
               " with holomorphic=True requires inputs with complex dtype, got ", dtype_name(t.dtype()));
    TG_CHECK_T(TypeError, holomorphic || !forward || !is_complex(t.dtype()), what, " requires real-valued inputs (got ",
               dtype_name(t.dtype()),
               "). For holomorphic differentiation, pass holomorphic=True. For differentiation of "
               "non-holomorphic functions involving complex inputs, use tapegrad.jvp directly.");
    pos.push_back(k);
    xs.push_back(t);
  }
  py::object aux = py::none(), out_def = py::none();
  transforms::FlatFn f = [&](const TensorList& tracked) {
    py::tuple call(n);
    for (size_t i = 0; i < n; ++i) call[i] = args[i];
    for (size_t j = 0; j < pos.size(); ++j) call[pos[j]] = py::cast(tracked[j]);
    // The argument tuple as it is (fn(*call) would build another one through a list).
    py::object out = py::reinterpret_steal<py::object>(PyObject_Call(fn.ptr(), call.ptr(), nullptr));
    if (!out) throw py::error_already_set();
    py::object primary = out;
    if (has_aux) {
      TG_CHECK_T(TypeError, PyTuple_Check(out.ptr()) && py::len(out) >= 1, what,
                 ": with has_aux=True the function must return a tuple (output, *aux)");
      py::tuple t = out.cast<py::tuple>();
      primary = t[0];
      if (t.size() == 2) {
        aux = t[1];
      } else {
        py::tuple rest(t.size() - 1);
        for (size_t i = 1; i < t.size(); ++i) rest[i - 1] = t[i];
        aux = rest;
      }
    }
    TensorList outs;
    if (is_tensor(primary)) {
      outs.push_back(as_tensor(primary));
    } else {
      py::tuple fl = flatten(primary).cast<py::tuple>();
      out_def = fl[1];
      for (py::handle h : fl[0]) {
        TG_CHECK_T(TypeError, is_tensor(h), what, ": the function must return Tensors (or tuples, lists or ",
                   "dicts of them), got ", Py_TYPE(h.ptr())->tp_name);
        outs.push_back(as_tensor(h));
      }
    }
    for (const Tensor& o : outs) {
      TG_CHECK_T(TypeError, !holomorphic || is_complex(o.dtype()), what,
                 " with holomorphic=True requires outputs with complex dtype, got ", dtype_name(o.dtype()));
      TG_CHECK_T(TypeError, holomorphic || forward || !is_complex(o.dtype()), what,
                 " requires real-valued outputs (got ", dtype_name(o.dtype()),
                 "). For holomorphic differentiation, pass holomorphic=True. For differentiation of "
                 "non-holomorphic functions involving complex outputs, use tapegrad.vjp directly.");
    }
    return outs;
  };
  std::vector<TensorList> jac = forward ? transforms::jacfwd(f, xs, nullptr) : transforms::jacrev(f, xs, nullptr);
  py::list rows;
  for (TensorList& r : jac) {
    py::tuple row(r.size());
    for (size_t j = 0; j < r.size(); ++j) row[j] = py::cast(std::move(r[j]));
    rows.append(row);
  }
  if (has_aux) aux = map_tensors(aux, [](const Tensor& t) { return transforms::drop_stale(t); });
  return py::make_tuple(rows, out_def, aux);
}

}  // namespace bind
}  // namespace tapegrad
