"""Later calls of SparseJacobian / SparseHessian (Note [Compressed sweeps]): the folded replay is
bit-identical to the general path, sees closed-over tensors written in place, falls back where it
cannot answer, and its results are independent csr_arrays sharing read-only index arrays."""

import numpy as np
import pytest

import tapegrad as tg

sp = pytest.importorskip("scipy.sparse")

RNG = np.random.default_rng(7)


def _general(obj, x):
    """The values through the jit-compiled sweep (the general path), in the pattern's order."""
    return obj._fast.gather(obj._sweep(x, obj._seeds).asnumpy())


def _tridiagonal(x):
    z = tg.zeros(1, dtype=x.dtype)
    up = tg.concatenate([z, x, z])
    return up[:-2] - 2 * x + up[2:] - x**3


def _laplacian(x):
    g = 12
    u = x.reshape(g, g)
    zr = tg.zeros((1, g), dtype=x.dtype)
    zc = tg.zeros((g + 2, 1), dtype=x.dtype)
    p = tg.concatenate([zc, tg.concatenate([zr, u, zr], axis=0), zc], axis=1)
    return (p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4 * u - u**3).reshape(-1)


CASES = {
    "tridiagonal": (_tridiagonal, 5000, "fwd"),
    "laplacian": (_laplacian, 144, "fwd"),
    "rev": (lambda x: tg.concatenate([(x**2).sum(keepdims=True), tg.sin(x) * 2]), 6000, "rev"),
    "linear": (lambda x: x[1:] - 3 * x[:-1], 5000, "fwd"),
    "pow0": (lambda x: x**0 + x**1.5 + tg.exp(x) * x[::-1], 5000, "fwd"),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_folded_replay_is_bit_identical_to_the_general_path(name, dtype):
    fn, n, mode = CASES[name]
    x0 = tg.tensor(RNG.random(n) + 0.5, dtype=dtype)
    J = tg.SparseJacobian(fn, x0)
    assert J.mode == mode
    assert J._fast.kept >= 0  # the fast path answers
    xs = [tg.tensor(RNG.random(n) + 0.5, dtype=dtype) for _ in range(2)]
    got = [J(x) for x in xs]
    assert J._sweep.cache_info()["records"] == 0  # answered by the folded replay
    for x, g in zip(xs, got):
        np.testing.assert_array_equal(g.data, _general(J, x))
        assert g.data.dtype == x.numpy().dtype
    x = xs[-1]
    if n <= 200:
        np.testing.assert_allclose(
            J(x).toarray(), tg.jacfwd(fn)(x).numpy().reshape(-1, n), rtol=1e-5, atol=1e-6
        )


def test_folding_takes_the_seed_only_records_out():
    J = tg.SparseJacobian(_tridiagonal, tg.ones(5000, dtype=tg.float64))
    # the tangent's concatenation, slices and sums do not depend on x: only 3 x**2 * S remains
    assert J._fast.folded >= 8
    assert "concatenate" not in J._fast.explain()


def test_hessian_folded_replay_matches():
    def energy(x):
        return x[0] * x[1:].sum() + (x**4).sum() + (x[1:] * x[:-1]).sum()

    x = tg.tensor(RNG.random(3000))
    H = tg.SparseHessian(energy, x)
    x2 = tg.tensor(RNG.random(3000))
    np.testing.assert_array_equal(H(x2).data, _general(H, x2))
    small = tg.tensor(RNG.random(30))
    np.testing.assert_allclose(
        tg.SparseHessian(energy, small)(small).toarray(),
        tg.hessian(energy)(small).numpy(),
        rtol=1e-12,
    )


def test_closed_over_tensor_written_in_place_is_seen():
    # The tangent A * S does not depend on x, but A is the caller's: it is not folded.
    a = tg.tensor(RNG.random(50))

    def fn(x):
        return a * x + x[::-1] ** 2

    x = tg.tensor(RNG.random(50))
    J = tg.SparseJacobian(fn, x)
    before = J(x).toarray()
    a[:] = a * 3 + 1
    after = J(x).toarray()
    np.testing.assert_allclose(after, tg.jacfwd(fn)(x).numpy(), rtol=1e-12)
    assert not np.allclose(before, after)


def test_closed_over_numpy_memory_written_in_place_matches_eager():
    arr = RNG.random(40)
    a = tg.tensor(arr)  # may borrow arr's memory (Note [Borrowed buffers])

    def fn(x):
        return a * tg.sin(x)

    x = tg.tensor(RNG.random(40))
    J = tg.SparseJacobian(fn, x)
    J(x)
    arr *= 5
    np.testing.assert_allclose(J(x).toarray(), tg.jacfwd(fn)(x).numpy(), rtol=1e-12)


def test_guarded_function_takes_the_general_path():
    def fn(x):
        if float(x.sum()) > 0:  # a decision on a traced value: a guard
            return x * x
        return -(x**3)

    J = tg.SparseJacobian(fn, tg.ones(20, dtype=tg.float64))
    assert J._fast.kept == -1  # not replayable as a folded program
    for sign in (1.0, -1.0, 1.0):
        x = tg.tensor(sign * (RNG.random(20) + 0.1))
        np.testing.assert_allclose(J(x).toarray(), tg.jacfwd(fn)(x).numpy(), rtol=1e-12)


def test_random_draws_inside_take_the_general_path():
    def fn(x):
        return x * 2 + 0 * tg.normal(shape=x.shape, dtype=x.dtype)

    x = tg.tensor(RNG.random(10))
    J = tg.SparseJacobian(fn, x)
    np.testing.assert_array_equal(J(x).toarray(), 2 * np.eye(10))


def test_signature_errors():
    J = tg.SparseJacobian(_tridiagonal, tg.ones(30, dtype=tg.float64))
    with pytest.raises(ValueError, match="dtype"):
        J(tg.ones(30, dtype=tg.float32))
    with pytest.raises(ValueError, match="shape"):
        J(tg.ones(31, dtype=tg.float64))
    with pytest.raises(TypeError, match="floating point"):
        J(tg.ones(30, dtype=tg.int64))


def test_numpy_and_list_inputs():
    J = tg.SparseJacobian(_tridiagonal, np.ones(30))
    x = RNG.random(30)
    ref = J(tg.tensor(x)).toarray()
    np.testing.assert_array_equal(J(x).toarray(), ref)
    np.testing.assert_array_equal(J(list(x)).toarray(), ref)


def test_results_are_independent_and_their_structure_read_only():
    J = tg.SparseJacobian(_tridiagonal, tg.ones(30, dtype=tg.float64))
    x1, x2 = tg.tensor(RNG.random(30)), tg.tensor(RNG.random(30))
    a = J(x1)
    a_vals = a.toarray().copy()
    b = J(x2)
    np.testing.assert_array_equal(a.toarray(), a_vals)
    assert not np.array_equal(a.data, b.data)
    a.data *= 2  # values are the caller's
    np.testing.assert_array_equal(J(x1).toarray(), a_vals)
    assert a.has_canonical_format and a.has_sorted_indices
    with pytest.raises(ValueError):
        a.indices[0] = 1
    with pytest.raises(ValueError):
        a.eliminate_zeros()
    c = J(x1).copy()
    c.data[0] = 0
    c.eliminate_zeros()
    assert c.nnz == J.pattern.nnz - 1
    np.testing.assert_array_equal(J(x1).toarray(), a_vals)


def test_results_work_with_scipy_operations():
    n = 40
    J = tg.SparseJacobian(_tridiagonal, tg.ones(n, dtype=tg.float64))
    x = RNG.random(n)
    a = J(x)
    dense = a.toarray()
    v = RNG.random(n)
    np.testing.assert_allclose(a @ v, dense @ v)
    np.testing.assert_allclose((a + a).toarray(), 2 * dense)
    np.testing.assert_allclose(a.T.toarray(), dense.T)
    np.testing.assert_allclose(a.tocsc().toarray(), dense)
    np.testing.assert_allclose(a[[0, 3]].toarray(), dense[[0, 3]])
    np.testing.assert_allclose((a * 2).toarray(), 2 * dense)
    from scipy.sparse.linalg import spsolve

    np.testing.assert_allclose(a @ spsolve(a.tocsc(), v), v, rtol=1e-10)
    import pickle

    np.testing.assert_array_equal(pickle.loads(pickle.dumps(a)).toarray(), dense)


def test_empty_pattern():
    J = tg.SparseJacobian(
        lambda x: x.sum(keepdims=True) * 0 + 1, tg.ones(4), pattern=np.zeros((1, 4))
    )
    out = J(tg.ones(4))
    assert out.nnz == 0 and out.shape == (1, 4)


# ---- Note [Gathered tail]: the last fused group evaluated at the non-zeros only ----------------------


def _closed_weights(n):
    w = tg.tensor(np.linspace(1.0, 2.0, n))

    def fn(x):
        return w * tg.sin(x) + x[::-1] * x

    return fn, w


def _private_weights(x):
    # tensors made inside the function are private constants: folded (their tangent paths) or
    # gathered once; linspace gives more than 256 distinct values (no byte codes)
    n = x.shape[0]
    c = tg.linspace(1.0, 3.0, n, dtype=x.dtype)
    return tg.sin(x) * c + c * x[::-1] ** 2


def _broadcast_49(x):
    # operands broadcast along rows and columns of 49: index maps divide by 49, where the double
    # reciprocal's product falls just below an integer (49 * (1 / 49) < 1) and is corrected
    u = x.reshape(200, 49)
    w = tg.linspace(1.0, 2.0, 200, dtype=x.dtype).reshape(200, 1)
    return (tg.sin(u) * u[:, :1] * w + tg.cos(u) * u[:1, :]).reshape(-1)


GATHERED = {
    **CASES,
    "private weights": (_private_weights, 5000, "fwd"),
    "broadcast 49": (_broadcast_49, 9800, "fwd"),
    "broadcast rows": (
        lambda x: (tg.cos(x.reshape(50, 100)) * x.reshape(50, 100)[:, :1]).reshape(-1),
        5000,
        "fwd",
    ),
}
# the cases whose sweep ends in a fused group (the others: too small to fuse, or ending op by op)
ENDS_FUSED = {"tridiagonal", "pow0", "rev", "private weights", "broadcast 49"}


def _sweep_pair(J, x):
    """The object's compressed sweep rebuilt with and without the gathered tail."""
    p = J._p
    m, n = p.shape
    rows = np.repeat(np.arange(m, dtype=np.int64), np.diff(p.indptr))
    cols = p.indices.astype(np.int64)
    if J.mode == "fwd":
        take, size = J.colors[cols].astype(np.int64) * m + rows, J.num_colors * m
    else:
        take, size = J.colors[rows].astype(np.int64) * n + cols, J.num_colors * n
    sweep = tg._sparse._sweep_fn(J._fn, J._shape, J.mode)
    mk = lambda g: tg._core._CompressedSweep(sweep, x, [J._seeds], take, size, True, g)
    return mk(True), mk(False)


@pytest.mark.parametrize("name", sorted(GATHERED))
@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_gathered_tail_is_bit_identical(name, dtype):
    fn, n, mode = GATHERED[name]
    x0 = tg.tensor(RNG.random(n) + 0.5, dtype=dtype)
    J = tg.SparseJacobian(fn, x0)
    assert J.mode == mode
    gathered, plain = _sweep_pair(J, x0)
    assert gathered.gathered == (name in ENDS_FUSED)
    if gathered.gathered:
        assert "gathered tail" in gathered.explain()
    assert not plain.gathered
    for _ in range(2):
        x = tg.tensor(RNG.random(n) * 4 - 2, dtype=dtype)
        a, b = gathered(x), plain(x)
        assert a.dtype == b.dtype == x.numpy().dtype
        np.testing.assert_array_equal(a.view(np.uint8), b.view(np.uint8))
        np.testing.assert_array_equal(a.view(np.uint8), _general(J, x).view(np.uint8))


def test_gathered_tail_kinds_of_operands():
    J = tg.SparseJacobian(_tridiagonal, tg.ones(10**4, dtype=tg.float64))
    text = J._fast.explain()
    # seeds and the folded stencil hold a few values: a byte per non-zero; 3 x**2 is gathered per call
    assert "2 coded, 0 gathered once, 1 gathered per call" in text
    J = tg.SparseJacobian(_private_weights, tg.ones(5000, dtype=tg.float64))
    assert J._fast.gathered and "gathered once" in J._fast.explain()
    assert "0 gathered once" not in J._fast.explain()


def test_gathered_tail_reads_closed_over_tensors_afresh():
    n = 6000
    fn, w = _closed_weights(n)
    x = tg.tensor(RNG.random(n))
    J = tg.SparseJacobian(fn, x)
    assert J._fast.gathered
    before = J(x).data.copy()
    w[:] = w * 3 + 1
    after = J(x).data
    assert not np.array_equal(before, after)
    np.testing.assert_array_equal(after, _general(J, x))
    small = tg.tensor(RNG.random(40))
    fs, _ = _closed_weights(40)
    np.testing.assert_allclose(
        tg.SparseJacobian(fs, small)(small).toarray(), tg.jacfwd(fs)(small).numpy(), rtol=1e-12
    )


def test_gathered_tail_nan_inf_and_signed_zeros():
    n = 5000
    J = tg.SparseJacobian(_tridiagonal, tg.ones(n, dtype=tg.float64))
    x = RNG.random(n)
    x[::7] = np.inf
    x[3::11] = np.nan
    x[5::13] = -0.0
    x = tg.tensor(x)
    np.testing.assert_array_equal(J(x).data.view(np.uint64), _general(J, x).view(np.uint64))


def _few_weights(x):
    # a private constant with 40 distinct values: byte codes, a table too large for the vector lookup
    c = (tg.arange(x.shape[0], dtype=x.dtype) % 40) * 0.25 + 1
    return tg.sin(x) * c + x[::-1] ** 2


@pytest.mark.parametrize("simd", ["sse2", "avx2", "avx512"])
@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
@pytest.mark.parametrize("fn", [_tridiagonal, _few_weights, _private_weights])
def test_gathered_tail_lookup_on_every_simd_path(simd, dtype, fn):
    from tapegrad import _config, _core

    if simd not in _config.simd_available(_core._build_info()):
        pytest.skip(f"this CPU or build cannot run the {simd} kernels")
    n = 5003  # not a multiple of a vector: the lookup loops' tails run too
    x0 = tg.tensor(RNG.random(n) + 0.5, dtype=dtype)
    J = tg.SparseJacobian(fn, x0)
    gathered, plain = _sweep_pair(J, x0)
    assert gathered.gathered and " coded" in gathered.explain()
    try:
        assert _core._set_simd_path(simd)
        for _ in range(2):
            x = tg.tensor(RNG.random(n) * 4 - 2, dtype=dtype)
            np.testing.assert_array_equal(gathered(x).view(np.uint8), plain(x).view(np.uint8))
    finally:
        _core._set_simd_path("best")
