// BLAS/LAPACK glue over scipy-openblas32 (32-bit ints; every size handed over is checked to fit).
//
// Note [BLAS threads]
// ~~~~~~~~~~~~~~~~~~~
// OpenBLAS runs its own pthread pool beside ours. Two rules keep them from oversubscribing the
// cores: (1) OpenBLAS's thread count follows ours (sync_blas_threads, before every call), so one big
// GEMM uses the same number of threads as one of our elementwise kernels; (2) our pool only runs
// BLAS calls that OpenBLAS itself runs single-threaded (small GEMMs, below its own threshold of
// m*n*k <= 65536 * GEMM_MULTITHREAD_THRESHOLD), so threads are never nested. Large products in a
// batch run one after another, each threaded by OpenBLAS.
//
// LAPACK is called in column-major layout on our row-major buffers, i.e. on the transposed matrix:
// getrf(A^T) has det(A); getri on A^T's buffer leaves inv(A^T)^T = inv(A) there in row-major;
// getrs with trans='T' on A^T's factors solves A x = b; potrf('U') of A^T = A reads and writes our
// lower triangle. This avoids LAPACKE's row-major transposition copies and its NaN pre-checks (the
// _work entry points): NaN inputs give NaN outputs, as in numpy.
#include "kernels/linalg.h"

#include <cblas.h>

#include <complex>
// LAPACKE's complex arguments as std::complex (the same layout as Fortran's COMPLEX and as our
// Complex64/Complex128 storage) rather than C99 _Complex, which is not C++.
#define lapack_complex_float std::complex<float>
#define lapack_complex_double std::complex<double>
#include <lapacke.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "core/error.h"
#include "kernels/cpu/iter.h"
#include "kernels/kernels.h"

namespace tapegrad {
namespace kernels {

namespace {

std::atomic<int> g_blas_threads{0};

constexpr int64_t kIntMax = INT_MAX;
// OpenBLAS runs GEMMs with m*n*k at or below this on the calling thread (interface/gemm.c).
constexpr double kBlasSingleThreaded = 65536.0 * 4.0;
// Below this many multiply-adds a plain loop beats the cost of a BLAS call.
constexpr int64_t kTinyGemm = 512;

bool fits(int64_t v) { return v >= 0 && v <= kIntMax; }

// Element offsets (from the tensor's first element) of every matrix of t's leading `nb` dims, in
// C order.
std::vector<int64_t> batch_offsets(const Tensor& t, size_t nb) {
  int64_t count = 1;
  for (size_t i = 0; i < nb; ++i) count *= t.shape()[i];
  std::vector<int64_t> offs(size_t(std::max<int64_t>(count, 0)));
  if (count <= 0) return offs;
  SmallVec<int64_t, 6> idx(nb, 0);
  int64_t off = 0;
  for (int64_t b = 0; b < count; ++b) {
    offs[size_t(b)] = off;
    for (size_t d = nb; d-- > 0;) {
      if (++idx[d] < t.shape()[d]) {
        off += t.strides()[d];
        break;
      }
      off -= t.strides()[d] * (t.shape()[d] - 1);
      idx[d] = 0;
    }
  }
  return offs;
}

// A copy of `x` that is contiguous in its last two dims, without materialising batch dims that
// are broadcast (zero stride): those stay zero-stride views of one copy.
Tensor compact_copy(const Tensor& x) {
  const size_t nd = x.shape().size();
  Shape cs = x.shape();
  for (size_t i = 0; i + 2 < nd; ++i)
    if (x.strides()[i] == 0) cs[i] = 1;
  Tensor src = x.view_as(cs, x.strides(), x.offset());
  Tensor c = Tensor::empty(cs, x.dtype(), x.device());
  copy(c, src);
  Strides st = c.strides();
  for (size_t i = 0; i + 2 < nd; ++i)
    if (cs[i] != x.shape()[i]) st[i] = 0;
  return c.view_as(x.shape(), st, c.offset());
}

// How BLAS can read a rows x cols matrix with element strides (rs, cs) in row-major CBLAS: as is
// (trans=false, ld = row stride) or as the transpose of a row-major matrix (trans=true, ld = col
// stride). False when neither works (zero, negative or overlapping strides): copy it first.
bool blas_layout(int64_t rows, int64_t cols, int64_t rs, int64_t cs, bool& trans, int64_t& ld) {
  if ((cs == 1 || cols <= 1) && (rows <= 1 || rs >= std::max<int64_t>(1, cols))) {
    trans = false;
    ld = rows <= 1 ? std::max<int64_t>(1, cols) : rs;
    return fits(ld);
  }
  if ((rs == 1 || rows <= 1) && (cols <= 1 || cs >= std::max<int64_t>(1, rows))) {
    trans = true;
    ld = cols <= 1 ? std::max<int64_t>(1, rows) : cs;
    return fits(ld);
  }
  return false;
}

// ---- typed BLAS entry points -----------------------------------------------------------------
inline CBLAS_TRANSPOSE tr(bool t) { return t ? CblasTrans : CblasNoTrans; }

inline void gemm(bool ta, bool tb, int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c,
                 int ldc) {
  scipy_cblas_sgemm(CblasRowMajor, tr(ta), tr(tb), m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
}
inline void gemm(bool ta, bool tb, int m, int n, int k, const double* a, int lda, const double* b, int ldb, double* c,
                 int ldc) {
  scipy_cblas_dgemm(CblasRowMajor, tr(ta), tr(tb), m, n, k, 1.0, a, lda, b, ldb, 0.0, c, ldc);
}
// y = op(A) x with A stored row-major as rows x cols.
inline void gemv(bool t, int rows, int cols, const float* a, int lda, const float* x, int incx, float* y) {
  scipy_cblas_sgemv(CblasRowMajor, tr(t), rows, cols, 1.0f, a, lda, x, incx, 0.0f, y, 1);
}
inline void gemv(bool t, int rows, int cols, const double* a, int lda, const double* x, int incx, double* y) {
  scipy_cblas_dgemv(CblasRowMajor, tr(t), rows, cols, 1.0, a, lda, x, incx, 0.0, y, 1);
}

// Complex64/Complex128: cgemm/zgemm and cgemv/zgemv (alpha and beta passed by pointer).
inline void gemm(bool ta, bool tb, int m, int n, int k, const std::complex<float>* a, int lda,
                 const std::complex<float>* b, int ldb, std::complex<float>* c, int ldc) {
  const std::complex<float> one(1), zero(0);
  scipy_cblas_cgemm(CblasRowMajor, tr(ta), tr(tb), m, n, k, &one, a, lda, b, ldb, &zero, c, ldc);
}
inline void gemm(bool ta, bool tb, int m, int n, int k, const std::complex<double>* a, int lda,
                 const std::complex<double>* b, int ldb, std::complex<double>* c, int ldc) {
  const std::complex<double> one(1), zero(0);
  scipy_cblas_zgemm(CblasRowMajor, tr(ta), tr(tb), m, n, k, &one, a, lda, b, ldb, &zero, c, ldc);
}
inline void gemv(bool t, int rows, int cols, const std::complex<float>* a, int lda, const std::complex<float>* x,
                 int incx, std::complex<float>* y) {
  const std::complex<float> one(1), zero(0);
  scipy_cblas_cgemv(CblasRowMajor, tr(t), rows, cols, &one, a, lda, x, incx, &zero, y, 1);
}
inline void gemv(bool t, int rows, int cols, const std::complex<double>* a, int lda, const std::complex<double>* x,
                 int incx, std::complex<double>* y) {
  const std::complex<double> one(1), zero(0);
  scipy_cblas_zgemv(CblasRowMajor, tr(t), rows, cols, &one, a, lda, x, incx, &zero, y, 1);
}

template <class T>
struct is_complex_t : std::false_type {};
template <class T>
struct is_complex_t<std::complex<T>> : std::true_type {};

// ---- matmul --------------------------------------------------------------------------------
struct MatmulArgs {
  int64_t m, n, k;
  int64_t ars, acs, brs, bcs;  // element strides of the matrices
  std::vector<int64_t> aoff, boff;
  int64_t count;  // batch size
};

// C (m x n, contiguous) = A @ B by loops (integers, tiny products, sizes past 32 bits).
// Rows [r0, r1) of C.
// c += a * b; integers wrap as numpy's do, through the unsigned type (no signed-overflow UB).
template <class T>
inline T madd(T c, T a, T b) {
  if constexpr (std::is_integral<T>::value && !std::is_same<T, bool>::value) {
    using U = std::make_unsigned_t<T>;
    return T(U(c) + U(a) * U(b));
  } else {
    return c + a * b;
  }
}

template <class T>
void matmul_loop(const T* a, const T* b, T* c, const MatmulArgs& g, int64_t r0, int64_t r1) {
  const int64_t n = g.n, k = g.k;
  for (int64_t i = r0 * n; i < r1 * n; ++i) c[i] = T(0);
  for (int64_t i = r0; i < r1; ++i) {
    T* ci = c + i * n;
    for (int64_t p = 0; p < k; ++p) {
      const T av = a[i * g.ars + p * g.acs];
      const T* bp = b + p * g.brs;
      if (g.bcs == 1) {
        for (int64_t j = 0; j < n; ++j) ci[j] = madd(ci[j], av, bp[j]);
      } else {
        for (int64_t j = 0; j < n; ++j) ci[j] = madd(ci[j], av, bp[j * g.bcs]);
      }
    }
  }
}

template <class T>
struct BlasPlan {
  bool ta = false, tb = false;
  int64_t lda = 0, ldb = 0;
};

// One product through BLAS (layouts already checked).
template <class T>
void matmul_blas(const T* a, const T* b, T* c, const MatmulArgs& g, const BlasPlan<T>& p) {
  const int m = int(g.m), n = int(g.n), k = int(g.k);
  if (n == 1 && m > 1) {
    int64_t inc = k <= 1 ? 1 : g.brs;
    if (inc > 0 && fits(inc)) {
      // out (m) = A x: A is m x k as is, or (k x m)^T.
      if (!p.ta) gemv(false, m, k, a, int(p.lda), b, int(inc), c);
      else gemv(true, k, m, a, int(p.lda), b, int(inc), c);
      return;
    }
  }
  if (m == 1 && n > 1) {
    int64_t inc = k <= 1 ? 1 : g.acs;
    if (inc > 0 && fits(inc)) {
      // out (n) = B^T x: B is k x n as is, or (n x k)^T.
      if (!p.tb) gemv(true, k, n, b, int(p.ldb), a, int(inc), c);
      else gemv(false, n, k, b, int(p.ldb), a, int(inc), c);
      return;
    }
  }
  gemm(p.ta, p.tb, m, n, k, a, int(p.lda), b, int(p.ldb), c, n);
}

// The batch as one tall product when b is shared by every matrix of the batch and a's batch rows
// are evenly spaced (a batch of inputs against one weight matrix). Returns false if not.
template <class T>
bool try_merged_gemm(const Tensor& a, const Tensor& b, T* c, const MatmulArgs& g, const BlasPlan<T>& plan) {
  const size_t nb = a.shape().size() - 2;
  for (size_t i = 0; i < nb; ++i)
    if (b.strides()[i] != 0 && b.shape()[i] != 1) return false;
  int64_t rows = g.m, rs = g.ars;
  for (size_t i = nb; i-- > 0;) {
    const int64_t d = a.shape()[i], s = a.strides()[i];
    if (d == 1) continue;
    if (rows == 1) rs = s;
    else if (s != rs * rows) return false;
    rows *= d;
  }
  if (rows <= g.m || !fits(rows) || rs < std::max<int64_t>(1, g.k) || !fits(rs)) return false;
  sync_blas_threads();
  MatmulArgs one = g;
  one.m = rows;
  one.ars = rs;
  BlasPlan<T> p1 = plan;
  p1.lda = rs;
  matmul_blas(a.data<T>(), b.data<T>(), c, one, p1);
  return true;
}

template <class T>
void matmul_typed(const Tensor& out, Tensor a, Tensor b) {
  const size_t nd = out.shape().size();
  const size_t nb = nd - 2;
  MatmulArgs g;
  g.m = out.shape()[nd - 2];
  g.n = out.shape()[nd - 1];
  g.k = a.shape()[nd - 1];
  T* c = out.data<T>();
  if (out.numel() == 0) return;
  if (g.k == 0) {
    std::memset(static_cast<void*>(c), 0, size_t(out.numel()) * sizeof(T));
    return;
  }
  // Floats and complex numbers go to BLAS (sgemm/dgemm/cgemm/zgemm); integers to the loop.
  constexpr bool kFloat = std::is_floating_point<T>::value || is_complex_t<T>::value;
  const bool small = g.m * g.n * g.k <= kTinyGemm;
  const bool use_blas = kFloat && !small && fits(g.m) && fits(g.n) && fits(g.k);
  BlasPlan<T> plan;
  if (use_blas) {
    if (!blas_layout(g.m, g.k, a.strides()[nd - 2], a.strides()[nd - 1], plan.ta, plan.lda)) {
      a = compact_copy(a);
      blas_layout(g.m, g.k, a.strides()[nd - 2], a.strides()[nd - 1], plan.ta, plan.lda);
    }
    if (!blas_layout(g.k, g.n, b.strides()[nd - 2], b.strides()[nd - 1], plan.tb, plan.ldb)) {
      b = compact_copy(b);
      blas_layout(g.k, g.n, b.strides()[nd - 2], b.strides()[nd - 1], plan.tb, plan.ldb);
    }
  }
  g.ars = a.strides()[nd - 2];
  g.acs = a.strides()[nd - 1];
  g.brs = b.strides()[nd - 2];
  g.bcs = b.strides()[nd - 1];
  const T* A = a.data<T>();
  const T* B = b.data<T>();
  bool merged = false;
  // b shared by the whole batch and a's batch rows evenly spaced: the batch is one tall product.
  if constexpr (kFloat) {
    if (use_blas && nb > 0 && !plan.ta) merged = try_merged_gemm(a, b, c, g, plan);
  }
  if (merged) return;
  g.count = 1;
  for (size_t i = 0; i < nb; ++i) g.count *= out.shape()[i];
  g.aoff = batch_offsets(a, nb);
  g.boff = batch_offsets(b, nb);
  const int64_t csz = g.m * g.n;
  const double work = double(g.m) * double(g.n) * double(g.k);
  if (use_blas) sync_blas_threads();
  if constexpr (kFloat) {
    if (use_blas && work > kBlasSingleThreaded) {
      for (int64_t i = 0; i < g.count; ++i)
        matmul_blas(A + g.aoff[size_t(i)], B + g.boff[size_t(i)], c + i * csz, g, plan);
      return;
    }
  }
  if (g.count == 1 && !use_blas) {  // one product by loops: split its rows
    const int64_t grain = std::max<int64_t>(1, int64_t(65536.0 / double(g.n * g.k + 1)));
    cpu::parallel_for(g.m, grain, [&](int64_t lo, int64_t hi) { matmul_loop(A, B, c, g, lo, hi); });
    return;
  }
  // Small products: our pool over the batch (OpenBLAS stays on the calling thread for these).
  const int64_t grain = std::max<int64_t>(1, int64_t(65536.0 / (work + 1.0)));
  cpu::parallel_for(g.count, grain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      const T* ai = A + g.aoff[size_t(i)];
      const T* bi = B + g.boff[size_t(i)];
      if constexpr (kFloat) {
        if (use_blas) {
          matmul_blas(ai, bi, c + i * csz, g, plan);
          continue;
        }
      }
      matmul_loop(ai, bi, c + i * csz, g, 0, g.m);
    }
  });
}

// ---- LAPACK --------------------------------------------------------------------------------
inline lapack_int getrf(int n, float* a, lapack_int* ipiv) {
  return scipy_LAPACKE_sgetrf_work(LAPACK_COL_MAJOR, n, n, a, n, ipiv);
}
inline lapack_int getrf(int n, double* a, lapack_int* ipiv) {
  return scipy_LAPACKE_dgetrf_work(LAPACK_COL_MAJOR, n, n, a, n, ipiv);
}
inline lapack_int getrs_t(int n, int k, const float* a, const lapack_int* ipiv, float* b) {
  return scipy_LAPACKE_sgetrs_work(LAPACK_COL_MAJOR, 'T', n, k, a, n, ipiv, b, n);
}
inline lapack_int getrs_t(int n, int k, const double* a, const lapack_int* ipiv, double* b) {
  return scipy_LAPACKE_dgetrs_work(LAPACK_COL_MAJOR, 'T', n, k, a, n, ipiv, b, n);
}
inline lapack_int getri(int n, float* a, const lapack_int* ipiv, float* work, int lwork) {
  return scipy_LAPACKE_sgetri_work(LAPACK_COL_MAJOR, n, a, n, ipiv, work, lwork);
}
inline lapack_int getri(int n, double* a, const lapack_int* ipiv, double* work, int lwork) {
  return scipy_LAPACKE_dgetri_work(LAPACK_COL_MAJOR, n, a, n, ipiv, work, lwork);
}
using cfloat = std::complex<float>;
using cdouble = std::complex<double>;
inline lapack_int getrf(int n, cfloat* a, lapack_int* ipiv) {
  return scipy_LAPACKE_cgetrf_work(LAPACK_COL_MAJOR, n, n, a, n, ipiv);
}
inline lapack_int getrf(int n, cdouble* a, lapack_int* ipiv) {
  return scipy_LAPACKE_zgetrf_work(LAPACK_COL_MAJOR, n, n, a, n, ipiv);
}
inline lapack_int getrs_t(int n, int k, const cfloat* a, const lapack_int* ipiv, cfloat* b) {
  return scipy_LAPACKE_cgetrs_work(LAPACK_COL_MAJOR, 'T', n, k, a, n, ipiv, b, n);
}
inline lapack_int getrs_t(int n, int k, const cdouble* a, const lapack_int* ipiv, cdouble* b) {
  return scipy_LAPACKE_zgetrs_work(LAPACK_COL_MAJOR, 'T', n, k, a, n, ipiv, b, n);
}
inline lapack_int getri(int n, cfloat* a, const lapack_int* ipiv, cfloat* work, int lwork) {
  return scipy_LAPACKE_cgetri_work(LAPACK_COL_MAJOR, n, a, n, ipiv, work, lwork);
}
inline lapack_int getri(int n, cdouble* a, const lapack_int* ipiv, cdouble* work, int lwork) {
  return scipy_LAPACKE_zgetri_work(LAPACK_COL_MAJOR, n, a, n, ipiv, work, lwork);
}
// The real part of a workspace query's answer (complex routines answer in a complex number).
template <class T>
double query_value(T q) {
  return double(q);
}
template <class T>
double query_value(std::complex<T> q) {
  return double(q.real());
}
inline lapack_int potrf_u(int n, cfloat* a) { return scipy_LAPACKE_cpotrf_work(LAPACK_COL_MAJOR, 'U', n, a, n); }
inline lapack_int potrf_u(int n, cdouble* a) { return scipy_LAPACKE_zpotrf_work(LAPACK_COL_MAJOR, 'U', n, a, n); }
inline lapack_int potrf_u(int n, float* a) { return scipy_LAPACKE_spotrf_work(LAPACK_COL_MAJOR, 'U', n, a, n); }
inline lapack_int potrf_u(int n, double* a) { return scipy_LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'U', n, a, n); }

int64_t batch_count(const Tensor& t) {
  int64_t c = 1;
  for (int64_t i = 0; i + 2 < t.ndim(); ++i) c *= t.shape()[size_t(i)];
  return c;
}

int check_n(const Tensor& a, const char* op) {
  int64_t n = a.shape()[a.shape().size() - 1];
  TG_CHECK(fits(n) && fits(n * n), op, ": matrix of size ", n, " is too large for 32-bit LAPACK");
  return int(n);
}

template <class T>
int64_t solve_typed(const Tensor& x, const Tensor& a, const Tensor& b) {
  const int n = check_n(a, "solve");
  const int64_t k64 = b.shape()[b.shape().size() - 1];
  TG_CHECK(fits(k64) && fits(k64 * n), "solve: right-hand side too large for 32-bit LAPACK");
  const int k = int(k64);
  const int64_t count = batch_count(x);
  if (n == 0 || k == 0 || count == 0) return -1;
  const size_t nb = x.shape().size() - 2;
  auto aoff = batch_offsets(a, nb), boff = batch_offsets(b, nb);
  std::vector<T> lu(size_t(n) * n), rhs(size_t(n) * k);
  std::vector<lapack_int> ipiv(static_cast<size_t>(n));
  const T* A = a.data<T>();
  const T* B = b.data<T>();
  T* X = x.data<T>();
  const int64_t ar = a.strides()[nb], ac = a.strides()[nb + 1], br = b.strides()[nb], bc = b.strides()[nb + 1];
  sync_blas_threads();
  for (int64_t t = 0; t < count; ++t) {
    const T* ap = A + aoff[size_t(t)];
    const T* bp = B + boff[size_t(t)];
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) lu[size_t(i) * n + j] = ap[i * ar + j * ac];
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < k; ++j) rhs[size_t(j) * n + i] = bp[i * br + j * bc];  // column-major b
    if (getrf(n, lu.data(), ipiv.data()) > 0) return t;
    getrs_t(n, k, lu.data(), ipiv.data(), rhs.data());
    T* xp = X + t * int64_t(n) * k;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < k; ++j) xp[int64_t(i) * k + j] = rhs[size_t(j) * n + i];
  }
  return -1;
}

template <class T>
int64_t inv_typed(const Tensor& out, const Tensor& a) {
  const int n = check_n(a, "inv");
  const int64_t count = batch_count(out);
  if (n == 0 || count == 0) return -1;
  copy(out, a);
  std::vector<lapack_int> ipiv(static_cast<size_t>(n));
  T* O = out.data<T>();
  sync_blas_threads();
  T query = 0;
  getri(n, O, ipiv.data(), &query, -1);
  int lwork = std::max(n, int(query_value(query)));
  std::vector<T> work(static_cast<size_t>(lwork));
  for (int64_t t = 0; t < count; ++t) {
    T* p = O + t * int64_t(n) * n;
    if (getrf(n, p, ipiv.data()) > 0) return t;
    if (getri(n, p, ipiv.data(), work.data(), lwork) > 0) return t;
  }
  return -1;
}

template <class T>
int64_t cholesky_typed(const Tensor& out, const Tensor& a) {
  const int n = check_n(a, "cholesky");
  const int64_t count = batch_count(out);
  if (n == 0 || count == 0) return -1;
  copy(out, a);
  T* O = out.data<T>();
  sync_blas_threads();
  for (int64_t t = 0; t < count; ++t) {
    T* p = O + t * int64_t(n) * n;
    if (potrf_u(n, p) != 0) return t;
    for (int i = 0; i < n; ++i)
      for (int j = i + 1; j < n; ++j) p[int64_t(i) * n + j] = T(0);
  }
  return -1;
}

// The sign factor of a non-zero pivot u of modulus m: -1 or +1 for a real u, the unit number u/m
// for a complex one (the complex determinant's sign is a complex number of modulus 1).
inline double unit_of(double u, double) { return u < 0 ? -1.0 : 1.0; }
inline std::complex<double> unit_of(std::complex<double> u, double m) { return u / m; }

// sign and log|det| from one LU per matrix: sign = the product of the pivots' unit factors (and -1
// per row swap), log|det| = the sum of log|u| (real for every dtype). E is the element type, R its
// real type (the dtype of logabs).
template <class E, class R>
void slogdet_typed(const Tensor& sign, const Tensor& logabs, const Tensor& a) {
  using W = std::conditional_t<std::is_same_v<E, R>, double, std::complex<double>>;
  const int n = check_n(a, "slogdet");
  const int64_t count = batch_count(a);
  E* S = sign.data<E>();
  R* L = logabs.data<R>();
  if (n == 0) {
    for (int64_t t = 0; t < count; ++t) {
      S[t] = E(1);
      L[t] = R(0);
    }
    return;
  }
  if (count == 0) return;
  Tensor buf = Tensor::empty(a.shape(), a.dtype(), a.device());
  copy(buf, a);
  std::vector<lapack_int> ipiv(static_cast<size_t>(n));
  E* B = buf.data<E>();
  sync_blas_threads();
  for (int64_t t = 0; t < count; ++t) {
    E* p = B + t * int64_t(n) * n;
    getrf(n, p, ipiv.data());
    W s = 1.0;
    double acc = 0.0;
    for (int i = 0; i < n; ++i) {
      const W u(p[int64_t(i) * n + i]);
      if (ipiv[size_t(i)] != i + 1) s = -s;
      const double m = std::abs(u);
      if (m == 0) {
        s = 0.0;
        acc = -std::numeric_limits<double>::infinity();
        break;
      }
      s *= unit_of(u, m);
      acc += std::log(m);
    }
    S[t] = E(s);
    L[t] = R(acc);
  }
}

// ---- decompositions ------------------------------------------------------------------------
inline lapack_int gesdd(char jobz, int m, int n, float* a, int lda, float* s, float* u, int ldu, float* vt, int ldvt,
                        float* work, int lwork, lapack_int* iwork) {
  return scipy_LAPACKE_sgesdd_work(LAPACK_COL_MAJOR, jobz, m, n, a, lda, s, u, ldu, vt, ldvt, work, lwork, iwork);
}
inline lapack_int gesdd(char jobz, int m, int n, double* a, int lda, double* s, double* u, int ldu, double* vt,
                        int ldvt, double* work, int lwork, lapack_int* iwork) {
  return scipy_LAPACKE_dgesdd_work(LAPACK_COL_MAJOR, jobz, m, n, a, lda, s, u, ldu, vt, ldvt, work, lwork, iwork);
}
inline lapack_int gesdd(char jobz, int m, int n, cfloat* a, int lda, float* s, cfloat* u, int ldu, cfloat* vt, int ldvt,
                        cfloat* work, int lwork, float* rwork, lapack_int* iwork) {
  return scipy_LAPACKE_cgesdd_work(LAPACK_COL_MAJOR, jobz, m, n, a, lda, s, u, ldu, vt, ldvt, work, lwork, rwork,
                                   iwork);
}
inline lapack_int gesdd(char jobz, int m, int n, cdouble* a, int lda, double* s, cdouble* u, int ldu, cdouble* vt,
                        int ldvt, cdouble* work, int lwork, double* rwork, lapack_int* iwork) {
  return scipy_LAPACKE_zgesdd_work(LAPACK_COL_MAJOR, jobz, m, n, a, lda, s, u, ldu, vt, ldvt, work, lwork, rwork,
                                   iwork);
}
// The real routines take no rwork: the same call shape for the template below.
template <class T>
inline lapack_int gesdd(char jobz, int m, int n, T* a, int lda, T* s, T* u, int ldu, T* vt, int ldvt, T* work,
                        int lwork, T* /*rwork*/, lapack_int* iwork) {
  return gesdd(jobz, m, n, a, lda, s, u, ldu, vt, ldvt, work, lwork, iwork);
}
template <class T>
struct RealOf {
  using type = T;
};
template <class T>
struct RealOf<std::complex<T>> {
  using type = T;
};
inline lapack_int syevd(char jobz, char uplo, int n, float* a, float* w, float* work, int lwork, lapack_int* iwork,
                        int liwork) {
  return scipy_LAPACKE_ssyevd_work(LAPACK_COL_MAJOR, jobz, uplo, n, a, n, w, work, lwork, iwork, liwork);
}
inline lapack_int syevd(char jobz, char uplo, int n, double* a, double* w, double* work, int lwork, lapack_int* iwork,
                        int liwork) {
  return scipy_LAPACKE_dsyevd_work(LAPACK_COL_MAJOR, jobz, uplo, n, a, n, w, work, lwork, iwork, liwork);
}
inline lapack_int geqrf(int m, int n, float* a, float* tau, float* work, int lwork) {
  return scipy_LAPACKE_sgeqrf_work(LAPACK_COL_MAJOR, m, n, a, std::max(1, m), tau, work, lwork);
}
inline lapack_int geqrf(int m, int n, double* a, double* tau, double* work, int lwork) {
  return scipy_LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, m, n, a, std::max(1, m), tau, work, lwork);
}
inline lapack_int geqrf(int m, int n, cfloat* a, cfloat* tau, cfloat* work, int lwork) {
  return scipy_LAPACKE_cgeqrf_work(LAPACK_COL_MAJOR, m, n, a, std::max(1, m), tau, work, lwork);
}
inline lapack_int geqrf(int m, int n, cdouble* a, cdouble* tau, cdouble* work, int lwork) {
  return scipy_LAPACKE_zgeqrf_work(LAPACK_COL_MAJOR, m, n, a, std::max(1, m), tau, work, lwork);
}
// Complex Q: the unitary ungqr (orgqr's complex counterpart).
inline lapack_int orgqr(int m, int n, int k, cfloat* a, const cfloat* tau, cfloat* work, int lwork) {
  return scipy_LAPACKE_cungqr_work(LAPACK_COL_MAJOR, m, n, k, a, std::max(1, m), tau, work, lwork);
}
inline lapack_int orgqr(int m, int n, int k, cdouble* a, const cdouble* tau, cdouble* work, int lwork) {
  return scipy_LAPACKE_zungqr_work(LAPACK_COL_MAJOR, m, n, k, a, std::max(1, m), tau, work, lwork);
}
inline lapack_int orgqr(int m, int n, int k, float* a, const float* tau, float* work, int lwork) {
  return scipy_LAPACKE_sorgqr_work(LAPACK_COL_MAJOR, m, n, k, a, std::max(1, m), tau, work, lwork);
}
inline lapack_int orgqr(int m, int n, int k, double* a, const double* tau, double* work, int lwork) {
  return scipy_LAPACKE_dorgqr_work(LAPACK_COL_MAJOR, m, n, k, a, std::max(1, m), tau, work, lwork);
}

// A workspace size LAPACK reported (lwork = -1 queries answer in a float), checked to fit an int.
template <class T>
int work_size(T query, int64_t at_least, const char* op) {
  const double q = std::max(query_value(query), double(at_least));
  TG_CHECK(q <= double(kIntMax), op, ": LAPACK workspace of ", q, " elements is too large for 32-bit LAPACK");
  return std::max(1, int(q));
}

// The rows x cols matrix t[batch] (batch offset `off`, any strides) into `buf`, column-major
// with leading dimension `ld` (transposed = false) or row-major with row length `ld`.
template <class T>
void gather_matrix(T* buf, const Tensor& t, int64_t off, int64_t ld, bool col_major) {
  const size_t nd = t.shape().size();
  const int64_t rows = t.shape()[nd - 2], cols = t.shape()[nd - 1];
  const int64_t rs = t.strides()[nd - 2], cs = t.strides()[nd - 1];
  const T* p = t.data<T>() + off;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) buf[col_major ? j * ld + i : i * ld + j] = p[i * rs + j * cs];
}

// False if the count values at p hold a NaN or an inf. The iterative decompositions (gesdd, syevd)
// can loop forever on those (numpy's svd hangs on an inf), so such a matrix is reported as not
// converging before LAPACK sees it.
template <class T>
bool all_finite(const T* p, size_t count) {
  for (size_t i = 0; i < count; ++i)
    if (!std::isfinite(p[i])) return false;
  return true;
}

template <class T>
bool all_finite(const std::complex<T>* p, size_t count) {
  for (size_t i = 0; i < count; ++i)
    if (!std::isfinite(p[i].real()) || !std::isfinite(p[i].imag())) return false;
  return true;
}

// Checks the sizes of an m x n decomposition for 32-bit LAPACK.
void check_mn(int64_t m, int64_t n, const char* op) {
  TG_CHECK(fits(m) && fits(n) && fits(m * std::max<int64_t>(m, n)) && fits(n * std::max<int64_t>(m, n)), op,
           ": matrix of shape (", m, ", ", n, ") is too large for 32-bit LAPACK");
}

// As for the LU calls (the comment at the top of this file): a row-major m x n A is the
// column-major n x m A^T, and the SVD of A^T = V S U^T. So gesdd on A's own buffer (M = n, N = m)
// writes its "U" (n x k, column-major) as our row-major Vh (k x n) and its "VT" (k x m,
// column-major) as our row-major U (m x k): no transposition anywhere.
// Complex matrices the same way (cgesdd/zgesdd; s real): A^T = conj(V) S U^T, so gesdd's "U" read
// row-major is Vh and its "VT" is U.
template <class T>
int64_t svd_typed(const Tensor& u, const Tensor& s, const Tensor& vh, const Tensor& a, bool full, bool compute_uv) {
  using R = typename RealOf<T>::type;
  const size_t nd = a.shape().size();
  const int64_t m64 = a.shape()[nd - 2], n64 = a.shape()[nd - 1];
  check_mn(m64, n64, "svd");
  const int m = int(m64), n = int(n64), k = std::min(m, n);
  const int64_t count = batch_count(a);
  if (count == 0) return -1;
  R* S = s.data<R>();
  T* U = compute_uv ? u.data<T>() : nullptr;
  T* VH = compute_uv ? vh.data<T>() : nullptr;
  const int ucols = full ? m : k, vrows = full ? n : k;
  if (k == 0) {
    // No singular values; the full factors of an empty matrix are identities (numpy's).
    if (compute_uv) {
      for (int64_t t = 0; t < count; ++t) {
        T* up = U + t * int64_t(m) * ucols;
        T* vp = VH + t * int64_t(vrows) * n;
        for (int64_t i = 0; i < int64_t(m) * ucols; ++i) up[i] = T(0);
        for (int64_t i = 0; i < int64_t(vrows) * n; ++i) vp[i] = T(0);
        for (int i = 0; i < std::min(m, ucols); ++i) up[int64_t(i) * ucols + i] = T(1);
        for (int i = 0; i < std::min(vrows, n); ++i) vp[int64_t(i) * n + i] = T(1);
      }
    }
    return -1;
  }
  const char jobz = !compute_uv ? 'N' : full ? 'A' : 'S';
  std::vector<T> buf(size_t(m) * size_t(n));
  std::vector<lapack_int> iwork(size_t(8) * size_t(k));
  // cgesdd/zgesdd's real workspace (LAPACK's documented bound; the real routines take none)
  const size_t mx = size_t(std::max(m, n)), mn = size_t(k);
  std::vector<R> rwork(!is_complex_t<T>::value ? 1
                       : jobz == 'N'           ? 7 * mn
                                               : std::max(5 * mn * mn + 5 * mn, 2 * mx * mn + 2 * mn * mn + mn));
  T dummy = 0;
  sync_blas_threads();
  T query = 0;
  // gesdd's "U" is n x (n or k) with ldu = n; its "VT" is (m or k) x m with ldvt = ucols.
  gesdd(jobz, n, m, buf.data(), n, S, &dummy, n, &dummy, std::max(1, ucols), &query, -1, rwork.data(), iwork.data());
  const int lwork = work_size(query, 1, "svd");
  std::vector<T> work(static_cast<size_t>(lwork));
  auto offs = batch_offsets(a, nd - 2);
  for (int64_t t = 0; t < count; ++t) {
    gather_matrix(buf.data(), a, offs[size_t(t)], n, false);
    if (!all_finite(buf.data(), buf.size())) return t;
    R* sp = S + t * k;
    T* vp = compute_uv ? VH + t * int64_t(vrows) * n : &dummy;
    T* up = compute_uv ? U + t * int64_t(m) * ucols : &dummy;
    const lapack_int info = gesdd(jobz, n, m, buf.data(), n, sp, vp, n, up, std::max(1, ucols), work.data(), lwork,
                                  rwork.data(), iwork.data());
    if (info != 0) return t;
  }
  return -1;
}

// syevd on a's buffer sees A^T: our lower triangle is its upper one. Its eigenvectors come back as
// the columns of a column-major matrix, i.e. the rows of our row-major one: transposed into v.
template <class T>
int64_t eigh_typed(const Tensor& w, const Tensor& v, const Tensor& a, bool lower, bool compute_v) {
  const int n = check_n(a, "eigh");
  const int64_t count = batch_count(a);
  if (count == 0 || n == 0) return -1;
  const size_t nd = a.shape().size();
  const char jobz = compute_v ? 'V' : 'N', uplo = lower ? 'U' : 'L';
  std::vector<T> buf(size_t(n) * size_t(n));
  T* W = w.data<T>();
  T* V = compute_v ? v.data<T>() : nullptr;
  sync_blas_threads();
  T query = 0;
  lapack_int iquery = 0;
  syevd(jobz, uplo, n, buf.data(), W, &query, -1, &iquery, -1);
  const int lwork = work_size(query, 1, "eigh");
  const int liwork = work_size(double(iquery), 1, "eigh");
  std::vector<T> work(static_cast<size_t>(lwork));
  std::vector<lapack_int> iwork(static_cast<size_t>(liwork));
  auto offs = batch_offsets(a, nd - 2);
  for (int64_t t = 0; t < count; ++t) {
    gather_matrix(buf.data(), a, offs[size_t(t)], n, false);
    if (!all_finite(buf.data(), buf.size())) return t;  // the triangle not read too: numpy fails on it as well
    if (syevd(jobz, uplo, n, buf.data(), W + t * n, work.data(), lwork, iwork.data(), liwork) != 0) return t;
    if (!compute_v) continue;
    T* vp = V + t * int64_t(n) * n;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) vp[int64_t(i) * n + j] = buf[size_t(j) * n + i];
  }
  return -1;
}

// Hermitian eigendecomposition (cheevd/zheevd). Unlike eigh_typed's transposed view (A^T is the
// conjugate of a Hermitian matrix, whose eigenvectors are conjugated), A itself is gathered
// column-major, so that `uplo` names our triangle; the column-major eigenvectors are transposed back.
inline lapack_int heevd(char jobz, char uplo, int n, cfloat* a, float* w, cfloat* work, int lwork, float* rwork,
                        int lrwork, lapack_int* iwork, int liwork) {
  return scipy_LAPACKE_cheevd_work(LAPACK_COL_MAJOR, jobz, uplo, n, a, n, w, work, lwork, rwork, lrwork, iwork, liwork);
}
inline lapack_int heevd(char jobz, char uplo, int n, cdouble* a, double* w, cdouble* work, int lwork, double* rwork,
                        int lrwork, lapack_int* iwork, int liwork) {
  return scipy_LAPACKE_zheevd_work(LAPACK_COL_MAJOR, jobz, uplo, n, a, n, w, work, lwork, rwork, lrwork, iwork, liwork);
}
template <class T>
int64_t eigh_complex(const Tensor& w, const Tensor& v, const Tensor& a, bool lower, bool compute_v) {
  using C = std::complex<T>;
  const int n = check_n(a, "eigh");
  const int64_t count = batch_count(a);
  if (count == 0 || n == 0) return -1;
  const char jobz = compute_v ? 'V' : 'N', uplo = lower ? 'L' : 'U';
  std::vector<C> buf(size_t(n) * size_t(n));
  T* W = w.data<T>();
  C* V = compute_v ? v.data<C>() : nullptr;
  sync_blas_threads();
  C query = 0;
  T rquery = 0;
  lapack_int iquery = 0;
  heevd(jobz, uplo, n, buf.data(), W, &query, -1, &rquery, -1, &iquery, -1);
  const int lwork = work_size(query.real(), 1, "eigh");
  const int lrwork = work_size(rquery, 1, "eigh");
  const int liwork = work_size(double(iquery), 1, "eigh");
  std::vector<C> work(static_cast<size_t>(lwork));
  std::vector<T> rwork(static_cast<size_t>(lrwork));
  std::vector<lapack_int> iwork(static_cast<size_t>(liwork));
  auto offs = batch_offsets(a, a.shape().size() - 2);
  for (int64_t t = 0; t < count; ++t) {
    gather_matrix(buf.data(), a, offs[size_t(t)], n, true);
    if (!all_finite(buf.data(), buf.size())) return t;
    if (heevd(jobz, uplo, n, buf.data(), W + t * n, work.data(), lwork, rwork.data(), lrwork, iwork.data(), liwork) !=
        0)
      return t;
    if (!compute_v) continue;
    C* vp = V + t * int64_t(n) * n;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) vp[int64_t(i) * n + j] = buf[size_t(j) * n + i];
  }
  return -1;
}

// geqrf/orgqr need A itself column-major (a QR of A^T would be an LQ of A): gathered transposed,
// and Q and R transposed back into the row-major outputs.
template <class T>
void qr_typed(const Tensor& q, const Tensor& r, const Tensor& a, bool complete) {
  const size_t nd = a.shape().size();
  const int64_t m64 = a.shape()[nd - 2], n64 = a.shape()[nd - 1];
  check_mn(m64, n64, "qr");
  const int m = int(m64), n = int(n64), k = std::min(m, n);
  const int64_t count = batch_count(a);
  if (count == 0) return;
  const bool want_q = q.defined();
  const int qcols = complete ? m : k, rrows = complete ? m : k;
  T* Q = want_q ? q.data<T>() : nullptr;
  T* R = r.data<T>();
  // Column-major m x max(n, qcols): orgqr writes Q's qcols columns over the factored A.
  const int cols = std::max(n, qcols);
  std::vector<T> buf(size_t(m) * size_t(std::max(cols, 1)));
  std::vector<T> tau(size_t(std::max(k, 1)));
  sync_blas_threads();
  T query = 0, query2 = 0;
  geqrf(m, n, buf.data(), tau.data(), &query, -1);
  if (want_q && m > 0) orgqr(m, qcols, k, buf.data(), tau.data(), &query2, -1);
  const int lwork = work_size(std::max(query_value(query), query_value(query2)), std::max(1, std::max(n, m)), "qr");
  std::vector<T> work(static_cast<size_t>(lwork));
  auto offs = batch_offsets(a, nd - 2);
  for (int64_t t = 0; t < count; ++t) {
    T* rp = R + t * int64_t(rrows) * n;
    for (int64_t i = 0; i < int64_t(rrows) * n; ++i) rp[i] = T(0);
    T* qp = want_q ? Q + t * int64_t(m) * qcols : nullptr;
    if (k == 0) {  // an empty A: Q is the identity's first columns, R is zeros (numpy's)
      if (want_q) {
        for (int64_t i = 0; i < int64_t(m) * qcols; ++i) qp[i] = T(0);
        for (int i = 0; i < std::min(m, qcols); ++i) qp[int64_t(i) * qcols + i] = T(1);
      }
      continue;
    }
    gather_matrix(buf.data(), a, offs[size_t(t)], m, true);
    geqrf(m, n, buf.data(), tau.data(), work.data(), lwork);
    for (int i = 0; i < rrows; ++i)
      for (int j = i; j < n; ++j) rp[int64_t(i) * n + j] = buf[size_t(j) * m + i];
    if (!want_q) continue;
    orgqr(m, qcols, k, buf.data(), tau.data(), work.data(), lwork);
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < qcols; ++j) qp[int64_t(i) * qcols + j] = buf[size_t(j) * m + i];
  }
}

// ---- general eigendecomposition (geev) -------------------------------------------------------
inline lapack_int geev(char jobvr, int n, float* a, float* wr, float* wi, float* vr, int ldvr, float* work, int lwork) {
  return scipy_LAPACKE_sgeev_work(LAPACK_COL_MAJOR, 'N', jobvr, n, a, n, wr, wi, nullptr, 1, vr, ldvr, work, lwork);
}
inline lapack_int geev(char jobvr, int n, double* a, double* wr, double* wi, double* vr, int ldvr, double* work,
                       int lwork) {
  return scipy_LAPACKE_dgeev_work(LAPACK_COL_MAJOR, 'N', jobvr, n, a, n, wr, wi, nullptr, 1, vr, ldvr, work, lwork);
}
inline lapack_int geev(char jobvr, int n, std::complex<float>* a, std::complex<float>* w, std::complex<float>* vr,
                       int ldvr, std::complex<float>* work, int lwork, float* rwork) {
  return scipy_LAPACKE_cgeev_work(LAPACK_COL_MAJOR, 'N', jobvr, n, a, n, w, nullptr, 1, vr, ldvr, work, lwork, rwork);
}
inline lapack_int geev(char jobvr, int n, std::complex<double>* a, std::complex<double>* w, std::complex<double>* vr,
                       int ldvr, std::complex<double>* work, int lwork, double* rwork) {
  return scipy_LAPACKE_zgeev_work(LAPACK_COL_MAJOR, 'N', jobvr, n, a, n, w, nullptr, 1, vr, ldvr, work, lwork, rwork);
}

// geev needs A itself (the eigenvectors of A^T are A's left ones): gathered column-major, and the
// column-major eigenvector matrix transposed into the row-major v. Real input (sgeev/dgeev, what
// numpy runs) gives eigenvalues as (wr, wi) and a conjugate pair's vectors as two real columns
// (re, im) of VR; complex input (cgeev/zgeev) gives them complex. LAPACK normalises every
// eigenvector to unit 2-norm with its largest component real, numpy's and JAX's gauge.
template <class T>
int64_t eig_real(const Tensor& w, const Tensor& v, const Tensor& a, bool compute_v) {
  using C = std::complex<T>;
  const int n = check_n(a, "eig");
  const int64_t count = batch_count(a);
  if (count == 0 || n == 0) return -1;
  const char jobvr = compute_v ? 'V' : 'N';
  const size_t nn = size_t(n) * size_t(n);
  const size_t nw = static_cast<size_t>(n);
  std::vector<T> buf(nn), wr(nw), wi(nw), vr(compute_v ? nn : 1);
  C* W = w.data<C>();
  C* V = compute_v ? v.data<C>() : nullptr;
  sync_blas_threads();
  T query = 0;
  geev(jobvr, n, buf.data(), wr.data(), wi.data(), vr.data(), n, &query, -1);
  const int lwork = work_size(query, int64_t(compute_v ? 4 : 3) * n, "eig");
  std::vector<T> work(static_cast<size_t>(lwork));
  auto offs = batch_offsets(a, a.shape().size() - 2);
  for (int64_t t = 0; t < count; ++t) {
    gather_matrix(buf.data(), a, offs[size_t(t)], n, true);
    if (!all_finite(buf.data(), buf.size())) return t;
    if (geev(jobvr, n, buf.data(), wr.data(), wi.data(), vr.data(), n, work.data(), lwork) != 0) return t;
    C* wp = W + t * n;
    for (int j = 0; j < n; ++j) wp[j] = C(wr[size_t(j)], wi[size_t(j)]);
    if (!compute_v) continue;
    C* vp = V + t * int64_t(n) * n;
    for (int j = 0; j < n; ++j) {
      const T* col = vr.data() + size_t(j) * n;
      if (wi[size_t(j)] == T(0)) {
        for (int i = 0; i < n; ++i) vp[int64_t(i) * n + j] = C(col[i], T(0));
      } else if (j + 1 < n) {  // a pair: column j holds the real parts, j + 1 the imaginary ones
        const T* im = col + n;
        for (int i = 0; i < n; ++i) {
          vp[int64_t(i) * n + j] = C(col[i], im[i]);
          vp[int64_t(i) * n + j + 1] = C(col[i], -im[i]);
        }
        ++j;
      }
    }
  }
  return -1;
}

template <class T>
int64_t eig_complex(const Tensor& w, const Tensor& v, const Tensor& a, bool compute_v) {
  using C = std::complex<T>;
  const int n = check_n(a, "eig");
  const int64_t count = batch_count(a);
  if (count == 0 || n == 0) return -1;
  const char jobvr = compute_v ? 'V' : 'N';
  const size_t nn = size_t(n) * size_t(n);
  std::vector<C> buf(nn), vr(compute_v ? nn : 1);
  std::vector<T> rwork(2 * static_cast<size_t>(n));
  C* W = w.data<C>();
  C* V = compute_v ? v.data<C>() : nullptr;
  sync_blas_threads();
  C query = 0;
  geev(jobvr, n, buf.data(), W, vr.data(), n, &query, -1, rwork.data());
  const int lwork = work_size(query.real(), int64_t(2) * n, "eig");
  std::vector<C> work(static_cast<size_t>(lwork));
  auto offs = batch_offsets(a, a.shape().size() - 2);
  for (int64_t t = 0; t < count; ++t) {
    gather_matrix(buf.data(), a, offs[size_t(t)], n, true);
    if (!all_finite(buf.data(), buf.size())) return t;
    if (geev(jobvr, n, buf.data(), W + t * n, vr.data(), n, work.data(), lwork, rwork.data()) != 0) return t;
    if (!compute_v) continue;
    C* vp = V + t * int64_t(n) * n;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) vp[int64_t(i) * n + j] = vr[size_t(j) * n + i];
  }
  return -1;
}

}  // namespace

void sync_blas_threads() {
  const int want = num_threads();
  if (g_blas_threads.load(std::memory_order_relaxed) != want) {
    scipy_openblas_set_num_threads(want);
    g_blas_threads.store(want, std::memory_order_relaxed);
  }
}

int blas_num_threads() { return scipy_openblas_get_num_threads(); }
const char* blas_config() { return scipy_openblas_get_config(); }

namespace cpu {

void matmul(const Tensor& out, const Tensor& a, const Tensor& b) {
  switch (out.dtype()) {
    case DType::Float32: matmul_typed<float>(out, a, b); break;
    case DType::Float64: matmul_typed<double>(out, a, b); break;
    case DType::Int32: matmul_typed<int32_t>(out, a, b); break;
    case DType::Int64: matmul_typed<int64_t>(out, a, b); break;
    case DType::Complex64: matmul_typed<std::complex<float>>(out, a, b); break;
    case DType::Complex128: matmul_typed<std::complex<double>>(out, a, b); break;
    default: throw DTypeError(str_cat("matmul kernel: dtype ", out.dtype(), " is not supported"));
  }
}

#define TG_LAPACK_DISPATCH(dt, name, call)                                                \
  switch (dt) {                                                                           \
    case DType::Float32: {                                                                \
      using T = float;                                                                    \
      call;                                                                               \
    }                                                                                     \
    case DType::Float64: {                                                                \
      using T = double;                                                                   \
      call;                                                                               \
    }                                                                                     \
    default: throw DTypeError(str_cat(name, " kernel: dtype ", dt, " is not supported")); \
  }

int64_t solve(const Tensor& x, const Tensor& a, const Tensor& b) {
  if (x.dtype() == DType::Complex64) return solve_typed<cfloat>(x, a, b);
  if (x.dtype() == DType::Complex128) return solve_typed<cdouble>(x, a, b);
  TG_LAPACK_DISPATCH(x.dtype(), "solve", return solve_typed<T>(x, a, b));
}
int64_t inv(const Tensor& out, const Tensor& a) {
  if (out.dtype() == DType::Complex64) return inv_typed<cfloat>(out, a);
  if (out.dtype() == DType::Complex128) return inv_typed<cdouble>(out, a);
  TG_LAPACK_DISPATCH(out.dtype(), "inv", return inv_typed<T>(out, a));
}
int64_t cholesky(const Tensor& out, const Tensor& a) {
  // Complex: our buffer is A^T = conj(A) for a Hermitian A; potrf('U') gives conj(A) = R^H R, so
  // A = R^T conj(R) and L = R^T, which our row-major view of R is.
  if (out.dtype() == DType::Complex64) return cholesky_typed<cfloat>(out, a);
  if (out.dtype() == DType::Complex128) return cholesky_typed<cdouble>(out, a);
  TG_LAPACK_DISPATCH(out.dtype(), "cholesky", return cholesky_typed<T>(out, a));
}
void slogdet(const Tensor& sign, const Tensor& logabs, const Tensor& a) {
  if (a.dtype() == DType::Complex64) return slogdet_typed<std::complex<float>, float>(sign, logabs, a);
  if (a.dtype() == DType::Complex128) return slogdet_typed<std::complex<double>, double>(sign, logabs, a);
  TG_LAPACK_DISPATCH(a.dtype(), "slogdet", (slogdet_typed<T, T>(sign, logabs, a)); return);
}
void det(const Tensor& out, const Tensor& a) {
  if (is_complex(out.dtype())) {  // sign * exp(log|det|), sign complex and log|det| real
    Tensor sign = Tensor::empty(out.shape(), out.dtype(), out.device());
    Tensor logabs = Tensor::empty(out.shape(), real_dtype(out.dtype()), out.device());
    slogdet(sign, logabs, a);
    auto fill = [&](auto* o, const auto* sg, const auto* l) {
      for (int64_t i = 0; i < out.numel(); ++i) o[i] = sg[i] * std::exp(l[i]);
    };
    if (out.dtype() == DType::Complex64) fill(out.data<cfloat>(), sign.data<cfloat>(), logabs.data<float>());
    else fill(out.data<cdouble>(), sign.data<cdouble>(), logabs.data<double>());
    return;
  }
  Tensor sign = Tensor::empty(out.shape(), out.dtype(), out.device());
  slogdet(sign, out, a);
  // det = sign * exp(log|det|), as numpy computes it from the same factorisation.
  TG_LAPACK_DISPATCH(out.dtype(), "det", {
    T* o = out.data<T>();
    const T* s = sign.data<T>();
    for (int64_t i = 0; i < out.numel(); ++i) o[i] = s[i] * T(std::exp(double(o[i])));
    return;
  });
}
int64_t svd(const Tensor& u, const Tensor& s, const Tensor& vh, const Tensor& a, bool full, bool compute_uv) {
  if (a.dtype() == DType::Complex64) return svd_typed<cfloat>(u, s, vh, a, full, compute_uv);
  if (a.dtype() == DType::Complex128) return svd_typed<cdouble>(u, s, vh, a, full, compute_uv);
  TG_LAPACK_DISPATCH(a.dtype(), "svd", return svd_typed<T>(u, s, vh, a, full, compute_uv));
}
int64_t eigh(const Tensor& w, const Tensor& v, const Tensor& a, bool lower, bool compute_v) {
  if (a.dtype() == DType::Complex64) return eigh_complex<float>(w, v, a, lower, compute_v);
  if (a.dtype() == DType::Complex128) return eigh_complex<double>(w, v, a, lower, compute_v);
  TG_LAPACK_DISPATCH(a.dtype(), "eigh", return eigh_typed<T>(w, v, a, lower, compute_v));
}
void qr(const Tensor& q, const Tensor& r, const Tensor& a, bool complete) {
  if (a.dtype() == DType::Complex64) return qr_typed<cfloat>(q, r, a, complete);
  if (a.dtype() == DType::Complex128) return qr_typed<cdouble>(q, r, a, complete);
  TG_LAPACK_DISPATCH(a.dtype(), "qr", qr_typed<T>(q, r, a, complete); return);
}
#undef TG_LAPACK_DISPATCH

int64_t eig(const Tensor& w, const Tensor& v, const Tensor& a, bool compute_v) {
  switch (a.dtype()) {
    case DType::Float32: return eig_real<float>(w, v, a, compute_v);
    case DType::Float64: return eig_real<double>(w, v, a, compute_v);
    case DType::Complex64: return eig_complex<float>(w, v, a, compute_v);
    case DType::Complex128: return eig_complex<double>(w, v, a, compute_v);
    default: throw DTypeError(str_cat("eig kernel: dtype ", a.dtype(), " is not supported"));
  }
}

}  // namespace cpu
}  // namespace kernels
}  // namespace tapegrad
