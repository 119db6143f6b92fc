// CUDA reductions over any set of axes (sum, prod, max, min, any, all) and along one axis (argmax,
// argmin), with the CPU kernels' semantics (kernels/cpu/reduce.cpp): float32 sums accumulate in
// float64, integer sums and products wrap, max/min propagate NaN, arg* take the first occurrence
// and the first NaN.
#include <cstdint>
#include <type_traits>

#include "kernels/cuda/common.cuh"

namespace tapegrad {
namespace kernels {
namespace cuda {

namespace {

// Note [CUDA reductions]
// ~~~~~~~~~~~~~~~~~~~~~~
// One thread block per output element (grid-stride over the outputs): its threads stride over the
// reduced elements, each keeps a partial result, and the block combines them in shared memory.
// The kept dims and the reduced dims are two index spaces, each with the input's strides, so any
// axes mask and any input strides (broadcast ones included) need no copy. The block is as wide as
// the reduced extent asks (32 to 256 threads). Tuning for reductions over a few elements per
// output (a warp per output, or a thread per output) waits for a GPU to measure on.
constexpr int kRedDims = 10;

struct RedIter {
  int nkeep = 0, nred = 0;
  int64_t nout = 0, len = 0;
  int64_t keep_size[kRedDims], keep_in[kRedDims], keep_out[kRedDims];  // strides in elements
  int64_t red_size[kRedDims], red_in[kRedDims];
  char* out;
  const char* in;
};

template <class T, Red op>
using Acc = std::conditional_t<op == Red::Sum && std::is_same<T, float>::value, double, T>;

template <class W, Red op>
__device__ __forceinline__ W identity() {
  if constexpr (op == Red::Sum || op == Red::Any) return W(0);
  else if constexpr (op == Red::Prod || op == Red::All) return W(1);
  else if constexpr (op == Red::Max) return Lim<W>::lo;  // -inf for floats
  else return Lim<W>::hi;
}

template <Red op, class W>
__device__ __forceinline__ W step(W acc, W v) {
  constexpr bool kWrap = std::is_integral<W>::value && !std::is_same<W, bool>::value;
  using U = std::make_unsigned_t<std::conditional_t<kWrap, W, int>>;
  if constexpr (op == Red::Sum) {
    if constexpr (kWrap) return W(U(acc) + U(v));
    else if constexpr (std::is_same<W, bool>::value) return acc || v;
    else return acc + v;
  } else if constexpr (op == Red::Prod) {
    if constexpr (std::is_same<W, bool>::value) return acc && v;
    else if constexpr (kWrap) return W(U(acc) * U(v));
    else return acc * v;
  } else if constexpr (op == Red::Max) {
    if constexpr (std::is_floating_point<W>::value) return (v > acc || v != v) && acc == acc ? v : acc;
    else return v > acc ? v : acc;
  } else if constexpr (op == Red::Min) {
    if constexpr (std::is_floating_point<W>::value) return (v < acc || v != v) && acc == acc ? v : acc;
    else return v < acc ? v : acc;
  } else if constexpr (op == Red::Any) {
    return acc || v;
  } else {
    return acc && v;
  }
}

__device__ __forceinline__ int64_t index_offset(int64_t i, int n, const int64_t* size, const int64_t* stride) {
  int64_t off = 0;
  for (int d = n - 1; d >= 0; --d) {
    off += (i % size[d]) * stride[d];
    i /= size[d];
  }
  return off;
}

template <class T, Red op>
__global__ void reduce_kernel(const RedIter it) {
  using W = Acc<T, op>;
  __shared__ W part[kThreads];
  const T* in = reinterpret_cast<const T*>(it.in);
  for (int64_t o = blockIdx.x; o < it.nout; o += gridDim.x) {
    const int64_t base = index_offset(o, it.nkeep, it.keep_size, it.keep_in);
    W acc = identity<W, op>();
    for (int64_t r = threadIdx.x; r < it.len; r += blockDim.x)
      acc = step<op, W>(acc, W(in[base + index_offset(r, it.nred, it.red_size, it.red_in)]));
    part[threadIdx.x] = acc;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
      if (threadIdx.x < s) part[threadIdx.x] = step<op, W>(part[threadIdx.x], part[threadIdx.x + s]);
      __syncthreads();
    }
    if (threadIdx.x == 0)
      reinterpret_cast<T*>(it.out)[index_offset(o, it.nkeep, it.keep_size, it.keep_out)] = T(part[0]);
    __syncthreads();
  }
}

// (value, index) pairs: the better value wins, ties and NaN ties go to the lower index, a NaN beats
// any number.
template <class T, bool kMax>
__device__ __forceinline__ bool better(T v, int64_t i, T bv, int64_t bi) {
  if constexpr (std::is_floating_point<T>::value) {
    const bool vn = v != v, bn = bv != bv;
    if (vn || bn) return vn && (!bn || i < bi);
  }
  if (kMax ? v > bv : v < bv) return true;
  return v == bv && i < bi;
}

template <class T, bool kMax>
__global__ void arg_kernel(const RedIter it) {
  __shared__ T pv[kThreads];
  __shared__ int64_t pi[kThreads];
  const T* in = reinterpret_cast<const T*>(it.in);
  for (int64_t o = blockIdx.x; o < it.nout; o += gridDim.x) {
    const int64_t base = index_offset(o, it.nkeep, it.keep_size, it.keep_in);
    T bv = T(0);
    int64_t bi = -1;
    for (int64_t r = threadIdx.x; r < it.len; r += blockDim.x) {
      const T v = in[base + r * it.red_in[0]];
      if (bi < 0 || better<T, kMax>(v, r, bv, bi)) {
        bv = v;
        bi = r;
      }
    }
    pv[threadIdx.x] = bv;
    pi[threadIdx.x] = bi;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
      if (threadIdx.x < s) {
        const int64_t j = pi[threadIdx.x + s];
        if (j >= 0 &&
            (pi[threadIdx.x] < 0 || better<T, kMax>(pv[threadIdx.x + s], j, pv[threadIdx.x], pi[threadIdx.x]))) {
          pv[threadIdx.x] = pv[threadIdx.x + s];
          pi[threadIdx.x] = j;
        }
      }
      __syncthreads();
    }
    if (threadIdx.x == 0)
      reinterpret_cast<int64_t*>(it.out)[index_offset(o, it.nkeep, it.keep_size, it.keep_out)] = pi[0];
    __syncthreads();
  }
}

RedIter make_red_iter(const Tensor& out, const Tensor& a, uint64_t mask) {
  RedIter it;
  it.out = bytes_of(out);
  it.in = bytes_of(a);
  it.nout = 1;
  it.len = 1;
  for (int64_t d = 0; d < a.ndim(); ++d) {
    const int64_t s = a.shape()[size_t(d)];
    if (s == 1) continue;
    if ((mask >> d) & 1) {
      if (it.nred == kRedDims) fail(kValue, "reduce: the GPU kernels reduce over at most %d axes", kRedDims);
      it.red_size[it.nred] = s;
      it.red_in[it.nred++] = a.strides()[size_t(d)];
      it.len *= s;
    } else {
      if (it.nkeep == kRedDims) fail(kValue, "reduce: the GPU kernels keep at most %d axes", kRedDims);
      it.keep_size[it.nkeep] = s;
      it.keep_in[it.nkeep] = a.strides()[size_t(d)];
      it.keep_out[it.nkeep++] = out.strides()[size_t(d)];
      it.nout *= s;
    }
  }
  if (it.nred == 0) {  // argmax over an axis of size 1
    it.red_size[0] = 1;
    it.red_in[0] = 0;
  }
  return it;
}

unsigned threads_for(int64_t len) {
  unsigned t = 32;
  while (t < unsigned(kThreads) && int64_t(t) < len) t <<= 1;
  return t;
}

template <class K>
void launch_red(K kernel, const RedIter& it, const char* what) {
  if (it.nout == 0) return;
  const unsigned grid = unsigned(it.nout < (int64_t(1) << 20) ? it.nout : (int64_t(1) << 20));
  kernel<<<grid, threads_for(it.len), 0, stream()>>>(it);
  check_launch(what);
}

template <class T>
void reduce_typed(Red op, const RedIter& it) {
  switch (op) {
    case Red::Sum: launch_red(reduce_kernel<T, Red::Sum>, it, "sum"); break;
    case Red::Prod: launch_red(reduce_kernel<T, Red::Prod>, it, "prod"); break;
    case Red::Max: launch_red(reduce_kernel<T, Red::Max>, it, "max"); break;
    case Red::Min: launch_red(reduce_kernel<T, Red::Min>, it, "min"); break;
    case Red::ArgMax: launch_red(arg_kernel<T, true>, it, "argmax"); break;
    case Red::ArgMin: launch_red(arg_kernel<T, false>, it, "argmin"); break;
    case Red::Any:
    case Red::All:
      if constexpr (std::is_same<T, bool>::value) {
        launch_red(op == Red::Any ? reduce_kernel<T, Red::Any> : reduce_kernel<T, Red::All>, it, "any/all");
        break;
      } else {
        fail(kType, "reduce kernel: any/all take Bool tensors");
      }
    case Red::kCount: break;
  }
}

}  // namespace

void reduce(Red op, const Tensor& out, const Tensor& a, uint64_t mask) {
  const bool arg = op == Red::ArgMax || op == Red::ArgMin;
  if (!arg && out.dtype() != a.dtype())
    fail(kType, "reduce kernel: dtypes %s and %s differ", dtype_str(out.dtype()), dtype_str(a.dtype()));
  if (a.numel() == 0) {  // the identity everywhere (the ops layer rejects max/min/arg* here)
    if (out.numel() == 0) return;
    double v = 0;
    if (op == Red::Prod || op == Red::All) v = 1;
    fill(out, v);
    return;
  }
  const RedIter it = make_red_iter(out, a, mask);
  switch (a.dtype()) {
    case DType::Bool: reduce_typed<bool>(op, it); break;
    case DType::Int32: reduce_typed<int32_t>(op, it); break;
    case DType::Int64: reduce_typed<int64_t>(op, it); break;
    case DType::Float32: reduce_typed<float>(op, it); break;
    case DType::Float64: reduce_typed<double>(op, it); break;
    default: fail(kType, "reduce kernel: dtype %s is not supported on the GPU", dtype_str(a.dtype()));
  }
}

}  // namespace cuda
}  // namespace kernels
}  // namespace tapegrad
