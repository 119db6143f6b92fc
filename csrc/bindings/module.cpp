// The _core extension module: registers the binding files and maps C++ errors to Python.
#include "bindings/common.h"
#include "kernels/kernels.h"

namespace tapegrad {
namespace bind {
PyTypeObject* g_tensor_type = nullptr;
}
}  // namespace tapegrad

PYBIND11_MODULE(_core, m) {
  namespace py = pybind11;
  using namespace tapegrad;
  m.doc() = "tapegrad's C++ core";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const IndexError& e) {
      PyErr_SetString(PyExc_IndexError, e.what());
    } catch (const DTypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const TypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const NotDifferentiable& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const ShapeError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const ValueError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });
  bind::bind_dtypes(m);
  bind::bind_tensor(m);
  bind::bind_functions(m);
  bind::bind_autodiff(m);
  bind::bind_reduce_shape(m);
  bind::bind_index(m);
  bind::bind_linalg(m);
  bind::bind_creation(m);
  bind::bind_jacobian(m);
  bind::bind_jit(m);
  bind::bind_custom(m);
  bind::bind_sparse(m);
  m.def("simd_path", [] { return kernels::cpu_simd_path(); });
  m.def("num_threads", [] { return kernels::num_threads(); });
  m.def("set_num_threads", [](int n) { kernels::set_num_threads(n); });
  m.def("bytes_in_use", [] { return alloc::bytes_in_use(); });
  m.def("empty_cache", [] { alloc::empty_cache(); });
}
