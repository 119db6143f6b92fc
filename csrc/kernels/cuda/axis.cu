// CUDA kernels along one axis (kernels/kernels_extra.h): scans, fused softmax, gather by index
// along an axis and the inverse permutation. The tensors are C-contiguous, seen as (outer, len,
// inner) around the axis, as on the CPU (kernels/cpu/axis_ops.cpp), whose semantics these follow:
// float32 scans accumulate in float64, integer scans wrap, softmax sums in float64 and a NaN makes
// its whole row NaN.
#include <cstdint>
#include <type_traits>

#include "kernels/cuda/common.cuh"

namespace tapegrad {
namespace kernels {
namespace cuda {

namespace {

struct Split3 {
  int64_t outer = 1, len = 1, inner = 1;
};
Split3 split3(const Shape& s, int64_t axis) {
  Split3 r;
  for (int64_t d = 0; d < int64_t(s.size()); ++d) {
    if (d < axis) r.outer *= s[size_t(d)];
    else if (d == axis) r.len = s[size_t(d)];
    else r.inner *= s[size_t(d)];
  }
  return r;
}

void check_contig(const Tensor& t, const char* what) {
  if (!t.is_contiguous()) fail(kValue, "%s kernel: expects contiguous tensors", what);
}

// One thread per line (o, i): the line is walked in order, so each scan is sequential as on the
// CPU (same rounding). Neighbouring threads read neighbouring columns when inner > 1 (coalesced);
// with inner == 1 a warp reads 32 lines apart. (A parallel scan within a line is faster for long
// lines; it would also round differently.)
template <class T, Scan op>
__global__ void scan_kernel(T* out, const T* a, Split3 s) {
  using W = std::conditional_t<op == Scan::Sum && std::is_same<T, float>::value, double, T>;
  const int64_t lines = s.outer * s.inner;
  for (int64_t k = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; k < lines; k += int64_t(gridDim.x) * blockDim.x) {
    const int64_t o = k / s.inner, i = k % s.inner;
    const int64_t base = o * s.len * s.inner + i;
    // -0.0 for float sums: the exact additive identity (cumsum([-0.0]) is -0.0, as numpy's).
    W acc = op == Scan::Sum ? (std::is_floating_point<W>::value ? W(-0.0) : W(0)) : W(1);
    for (int64_t l = 0; l < s.len; ++l) {
      const W v = W(a[base + l * s.inner]);
      if constexpr (std::is_integral<W>::value) {
        using U = std::make_unsigned_t<W>;
        acc = op == Scan::Sum ? W(U(acc) + U(v)) : W(U(acc) * U(v));
      } else {
        acc = op == Scan::Sum ? W(acc + v) : W(acc * v);
      }
      out[base + l * s.inner] = T(acc);
    }
  }
}

template <class T>
__global__ void softmax_kernel(T* out, const T* a, Split3 s, bool log) {
  const int64_t lines = s.outer * s.inner;
  for (int64_t k = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; k < lines; k += int64_t(gridDim.x) * blockDim.x) {
    const int64_t o = k / s.inner, i = k % s.inner;
    const T* pa = a + o * s.len * s.inner + i;
    T* po = out + o * s.len * s.inner + i;
    T m = Lim<T>::lo;
    bool nan = false;
    for (int64_t l = 0; l < s.len; ++l) {
      const T v = pa[l * s.inner];
      nan |= v != v;
      m = v > m ? v : m;
    }
    if (nan) m = T(0) / T(0);
    double sum = 0;
    for (int64_t l = 0; l < s.len; ++l) sum += double(exp(pa[l * s.inner] - m));
    if (log) {
      const T ls = T(::log(sum));
      for (int64_t l = 0; l < s.len; ++l) po[l * s.inner] = (pa[l * s.inner] - m) - ls;
    } else {
      const T r = T(1.0 / sum);
      for (int64_t l = 0; l < s.len; ++l) po[l * s.inner] = exp(pa[l * s.inner] - m) * r;
    }
  }
}

// out[o, j, i] = a[o, idx[o, j, i], i]; an index out of [0, alen) sets *bad (checked by the host).
template <class U>
__global__ void gather_kernel(U* out, const U* a, const int64_t* idx, int64_t outer, int64_t olen, int64_t alen,
                              int64_t inner, unsigned long long* bad) {
  const int64_t n = outer * olen * inner;
  for (int64_t k = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; k < n; k += int64_t(gridDim.x) * blockDim.x) {
    const int64_t i = k % inner, o = k / (olen * inner);
    const int64_t t = idx[k];
    if (t < 0 || t >= alen) {
      atomicExch(bad, (unsigned long long)(t));
      continue;
    }
    out[k] = a[(o * alen + t) * inner + i];
  }
}

__global__ void invperm_kernel(int64_t* out, const int64_t* idx, int64_t outer, int64_t len, int64_t inner) {
  const int64_t n = outer * len * inner;
  for (int64_t k = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; k < n; k += int64_t(gridDim.x) * blockDim.x) {
    const int64_t i = k % inner, j = (k / inner) % len, o = k / (len * inner);
    out[(o * len + idx[k]) * inner + i] = j;
  }
}

template <class K, class... A>
void launch_n(K kernel, int64_t n, const char* what, A... args) {
  if (n == 0) return;
  kernel<<<blocks_for(n), kThreads, 0, stream()>>>(args...);
  check_launch(what);
}

}  // namespace

void scan(Scan op, const Tensor& out, const Tensor& a, int64_t axis) {
  check_contig(a, "scan");
  check_contig(out, "scan");
  if (out.dtype() != a.dtype()) fail(kType, "scan kernel: dtype mismatch");
  if (a.numel() == 0) return;
  const Split3 s = split3(a.shape(), axis);
  const int64_t lines = s.outer * s.inner;
  auto run = [&](auto tag) {
    using T = decltype(tag);
    T* o = reinterpret_cast<T*>(bytes_of(out));
    const T* p = reinterpret_cast<const T*>(bytes_of(a));
    if (op == Scan::Sum) launch_n(scan_kernel<T, Scan::Sum>, lines, "cumsum", o, p, s);
    else launch_n(scan_kernel<T, Scan::Prod>, lines, "cumprod", o, p, s);
  };
  switch (a.dtype()) {
    case DType::Int64: run(int64_t()); break;
    case DType::Float32: run(float()); break;
    case DType::Float64: run(double()); break;
    default: fail(kType, "scan kernel: dtype %s is not supported", dtype_str(a.dtype()));
  }
}

void softmax(const Tensor& out, const Tensor& a, int64_t axis, bool log) {
  check_contig(a, "softmax");
  check_contig(out, "softmax");
  if (a.numel() == 0) return;
  const Split3 s = split3(a.shape(), axis);
  const int64_t lines = s.outer * s.inner;
  switch (a.dtype()) {
    case DType::Float32:
      launch_n(softmax_kernel<float>, lines, "softmax", reinterpret_cast<float*>(bytes_of(out)),
               reinterpret_cast<const float*>(bytes_of(a)), s, log);
      break;
    case DType::Float64:
      launch_n(softmax_kernel<double>, lines, "softmax", reinterpret_cast<double*>(bytes_of(out)),
               reinterpret_cast<const double*>(bytes_of(a)), s, log);
      break;
    default: fail(kType, "softmax kernel: dtype %s is not supported", dtype_str(a.dtype()));
  }
}

void gather_axis(const Tensor& out, const Tensor& a, const Tensor& idx, int64_t axis) {
  check_contig(a, "gather");
  check_contig(out, "gather");
  check_contig(idx, "gather");
  if (out.numel() == 0) return;
  const Split3 so = split3(out.shape(), axis), sa = split3(a.shape(), axis);
  // The bounds are checked on the device: a flag (initially a value no index can have) that the
  // host reads back after the kernel, a synchronisation this kernel pays for its IndexError.
  const unsigned long long kNone = 0x8000000000000000ull;
  auto* bad = static_cast<unsigned long long*>(kAllocator.allocate(sizeof(unsigned long long)));
  if (!bad) fail(kMemory, "gather: out of GPU memory");
  unsigned long long host = kNone;
  bool ok = kAllocator.copy(bad, &host, sizeof(host), kCopyFromHost);
  const int64_t* pi = reinterpret_cast<const int64_t*>(bytes_of(idx));
  const int64_t n = out.numel();
  if (ok) {
    switch (itemsize(a.dtype())) {
#define TG_GATHER(U)                                                                              \
  launch_n(gather_kernel<U>, n, "gather", reinterpret_cast<U*>(bytes_of(out)),                    \
           reinterpret_cast<const U*>(bytes_of(a)), pi, so.outer, so.len, sa.len, so.inner, bad); \
  break;
      case 1: TG_GATHER(uint8_t)
      case 2: TG_GATHER(uint16_t)
      case 4: TG_GATHER(uint32_t)
      default: TG_GATHER(uint64_t)
#undef TG_GATHER
    }
    ok = kAllocator.copy(&host, bad, sizeof(host), kCopyToHost);
  }
  kAllocator.deallocate(bad, sizeof(unsigned long long));
  if (!ok) fail(kRuntime, "gather: %s", kAllocator.error());
  if (host != kNone)
    fail(kIndex, "gather: index %lld is out of bounds for an axis of size %lld", (long long)host, (long long)sa.len);
}

void invert_permutation(const Tensor& out, const Tensor& idx, int64_t axis) {
  check_contig(out, "invert_permutation");
  check_contig(idx, "invert_permutation");
  if (out.numel() == 0) return;
  const Split3 s = split3(idx.shape(), axis);
  launch_n(invperm_kernel, idx.numel(), "invert_permutation", reinterpret_cast<int64_t*>(bytes_of(out)),
           reinterpret_cast<const int64_t*>(bytes_of(idx)), s.outer, s.len, s.inner);
}

}  // namespace cuda
}  // namespace kernels
}  // namespace tapegrad
