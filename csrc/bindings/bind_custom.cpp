// User-defined forward rules: custom_jvp (python/tapegrad/_custom_jvp.py). custom_vjp and
// Cell.bprop live in bindings/autodiff.cpp.
#include "autodiff/levels.h"
#include "bindings/common.h"

namespace tapegrad {
namespace bind {

// Note [custom_jvp]
// ~~~~~~~~~~~~~~~~~
// A custom_jvp function f comes with a rule `rule(primals, tangents) -> (primal_out, tangent_out)`,
// linear in the tangents (JAX's contract). Every transform must use the rule, not f's own ops.
// The Python side hands us a *handler* with four methods, all on flat lists of Tensors:
//   fun(xs)               f itself                      -> outs
//   jvp(xs, ts)           the rule (None tangent = 0)   -> (outs, touts)
//   vjp(xs, cots, need)   cotangents of the inputs      -> one Tensor or None per input
//   batched(bdims, size)  the handler of vmap(f) with vmap(rule) as its rule, on physical values
// `dispatch` looks at the innermost active level among the inputs (as autodiff::apply does) and:
//  - none: calls fun (the inputs are constants everywhere that matters);
//  - forward: unwraps primals and tangents one level down, calls the rule there, and wraps its
//    primal outputs with its tangent outputs. The rule's ops run on lower-level values, so outer
//    levels differentiate through them (jvp of jvp, grad of jvp), exactly as JAX does;
//  - batch: unwraps the physical values and their batch axes, asks for the batched handler and
//    dispatches again one level down (so grad(vmap(f)) and jvp(vmap(f)) still reach the rule), then
//    wraps the outputs with their batch axis at 0. f runs once on the whole batch, no loop;
//  - reverse: records the prim kCustomJvp below. Its record_forward dispatches the unwrapped inputs
//    one level down; its VJP is the reverse of the rule: since t -> rule(x, t)[1] is linear, its
//    Jacobian is J(x), the same as f's declared one, and J(x)^T g is the VJP of that linear map at
//    any t. The handler computes it by pushing a fresh reverse level, tracking t = 0 for each input,
//    running the rule once and sweeping back with g: only the tangent part of the rule is recorded
//    on that level (ops on x alone are constants there), and the sweep's own ops are recorded by the
//    outer levels, which is what makes grad(grad(f)) follow the rule's ops to any order. This is
//    JAX's linearise-then-transpose, with the transpose done by a reverse sweep over the linear part.
//  - trace (tg.jit): records the prim like a reverse level, so a replay calls the handler again.
// Only the arguments go through the rule. If f (or its rule) closes over a value that the level
// being handled tracks, its outputs come back still tracked at that level; that is reported as a
// TypeError (check_no_closure) rather than mixed into a silently wrong derivative. Closures over
// values of other levels, or constants, are fine: those levels see ordinary ops.
// The prim's impl and jvp are there for completeness (dispatch never hands the prim to a forward
// or batch level, and a reverse level always runs record_forward); both go back to the handler.
namespace {

struct Handler {
  py::object h;
};
std::shared_ptr<void> make_handler(py::object h) {
  auto* p = new Handler{std::move(h)};
  return std::shared_ptr<void>(p, [](void* q) {
    py::gil_scoped_acquire g;
    delete static_cast<Handler*>(q);
  });
}
const py::object& handler_of(const Attrs& a) { return static_cast<Handler*>(a.payload.get())->h; }

py::list to_py(const TensorList& ts) {
  py::list l;
  for (const Tensor& t : ts) l.append(t.defined() ? py::cast(t) : py::none());
  return l;
}

TensorList from_py(py::handle seq, const char* what, bool allow_none) {
  TensorList r;
  for (py::handle h : seq) {
    if (allow_none && h.is_none()) {
      r.push_back(Tensor());
      continue;
    }
    TG_CHECK_TYPE(is_tensor(h), "custom_jvp: ", what, " must be Tensors, got ", Py_TYPE(h.ptr())->tp_name);
    r.push_back(as_tensor(h));
  }
  return r;
}

TensorList dispatch(const py::object& h, TensorList in);

TensorList cj_impl(const TensorList& in, const Attrs& a) { return dispatch(handler_of(a), in); }
TensorList cj_record_forward(const TensorList& in, Attrs& a) { return dispatch(handler_of(a), in); }

// J(x)^T g, from the rule (see the Note).
TensorList cj_vjp(const TensorList& gs, const TensorList& in, const TensorList&, const Attrs& a, uint32_t need) {
  py::gil_scoped_acquire g;
  py::list want;
  // `need` has a bit for each of the first 32 inputs; later inputs are always computed.
  for (size_t i = 0; i < in.size(); ++i) want.append(py::bool_(i >= 32 || ((need >> i) & 1u)));
  py::object r = handler_of(a).attr("vjp")(to_py(in), to_py(gs), want);
  TensorList res = from_py(r, "the input cotangents", true);
  TG_CHECK(res.size() == in.size(), "custom_jvp: expected ", in.size(), " input cotangent(s), got ", res.size());
  return res;
}

// Only reached when a forward level meets the prim itself (dispatch normally handles forward levels).
TensorList cj_jvp(const TensorList& ts, const TensorList& in, const TensorList&, const Attrs& a) {
  py::gil_scoped_acquire g;
  py::tuple r = handler_of(a).attr("jvp")(to_py(in), to_py(ts));
  return from_py(r[1], "tangent outputs", true);
}

// No batching rule: dispatch() handles a batch level before the prim is recorded (Note [custom_jvp]).
constexpr Prim kCustomJvp =
    PrimDef("custom_jvp").impl(cj_impl).vjp(cj_vjp).jvp(cj_jvp).record_forward(cj_record_forward);

// The function or rule ran one level below `level_id`; an output that is still tracked at that level
// came from a value the function closes over (not one of its arguments) that this transform tracks.
// Its derivative cannot go through the rule, and mixing it in would be silently wrong.
void check_no_closure(const Tensor& o, uint64_t level_id) {
  TG_CHECK_TYPE(!o.defined() || !autodiff::meta_at(o, level_id),
                "custom_jvp: the function uses a value that the enclosing transform differentiates or maps without "
                "taking it as an argument (a closure or global); pass it to the custom_jvp function as an argument");
}

TensorList dispatch(const py::object& h, TensorList in) {
  py::gil_scoped_acquire g;
  int top = -1;
  const autodiff::LevelMeta* top_meta = nullptr;
  for (Tensor& x : in) {
    while (x.defined() && x.tracked()) {
      auto* m = static_cast<autodiff::LevelMeta*>(x.ad());
      const int d = autodiff::depth_of(m->level_id);
      if (d < 0) {  // a wrapper of a finished transform: see through it
        TG_CHECK(m->bdim < 0,
                 "custom_jvp: a value batched by vmap was used outside its vmap (it escaped through a "
                 "closure or global); return it from the mapped function instead");
        Tensor inner = m->primal;
        x = std::move(inner);
        continue;
      }
      if (d > top) {
        top = d;
        top_meta = m;
      }
      break;
    }
  }
  if (top < 0) return from_py(h.attr("fun")(to_py(in)), "the function's outputs", false);
  const uint64_t id = top_meta->level_id;
  const autodiff::LevelKind kind = autodiff::level_at(top)->kind();

  if (kind == autodiff::LevelKind::Batch) {
    TensorList phys;
    py::list bdims;
    int64_t size = top_meta->primal.shape()[size_t(top_meta->bdim)];
    for (const Tensor& x : in) {
      autodiff::LevelMeta* m = x.defined() ? autodiff::meta_at(x, id) : nullptr;
      phys.push_back(m ? m->primal : x);
      bdims.append(m ? m->bdim : -1);
    }
    TensorList out = dispatch(h.attr("batched")(bdims, size), phys);
    TensorList wrapped;
    for (const Tensor& o : out) {
      check_no_closure(o, id);
      TG_CHECK(o.ndim() >= 1 && o.shape()[0] == size, "custom_jvp: the batched function returned shape ",
               shape_str(o.shape()), " for a batch of ", size);
      wrapped.push_back(autodiff::wrap_batched(o, id, 0));
    }
    return wrapped;
  }

  if (kind == autodiff::LevelKind::Reverse || kind == autodiff::LevelKind::Trace) {  // record the prim
    Attrs a;
    a.payload = make_handler(h);
    TensorList out = autodiff::apply(kCustomJvp, std::move(in), a);
    for (const Tensor& o : out) {
      autodiff::LevelMeta* m = autodiff::meta_at(o, id);
      if (m) check_no_closure(m->primal, id);
    }
    return out;
  }

  // forward level: the rule, one level down
  TensorList prim;
  py::list xs, ts;
  for (const Tensor& x : in) {
    autodiff::LevelMeta* m = x.defined() ? autodiff::meta_at(x, id) : nullptr;
    xs.append(py::cast(m ? m->primal : x));
    ts.append(m && m->tangent.defined() ? py::cast(m->tangent) : py::none());
  }
  py::tuple r = h.attr("jvp")(xs, ts);
  TensorList outs = from_py(r[0], "primal outputs of the rule", false);
  TensorList touts = from_py(r[1], "tangent outputs of the rule", true);
  TG_CHECK(outs.size() == touts.size(), "custom_jvp: the rule returned ", outs.size(), " primal output(s) and ",
           touts.size(), " tangent output(s)");
  TensorList wrapped;
  for (size_t j = 0; j < outs.size(); ++j) {
    const Tensor& o = outs[j];
    check_no_closure(o, id);
    if (!is_inexact(o.dtype())) {  // float and complex outputs carry tangents
      wrapped.push_back(o);
      continue;
    }
    Tensor t = touts[j];
    if (t.defined()) {
      TG_CHECK(t.shape() == o.shape(), "custom_jvp: the rule returned a tangent of shape ", shape_str(t.shape()),
               " for a primal output of shape ", shape_str(o.shape()));
      if (t.dtype() != o.dtype()) t = ops::cast(t, o.dtype());
    }
    wrapped.push_back(autodiff::wrap(o, id, -1, t));
  }
  return wrapped;
}

}  // namespace

void bind_custom(py::module_& m) {
  // _custom_jvp_apply(handler, inputs) -> outputs: see Note [custom_jvp].
  m.def("_custom_jvp_apply", [](py::object handler, const std::vector<Tensor>& inputs) {
    TensorList in;
    for (const Tensor& t : inputs) in.push_back(t);
    TensorList out = dispatch(handler, in);
    return std::vector<Tensor>(out.begin(), out.end());
  });
}

const Prim* custom_jvp_prim() { return &kCustomJvp; }

}  // namespace bind
}  // namespace tapegrad
