// CUDA gathers and scatters through index rows (kernels/kernels_index.h, canonical form): `x` is
// indexed on its first k dims by the rows of `idx` (contiguous Int64, shape B + (k,), values in
// range), the remaining dims (the rest) are carried along.
#include <cstdint>
#include <type_traits>

#include "kernels/cuda/common.cuh"
#include "kernels/kernels_index.h"

namespace tapegrad {
namespace kernels {
namespace cuda {

namespace {

// Note [CUDA index rows]
// ~~~~~~~~~~~~~~~~~~~~~~
// One thread per (row b, rest element r). Gather and scatter-add (the gather's VJP) run every pair
// in parallel; scatter-add adds with atomics, so repeated rows sum in an unspecified order (floats
// may differ from the CPU's fixed order in the last bits). Assignment must let the last row in C
// order win where rows repeat: one thread per rest element walks the rows in order (serial over
// rows: slow for many rows of one element each, but exact). Bool accumulation (logical or) takes
// the same ordered path.
constexpr int kIdxDims = 10;

struct Rows {
  int k = 0, nb = 0, nrest = 0;
  int64_t m = 1, rest_n = 1;
  int64_t xs[kIdxDims];                                    // x's strides of the indexed dims
  int64_t b_size[kIdxDims], b_v[kIdxDims];                 // B dims, strides of out / v
  int64_t r_size[kIdxDims], r_x[kIdxDims], r_v[kIdxDims];  // rest dims, strides of x and out / v
  const int64_t* idx;
  char* x;
  char* v;  // out (gather) or the values (scatter)
};

// `v`: the gather's output or the scatter's values, of shape B + rest.
Rows make_rows(const Tensor& x, const Tensor& v, const Tensor& idx, const char* what) {
  Rows r;
  r.k = int(idx.shape().back());
  r.nb = int(idx.ndim()) - 1;
  r.nrest = int(x.ndim()) - r.k;
  if (r.k > kIdxDims || r.nb > kIdxDims || r.nrest > kIdxDims)
    fail(kValue, "%s: the GPU kernels take at most %d dims in each part of an index", what, kIdxDims);
  for (int j = 0; j < r.k; ++j) r.xs[j] = x.strides()[size_t(j)];
  for (int d = 0; d < r.nb; ++d) {
    r.b_size[d] = idx.shape()[size_t(d)];
    r.b_v[d] = v.shape()[size_t(d)] == 1 ? 0 : v.strides()[size_t(d)];
    r.m *= r.b_size[d];
  }
  for (int d = 0; d < r.nrest; ++d) {
    r.r_size[d] = x.shape()[size_t(r.k + d)];
    r.r_x[d] = x.strides()[size_t(r.k + d)];
    r.r_v[d] = v.shape()[size_t(r.nb + d)] == 1 ? 0 : v.strides()[size_t(r.nb + d)];
    r.rest_n *= r.r_size[d];
  }
  r.idx = reinterpret_cast<const int64_t*>(bytes_of(idx));
  r.x = bytes_of(x);
  r.v = bytes_of(v);
  return r;
}

__device__ __forceinline__ void rest_offsets(const Rows& r, int64_t e, int64_t* ox, int64_t* ov) {
  int64_t a = 0, b = 0;
  for (int d = r.nrest - 1; d >= 0; --d) {
    const int64_t c = e % r.r_size[d];
    e /= r.r_size[d];
    a += c * r.r_x[d];
    b += c * r.r_v[d];
  }
  *ox = a;
  *ov = b;
}

__device__ __forceinline__ int64_t row_offset(const Rows& r, int64_t b, int64_t* ov) {
  int64_t off = 0;
  const int64_t* row = r.idx + b * r.k;
  for (int j = 0; j < r.k; ++j) off += row[j] * r.xs[j];
  int64_t o = 0, bb = b;
  for (int d = r.nb - 1; d >= 0; --d) {
    o += (bb % r.b_size[d]) * r.b_v[d];
    bb /= r.b_size[d];
  }
  *ov = o;
  return off;
}

template <class T>
__global__ void gather_rows_kernel(const Rows r) {
  const int64_t n = r.m * r.rest_n;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t ov, rx, rv;
    const int64_t xo = row_offset(r, i / r.rest_n, &ov);
    rest_offsets(r, i % r.rest_n, &rx, &rv);
    reinterpret_cast<T*>(r.v)[ov + rv] = reinterpret_cast<const T*>(r.x)[xo + rx];
  }
}

template <class T>
__device__ __forceinline__ void atomic_add(T* p, T v) {
  if constexpr (std::is_same<T, int64_t>::value) {
    atomicAdd(reinterpret_cast<unsigned long long*>(p), (unsigned long long)(v));  // wraps as numpy's
  } else {
    atomicAdd(p, v);
  }
}

template <class T>
__global__ void scatter_add_kernel(const Rows r) {
  const int64_t n = r.m * r.rest_n;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t ov, rx, rv;
    const int64_t xo = row_offset(r, i / r.rest_n, &ov);
    rest_offsets(r, i % r.rest_n, &rx, &rv);
    atomic_add(reinterpret_cast<T*>(r.x) + xo + rx, reinterpret_cast<const T*>(r.v)[ov + rv]);
  }
}

// In C order of the rows (Note [CUDA index rows]): assignment (last write wins), or Bool or-ing.
template <class T, bool kOr>
__global__ void scatter_ordered_kernel(const Rows r) {
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < r.rest_n; e += int64_t(gridDim.x) * blockDim.x) {
    int64_t rx, rv;
    rest_offsets(r, e, &rx, &rv);
    for (int64_t b = 0; b < r.m; ++b) {
      int64_t ov;
      T* d = reinterpret_cast<T*>(r.x) + row_offset(r, b, &ov) + rx;
      const T s = reinterpret_cast<const T*>(r.v)[ov + rv];
      if constexpr (kOr) *d = T(*d || s);
      else *d = s;
    }
  }
}

template <class K>
void launch_rows(K kernel, int64_t n, const Rows& r, const char* what) {
  if (n == 0) return;
  kernel<<<blocks_for(n), kThreads, 0, stream()>>>(r);
  check_launch(what);
}

}  // namespace

void index_gather(const Tensor& out, const Tensor& x, const Tensor& idx) {
  if (out.numel() == 0) return;
  const Rows r = make_rows(x, out, idx, "index_gather");
  const int64_t n = r.m * r.rest_n;
  switch (itemsize(x.dtype())) {
    case 1: launch_rows(gather_rows_kernel<uint8_t>, n, r, "index_gather"); break;
    case 2: launch_rows(gather_rows_kernel<uint16_t>, n, r, "index_gather"); break;
    case 4: launch_rows(gather_rows_kernel<uint32_t>, n, r, "index_gather"); break;
    default: launch_rows(gather_rows_kernel<uint64_t>, n, r, "index_gather"); break;
  }
}

void index_scatter(const Tensor& x, const Tensor& v, const Tensor& idx, bool accumulate) {
  const Rows r = make_rows(x, v, idx, accumulate ? "index_add" : "index_put");
  if (r.m == 0 || v.numel() == 0) return;
  const int64_t n = r.m * r.rest_n;
  if (!accumulate) {
    switch (itemsize(x.dtype())) {
      case 1: launch_rows(scatter_ordered_kernel<uint8_t, false>, r.rest_n, r, "index_put"); break;
      case 2: launch_rows(scatter_ordered_kernel<uint16_t, false>, r.rest_n, r, "index_put"); break;
      case 4: launch_rows(scatter_ordered_kernel<uint32_t, false>, r.rest_n, r, "index_put"); break;
      default: launch_rows(scatter_ordered_kernel<uint64_t, false>, r.rest_n, r, "index_put"); break;
    }
    return;
  }
  switch (x.dtype()) {
    case DType::Bool: launch_rows(scatter_ordered_kernel<bool, true>, r.rest_n, r, "index_add"); break;
    case DType::Int32: launch_rows(scatter_add_kernel<int32_t>, n, r, "index_add"); break;
    case DType::Int64: launch_rows(scatter_add_kernel<int64_t>, n, r, "index_add"); break;
    case DType::Float32: launch_rows(scatter_add_kernel<float>, n, r, "index_add"); break;
    case DType::Float64: launch_rows(scatter_add_kernel<double>, n, r, "index_add"); break;
    default: fail(kType, "index_add kernel: dtype %s is not supported on the GPU", dtype_str(x.dtype()));
  }
}

}  // namespace cuda
}  // namespace kernels
}  // namespace tapegrad
