// Bindings of the linalg family: matmul/dot/vdot/outer/einsum/trace/norm on tapegrad._core (and
// as Tensor methods where numpy has them), `@`, and solve/inv/det/slogdet/cholesky/norm on the
// submodule tapegrad._core.linalg (re-exported by python/tapegrad/linalg.py).
#include <algorithm>
#include <cmath>

#include "bindings/common.h"
#include "ops/runtime.h"

namespace tapegrad {
namespace bind {

// Docstrings of the functions, methods and properties bound in this file. Every `>>>` example
// runs as a doctest (tests/test_doctests.py) with `tg` (tapegrad) and `np` (numpy) in scope;
// `...` in an output stands for digits that may differ in the last place between SIMD paths.
namespace docs {

inline constexpr char matmul[] =
    R"doc(The matrix product (numpy.matmul; also the `@` operator). 1-d arguments are vectors;
leading dimensions are batch dimensions and broadcast.

>>> a = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
>>> tg.matmul(a, tg.tensor([1.0, 1.0]))
Tensor(shape=[2], dtype=Float32, value= [ 3.00000000e+00,  7.00000000e+00])
>>> print(a @ a)
[[ 7. 10.]
 [15. 22.]]
>>> (tg.ones((5, 2, 3)) @ tg.ones((3, 4))).shape
(5, 2, 4)
)doc";

inline constexpr char dot[] =
    R"doc(numpy.dot: the inner product of vectors, the matrix product of matrices, and the sum over
the last axis of a with the second-to-last of b otherwise.

>>> x = tg.tensor([1.0, 2.0, 3.0])
>>> tg.dot(x, x)
Tensor(shape=[], dtype=Float32, value= 14)
>>> x.dot(tg.ones((3, 2)))
Tensor(shape=[2], dtype=Float32, value= [ 6.00000000e+00,  6.00000000e+00])
)doc";

inline constexpr char vdot[] =
    R"doc(The inner product of a and b, both flattened first.

>>> tg.vdot(tg.tensor([[1.0, 2.0], [3.0, 4.0]]), tg.ones((2, 2)))
Tensor(shape=[], dtype=Float32, value= 10)
)doc";

inline constexpr char outer[] =
    R"doc(The outer product a[i] * b[j] of a and b, both flattened first.

>>> tg.outer(tg.tensor([1, 2]), tg.tensor([1, 10, 100]))
Tensor(shape=[2, 3], dtype=Int64, value=
[[  1,  10, 100],
 [  2,  20, 200]])
)doc";

inline constexpr char einsum[] =
    R"doc(Einstein summation over the operands (numpy.einsum: explicit `->` output, repeated indices
for traces and diagonals, `...` for broadcast dimensions); products run on BLAS.

>>> a, b = tg.ones((2, 3)), tg.ones((3, 4))
>>> tg.einsum("ij,jk->ik", a, b).shape
(2, 4)
>>> tg.einsum("ii", tg.tensor([[1.0, 2.0], [3.0, 4.0]]))  # the trace
Tensor(shape=[], dtype=Float32, value= 5)
>>> tg.einsum("bi,bi->b", tg.ones((5, 3)), tg.ones((5, 3))).shape
(5,)
)doc";

inline constexpr char trace[] =
    R"doc(The sum of the diagonal offset by offset, over axes axis1 and axis2.

>>> x = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
>>> tg.trace(x)
Tensor(shape=[], dtype=Float32, value= 5)
>>> x.trace(offset=1)
Tensor(shape=[], dtype=Float32, value= 2)
)doc";

inline constexpr char norm[] =
    R"doc(numpy.linalg.norm: the 2-norm of the flattened x by default; ord is a number, inf, -inf,
'fro' or 'nuc'; axis picks a vector axis (an int) or matrix axes (a pair). The gradient of the
2-norm at 0 is 0.

>>> x = tg.tensor([3.0, 4.0])
>>> tg.norm(x)
Tensor(shape=[], dtype=Float32, value= 5)
>>> x.norm(ord=1)
Tensor(shape=[], dtype=Float32, value= 7)
>>> tg.norm(tg.tensor([[3.0, 4.0], [0.0, 1.0]]), axis=1)
Tensor(shape=[2], dtype=Float32, value= [ 5.00000000e+00,  1.00000000e+00])
)doc";

inline constexpr char linalg_solve[] =
    R"doc(The solution x of a @ x = b (LAPACK gesv); a is (..., n, n), b is (..., n) or (..., n, k).
A singular a raises ValueError. Differentiable in a and b.

>>> a = tg.tensor([[2.0, 0.0], [0.0, 4.0]])
>>> tg.linalg.solve(a, tg.tensor([2.0, 2.0]))
Tensor(shape=[2], dtype=Float32, value= [ 1.00000000e+00,  5.00000000e-01])
)doc";

inline constexpr char linalg_inv[] =
    R"doc(The inverse of each square matrix in a (..., n, n); a singular matrix raises ValueError.

>>> a = tg.tensor([[2.0, 1.0], [1.0, 1.0]])
>>> tg.linalg.inv(a)
Tensor(shape=[2, 2], dtype=Float32, value=
[[ 1.00000000e+00, -1.00000000e+00],
 [-1.00000000e+00,  2.00000000e+00]])
)doc";

inline constexpr char linalg_det[] =
    R"doc(The determinant of each square matrix in a (..., n, n), by LU; 0 when singular.

>>> a = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
>>> tg.linalg.det(a)
Tensor(shape=[], dtype=Float32, value= -2)
>>> tg.grad(tg.linalg.det)(a)  # det(a) * inv(a).T
Tensor(shape=[2, 2], dtype=Float32, value=
[[ 4.00000000e+00, -3.00000000e+00],
 [-2.00000000e+00,  1.00000000e+00]])
)doc";

inline constexpr char linalg_slogdet[] =
    R"doc((sign, log|det|) of each square matrix in a; tapegrad.linalg.slogdet gives them as a named
tuple.

>>> sign, logabsdet = tg._core.linalg.slogdet(tg.tensor([[-1.0, 0.0], [0.0, 1.0]]))
>>> print(sign, logabsdet)
-1.0 0.0
)doc";

inline constexpr char linalg_cholesky[] =
    R"doc(The lower-triangular L with L @ L.T = a, for each symmetric positive-definite a (..., n,
n); a matrix that is not positive definite raises ValueError.

>>> tg.linalg.cholesky(tg.tensor([[4.0, 2.0], [2.0, 2.0]]))
Tensor(shape=[2, 2], dtype=Float32, value=
[[ 2.00000000e+00,  0.00000000e+00],
 [ 1.00000000e+00,  1.00000000e+00]])
)doc";

inline constexpr char linalg_norm[] =
    R"doc(numpy.linalg.norm (the same function as tapegrad.norm): vector and matrix norms; ord is a
number, inf, -inf, 'fro' or 'nuc'.

>>> a = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
>>> tg.linalg.norm(a, "fro") ** 2
Tensor(shape=[], dtype=Float32, value= 30)
>>> tg.linalg.norm(a, ord=1)  # the largest column sum
Tensor(shape=[], dtype=Float32, value= 6)
)doc";

inline constexpr char linalg_svd[] =
    R"doc(Singular value decomposition a = U @ diag(S) @ Vh of each matrix in a (..., m, n) (LAPACK
gesdd), as the tuple (U, S, Vh); S descending. `full_matrices` gives U (..., m, m) and Vh (..., n,
n), else (..., m, k) and (..., k, n) with k = min(m, n); `compute_uv=False` gives S alone.
tapegrad.linalg.svd returns a named tuple. Differentiable in all three outputs; a non-square a
needs full_matrices=False for that. Failure to converge raises ValueError.

>>> u, s, vh = tg._core.linalg.svd(tg.tensor([[3.0, 0.0], [0.0, -4.0]]))
>>> s
Tensor(shape=[2], dtype=Float32, value= [ 4.00000000e+00,  3.00000000e+00])
)doc";

inline constexpr char linalg_svdvals[] =
    R"doc(The singular values of each matrix in a (..., m, n), descending (LAPACK gesdd without
vectors). Its gradient U @ diag(g) @ Vh is finite for every a, repeated values included.

>>> tg.linalg.svdvals(tg.tensor([[3.0, 0.0], [0.0, -4.0]]))
Tensor(shape=[2], dtype=Float32, value= [ 4.00000000e+00,  3.00000000e+00])
)doc";

inline constexpr char linalg_eigh[] =
    R"doc(Eigenvalues (ascending) and eigenvectors (the columns) of each symmetric matrix in a (...,
n, n), read from its lower (UPLO='L') or upper ('U') triangle (LAPACK syevd), as a tuple;
tapegrad.linalg.eigh returns a named tuple. Derivatives are those of the matrix the triangle
defines; eigenvector derivatives are inf/nan where eigenvalues repeat.

>>> w, v = tg._core.linalg.eigh(tg.tensor([[2.0, 1.0], [1.0, 2.0]]))
>>> w
Tensor(shape=[2], dtype=Float32, value= [ 1.00000000e+00,  3.00000000e+00])
)doc";

inline constexpr char linalg_eigvalsh[] =
    R"doc(The eigenvalues (ascending) of each symmetric matrix in a (..., n, n), read from one
triangle (UPLO='L' or 'U'). Its gradient V @ diag(g) @ V.T (onto that triangle) is finite for every
a.

>>> tg.linalg.eigvalsh(tg.tensor([[2.0, 1.0], [1.0, 2.0]]))
Tensor(shape=[2], dtype=Float32, value= [ 1.00000000e+00,  3.00000000e+00])
)doc";

inline constexpr char linalg_eig[] =
    R"doc(Eigenvalues and right eigenvectors (the columns, each of unit norm with its largest
component real) of each square matrix in a (..., n, n) (LAPACK geev), as a tuple; complex for real
input too (as JAX; numpy returns real arrays when every eigenvalue is real). tapegrad.linalg.eig
returns a named tuple. Differentiable (JAX's rules): eigenvector derivatives are inf/nan where
eigenvalues repeat.

>>> w, v = tg._core.linalg.eig(tg.tensor([[2.0, 0.0], [0.0, 3.0]]))
>>> w.tolist()
[(2+0j), (3+0j)]
)doc";

inline constexpr char linalg_eigvals[] =
    R"doc(The eigenvalues of each square matrix in a (..., n, n) (LAPACK geev without vectors),
complex for real input too. Its gradient V^-T diag(g) V^T needs no eigenvalue gaps.

>>> tg.linalg.eigvals(tg.tensor([[0.0, -1.0], [1.0, 0.0]])).tolist()
[1j, -1j]
)doc";

inline constexpr char linalg_qr[] =
    R"doc(QR decomposition a = Q @ R of each matrix in a (..., m, n) (LAPACK geqrf and orgqr), as a
tuple (Q, R); mode 'reduced' (Q (..., m, k), R (..., k, n), k = min(m, n)), 'complete' (Q (..., m,
m)) or 'r' (R alone). tapegrad.linalg.qr returns a named tuple. Differentiable for 'reduced' (and
'r') with m >= n.

>>> q, r = tg._core.linalg.qr(tg.tensor([[3.0, 1.0], [4.0, 2.0]]))
>>> print(np.round(abs(r).numpy(), 4))
[[5.  2.2]
 [0.  0.4]]
)doc";

}  // namespace docs

namespace {

// Products this large (multiply-adds) run without the GIL so that other Python threads can work.
constexpr double kReleaseGil = double(1 << 18);

template <class F>
Tensor maybe_nogil(double work, F&& f) {
  if (work >= kReleaseGil) {
    py::gil_scoped_release nogil;
    SharedDataLock lock;  // Note [Concurrent writes]
    return f();
  }
  return f();
}

// Multiply-adds of a @ b (an estimate: batch broadcasting aside).
double matmul_work(const Tensor& a, const Tensor& b) {
  const double m = a.ndim() >= 2 ? double(a.shape()[a.shape().size() - 2]) : 1.0;
  const double n = b.ndim() >= 2 ? double(b.shape().back()) : 1.0;
  return std::max(double(a.numel()) * n, double(b.numel()) * m);
}

double cube_work(const Tensor& a) {
  const double n = a.ndim() ? double(a.shape().back()) : 0.0;
  return double(a.numel()) * n;
}

Tensor do_matmul(const Tensor& a, const Tensor& b) {
  return maybe_nogil(matmul_work(a, b), [&] { return ops::matmul(a, b); });
}

struct NormArgs {
  bool has_ord = false;
  double ord = 0.0;
  std::string ord_str;
};
NormArgs parse_ord(py::handle ord) {
  NormArgs r;
  if (ord.is_none()) return r;
  if (py::isinstance<py::str>(ord)) {
    r.ord_str = py::cast<std::string>(ord);
    return r;
  }
  if (is_tensor(ord) || !PyNumber_Check(ord.ptr()))
    throw TypeError(str_cat("norm: ord must be None, a number, 'fro' or 'nuc', got ",
                            py::str(py::type::of(ord).attr("__name__")).cast<std::string>()));
  r.has_ord = true;
  r.ord = py::cast<double>(py::float_(py::reinterpret_borrow<py::object>(ord)));
  return r;
}

// UPLO of eigh/eigvalsh: 'L' or 'U' (numpy's spelling; lower case too).
bool uplo_param(py::handle h, const char* op) {
  TG_CHECK_TYPE(PyUnicode_Check(h.ptr()), op, ": UPLO must be 'L' or 'U', got ", std::string(py::repr(h)));
  const std::string u = py::cast<std::string>(h);
  TG_CHECK(u == "L" || u == "U" || u == "l" || u == "u", op, ": UPLO must be 'L' or 'U', got '", u, "'");
  return u == "L" || u == "l";
}

Tensor do_norm(py::handle x, py::handle ord, py::handle axis, py::handle keepdims_h) {
  const bool keepdims = bool_param(keepdims_h, "norm", "keepdims");
  Tensor t = arg_tensor(x, "norm");
  NormArgs o = parse_ord(ord);
  AxisArg ax = parse_axis(axis, "norm");
  SmallVec<int64_t, 6> axes(ax.axes.begin(), ax.axes.end());
  if (!o.ord_str.empty()) return ops::norm(t, o.ord_str, axes, ax.all, keepdims);
  return ops::norm(t, o.ord, o.has_ord, axes, ax.all, keepdims);
}

}  // namespace

void bind_linalg(py::module_& m) {
  auto cls = py::reinterpret_borrow<py::class_<Tensor>>(reinterpret_cast<PyObject*>(g_tensor_type));

  m.def(
      "matmul", [](py::handle a, py::handle b) { return do_matmul(arg_tensor(a, "matmul"), arg_tensor(b, "matmul")); },
      py::arg("x1"), py::arg("x2"), docs::matmul);
  cls.def("__matmul__", [](const Tensor& a, py::handle b) { return do_matmul(a, operand(b, a, "matmul")); });
  cls.def("__rmatmul__", [](const Tensor& a, py::handle b) { return do_matmul(operand(b, a, "matmul"), a); });

  def_both(
      m, "dot",
      [](py::handle a, py::handle b) {
        Tensor x = arg_tensor(a, "dot");
        Tensor y = is_tensor(b) ? as_tensor(b) : operand(b, x, "dot");
        return maybe_nogil(matmul_work(x, y), [&] { return ops::dot(x, y); });
      },
      py::arg("b"), docs::dot);
  m.def(
      "vdot", [](py::handle a, py::handle b) { return ops::vdot(arg_tensor(a, "vdot"), arg_tensor(b, "vdot")); },
      py::arg("a"), py::arg("b"), docs::vdot);
  m.def(
      "outer", [](py::handle a, py::handle b) { return ops::outer(arg_tensor(a, "outer"), arg_tensor(b, "outer")); },
      py::arg("a"), py::arg("b"), docs::outer);
  m.def(
      "einsum",
      [](py::handle spec_h, py::args operands) {
        TG_CHECK_TYPE(PyUnicode_Check(spec_h.ptr()), "einsum: subscripts must be a str, got ",
                      std::string(py::repr(spec_h)));
        const std::string spec = py::cast<std::string>(spec_h);
        // Subscripts are ASCII letters: name a non-ASCII character whole (never a byte of it).
        for (py::handle ch : spec_h) {
          const std::string c = py::cast<std::string>(ch);
          if (c.size() > 1 || static_cast<unsigned char>(c[0]) > 127)
            throw ValueError(str_cat("einsum: invalid character '", c, "' in subscripts '", spec,
                                     "' (subscripts are ASCII letters, ',', '->' and '...')"));
        }
        std::vector<Tensor> xs;
        double work = 1.0;
        for (py::handle o : operands) {
          xs.push_back(arg_tensor(o, "einsum"));
          work *= double(std::max<int64_t>(1, xs.back().numel()));
        }
        return maybe_nogil(std::sqrt(work), [&] { return ops::einsum(spec, xs); });
      },
      py::arg("subscripts"), docs::einsum);
  def_both(
      m, "trace",
      [](py::handle a, py::handle offset, py::handle axis1, py::handle axis2) {
        return ops::trace(arg_tensor(a, "trace"), int_param(offset, "trace", "offset"), axis_param(axis1, "trace"),
                          axis_param(axis2, "trace"));
      },
      py::arg("offset") = 0, py::arg("axis1") = 0, py::arg("axis2") = 1, docs::trace);
  def_both(m, "norm", &do_norm, py::arg("ord") = py::none(), py::arg("axis") = py::none(), py::arg("keepdims") = false,
           docs::norm);

  py::module_ la = m.def_submodule("linalg", "LAPACK-backed linear algebra (numpy.linalg names)");
  la.def(
      "solve",
      [](py::handle a, py::handle b) {
        Tensor x = arg_tensor(a, "solve"), y = arg_tensor(b, "solve");
        return maybe_nogil(cube_work(x), [&] { return ops::solve(x, y); });
      },
      py::arg("a"), py::arg("b"), docs::linalg_solve);
  la.def(
      "inv",
      [](py::handle a) {
        Tensor x = arg_tensor(a, "inv");
        return maybe_nogil(cube_work(x), [&] { return ops::inv(x); });
      },
      py::arg("a"), docs::linalg_inv);
  la.def(
      "det",
      [](py::handle a) {
        Tensor x = arg_tensor(a, "det");
        return maybe_nogil(cube_work(x), [&] { return ops::det(x); });
      },
      py::arg("a"), docs::linalg_det);
  la.def(
      "slogdet",
      [](py::handle a) {
        Tensor x = arg_tensor(a, "slogdet");
        std::vector<Tensor> r;
        {
          py::gil_scoped_release nogil;
          SharedDataLock lock;
          r = ops::slogdet(x);
        }
        return py::make_tuple(r[0], r[1]);
      },
      py::arg("a"), docs::linalg_slogdet);
  la.def(
      "cholesky",
      [](py::handle a) {
        Tensor x = arg_tensor(a, "cholesky");
        return maybe_nogil(cube_work(x), [&] { return ops::cholesky(x); });
      },
      py::arg("a"), docs::linalg_cholesky);
  la.def(
      "svd",
      [](py::handle a, py::handle full_h, py::handle uv_h) -> py::object {
        Tensor x = arg_tensor(a, "svd");
        const bool full = bool_param(full_h, "svd", "full_matrices");
        const bool uv = bool_param(uv_h, "svd", "compute_uv");
        if (!uv) return py::cast(maybe_nogil(cube_work(x), [&] { return ops::svdvals(x); }));
        std::vector<Tensor> r;
        {
          py::gil_scoped_release nogil;
          SharedDataLock lock;  // Note [Concurrent writes]
          r = ops::svd(x, full);
        }
        return py::make_tuple(r[0], r[1], r[2]);
      },
      py::arg("a"), py::arg("full_matrices") = true, py::arg("compute_uv") = true, docs::linalg_svd);
  la.def(
      "svdvals",
      [](py::handle a) {
        Tensor x = arg_tensor(a, "svdvals");
        return maybe_nogil(cube_work(x), [&] { return ops::svdvals(x); });
      },
      py::arg("x"), docs::linalg_svdvals);
  la.def(
      "eigh",
      [](py::handle a, py::handle uplo) {
        Tensor x = arg_tensor(a, "eigh");
        const bool lower = uplo_param(uplo, "eigh");
        std::vector<Tensor> r;
        {
          py::gil_scoped_release nogil;
          SharedDataLock lock;  // Note [Concurrent writes]
          r = ops::eigh(x, lower);
        }
        return py::make_tuple(r[0], r[1]);
      },
      py::arg("a"), py::arg("UPLO") = "L", docs::linalg_eigh);
  la.def(
      "eigvalsh",
      [](py::handle a, py::handle uplo) {
        Tensor x = arg_tensor(a, "eigvalsh");
        const bool lower = uplo_param(uplo, "eigvalsh");
        return maybe_nogil(cube_work(x), [&] { return ops::eigvalsh(x, lower); });
      },
      py::arg("a"), py::arg("UPLO") = "L", docs::linalg_eigvalsh);
  la.def(
      "eig",
      [](py::handle a) {
        Tensor x = arg_tensor(a, "eig");
        std::vector<Tensor> r;
        {
          py::gil_scoped_release nogil;
          SharedDataLock lock;  // Note [Concurrent writes]
          r = ops::eig(x);
        }
        return py::make_tuple(r[0], r[1]);
      },
      py::arg("a"), docs::linalg_eig);
  la.def(
      "eigvals",
      [](py::handle a) {
        Tensor x = arg_tensor(a, "eigvals");
        return maybe_nogil(cube_work(x), [&] { return ops::eigvals(x); });
      },
      py::arg("a"), docs::linalg_eigvals);
  la.def(
      "qr",
      [](py::handle a, py::handle mode_h) -> py::object {
        Tensor x = arg_tensor(a, "qr");
        TG_CHECK_TYPE(PyUnicode_Check(mode_h.ptr()), "qr: mode must be a str, got ", std::string(py::repr(mode_h)));
        const std::string mode = py::cast<std::string>(mode_h);
        std::vector<Tensor> r;
        {
          py::gil_scoped_release nogil;
          SharedDataLock lock;  // Note [Concurrent writes]
          r = ops::qr(x, mode);
        }
        if (r.size() == 1) return py::cast(r[0]);
        return py::make_tuple(r[0], r[1]);
      },
      py::arg("a"), py::arg("mode") = "reduced", docs::linalg_qr);
  la.def("norm", &do_norm, py::arg("x"), py::arg("ord") = py::none(), py::arg("axis") = py::none(),
         py::arg("keepdims") = false, docs::linalg_norm);
  la.def("_blas_num_threads", [] { return ops::blas_num_threads(); });
  la.def("_blas_config", [] { return std::string(ops::blas_config()); });
  la.def("_sync_blas_threads", [] { ops::sync_blas_threads(); });
}

}  // namespace bind
}  // namespace tapegrad
