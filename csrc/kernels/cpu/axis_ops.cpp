// Kernels that work along one axis: scans (cumsum/cumprod), fused softmax, stable sort, gathers
// by index along an axis, repeat and its transpose (segment sums). See kernels_extra.h.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/error.h"
#include "kernels/cpu/iter.h"
#include "kernels/cpu/loops.h"
#include "kernels/kernels.h"
#include "kernels/kernels_extra.h"

namespace tapegrad {
namespace kernels {
namespace cpu {
namespace {

constexpr int64_t kGrain = int64_t(1) << 15;  // elements per parallel work item (at least)
constexpr int64_t kBlock = 256;               // inner columns processed together

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
int64_t grain_for(int64_t per_item) { return std::max<int64_t>(1, kGrain / std::max<int64_t>(per_item, 1)); }

void check_contig(const Tensor& t, const char* what) {
  TG_CHECK(t.is_contiguous(), what, " kernel: expects contiguous tensors");
}

// ---- scan ----------------------------------------------------------------------------------

// acc + v / acc * v; integers wrap as numpy's do, through the unsigned type (no signed-overflow UB).
template <Scan op, class W>
inline W scan_step(W acc, W v) {
  if constexpr (std::is_integral<W>::value && !std::is_same<W, bool>::value) {
    using U = std::make_unsigned_t<W>;
    return op == Scan::Sum ? W(U(acc) + U(v)) : W(U(acc) * U(v));
  } else {
    return op == Scan::Sum ? W(acc + v) : W(acc * v);
  }
}

template <class T, Scan op>
void scan_typed(T* out, const T* a, const Split3& s) {
  // float32 sums accumulate in double (more accurate than numpy's float32 accumulation).
  using W = std::conditional_t<op == Scan::Sum && std::is_same<T, float>::value, double, T>;
  // A float sum starts from -0.0, the exact additive identity (-0 + x is x for every x, -0 too),
  // so that cumsum([-0.0]) is -0.0 as numpy's (which starts from the first element).
  const W init = op == Scan::Sum ? (std::is_floating_point<W>::value ? W(-0.0) : W(0)) : W(1);
  if (s.inner == 1) {
    parallel_for(s.outer, grain_for(s.len), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        const T* pa = a + o * s.len;
        T* po = out + o * s.len;
        W acc = init;
        for (int64_t l = 0; l < s.len; ++l) {
          acc = scan_step<op>(acc, W(pa[l]));
          po[l] = T(acc);
        }
      }
    });
    return;
  }
  const int64_t nblk = (s.inner + kBlock - 1) / kBlock;
  parallel_for(s.outer * nblk, grain_for(s.len * std::min(s.inner, kBlock)), [&](int64_t b, int64_t e) {
    W acc[kBlock];
    for (int64_t k = b; k < e; ++k) {
      const int64_t o = k / nblk, i0 = (k % nblk) * kBlock, cb = std::min(kBlock, s.inner - i0);
      for (int64_t j = 0; j < cb; ++j) acc[j] = init;
      for (int64_t l = 0; l < s.len; ++l) {
        const int64_t off = (o * s.len + l) * s.inner + i0;
        const T* pa = a + off;
        T* po = out + off;
        for (int64_t j = 0; j < cb; ++j) {
          acc[j] = scan_step<op>(acc[j], W(pa[j]));
          po[j] = T(acc[j]);
        }
      }
    }
  });
}

// ---- softmax -------------------------------------------------------------------------------

// Row max (NaN when the row holds one) and sums through the ISA table's reduction loops.
inline float row_max(const float* p, int64_t n) {
  bool nan = false;
  float m = isa().reduce.max_f32(p, n, nan);
  return nan ? std::numeric_limits<float>::quiet_NaN() : m;
}
inline double row_max(const double* p, int64_t n) {
  bool nan = false;
  double m = isa().reduce.max_f64(p, n, nan);
  return nan ? std::numeric_limits<double>::quiet_NaN() : m;
}
inline double row_sum(const float* p, int64_t n) { return isa().reduce.sum_f32(p, n); }
inline double row_sum(const double* p, int64_t n) { return isa().reduce.sum_f64(p, n); }
inline void col_max(float* o, const float* b, int64_t l, int64_t s, int64_t c) {
  isa().reduce.colmax_f32(o, b, l, s, c);
}
inline void col_max(double* o, const double* b, int64_t l, int64_t s, int64_t c) {
  isa().reduce.colmax_f64(o, b, l, s, c);
}

// softmax = exp(x - m) / sum(exp(x - m)), log_softmax = (x - m) - log(sum(exp(x - m))) with m the
// max along the axis: three passes over each row, no temporaries beyond one row. A NaN in a row
// makes the whole row NaN, as in the composite formula.
constexpr int64_t kSmBlock = 1024;  // softmax columns processed together (amortises the exp calls)

template <class T>
void softmax_typed(T* out, const T* a, const Split3& s, bool log) {
  Loop exp_loop = isa().unary[int(Un::Exp)][int(dtype_of<T>::value)];
  const int64_t isz[2] = {int64_t(sizeof(T)), int64_t(sizeof(T))};
  auto run_exp = [&](T* dst, const T* src, int64_t n) {
    char* p[2] = {reinterpret_cast<char*>(dst), const_cast<char*>(reinterpret_cast<const char*>(src))};
    exp_loop(p, isz, n);
  };
  if (s.inner == 1) {
    parallel_for(s.outer, grain_for(4 * s.len), [&](int64_t b, int64_t e) {
      std::vector<T> buf(size_t(s.len));
      T* __restrict t = buf.data();
      for (int64_t o = b; o < e; ++o) {
        const T* __restrict pa = a + o * s.len;
        T* __restrict po = out + o * s.len;
        const T m = row_max(pa, s.len);
        if (log) {
          for (int64_t l = 0; l < s.len; ++l) po[l] = pa[l] - m;
          run_exp(t, po, s.len);
          const T ls = T(std::log(row_sum(t, s.len)));
          for (int64_t l = 0; l < s.len; ++l) po[l] -= ls;
        } else {
          for (int64_t l = 0; l < s.len; ++l) t[l] = pa[l] - m;
          run_exp(po, t, s.len);
          const T r = T(1.0 / row_sum(po, s.len));
          for (int64_t l = 0; l < s.len; ++l) po[l] *= r;
        }
      }
    });
    return;
  }
  const int64_t nblk = (s.inner + kSmBlock - 1) / kSmBlock;
  parallel_for(s.outer * nblk, grain_for(4 * s.len * std::min(s.inner, kSmBlock)), [&](int64_t b, int64_t e) {
    T m[kSmBlock], tmp[kSmBlock], buf[kSmBlock];
    double sum[kSmBlock];
    for (int64_t k = b; k < e; ++k) {
      const int64_t o = k / nblk, i0 = (k % nblk) * kSmBlock, cb = std::min(kSmBlock, s.inner - i0);
      const T* base_a = a + o * s.len * s.inner + i0;
      T* base_o = out + o * s.len * s.inner + i0;
      col_max(m, base_a, s.len, s.inner, cb);
      for (int64_t j = 0; j < cb; ++j) sum[j] = 0;
      for (int64_t l = 0; l < s.len; ++l) {
        const T* pa = base_a + l * s.inner;
        T* po = base_o + l * s.inner;
        for (int64_t j = 0; j < cb; ++j) tmp[j] = pa[j] - m[j];
        if (log) {
          run_exp(buf, tmp, cb);
          for (int64_t j = 0; j < cb; ++j) {
            sum[j] += double(buf[j]);
            po[j] = tmp[j];
          }
        } else {
          run_exp(po, tmp, cb);
          for (int64_t j = 0; j < cb; ++j) sum[j] += double(po[j]);
        }
      }
      for (int64_t j = 0; j < cb; ++j) tmp[j] = log ? T(std::log(sum[j])) : T(1.0 / sum[j]);
      for (int64_t l = 0; l < s.len; ++l) {
        T* po = base_o + l * s.inner;
        if (log) {
          for (int64_t j = 0; j < cb; ++j) po[j] -= tmp[j];
        } else {
          for (int64_t j = 0; j < cb; ++j) po[j] *= tmp[j];
        }
      }
    }
  });
}

// ---- sort ----------------------------------------------------------------------------------

// NaN is the largest value.
template <class T>
inline bool sort_less(T x, T y) {
  if constexpr (std::is_floating_point<T>::value) return x < y || (y != y && x == x);
  else return x < y;
}
template <class T>
inline bool sort_greater(T x, T y) {
  if constexpr (std::is_floating_point<T>::value) return x > y || (x != x && y == y);
  else return x > y;
}

template <class T>
void sort_typed(T* vals, int64_t* idx, const T* a, const Split3& s, bool desc) {
  const int64_t lines = s.outer * s.inner;
  parallel_for(lines, grain_for(8 * s.len), [&](int64_t b, int64_t e) {
    std::vector<std::pair<T, int64_t>> pairs;
    std::vector<T> v;
    for (int64_t k = b; k < e; ++k) {
      const int64_t o = k / s.inner, i = k % s.inner, base = o * s.len * s.inner + i;
      if (idx) {
        pairs.resize(size_t(s.len));
        for (int64_t l = 0; l < s.len; ++l) pairs[size_t(l)] = {a[base + l * s.inner], l};
        if (desc)
          std::stable_sort(pairs.begin(), pairs.end(),
                           [](const auto& x, const auto& y) { return sort_greater(x.first, y.first); });
        else
          std::stable_sort(pairs.begin(), pairs.end(),
                           [](const auto& x, const auto& y) { return sort_less(x.first, y.first); });
        for (int64_t l = 0; l < s.len; ++l) {
          idx[base + l * s.inner] = pairs[size_t(l)].second;
          if (vals) vals[base + l * s.inner] = pairs[size_t(l)].first;
        }
      } else {
        v.resize(size_t(s.len));
        for (int64_t l = 0; l < s.len; ++l) v[size_t(l)] = a[base + l * s.inner];
        if (desc) std::stable_sort(v.begin(), v.end(), [](T x, T y) { return sort_greater(x, y); });
        else std::stable_sort(v.begin(), v.end(), [](T x, T y) { return sort_less(x, y); });
        for (int64_t l = 0; l < s.len; ++l) vals[base + l * s.inner] = v[size_t(l)];
      }
    }
  });
}

// ---- gathers -------------------------------------------------------------------------------

template <class U>
void gather_typed(U* out, const U* a, const int64_t* idx, int64_t outer, int64_t len_out, int64_t len_a,
                  int64_t inner) {
  parallel_for(outer * len_out, grain_for(inner), [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      const int64_t o = k / len_out;
      const int64_t* pi = idx + k * inner;
      U* po = out + k * inner;
      const U* pa = a + o * len_a * inner;
      for (int64_t i = 0; i < inner; ++i) po[i] = pa[pi[i] * inner + i];
    }
  });
}

template <class U>
void repeat_typed(U* out, const U* a, const int64_t* counts, const Split3& s, int64_t total) {
  parallel_for(s.outer, grain_for(total * s.inner), [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      U* po = out + o * total * s.inner;
      const U* pa = a + o * s.len * s.inner;
      for (int64_t l = 0; l < s.len; ++l) {
        for (int64_t c = 0; c < counts[l]; ++c) {
          std::memcpy(po, pa + l * s.inner, size_t(s.inner) * sizeof(U));
          po += s.inner;
        }
      }
    }
  });
}

template <class T>
void segment_sum_typed(T* out, const T* a, const int64_t* counts, const Split3& s, int64_t total) {
  // a: (outer, total, inner) -> out: (outer, len, inner)
  parallel_for(s.outer, grain_for(total * s.inner), [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      T* po = out + o * s.len * s.inner;
      const T* pa = a + o * total * s.inner;
      for (int64_t l = 0; l < s.len; ++l, po += s.inner) {
        for (int64_t i = 0; i < s.inner; ++i) po[i] = T(0);
        for (int64_t c = 0; c < counts[l]; ++c, pa += s.inner)
          for (int64_t i = 0; i < s.inner; ++i) po[i] += pa[i];
      }
    }
  });
}

template <class F>
void by_itemsize(size_t sz, const F& f) {
  switch (sz) {
    case 1: f(uint8_t()); break;
    case 2: f(uint16_t()); break;
    case 4: f(uint32_t()); break;
    case 8: f(uint64_t()); break;
    case 16: f(Bytes16()); break;  // complex128
    default: throw ValueError("kernel: unsupported item size");
  }
}

}  // namespace

void scan(Scan op, const Tensor& out, const Tensor& a, int64_t axis) {
  cpu::check_contig(a, "scan");
  cpu::check_contig(out, "scan");
  TG_CHECK_DTYPE(out.dtype() == a.dtype(), "scan kernel: dtype mismatch");
  if (a.numel() == 0) return;
  cpu::Split3 s = cpu::split3(a.shape(), axis);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    if (op == Scan::Sum) cpu::scan_typed<T, Scan::Sum>(out.data<T>(), a.data<T>(), s);
    else cpu::scan_typed<T, Scan::Prod>(out.data<T>(), a.data<T>(), s);
  };
  switch (a.dtype()) {
    case DType::Int64: run(int64_t()); break;
    case DType::UInt64: run(uint64_t()); break;
    case DType::Float32: run(float()); break;
    case DType::Float64: run(double()); break;
    default: throw DTypeError(str_cat("scan kernel: dtype ", a.dtype(), " is not supported"));
  }
}

void softmax(const Tensor& out, const Tensor& a, int64_t axis, bool log) {
  cpu::check_contig(a, "softmax");
  cpu::check_contig(out, "softmax");
  if (a.numel() == 0) return;
  cpu::Split3 s = cpu::split3(a.shape(), axis);
  switch (a.dtype()) {
    case DType::Float32: cpu::softmax_typed<float>(out.data<float>(), a.data<float>(), s, log); break;
    case DType::Float64: cpu::softmax_typed<double>(out.data<double>(), a.data<double>(), s, log); break;
    default: throw DTypeError(str_cat("softmax kernel: dtype ", a.dtype(), " is not supported"));
  }
}

void sort(const Tensor& values, const Tensor& indices, const Tensor& a, int64_t axis, bool descending) {
  cpu::check_contig(a, "sort");
  if (values.defined()) cpu::check_contig(values, "sort");
  if (indices.defined()) cpu::check_contig(indices, "sort");
  if (a.numel() == 0) return;
  cpu::Split3 s = cpu::split3(a.shape(), axis);
  int64_t* idx = indices.defined() ? indices.data<int64_t>() : nullptr;
  TG_DISPATCH_NUM(a.dtype(),
                  cpu::sort_typed<T>(values.defined() ? values.data<T>() : nullptr, idx, a.data<T>(), s, descending));
}

void gather_axis(const Tensor& out, const Tensor& a, const Tensor& idx, int64_t axis) {
  cpu::check_contig(a, "gather");
  cpu::check_contig(out, "gather");
  cpu::check_contig(idx, "gather");
  if (out.numel() == 0) return;
  cpu::Split3 so = cpu::split3(out.shape(), axis), sa = cpu::split3(a.shape(), axis);
  // Checked here, not inside the parallel loop (exceptions must not leave a pool thread).
  const int64_t* pi = idx.data<int64_t>();
  for (int64_t k = 0; k < idx.numel(); ++k)
    TG_CHECK_INDEX(pi[k] >= 0 && pi[k] < sa.len, "gather: index ", pi[k], " is out of bounds for an axis of size ",
                   sa.len);
  cpu::by_itemsize(itemsize(a.dtype()), [&](auto tag) {
    using U = decltype(tag);
    cpu::gather_typed<U>(static_cast<U*>(out.raw_data()), static_cast<const U*>(a.raw_data()), idx.data<int64_t>(),
                         so.outer, so.len, sa.len, so.inner);
  });
}

void invert_permutation(const Tensor& out, const Tensor& idx, int64_t axis) {
  cpu::check_contig(out, "invert_permutation");
  cpu::check_contig(idx, "invert_permutation");
  if (out.numel() == 0) return;
  cpu::Split3 s = cpu::split3(idx.shape(), axis);
  const int64_t* pi = idx.data<int64_t>();
  int64_t* po = out.data<int64_t>();
  cpu::parallel_for(s.outer, cpu::grain_for(s.len * s.inner), [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      const int64_t base = o * s.len * s.inner;
      for (int64_t j = 0; j < s.len; ++j)
        for (int64_t i = 0; i < s.inner; ++i) {
          int64_t t = pi[base + j * s.inner + i];
          po[base + t * s.inner + i] = j;
        }
    }
  });
}

void repeat_axis(const Tensor& out, const Tensor& a, const Tensor& counts, int64_t axis) {
  cpu::check_contig(a, "repeat");
  cpu::check_contig(out, "repeat");
  cpu::check_contig(counts, "repeat");
  if (out.numel() == 0) return;
  cpu::Split3 s = cpu::split3(a.shape(), axis);
  const int64_t total = out.shape()[size_t(axis)];
  cpu::by_itemsize(itemsize(a.dtype()), [&](auto tag) {
    using U = decltype(tag);
    cpu::repeat_typed<U>(static_cast<U*>(out.raw_data()), static_cast<const U*>(a.raw_data()), counts.data<int64_t>(),
                         s, total);
  });
}

void segment_sum(const Tensor& out, const Tensor& a, const Tensor& counts, int64_t axis) {
  cpu::check_contig(a, "segment_sum");
  cpu::check_contig(out, "segment_sum");
  cpu::check_contig(counts, "segment_sum");
  if (out.numel() == 0) return;
  cpu::Split3 s = cpu::split3(out.shape(), axis);
  const int64_t total = a.shape()[size_t(axis)];
  switch (a.dtype()) {
    case DType::Int64:
      cpu::segment_sum_typed<int64_t>(out.data<int64_t>(), a.data<int64_t>(), counts.data<int64_t>(), s, total);
      break;
    case DType::Float32:
      cpu::segment_sum_typed<float>(out.data<float>(), a.data<float>(), counts.data<int64_t>(), s, total);
      break;
    case DType::Float64:
      cpu::segment_sum_typed<double>(out.data<double>(), a.data<double>(), counts.data<int64_t>(), s, total);
      break;
    default: throw DTypeError(str_cat("segment_sum kernel: dtype ", a.dtype(), " is not supported"));
  }
}

}  // namespace cpu
}  // namespace kernels
}  // namespace tapegrad
