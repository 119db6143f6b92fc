// Every kernel entry point of the kernels/ interface, routed by device: Note [Kernel dispatch] in
// kernels/dispatch.h.
#include "kernels/dispatch.h"

#include "core/error.h"
#include "core/layer_hooks.h"
#include "kernels/kernels_index.h"
#include "kernels/linalg.h"

namespace tapegrad {
namespace kernels {

namespace {

// One entry per Device value (core/storage.h); null: no backend in this build.
const Backend* const kBackends[] = {
    &cpu::kBackend,  // Device::CPU
    nullptr,         // Device::GPU (a kernels/cuda/ backend's table goes here)
};
static_assert(sizeof(kBackends) / sizeof(kBackends[0]) == size_t(Device::GPU) + 1, "one entry per Device");

[[noreturn]] void no_backend(Device d, const char* kernel) {
  throw Error(str_cat(kernel, ": no kernels for device ", device_name(d), " in this build"));
}

inline const Backend& on(const Tensor& t, const char* kernel) {
  const Backend* b = kBackends[size_t(t.device())];
  if (__builtin_expect(b == nullptr, 0)) no_backend(t.device(), kernel);
  return *b;
}

// Tensor::full, clone and to (core) fill and copy through the routed kernels (Note [Layer hooks]).
struct InstallKernelHooks {
  InstallKernelHooks() {
    g_kernel_hooks.fill = fill;
    g_kernel_hooks.copy = copy;
  }
} g_install_kernel_hooks;

}  // namespace

// kernels.h
void binary(Bin op, const Tensor& out, const Tensor& a, const Tensor& b) { on(out, "binary").binary(op, out, a, b); }
void compare(Cmp op, const Tensor& out, const Tensor& a, const Tensor& b) { on(out, "compare").compare(op, out, a, b); }
void unary(Un op, const Tensor& out, const Tensor& a) { on(out, "unary").unary(op, out, a); }
void predicate(Pred op, const Tensor& out, const Tensor& a) { on(out, "predicate").predicate(op, out, a); }
void clip(const Tensor& out, const Tensor& x, const Tensor& lo, const Tensor& hi) {
  on(out, "clip").clip(out, x, lo, hi);
}
void where(const Tensor& out, const Tensor& c, const Tensor& a, const Tensor& b) {
  on(out, "where").where(out, c, a, b);
}
void copy(const Tensor& out, const Tensor& src) { on(out, "copy").copy(out, src); }
void fill(const Tensor& out, double value) { on(out, "fill").fill(out, value); }
void reduce(Red op, const Tensor& out, const Tensor& a, uint64_t mask) { on(out, "reduce").reduce(op, out, a, mask); }

// kernels_extra.h
void scan(Scan op, const Tensor& out, const Tensor& a, int64_t axis) { on(out, "scan").scan(op, out, a, axis); }
void softmax(const Tensor& out, const Tensor& a, int64_t axis, bool log) {
  on(out, "softmax").softmax(out, a, axis, log);
}
void sort(const Tensor& values, const Tensor& indices, const Tensor& a, int64_t axis, bool descending) {
  on(a, "sort").sort(values, indices, a, axis, descending);
}
void gather_axis(const Tensor& out, const Tensor& a, const Tensor& idx, int64_t axis) {
  on(out, "gather_axis").gather_axis(out, a, idx, axis);
}
void invert_permutation(const Tensor& out, const Tensor& idx, int64_t axis) {
  on(out, "invert_permutation").invert_permutation(out, idx, axis);
}
void repeat_axis(const Tensor& out, const Tensor& a, const Tensor& counts, int64_t axis) {
  on(out, "repeat_axis").repeat_axis(out, a, counts, axis);
}
void segment_sum(const Tensor& out, const Tensor& a, const Tensor& counts, int64_t axis) {
  on(out, "segment_sum").segment_sum(out, a, counts, axis);
}

// kernels_index.h
void index_gather(const Tensor& out, const Tensor& x, const Tensor& idx) {
  on(out, "index_gather").index_gather(out, x, idx);
}
void index_scatter(const Tensor& x, const Tensor& v, const Tensor& idx, bool accumulate) {
  on(x, "index_scatter").index_scatter(x, v, idx, accumulate);
}
void index_last_writer(const Tensor& out, const Tensor& idx, const int64_t* dims) {
  on(out, "index_last_writer").index_last_writer(out, idx, dims);
}
int64_t count_true(const Tensor& mask) { return on(mask, "count_true").count_true(mask); }
void nonzero(const Tensor& out, const Tensor& mask) { on(mask, "nonzero").nonzero(out, mask); }
int index_pack(const Tensor& out, const std::vector<Tensor>& arrays, const int64_t* dims, int64_t* bad) {
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
void matmul(const Tensor& out, const Tensor& a, const Tensor& b) { on(out, "matmul").matmul(out, a, b); }
int64_t solve(const Tensor& x, const Tensor& a, const Tensor& b) { return on(x, "solve").solve(x, a, b); }
int64_t inv(const Tensor& out, const Tensor& a) { return on(out, "inv").inv(out, a); }
int64_t cholesky(const Tensor& out, const Tensor& a) { return on(out, "cholesky").cholesky(out, a); }
void slogdet(const Tensor& sign, const Tensor& logabs, const Tensor& a) {
  on(sign, "slogdet").slogdet(sign, logabs, a);
}
void det(const Tensor& out, const Tensor& a) { on(out, "det").det(out, a); }

// fused.h: every register of a fused kernel is on one device (autodiff/fusion.cpp fuses CPU
// values only); the first input, output or sum names it.
void fused_run(const FusedKernel& k, const Tensor* inputs, const Tensor* outputs, const Tensor* sums) {
  const Tensor& any = k.num_inputs > 0 ? inputs[0] : k.num_outputs > 0 ? outputs[0] : sums[0];
  on(any, "fused_run").fused_run(k, inputs, outputs, sums);
}

}  // namespace kernels
}  // namespace tapegrad
