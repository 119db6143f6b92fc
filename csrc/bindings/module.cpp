// The _core extension module: registers the binding files and maps C++ errors to Python.
#include "bindings/common.h"
#include "ops/runtime.h"

namespace tapegrad {
namespace bind {
PyTypeObject* g_tensor_type = nullptr;
}
}  // namespace tapegrad

// What the build baked in (CMakeLists.txt generates the header).
#if __has_include("tg_build_info.h")
#include "tg_build_info.h"
#endif
#ifndef TG_BUILD_VERSION
#define TG_BUILD_VERSION "0+unknown"
#endif
#ifndef TG_BUILD_COMPILER
#define TG_BUILD_COMPILER "unknown"
#endif
#ifndef TG_BUILD_FLAGS
#define TG_BUILD_FLAGS ""
#endif
#ifndef TG_BUILD_TYPE
#define TG_BUILD_TYPE ""
#endif
#ifndef TG_BUILD_CUDA
#define TG_BUILD_CUDA 0
#endif

namespace {

// tapegrad.show_config()'s build facts and this CPU's features (the SIMD paths' requirements).
pybind11::dict build_info() {
  namespace py = pybind11;
  py::dict d;
  d["version"] = TG_BUILD_VERSION;
  d["compiler"] = TG_BUILD_COMPILER;
  d["flags"] = TG_BUILD_FLAGS;
  d["build_type"] = TG_BUILD_TYPE;
  d["cuda"] = bool(TG_BUILD_CUDA);
  py::list paths;
  paths.append("sse2");
#ifndef TAPEGRAD_NO_X86_SIMD
  paths.append("avx2");
  paths.append("avx512");
#endif
  d["simd_compiled"] = paths;
  py::dict cpu;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  cpu["sse2"] = __builtin_cpu_supports("sse2") != 0;
  cpu["avx2"] = __builtin_cpu_supports("avx2") != 0;
  cpu["fma"] = __builtin_cpu_supports("fma") != 0;
  cpu["avx512f"] = __builtin_cpu_supports("avx512f") != 0;
  cpu["avx512dq"] = __builtin_cpu_supports("avx512dq") != 0;
  cpu["avx512bw"] = __builtin_cpu_supports("avx512bw") != 0;
  cpu["avx512vl"] = __builtin_cpu_supports("avx512vl") != 0;
#endif
  d["cpu_features"] = cpu;
  return d;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  namespace py = pybind11;
  using namespace tapegrad;
  m.doc() = "tapegrad's C++ core";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const IndexError& e) { PyErr_SetString(PyExc_IndexError, e.what()); } catch (const DTypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const TypeError& e) { PyErr_SetString(PyExc_TypeError, e.what()); } catch (const NotDifferentiable& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const OverflowError& e) { PyErr_SetString(PyExc_OverflowError, e.what()); } catch (const MemoryError& e) {
      PyErr_SetString(PyExc_MemoryError, e.what());
    } catch (const NotImplementedError& e) {
      PyErr_SetString(PyExc_NotImplementedError, e.what());
    } catch (const ShapeError& e) { PyErr_SetString(PyExc_ValueError, e.what()); } catch (const ValueError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const Error& e) { PyErr_SetString(PyExc_RuntimeError, e.what()); } catch (const py::cast_error& e) {
      // pybind11's own conversion failures: a TypeError in words a user can act on, never its
      // "#define PYBIND11_DETAILED_ERROR_MESSAGES" hint.
      std::string msg = e.what();
      const size_t hint = msg.find(" (#define PYBIND11_DETAILED_ERROR_MESSAGES");
      if (hint != std::string::npos) msg.erase(hint);
      const std::string pre = "Unable to cast Python instance of type ";
      if (msg.compare(0, pre.size(), pre) == 0) {
        const size_t end = msg.find(" to C++ type", pre.size());
        msg = "an argument of type " +
              msg.substr(pre.size(), end == std::string::npos ? std::string::npos : end - pre.size()) +
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
  bind::bind_tree(m);
  bind::bind_jit(m);
  bind::bind_custom(m);
  bind::bind_sparse(m);
  bind::bind_device(m);
  bind::bind_fast_methods(m);
  m.attr("__version__") = TG_BUILD_VERSION;
  m.def("_build_info", &build_info);
  m.def("simd_path", [] { return ops::simd_path(); });
  m.def("num_threads", [] { return ops::num_threads(); });
  m.def("_pool_stats", [] {  // a diagnostic (benchmarks/bench_jit_busy.py)
    int64_t v[5];
    ops::pool_stats(v);
    py::dict d;
    d["shared"] = v[0];
    d["alone"] = v[1];
    d["stalls"] = v[2];
    d["wait_ns"] = v[3];
    d["worker_chunks"] = v[4];
    return d;
  });
  m.def("set_num_threads", [](py::handle n) {
    int64_t v;
    TG_CHECK_TYPE(bind::is_index_like(n), "set_num_threads: the number of threads must be an int, got ",
                  std::string(py::repr(n)));
    bind::py_int64(n, v);  // beyond int64: clamped, then refused as too many (or too few)
    ops::set_num_threads(v);
  });
  m.def("bytes_in_use", [] { return alloc::bytes_in_use(); });
  m.def("empty_cache", [] { alloc::empty_cache(); });
  bind::install_argument_errors(m);  // last: every function above
}
