// Transform levels for the Python layer (python/tapegrad/_autodiff.py builds grad, vjp, jvp on them).
#include "autodiff/levels.h"
#include "bindings/buffer.h"
#include "bindings/common.h"

namespace tapegrad {
namespace bind {

namespace {
TensorList to_list(const std::vector<Tensor>& v) {
  TensorList r;
  for (const Tensor& t : v) r.push_back(t);
  return r;
}
std::vector<Tensor> from_list(const TensorList& v) { return std::vector<Tensor>(v.begin(), v.end()); }

// ---- user-defined reverse rules (custom_vjp, Cell.bprop) -----------------------------------
// fwd(*inputs) -> (list of outputs, residuals); bwd(residuals, list of output cotangents) -> list
// of input cotangents (None = no gradient). Residuals are stored per record in the attrs payload.
struct CustomPayload {
  py::object fwd, bwd, residuals;
};
std::shared_ptr<void> make_payload(py::object fwd, py::object bwd, py::object res) {
  auto* p = new CustomPayload{std::move(fwd), std::move(bwd), std::move(res)};
  return std::shared_ptr<void>(p, [](void* q) {
    py::gil_scoped_acquire g;
    delete static_cast<CustomPayload*>(q);
  });
}

TensorList run_fwd(const TensorList& in, const CustomPayload& P, py::object* res) {
  py::gil_scoped_acquire g;
  py::tuple args(in.size());
  for (size_t i = 0; i < in.size(); ++i) args[i] = py::cast(in[i]);
  py::object r = P.fwd(*args);
  py::tuple rt = r.cast<py::tuple>();
  TensorList out;
  for (py::handle h : rt[0]) out.push_back(h.cast<Tensor>());
  if (res) *res = rt[1];
  return out;
}

TensorList custom_impl(const TensorList& in, const Attrs& a) {
  return run_fwd(in, *static_cast<CustomPayload*>(a.payload.get()), nullptr);
}
TensorList custom_record_forward(const TensorList& in, Attrs& a) {
  auto* P = static_cast<CustomPayload*>(a.payload.get());
  py::object res;
  TensorList out = run_fwd(in, *P, &res);
  py::gil_scoped_acquire g;
  a.payload = make_payload(P->fwd, P->bwd, res);
  return out;
}
TensorList custom_vjp(const TensorList& gs, const TensorList& in, const TensorList& out, const Attrs& a, uint32_t) {
  auto* P = static_cast<CustomPayload*>(a.payload.get());
  py::gil_scoped_acquire g;
  py::list gl;
  for (size_t j = 0; j < gs.size(); ++j) gl.append(gs[j].defined() ? gs[j] : ops::zeros_like(out[j]));
  py::object r = P->bwd(P->residuals, gl);
  TensorList res;
  size_t i = 0;
  for (py::handle h : r) {
    if (h.is_none()) {
      res.push_back(Tensor());
    } else {
      Tensor t = arg_tensor(h, "custom_vjp");
      TG_CHECK(i < in.size() && t.shape() == in[i].shape(),
               "custom_vjp: the backward rule returned a cotangent of shape ", shape_str(t.shape()), " for input ", i,
               " of shape ", i < in.size() ? shape_str(in[i].shape()) : "?");
      res.push_back(t);
    }
    ++i;
  }
  TG_CHECK(res.size() == in.size(), "custom_vjp: the backward rule must return one cotangent per input (", in.size(),
           "), got ", res.size());
  return res;
}
// No batching rule: the forward is Python code, so vmap runs it once per batch element (the one
// prim that keeps the batch level's loop fallback).
constexpr Prim kCustomVjp =
    PrimDef("custom_vjp")
        .impl(custom_impl)
        .vjp(custom_vjp)
        .record_forward(custom_record_forward)
        .no_jvp("a custom_vjp function has no forward-mode rule (use custom_jvp for jvp/jacfwd)");
}  // namespace

// The release function of memory borrowed from a Python object (convert.cpp keeps it private:
// read off a probe borrow when the module is bound).
static void (*g_py_release)(void*) = nullptr;

// Memory a numpy array lends can change behind tapegrad's back when someone other than the tensor
// holds the array, or the array is a view of another. A temporary array made from a Python list is
// held by the tensor alone. Reads plain fields only (the caller may not hold the GIL).
static bool borrowed_may_change(const Storage& s) {
  if (!g_py_release || s.ext_release != g_py_release) return true;
  auto* o = static_cast<PyObject*>(s.ext_ctx);
  if (Py_REFCNT(o) > 1) return true;
  return !shim::is_numpy_array(o) || shim::numpy_array_has_base(o);
}

// The level behind a ReverseLevel/ForwardLevel/BatchLevel Python object; a TypeError for one made
// by __new__ without __init__ (or of another type).
template <class L>
std::shared_ptr<L> level_of(py::handle self, const char* cls, const char* method) {
  TG_CHECK_TYPE(py::isinstance<L>(self), cls, ".", method, ": expected a ", cls, ", got ",
                std::string(py::str(py::type::of(self).attr("__name__"))));
  std::shared_ptr<L> h = shim::holder_of<std::shared_ptr<L>, L>(self);
  TG_CHECK_TYPE(h != nullptr, cls, ".", method, ": this ", cls,
                " was made by __new__ without __init__ (uninitialised)");
  return h;
}

void bind_autodiff(py::module_& m) {
  {
    static char byte = 0;
    Ref<Storage> probe = borrow_from_python(&byte, 1, py::none(), true);
    g_py_release = probe->ext_release;
    autodiff::g_borrowed_may_change = borrowed_may_change;
  }
  using autodiff::BatchLevel;
  using autodiff::ForwardLevel;
  using autodiff::ReverseLevel;
  // Every method takes the Python object and goes through level_of, which refuses a level made by
  // __new__ without __init__ (its holder was never constructed: a cast would read garbage memory).
  py::class_<ReverseLevel, std::shared_ptr<ReverseLevel>>(m, "ReverseLevel")
      .def(py::init<>())
      .def("push", [](py::handle self) { autodiff::push_level(level_of<ReverseLevel>(self, "ReverseLevel", "push")); })
      .def("pop",
           [](py::handle self) { autodiff::pop_level(level_of<ReverseLevel>(self, "ReverseLevel", "pop").get()); })
      .def("track", [](py::handle self,
                       const Tensor& t) { return level_of<ReverseLevel>(self, "ReverseLevel", "track")->track(t); })
      .def("num_records",
           [](py::handle self) { return level_of<ReverseLevel>(self, "ReverseLevel", "num_records")->num_records(); })
      .def("unwrap",
           [](py::handle self, const Tensor& t) {
             auto l = level_of<ReverseLevel>(self, "ReverseLevel", "unwrap");
             auto* m = autodiff::meta_at(t, l->id());
             return m ? m->primal : t;
           })
      .def("backward", [](py::handle self, const std::vector<Tensor>& outs,
                          const std::vector<std::optional<Tensor>>& cots, const std::vector<Tensor>& ins) {
        auto l = level_of<ReverseLevel>(self, "ReverseLevel", "backward");
        TensorList c;
        for (auto& o : cots) c.push_back(o ? *o : Tensor());
        return from_list(l->backward(to_list(outs), c, to_list(ins)));
      });
  py::class_<ForwardLevel, std::shared_ptr<ForwardLevel>>(m, "ForwardLevel")
      .def(py::init<>())
      .def("push", [](py::handle self) { autodiff::push_level(level_of<ForwardLevel>(self, "ForwardLevel", "push")); })
      .def("pop",
           [](py::handle self) { autodiff::pop_level(level_of<ForwardLevel>(self, "ForwardLevel", "pop").get()); })
      .def("track",
           [](py::handle self, const Tensor& t, const Tensor& tangent) {
             return level_of<ForwardLevel>(self, "ForwardLevel", "track")->track(t, tangent);
           })
      .def("tangent_of",
           [](py::handle self, const Tensor& t) {
             return level_of<ForwardLevel>(self, "ForwardLevel", "tangent_of")->tangent_of(t);
           })
      .def("unwrap", [](py::handle self, const Tensor& t) {
        auto l = level_of<ForwardLevel>(self, "ForwardLevel", "unwrap");
        auto* m = autodiff::meta_at(t, l->id());
        return m ? m->primal : t;
      });
  py::class_<BatchLevel, std::shared_ptr<BatchLevel>>(m, "BatchLevel")
      .def(py::init<int64_t>())
      .def("push", [](py::handle self) { autodiff::push_level(level_of<BatchLevel>(self, "BatchLevel", "push")); })
      .def("pop", [](py::handle self) { autodiff::pop_level(level_of<BatchLevel>(self, "BatchLevel", "pop").get()); })
      .def_property_readonly("size",
                             [](py::handle self) { return level_of<BatchLevel>(self, "BatchLevel", "size")->size(); })
      .def("track", [](py::handle self, const Tensor& t,
                       int64_t axis) { return level_of<BatchLevel>(self, "BatchLevel", "track")->track(t, axis); })
      .def("unwrap",
           [](py::handle self, const Tensor& t, int64_t out_axis) {
             return level_of<BatchLevel>(self, "BatchLevel", "unwrap")->unwrap(t, out_axis);
           })
      .def("wraps", [](py::handle self, const Tensor& t) {
        return autodiff::meta_at(t, level_of<BatchLevel>(self, "BatchLevel", "wraps")->id()) != nullptr;
      });
  // Swap the value behind a Tensor object (used to track Parameters in place during a transform).
  m.def("_swap_value", [](Tensor& dst, Tensor& src) {
    Tensor tmp = dst;
    dst.rebind(src);
    src.rebind(tmp);
  });
  // Whether two Tensor objects name the same value (vmap: was a closed-over tensor rebound?).
  m.def("_same_value", [](const Tensor& a, const Tensor& b) { return a.impl() == b.impl(); });
  m.def("_levels_active", [] { return autodiff::any_level_active(); });
  m.def("_rng_state", [] { return ops::rng_state(); });
  m.def("_set_rng_state", [](uint64_t seed, uint64_t block) { ops::set_rng_state(seed, block); });
  m.def("strip", [](const Tensor& t) { return autodiff::strip(t); });
  m.def("_vmap_fallback_count", &autodiff::vmap_fallback_count);
  m.def("_any_tracked", [](const std::vector<Tensor>& ts) {
    for (const Tensor& t : ts)
      if (autodiff::tracked_at_active_level(t)) return true;
    return false;
  });
  // The common case of grad/value_and_grad/GradOperation in one C++ call: positional arguments
  // at `positions` are float Tensors, the output is a Tensor or a flat tuple/list of Tensors.
  // Returns None when the case is not covered (before running fn), and the Python path takes over.
  // Result: (value, grads tuple) where value is the output with this level removed.
  m.def("_grad_fast", [](py::handle fn, py::tuple args, py::tuple positions) -> py::object {
    const size_t n = args.size();
    std::vector<char> is_pos(n, 0);
    for (py::handle p : positions) {
      if (!PyLong_Check(p.ptr())) return py::none();
      long k = PyLong_AsLong(p.ptr());
      if (k < 0) k += long(n);
      if (k < 0 || size_t(k) >= n) return py::none();
      is_pos[size_t(k)] = 1;
    }
    // A numpy array at a position is converted here as tg.tensor converts it (zero copy where the
    // layout allows); elsewhere it is passed on as it is, as the general path does.
    TensorList arrays;
    for (size_t i = 0; i < n; ++i) {
      py::handle a = args[i];
      if (is_pos[i]) {
        if (is_tensor(a)) {
          if (!is_float(as_tensor(a).dtype())) return py::none();
        } else if (py::isinstance<py::array>(a)) {
          if (arrays.empty()) arrays.resize(n);
          arrays[i] = tensor_from_py(a, py::none(), true);
          if (!is_float(arrays[i].dtype())) return py::none();
        } else {
          return py::none();
        }
      } else if (!is_tensor(a) && !PyFloat_Check(a.ptr()) && !PyLong_Check(a.ptr()) && !py::isinstance<py::array>(a)) {
        return py::none();
      }
    }
    auto level = std::make_shared<autodiff::ReverseLevel>();
    TensorList tracked;
    tracked.resize(n);
    py::tuple new_args(n);
    for (size_t i = 0; i < n; ++i) {
      if (is_pos[i]) {
        tracked[i] = level->track(!arrays.empty() && arrays[i].defined() ? arrays[i] : as_tensor(args[i]));
        new_args[i] = py::cast(tracked[i]);
      } else {
        new_args[i] = args[i];
      }
    }
    // Order of positions as given (duplicates allowed, as in a tuple of positions).
    TensorList wanted;
    for (py::handle p : positions) {
      long k = PyLong_AsLong(p.ptr());
      if (k < 0) k += long(n);
      wanted.push_back(tracked[size_t(k)]);
    }
    py::object out;
    {
      autodiff::ScopedLevel scope(level);
      // The argument tuple as it is (fn(*new_args) would build another one through a list).
      out = py::reinterpret_steal<py::object>(PyObject_Call(fn.ptr(), new_args.ptr(), nullptr));
      if (!out) throw py::error_already_set();
      scope.pop();
    }
    TensorList outs;
    bool is_seq = false;
    if (is_tensor(out)) {
      outs.push_back(as_tensor(out));
    } else if (py::isinstance<py::tuple>(out) || py::isinstance<py::list>(out)) {
      is_seq = true;
      for (py::handle h : out) {
        if (!is_tensor(h)) return py::make_tuple(py::ellipsis(), out, py::cast(level), py::cast(from_list(wanted)));
        outs.push_back(as_tensor(h));
      }
    } else {
      return py::make_tuple(py::ellipsis(), out, py::cast(level), py::cast(from_list(wanted)));
    }
    TensorList grads = level->backward(outs, TensorList(), wanted);
    py::tuple g(grads.size());
    for (size_t i = 0; i < grads.size(); ++i) g[i] = py::cast(std::move(grads[i]));
    py::object value;
    auto unwrap = [&](const Tensor& t) {
      auto* m = autodiff::meta_at(t, level->id());
      return m ? m->primal : t;
    };
    if (!is_seq) {
      value = py::cast(unwrap(outs[0]));
    } else {
      py::tuple v(outs.size());
      for (size_t i = 0; i < outs.size(); ++i) v[i] = py::cast(unwrap(outs[i]));
      value = py::isinstance<py::list>(out) ? py::object(py::list(v)) : py::object(v);
    }
    return py::make_tuple(value, g);
  });
  m.def("_custom_vjp_apply", [](py::object fwd, py::object bwd, const std::vector<Tensor>& inputs) {
    Attrs a;
    a.payload = make_payload(std::move(fwd), std::move(bwd), py::none());
    return from_list(autodiff::apply(kCustomVjp, to_list(inputs), a));
  });
}

const Prim* custom_vjp_prim() { return &kCustomVjp; }

}  // namespace bind
}  // namespace tapegrad
