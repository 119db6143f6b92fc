"""Linear algebra on complex values: linalg.eig/eigvals (LAPACK geev) with JAX's derivative rules,
and the complex forms of solve/inv; values against numpy, derivatives against central differences
along real and imaginary directions, under vmap and jit."""

import importlib.util
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tapegrad as tg
from test_complex import check_complex_grads

tnp = tg.numpy
CPLX = ["complex64", "complex128"]
TOL = {"float32": 2e-4, "float64": 1e-10, "complex64": 2e-4, "complex128": 1e-10}
CDT = {
    "float32": "complex64",
    "float64": "complex128",
    "complex64": "complex64",
    "complex128": "complex128",
}


def spread_matrix(n, dtype, seed=0, lead=()):
    """S D S^-1 with S well conditioned and eigenvalues at least 0.5 apart; real dtypes get one
    complex-conjugate pair (a rotation block), complex ones complex eigenvalues."""
    rng = np.random.default_rng(seed)
    s = np.eye(n) + 0.25 * rng.standard_normal(lead + (n, n))
    d = np.zeros(lead + (n, n))
    d[..., range(n), range(n)] = 1.2 * np.arange(n) - 1.0
    if n >= 2:
        d[..., 1, 1] = d[..., 0, 0]
        d[..., 0, 1], d[..., 1, 0] = 0.9, -0.9  # eigenvalues -1 +- 0.9i
    if np.dtype(dtype).kind == "c":
        s = s + 0.25j * rng.standard_normal(lead + (n, n))
        d = d + 0.3j * np.eye(n)
    return (s @ d @ np.linalg.inv(s)).astype(dtype)


def gauge_fixed(v):
    """Each column times the phase that makes its largest-magnitude entry real positive (numpy
    values)."""
    k = np.argmax(np.abs(v), axis=-2)[..., None, :]
    vk = np.take_along_axis(v, k, axis=-2)
    return v * (np.conj(vk) / np.abs(vk))


@pytest.mark.parametrize("dtype", ["float32", "float64", *CPLX])
def test_eig_values_against_numpy(dtype):
    a = spread_matrix(4, dtype, seed=1)
    w, v = tg.linalg.eig(tg.tensor(a))
    assert w.dtype.name == CDT[dtype] and v.dtype.name == CDT[dtype]
    assert w.shape == (4,) and v.shape == (4, 4)
    wn, vn = np.linalg.eig(a)
    tol = TOL[dtype]
    np.testing.assert_allclose(np.asarray(w), wn, rtol=tol, atol=tol)
    np.testing.assert_allclose(gauge_fixed(np.asarray(v)), gauge_fixed(vn), rtol=tol, atol=tol)
    # LAPACK's gauge: unit columns, the largest entry real
    vv = np.asarray(v)
    np.testing.assert_allclose(np.linalg.norm(vv, axis=0), 1, rtol=tol)
    k = np.argmax(np.abs(vv), axis=0)
    np.testing.assert_allclose(vv[k, range(4)].imag, 0, atol=tol)
    np.testing.assert_allclose(a @ vv, vv * np.asarray(w), rtol=10 * tol, atol=10 * tol)
    ev = tg.linalg.eigvals(tg.tensor(a))
    assert ev.dtype.name == CDT[dtype]
    np.testing.assert_allclose(np.asarray(ev), wn, rtol=tol, atol=tol)
    assert tnp.linalg.eig is tg.linalg.eig and tnp.linalg.eigvals is tg.linalg.eigvals


def test_eig_shapes_batches_and_inputs():
    a = spread_matrix(3, "float64", seed=2, lead=(2, 3))
    w, v = tg.linalg.eig(tg.tensor(a))
    assert w.shape == (2, 3, 3) and v.shape == (2, 3, 3, 3)
    np.testing.assert_allclose(np.asarray(w), np.linalg.eig(a)[0], rtol=1e-10)
    # non-contiguous and broadcast (zero-stride) batches
    t = tg.tensor(np.swapaxes(a, -1, -2))
    np.testing.assert_allclose(
        np.asarray(tg.linalg.eigvals(tg.swapaxes(t, -1, -2))), np.linalg.eigvals(a), rtol=1e-10
    )
    b = tg.broadcast_to(tg.tensor(a[0, 0]), (4, 3, 3))
    np.testing.assert_allclose(np.asarray(tg.linalg.eigvals(b))[3], np.linalg.eigvals(a[0, 0]))
    # integers as float64 (numpy's rule), 0x0 and empty batches
    w, _ = tg.linalg.eig(tg.tensor([[2, 0], [0, 3]]))
    assert w.dtype == tg.complex128 and w.tolist() == [2, 3]
    w, v = tg.linalg.eig(tg.zeros((0, 2, 2)))
    assert w.shape == (0, 2) and v.shape == (0, 2, 2) and w.dtype == tg.complex64
    w, v = tg.linalg.eig(tg.zeros((3, 0, 0), tg.complex128))
    assert w.shape == (3, 0) and v.shape == (3, 0, 0)
    # a real matrix with real eigenvalues still gives complex results (JAX's choice)
    assert tg.linalg.eigvals(tg.eye(2)).dtype == tg.complex64


def test_eig_errors():
    with pytest.raises(ValueError, match="eig.*NaN"):
        tg.linalg.eig(tg.tensor([[1.0, float("nan")], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="eigvals.*inf"):
        tg.linalg.eigvals(tg.tensor([[1.0, float("inf")], [0.0, 1.0]], tg.complex64))
    with pytest.raises(ValueError, match="square"):
        tg.linalg.eig(tg.zeros((2, 3)))
    with pytest.raises(ValueError, match="two-dimensional"):
        tg.linalg.eigvals(tg.zeros(3))
    with pytest.raises(TypeError, match="float16"):
        tg.linalg.eig(tg.zeros((2, 2), tg.float16))


def _w(a):
    return tg.linalg.eig(a)[0]


def _v(a):
    return tg.linalg.eig(a)[1]


@pytest.mark.parametrize("cplx", [False, True])
def test_eig_grads_finite_differences(cplx):
    a = spread_matrix(3, "complex128" if cplx else "float64", seed=3)
    check_complex_grads(_w, [a])
    check_complex_grads(_v, [a])
    check_complex_grads(tg.linalg.eigvals, [a])
    # w and V together, and a non-contiguous input
    check_complex_grads(lambda a: tg.sum(_v(a) * _w(a)[None, :], 0), [a])
    check_complex_grads(lambda a: _v(tg.swapaxes(a, 0, 1)), [np.ascontiguousarray(a.T)])


def test_eig_jvp_keeps_the_gauge():
    # dV keeps every column's norm (Re v^H dv = 0) and its largest entry real (Im dv_k = 0)
    a = spread_matrix(4, "complex128", seed=4)
    da = spread_matrix(4, "complex128", seed=5)
    (_, v), (_, dv) = tg.jvp(tg.linalg.eig, (tg.tensor(a),), (tg.tensor(da),))
    v, dv = np.asarray(v), np.asarray(dv)
    np.testing.assert_allclose(np.real(np.sum(np.conj(v) * dv, axis=0)), 0, atol=1e-12)
    k = np.argmax(np.abs(v), axis=0)
    np.testing.assert_allclose(dv[k, range(4)].imag, 0, atol=1e-12)


def jax_values(tmp_path, code, **arrays):
    """Runs `code` under JAX in a fresh interpreter (JAX's threads must not meet the os.fork of
    the fuzz tests in this process) on `arrays`; it sets `out`, a dict of arrays, returned here.
    Skips when JAX is not installed (it is not a test dependency)."""
    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed")
    np.savez(tmp_path / "in.npz", **arrays)
    prog = (
        "import numpy as np, jax, jax.numpy as jnp\n"
        "jax.config.update('jax_enable_x64', True)\n"
        f"a = dict(np.load({str(tmp_path / 'in.npz')!r}))\n"
        + textwrap.dedent(code)
        + f"\nnp.savez({str(tmp_path / 'out.npz')!r}, **{{k: np.asarray(v) for k, v in out.items()}})\n"
    )
    r = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return dict(np.load(tmp_path / "out.npz"))


def test_eig_jvp_matches_jax(tmp_path):
    a = spread_matrix(3, "complex128", seed=6)
    da = spread_matrix(3, "complex128", seed=7)
    j = jax_values(
        tmp_path,
        """
        f = lambda x: jax.lax.linalg.eig(x, compute_left_eigenvectors=False, enable_eigvec_derivs=True)
        (w, v), (dw, dv) = jax.jvp(f, (a["a"],), (a["da"],))
        out = dict(w=w, v=v, dw=dw, dv=dv)
        """,
        a=a,
        da=da,
    )
    (w, v), (dw, dv) = tg.jvp(tg.linalg.eig, (tg.tensor(a),), (tg.tensor(da),))
    for got, key in [(w, "w"), (v, "v"), (dw, "dw"), (dv, "dv")]:
        np.testing.assert_allclose(np.asarray(got), j[key], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("dtype", ["float32", "complex64"])
def test_eig_single_precision_grads(dtype):
    a = tg.tensor(spread_matrix(3, dtype, seed=8))
    g = tg.grad(lambda a: tnp.real(tg.sum(tg.linalg.eigvals(a) ** 2)))(a)
    assert g.dtype.name == dtype
    # sum(w^2) = trace(a^2): its gradient (JAX's convention) is 2 a^T, real part for real a
    want = 2 * np.asarray(a).T
    np.testing.assert_allclose(np.asarray(g), want, rtol=2e-3, atol=2e-3)


def test_eig_second_order():
    a = tg.tensor(spread_matrix(3, "float64", seed=9))
    tg.testing.check_grads(lambda a: tnp.real(tg.linalg.eigvals(a)), (a,), order=2)
    tg.testing.check_grads(lambda a: tnp.imag(tg.linalg.eig(a)[1]), (a,), order=2)


def test_eig_vmap_and_jit():
    a = spread_matrix(3, "complex128", seed=10, lead=(4,))
    t = tg.tensor(a)
    w, v = tg.vmap(tg.linalg.eig)(t)
    np.testing.assert_allclose(np.asarray(w), np.linalg.eig(a)[0], rtol=1e-10)
    np.testing.assert_allclose(
        gauge_fixed(np.asarray(v)), gauge_fixed(np.linalg.eig(a)[1]), atol=1e-10
    )

    def loss(a):
        w, v = tg.linalg.eig(a)
        return tnp.real(tg.sum(w * tg.sum(v * tnp.conj(v), 0)))

    g_loop = np.stack([np.asarray(tg.grad(loss)(tg.tensor(x))) for x in a])
    np.testing.assert_allclose(np.asarray(tg.vmap(tg.grad(loss))(t)), g_loop, rtol=1e-10)
    jg = tg.jit(tg.grad(loss))
    for _ in range(3):
        got = jg(t[1])
    np.testing.assert_allclose(np.asarray(got), g_loop[1], rtol=1e-10)
    np.testing.assert_allclose(
        np.asarray(tg.vmap(tg.linalg.eigvals)(t)), np.linalg.eigvals(a), rtol=1e-10
    )


def test_eig_degenerate_documented():
    # repeated eigenvalues: eigenvector derivatives are not finite, eigvals' gradient is
    a = tg.tensor(np.diag([2.0, 2.0, 3.0]))
    g = tg.grad(lambda a: tnp.real(tg.sum(tg.linalg.eig(a)[1])))(a)
    assert not np.all(np.isfinite(np.asarray(g)))
    g = tg.grad(lambda a: tnp.real(tg.sum(tg.linalg.eigvals(a))))(a)
    np.testing.assert_allclose(np.asarray(g), np.eye(3))  # d trace = I


@pytest.mark.parametrize("name", CPLX)
def test_solve_inv_complex(name):
    a = spread_matrix(3, name, seed=11)
    b = (np.arange(6).reshape(3, 2) * (0.5 - 1j)).astype(name)
    tol = TOL[name]
    x = tg.linalg.solve(tg.tensor(a), tg.tensor(b))
    assert x.dtype.name == name
    np.testing.assert_allclose(np.asarray(x), np.linalg.solve(a, b), rtol=tol, atol=tol)
    np.testing.assert_allclose(
        np.asarray(tg.linalg.inv(tg.tensor(a))), np.linalg.inv(a), rtol=tol, atol=tol
    )
    # a real matrix with a complex right-hand side promotes
    ar = np.real(a)
    x = tg.linalg.solve(tg.tensor(ar), tg.tensor(b))
    assert x.dtype.name == name
    np.testing.assert_allclose(np.asarray(x), np.linalg.solve(ar, b), rtol=tol, atol=tol)
    with pytest.raises(ValueError, match="singular"):
        tg.linalg.inv(tg.zeros((2, 2), name))


def test_solve_inv_complex_grads():
    a = spread_matrix(3, "complex128", seed=12)
    b = spread_matrix(3, "complex128", seed=13)[:, :2]
    check_complex_grads(tg.linalg.solve, [a, b])
    check_complex_grads(tg.linalg.inv, [a])
    check_complex_grads(tg.linalg.solve, [np.real(a), b])


@pytest.mark.parametrize("name", CPLX)
def test_matmul_through_complex_blas(name):
    # products large enough for cgemm/zgemm and cgemv/zgemv (small ones run a loop), with
    # transposed, strided, batched and broadcast operands, and a real operand promoted
    rng = np.random.default_rng(14)

    def c(*shape):
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(name)

    tol = 1e-4 if name == "complex64" else 1e-12
    a, b = c(40, 30), c(30, 20)
    cases = [
        (a, b),
        (a.T.copy().T, b),
        (np.asfortranarray(a), np.asfortranarray(b)),
        (c(3, 40, 30), b),
        (c(3, 40, 30), c(3, 30, 20)),
        (a[::2], b),
        (a, c(30)),
        (c(30), b),
        (a, np.real(b).copy()),
    ]
    for x, y in cases:
        got = tg.matmul(tg.tensor(x), tg.tensor(y))
        assert got.dtype.name == name
        np.testing.assert_allclose(np.asarray(got), x @ y, rtol=tol, atol=tol * 30)
    t = tg.tensor(c(3, 40, 30))
    np.testing.assert_allclose(
        np.asarray(tg.matmul(tg.swapaxes(t, -1, -2), t)),
        np.swapaxes(np.asarray(t), -1, -2) @ np.asarray(t),
        rtol=tol,
        atol=tol * 40,
    )
    # tensordot and einsum reach the same products
    x, y = c(4, 5, 6), c(5, 6, 7)
    np.testing.assert_allclose(
        np.asarray(tg.numpy.tensordot(tg.tensor(x), tg.tensor(y), 2)),
        np.tensordot(x, y, 2),
        rtol=tol,
        atol=tol * 30,
    )
    np.testing.assert_allclose(
        np.asarray(tg.einsum("ijk,jkl->il", tg.tensor(x), tg.tensor(y))),
        np.einsum("ijk,jkl->il", x, y),
        rtol=tol,
        atol=tol * 30,
    )


def test_matmul_complex_grads_large():
    rng = np.random.default_rng(15)
    a = rng.standard_normal((24, 30)) + 1j * rng.standard_normal((24, 30))
    b = rng.standard_normal((30, 22)) + 1j * rng.standard_normal((30, 22))
    check_complex_grads(tg.matmul, [a, b])
    check_complex_grads(lambda a, b: tg.einsum("ij,jk->ik", a, b), [a, np.real(b)])


@pytest.mark.parametrize("name", CPLX)
def test_det_slogdet_complex(name):
    a = spread_matrix(3, name, seed=16, lead=(2,))
    tol = TOL[name]
    d = tg.linalg.det(tg.tensor(a))
    assert d.dtype.name == name
    np.testing.assert_allclose(np.asarray(d), np.linalg.det(a), rtol=tol)
    sign, logabs = tg.linalg.slogdet(tg.tensor(a))
    ws, wl = np.linalg.slogdet(a)
    assert sign.dtype.name == name and logabs.dtype == np.real(a).dtype
    np.testing.assert_allclose(np.asarray(sign), ws, rtol=tol)
    np.testing.assert_allclose(np.asarray(logabs), wl, rtol=tol)
    z = np.zeros((2, 2), name)
    assert tg.linalg.det(tg.tensor(z)).item() == 0
    s, la = tg.linalg.slogdet(tg.tensor(z))
    assert s.item() == 0 and la.item() == -np.inf
    s, la = tg.linalg.slogdet(tg.zeros((0, 0), name))
    assert s.item() == 1 and la.item() == 0


def test_det_slogdet_complex_grads():
    a = spread_matrix(3, "complex128", seed=17)
    check_complex_grads(tg.linalg.det, [a])
    check_complex_grads(lambda a: tg.linalg.slogdet(a)[1], [a])
    check_complex_grads(lambda a: tg.linalg.slogdet(a)[0], [a])
    check_complex_grads(lambda a: tg.linalg.slogdet(a)[0] * tg.linalg.slogdet(a)[1], [a])
    # a singular matrix: det's gradient is the cofactor matrix
    s = np.array([[1 + 1j, 2], [1 + 1j, 2]])
    check_complex_grads(tg.linalg.det, [s])


def hermitian_spread(n, name, seed, lead=()):
    """Q diag(w) Q^H (Q unitary, eigenvalues 1.2 apart) plus a small non-Hermitian part, which
    eigh's triangle rule discards (so each triangle defines a well-separated Hermitian matrix)."""
    rng = np.random.default_rng(seed)
    q = np.linalg.qr(rng.standard_normal(lead + (n, n)) + 1j * rng.standard_normal(lead + (n, n)))[
        0
    ]
    w = 1.2 * np.arange(n) - 1.0
    h = (q * w[..., None, :]) @ np.conj(np.swapaxes(q, -1, -2))
    return (h + 0.03 * (rng.standard_normal(h.shape) + 1j * rng.standard_normal(h.shape))).astype(
        name
    )


@pytest.mark.parametrize("name", CPLX)
@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_complex_values(name, uplo):
    a = hermitian_spread(4, name, seed=18, lead=(2,))
    tol = TOL[name]
    w, v = tg.linalg.eigh(tg.tensor(a), UPLO=uplo)
    ww, wv = np.linalg.eigh(a, UPLO=uplo)
    assert w.dtype == np.real(a).dtype and v.dtype.name == name
    np.testing.assert_allclose(np.asarray(w), ww, rtol=tol, atol=tol)
    # the eigenvectors' phases are LAPACK's choice: compare what does not depend on them
    np.testing.assert_allclose(np.abs(np.asarray(v)), np.abs(wv), rtol=10 * tol, atol=10 * tol)
    vv = np.asarray(v)
    np.testing.assert_allclose(
        vv @ (np.asarray(w)[..., None] * np.conj(np.swapaxes(vv, -1, -2))),
        wv @ (ww[..., None] * np.conj(np.swapaxes(wv, -1, -2))),
        rtol=10 * tol,
        atol=10 * tol,
    )
    ev = tg.linalg.eigvalsh(tg.tensor(a), UPLO=uplo)
    assert ev.dtype == np.real(a).dtype
    np.testing.assert_allclose(np.asarray(ev), ww, rtol=tol, atol=tol)


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_complex_grads(uplo):
    a = hermitian_spread(3, "complex128", seed=19)

    def vabs2(a):  # |V|^2, independent of the eigenvectors' phases
        v = tg.linalg.eigh(a, UPLO=uplo)[1]
        return tnp.real(v * tnp.conj(v))

    def proj(a):  # v_0 v_0^H, the projector on the first eigenvector
        v = tg.linalg.eigh(a, UPLO=uplo)[1][:, :1]
        return v @ tnp.conj(tg.swapaxes(v, 0, 1))

    check_complex_grads(lambda a: tg.linalg.eigh(a, UPLO=uplo)[0], [a])
    check_complex_grads(vabs2, [a])
    check_complex_grads(proj, [a])
    check_complex_grads(lambda a: tg.linalg.eigvalsh(a, UPLO=uplo), [a])
    tg.testing.check_grads(
        lambda x: tg.linalg.eigvalsh(tg.tensor(a) * x, UPLO=uplo),
        (tg.tensor([1.3], tg.float64),),
        order=2,
    )
    at = tg.tensor(hermitian_spread(3, "complex128", seed=20, lead=(3,)))
    np.testing.assert_allclose(
        np.asarray(tg.vmap(tg.linalg.eigvalsh)(at)), np.linalg.eigvalsh(np.asarray(at)), rtol=1e-10
    )


def complex_spectral(m, n, name, seed, lead=()):
    """U diag(s) V^H with singular values 1.2 apart (well separated, none zero)."""
    rng = np.random.default_rng(seed)
    k = min(m, n)

    def unitary(r):
        z = rng.standard_normal(lead + (r, k)) + 1j * rng.standard_normal(lead + (r, k))
        return np.linalg.qr(z)[0]

    s = 3.0 + 1.2 * np.arange(k)[::-1]
    return ((unitary(m) * s) @ np.conj(np.swapaxes(unitary(n), -1, -2))).astype(name)


@pytest.mark.parametrize("name", CPLX)
@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (2, 4)])
def test_svd_complex_values(name, shape):
    a = complex_spectral(*shape, name, seed=29, lead=(2,))
    tol = TOL[name]
    for full in (False, True):
        u, s, vh = tg.linalg.svd(tg.tensor(a), full_matrices=full)
        wu, ws, wvh = np.linalg.svd(a, full_matrices=full)
        assert s.dtype == np.real(a).dtype and u.dtype.name == name and u.shape == wu.shape
        assert vh.shape == wvh.shape
        np.testing.assert_allclose(np.asarray(s), ws, rtol=tol)
        k = min(shape)
        uu, vv = np.asarray(u), np.asarray(vh)
        np.testing.assert_allclose(
            uu[..., :k] * np.asarray(s)[..., None, :] @ vv[..., :k, :],
            a,
            rtol=10 * tol,
            atol=10 * tol,
        )
        np.testing.assert_allclose(np.abs(uu), np.abs(wu), rtol=10 * tol, atol=10 * tol)
    np.testing.assert_allclose(
        np.asarray(tg.linalg.svdvals(tg.tensor(a))), np.linalg.svd(a)[1], rtol=tol
    )
    # the spectral and nuclear norms need the singular values
    t = tg.tensor(a)
    for ord_ in (2, -2, "nuc"):
        np.testing.assert_allclose(
            np.asarray(tg.linalg.norm(t, ord=ord_, axis=(-2, -1))),
            np.linalg.norm(a, ord=ord_, axis=(-2, -1)),
            rtol=10 * tol,
        )


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (2, 4)])
def test_svd_complex_grads(shape):
    a = complex_spectral(*shape, "complex128", seed=30)

    def recon(a):  # U S Vh: independent of the singular vectors' phases
        u, s, vh = tg.linalg.svd(a, full_matrices=False)
        return (u * s) @ vh

    def gauge_free(a):  # |U|^2 and u_0 vh_0, each independent of the phase of the pair
        u, _, vh = tg.linalg.svd(a, full_matrices=False)
        return (
            tnp.real(u * tnp.conj(u)) @ tg.ones((u.shape[1], 1), tg.float64) + u[:, :1] @ vh[:1, :]
        )

    check_complex_grads(lambda a: tg.linalg.svd(a, full_matrices=False)[1], [a])
    check_complex_grads(recon, [a])
    check_complex_grads(gauge_free, [a])
    check_complex_grads(tg.linalg.svdvals, [a])
    check_complex_grads(lambda a: tg.linalg.norm(a, "nuc"), [a])
    check_complex_grads(lambda x: tg.linalg.svdvals(x * (1 - 1j)), [np.real(a)])


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (2, 4)])
def test_svd_eigh_complex_rules_match_jax(shape, tmp_path):
    # JAX's rules fix the singular vectors' phases in their derivatives too (a term the
    # phase-independent checks above cannot see): compare both ways with jax, LAPACK's phases
    # (which differ between the two libraries) aligned first.
    a = complex_spectral(*shape, "complex128", seed=31)
    da = complex_spectral(*shape, "complex128", seed=32)
    k = min(shape)
    gu = complex_spectral(shape[0], k, "complex128", seed=33)
    gvh = complex_spectral(k, shape[1], "complex128", seed=34)
    gs = np.arange(k, dtype=np.float64)
    # eigh of a Hermitian matrix (JAX without its symmetrisation reads the lower triangle too)
    h = hermitian_spread(3, "complex128", seed=35)
    h = np.tril(h, -1) + np.conj(np.tril(h, -1)).T + np.diag(h.diagonal().real)
    dh = hermitian_spread(3, "complex128", seed=36)
    dh = np.tril(dh, -1) + np.conj(np.tril(dh, -1)).T + np.diag(dh.diagonal().real)
    (u, _, _), (du, ds, dvh) = tg.jvp(
        lambda x: tg.linalg.svd(x, full_matrices=False), (tg.tensor(a),), (tg.tensor(da),)
    )
    (_, v), (dw, dv) = tg.jvp(tg.linalg.eigh, (tg.tensor(h),), (tg.tensor(dh),))
    j = jax_values(
        tmp_path,
        """
        jsvd = lambda x: tuple(jnp.linalg.svd(x, full_matrices=False))
        (ju, _, _), (dju, djs, djvh) = jax.jvp(jsvd, (a["a"],), (a["da"],))
        ph = np.diag(np.conj(np.asarray(ju)).T @ a["u"])  # our U = JAX's U diag(ph)
        _, jf = jax.vjp(jsvd, a["a"])
        ga = jf((a["gu"] * ph, a["gs"], np.conj(ph)[:, None] * a["gvh"]))[0]
        jeigh = lambda x: tuple(jnp.linalg.eigh(x, symmetrize_input=False))
        (_, jv), (djw, djv) = jax.jvp(jeigh, (a["h"],), (a["dh"],))
        out = dict(ju=ju, dju=dju, djs=djs, djvh=djvh, ph=ph, ga=ga, jv=jv, djw=djw, djv=djv)
        """,
        a=a,
        da=da,
        u=np.asarray(u),
        gu=gu,
        gs=gs,
        gvh=gvh,
        h=h,
        dh=dh,
    )
    ph = j["ph"]
    np.testing.assert_allclose(j["ju"] * ph, np.asarray(u), atol=1e-12)
    np.testing.assert_allclose(j["dju"] * ph, np.asarray(du), atol=1e-12)
    np.testing.assert_allclose(np.conj(ph)[:, None] * j["djvh"], np.asarray(dvh), atol=1e-12)
    np.testing.assert_allclose(j["djs"], np.asarray(ds), atol=1e-12)
    _, tf = tg.vjp(lambda x: tg.linalg.svd(x, full_matrices=False), tg.tensor(a))
    np.testing.assert_allclose(
        np.asarray(tf((tg.tensor(gu), tg.tensor(gs), tg.tensor(gvh)))[0]), j["ga"], atol=1e-12
    )
    ph = np.diag(np.conj(j["jv"]).T @ np.asarray(v))
    np.testing.assert_allclose(j["djv"] * ph, np.asarray(dv), atol=1e-12)
    np.testing.assert_allclose(j["djw"], np.asarray(dw), atol=1e-12)


def hpd(n, name, seed, lead=()):
    """A Hermitian positive-definite matrix B B^H + n I, with noise above the diagonal (not read)."""
    rng = np.random.default_rng(seed)
    b = rng.standard_normal(lead + (n, n)) + 1j * rng.standard_normal(lead + (n, n))
    h = b @ np.conj(np.swapaxes(b, -1, -2)) + n * np.eye(n)
    return (h + np.triu(rng.standard_normal(h.shape) * 0.1j, 1)).astype(name)


@pytest.mark.parametrize("name", CPLX)
def test_cholesky_complex(name):
    a = hpd(4, name, seed=37, lead=(2,))
    tol = TOL[name]
    herm = np.tril(a, -1) + np.conj(np.swapaxes(np.tril(a, -1), -1, -2)) + np.real(a) * np.eye(4)
    lo = tg.linalg.cholesky(tg.tensor(a))
    assert lo.dtype.name == name
    np.testing.assert_allclose(
        np.asarray(lo), np.linalg.cholesky(herm), rtol=10 * tol, atol=10 * tol
    )
    up = tg.linalg.cholesky(tg.tensor(a), upper=True)
    np.testing.assert_allclose(
        np.asarray(up), np.linalg.cholesky(herm, upper=True), rtol=10 * tol, atol=10 * tol
    )
    with pytest.raises(ValueError, match="positive definite"):
        tg.linalg.cholesky(tg.tensor(-np.eye(2, dtype=name)))


def test_cholesky_complex_grads():
    a = hpd(3, "complex128", seed=38)
    check_complex_grads(tg.linalg.cholesky, [a])
    check_complex_grads(lambda a: tg.linalg.cholesky(a, upper=True), [a])
    at = tg.tensor(hpd(3, "complex128", seed=39, lead=(3,)))
    g = tg.vmap(tg.grad(lambda a: tnp.real(tg.sum(tg.linalg.cholesky(a)))))(at)
    for i in range(3):
        gi = tg.grad(lambda a: tnp.real(tg.sum(tg.linalg.cholesky(a))))(at[i])
        np.testing.assert_allclose(np.asarray(g[i]), np.asarray(gi), rtol=1e-12)


@pytest.mark.parametrize("name", CPLX)
@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (2, 4)])
def test_qr_complex_values(name, shape):
    a = complex_spectral(*shape, name, seed=40, lead=(2,))
    tol = TOL[name]
    for mode in ("reduced", "complete"):
        q, r = tg.linalg.qr(tg.tensor(a), mode=mode)
        wq, wr = np.linalg.qr(a, mode=mode)
        assert q.dtype.name == name and q.shape == wq.shape and r.shape == wr.shape
        np.testing.assert_allclose(np.asarray(q), wq, rtol=10 * tol, atol=10 * tol)
        np.testing.assert_allclose(np.asarray(r), wr, rtol=10 * tol, atol=10 * tol)
    np.testing.assert_allclose(
        np.asarray(tg.linalg.qr(tg.tensor(a), mode="r")),
        np.linalg.qr(a, mode="r"),
        rtol=10 * tol,
        atol=10 * tol,
    )


@pytest.mark.parametrize("shape", [(4, 3), (3, 3)])
def test_qr_complex_grads(shape):
    a = complex_spectral(*shape, "complex128", seed=41)
    check_complex_grads(lambda a: tg.linalg.qr(a)[0], [a])
    check_complex_grads(lambda a: tg.linalg.qr(a)[1], [a])
    check_complex_grads(lambda x: tg.linalg.qr(x * (1 + 2j))[1], [np.real(a)])


@pytest.mark.parametrize("name", CPLX)
def test_pinv_rank_cond_lstsq_complex(name):
    a = complex_spectral(4, 3, name, seed=42)
    b = complex_spectral(4, 2, name, seed=43)
    tol = 1e-4 if name == "complex64" else 1e-10
    la = tg.linalg
    got = la.pinv(tg.tensor(a))
    assert got.dtype.name == name
    np.testing.assert_allclose(np.asarray(got), np.linalg.pinv(a), rtol=tol, atol=tol)
    low = a[:, :1] @ a[:1, :]  # rank 1
    assert int(la.matrix_rank(tg.tensor(low))) == np.linalg.matrix_rank(low) == 1
    np.testing.assert_allclose(  # numpy's default rcond (1e-15) ignores the dtype: give one
        np.asarray(la.pinv(tg.tensor(low), rtol=1e-5)),
        np.linalg.pinv(low, rtol=1e-5),
        rtol=tol,
        atol=tol,
    )
    sq = a[:3]
    np.testing.assert_allclose(float(la.cond(tg.tensor(sq))), np.linalg.cond(sq), rtol=tol)
    np.testing.assert_allclose(
        float(la.cond(tg.tensor(sq), "fro")), np.linalg.cond(sq, "fro"), rtol=tol
    )
    for rhs in (b, b[:, 0]):
        got = la.lstsq(tg.tensor(a), tg.tensor(rhs))
        want = np.linalg.lstsq(a, rhs)
        np.testing.assert_allclose(np.asarray(got[0]), want[0], rtol=tol, atol=tol)
        np.testing.assert_allclose(np.asarray(got[1]), want[1], rtol=tol, atol=tol)
        assert got[1].dtype == want[1].dtype


def test_pinv_lstsq_complex_grads():
    a = complex_spectral(4, 3, "complex128", seed=44)
    b = complex_spectral(4, 2, "complex128", seed=45)
    check_complex_grads(tg.linalg.pinv, [a])
    check_complex_grads(lambda a, b: tg.linalg.lstsq(a, b)[0], [a, b])
