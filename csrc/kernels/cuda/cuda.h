// The CUDA backend's host-side interface inside the tapegrad._cuda plugin (Note [Device plugins]
// in core/storage.h): what plugin.cpp (compiled by the host compiler) and the .cu files share.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "core/tensor.h"
#include "kernels/dispatch.h"
#include "kernels/kernels_extra.h"

namespace tapegrad {
namespace kernels {
namespace cuda {

// Set by the module's init (plugin.cpp) before any table is registered.
extern const PluginApi* g_api;
enum FailKind : int { kRuntime = 0, kValue = 1, kType = 2, kMemory = 3, kNotImplemented = 4, kIndex = 5 };

// Throws from _core (PluginApi::fail): the plugin itself never throws.
[[noreturn]] void fail(int kind, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
// After a launch or runtime call: a CUDA error becomes a RuntimeError naming the kernel.
void check(cudaError_t e, const char* what);
inline void check_launch(const char* what) { check(cudaGetLastError(), what); }

// The device's one stream (Note [Caching allocator]: stream order is what makes block reuse safe).
cudaStream_t stream();

const char* dtype_str(DType d);

// Host-side view of a tensor's memory, without Tensor::raw_data (an out-of-line _core symbol is
// out of reach, and device memory must not pass the traced-read hook as host data).
inline char* bytes_of(const Tensor& t) {
  return static_cast<char*>(t.storage()->data) + t.offset() * int64_t(itemsize(t.dtype()));
}

// ---- N-d iteration ----------------------------------------------------------------------------
// Note [CUDA iteration]
// ~~~~~~~~~~~~~~~~~~~~~
// An elementwise kernel sees its operands as byte pointers with byte strides over the output's
// shape (inputs broadcast by zero strides, as on the CPU: kernels/cpu/iter.cpp). The host merges
// dims that every operand walks contiguously into one and drops size-1 dims, so a contiguous (or
// scalar-broadcast) call becomes one flat dim, and the per-element index arithmetic is one multiply
// per operand. At most kMaxDims dims remain after merging (more: a clear error). A 0-d CPU operand
// (a Python scalar, made on the CPU by the ops layer) is passed by value in `scalar`.
constexpr int kMaxDims = 10;
constexpr int kMaxOperands = 4;

struct Iter {
  int ndim = 0;
  int nops = 0;
  int64_t numel = 0;
  int64_t size[kMaxDims];
  char* ptr[kMaxOperands];
  int64_t stride[kMaxOperands][kMaxDims];  // bytes
  bool is_scalar[kMaxOperands];
  alignas(8) unsigned char scalar[kMaxOperands][8];
};

// ops[0] is the output; the iteration shape is its shape.
Iter make_iter(const Tensor* const* ops, int nops, const char* kernel);

// The backend's entry points, one file per family (elementwise.cu, reduce.cu, axis.cu, matmul.cu,
// index.cu).
void binary(Bin op, const Tensor& out, const Tensor& a, const Tensor& b);
void compare(Cmp op, const Tensor& out, const Tensor& a, const Tensor& b);
void unary(Un op, const Tensor& out, const Tensor& a);
void predicate(Pred op, const Tensor& out, const Tensor& a);
void clip(const Tensor& out, const Tensor& x, const Tensor& lo, const Tensor& hi);
void where(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b);
void copy(const Tensor& out, const Tensor& src);
void fill(const Tensor& out, double value);
void reduce(Red op, const Tensor& out, const Tensor& a, uint64_t axes_mask);
void scan(Scan op, const Tensor& out, const Tensor& a, int64_t axis);
void softmax(const Tensor& out, const Tensor& a, int64_t axis, bool log);
void gather_axis(const Tensor& out, const Tensor& a, const Tensor& idx, int64_t axis);
void invert_permutation(const Tensor& out, const Tensor& idx, int64_t axis);
void matmul(const Tensor& out, const Tensor& a, const Tensor& b);
void index_gather(const Tensor& out, const Tensor& x, const Tensor& idx);
void index_scatter(const Tensor& x, const Tensor& v, const Tensor& idx, bool accumulate);
// Where matmul looks for libcublas first (Note [cuBLAS at run time] in matmul.cu).
void set_library_dir(const char* dir);

// The table (backend.cu) and the memory (allocator.cpp) the plugin registers.
extern const Backend kBackend;
extern const DeviceAllocator kAllocator;
// Caching allocator statistics and control (tg.cuda.memory_allocated ...).
size_t memory_allocated();
size_t max_memory_allocated();
size_t memory_reserved();
void reset_peak_memory();
void empty_cache();

}  // namespace cuda
}  // namespace kernels
}  // namespace tapegrad
