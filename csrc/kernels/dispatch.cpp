// Every kernel entry point of the kernels/ interface, routed by device: Note [Kernel dispatch] in
// kernels/dispatch.h.
#include "kernels/dispatch.h"

#include <atomic>

#include "core/error.h"
#include "core/layer_hooks.h"
#include "kernels/kernels_index.h"
#include "kernels/linalg.h"

namespace tapegrad {
namespace kernels {

namespace {

// One entry per Device value (core/storage.h); null: no backend loaded. The GPU's is registered by
// the tapegrad._cuda plugin when it loads (register_backend); the load is one plain load on x86.
std::atomic<const Backend*> g_backends[] = {
    {&cpu::kBackend},  // Device::CPU
    {nullptr},         // Device::GPU (kernels/cuda/backend.cu, registered by the plugin)
};
static_assert(sizeof(g_backends) / sizeof(g_backends[0]) == size_t(Device::GPU) + 1, "one entry per Device");

[[noreturn]] void no_backend(Device d, const char* kernel) {
  throw Error(str_cat(kernel, ": no kernels for device ", device_name(d), " are loaded"));
}

[[noreturn]] void no_complex(Device d, DType dt, const char* kernel) {
  throw NotImplementedError(
      str_cat(kernel, ": ", dtype_numpy_name(dt), " is not supported on the ", device_name(d), " (CPU only)"));
}

inline const Backend& on(const Tensor& t, const char* kernel) {
  const Backend* b = g_backends[size_t(t.device())].load(std::memory_order_acquire);
  if (__builtin_expect(b == nullptr, 0)) no_backend(t.device(), kernel);
  // The complex dtypes have CPU loops only (kernels/cpu/complex.cpp).
  if (__builtin_expect(t.device() != Device::CPU && is_complex(t.dtype()), 0))
    no_complex(t.device(), t.dtype(), kernel);
  return *b;
}

// Inputs on another device than the output: the ops layer allocated the output on its first
// input's device, so this is an op mixing devices. No silent copies (API.md section 8). A 0-d CPU
// input is let through to another device: the ops layer makes Python scalars that way, and the
// device's kernels take its value by argument (Note [CUDA iteration] in kernels/cuda/cuda.h).
[[noreturn]] void mixed_devices(const char* kernel, const Tensor& out, const Tensor& in) {
  throw ValueError(str_cat(kernel, ": the inputs are on different devices (", device_name(out.device()), " and ",
                           device_name(in.device()), "); move them to one with .to(\"CPU\") or .to(\"GPU\")"));
}
inline void same_device(const char* kernel, const Tensor& out, const Tensor& a) {
  if (__builtin_expect(a.device() != out.device(), 0) && !(a.device() == Device::CPU && a.ndim() == 0))
    mixed_devices(kernel, out, a);
}

[[noreturn]] void plugin_fail(int kind, const char* message) {
  switch (kind) {
    case 1: throw ValueError(message);
    case 2: throw TypeError(message);
    case 3: throw MemoryError(message);
    case 4: throw NotImplementedError(message);
    case 5: throw IndexError(message);
    default: throw Error(message);
  }
}

const PluginApi kPluginApi = {
    kPluginAbi,     sizeof(Backend),  sizeof(TensorImpl),        sizeof(Storage),
    sizeof(Tensor), register_backend, register_device_allocator, plugin_fail,
};

// Tensor::full, clone and to (core) fill and copy through the routed kernels (Note [Layer hooks]).
struct InstallKernelHooks {
  InstallKernelHooks() {
    g_kernel_hooks.fill = fill;
    g_kernel_hooks.copy = copy;
  }
} g_install_kernel_hooks;

}  // namespace

void register_backend(Device dev, const Backend* b) {
  TG_CHECK(dev != Device::CPU, "register_backend: the CPU's kernels are built in");
  g_backends[size_t(dev)].store(b, std::memory_order_release);
}

const PluginApi& plugin_api() { return kPluginApi; }

// kernels.h
void binary(Bin op, const Tensor& out, const Tensor& a, const Tensor& b) {
  same_device("binary", out, a);
  same_device("binary", out, b);
  on(out, "binary").binary(op, out, a, b);
}
void compare(Cmp op, const Tensor& out, const Tensor& a, const Tensor& b) {
  same_device("compare", out, a);
  same_device("compare", out, b);
  on(out, "compare").compare(op, out, a, b);
}
void unary(Un op, const Tensor& out, const Tensor& a) {
  same_device("unary", out, a);
  on(out, "unary").unary(op, out, a);
}
void predicate(Pred op, const Tensor& out, const Tensor& a) { on(out, "predicate").predicate(op, out, a); }
void clip(const Tensor& out, const Tensor& x, const Tensor& lo, const Tensor& hi) {
  same_device("clip", out, x);
  same_device("clip", out, lo);
  same_device("clip", out, hi);
  on(out, "clip").clip(out, x, lo, hi);
}
void where(const Tensor& out, const Tensor& c, const Tensor& a, const Tensor& b) {
  same_device("where", out, c);
  same_device("where", out, a);
  same_device("where", out, b);
  on(out, "where").where(out, c, a, b);
}
void copy(const Tensor& out, const Tensor& src) {
  same_device("copy", out, src);
  on(out, "copy").copy(out, src);
}
void fill(const Tensor& out, double value) { on(out, "fill").fill(out, value); }
void reduce(Red op, const Tensor& out, const Tensor& a, uint64_t mask) {
  same_device("reduce", out, a);
  on(out, "reduce").reduce(op, out, a, mask);
}

// kernels_extra.h
void scan(Scan op, const Tensor& out, const Tensor& a, int64_t axis) {
  same_device("scan", out, a);
  on(out, "scan").scan(op, out, a, axis);
}
void softmax(const Tensor& out, const Tensor& a, int64_t axis, bool log) {
  same_device("softmax", out, a);
  on(out, "softmax").softmax(out, a, axis, log);
}
void sort(const Tensor& values, const Tensor& indices, const Tensor& a, int64_t axis, bool descending) {
  if (values.defined()) same_device("sort", a, values);  // either output may be absent
  if (indices.defined()) same_device("sort", a, indices);
  on(a, "sort").sort(values, indices, a, axis, descending);
}
void gather_axis(const Tensor& out, const Tensor& a, const Tensor& idx, int64_t axis) {
  same_device("gather_axis", out, a);
  same_device("gather_axis", out, idx);
  on(out, "gather_axis").gather_axis(out, a, idx, axis);
}
void invert_permutation(const Tensor& out, const Tensor& idx, int64_t axis) {
  same_device("invert_permutation", out, idx);
  on(out, "invert_permutation").invert_permutation(out, idx, axis);
}
void repeat_axis(const Tensor& out, const Tensor& a, const Tensor& counts, int64_t axis) {
  same_device("repeat_axis", out, a);
  same_device("repeat_axis", out, counts);
  on(out, "repeat_axis").repeat_axis(out, a, counts, axis);
}
void segment_sum(const Tensor& out, const Tensor& a, const Tensor& counts, int64_t axis) {
  same_device("segment_sum", out, a);
  same_device("segment_sum", out, counts);
  on(out, "segment_sum").segment_sum(out, a, counts, axis);
}

// kernels_index.h
void index_gather(const Tensor& out, const Tensor& x, const Tensor& idx) {
  same_device("index_gather", out, x);
  same_device("index_gather", out, idx);
  on(out, "index_gather").index_gather(out, x, idx);
}
void index_scatter(const Tensor& x, const Tensor& v, const Tensor& idx, bool accumulate) {
  same_device("index_scatter", x, v);
  same_device("index_scatter", x, idx);
  on(x, "index_scatter").index_scatter(x, v, idx, accumulate);
}
void index_last_writer(const Tensor& out, const Tensor& idx, const int64_t* dims) {
  same_device("index_last_writer", out, idx);
  on(out, "index_last_writer").index_last_writer(out, idx, dims);
}
int64_t count_true(const Tensor& mask) { return on(mask, "count_true").count_true(mask); }
void nonzero(const Tensor& out, const Tensor& mask) {
  same_device("nonzero", mask, out);
  on(mask, "nonzero").nonzero(out, mask);
}
int index_pack(const Tensor& out, const std::vector<Tensor>& arrays, const int64_t* dims, int64_t* bad) {
  for (const Tensor& a : arrays) same_device("index_pack", out, a);
  return on(out, "index_pack").index_pack(out, arrays, dims, bad);
}

// creation.h
void arange(const Tensor& out, double start, double step) { on(out, "arange").arange(out, start, step); }
void arange_int(const Tensor& out, int64_t start, int64_t step) { on(out, "arange").arange_int(out, start, step); }
void linspace(const Tensor& out, double start, double stop, bool endpoint) {
  on(out, "linspace").linspace(out, start, stop, endpoint);
}
void eye(const Tensor& out, int64_t k) { on(out, "eye").eye(out, k); }
void random_fill(const Tensor& out, RandDist dist, uint64_t seed, uint64_t first_block, double a, double b) {
  on(out, "random").random_fill(out, dist, seed, first_block, a, b);
}
void random_int_fill(const Tensor& out, uint64_t seed, uint64_t first_block, int64_t low, uint64_t range) {
  on(out, "randint").random_int_fill(out, seed, first_block, low, range);
}

// linalg.h
void matmul(const Tensor& out, const Tensor& a, const Tensor& b) {
  same_device("matmul", out, a);
  same_device("matmul", out, b);
  on(out, "matmul").matmul(out, a, b);
}
int64_t solve(const Tensor& x, const Tensor& a, const Tensor& b) {
  same_device("solve", x, a);
  same_device("solve", x, b);
  return on(x, "solve").solve(x, a, b);
}
int64_t inv(const Tensor& out, const Tensor& a) {
  same_device("inv", out, a);
  return on(out, "inv").inv(out, a);
}
int64_t cholesky(const Tensor& out, const Tensor& a) {
  same_device("cholesky", out, a);
  return on(out, "cholesky").cholesky(out, a);
}
void slogdet(const Tensor& sign, const Tensor& logabs, const Tensor& a) {
  same_device("slogdet", sign, logabs);
  same_device("slogdet", sign, a);
  on(sign, "slogdet").slogdet(sign, logabs, a);
}
void det(const Tensor& out, const Tensor& a) {
  same_device("det", out, a);
  on(out, "det").det(out, a);
}
int64_t svd(const Tensor& u, const Tensor& s, const Tensor& vh, const Tensor& a, bool full, bool compute_uv) {
  same_device("svd", s, a);
  return on(a, "svd").svd(u, s, vh, a, full, compute_uv);
}
int64_t eigh(const Tensor& w, const Tensor& v, const Tensor& a, bool lower, bool compute_v) {
  same_device("eigh", w, a);
  return on(a, "eigh").eigh(w, v, a, lower, compute_v);
}
void qr(const Tensor& q, const Tensor& r, const Tensor& a, bool complete) {
  same_device("qr", r, a);
  on(a, "qr").qr(q, r, a, complete);
}
int64_t eig(const Tensor& w, const Tensor& v, const Tensor& a, bool compute_v) {
  same_device("eig", w, a);
  return on(a, "eig").eig(w, v, a, compute_v);
}

// fused.h: every register of a fused kernel is on one device (autodiff/fusion.cpp fuses CPU
// values only); the first input, output or sum names it.
void fused_run(const FusedKernel& k, const Tensor* inputs, const Tensor* outputs, const Tensor* sums) {
  const Tensor& any = k.num_inputs > 0 ? inputs[0] : k.num_outputs > 0 ? outputs[0] : sums[0];
  on(any, "fused_run").fused_run(k, inputs, outputs, sums);
}

}  // namespace kernels
}  // namespace tapegrad
