"""Decompositions and what is built on them: svd, svdvals, eigh, eigvalsh, qr, pinv, matrix_rank,
matrix norms 'nuc'/2/-2, cond, lstsq, multi_dot; and the Array API linalg extension's names.

Values against numpy.linalg up to the signs of singular vectors, eigenvectors and Q's columns
(LAPACK picks them; reconstructions and invariants are compared, and |factors|); derivatives of
losses that do not depend on those signs against finite differences, first and second order,
float32 and float64, batched, tall/wide/square; the degenerate cases (repeated singular values or
eigenvalues) and the errors.
"""

import inspect

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import linalg as la
from tapegrad.testing import check_grads

RNG = np.random.default_rng(20240917)
FLOATS = [np.float32, np.float64]
SHAPES = [(3, 3), (5, 3), (3, 5), (2, 4, 3), (2, 3, 4), (2, 1, 3, 3), (1, 1), (1, 4), (4, 1)]
EMPTY = [(0, 3), (3, 0), (0, 0), (2, 0, 3), (0, 3, 3)]


def T(x, dtype=None):
    return tg.tensor(x, dtype)


def A(t):
    return np.asarray(t)


def tol(dt):
    return 2e-5 if np.dtype(dt) == np.float32 else 1e-11


def spread(shape, rng=RNG, dtype=np.float64):
    """Matrices U diag(s) V^T with singular values 3 + 1.2 k (well conditioned, distinct)."""
    m, n = shape[-2:]
    k = min(m, n)
    lead = tuple(shape[:-2])
    u = np.linalg.qr(rng.standard_normal(lead + (m, k)))[0]
    v = np.linalg.qr(rng.standard_normal(lead + (n, k)))[0]
    s = 3.0 + 1.2 * np.arange(k)[::-1]
    return ((u * s) @ np.swapaxes(v, -1, -2)).astype(dtype)


def sym_spread(shape, rng=RNG, dtype=np.float64):
    """Symmetric matrices with eigenvalues 1.5 apart."""
    n = shape[-1]
    lead = tuple(shape[:-2])
    q = np.linalg.qr(rng.standard_normal(lead + (n, n)))[0]
    w = 1.5 * np.arange(n) - 2.0
    return ((q * w) @ np.swapaxes(q, -1, -2)).astype(dtype)


def eye_like(shape, dtype):
    """Identities of size shape[-1] for every batch index of shape[:-2]."""
    n = shape[-1]
    return np.broadcast_to(np.eye(n, dtype=dtype), tuple(shape[:-2]) + (n, n))


# ---- values: svd ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dt", FLOATS)
@pytest.mark.parametrize("shape", SHAPES + EMPTY)
@pytest.mark.parametrize("full", [True, False])
def test_svd_values(shape, dt, full):
    a = RNG.standard_normal(shape).astype(dt)
    r = la.svd(T(a), full_matrices=full)
    assert isinstance(r, la.SVDResult)
    nu, ns, nvh = np.linalg.svd(a, full_matrices=full)
    u, s, vh = A(r.U), A(r.S), A(r.Vh)
    assert (u.shape, s.shape, vh.shape) == (nu.shape, ns.shape, nvh.shape)
    assert u.dtype == s.dtype == vh.dtype == np.dtype(dt)
    t = tol(dt) * 10
    np.testing.assert_allclose(s, ns, rtol=t, atol=t)
    k = min(shape[-2:])
    rec = (u[..., :k] * s[..., None, :]) @ vh[..., :k, :]
    np.testing.assert_allclose(rec, a, rtol=t, atol=t)
    np.testing.assert_allclose(np.swapaxes(u, -1, -2) @ u, eye_like(u.shape, dt), atol=t)
    np.testing.assert_allclose(
        vh @ np.swapaxes(vh, -1, -2), eye_like(vh.shape[:-2] + (vh.shape[-2],) * 2, dt), atol=t
    )
    # descending
    assert np.all(np.diff(s, axis=-1) <= t)
    s_only = la.svd(T(a), compute_uv=False)
    np.testing.assert_allclose(A(s_only), ns, rtol=t, atol=t)
    np.testing.assert_allclose(A(la.svdvals(T(a))), ns, rtol=t, atol=t)


def test_svd_noncontiguous_and_integer_inputs():
    a = RNG.standard_normal((6, 5, 4))
    sl = a[::2, 1:, ::-1].transpose(0, 2, 1)  # strided, reversed, transposed
    np.testing.assert_allclose(
        A(la.svdvals(T(a)[::2, 1:, ::-1].transpose(0, 2, 1))), np.linalg.svd(sl)[1]
    )
    i = np.array([[1, 2], [3, 4], [5, 7]])
    got = la.svd(T(i))
    assert A(got.S).dtype == np.float64
    np.testing.assert_allclose(A(got.S), np.linalg.svd(i)[1])
    np.testing.assert_allclose(
        A(la.qr(T(i)).R), np.linalg.qr(i).R * np.sign(A(la.qr(T(i)).R) * np.linalg.qr(i).R)
    )
    # broadcast (zero-stride) batch dims
    b = tg.broadcast_to(T(a[0]), (3, 5, 4))
    np.testing.assert_allclose(A(la.svdvals(b)), np.linalg.svd(np.broadcast_to(a[0], (3, 5, 4)))[1])


# ---- values: eigh, eigvalsh ---------------------------------------------------------------------


@pytest.mark.parametrize("dt", FLOATS)
@pytest.mark.parametrize(
    "shape", [(3, 3), (1, 1), (2, 4, 4), (2, 1, 5, 5), (0, 0), (2, 0, 0), (0, 3, 3)]
)
@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_values(shape, dt, uplo):
    a = RNG.standard_normal(shape).astype(dt)  # not symmetric: only the triangle UPLO is read
    r = la.eigh(T(a), UPLO=uplo)
    assert isinstance(r, la.EighResult)
    nw, nv = np.linalg.eigh(a, UPLO=uplo)
    w, v = A(r.eigenvalues), A(r.eigenvectors)
    assert (w.shape, v.shape, w.dtype, v.dtype) == (nw.shape, nv.shape, nw.dtype, nv.dtype)
    t = tol(dt) * 20
    np.testing.assert_allclose(w, nw, rtol=t, atol=t)
    tri = np.tril(a) if uplo == "L" else np.triu(a)
    sym = tri + np.swapaxes(tri, -1, -2) - tri * eye_like(a.shape, dt)
    np.testing.assert_allclose(sym @ v, v * w[..., None, :], atol=t * 10)
    np.testing.assert_allclose(np.swapaxes(v, -1, -2) @ v, eye_like(v.shape, dt), atol=t)
    np.testing.assert_allclose(A(la.eigvalsh(T(a), UPLO=uplo)), nw, rtol=t, atol=t)


def test_eigh_lowercase_uplo_and_noncontiguous():
    a = RNG.standard_normal((4, 4))
    np.testing.assert_allclose(A(la.eigvalsh(T(a), "u")), np.linalg.eigvalsh(a, "U"))
    np.testing.assert_allclose(A(la.eigvalsh(T(a).T)), np.linalg.eigvalsh(a.T))


# ---- values: qr ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dt", FLOATS)
@pytest.mark.parametrize("shape", SHAPES + EMPTY)
@pytest.mark.parametrize("mode", ["reduced", "complete", "r"])
def test_qr_values(shape, dt, mode):
    a = RNG.standard_normal(shape).astype(dt)
    r = la.qr(T(a), mode=mode)
    want = np.linalg.qr(a, mode=mode)
    t = tol(dt) * 10
    if mode == "r":
        assert isinstance(r, tg.Tensor) and A(r).shape == want.shape and A(r).dtype == want.dtype
        np.testing.assert_allclose(np.abs(A(r)), np.abs(want), rtol=t, atol=t)
        return
    assert isinstance(r, la.QRResult)
    q, rr = A(r.Q), A(r.R)
    assert (q.shape, rr.shape, q.dtype) == (want.Q.shape, want.R.shape, want.Q.dtype)
    np.testing.assert_allclose(q @ rr, a, rtol=t, atol=t)
    np.testing.assert_allclose(np.swapaxes(q, -1, -2) @ q, eye_like(q.shape, dt), atol=t)
    np.testing.assert_array_equal(rr, np.triu(rr))
    np.testing.assert_allclose(np.abs(rr), np.abs(want.R), rtol=t, atol=t)


# ---- values: composites ---------------------------------------------------------------------------


@pytest.mark.parametrize("dt", FLOATS)
@pytest.mark.parametrize("shape", [(3, 3), (5, 3), (3, 5), (2, 4, 3), (0, 3), (3, 0)])
def test_pinv(shape, dt):
    a = RNG.standard_normal(shape).astype(dt)
    got = A(la.pinv(T(a)))
    want = np.linalg.pinv(a, rtol=None)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=tol(dt) * 100, atol=tol(dt) * 100)


def test_pinv_cutoffs_and_rank():
    a = np.array([[1.0, 2.0], [2.0, 4.0000001], [0.0, 0.0]])
    for kw in ({}, {"rcond": 1e-3}, {"rtol": 1e-3}, {"rcond": 1e-12}):
        np.testing.assert_allclose(A(la.pinv(T(a), **kw)), np.linalg.pinv(a, **kw), rtol=1e-6)
        assert int(
            la.matrix_rank(T(a), **{k.replace("rcond", "rtol"): v for k, v in kw.items()})
        ) == (np.linalg.matrix_rank(a, **{k.replace("rcond", "rtol"): v for k, v in kw.items()}))
    with pytest.raises(ValueError, match="pinv"):
        la.pinv(T(a), rcond=1e-3, rtol=1e-3)
    # a batch of cutoffs
    b = np.stack([a, a])
    np.testing.assert_allclose(
        A(la.pinv(T(b), rtol=T([1e-3, 1e-12]))),
        np.linalg.pinv(b, rtol=np.array([1e-3, 1e-12])),
        rtol=1e-6,
    )


def test_matrix_rank():
    a = RNG.standard_normal((3, 4, 2)) @ RNG.standard_normal((3, 2, 5))
    got = la.matrix_rank(T(a))
    assert A(got).dtype == np.int64
    np.testing.assert_array_equal(A(got), np.linalg.matrix_rank(a))
    np.testing.assert_array_equal(
        A(la.matrix_rank(T(a), tol=1e-6)), np.linalg.matrix_rank(a, tol=1e-6)
    )
    assert int(la.matrix_rank(T(np.zeros(3)))) == 0 and int(la.matrix_rank(T(np.ones(3)))) == 1
    assert int(la.matrix_rank(T(np.eye(3, dtype=np.int64)))) == 3


@pytest.mark.parametrize("dt", FLOATS)
@pytest.mark.parametrize("ord", ["nuc", 2, -2, "fro", 1, -1, np.inf, -np.inf])
def test_matrix_norms(ord, dt):
    a = RNG.standard_normal((2, 3, 4)).astype(dt)
    t = tol(dt) * 10
    np.testing.assert_allclose(
        A(la.matrix_norm(T(a), ord=ord)), np.linalg.norm(a, ord, axis=(-2, -1)), rtol=t
    )
    got = A(la.matrix_norm(T(a), ord=ord, keepdims=True))
    np.testing.assert_allclose(got, np.linalg.norm(a, ord, axis=(-2, -1), keepdims=True), rtol=t)
    for axis in [(0, 2), (2, 1)]:
        want = np.linalg.norm(a, ord, axis=axis, keepdims=True)
        np.testing.assert_allclose(A(tg.norm(T(a), ord, axis=axis, keepdims=True)), want, rtol=t)
        np.testing.assert_allclose(
            A(la.norm(T(a), ord, axis=axis)), np.linalg.norm(a, ord, axis=axis), rtol=t
        )
    if ord in ("nuc", 2, -2):
        np.testing.assert_allclose(A(la.norm(T(a[0]), ord)), np.linalg.norm(a[0], ord), rtol=t)
        np.testing.assert_allclose(
            A(la.norm(T(np.zeros((0, 3), dt)), ord if ord != -2 else 2)), 0.0
        )


def test_cond():
    a = RNG.standard_normal((2, 4, 4))
    for p in (None, 2, -2, "fro", "nuc", 1, -1, np.inf, -np.inf):
        np.testing.assert_allclose(A(la.cond(T(a), p)), np.linalg.cond(a, p), rtol=1e-9)
    tall = RNG.standard_normal((5, 3))
    np.testing.assert_allclose(A(la.cond(T(tall))), np.linalg.cond(tall), rtol=1e-9)


@pytest.mark.parametrize(
    "shapes", [((5, 3), (5,)), ((5, 3), (5, 2)), ((3, 5), (3,)), ((3, 3), (3, 2))]
)
def test_lstsq(shapes):
    a, b = RNG.standard_normal(shapes[0]), RNG.standard_normal(shapes[1])
    x, res, rank, s = la.lstsq(T(a), T(b))
    nx, nres, nrank, ns = np.linalg.lstsq(a, b)
    np.testing.assert_allclose(A(x), nx, atol=1e-10)
    assert A(res).shape == nres.shape
    np.testing.assert_allclose(A(res), nres, atol=1e-10)
    assert int(rank) == nrank
    np.testing.assert_allclose(A(s), ns)
    # rank deficient: no residuals
    d = np.c_[a[:, :1], a[:, :1]]
    x, res, rank, _ = la.lstsq(T(d), T(b))
    nx, nres, nrank, _ = np.linalg.lstsq(d, b)
    np.testing.assert_allclose(A(x), nx, atol=1e-10)
    assert A(res).shape == nres.shape == (0,) and int(rank) == nrank == 1
    with pytest.raises(ValueError, match="lstsq"):
        la.lstsq(T(a), T(b[:-1]))


def test_multi_dot_cholesky_upper_trace():
    ms = [RNG.standard_normal(s) for s in [(3,), (3, 4), (4, 2), (2,)]]
    np.testing.assert_allclose(A(la.multi_dot([T(m) for m in ms])), np.linalg.multi_dot(ms))
    np.testing.assert_allclose(
        A(la.multi_dot([T(m) for m in ms[1:3]])), np.linalg.multi_dot(ms[1:3])
    )
    with pytest.raises(ValueError, match="multi_dot"):
        la.multi_dot([T(ms[1])])
    p = RNG.standard_normal((2, 3, 3))
    p = p @ np.swapaxes(p, -1, -2) + 3 * np.eye(3)
    np.testing.assert_allclose(A(la.cholesky(T(p), upper=True)), np.linalg.cholesky(p, upper=True))
    np.testing.assert_allclose(A(la.cholesky(T(p))), np.linalg.cholesky(p))
    x = RNG.standard_normal((2, 3, 4))
    for off in (0, 1, -2):
        np.testing.assert_allclose(A(la.trace(T(x), offset=off)), np.linalg.trace(x, offset=off))
    assert A(la.trace(T(x), dtype=tg.float32)).dtype == np.float32


# ---- the namespace ------------------------------------------------------------------------------

# The Array API 2024.12 linalg extension: name -> its parameters (positional-only ones by position,
# keyword-only ones by name). numpy's eig/eigvals are not in the standard (tests/test_complex_linalg.py).
ARRAY_API = {
    "cholesky": ["x", "upper"],
    "cross": ["x1", "x2", "axis"],
    "det": ["x"],
    "diagonal": ["x", "offset"],
    "eigh": ["x"],
    "eigvalsh": ["x"],
    "inv": ["x"],
    "matmul": ["x1", "x2"],
    "matrix_norm": ["x", "keepdims", "ord"],
    "matrix_power": ["x", "n"],
    "matrix_rank": ["x", "rtol"],
    "matrix_transpose": ["x"],
    "outer": ["x1", "x2"],
    "pinv": ["x", "rtol"],
    "qr": ["x", "mode"],
    "slogdet": ["x"],
    "solve": ["x1", "x2"],
    "svd": ["x", "full_matrices"],
    "svdvals": ["x"],
    "tensordot": ["x1", "x2", "axes"],
    "trace": ["x", "offset", "dtype"],
    "vecdot": ["x1", "x2", "axis"],
    "vector_norm": ["x", "axis", "keepdims", "ord"],
}


@pytest.mark.parametrize("ns", ["tapegrad.linalg", "tapegrad.numpy.linalg"])
def test_array_api_linalg_names_and_keywords(ns):
    mod = la if ns == "tapegrad.linalg" else tg.numpy.linalg
    assert mod is la
    for name, params in ARRAY_API.items():
        f = getattr(mod, name)
        assert callable(f), name
        try:
            sig = inspect.signature(f)
        except ValueError:  # a pybind11 function without a Python signature: checked by calls below
            continue
        names = list(sig.parameters)
        for p in params[1:]:
            if p.startswith("x"):
                continue
            assert p in names, f"{name}: no parameter {p!r} (has {names})"
    x = T(spread((3, 3)))
    # the keyword-only arguments of the standard, called by keyword
    la.svd(x, full_matrices=False)
    la.qr(x, mode="r")
    la.pinv(x, rtol=1e-8)
    la.matrix_rank(x, rtol=1e-8)
    la.matrix_norm(x, keepdims=True, ord="nuc")
    la.vector_norm(x, axis=1, keepdims=True, ord=2)
    la.cholesky(x @ x.T, upper=True)
    la.trace(x, offset=1, dtype=tg.float64)
    la.diagonal(x, offset=-1)
    la.vecdot(x, x, axis=0)
    la.cross(T(np.ones((2, 3))), T(np.arange(6.0).reshape(2, 3)), axis=-1)
    la.tensordot(x, x, axes=1)


# ---- derivatives ----------------------------------------------------------------------------------

GRAD_SHAPES = [(3, 3), (4, 3), (3, 4), (2, 4, 3), (2, 3, 4), (1, 1), (3, 1)]


def sign_free(x, dt):
    """|x| in float64; x**4 in float32, whose finite-difference step (1e-2) is too wide for the
    kinks of |x| at entries near 0. Either is blind to the signs LAPACK picks."""
    return tg.abs(x) if dt == np.float64 else x**4


def weights(shape, dt):
    return T(np.random.default_rng(7).uniform(0.5, 1.5, shape).astype(dt))


@pytest.mark.parametrize("dt", FLOATS)
@pytest.mark.parametrize("shape", GRAD_SHAPES)
def test_svd_grads_of_sign_invariant_losses(shape, dt):
    a = T(spread(shape, dtype=dt))
    k = min(shape[-2:])
    n = shape[-1]
    wu = weights(shape[:-1] + (k,), dt)
    wv = weights(shape[:-2] + (k, n), dt)
    ws = weights(shape[:-2] + (k,), dt)
    losses = {
        "abs U": lambda x: tg.sum(sign_free(la.svd(x, full_matrices=False).U, dt) * wu),
        "U^2": lambda x: tg.sum(la.svd(x, full_matrices=False).U ** 2 * wu),
        "abs Vh": lambda x: tg.sum(sign_free(la.svd(x, full_matrices=False).Vh, dt) * wv),
        "S": lambda x: tg.sum(la.svd(x, full_matrices=False).S ** 2 * ws),
        "reconstruction": lambda x: tg.sum(
            tg.sin((lambda r: r.U @ (r.S[..., None] * r.Vh))(la.svd(x, full_matrices=False)))
        ),
        "U diag(S) U^T": lambda x: tg.sum(
            tg.cos(
                (lambda r: (r.U * r.S[..., None, :]) @ tg.swapaxes(r.U, -1, -2))(
                    la.svd(x, full_matrices=False)
                )
            )
        ),
        "svdvals": lambda x: tg.sum(la.svdvals(x) ** 3 * ws),
        "nuc": lambda x: tg.sum(la.matrix_norm(x, ord="nuc") ** 2),
        "2-norm": lambda x: tg.sum(la.matrix_norm(x, ord=2)),
        "-2-norm": lambda x: tg.sum(la.matrix_norm(x, ord=-2)),
        "pinv": lambda x: tg.sum(tg.sin(la.pinv(x))),
        "cond": lambda x: tg.sum(la.cond(x)),
    }
    for name, f in losses.items():
        try:
            check_grads(f, (a,), order=2)
        except AssertionError as e:
            raise AssertionError(f"{name}, {shape}, {np.dtype(dt).name}: {e}") from None


def test_svd_square_full_matrices_grads():
    a = T(spread((3, 3)))
    check_grads(
        lambda x: tg.sum(tg.abs(la.svd(x, full_matrices=True).U) * weights((3, 3), np.float64)),
        (a,),
        order=2,
    )


@pytest.mark.parametrize("dt", FLOATS)
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (1, 1)])
@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_grads(shape, dt, uplo):
    base = sym_spread(shape)
    # a general (not symmetric) point: only the triangle read matters, in every direction
    a = T(
        (base + 0.05 * np.triu(RNG.standard_normal(shape), 1) * (1 if uplo == "L" else 0)).astype(
            dt
        )
    )
    n = shape[-1]
    wv = weights(shape, dt)
    ww = weights(shape[:-1], dt)
    losses = {
        "w": lambda x: tg.sum(la.eigh(x, uplo).eigenvalues * ww),
        "abs V": lambda x: tg.sum(sign_free(la.eigh(x, uplo).eigenvectors, dt) * wv),
        "V^2": lambda x: tg.sum(la.eigh(x, uplo).eigenvectors ** 2 * wv),
        "reconstruction": lambda x: tg.sum(
            tg.sin(
                (
                    lambda r: (
                        (r.eigenvectors * r.eigenvalues[..., None, :])
                        @ tg.swapaxes(r.eigenvectors, -1, -2)
                    )
                )(la.eigh(x, uplo))
            )
        ),
        "eigvalsh": lambda x: tg.sum(la.eigvalsh(x, uplo) ** 3 * ww),
    }
    assert n >= 1
    for name, f in losses.items():
        try:
            check_grads(f, (a,), order=2)
        except AssertionError as e:
            raise AssertionError(f"{name}, {shape}, {uplo}, {np.dtype(dt).name}: {e}") from None


@pytest.mark.parametrize("dt", FLOATS)
@pytest.mark.parametrize("shape", [(3, 3), (5, 3), (2, 4, 3), (1, 1), (4, 1)])
def test_qr_grads(shape, dt):
    a = T(spread(shape, dtype=dt))
    wq = weights(shape[:-1] + (min(shape[-2:]),), dt)
    wr = weights(shape[:-2] + (shape[-1], shape[-1]), dt)
    losses = {
        "Q R": lambda x: tg.sum(tg.sin((lambda r: r.Q @ r.R)(la.qr(x)))),
        "abs Q": lambda x: tg.sum(sign_free(la.qr(x).Q, dt) * wq),
        "R^2": lambda x: tg.sum(la.qr(x).R ** 2 * wr),
        "abs R (mode r)": lambda x: tg.sum(sign_free(la.qr(x, mode="r"), dt) * wr),
        "Q Q^T": lambda x: tg.sum(tg.cos((lambda q: q @ tg.swapaxes(q, -1, -2))(la.qr(x).Q))),
    }
    for name, f in losses.items():
        try:
            check_grads(f, (a,), order=2)
        except AssertionError as e:
            raise AssertionError(f"{name}, {shape}, {np.dtype(dt).name}: {e}") from None


def test_grads_of_noncontiguous_inputs():
    a = T(spread((4, 3)))
    w = weights((3, 3), np.float64)
    check_grads(lambda x: tg.sum(tg.abs(la.svd(x.T, full_matrices=False).U) * w), (a,), order=2)
    check_grads(
        lambda x: tg.sum(tg.abs(la.qr(x[::-1]).Q) * weights((4, 3), np.float64)), (a,), order=2
    )
    s = T(sym_spread((3, 3)))
    check_grads(lambda x: tg.sum(la.eigh(x.T).eigenvectors ** 2 * w), (s,), order=2)


def test_lstsq_grads():
    a, b = T(spread((5, 3))), T(RNG.standard_normal((5, 2)))
    check_grads(lambda x, y: tg.sum(tg.sin(la.lstsq(x, y)[0])), (a, b), order=2)


def test_grads_under_vmap_and_jit():
    a = spread((4, 3, 3))
    f = lambda x: tg.sum(tg.abs(la.svd(x, full_matrices=False).U) * la.svdvals(x)[None, :])
    g_batched = tg.vmap(tg.grad(f))(T(a))
    for i in range(4):
        np.testing.assert_allclose(A(g_batched[i]), A(tg.grad(f)(T(a[i]))), rtol=1e-10, atol=1e-12)
    h = lambda x: (
        tg.sum(la.eigh(x).eigenvectors ** 2 * tg.arange(1.0, 4.0)) + tg.sum(tg.abs(la.qr(x).R))
    )
    s = T(sym_spread((3, 3)) + np.eye(3) * 5)
    np.testing.assert_allclose(A(tg.jit(tg.grad(h))(s)), A(tg.grad(h)(s)), rtol=1e-10, atol=1e-12)
    # vmap of the decompositions themselves, over a non-leading axis
    b = spread((3, 4, 2))
    got = tg.vmap(la.svdvals, in_axes=1)(T(np.swapaxes(b, 0, 1)))
    np.testing.assert_allclose(A(got), np.linalg.svd(b, compute_uv=False))


@pytest.mark.parametrize("dt", FLOATS)
def test_empty_grads(dt):
    for shape in [(0, 3), (3, 0), (2, 0, 0)]:
        a = T(np.zeros(shape, dt))
        g = tg.grad(lambda x: tg.sum(la.svdvals(x)))(a)
        assert A(g).shape == shape
    g = tg.grad(lambda x: tg.sum(la.eigvalsh(x)) + tg.sum(la.eigh(x).eigenvectors))(
        T(np.zeros((0, 0), dt))
    )
    assert A(g).shape == (0, 0)


# ---- degenerate spectra ---------------------------------------------------------------------------


def test_degenerate_values_keep_finite_gradients():
    # repeated singular values / eigenvalues: the gradient of a function of the values alone
    # (svdvals, eigvalsh, the nuclear norm, eigenvalues out of eigh, S out of svd) stays finite and
    # right: for the identity, d sum(s) = d trace = I.
    i3 = T(np.eye(3))
    np.testing.assert_allclose(A(tg.grad(lambda x: tg.sum(la.svdvals(x)))(i3)), np.eye(3))
    np.testing.assert_allclose(A(tg.grad(lambda x: tg.sum(la.eigvalsh(x)))(i3)), np.eye(3))
    np.testing.assert_allclose(A(tg.grad(lambda x: la.matrix_norm(x, ord="nuc"))(i3)), np.eye(3))
    np.testing.assert_allclose(A(tg.jvp(lambda x: tg.sum(la.eigvalsh(x)), (i3,), (i3,))[1]), 3.0)
    z = T(np.zeros((2, 3)))
    assert np.all(np.isfinite(A(tg.grad(lambda x: tg.sum(la.svdvals(x)))(z))))


def test_degenerate_vectors_give_nonfinite_gradients():
    # documented: with repeated eigenvalues the eigenvectors are not continuous, and their
    # derivative is inf/nan (as JAX's), never a finite wrong number
    a = T(np.diag([1.0, 1.0, 2.0]))
    g = tg.grad(lambda x: tg.sum(la.eigh(x).eigenvectors ** 3))(a)
    assert not np.all(np.isfinite(A(g)))
    g = tg.grad(lambda x: tg.sum(la.svd(x, full_matrices=False).U ** 3))(a)
    assert not np.all(np.isfinite(A(g)))


# ---- errors --------------------------------------------------------------------------------------


def test_errors():
    v, sq, rect = T(np.ones(3)), T(np.eye(3)), T(np.ones((3, 4)))
    for f in (la.svd, la.svdvals, la.eigh, la.eigvalsh, la.qr, la.pinv):
        with pytest.raises(ValueError, match="at least two-dimensional|at least 2 dimensions"):
            f(v)
    for f in (la.eigh, la.eigvalsh):
        with pytest.raises(ValueError, match="square"):
            f(rect)
    for f in (la.svd, la.eigh, la.qr):
        with pytest.raises(TypeError, match="float16"):
            f(T(np.eye(2), tg.float16))
    nan = T(np.array([[np.nan, 1.0], [1.0, 1.0]]))
    for f in (la.svd, la.svdvals):
        with pytest.raises(ValueError, match="converge"):
            f(nan)
    with pytest.raises(ValueError, match="qr: unrecognized mode 'raw'"):
        la.qr(sq, mode="raw")
    with pytest.raises(TypeError, match="qr: mode"):
        la.qr(sq, mode=1)
    with pytest.raises(ValueError, match="UPLO"):
        la.eigh(sq, UPLO="X")
    with pytest.raises(TypeError, match="UPLO"):
        la.eigvalsh(sq, UPLO=0)
    with pytest.raises(TypeError, match="full_matrices"):
        la.svd(sq, full_matrices="yes")
    # derivatives that do not exist (or are not unique) raise, naming the fix
    wide = T(spread((2, 4)))
    with pytest.raises(Exception, match="full_matrices=False"):
        tg.grad(lambda x: tg.sum(la.svd(x).S))(wide)
    with pytest.raises(Exception, match="full_matrices=False"):
        tg.jvp(lambda x: la.svd(x).U, (wide,), (wide,))
    with pytest.raises(Exception, match="qr: derivatives"):
        tg.grad(lambda x: tg.sum(la.qr(x).R))(wide)
    with pytest.raises(Exception, match="qr: derivatives"):
        tg.grad(lambda x: tg.sum(la.qr(x, mode="complete").Q))(T(spread((4, 2))))
    with pytest.raises(ValueError, match="full column rank"):
        tg.grad(lambda x: tg.sum(la.qr(x).R))(T(np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])))
