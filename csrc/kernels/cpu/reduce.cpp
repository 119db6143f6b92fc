// Reductions over any set of axes. `out` has the keepdims shape.
//
// Fast path: when the input is dense (C-contiguous, possibly after reordering its axes by stride,
// which covers transposes) and the reduced axes form one block, the reduction is
// (outer, len, inner) -> (outer, inner): rows (inner == 1) are reduced with independent lanes
// (vectorised), columns (inner > 1) by accumulating whole rows of `inner` elements (vectorised).
// Large reductions are split over the thread pool in fixed chunks, so results do not depend on the
// thread count. Float32 sums accumulate in double. Everything else goes through the N-d iterator:
// a zero stride in out along a reduced axis makes it visit each output once per reduced element.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <type_traits>
#include <vector>

#include "core/error.h"
#include "kernels/cpu/iter.h"
#include "kernels/cpu/loops.h"
#include "kernels/kernels.h"

namespace tapegrad {
namespace kernels {
namespace cpu {

namespace {

constexpr int64_t kChunk = int64_t(1) << 16;  // elements per parallel work item / partial sum
constexpr int64_t kColBlock = kSimdColBlock;  // columns accumulated together

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

// Accumulator type: float32 sums accumulate in double; everything else in T.
template <class T, Red op>
using Acc = std::conditional_t<op == Red::Sum && std::is_same<T, float>::value, double, T>;

// One step of the reduction. Max/Min are NaN-sticky (numpy propagates NaN) and written without
// branches on the accumulator so that lanes vectorise.
// Integer sums and products wrap as numpy's do, through the unsigned type (no signed-overflow UB).
template <Red op, class W, class T>
inline W step(W acc, T v) {
  constexpr bool kWrap = std::is_integral<W>::value && !std::is_same<W, bool>::value;
  using U = std::make_unsigned_t<std::conditional_t<kWrap, W, int>>;
  if constexpr (op == Red::Sum) {
    if constexpr (kWrap) return W(U(acc) + U(W(v)));
    else return acc + W(v);
  } else if constexpr (op == Red::Prod) {
    if constexpr (std::is_same<T, bool>::value) return acc && v;
    else if constexpr (kWrap) return W(U(acc) * U(W(v)));
    else return acc * v;
  } else if constexpr (op == Red::Max) {
    return (v > acc || v != v) ? W(v) : acc;
  } else if constexpr (op == Red::Min) {
    return (v < acc || v != v) ? W(v) : acc;
  } else if constexpr (op == Red::Any) {
    return acc || v;
  } else {
    return acc && v;
  }
}

// Combine two partial results (same as step for every op here).
template <Red op, class W>
inline W merge(W a, W b) {
  if constexpr (op == Red::Max || op == Red::Min) {
    if constexpr (std::is_floating_point<W>::value) {
      if (a != a) return a;
    }
  }
  return step<op, W, W>(a, b);
}

// Reduce a contiguous run of at most kChunk elements: the ISA table's vector loops for float sums
// and extrema, 8 independent lanes otherwise.
template <class T, Red op>
Acc<T, op> reduce_run(const T* p, int64_t n) {
  using W = Acc<T, op>;
  constexpr bool kFloat = std::is_floating_point<T>::value;
  if constexpr (kFloat && op == Red::Sum) {
    if constexpr (std::is_same<T, float>::value) return isa().reduce.sum_f32(p, n);
    else return isa().reduce.sum_f64(p, n);
  } else if constexpr (kFloat && (op == Red::Max || op == Red::Min)) {
    const ReduceLoops& f = isa().reduce;
    bool nan = false;
    T m;
    if constexpr (std::is_same<T, float>::value) m = (op == Red::Max ? f.max_f32 : f.min_f32)(p, n, nan);
    else m = (op == Red::Max ? f.max_f64 : f.min_f64)(p, n, nan);
    return nan ? std::numeric_limits<T>::quiet_NaN() : m;
  } else {
    const W init = identity<W>(op);
    W acc[8] = {init, init, init, init, init, init, init, init};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
      for (int k = 0; k < 8; ++k) acc[k] = step<op>(acc[k], p[i + k]);
    W r = init;
    for (int k = 0; k < 8; ++k) r = merge<op>(r, acc[k]);
    for (; i < n; ++i) r = merge<op>(r, W(p[i]));
    return r;
  }
}

// A whole row: fixed chunks combined in order (the parallel path computes the same chunks).
template <class T, Red op>
Acc<T, op> reduce_row(const T* p, int64_t n) {
  using W = Acc<T, op>;
  if (n <= kChunk) return reduce_run<T, op>(p, n);
  W r = identity<W>(op);
  for (int64_t i = 0; i < n; i += kChunk) r = merge<op>(r, reduce_run<T, op>(p + i, std::min(kChunk, n - i)));
  return r;
}

// out[j] = reduce over l < len of base[l * stride + j], j < cb <= kColBlock.
template <class T, Red op>
void reduce_cols(T* out, const T* base, int64_t len, int64_t stride, int64_t cb) {
  using W = Acc<T, op>;
  constexpr bool kFloat = std::is_floating_point<T>::value;
  if constexpr (kFloat && (op == Red::Sum || op == Red::Max || op == Red::Min)) {
    const ReduceLoops& f = isa().reduce;
    constexpr bool k32 = std::is_same<T, float>::value;
    if constexpr (op == Red::Sum) {
      if constexpr (k32) f.colsum_f32(out, base, len, stride, cb);
      else f.colsum_f64(out, base, len, stride, cb);
    } else if constexpr (op == Red::Max) {
      if constexpr (k32) f.colmax_f32(out, base, len, stride, cb);
      else f.colmax_f64(out, base, len, stride, cb);
    } else {
      if constexpr (k32) f.colmin_f32(out, base, len, stride, cb);
      else f.colmin_f64(out, base, len, stride, cb);
    }
  } else {
    W acc[kColBlock];
    const W init = identity<W>(op);
    for (int64_t j = 0; j < cb; ++j) acc[j] = init;
    for (int64_t l = 0; l < len; ++l) {
      const T* row = base + l * stride;
      for (int64_t j = 0; j < cb; ++j) acc[j] = step<op>(acc[j], row[j]);
    }
    for (int64_t j = 0; j < cb; ++j) out[j] = T(acc[j]);
  }
}

// (outer, len, inner) contiguous -> out (outer, inner) contiguous.
template <class T, Red op>
void reduce_dense(T* out, const T* a, int64_t outer, int64_t len, int64_t inner) {
  using W = Acc<T, op>;
  if (inner == 1) {
    if (outer >= 4 || len <= kChunk) {
      int64_t grain = std::max<int64_t>(1, kChunk / std::max<int64_t>(len, 1));
      parallel_for(outer, grain, [&](int64_t b, int64_t e) {
        for (int64_t o = b; o < e; ++o) out[o] = T(reduce_row<T, op>(a + o * len, len));
      });
    } else {
      // Few long rows: chunks in parallel, merged in order.
      const int64_t nch = (len + kChunk - 1) / kChunk;
      // (not std::vector: vector<bool> packs bits, which threads cannot write concurrently)
      std::unique_ptr<W[]> part(new W[size_t(outer * nch)]);
      parallel_for(outer * nch, 1, [&](int64_t b, int64_t e) {
        for (int64_t k = b; k < e; ++k) {
          int64_t o = k / nch, c = k % nch, lo = c * kChunk;
          part[size_t(k)] = reduce_run<T, op>(a + o * len + lo, std::min(kChunk, len - lo));
        }
      });
      for (int64_t o = 0; o < outer; ++o) {
        W r = identity<W>(op);
        for (int64_t c = 0; c < nch; ++c) r = merge<op>(r, part[size_t(o * nch + c)]);
        out[o] = T(r);
      }
    }
    return;
  }
  // Columns: accumulate rows of `inner` elements, kColBlock columns at a time.
  const int64_t nblk = (inner + kColBlock - 1) / kColBlock;
  const int64_t items = outer * nblk;
  const int64_t cbmax = std::min(inner, kColBlock);
  if (items < 4 && len * cbmax > 8 * kChunk) {
    // Few column blocks over many rows: split the rows into fixed chunks (parallel); the partial
    // results, laid out [item][chunk][column], are then reduced as columns themselves.
    const int64_t rows = std::max<int64_t>(1, 4 * kChunk / cbmax);
    const int64_t nch = (len + rows - 1) / rows;
    std::unique_ptr<T[]> part(new T[size_t(items * nch * cbmax)]);
    parallel_for(items * nch, 1, [&](int64_t b, int64_t e) {
      for (int64_t k = b; k < e; ++k) {
        const int64_t it = k / nch, c = k % nch;
        const int64_t o = it / nblk, i0 = (it % nblk) * kColBlock, cb = std::min(kColBlock, inner - i0);
        const int64_t l0 = c * rows, l1 = std::min(len, l0 + rows);
        reduce_cols<T, op>(part.get() + k * cbmax, a + (o * len + l0) * inner + i0, l1 - l0, inner, cb);
      }
    });
    for (int64_t it = 0; it < items; ++it) {
      const int64_t o = it / nblk, i0 = (it % nblk) * kColBlock, cb = std::min(kColBlock, inner - i0);
      reduce_cols<T, op>(out + o * inner + i0, part.get() + it * nch * cbmax, nch, cbmax, cb);
    }
    return;
  }
  int64_t grain = std::max<int64_t>(1, kChunk / std::max<int64_t>(len * cbmax, 1));
  parallel_for(items, grain, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      const int64_t o = k / nblk, i0 = (k % nblk) * kColBlock, cb = std::min(kColBlock, inner - i0);
      reduce_cols<T, op>(out + o * inner + i0, a + o * len * inner + i0, len, inner, cb);
    }
  });
}

template <class T>
void reduce_dense_op(Red op, T* out, const T* a, int64_t outer, int64_t len, int64_t inner) {
  switch (op) {
    case Red::Sum: reduce_dense<T, Red::Sum>(out, a, outer, len, inner); break;
    case Red::Prod: reduce_dense<T, Red::Prod>(out, a, outer, len, inner); break;
    case Red::Max: reduce_dense<T, Red::Max>(out, a, outer, len, inner); break;
    case Red::Min: reduce_dense<T, Red::Min>(out, a, outer, len, inner); break;
    case Red::Any:
      if constexpr (std::is_same<T, bool>::value) reduce_dense<T, Red::Any>(out, a, outer, len, inner);
      break;
    case Red::All:
      if constexpr (std::is_same<T, bool>::value) reduce_dense<T, Red::All>(out, a, outer, len, inner);
      break;
    default: break;
  }
}

// Generic strided path (broadcast inputs, reductions over several separate blocks of axes).
template <class T>
void reduce_generic(Red op, const Tensor& out, const Tensor& a, uint64_t mask) {
  const int64_t nd = a.ndim();
  Strides ost(size_t(nd), 0);
  for (int64_t d = 0; d < nd; ++d) ost[size_t(d)] = ((mask >> d) & 1) ? 0 : out.strides()[size_t(d)];
  char* ptrs[2] = {static_cast<char*>(out.raw_data()), static_cast<char*>(a.raw_data())};
  const Strides* st[2] = {&ost, &a.strides()};
  int64_t isz[2] = {int64_t(sizeof(T)), int64_t(sizeof(T))};
  NdIter it;
  it.init(a.shape(), 2, ptrs, st, isz);
  static thread_local Red t_op;
  t_op = op;
  it.run(
      [](char** p, const int64_t* s, int64_t n) {
        const Red op = t_op;
        char* q = p[0];
        const char* pa = p[1];
        for (int64_t i = 0; i < n; ++i, q += s[0], pa += s[1]) {
          T& acc = *reinterpret_cast<T*>(q);
          T v = *reinterpret_cast<const T*>(pa);
          switch (op) {
            case Red::Sum: acc = step<Red::Sum>(acc, v); break;
            case Red::Prod: acc = step<Red::Prod>(acc, v); break;
            case Red::Max: acc = step<Red::Max>(acc, v); break;
            case Red::Min: acc = step<Red::Min>(acc, v); break;
            case Red::Any: acc = T(acc || v); break;
            case Red::All: acc = T(acc && v); break;
            default: break;
          }
        }
      },
      0, it.total);
}

// Reorders a's axes by decreasing stride. True when a is then dense (C-contiguous over its
// non-unit dims); `perm` receives the order.
bool dense_order(const Tensor& a, SmallVec<int64_t, 6>& perm) {
  const int64_t nd = a.ndim();
  perm.clear();
  for (int64_t d = 0; d < nd; ++d) {
    if (a.shape()[size_t(d)] == 1) continue;
    if (a.strides()[size_t(d)] <= 0) return false;
    perm.push_back(d);
  }
  std::stable_sort(perm.begin(), perm.end(),
                   [&](int64_t x, int64_t y) { return a.strides()[size_t(x)] > a.strides()[size_t(y)]; });
  int64_t expect = 1;
  for (size_t k = perm.size(); k-- > 0;) {
    if (a.strides()[size_t(perm[k])] != expect) return false;
    expect *= a.shape()[size_t(perm[k])];
  }
  return true;
}

template <class T>
void fill_value(const Tensor& out, T v) {
  if (out.numel() == 0) return;
  if (out.is_contiguous()) {
    T* po = out.data<T>();
    for (int64_t i = 0; i < out.numel(); ++i) po[i] = v;
    return;
  }
  Tensor tmp = Tensor::empty(out.shape(), out.dtype());
  fill_value<T>(tmp, v);
  copy(out, tmp);
}

template <class T>
void reduce_typed(Red op, const Tensor& out, const Tensor& a_in, uint64_t mask) {
  const T init = identity<T>(op);
  if (a_in.numel() == 0) {  // the identity everywhere (the ops layer rejects Max/Min here)
    fill_value<T>(out, init);
    return;
  }
  // A contiguous input reduced over every axis (a full sum, as in a loss): one dense run, without
  // sorting the axes (the general path below costs more than the sum of a small tensor).
  if (a_in.is_contiguous() && out.numel() == 1) {
    reduce_dense_op<T>(op, out.data<T>(), a_in.data<T>(), 1, a_in.numel(), 1);
    return;
  }
  Tensor a = a_in;
  SmallVec<int64_t, 6> perm;
  if (!dense_order(a, perm)) {
    bool broadcast = false;
    for (int64_t d = 0; d < a.ndim(); ++d)
      if (a.shape()[size_t(d)] != 1 && a.strides()[size_t(d)] == 0) broadcast = true;
    if (broadcast || mask == 0) {  // copying would expand a broadcast: iterate in place instead
      fill_value<T>(out, init);
      reduce_generic<T>(op, out, a, mask);
      return;
    }
    a = a.contiguous();
    dense_order(a, perm);
  }
  // Group the (reordered, non-unit) dims into runs of reduced / kept dims.
  SmallVec<int64_t, 6> seg_size;
  SmallVec<uint64_t, 6> seg_mask;
  SmallVec<bool, 6> seg_red;
  for (size_t k = 0; k < perm.size(); ++k) {
    const int64_t d = perm[k];
    const bool r = (mask >> d) & 1;
    const int64_t s = a.shape()[size_t(d)];
    if (!seg_red.empty() && seg_red[seg_red.size() - 1] == r) {
      seg_size[seg_size.size() - 1] *= s;
      seg_mask[seg_mask.size() - 1] |= uint64_t(1) << d;
    } else {
      seg_size.push_back(s);
      seg_red.push_back(r);
      seg_mask.push_back(uint64_t(1) << d);
    }
  }
  const size_t nseg = seg_size.size();
  size_t nred = 0;
  for (size_t k = 0; k < nseg; ++k) nred += seg_red[k];
  if (nred > 1) {
    // Several separate reduced blocks: reduce the innermost block first (dense), then the rest.
    size_t last = nseg;
    while (!seg_red[--last]) {}
    const uint64_t m2 = seg_mask[last];
    Shape ts = a.shape();
    for (int64_t d = 0; d < a.ndim(); ++d)
      if ((m2 >> d) & 1) ts[size_t(d)] = 1;
    Tensor tmp = Tensor::empty(ts, out.dtype());
    reduce_typed<T>(op, tmp, a, m2);
    reduce_typed<T>(op, out, tmp, mask & ~m2);
    return;
  }
  int64_t outer = 1, len = 1, inner = 1;
  size_t k = 0;
  if (k < nseg && !seg_red[k]) outer = seg_size[k++];
  if (k < nseg && seg_red[k]) len = seg_size[k++];
  if (k < nseg && !seg_red[k]) inner = seg_size[k++];
  // Out in the reordered kept-dims order: contiguous when the kept dims kept their order.
  bool out_direct = out.is_contiguous();
  int64_t prev = -1;
  for (int64_t d : perm) {
    if ((mask >> d) & 1) continue;
    if (d < prev) out_direct = false;
    prev = d;
  }
  if (out_direct) {
    reduce_dense_op<T>(op, out.data<T>(), a.data<T>(), outer, len, inner);
    return;
  }
  // Write a contiguous result in the reordered order, then copy into out through a permuted view.
  Shape ps;
  Strides pst;
  for (int64_t d : perm)
    if (!((mask >> d) & 1)) {
      ps.push_back(a.shape()[size_t(d)]);
      pst.push_back(out.strides()[size_t(d)]);
    }
  Tensor tmp = Tensor::empty(ps, out.dtype());
  reduce_dense_op<T>(op, tmp.data<T>(), a.data<T>(), outer, len, inner);
  copy(out.view_as(ps, pst, out.offset()), tmp);
}

template <class T>
void arg_reduce(bool is_max, const Tensor& out, const Tensor& a, int64_t axis) {
  // out: keepdims shape with 1 at `axis`, Int64. First occurrence wins; the first NaN wins.
  const int64_t nd = a.ndim(), len = a.shape()[size_t(axis)], astr = a.strides()[size_t(axis)];
  const int64_t on = out.numel();
  int64_t* o = out.data<int64_t>();
  const T* base = a.data<T>();
  const Shape& oshape = out.shape();
  const Strides& ostr = out.strides();
  auto body = [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      int64_t off = 0, ooff = 0, rem = k;
      for (int64_t d = nd - 1; d >= 0; --d) {
        int64_t c = rem % oshape[size_t(d)];
        rem /= oshape[size_t(d)];
        off += c * a.strides()[size_t(d)];
        ooff += c * ostr[size_t(d)];
      }
      const T* p = base + off;
      int64_t best = 0;
      T bv = p[0];
      bool done = false;
      if constexpr (std::is_floating_point<T>::value) done = bv != bv;
      for (int64_t i = 1; i < len && !done; ++i) {
        T v = p[i * astr];
        if constexpr (std::is_floating_point<T>::value) {
          if (v != v) {
            best = i;
            break;
          }
        }
        if (is_max ? v > bv : v < bv) {
          bv = v;
          best = i;
        }
      }
      o[ooff] = best;
    }
  };
  parallel_for(on, std::max<int64_t>(1, kChunk / std::max<int64_t>(len, 1)), body);
}

}  // namespace

void reduce(Red op, const Tensor& out, const Tensor& a, uint64_t mask) {
  if (op == Red::ArgMax || op == Red::ArgMin) {
    int64_t axis = 0;
    while (!((mask >> axis) & 1)) ++axis;
    TG_CHECK_DTYPE(out.dtype() == DType::Int64, "reduce kernel: arg reductions write Int64");
    TG_DISPATCH_NUM(a.dtype(), arg_reduce<T>(op == Red::ArgMax, out, a, axis));
    return;
  }
  TG_CHECK_DTYPE(out.dtype() == a.dtype() && a.dtype() != DType::Float16, "reduce kernel: dtype ", a.dtype(),
                 " is not supported");
  TG_CHECK_DTYPE(!(op == Red::Any || op == Red::All) || a.dtype() == DType::Bool,
                 "reduce kernel: any/all take Bool tensors");
  TG_DISPATCH_NUM(a.dtype(), reduce_typed<T>(op, out, a, mask));
}

}  // namespace cpu

}  // namespace kernels
}  // namespace tapegrad
