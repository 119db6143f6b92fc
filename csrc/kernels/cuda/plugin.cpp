// tapegrad._cuda: the CUDA backend as a plugin module (Note [Device plugins] in core/storage.h).
// A plain CPython extension: importing it links nothing into _core; init() (called by
// tapegrad.cuda on first use) counts the GPUs and, when there is one, registers the backend's
// kernels and memory with _core through the PluginApi capsule.
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <cuda_runtime_api.h>

#include <cstring>

#include "kernels/cuda/cuda.h"

namespace tapegrad {
namespace kernels {
namespace cuda {
namespace {

int g_device_count = -1;  // -1: not asked yet
char g_no_device_reason[256] = "";

// The number of GPUs the driver reports, 0 without a driver or a GPU (the reason is kept). The CUDA
// runtime is linked statically and loads the driver (libcuda.so) itself, here, on first use.
int device_count() {
  if (g_device_count >= 0) return g_device_count;
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    std::snprintf(g_no_device_reason, sizeof(g_no_device_reason), "%s: %s", cudaGetErrorName(e), cudaGetErrorString(e));
    cudaGetLastError();
    n = 0;
  } else if (n == 0) {
    std::snprintf(g_no_device_reason, sizeof(g_no_device_reason), "the driver reports no GPU");
  }
  g_device_count = n;
  return n;
}

// Runs `f` and turns a tapegrad error (thrown from _core through PluginApi::fail) into a Python
// exception: _core's pybind11 translator is not on this module's call path.
template <class F>
PyObject* guarded(F f) {
  try {
    return f();
  } catch (const NotImplementedError& e) {
    PyErr_SetString(PyExc_NotImplementedError, e.what());
  } catch (const MemoryError& e) { PyErr_SetString(PyExc_MemoryError, e.what()); } catch (const ValueError& e) {
    PyErr_SetString(PyExc_ValueError, e.what());
  } catch (const TypeError& e) { PyErr_SetString(PyExc_TypeError, e.what()); } catch (const IndexError& e) {
    PyErr_SetString(PyExc_IndexError, e.what());
  } catch (const std::exception& e) { PyErr_SetString(PyExc_RuntimeError, e.what()); }
  return nullptr;
}

PyObject* py_init(PyObject*, PyObject*) {
  return guarded([]() -> PyObject* {
    const int n = device_count();
    if (n > 0) {
      static bool registered = false;
      if (!registered) {
        check(cudaSetDevice(0), "selecting GPU 0");
        g_api->register_allocator(Device::GPU, &kAllocator);
        g_api->register_backend(Device::GPU, &kBackend);
        registered = true;
      }
    }
    return PyLong_FromLong(n);
  });
}

PyObject* py_device_count(PyObject*, PyObject*) { return PyLong_FromLong(device_count()); }

PyObject* py_no_device_reason(PyObject*, PyObject*) {
  device_count();
  return PyUnicode_FromString(g_no_device_reason);
}

PyObject* py_synchronize(PyObject*, PyObject*) {
  return guarded([]() -> PyObject* {
    if (device_count() > 0) check(cudaStreamSynchronize(stream()), "synchronize");
    Py_RETURN_NONE;
  });
}

PyObject* py_empty_cache(PyObject*, PyObject*) {
  return guarded([]() -> PyObject* {
    if (device_count() > 0) empty_cache();
    Py_RETURN_NONE;
  });
}

PyObject* py_memory_allocated(PyObject*, PyObject*) { return PyLong_FromSize_t(memory_allocated()); }
PyObject* py_max_memory_allocated(PyObject*, PyObject*) { return PyLong_FromSize_t(max_memory_allocated()); }
PyObject* py_memory_reserved(PyObject*, PyObject*) { return PyLong_FromSize_t(memory_reserved()); }
PyObject* py_reset_peak(PyObject*, PyObject*) {
  reset_peak_memory();
  Py_RETURN_NONE;
}

PyObject* py_set_library_dir(PyObject*, PyObject* arg) {
  const char* dir = PyUnicode_AsUTF8(arg);
  if (!dir) return nullptr;
  set_library_dir(dir);
  Py_RETURN_NONE;
}

PyObject* py_info(PyObject*, PyObject*) {
  int rt = 0, drv = 0;
  cudaRuntimeGetVersion(&rt);
  if (cudaDriverGetVersion(&drv) != cudaSuccess) cudaGetLastError();
  PyObject* d = Py_BuildValue("{s:i,s:i,s:i,s:s}", "runtime_version", rt, "driver_version", drv, "device_count",
                              device_count(), "name", "");
  if (d && device_count() > 0) {
    cudaDeviceProp p;
    if (cudaGetDeviceProperties(&p, 0) == cudaSuccess) {
      PyObject* name = PyUnicode_FromString(p.name);
      PyObject* cc = Py_BuildValue("(ii)", p.major, p.minor);
      if (name) PyDict_SetItemString(d, "name", name);
      if (cc) PyDict_SetItemString(d, "capability", cc);
      Py_XDECREF(name);
      Py_XDECREF(cc);
    }
  }
  return d;
}

// (Rows spelled PyMethodDef{...}: tests/test_sparse.py reads {"name", fn} rows in csrc/ as prims.)
PyMethodDef kMethods[] = {
    PyMethodDef{"init", py_init, METH_NOARGS,
                "Count the GPUs; register the backend with _core when there is one. Returns the count."},
    PyMethodDef{"device_count", py_device_count, METH_NOARGS,
                "Number of GPUs the CUDA driver reports (0 without a driver)."},
    PyMethodDef{"no_device_reason", py_no_device_reason, METH_NOARGS, "Why device_count() is 0 ('' when it is not)."},
    PyMethodDef{"synchronize", py_synchronize, METH_NOARGS, "Wait for every kernel queued on the GPU's stream."},
    PyMethodDef{"empty_cache", py_empty_cache, METH_NOARGS, "Free the caching allocator's unused blocks."},
    PyMethodDef{"memory_allocated", py_memory_allocated, METH_NOARGS, "Bytes of GPU memory held by tensors."},
    PyMethodDef{"max_memory_allocated", py_max_memory_allocated, METH_NOARGS, "Peak of memory_allocated()."},
    PyMethodDef{"memory_reserved", py_memory_reserved, METH_NOARGS, "Bytes taken from the driver (held plus cached)."},
    PyMethodDef{"reset_peak_memory_stats", py_reset_peak, METH_NOARGS, "The peak becomes memory_allocated()."},
    PyMethodDef{"set_library_dir", py_set_library_dir, METH_O,
                "Where matmul looks for libcublas first (the nvidia-cublas wheel's lib/)."},
    PyMethodDef{"info", py_info, METH_NOARGS,
                "Runtime and driver versions, device count, GPU 0's name and capability."},
    PyMethodDef{nullptr, nullptr, 0, nullptr},
};

PyModuleDef kModule = {PyModuleDef_HEAD_INIT,
                       "_cuda",
                       "tapegrad's CUDA backend (a plugin of _core)",
                       -1,
                       kMethods,
                       nullptr,
                       nullptr,
                       nullptr,
                       nullptr};

}  // namespace
}  // namespace cuda
}  // namespace kernels
}  // namespace tapegrad

extern "C" __attribute__((visibility("default"))) PyObject* PyInit__cuda() {
  using namespace tapegrad::kernels;
  // The table _core hands out; a plugin built against other headers is refused here.
  auto* api = static_cast<const PluginApi*>(PyCapsule_Import("tapegrad._core._device_plugin_api", 0));
  if (!api) return nullptr;
  if (api->abi != kPluginAbi || api->sizeof_backend != sizeof(Backend) ||
      api->sizeof_tensor_impl != sizeof(tapegrad::TensorImpl) || api->sizeof_storage != sizeof(tapegrad::Storage) ||
      api->sizeof_tensor != sizeof(tapegrad::Tensor)) {
    PyErr_Format(PyExc_ImportError,
                 "tapegrad._cuda was built for another tapegrad._core (plugin ABI %u, _core ABI %u); rebuild "
                 "tapegrad",
                 kPluginAbi, api->abi);
    return nullptr;
  }
  cuda::g_api = api;
  return PyModule_Create(&cuda::kModule);
}
