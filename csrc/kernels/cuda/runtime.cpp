// Host side of the CUDA backend: the link to _core, errors, the stream, the operand layout of the
// kernels (Note [CUDA iteration]) and the caching allocator over cudaMalloc (Note [Caching
// allocator] in core/caching_allocator.h).
#include <cuda_runtime_api.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "core/caching_allocator.h"
#include "kernels/cuda/cuda.h"

namespace tapegrad {
namespace kernels {
namespace cuda {

const PluginApi* g_api = nullptr;

void fail(int kind, const char* fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  g_api->fail(kind, buf);
  __builtin_unreachable();  // PluginApi::fail throws
}

void check(cudaError_t e, const char* what) {
  if (__builtin_expect(e == cudaSuccess, 1)) return;
  cudaGetLastError();  // clear a non-sticky error so that later calls do not report it again
  fail(e == cudaErrorMemoryAllocation ? kMemory : kRuntime, "%s: CUDA error %s (%s)", what, cudaGetErrorName(e),
       cudaGetErrorString(e));
}

cudaStream_t stream() {
  // Created on first use (the plugin registers its tables only once a GPU was found); never
  // destroyed: kernels may still be queued on it while the process exits.
  static cudaStream_t s = [] {
    cudaStream_t st = nullptr;
    check(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking), "creating the GPU stream");
    return st;
  }();
  return s;
}

// (The plugin does not link core/dtype.cpp, so not dtype_numpy_name.)
const char* dtype_str(DType d) {
  switch (d) {
    case DType::Bool: return "bool";
    case DType::Int32: return "int32";
    case DType::Int64: return "int64";
    case DType::Float16: return "float16";
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int8: return "int8";
    case DType::Int16: return "int16";
    case DType::UInt8: return "uint8";
    case DType::UInt16: return "uint16";
    case DType::UInt32: return "uint32";
    case DType::UInt64: return "uint64";
    case DType::Complex64: return "complex64";
    case DType::Complex128: return "complex128";
  }
  return "?";
}

Iter make_iter(const Tensor* const* ops, int nops, const char* kernel) {
  const Tensor& out = *ops[0];
  const Shape& shape = out.shape();
  const int nd = int(shape.size());
  if (nd > 64) fail(kValue, "%s: the GPU kernels take at most 64 dims, got %d", kernel, nd);
  Iter it;
  it.nops = nops;
  it.numel = out.numel();
  // Per operand: byte strides aligned to the output's dims (zero where broadcast).
  int64_t st[kMaxOperands][64];
  for (int k = 0; k < nops; ++k) {
    const Tensor& t = *ops[k];
    it.is_scalar[k] = false;
    it.ptr[k] = nullptr;
    std::memset(it.scalar[k], 0, 8);
    if (t.device() == Device::CPU) {  // a 0-d CPU operand: dispatch lets only those through
      if (t.ndim() != 0) fail(kValue, "%s: an operand is on the CPU and the output on the GPU", kernel);
      it.is_scalar[k] = true;
      std::memcpy(it.scalar[k], bytes_of(t), itemsize(t.dtype()));
    } else {
      it.ptr[k] = bytes_of(t);
    }
    const int64_t isz = int64_t(itemsize(t.dtype()));
    const int tnd = int(t.ndim());
    for (int d = 0; d < nd; ++d) {
      const int td = d - (nd - tnd);
      st[k][d] = (td < 0 || t.shape()[size_t(td)] == 1 || it.is_scalar[k]) ? 0 : t.strides()[size_t(td)] * isz;
    }
  }
  // Drop size-1 dims, merge dims every operand walks contiguously (outer stride == inner stride
  // * inner size), innermost first.
  int64_t size[64];
  int64_t mst[kMaxOperands][64];
  int m = 0;
  for (int d = nd - 1; d >= 0; --d) {
    const int64_t s = shape[size_t(d)];
    if (s == 1) continue;
    bool merge = m > 0;
    for (int k = 0; k < nops && merge; ++k) merge = st[k][d] == mst[k][m - 1] * size[m - 1];
    if (merge) {
      size[m - 1] *= s;  // the merged dim keeps the inner strides
      continue;
    }
    size[m] = s;
    for (int k = 0; k < nops; ++k) mst[k][m] = st[k][d];
    ++m;
  }
  if (m > kMaxDims)
    fail(kValue,
         "%s: the GPU kernels take at most %d dims that cannot be merged, got %d; make the tensor "
         "contiguous first",
         kernel, kMaxDims, m);
  if (m == 0) {  // a single element
    m = 1;
    size[0] = 1;
    for (int k = 0; k < nops; ++k) mst[k][0] = 0;
  }
  // Stored outermost first.
  it.ndim = m;
  for (int j = 0; j < m; ++j) {
    it.size[j] = size[m - 1 - j];
    for (int k = 0; k < nops; ++k) it.stride[k][j] = mst[k][m - 1 - j];
  }
  return it;
}

// ---- memory -------------------------------------------------------------------------------------
namespace {

struct CudaRaw {
  void* alloc(size_t n) {
    void* p = nullptr;
    if (cudaMalloc(&p, n) != cudaSuccess) {
      cudaGetLastError();  // out of memory is not sticky: clear it
      return nullptr;
    }
    return p;
  }
  void free(void* p, size_t) { cudaFree(p); }  // synchronises the device: blocks are no longer used
};

CachingAllocator<CudaRaw>& caching() {
  static auto* a = new CachingAllocator<CudaRaw>();  // leaked: tensors may outlive static destructors
  return *a;
}

thread_local char t_error[256] = "";

void* dev_allocate(size_t n) {
  void* p = caching().allocate(n);
  if (!p) {
    size_t free_b = 0, total_b = 0;
    cudaMemGetInfo(&free_b, &total_b);
    std::snprintf(t_error, sizeof(t_error), "%zu of %zu bytes free on the GPU, %zu allocated by tapegrad", free_b,
                  total_b, caching().stats().allocated);
  }
  return p;
}

void dev_deallocate(void* p, size_t n) { caching().deallocate(p, n); }

bool dev_copy(void* dst, const void* src, size_t n, int kind) {
  const cudaMemcpyKind k = kind == kCopyToHost     ? cudaMemcpyDeviceToHost
                           : kind == kCopyFromHost ? cudaMemcpyHostToDevice
                                                   : cudaMemcpyDeviceToDevice;
  // On the stream, after the kernels already queued. From or to pageable host memory the call
  // returns once the host buffer may be reused (to the host: once the data is there).
  cudaError_t e = cudaMemcpyAsync(dst, src, n, k, stream());
  if (e == cudaSuccess && kind == kCopyToHost) e = cudaStreamSynchronize(stream());
  if (e != cudaSuccess) {
    cudaGetLastError();
    std::snprintf(t_error, sizeof(t_error), "CUDA error %s (%s)", cudaGetErrorName(e), cudaGetErrorString(e));
    return false;
  }
  return true;
}

const char* dev_error() { return t_error; }

}  // namespace

const DeviceAllocator kAllocator = {"cuda", dev_allocate, dev_deallocate, dev_copy, dev_error};

size_t memory_allocated() { return caching().stats().allocated; }
size_t max_memory_allocated() { return caching().stats().peak; }
size_t memory_reserved() { return caching().stats().reserved; }
void reset_peak_memory() { caching().reset_peak(); }
void empty_cache() {
  // Kernels queued on the stream may still read cached blocks' last contents: done first.
  check(cudaStreamSynchronize(stream()), "empty_cache");
  caching().empty_cache();
}

}  // namespace cuda
}  // namespace kernels
}  // namespace tapegrad
