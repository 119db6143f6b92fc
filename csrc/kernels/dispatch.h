// Device routing of every kernel family (Note [Kernel dispatch]).
#pragma once
#include <cstdint>
#include <vector>

#include "core/storage.h"
#include "kernels/creation.h"
#include "kernels/fused.h"
#include "kernels/kernels.h"
#include "kernels/kernels_extra.h"

namespace tapegrad {
namespace kernels {

// Note [Kernel dispatch]
// ~~~~~~~~~~~~~~~~~~~~~~
// The kernels/ headers (kernels.h, kernels_extra.h, kernels_index.h, creation.h, linalg.h,
// fused.h) are the one interface of the kernels: ops/ and autodiff/ include those and nothing under
// kernels/<backend>/ (tools/check_layers.py refuses it). Every entry point is defined once, in
// kernels/dispatch.cpp: it looks up the Backend of the device of the tensor it writes (a table of
// function pointers per device, below) and calls that backend's kernel. A backend is a folder
// beside kernels/cpu/ whose files fill one Backend (kernels/cpu/backend.cpp); adding one (cuda/)
// means writing its kernels, its table, and one entry of kBackends in dispatch.cpp; ops do not
// change. A device without a backend in this build gets a clear error at the dispatch point.
// Cost: one table load and one indirect call per kernel call, next to the work of a kernel.
// Not routed: what belongs to one backend (the CPU thread pool, SIMD path and BLAS thread settings,
// reached by the ops layer's ops/runtime.h) or to no device (Philox::block, random_blocks).
struct Backend {
  const char* name;
  // kernels.h
  void (*binary)(Bin op, const Tensor& out, const Tensor& a, const Tensor& b);
  void (*compare)(Cmp op, const Tensor& out, const Tensor& a, const Tensor& b);
  void (*unary)(Un op, const Tensor& out, const Tensor& a);
  void (*predicate)(Pred op, const Tensor& out, const Tensor& a);
  void (*clip)(const Tensor& out, const Tensor& x, const Tensor& lo, const Tensor& hi);
  void (*where)(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b);
  void (*copy)(const Tensor& out, const Tensor& src);
  void (*fill)(const Tensor& out, double value);
  void (*reduce)(Red op, const Tensor& out, const Tensor& a, uint64_t axes_mask);
  // kernels_extra.h
  void (*scan)(Scan op, const Tensor& out, const Tensor& a, int64_t axis);
  void (*softmax)(const Tensor& out, const Tensor& a, int64_t axis, bool log);
  void (*sort)(const Tensor& values, const Tensor& indices, const Tensor& a, int64_t axis, bool descending);
  void (*gather_axis)(const Tensor& out, const Tensor& a, const Tensor& idx, int64_t axis);
  void (*invert_permutation)(const Tensor& out, const Tensor& idx, int64_t axis);
  void (*repeat_axis)(const Tensor& out, const Tensor& a, const Tensor& counts, int64_t axis);
  void (*segment_sum)(const Tensor& out, const Tensor& a, const Tensor& counts, int64_t axis);
  // kernels_index.h
  void (*index_gather)(const Tensor& out, const Tensor& x, const Tensor& idx);
  void (*index_scatter)(const Tensor& x, const Tensor& v, const Tensor& idx, bool accumulate);
  void (*index_last_writer)(const Tensor& out, const Tensor& idx, const int64_t* dims);
  int64_t (*count_true)(const Tensor& mask);
  void (*nonzero)(const Tensor& out, const Tensor& mask);
  int (*index_pack)(const Tensor& out, const std::vector<Tensor>& arrays, const int64_t* dims, int64_t* bad);
  // creation.h
  void (*arange)(const Tensor& out, double start, double step);
  void (*arange_int)(const Tensor& out, int64_t start, int64_t step);
  void (*linspace)(const Tensor& out, double start, double stop, bool endpoint);
  void (*eye)(const Tensor& out, int64_t k);
  void (*random_fill)(const Tensor& out, RandDist dist, uint64_t seed, uint64_t first_block, double a, double b);
  void (*random_int_fill)(const Tensor& out, uint64_t seed, uint64_t first_block, int64_t low, uint64_t range);
  // linalg.h
  void (*matmul)(const Tensor& out, const Tensor& a, const Tensor& b);
  int64_t (*solve)(const Tensor& x, const Tensor& a, const Tensor& b);
  int64_t (*inv)(const Tensor& out, const Tensor& a);
  int64_t (*cholesky)(const Tensor& out, const Tensor& a);
  void (*slogdet)(const Tensor& sign, const Tensor& logabs, const Tensor& a);
  void (*det)(const Tensor& out, const Tensor& a);
  int64_t (*svd)(const Tensor& u, const Tensor& s, const Tensor& vh, const Tensor& a, bool full, bool compute_uv);
  int64_t (*eigh)(const Tensor& w, const Tensor& v, const Tensor& a, bool lower, bool compute_v);
  void (*qr)(const Tensor& q, const Tensor& r, const Tensor& a, bool complete);
  int64_t (*eig)(const Tensor& w, const Tensor& v, const Tensor& a, bool compute_v);
  // fused.h
  void (*fused_run)(const FusedKernel& k, const Tensor* inputs, const Tensor* outputs, const Tensor* sums);
};

// The backends; each is defined in its own folder (kernels/cpu/backend.cpp). A backend built as
// a plugin module (kernels/cuda/) is not linked into _core: it registers its table when it loads.
namespace cpu {
extern const Backend kBackend;
}

// Installs `b` (a static table that outlives the process) as the kernels of `dev`; dev != CPU.
void register_backend(Device dev, const Backend* b);

// What a device plugin may call in _core (Note [Device plugins] in core/storage.h), handed over in
// the PyCapsule "tapegrad._core._device_plugin_api". The plugin checks abi and the sizes first:
// it was compiled against these headers, and a mismatch (a stale plugin beside a newer _core)
// is refused at import instead of misreading a Tensor.
constexpr uint32_t kPluginAbi = 2;  // bump when Backend, DeviceAllocator or PluginApi change
struct PluginApi {
  uint32_t abi;
  uint32_t sizeof_backend, sizeof_tensor_impl, sizeof_storage, sizeof_tensor;
  void (*register_backend)(Device dev, const Backend* b);
  void (*register_allocator)(Device dev, const DeviceAllocator* a);
  // Throws the error of `kind` (0 Error -> RuntimeError, 1 ValueError, 2 TypeError, 3 MemoryError,
  // 4 NotImplementedError, 5 IndexError)
  // from _core's code; a kernel of the plugin calls it to fail (it never throws itself).
  void (*fail)(int kind, const char* message);  // never returns (not spelled: nvcc refuses it here)
};
const PluginApi& plugin_api();

}  // namespace kernels
}  // namespace tapegrad
