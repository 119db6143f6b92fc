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
    } catch (const OverflowError& e) {
      PyErr_SetString(PyExc_OverflowError, e.what());
    } catch (const MemoryError& e) {
      PyErr_SetString(PyExc_MemoryError, e.what());
    } catch (const ShapeError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const ValueError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    } catch (const py::cast_error& e) {
      // pybind11's own conversion failures: a TypeError in words a user can act on, never its
      // "#define PYBIND11_DETAILED_ERROR_MESSAGES" hint.
      std::string msg = e.what();
      const size_t hint = msg.find(" (#define PYBIND11_DETAILED_ERROR_MESSAGES");
      if (hint != std::string::npos) msg.erase(hint);
      const std::string pre = "Unable to cast Python instance of type ";
      if (msg.compare(0, pre.size(), pre) == 0) {
        const size_t end = msg.find(" to C++ type", pre.size());
        msg = "an argument of type " + msg.substr(pre.size(), end == std::string::npos ? std::string::npos : end - pre.size()) +
              " is not supported here (expected a Tensor, a number, or a sequence of numbers)";
      }
      PyErr_SetString(PyExc_TypeError, msg.c_str());
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
  m.def("simd_path", [] { return kernels::cpu_simd_path(); });
  m.def("num_threads", [] { return kernels::num_threads(); });
  m.def("set_num_threads", [](py::handle n) {
    int64_t v;
    TG_CHECK_TYPE(bind::is_index_like(n), "set_num_threads: the number of threads must be an int, got ",
                  std::string(py::repr(n)));
    bind::py_int64(n, v);  // beyond int64: clamped, then refused as too many (or too few)
    kernels::set_num_threads(v);
  });
  m.def("bytes_in_use", [] { return alloc::bytes_in_use(); });
  m.def("empty_cache", [] { alloc::empty_cache(); });
}
