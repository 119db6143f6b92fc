// Reductions over any set of axes. `out` has the keepdims shape; a zero stride in out along a
// reduced axis makes the N-d iterator visit each output element once per reduced element.
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "core/error.h"
#include "kernels/cpu/iter.h"
#include "kernels/kernels.h"

namespace tapegrad {
namespace kernels {
namespace cpu {
namespace {

template <class T>
struct SumOp {
  using A = std::conditional_t<std::is_same<T, float>::value, double, T>;
  static T identity() { return T(0); }
  static T combine(T a, T b) { return a + b; }
};

template <class T>
T nan_max(T a, T b) {
  if constexpr (std::is_floating_point<T>::value) {
    if (a != a) return a;
    if (b != b) return b;
  }
  return b > a ? b : a;
}
template <class T>
T nan_min(T a, T b) {
  if constexpr (std::is_floating_point<T>::value) {
    if (a != a) return a;
    if (b != b) return b;
  }
  return b < a ? b : a;
}

template <class T>
T identity(Red op) {
  switch (op) {
    case Red::Sum: return T(0);
    case Red::Prod: return T(1);
    case Red::Max:
      if constexpr (std::is_floating_point<T>::value) return -std::numeric_limits<T>::infinity();
      else return std::numeric_limits<T>::lowest();
    case Red::Min:
      if constexpr (std::is_floating_point<T>::value) return std::numeric_limits<T>::infinity();
      else return std::numeric_limits<T>::max();
    case Red::Any: return T(0);
    case Red::All: return T(1);
    default: return T(0);
  }
}

// Sum of a contiguous run: blocks of 8 independent partial sums (vectorisable), blocks added
// into a wider accumulator so that float32 sums of millions of elements stay accurate.
template <class T>
T sum_contig(const T* a, int64_t n) {
  using W = std::conditional_t<std::is_floating_point<T>::value, double, T>;
  W total = 0;
  int64_t i = 0;
  constexpr int64_t kBlock = 256;
  for (; i + kBlock <= n; i += kBlock) {
    T acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t j = 0; j < kBlock; j += 8)
      for (int k = 0; k < 8; ++k) acc[k] += a[i + j + k];
    total += W((acc[0] + acc[1]) + (acc[2] + acc[3])) + W((acc[4] + acc[5]) + (acc[6] + acc[7]));
  }
  for (; i < n; ++i) total += W(a[i]);
  return T(total);
}

template <class T>
void reduce_typed(Red op, const Tensor& out, const Tensor& a, uint64_t mask) {
  const int64_t nd = a.ndim();
  T* o = out.data<T>();
  const T init = identity<T>(op);
  const int64_t on = out.numel();
  for (int64_t i = 0; i < on; ++i) o[i] = init;
  if (a.numel() == 0) return;

  // Fast path: whole-tensor reduction of contiguous data, split across threads.
  if (on == 1 && a.is_contiguous()) {
    const T* p = a.data<T>();
    const int64_t n = a.numel();
    if (op == Red::Sum) {
      constexpr int kMaxParts = 64;
      T part[kMaxParts];
      int64_t grain = std::max<int64_t>(n / kMaxParts + 1, 1 << 16);
      int64_t nparts = (n + grain - 1) / grain;
      for (int64_t k = 0; k < nparts; ++k) part[k] = 0;
      parallel_for(nparts, 1, [&](int64_t b, int64_t e) {
        for (int64_t k = b; k < e; ++k) {
          int64_t lo = k * grain, hi = std::min(n, lo + grain);
          part[k] = sum_contig(p + lo, hi - lo);
        }
      });
      using W = std::conditional_t<std::is_floating_point<T>::value, double, T>;
      W t = 0;
      for (int64_t k = 0; k < nparts; ++k) t += W(part[k]);
      o[0] = T(t);
      return;
    }
  }

  Strides ost(size_t(nd), 0);
  for (int64_t d = 0; d < nd; ++d) ost[d] = ((mask >> d) & 1) ? 0 : out.strides()[d];
  char* ptrs[2] = {static_cast<char*>(out.raw_data()), static_cast<char*>(a.raw_data())};
  const Strides* st[2] = {&ost, &a.strides()};
  int64_t isz[2] = {int64_t(sizeof(T)), int64_t(sizeof(T))};
  NdIter it;
  it.init(a.shape(), 2, ptrs, st, isz);
  auto loop = [op](char** p, const int64_t* s, int64_t n) {
    T* po = reinterpret_cast<T*>(p[0]);
    const char* pa = p[1];
    if (s[0] == 0) {  // reduce a run into one output element
      T acc = *po;
      if (op == Red::Sum && s[1] == int64_t(sizeof(T))) {
        acc = acc + sum_contig(reinterpret_cast<const T*>(pa), n);
      } else {
        for (int64_t i = 0; i < n; ++i, pa += s[1]) {
          T v = *reinterpret_cast<const T*>(pa);
          switch (op) {
            case Red::Sum: acc = acc + v; break;
            case Red::Prod:
              if constexpr (std::is_same<T, bool>::value) acc = acc && v; else acc = acc * v;
              break;
            case Red::Max: acc = nan_max(acc, v); break;
            case Red::Min: acc = nan_min(acc, v); break;
            case Red::Any: acc = T(acc || v); break;
            case Red::All: acc = T(acc && v); break;
            default: break;
          }
        }
      }
      *po = acc;
    } else {  // accumulate a run of inputs into a run of outputs
      char* q = p[0];
      for (int64_t i = 0; i < n; ++i, q += s[0], pa += s[1]) {
        T& acc = *reinterpret_cast<T*>(q);
        T v = *reinterpret_cast<const T*>(pa);
        switch (op) {
          case Red::Sum: acc = acc + v; break;
          case Red::Prod:
              if constexpr (std::is_same<T, bool>::value) acc = acc && v; else acc = acc * v;
              break;
          case Red::Max: acc = nan_max(acc, v); break;
          case Red::Min: acc = nan_min(acc, v); break;
          case Red::Any: acc = T(acc || v); break;
          case Red::All: acc = T(acc && v); break;
          default: break;
        }
      }
    }
  };
  // NdIter::run takes a function pointer; route through a static trampoline per (T, op).
  struct Ctx {
    decltype(loop)* f;
  };
  static thread_local Ctx* ctx;
  Ctx c{&loop};
  ctx = &c;
  it.run([](char** p, const int64_t* s, int64_t n) { (*ctx->f)(p, s, n); }, 0, it.total);
}

template <class T>
void arg_reduce(bool is_max, const Tensor& out, const Tensor& a, int64_t axis) {
  // out: keepdims shape with 1 at `axis`, Int64.
  const int64_t nd = a.ndim(), len = a.shape()[axis], astr = a.strides()[axis];
  const int64_t on = out.numel();
  int64_t* o = out.data<int64_t>();
  const T* base = a.data<T>();
  Shape oshape = out.shape();
  std::vector<int64_t> idx(size_t(nd), 0);
  for (int64_t k = 0; k < on; ++k) {
    int64_t off = 0, rem = k;
    for (int64_t d = nd - 1; d >= 0; --d) {
      int64_t c = rem % oshape[d];
      rem /= oshape[d];
      off += c * a.strides()[d];
    }
    const T* p = base + off;
    int64_t best = 0;
    T bv = p[0];
    for (int64_t i = 1; i < len; ++i) {
      T v = p[i * astr];
      if constexpr (std::is_floating_point<T>::value) {
        if (bv != bv) break;  // first NaN wins, as in numpy
        if (v != v) { best = i; bv = v; break; }
      }
      if (is_max ? v > bv : v < bv) {
        bv = v;
        best = i;
      }
    }
    o[k] = best;
  }
}

}  // namespace

void reduce(Red op, const Tensor& out, const Tensor& a, uint64_t mask) {
  if (op == Red::ArgMax || op == Red::ArgMin) {
    int64_t axis = 0;
    while (!((mask >> axis) & 1)) ++axis;
    TG_DISPATCH_NUM(a.dtype(), arg_reduce<T>(op == Red::ArgMax, out, a, axis));
    return;
  }
  TG_CHECK_DTYPE(out.dtype() == a.dtype() && a.dtype() != DType::Float16, "reduce kernel: dtype ", a.dtype(),
                 " is not supported");
  TG_DISPATCH_NUM(a.dtype(), reduce_typed<T>(op, out, a, mask));
}

}  // namespace cpu

void reduce(Red op, const Tensor& out, const Tensor& a, uint64_t mask) { cpu::reduce(op, out, a, mask); }

}  // namespace kernels
}  // namespace tapegrad
