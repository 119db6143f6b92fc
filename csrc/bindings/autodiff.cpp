// Transform levels for the Python layer (python/tapegrad/_autodiff.py builds grad, vjp, jvp on them).
#include "autodiff/levels.h"
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
}  // namespace

void bind_autodiff(py::module_& m) {
  using autodiff::ForwardLevel;
  using autodiff::ReverseLevel;
  py::class_<ReverseLevel, std::shared_ptr<ReverseLevel>>(m, "ReverseLevel")
      .def(py::init<>())
      .def("push", [](std::shared_ptr<ReverseLevel> l) { autodiff::push_level(l); })
      .def("pop", [](ReverseLevel& l) { autodiff::pop_level(&l); })
      .def("track", &ReverseLevel::track)
      .def("num_records", &ReverseLevel::num_records)
      .def("unwrap", [](ReverseLevel& l, const Tensor& t) {
        auto* m = autodiff::meta_at(t, l.id());
        return m ? m->primal : t;
      })
      .def("backward", [](ReverseLevel& l, const std::vector<Tensor>& outs, const std::vector<std::optional<Tensor>>& cots,
                          const std::vector<Tensor>& ins) {
        TensorList c;
        for (auto& o : cots) c.push_back(o ? *o : Tensor());
        return from_list(l.backward(to_list(outs), c, to_list(ins)));
      });
  py::class_<ForwardLevel, std::shared_ptr<ForwardLevel>>(m, "ForwardLevel")
      .def(py::init<>())
      .def("push", [](std::shared_ptr<ForwardLevel> l) { autodiff::push_level(l); })
      .def("pop", [](ForwardLevel& l) { autodiff::pop_level(&l); })
      .def("track", &ForwardLevel::track)
      .def("tangent_of", &ForwardLevel::tangent_of)
      .def("unwrap", [](ForwardLevel& l, const Tensor& t) {
        auto* m = autodiff::meta_at(t, l.id());
        return m ? m->primal : t;
      });
  // Swap the value behind a Tensor object (used to track Parameters in place during a transform).
  m.def("_swap_value", [](Tensor& dst, Tensor& src) {
    Tensor tmp = dst;
    dst.rebind(src);
    src.rebind(tmp);
  });
  m.def("strip", [](const Tensor& t) { return autodiff::strip(t); });
}

}  // namespace bind
}  // namespace tapegrad
