// Devices: moving tensors, the device plugin's capsule (Note [Device plugins] in core/storage.h),
// and a test hook for the caching allocator the GPU's memory goes through.
#include <cstdint>
#include <map>
#include <string>

#include "bindings/common.h"
#include "core/caching_allocator.h"
#include "ops/device.h"

namespace tapegrad {
namespace bind {

namespace {

Device parse_device(const std::string& name) {
  if (name == "CPU" || name == "cpu") return Device::CPU;
  if (name == "GPU" || name == "gpu" || name == "CUDA" || name == "cuda") return Device::GPU;
  throw ValueError(str_cat("unknown device '", name, "' (expected 'CPU' or 'GPU')"));
}

// Note [Caching allocator] test hook: a raw allocator that hands out fake addresses (never
// dereferenced) up to a byte limit, and counts what it is asked for.
struct FakeRaw {
  struct State {
    size_t limit = 0, used = 0, bad_frees = 0;
    uintptr_t next = 4096;
    std::map<uintptr_t, size_t> live;
  };
  State* s;
  void* alloc(size_t n) {
    if (s->used + n > s->limit) return nullptr;
    s->used += n;
    const uintptr_t p = s->next;
    s->next += n;
    s->live[p] = n;
    return reinterpret_cast<void*>(p);
  }
  void free(void* p, size_t n) {
    auto it = s->live.find(reinterpret_cast<uintptr_t>(p));
    if (it == s->live.end() || it->second != n) {  // counted, not thrown: this runs in a destructor
      ++s->bad_frees;
      return;
    }
    s->used -= n;
    s->live.erase(it);
  }
};

struct AllocatorTest {
  explicit AllocatorTest(size_t limit) : state(), alloc(FakeRaw{&state}) { state.limit = limit; }
  FakeRaw::State state;
  CachingAllocator<FakeRaw> alloc;
};

}  // namespace

void bind_device(py::module_& m) {
  m.def("_to_device", [](const Tensor& t, const std::string& dev) { return ops::to_device(t, parse_device(dev)); });
  m.attr("_device_plugin_api") =
      py::capsule(const_cast<void*>(ops::device_plugin_api()), "tapegrad._core._device_plugin_api");

  py::class_<AllocatorTest>(m, "_CachingAllocatorTest")
      .def(py::init<size_t>(), py::arg("limit"))
      .def("allocate", [](AllocatorTest& a, size_t n) { return reinterpret_cast<uintptr_t>(a.alloc.allocate(n)); })
      .def("free", [](AllocatorTest& a, uintptr_t p, size_t n) { a.alloc.deallocate(reinterpret_cast<void*>(p), n); })
      .def("empty_cache", [](AllocatorTest& a) { a.alloc.empty_cache(); })
      .def("reset_peak", [](AllocatorTest& a) { a.alloc.reset_peak(); })
      .def("raw_in_use", [](const AllocatorTest& a) { return a.state.used; })
      .def("bad_frees", [](const AllocatorTest& a) { return a.state.bad_frees; })
      .def("stats",
           [](const AllocatorTest& a) {
             const auto s = a.alloc.stats();
             py::dict d;
             d["allocated"] = s.allocated;
             d["peak"] = s.peak;
             d["cached"] = s.cached;
             d["reserved"] = s.reserved;
             d["raw_allocs"] = s.raw_allocs;
             d["raw_frees"] = s.raw_frees;
             d["reuses"] = s.reuses;
             return d;
           })
      .def_static("round_size", [](size_t n) { return CachingAllocator<FakeRaw>::round_size(n); });
}

}  // namespace bind
}  // namespace tapegrad
