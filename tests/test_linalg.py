"""Linear algebra: matmul, dot, vdot, outer, einsum, trace, norm and tapegrad.linalg.

Values against numpy (float32, float64, ints where meaningful; 1-d/N-d/batched/broadcast/empty and
non-contiguous inputs), error cases, and every derivative rule against finite differences to
second order (float64) plus float32 spot checks.
"""

import threading
from functools import partial

import numpy as np
import pytest

import helpers
import tapegrad as tg
from helpers import f64
from tapegrad import linalg as la
from tapegrad.testing import check_grads

RNG = np.random.default_rng(1234)
INF = np.inf


rand = partial(helpers.make, rng=RNG, ints=(-4, 5))


def well_conditioned(shape, dtype=np.float64, rng=RNG):
    """Random square matrices (batched) far from singular: 2 I + noise of spectral norm ~ 1."""
    n = shape[-1]
    return (rng.standard_normal(shape) / np.sqrt(max(n, 1)) / 2 + 2 * np.eye(n)).astype(dtype)


def spd(shape, dtype=np.float64, rng=RNG):
    x = rng.standard_normal(shape)
    n = shape[-1]
    return (x @ np.swapaxes(x, -1, -2) + n * np.eye(n)).astype(dtype)


def T(x, dtype=None):
    return tg.tensor(x, dtype)


def tol(dtype):
    return {"float32": 2e-4, "float64": 1e-10}.get(np.dtype(dtype).name, 0)


def assert_matches(got, want, dtype=None, rtol=None):
    want = np.asarray(want)
    got_np = np.asarray(got)
    assert got_np.shape == want.shape, (got_np.shape, want.shape)
    assert got_np.dtype == want.dtype, (got_np.dtype, want.dtype)
    t = tol(want.dtype) if rtol is None else rtol
    if t == 0:
        np.testing.assert_array_equal(got_np, want)
    else:
        np.testing.assert_allclose(got_np, want, rtol=t, atol=t)


# ---- matmul ----------------------------------------------------------------------------------

MATMUL_SHAPES = [
    ((3, 4), (4, 5)),
    ((4,), (4, 5)),
    ((3, 4), (4,)),
    ((4,), (4,)),
    ((2, 3, 4), (4, 5)),
    ((3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((4,), (2, 4, 3)),
    ((2, 3, 4), (4,)),
    ((1, 1), (1, 1)),
    ((0, 4), (4, 5)),
    ((3, 0), (0, 5)),
    ((2, 0, 3, 4), (4, 5)),
    ((40, 50), (50, 30)),  # large enough for BLAS
    ((3, 20, 30), (3, 30, 25)),
    ((6, 20, 30), (30, 25)),  # batch against one matrix: one tall GEMM
    ((20, 30), (30,)),  # gemv
    ((30,), (30, 20)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_values(sa, sb, dtype):
    a, b = rand(sa, dtype), rand(sb, dtype)
    assert_matches(tg.matmul(T(a), T(b)), np.matmul(a, b))
    assert_matches(T(a) @ T(b), a @ b)


def test_matmul_bool_and_mixed_dtypes():
    a, b = rand((3, 4), np.bool_), rand((4, 2), np.bool_)
    assert_matches(T(a) @ T(b), a @ b)
    x32, x64 = rand((3, 4), np.float32), rand((4, 2), np.float64)
    assert_matches(T(x32) @ T(x64), x32 @ x64)
    xi = rand((3, 4), np.int64)
    assert_matches(T(xi) @ T(x64), xi @ x64)
    h = rand((3, 4), np.float16)
    got = T(h) @ T(h.T.copy())
    assert str(got.dtype) == "Float16"
    h32 = h.astype(np.float32)
    np.testing.assert_allclose(np.asarray(got, np.float32), h32 @ h32.T, rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("m,k,n", [(3, 4, 5), (40, 50, 30)])
def test_matmul_noncontiguous(m, k, n, dtype):
    a, b = rand((k, m), dtype), rand((n, k), dtype)
    ta, tb = T(a), T(b)
    # transposed views go to BLAS with trans flags
    assert_matches(ta.T @ tb.T, a.T @ b.T)
    assert_matches(ta.T @ T(b.T.copy()), a.T @ b.T)
    # strided rows/columns
    a2 = rand((2 * m, 2 * k), dtype)
    assert_matches(T(a2)[::2, ::2] @ T(b.T.copy()), a2[::2, ::2] @ b.T)
    assert_matches(T(a2)[::2, 1::2] @ tb.T, a2[::2, 1::2] @ b.T)
    # batched and transposed in the batch
    c = rand((3, k, m), dtype)
    assert_matches(tg.swapaxes(T(c), 1, 2) @ tb.T, np.swapaxes(c, 1, 2) @ b.T)
    # matrix-vector products (gemv) with transposed matrices and strided vectors
    v2 = rand((2 * k,), dtype)
    assert_matches(ta.T @ T(v2)[::2], a.T @ v2[::2])
    assert_matches(T(a.T.copy()) @ T(v2)[1::2], a.T @ v2[1::2])
    assert_matches(T(v2)[::2] @ tb.T, v2[::2] @ b.T)
    assert_matches(T(v2)[::2] @ T(b.T.copy()), v2[::2] @ b.T)
    # a row broadcast inside the matrix (zero row stride): copied before BLAS
    row = rand((1, k), dtype)
    assert_matches(tg.broadcast_to(T(row), (m, k)) @ tb.T, np.broadcast_to(row, (m, k)) @ b.T)
    # a broadcast (zero-stride) batch
    bb = tg.broadcast_to(T(a.T.copy()), (4, m, k))
    assert_matches(bb @ tb.T, np.broadcast_to(a.T, (4, m, k)) @ b.T)


def test_matmul_with_numpy_operands():
    a, b = rand((3, 4)), rand((4, 2))
    assert_matches(T(a) @ b, a @ b)
    r = a @ T(b)
    assert isinstance(r, tg.Tensor)
    assert_matches(r, a @ b)
    assert_matches(tg.matmul(a, b), a @ b)
    # Python lists of floats are float32 tensors (API.md)
    assert_matches(tg.matmul(a.tolist(), b.tolist()), a.astype(np.float32) @ b.astype(np.float32))


def test_matmul_errors():
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        tg.matmul(T(rand((2, 3))), T(rand((4, 5))))
    with pytest.raises(ValueError, match=r"matmul.*\(3,\).*\(4,\)"):
        tg.matmul(T(rand(3)), T(rand(4)))
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3, 4\).*\(3, 4, 5\).*broadcast"):
        tg.matmul(T(rand((2, 3, 4))), T(rand((3, 4, 5))))
    with pytest.raises(ValueError, match="matmul.*dimensions"):
        tg.matmul(T(2.0), T(rand(3)))
    with pytest.raises(ValueError, match="matmul.*dimensions"):
        T(rand(3)) @ 2.0


def test_matmul_large_float32_against_numpy():
    a, b = rand((300, 200), np.float32), rand((200, 250), np.float32)
    np.testing.assert_allclose(np.asarray(T(a) @ T(b)), a @ b, rtol=1e-4, atol=1e-3)


def test_matmul_from_threads():
    # The binding releases the GIL for big products: threads must still get their own results.
    a = [rand((200, 200)) for _ in range(4)]
    out = [None] * 4

    def work(i):
        out[i] = np.asarray(T(a[i]) @ T(a[i]))

    ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for i in range(4):
        np.testing.assert_allclose(out[i], a[i] @ a[i], rtol=1e-10, atol=1e-10)


def test_blas_threads_follow_pool():
    # OpenBLAS's thread count is kept equal to the pool's (Note [BLAS threads] in blas.cpp).
    T(rand((70, 70))) @ T(rand((70, 70)))
    assert tg._core.linalg._blas_num_threads() == tg.get_num_threads()


# ---- dot / vdot / outer ----------------------------------------------------------------------

DOT_SHAPES = [
    ((), ()),
    ((), (3,)),
    ((2, 3), ()),
    ((4,), (4,)),
    ((3, 4), (4,)),
    ((4,), (4, 3)),
    ((3, 4), (4, 5)),
    ((2, 3, 4), (4,)),
    ((2, 3, 4), (4, 5)),
    ((2, 3, 4), (5, 4, 2)),
    ((4,), (2, 4, 3)),
    ((2, 0), (0, 3)),
    ((2, 0), (3, 0, 2)),
    ((0, 4), (2, 4, 3)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("sa,sb", DOT_SHAPES)
def test_dot_values(sa, sb, dtype):
    a, b = rand(sa, dtype), rand(sb, dtype)
    want = np.asarray(np.dot(a, b))
    assert_matches(tg.dot(T(a), T(b)), want)
    if sa != ():
        assert_matches(T(a).dot(T(b)), want)


def test_dot_errors():
    with pytest.raises(ValueError, match=r"dot.*\(2, 3\).*\(2, 3\)"):
        tg.dot(T(rand((2, 3))), T(rand((2, 3))))
    with pytest.raises(ValueError, match=r"dot.*\(2, 3, 4\).*\(5, 3, 2\)"):
        tg.dot(T(rand((2, 3, 4))), T(rand((5, 3, 2))))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
def test_vdot_outer(dtype):
    a, b = rand((2, 3), dtype), rand((3, 2), dtype)
    assert_matches(tg.vdot(T(a), T(b)), np.asarray(np.vdot(a, b)))
    assert_matches(tg.outer(T(a), T(b)), np.outer(a, b))
    assert_matches(tg.outer(T(a[0]), T(b[:, 0])), np.outer(a[0], b[:, 0]))
    assert_matches(tg.vdot(T(a).T, T(b)), np.asarray(np.vdot(a.T, b)))
    with pytest.raises(ValueError, match="vdot"):
        tg.vdot(T(rand(3)), T(rand(4)))


# ---- einsum ----------------------------------------------------------------------------------

EINSUM_CASES = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("ij,kj->ik", [(3, 4), (5, 4)]),
    ("ij->ji", [(3, 4)]),
    ("ij->", [(3, 4)]),
    ("ij->j", [(3, 4)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iij->j", [(3, 3, 2)]),
    ("iji->j", [(3, 2, 3)]),
    ("i,i->", [(4,), (4,)]),
    ("i,i", [(4,), (4,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("i,j", [(3,), (4,)]),
    ("ij,ij->ij", [(3, 4), (3, 4)]),
    ("bi,bi->b", [(5, 4), (5, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("bij,bjk->kib", [(2, 3, 4), (2, 4, 5)]),
    ("abc,cd,de->abe", [(2, 3, 4), (4, 5), (5, 2)]),
    ("i,i,i->i", [(4,), (4,), (4,)]),
    ("ijk->kji", [(2, 3, 4)]),
    ("ij,j->i", [(3, 4), (4,)]),
    ("ij,j", [(3, 4), (1,)]),
    ("ijk,ik->j", [(2, 3, 4), (2, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (4, 5)]),
    ("...ij,...jk", [(2, 1, 3, 4), (5, 4, 2)]),
    ("...i,...i", [(2, 3), (3,)]),
    ("i...->...", [(3, 2, 2)]),
    ("ij,jk->ik", [(0, 4), (4, 5)]),
    ("ij,jk->ik", [(3, 0), (0, 5)]),
    ("Ab,bA->A", [(3, 4), (4, 3)]),
    (" ij , jk -> ik ", [(3, 4), (4, 5)]),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("spec,shapes", EINSUM_CASES)
def test_einsum_values(spec, shapes, dtype):
    xs = [rand(s, dtype) for s in shapes]
    want = np.asarray(np.einsum(spec, *xs))
    assert_matches(tg.einsum(spec, *[T(x) for x in xs]), want)


def test_einsum_noncontiguous():
    a, b = rand((4, 3)), rand((5, 4))
    assert_matches(tg.einsum("ij,jk->ik", T(a).T, T(b).T), np.einsum("ij,jk->ik", a.T, b.T))
    c = rand((6, 6))
    assert_matches(tg.einsum("ii->i", T(c)[::2, ::2]), np.einsum("ii->i", c[::2, ::2]))


@pytest.mark.parametrize(
    "spec,shapes,match",
    [
        ("ij,jk->ik", [(3, 4)], "operand"),
        ("ij,jk->ik", [(3, 4), (5, 6)], "size"),
        ("ij->ik", [(3, 4)], "'k'"),
        ("ij->ii", [(3, 4)], "more than once"),
        ("i#j", [(3, 4)], "invalid character"),
        ("ij", [(3, 4, 5)], "dimension"),
        ("ii", [(3, 4)], "collapsing"),
        ("...ij,jk->ik", [(2, 3, 4), (4, 5)], r"\.\.\."),
        ("ij->i->j", [(3, 4)], "->"),
        ("i.j", [(3, 4)], r"\.\.\."),
    ],
)
def test_einsum_errors(spec, shapes, match):
    with pytest.raises(ValueError, match=match):
        tg.einsum(spec, *[T(rand(s)) for s in shapes])


# ---- trace -----------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
@pytest.mark.parametrize(
    "shape,offset,a1,a2",
    [
        ((3, 3), 0, 0, 1),
        ((3, 4), 1, 0, 1),
        ((3, 4), -2, 0, 1),
        ((3, 4), 7, 0, 1),
        ((2, 3, 4), 0, 1, 2),
        ((2, 3, 4), 1, 2, 0),
        ((2, 3, 4), 0, -1, -3),
        ((0, 3), 0, 0, 1),
    ],
)
def test_trace_values(shape, offset, a1, a2, dtype):
    x = rand(shape, dtype)
    want = np.asarray(np.trace(x, offset, a1, a2))
    assert_matches(tg.trace(T(x), offset, a1, a2), want)
    assert_matches(T(x).trace(offset, a1, a2), want)


def test_trace_noncontiguous_and_errors():
    x = rand((4, 6))
    assert_matches(tg.trace(T(x).T), np.asarray(np.trace(x.T)))
    assert_matches(tg.trace(T(x)[::2, ::3]), np.asarray(np.trace(x[::2, ::3])))
    with pytest.raises(ValueError, match="trace"):
        tg.trace(T(rand(3)))
    with pytest.raises(ValueError, match="trace"):
        tg.trace(T(rand((3, 3))), 0, 1, 1)


# ---- norm ------------------------------------------------------------------------------------

VECTOR_ORDS = [None, 2, 1, INF, -INF, 0, 3, 0.5, -1, 2.5]
MATRIX_ORDS = [None, "fro", 1, -1, INF, -INF]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ord", VECTOR_ORDS)
def test_norm_vector(ord, dtype):
    x = rand((5,), dtype)
    x[2] = 0
    with np.errstate(divide="ignore"):  # numpy's |0| ** -1
        want = np.asarray(np.linalg.norm(x, ord))
    assert_matches(tg.norm(T(x), ord), want)
    assert_matches(la.norm(T(x), ord), want)
    y = rand((3, 4, 5), dtype)
    for axis in (0, 1, -1):
        for keepdims in (False, True):
            want = np.linalg.norm(y, ord, axis, keepdims)
            assert_matches(tg.norm(T(y), ord, axis, keepdims), want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ord", MATRIX_ORDS)
def test_norm_matrix(ord, dtype):
    x = rand((3, 4), dtype)
    assert_matches(tg.norm(T(x), ord), np.asarray(np.linalg.norm(x, ord)))
    y = rand((2, 3, 4), dtype)
    for axis in ((1, 2), (2, 0), (-1, -2)):
        for keepdims in (False, True):
            want = np.linalg.norm(y, ord, axis, keepdims)
            assert_matches(tg.norm(T(y), ord, axis, keepdims), want)


def test_norm_default_flattens_and_converts_ints():
    y = rand((2, 3, 4))
    assert_matches(tg.norm(T(y)), np.asarray(np.linalg.norm(y)))
    assert_matches(tg.norm(T(y), keepdims=True), np.linalg.norm(y, keepdims=True))
    assert_matches(T(y).norm(), np.asarray(np.linalg.norm(y)))
    xi = np.array([3, 4], np.int32)
    assert_matches(tg.norm(T(xi)), np.asarray(np.linalg.norm(xi)))
    assert_matches(tg.norm(T(xi), 1), np.asarray(np.linalg.norm(xi, 1)))
    yt = y.transpose(2, 0, 1)
    assert_matches(tg.norm(T(y).transpose(2, 0, 1), 2, 0), np.linalg.norm(yt, 2, 0))
    assert_matches(tg.norm(T(np.zeros((0,)))), np.asarray(np.linalg.norm(np.zeros((0,)))))


def test_norm_errors():
    with pytest.raises(ValueError, match="norm"):
        tg.norm(T(rand((2, 3, 4))), 2)
    with pytest.raises(ValueError, match="norm"):
        tg.norm(T(rand((3, 4))), 3)
    with pytest.raises(ValueError, match="norm"):
        tg.norm(T(rand(3)), "fro")
    with pytest.raises(ValueError, match="norm"):
        tg.norm(T(rand((3, 4))), None, (0, 0))
    with pytest.raises(ValueError, match="norm"):
        tg.norm(T(rand((3, 4))), "bad")
    with pytest.raises(TypeError, match="norm"):
        tg.norm(T(rand(3)), [1])
    with pytest.raises(IndexError, match="norm"):
        tg.norm(T(rand(3)), None, 2)


def test_norm_gradient_at_zero_is_zero():
    """The 2-norm's gradient at x = 0 is 0 (JAX's safe-norm convention), never NaN."""
    z = tg.zeros((3,), tg.float64)
    g = tg.grad(lambda x: tg.norm(x))(z)
    np.testing.assert_array_equal(np.asarray(g), np.zeros(3))
    g = tg.grad(lambda x: tg.norm(x, 2))(z)
    np.testing.assert_array_equal(np.asarray(g), np.zeros(3))
    m = np.array([[0.0, 0.0], [3.0, 4.0]])
    g = tg.grad(lambda x: tg.norm(x, None, 1).sum())(T(m))
    np.testing.assert_allclose(np.asarray(g), [[0, 0], [0.6, 0.8]])
    g = tg.grad(lambda x: tg.norm(x, "fro"))(tg.zeros((2, 2), tg.float64))
    np.testing.assert_array_equal(np.asarray(g), np.zeros((2, 2)))
    _, t = tg.jvp(lambda x: tg.norm(x), (z,), (tg.ones((3,), tg.float64),))
    assert float(t) == 0.0
    h = tg.grad(tg.grad(lambda x: tg.norm(x)))(z)
    assert np.all(np.isfinite(np.asarray(h)))


# ---- linalg ----------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape", [(3, 3), (1, 1), (2, 4, 4), (2, 1, 3, 3), (0, 0), (0, 3, 3), (40, 40)]
)
def test_inv_det_slogdet_cholesky(shape, dtype):
    a = well_conditioned(shape, dtype)
    rt = 2e-3 if dtype == np.float32 else 1e-9
    assert_matches(la.inv(T(a)), np.linalg.inv(a), rtol=rt)
    assert_matches(la.det(T(a)), np.asarray(np.linalg.det(a)), rtol=rt)
    s, l = la.slogdet(T(a))
    ws, wl = np.linalg.slogdet(a)
    assert_matches(s, np.asarray(ws), rtol=rt)
    assert_matches(l, np.asarray(wl), rtol=rt)
    r = la.slogdet(T(a))
    assert r.sign is r[0] and r.logabsdet is r[1]
    p = spd(shape, dtype)
    assert_matches(la.cholesky(T(p)), np.linalg.cholesky(p), rtol=rt)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "sa,sb",
    [
        ((3, 3), (3,)),
        ((3, 3), (3, 2)),
        ((2, 3, 3), (3,)),
        ((2, 3, 3), (2, 3, 4)),
        ((2, 3, 3), (3, 4)),
        ((3, 3), (5, 3, 2)),
        ((2, 1, 3, 3), (4, 3, 1)),
        ((0, 0), (0,)),
        ((3, 3), (3, 0)),
        ((30, 30), (30, 5)),
    ],
)
def test_solve(sa, sb, dtype):
    a, b = well_conditioned(sa, dtype), rand(sb, dtype)
    rt = 2e-3 if dtype == np.float32 else 1e-9
    assert_matches(la.solve(T(a), T(b)), np.linalg.solve(a, b), rtol=rt)


def test_linalg_noncontiguous_and_int_inputs():
    a = well_conditioned((4, 4))
    b = rand((2, 4))
    assert_matches(la.solve(T(a).T, T(b).T), np.linalg.solve(a.T, b.T))
    assert_matches(la.inv(T(a).T), np.linalg.inv(a.T))
    assert_matches(la.det(T(a).T), np.asarray(np.linalg.det(a.T)))
    p = spd((5, 5))
    assert_matches(la.cholesky(T(p)[::1, ::1].T), np.linalg.cholesky(p.T))
    big = well_conditioned((8, 8))
    assert_matches(la.inv(T(big)[::2, ::2]), np.linalg.inv(big[::2, ::2]))
    ai = np.array([[2, 1], [1, 3]], np.int64)
    assert_matches(la.inv(T(ai)), np.linalg.inv(ai))
    assert_matches(la.det(T(ai)), np.asarray(np.linalg.det(ai)))
    assert_matches(la.solve(T(ai), T(np.array([1, 2]))), np.linalg.solve(ai, np.array([1, 2])))
    assert_matches(la.cholesky(T(ai)), np.linalg.cholesky(ai))
    assert_matches(
        la.solve(T(ai.astype(np.float32)), T(np.ones(2, np.float64))),
        np.linalg.solve(ai.astype(np.float32), np.ones(2)),
    )


def test_cholesky_reads_lower_triangle():
    p = spd((4, 4))
    q = p.copy()
    q[np.triu_indices(4, 1)] = 99.0  # numpy ignores the strict upper triangle
    assert_matches(la.cholesky(T(q)), np.linalg.cholesky(q))


def test_singular_and_errors():
    s = np.array([[1.0, 2.0], [2.0, 4.0]])
    assert float(la.det(T(s))) == 0.0
    sign, logabs = la.slogdet(T(s))
    assert float(sign) == 0.0 and float(logabs) == -np.inf
    with pytest.raises(ValueError, match="inv: singular"):
        la.inv(T(s))
    with pytest.raises(ValueError, match="solve: singular"):
        la.solve(T(s), T(np.ones(2)))
    batch = np.stack([np.eye(2), s])
    with pytest.raises(ValueError, match="singular.*matrix 1"):
        la.inv(T(batch))
    with pytest.raises(ValueError, match="cholesky: matrix is not positive definite"):
        la.cholesky(T(np.array([[1.0, 2.0], [2.0, 1.0]])))
    for f in (la.inv, la.det, la.slogdet, la.cholesky):
        with pytest.raises(ValueError, match=r"square.*\(2, 3\)"):
            f(T(rand((2, 3))))
        with pytest.raises(ValueError, match="two-dimensional"):
            f(T(rand(3)))
        with pytest.raises(TypeError, match="float16"):
            f(T(np.eye(2, dtype=np.float16)))
    with pytest.raises(ValueError, match=r"solve.*\(3, 3\).*\(4,\)"):
        la.solve(T(np.eye(3)), T(np.ones(4)))
    with pytest.raises(ValueError, match=r"solve.*\(3, 3\).*\(4, 2\)"):
        la.solve(T(np.eye(3)), T(np.ones((4, 2))))
    with pytest.raises(ValueError, match=r"solve.*\(2, 3, 3\).*\(3, 3, 1\).*broadcast"):
        la.solve(T(rand((2, 3, 3))), T(rand((3, 3, 1))))


# ---- derivatives -----------------------------------------------------------------------------

GRAD_CASES = {
    "matmul_2d": (lambda a, b: tg.matmul(a, b), [(3, 4), (4, 2)]),
    "matmul_vec_mat": (lambda a, b: a @ b, [(4,), (4, 2)]),
    "matmul_mat_vec": (lambda a, b: a @ b, [(3, 4), (4,)]),
    "matmul_vec_vec": (lambda a, b: a @ b, [(4,), (4,)]),
    "matmul_batch_bcast": (lambda a, b: a @ b, [(2, 1, 3, 4), (3, 4, 2)]),
    "matmul_batch_shared": (lambda a, b: a @ b, [(2, 3, 4), (4, 2)]),
    "matmul_shared_batch": (lambda a, b: a @ b, [(3, 4), (2, 4, 2)]),
    "matmul_transposed": (lambda a, b: a.T @ b.T, [(4, 3), (2, 4)]),
    "dot_nd": (lambda a, b: tg.dot(a, b), [(2, 3), (2, 3, 2)]),
    "dot_scalar": (lambda a, b: tg.dot(a, b), [(), (3,)]),
    "vdot": (lambda a, b: tg.vdot(a, b), [(2, 3), (3, 2)]),
    "outer": (lambda a, b: tg.outer(a, b), [(3,), (2,)]),
    "einsum_mm": (lambda a, b: tg.einsum("ij,jk->ik", a, b), [(3, 4), (4, 2)]),
    "einsum_batch": (lambda a, b: tg.einsum("bij,bkj->bki", a, b), [(2, 3, 4), (2, 2, 4)]),
    "einsum_diag": (lambda a: tg.einsum("ii->i", a), [(3, 3)]),
    "einsum_trace_mul": (lambda a, b: tg.einsum("ii,jk->jk", a, b), [(3, 3), (2, 2)]),
    "einsum_three": (lambda a, b, c: tg.einsum("ij,jk,k->i", a, b, c), [(2, 3), (3, 4), (4,)]),
    "einsum_elementwise": (lambda a, b: tg.einsum("ij,ij->i", a, b), [(2, 3), (2, 3)]),
    "einsum_ellipsis": (lambda a, b: tg.einsum("...ij,...jk", a, b), [(2, 3, 4), (4, 2)]),
    "trace": (lambda a: tg.trace(a), [(3, 3)]),
    "trace_offset_axes": (lambda a: tg.trace(a, 1, 2, 0), [(3, 2, 4)]),
    "norm_default": (lambda a: tg.norm(a), [(2, 3)]),
    "norm_axis_keep": (lambda a: tg.norm(a, None, 1, True), [(2, 3)]),
    "norm_1": (lambda a: tg.norm(a, 1), [(4,)]),
    "norm_3": (lambda a: tg.norm(a, 3, 0), [(4, 2)]),
    "norm_inf": (lambda a: tg.norm(a, INF), [(4,)]),
    "norm_neg_inf": (lambda a: tg.norm(a, -INF), [(4,)]),
    "norm_fro": (lambda a: tg.norm(a, "fro", (0, 1)), [(3, 2)]),
    "norm_mat_1": (lambda a: tg.norm(a, 1), [(3, 3)]),
    "norm_mat_inf": (lambda a: tg.norm(a, INF, (1, 0)), [(3, 3)]),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_grads_order2(name):
    fn, shapes = GRAD_CASES[name]
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    args = [f64(s, rng=rng) for s in shapes]
    check_grads(fn, args, order=2)


LINALG_GRAD_CASES = {
    "inv": (la.inv, lambda r: [T(well_conditioned((3, 3), rng=r))]),
    "inv_batch": (la.inv, lambda r: [T(well_conditioned((2, 3, 3), rng=r))]),
    "det": (la.det, lambda r: [T(well_conditioned((3, 3), rng=r))]),
    "det_batch": (la.det, lambda r: [T(well_conditioned((2, 2, 2), rng=r))]),
    "slogdet": (lambda a: la.slogdet(a)[1], lambda r: [T(well_conditioned((3, 3), rng=r))]),
    "slogdet_negative": (
        lambda a: la.slogdet(a)[1],
        lambda r: [T(-well_conditioned((3, 3), rng=r))],
    ),
    "slogdet_tuple": (lambda a: la.slogdet(a), lambda r: [T(well_conditioned((2, 3, 3), rng=r))]),
    "solve_vec": (la.solve, lambda r: [T(well_conditioned((3, 3), rng=r)), f64((3,), rng=r)]),
    "solve_mat": (la.solve, lambda r: [T(well_conditioned((3, 3), rng=r)), f64((3, 2), rng=r)]),
    "solve_bcast": (
        la.solve,
        lambda r: [T(well_conditioned((3, 3), rng=r)), f64((2, 3, 2), rng=r)],
    ),
    "cholesky": (la.cholesky, lambda r: [T(spd((3, 3), rng=r))]),
    "cholesky_batch": (la.cholesky, lambda r: [T(spd((2, 3, 3), rng=r))]),
    "cholesky_sym": (
        lambda a: la.cholesky(a @ a.T + 3 * tg.ones((), tg.float64) * T(np.eye(3))),
        lambda r: [f64((3, 3), rng=r)],
    ),
}


@pytest.mark.parametrize("name", sorted(LINALG_GRAD_CASES))
def test_linalg_grads_order2(name):
    fn, make = LINALG_GRAD_CASES[name]
    check_grads(fn, make(np.random.default_rng(7)), order=2)


def test_matmul_grad_values():
    a, b = rand((3, 4)), rand((4, 2))
    ga, gb = tg.grad(lambda x, y: (x @ y).sum(), grad_position=(0, 1))(T(a), T(b))
    np.testing.assert_allclose(np.asarray(ga), np.ones((3, 2)) @ b.T)
    np.testing.assert_allclose(np.asarray(gb), a.T @ np.ones((3, 2)))
    # the batch sum of a matrix shared by a batch
    a3 = rand((5, 3, 4))
    gb = tg.grad(lambda y: (T(a3) @ y).sum())(T(b))
    np.testing.assert_allclose(np.asarray(gb), np.einsum("bij,bik->jk", a3, np.ones((5, 3, 2))))


@pytest.mark.parametrize("sa,sb", [((2, 3, 0), (0, 2)), ((0, 3, 2), (2, 2)), ((3, 0), (0,))])
def test_matmul_grad_empty(sa, sb):
    # Zero-size operands: gradients are zeros of the input shapes (order-2 checks of empty inputs
    # wait for ops::reshape to handle numpy's zero-stride empty arrays).
    a, b = tg.zeros(sa, tg.float64), tg.ones(sb, tg.float64)
    ga, gb = tg.grad(lambda x, y: (x @ y).sum(), grad_position=(0, 1))(a, b)
    assert ga.shape == sa and gb.shape == sb
    np.testing.assert_array_equal(np.asarray(ga), np.zeros(sa))
    np.testing.assert_array_equal(np.asarray(gb), np.zeros(sb))


def test_det_inv_grad_values():
    a = well_conditioned((3, 3))
    g = tg.grad(la.det)(T(a))
    np.testing.assert_allclose(np.asarray(g), np.linalg.det(a) * np.linalg.inv(a).T, rtol=1e-10)
    g = tg.grad(lambda x: la.slogdet(x)[1])(T(a))
    np.testing.assert_allclose(np.asarray(g), np.linalg.inv(a).T, rtol=1e-10)


FLOAT32_CASES = {
    "matmul": (lambda a, b: a @ b, lambda r: [(3, 4), (2, 4, 2)]),
    "einsum": (lambda a, b: tg.einsum("ij,kj->ik", a, b), lambda r: [(3, 4), (2, 4)]),
    "norm": (lambda a: tg.norm(a, None, 1), lambda r: [(3, 4)]),
    "trace": (lambda a: tg.trace(a), lambda r: [(3, 3)]),
}


@pytest.mark.parametrize("name", sorted(FLOAT32_CASES))
def test_grads_float32(name):
    fn, shapes = FLOAT32_CASES[name]
    r = np.random.default_rng(3)
    check_grads(fn, [T(r.standard_normal(s).astype(np.float32)) for s in shapes(r)], order=1)


@pytest.mark.parametrize(
    "fn,make",
    [
        (la.inv, lambda r: [well_conditioned((3, 3), np.float32, r)]),
        (la.det, lambda r: [well_conditioned((3, 3), np.float32, r)]),
        (
            la.solve,
            lambda r: [well_conditioned((3, 3), np.float32, r), rand((3,), np.float32, rng=r)],
        ),
        (la.cholesky, lambda r: [spd((3, 3), np.float32, r)]),
    ],
)
def test_linalg_grads_float32(fn, make):
    check_grads(fn, [T(x) for x in make(np.random.default_rng(5))], order=1)


def test_integer_matmul_is_not_differentiated():
    ai, b = T(np.arange(6).reshape(2, 3)), T(rand((3, 2)))
    g = tg.grad(lambda y: (ai @ y).sum())(b)
    np.testing.assert_allclose(np.asarray(g), np.arange(6).reshape(2, 3).T @ np.ones((2, 2)))


@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0)])
@pytest.mark.parametrize("ord_", [np.inf, 1])
def test_norm_of_empty_max_norms_is_zero_as_numpy(shape, ord_):
    x = np.zeros(shape, np.float64)
    got = tg.norm(tg.tensor(x), ord=ord_)
    np.testing.assert_array_equal(got.asnumpy(), np.linalg.norm(x, ord_))
    if len(shape) == 2:
        np.testing.assert_array_equal(
            tg.norm(tg.tensor(x), ord=ord_, axis=0).asnumpy(), np.linalg.norm(x, ord_, axis=0)
        )
    assert tg.grad(lambda t: tg.norm(t, ord=ord_))(tg.tensor(x)).shape == shape
