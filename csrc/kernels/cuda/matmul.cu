// CUDA matmul (kernels/linalg.h): float32/float64 through cuBLAS, loaded at run time from the
// nvidia-cublas wheel (pip install tapegrad[cuda]) so that neither wheel links or bundles it;
// int32/int64 through a kernel here (wrapping, as the CPU's loop).
#include <dlfcn.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <type_traits>

#include "kernels/cuda/common.cuh"

namespace tapegrad {
namespace kernels {
namespace cuda {

namespace {

// Note [cuBLAS at run time]
// ~~~~~~~~~~~~~~~~~~~~~~~~~
// cuBLAS is a ~700 MB library that only GPU users need. The plugin declares the few entry points it
// calls (their C ABI is stable across cuBLAS 12 and 13) and dlopens libcublas on the first float
// matmul: from the directory tapegrad.cuda hands over (set_library_dir: the nvidia-cublas wheel's
// lib/), else by soname from the loader's path. Without it, a float matmul on the GPU is a clear
// error naming the extra. All calls go to the device's one stream. TF32 is off (cuBLAS's default
// math mode): float32 products round as float32 ones, as on the CPU.
using Handle = void*;
using CreateFn = int (*)(Handle*);
using SetStreamFn = int (*)(Handle, cudaStream_t);
template <class T>
using GemmFn = int (*)(Handle, int transa, int transb, int m, int n, int k, const T* alpha, const T* A, int lda,
                       long long strideA, const T* B, int ldb, long long strideB, const T* beta, T* C, int ldc,
                       long long strideC, int batch);
constexpr int kOpN = 0, kOpT = 1;

struct Cublas {
  Handle handle = nullptr;
  GemmFn<float> sgemm = nullptr;
  GemmFn<double> dgemm = nullptr;
  char why[768] = "";
};

std::mutex g_dir_mu;
std::string g_library_dir;

void* open_lib(const char* soname) {
  std::string dir;
  {
    std::lock_guard<std::mutex> g(g_dir_mu);
    dir = g_library_dir;
  }
  if (!dir.empty()) {
    if (void* h = dlopen((dir + "/" + soname).c_str(), RTLD_NOW | RTLD_GLOBAL)) return h;
  }
  return dlopen(soname, RTLD_NOW | RTLD_GLOBAL);
}

const Cublas& cublas() {
  static Cublas c;
  static std::once_flag once;
  std::call_once(once, [] {
    void* lib = nullptr;
    for (const char* major : {"13", "12"}) {
      const std::string lt = std::string("libcublasLt.so.") + major;
      const std::string name = std::string("libcublas.so.") + major;
      open_lib(lt.c_str());  // cuBLAS's own dependency, from the same wheel
      if ((lib = open_lib(name.c_str()))) break;
    }
    if (!lib) {
      std::snprintf(c.why, sizeof(c.why), "libcublas.so.13/.12 not found (%s)", dlerror());
      return;
    }
    auto create = reinterpret_cast<CreateFn>(dlsym(lib, "cublasCreate_v2"));
    auto set_stream = reinterpret_cast<SetStreamFn>(dlsym(lib, "cublasSetStream_v2"));
    c.sgemm = reinterpret_cast<GemmFn<float>>(dlsym(lib, "cublasSgemmStridedBatched"));
    c.dgemm = reinterpret_cast<GemmFn<double>>(dlsym(lib, "cublasDgemmStridedBatched"));
    if (!create || !set_stream || !c.sgemm || !c.dgemm) {
      std::snprintf(c.why, sizeof(c.why), "the cuBLAS library found lacks cublasCreate_v2/SgemmStridedBatched");
      c.sgemm = nullptr;
      return;
    }
    Handle h = nullptr;
    int st = create(&h);
    if (st == 0) st = set_stream(h, stream());
    if (st != 0) {
      std::snprintf(c.why, sizeof(c.why), "cublasCreate failed (status %d)", st);
      c.sgemm = nullptr;
      return;
    }
    c.handle = h;
  });
  return c;
}

// ---- layouts ------------------------------------------------------------------------------------
constexpr int kMaxBatchDims = 8;

struct Batch {
  int nd = 0;
  int64_t size[kMaxBatchDims];
  int64_t stride[kMaxBatchDims];  // elements
};

__host__ __device__ inline int64_t batch_offset(const Batch& b, int64_t i) {
  int64_t off = 0;
  for (int d = b.nd - 1; d >= 0; --d) {
    off += (i % b.size[d]) * b.stride[d];
    i /= b.size[d];
  }
  return off;
}

// The batch dims of operand t over the output's batch shape (a size-1 dim of t broadcasts).
// `strides`: t's own, or null for a contiguous copy of t.
Batch batch_of(const Tensor& out, const Tensor& t, int nb, const int64_t* strides) {
  if (nb > kMaxBatchDims) fail(kValue, "matmul: the GPU kernels take at most %d batch dims", kMaxBatchDims);
  Batch b;
  b.nd = nb;
  int64_t st = t.shape()[size_t(nb)] * t.shape()[size_t(nb) + 1];  // contiguous: one matrix
  for (int d = nb - 1; d >= 0; --d) {
    const int64_t ts = t.shape()[size_t(d)];
    b.size[d] = out.shape()[size_t(d)];
    b.stride[d] = ts == 1 ? 0 : (strides ? strides[d] : st);
    st *= ts;
  }
  return b;
}

// The flat batch index i at element offset i * *step for every i, when the batch dims allow it.
bool uniform_batch(const Batch& b, long long* step) {
  int64_t s = -1, span = 1;  // stride of the flat index, and the elements it spans so far
  for (int d = b.nd - 1; d >= 0; --d) {
    if (b.size[d] == 1) continue;
    if (s < 0) s = b.stride[d];
    else if (b.stride[d] != s * span) return false;
    span *= b.size[d];
  }
  *step = s < 0 ? 0 : s;
  return true;
}

// A row-major (rows, cols) matrix with strides (rs, cs), as cuBLAS's column-major operand of the
// transposed product (Note in matmul below): op N with ld = rs when rows are contiguous, op T with
// ld = cs when columns are; false otherwise (the matrix is copied first).
bool gemm_layout(int64_t rows, int64_t cols, int64_t rs, int64_t cs, int* op, int64_t* ld) {
  if (rows == 1) rs = cols;  // a stride along a size-1 dim is never used
  if (cols == 1) cs = 1;
  if (cs == 1 && rs >= (cols > 1 ? cols : 1)) {
    *op = kOpN;
    *ld = rs;
    return true;
  }
  if (rs == 1 && cs >= (rows > 1 ? rows : 1)) {
    *op = kOpT;
    *ld = cs;
    return true;
  }
  return false;
}

// dst (contiguous, t's shape) = t: any strides, broadcast batch dims materialised.
struct Compact {
  int nd;
  int64_t size[kMaxBatchDims + 2];
  int64_t stride[kMaxBatchDims + 2];
  int64_t n;
};
template <class T>
__global__ void compact_kernel(T* dst, const T* src, Compact c) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < c.n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off = 0, r = i;
    for (int d = c.nd - 1; d >= 0; --d) {
      off += (r % c.size[d]) * c.stride[d];
      r /= c.size[d];
    }
    dst[i] = src[off];
  }
}

// A contiguous copy of t in memory from the caching allocator (freed by the caller).
template <class T>
T* compact_copy(const Tensor& t) {
  Compact c;
  c.nd = int(t.ndim());
  c.n = t.numel();
  for (int d = 0; d < c.nd; ++d) {
    c.size[d] = t.shape()[size_t(d)];
    c.stride[d] = t.strides()[size_t(d)];
  }
  T* dst = static_cast<T*>(kAllocator.allocate(size_t(c.n) * sizeof(T)));
  if (!dst) fail(kMemory, "matmul: out of GPU memory for a %lld-element copy", (long long)c.n);
  compact_kernel<T><<<blocks_for(c.n), kThreads, 0, stream()>>>(dst, reinterpret_cast<const T*>(bytes_of(t)), c);
  check_launch("matmul (copy)");
  return dst;
}

template <class T>
__global__ void int_matmul_kernel(T* c, const T* a, const T* b, Batch ba, Batch bb, int64_t count, int64_t m, int64_t n,
                                  int64_t k, int64_t ars, int64_t acs, int64_t brs, int64_t bcs) {
  using U = std::make_unsigned_t<T>;
  const int64_t total = count * m * n;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t j = i % n, r = (i / n) % m, bi = i / (m * n);
    const T* pa = a + batch_offset(ba, bi) + r * ars;
    const T* pb = b + batch_offset(bb, bi) + j * bcs;
    U acc = 0;
    for (int64_t p = 0; p < k; ++p) acc += U(pa[p * acs]) * U(pb[p * brs]);
    c[i] = T(acc);
  }
}

bool fits_int(int64_t v) { return v <= int64_t(0x7fffffff); }

template <class T>
void float_matmul(const Tensor& out, const Tensor& a, const Tensor& b, int nb, int64_t count, int64_t m, int64_t n,
                  int64_t k) {
  const Cublas& cb = cublas();
  if (!cb.sgemm)
    fail(kRuntime, "matmul on the GPU needs cuBLAS: pip install tapegrad[cuda] (the nvidia-cublas wheel); %s", cb.why);
  if (!fits_int(m) || !fits_int(n) || !fits_int(k) || !fits_int(count))
    fail(kValue, "matmul: a dimension exceeds 2**31 - 1, beyond cuBLAS's 32-bit sizes");
  const size_t nd = size_t(nb) + 2;
  // C (m, n) row-major is C^T (n, m) column-major = B^T A^T: cuBLAS computes op(B) op(A) with B as
  // the first operand (n x k) and A as the second (k x m); ldc = n.
  int opa = kOpN, opb = kOpN;
  int64_t lda = 0, ldb = 0;
  T* ca = nullptr;
  T* cbuf = nullptr;
  const T* A = reinterpret_cast<const T*>(bytes_of(a));
  const T* B = reinterpret_cast<const T*>(bytes_of(b));
  Batch ba = batch_of(out, a, nb, a.strides().data()), bbat = batch_of(out, b, nb, b.strides().data());
  if (!gemm_layout(m, k, a.strides()[nd - 2], a.strides()[nd - 1], &opa, &lda) || !fits_int(lda)) {
    A = ca = compact_copy<T>(a);
    gemm_layout(m, k, k, 1, &opa, &lda);
    ba = batch_of(out, a, nb, nullptr);
  }
  if (!gemm_layout(k, n, b.strides()[nd - 2], b.strides()[nd - 1], &opb, &ldb) || !fits_int(ldb)) {
    B = cbuf = compact_copy<T>(b);
    gemm_layout(k, n, n, 1, &opb, &ldb);
    bbat = batch_of(out, b, nb, nullptr);
  }
  T* C = reinterpret_cast<T*>(bytes_of(out));
  const T one = T(1), zero = T(0);
  GemmFn<T> gemm;
  if constexpr (std::is_same<T, float>::value) gemm = cb.sgemm;
  else gemm = cb.dgemm;
  long long sa = 0, sb = 0;
  int st = 0;
  if (uniform_batch(ba, &sa) && uniform_batch(bbat, &sb)) {
    st = gemm(cb.handle, opb, opa, int(n), int(m), int(k), &one, B, int(ldb), sb, A, int(lda), sa, &zero, C, int(n),
              (long long)(m * n), int(count));
  } else {
    for (int64_t i = 0; i < count && st == 0; ++i)
      st = gemm(cb.handle, opb, opa, int(n), int(m), int(k), &one, B + batch_offset(bbat, i), int(ldb), 0,
                A + batch_offset(ba, i), int(lda), 0, &zero, C + i * m * n, int(n), 0, 1);
  }
  // The copies are freed at once: the caching allocator hands them out again only to work queued
  // after this product on the same stream (Note [Caching allocator]).
  if (ca) kAllocator.deallocate(ca, size_t(a.numel()) * sizeof(T));
  if (cbuf) kAllocator.deallocate(cbuf, size_t(b.numel()) * sizeof(T));
  if (st != 0) fail(kRuntime, "matmul: cuBLAS gemm failed (status %d)", st);
}

}  // namespace

void set_library_dir(const char* dir) {
  std::lock_guard<std::mutex> g(g_dir_mu);
  g_library_dir = dir;
}

void matmul(const Tensor& out, const Tensor& a, const Tensor& b) {
  const int nd = int(out.ndim());
  const int nb = nd - 2;
  const int64_t m = out.shape()[size_t(nd - 2)], n = out.shape()[size_t(nd - 1)], k = a.shape()[size_t(nd - 1)];
  if (out.numel() == 0) return;
  if (k == 0) {
    fill(out, 0.0);
    return;
  }
  int64_t count = 1;
  for (int d = 0; d < nb; ++d) count *= out.shape()[size_t(d)];
  switch (out.dtype()) {
    case DType::Float32: float_matmul<float>(out, a, b, nb, count, m, n, k); break;
    case DType::Float64: float_matmul<double>(out, a, b, nb, count, m, n, k); break;
    case DType::Int32:
    case DType::Int64: {
      const Batch ba = batch_of(out, a, nb, a.strides().data()), bb = batch_of(out, b, nb, b.strides().data());
      auto run = [&](auto tag) {
        using T = decltype(tag);
        const int64_t total = count * m * n;
        int_matmul_kernel<T><<<blocks_for(total), kThreads, 0, stream()>>>(
            reinterpret_cast<T*>(bytes_of(out)), reinterpret_cast<const T*>(bytes_of(a)),
            reinterpret_cast<const T*>(bytes_of(b)), ba, bb, count, m, n, k, a.strides()[size_t(nd - 2)],
            a.strides()[size_t(nd - 1)], b.strides()[size_t(nd - 2)], b.strides()[size_t(nd - 1)]);
        check_launch("matmul");
      };
      if (out.dtype() == DType::Int32) run(int32_t());
      else run(int64_t());
      break;
    }
    default: fail(kType, "matmul kernel: dtype %s is not supported on the GPU", dtype_str(out.dtype()));
  }
}

}  // namespace cuda
}  // namespace kernels
}  // namespace tapegrad
