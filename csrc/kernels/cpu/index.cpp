// CPU index kernels (kernels_index.h): gather/scatter through index rows, mask helpers.
#include <algorithm>
#include <complex>
#include <cstring>
#include <type_traits>
#include <unordered_set>

#include "core/error.h"
#include "kernels/cpu/iter.h"
#include "kernels/kernels_index.h"

namespace tapegrad {
namespace kernels {
namespace cpu {

namespace {

using Dims = SmallVec<int64_t, 8>;

// The "rest" block that two operands share: size-1 dims dropped, dims that are contiguous in both
// merged; strides in bytes.
struct Block {
  Dims shape, s0, s1;
  int64_t numel = 1;
};

Block make_block(const int64_t* shape, size_t nd, const int64_t* st0, const int64_t* st1, int64_t isz) {
  Block b;
  for (size_t i = 0; i < nd; ++i) {
    b.numel *= shape[i];
    if (shape[i] == 1) continue;
    const int64_t s0 = st0[i] * isz, s1 = st1[i] * isz;
    if (!b.shape.empty() && b.s0.back() == s0 * shape[i] && b.s1.back() == s1 * shape[i]) {
      b.shape.back() *= shape[i];
      b.s0.back() = s0;
      b.s1.back() = s1;
    } else {
      b.shape.push_back(shape[i]);
      b.s0.push_back(s0);
      b.s1.push_back(s1);
    }
  }
  return b;
}

// Calls run(p0, p1, n, s0, s1) for each innermost run of the block.
template <class Run>
void for_block(char* p0, char* p1, const Block& b, const Run& run) {
  const int nd = int(b.shape.size());
  if (nd == 0) {
    run(p0, p1, 1, 0, 0);
    return;
  }
  const int64_t n = b.shape[size_t(nd - 1)], s0 = b.s0[size_t(nd - 1)], s1 = b.s1[size_t(nd - 1)];
  if (nd == 1) {
    run(p0, p1, n, s0, s1);
    return;
  }
  Dims ctr(size_t(nd - 1), 0);
  for (;;) {
    run(p0, p1, n, s0, s1);
    int d = nd - 2;
    for (; d >= 0; --d) {
      if (++ctr[size_t(d)] < b.shape[size_t(d)]) {
        p0 += b.s0[size_t(d)];
        p1 += b.s1[size_t(d)];
        break;
      }
      p0 -= b.s0[size_t(d)] * (b.shape[size_t(d)] - 1);
      p1 -= b.s1[size_t(d)] * (b.shape[size_t(d)] - 1);
      ctr[size_t(d)] = 0;
    }
    if (d < 0) return;
  }
}

// C-order walk over the batch dims B of one operand (byte strides).
struct BatchIter {
  Dims shape, strides, ctr;
  char* base = nullptr;
  char* p = nullptr;
  BatchIter(const Tensor& t, size_t nb, char* base_) : base(base_), p(base_) {
    const int64_t isz = int64_t(itemsize(t.dtype()));
    for (size_t i = 0; i < nb; ++i) {
      shape.push_back(t.shape()[i]);
      strides.push_back(t.strides()[i] * isz);
      ctr.push_back(0);
    }
  }
  void seek(int64_t flat) {
    p = base;
    for (size_t d = shape.size(); d-- > 0;) {
      ctr[d] = flat % shape[d];
      flat /= shape[d];
      p += ctr[d] * strides[d];
    }
  }
  void next() {
    for (size_t d = shape.size(); d-- > 0;) {
      if (++ctr[d] < shape[d]) {
        p += strides[d];
        return;
      }
      p -= strides[d] * (shape[d] - 1);
      ctr[d] = 0;
    }
  }
};

// True when the first nb dims of t walk with one constant byte stride (contiguous, broadcast, or
// a single dim), so that row b sits at base + b * stride.
bool flat_stride(const Tensor& t, size_t nb, int64_t* stride) {
  const int64_t isz = int64_t(itemsize(t.dtype()));
  int64_t st = 0, inner_extent = -1;  // inner_extent: stride * size of the dims to the right
  for (size_t i = nb; i-- > 0;) {
    const int64_t n = t.shape()[i], s = t.strides()[i] * isz;
    if (n == 1) continue;
    if (inner_extent < 0) {
      st = s;
    } else if (s != inner_extent) {
      return false;
    }
    inner_extent = s * n;
  }
  *stride = st;
  return true;
}

// Calls f(b, p) for b in [b0, b1), p the address of row b of t (its first nb dims).
template <class F>
void for_rows(const Tensor& t, size_t nb, char* base, int64_t b0, int64_t b1, const F& f) {
  int64_t st;
  if (flat_stride(t, nb, &st)) {
    char* p = base + b0 * st;
    for (int64_t b = b0; b < b1; ++b, p += st) f(b, p);
    return;
  }
  BatchIter it(t, nb, base);
  it.seek(b0);
  for (int64_t b = b0; b < b1; ++b, it.next()) f(b, it.p);
}

template <class T>
void copy_run(char* d, char* s, int64_t n, int64_t sd, int64_t ss) {
  if (sd == int64_t(sizeof(T)) && ss == int64_t(sizeof(T))) {
    std::memcpy(d, s, size_t(n) * sizeof(T));
    return;
  }
  for (int64_t i = 0; i < n; ++i) *reinterpret_cast<T*>(d + i * sd) = *reinterpret_cast<const T*>(s + i * ss);
}

template <class T>
void add_run(char* d, char* s, int64_t n, int64_t sd, int64_t ss) {
  for (int64_t i = 0; i < n; ++i) {
    T& dst = *reinterpret_cast<T*>(d + i * sd);
    const T src = *reinterpret_cast<const T*>(s + i * ss);
    if constexpr (std::is_same<T, bool>::value) {
      dst = dst || src;
    } else {
      dst = T(dst + src);
    }
  }
}

using RunFn = void (*)(char*, char*, int64_t, int64_t, int64_t);

RunFn copy_fn(int64_t isz) {
  switch (isz) {
    case 1: return copy_run<uint8_t>;
    case 2: return copy_run<uint16_t>;
    case 4: return copy_run<uint32_t>;
    case 16: return copy_run<Bytes16>;  // complex128
    default: return copy_run<uint64_t>;
  }
}

RunFn add_fn(DType d) {
  switch (d) {
    case DType::Bool: return add_run<bool>;
    case DType::Int32: return add_run<int32_t>;
    case DType::Int64: return add_run<int64_t>;
    case DType::Int8: return add_run<int8_t>;
    case DType::Int16: return add_run<int16_t>;
    case DType::UInt8: return add_run<uint8_t>;
    case DType::UInt16: return add_run<uint16_t>;
    case DType::UInt32: return add_run<uint32_t>;
    case DType::UInt64: return add_run<uint64_t>;
    case DType::Float32: return add_run<float>;
    case DType::Float64: return add_run<double>;
    // (complex: the VJP of a gather sums the cotangents of repeated rows, e.g. of take and roll)
    case DType::Complex64: return add_run<std::complex<float>>;
    case DType::Complex128: return add_run<std::complex<double>>;
    default: break;
  }
  throw DTypeError(str_cat("index_add kernel: dtype ", d, " is not supported"));
}

// Byte offsets of the indexed dims of x.
Dims indexed_strides(const Tensor& x, int64_t k) {
  Dims s;
  const int64_t isz = int64_t(itemsize(x.dtype()));
  for (int64_t j = 0; j < k; ++j) s.push_back(x.strides()[size_t(j)] * isz);
  return s;
}

int64_t batch_count(const Tensor& idx) {
  int64_t m = 1;
  for (int64_t i = 0; i + 1 < idx.ndim(); ++i) m *= idx.shape()[size_t(i)];
  return m;
}

inline char* row_ptr(char* xbase, const int64_t* row, const Dims& xs) {
  char* p = xbase;
  for (size_t j = 0; j < xs.size(); ++j) p += row[j] * xs[j];
  return p;
}

// Calls f(T()) with T an unsigned type of the element size (data movement only).
template <class F>
void by_itemsize(int64_t isz, const F& f) {
  switch (isz) {
    case 1: f(uint8_t()); break;
    case 2: f(uint16_t()); break;
    case 4: f(uint32_t()); break;
    case 16: f(Bytes16()); break;  // complex128
    default: f(uint64_t()); break;
  }
}

}  // namespace

void index_gather(const Tensor& out, const Tensor& x, const Tensor& idx) {
  const int64_t k = idx.shape().back();
  const size_t nb = size_t(idx.ndim() - 1);
  const int64_t m = batch_count(idx);
  if (out.numel() == 0) return;
  const int64_t isz = int64_t(itemsize(x.dtype()));
  Block blk =
      make_block(x.shape().data() + k, size_t(x.ndim() - k), out.strides().data() + nb, x.strides().data() + k, isz);
  const Dims xs = indexed_strides(x, k);
  const int64_t* ip = idx.data<int64_t>();
  char* xbase = static_cast<char*>(x.raw_data());
  char* obase = static_cast<char*>(out.raw_data());
  const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 15) / std::max<int64_t>(1, blk.numel));
  if (blk.shape.empty()) {  // one element per row
    by_itemsize(isz, [&](auto tag) {
      using T = decltype(tag);
      parallel_for(m, grain, [&](int64_t b0, int64_t b1) {
        for_rows(out, nb, obase, b0, b1, [&](int64_t b, char* p) {
          *reinterpret_cast<T*>(p) = *reinterpret_cast<const T*>(row_ptr(xbase, ip + b * k, xs));
        });
      });
    });
    return;
  }
  RunFn run = copy_fn(isz);
  parallel_for(m, grain, [&](int64_t b0, int64_t b1) {
    for_rows(out, nb, obase, b0, b1,
             [&](int64_t b, char* p) { for_block(p, row_ptr(xbase, ip + b * k, xs), blk, run); });
  });
}

namespace {
template <class T>
void scatter_scalar_rows(const Tensor& v, size_t nb, int64_t m, char* xbase, const int64_t* ip, int64_t k,
                         const Dims& xs, bool accumulate) {
  char* vbase = static_cast<char*>(v.raw_data());
  if (accumulate) {
    for_rows(v, nb, vbase, 0, m, [&](int64_t b, char* p) {
      T& d = *reinterpret_cast<T*>(row_ptr(xbase, ip + b * k, xs));
      const T s = *reinterpret_cast<const T*>(p);
      if constexpr (std::is_same<T, bool>::value) {
        d = d || s;
      } else if constexpr (std::is_same<T, Bytes16>::value) {
        (void)d, (void)s;  // never: complex sums come here as std::complex, not as raw bytes
      } else {
        d = T(d + s);
      }
    });
  } else {
    for_rows(v, nb, vbase, 0, m, [&](int64_t b, char* p) {
      *reinterpret_cast<T*>(row_ptr(xbase, ip + b * k, xs)) = *reinterpret_cast<const T*>(p);
    });
  }
}
}  // namespace

void index_scatter(const Tensor& x, const Tensor& v, const Tensor& idx, bool accumulate) {
  const int64_t k = idx.shape().back();
  const size_t nb = size_t(idx.ndim() - 1);
  const int64_t m = batch_count(idx);
  if (m == 0 || v.numel() == 0) return;
  const int64_t isz = int64_t(itemsize(x.dtype()));
  Block blk =
      make_block(x.shape().data() + k, size_t(x.ndim() - k), x.strides().data() + k, v.strides().data() + nb, isz);
  const Dims xs = indexed_strides(x, k);
  const int64_t* ip = idx.data<int64_t>();
  char* xbase = static_cast<char*>(x.raw_data());
  // Rows may repeat, so rows run in order on one thread (last write wins; sums in a fixed order).
  if (blk.shape.empty()) {  // one element per row
    if (!accumulate) {
      by_itemsize(isz, [&](auto tag) { scatter_scalar_rows<decltype(tag)>(v, nb, m, xbase, ip, k, xs, false); });
      return;
    }
    if (x.dtype() == DType::Complex64) {
      scatter_scalar_rows<std::complex<float>>(v, nb, m, xbase, ip, k, xs, true);
      return;
    }
    if (x.dtype() == DType::Complex128) {
      scatter_scalar_rows<std::complex<double>>(v, nb, m, xbase, ip, k, xs, true);
      return;
    }
    bool done = false;
    TG_DISPATCH_NUM(x.dtype(), {
      scatter_scalar_rows<T>(v, nb, m, xbase, ip, k, xs, true);
      done = true;
    });
    if (done) return;
  }
  RunFn run = accumulate ? add_fn(x.dtype()) : copy_fn(isz);
  for_rows(v, nb, static_cast<char*>(v.raw_data()), 0, m,
           [&](int64_t b, char* p) { for_block(row_ptr(xbase, ip + b * k, xs), p, blk, run); });
}

void index_last_writer(const Tensor& out, const Tensor& idx, const int64_t* dims) {
  const int64_t k = idx.shape().back();
  const int64_t m = batch_count(idx);
  const int64_t* ip = idx.data<int64_t>();
  bool* o = out.data<bool>();
  int64_t span = 1;
  for (int64_t j = 0; j < k; ++j) span *= dims[j];
  auto key = [&](int64_t b) {
    int64_t r = 0;
    for (int64_t j = 0; j < k; ++j) r = r * dims[j] + ip[b * k + j];
    return r;
  };
  if (span <= 4 * m + 4096) {
    std::vector<bool> seen(size_t(span), false);
    for (int64_t b = m; b-- > 0;) {
      int64_t q = key(b);
      o[b] = !seen[size_t(q)];
      seen[size_t(q)] = true;
    }
  } else {
    std::unordered_set<int64_t> seen;
    seen.reserve(size_t(m));
    for (int64_t b = m; b-- > 0;) o[b] = seen.insert(key(b)).second;
  }
}

namespace {
// Calls f(coords, value) over a Bool tensor in C order.
template <class F>
void walk_mask(const Tensor& mask, const F& f) {
  const int64_t nd = mask.ndim();
  if (mask.numel() == 0) return;
  Dims ctr(size_t(nd), 0);
  const bool* base = mask.data<bool>();
  int64_t off = 0;
  for (;;) {
    f(ctr, base[off]);
    int64_t d = nd - 1;
    for (; d >= 0; --d) {
      if (++ctr[size_t(d)] < mask.shape()[size_t(d)]) {
        off += mask.strides()[size_t(d)];
        break;
      }
      off -= mask.strides()[size_t(d)] * (mask.shape()[size_t(d)] - 1);
      ctr[size_t(d)] = 0;
    }
    if (d < 0) return;
  }
}
}  // namespace

int64_t count_true(const Tensor& mask) {
  if (mask.is_contiguous()) {
    const bool* p = mask.data<bool>();
    int64_t n = 0;
    for (int64_t i = 0; i < mask.numel(); ++i) n += p[i];
    return n;
  }
  int64_t n = 0;
  walk_mask(mask, [&](const Dims&, bool v) { n += v; });
  return n;
}

void nonzero(const Tensor& out, const Tensor& mask) {
  int64_t* o = out.data<int64_t>();
  const size_t nd = size_t(mask.ndim());
  if (mask.is_contiguous() && nd >= 1 && mask.numel() > 0) {
    // Rows of the last dim, the outer coordinates kept in an odometer. Branch-free: every element writes its coordinates, and only true ones advance the output
    // (random masks would mispredict a branch half of the time). The output is full, and the
    // walk can stop, once the last true element is written.
    const bool* p = mask.data<bool>();
    const int64_t last = mask.shape()[nd - 1], rows = mask.numel() / last;
    const int64_t* end = o + out.numel();
    if (o == end) return;
    const uint8_t* q = reinterpret_cast<const uint8_t*>(p);
    if (nd == 1) {
      for (int64_t j = 0; j < last; ++j) {
        o[0] = j;
        o += q[j];
        if (o == end) return;
      }
      return;
    }
    if (nd == 2) {
      for (int64_t r = 0; r < rows; ++r, q += last) {
        for (int64_t j = 0; j < last; ++j) {
          o[0] = r;
          o[1] = j;
          o += int64_t(q[j]) << 1;
          if (o == end) return;
        }
      }
      return;
    }
    Dims ctr(nd, 0);
    for (int64_t r = 0; r < rows; ++r, q += last) {
      for (int64_t j = 0; j < last; ++j) {
        for (size_t d = 0; d + 1 < nd; ++d) o[d] = ctr[d];
        o[nd - 1] = j;
        o += int64_t(q[j]) * int64_t(nd);
        if (o == end) return;
      }
      for (size_t d = nd - 1; d-- > 0;) {
        if (++ctr[d] < mask.shape()[d]) break;
        ctr[d] = 0;
      }
    }
    return;
  }
  walk_mask(mask, [&](const Dims& c, bool v) {
    if (!v) return;
    for (size_t d = 0; d < nd; ++d) *o++ = c[d];
  });
}

int index_pack(const Tensor& out, const std::vector<Tensor>& arrays, const int64_t* dims, int64_t* bad) {
  const int64_t k = int64_t(arrays.size());
  const int64_t m = batch_count(out);
  if (m == 0) return -1;
  int64_t* o = out.data<int64_t>();
  const size_t nb = size_t(out.ndim() - 1);
  for (int64_t j = 0; j < k; ++j) {
    const Tensor& a = arrays[size_t(j)];
    const int64_t n = dims[j];
    bool ok = true;
    auto put = [&](auto tag) {
      using T = decltype(tag);
      for_rows(a, nb, static_cast<char*>(a.raw_data()), 0, m, [&](int64_t b, char* p) {
        const T raw = *reinterpret_cast<const T*>(p);
        // A UInt64 index beyond int64 is out of range of any axis; it reads as the largest int64.
        const int64_t v = sizeof(T) == 8 && std::is_unsigned<T>::value && uint64_t(raw) > uint64_t(INT64_MAX)
                              ? INT64_MAX
                              : int64_t(raw);
        const int64_t w = v < 0 ? v + n : v;
        if (__builtin_expect(w < 0 || w >= n, 0)) {
          if (ok) *bad = v;
          ok = false;
        }
        o[b * k + j] = w;
      });
    };
    switch (a.dtype()) {
      case DType::Int32: put(int32_t()); break;
      case DType::Int8: put(int8_t()); break;
      case DType::Int16: put(int16_t()); break;
      case DType::UInt8: put(uint8_t()); break;
      case DType::UInt16: put(uint16_t()); break;
      case DType::UInt32: put(uint32_t()); break;
      case DType::UInt64: put(uint64_t()); break;
      default: put(int64_t());
    }
    if (!ok) return int(j);
  }
  return -1;
}

}  // namespace cpu

}  // namespace kernels
}  // namespace tapegrad
