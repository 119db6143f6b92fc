"""Sparse Jacobians and Hessians (python/tapegrad/_sparse.py, csrc/transforms/coloring.cpp): detected
patterns never miss a non-zero of the dense Jacobian, colorings are valid, compressed results equal
the dense jacrev/hessian."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tapegrad as tg
from tapegrad import _sparse

sp = pytest.importorskip("scipy.sparse")

RNG = np.random.default_rng(0)
A23 = tg.tensor(RNG.random((2, 3)))
IDX = np.array([3, 0, 2, 2])


def _setitem(x):
    y = x * 1
    y[2:5] = x[:3] ** 2
    y[tg.tensor(np.array([0, 7]))] = x[10]
    return y


def _guarded(x):
    return x * 2 if float(x.sum()) > 0 else x


# Functions of a 12-element x covering every prim family the detection has a rule for.
FUNCS = {
    "elementwise": lambda x: tg.exp(x) * tg.sin(x) + x / (1 + x * x),
    "broadcast": lambda x: (x.reshape(3, 4) * x.reshape(3, 4)[:, :1]).reshape(-1),
    "sum_axis": lambda x: x.reshape(3, 4).sum(axis=1),
    "mean_keepdims": lambda x: x.reshape(3, 4).mean(axis=0, keepdims=True) * x.reshape(3, 4),
    "prod": lambda x: x.reshape(3, 4).prod(axis=1),
    "max": lambda x: x.reshape(3, 4).max(axis=0),
    "min": lambda x: tg.min(x.reshape(2, 6), axis=1),
    "var": lambda x: x.reshape(4, 3).var(axis=1),
    "std": lambda x: x.reshape(4, 3).std(axis=0),
    "logsumexp": lambda x: tg.logsumexp(x.reshape(3, 4), axis=1),
    "softmax": lambda x: tg.softmax(x.reshape(3, 4), axis=1),
    "log_softmax": lambda x: tg.log_softmax(x.reshape(3, 4), axis=0),
    "matmul": lambda x: x.reshape(3, 4) @ x.reshape(4, 3),
    "matvec_constant": lambda x: A23 @ x[:3] + x[3:5],
    "dot": lambda x: tg.dot(x[:6], x[6:]) * x,
    "einsum": lambda x: tg.einsum("ij,jk->ik", x.reshape(3, 4), x.reshape(4, 3)),
    "outer": lambda x: tg.outer(x[:3], x[3:6]),
    "transpose": lambda x: x.reshape(3, 4).T * 2,
    "flip": lambda x: tg.flip(x, 0) * x,
    "slices": lambda x: x[1::3][:3] + x[::-4][:3],
    "gather": lambda x: x[tg.tensor(IDX)] ** 2,
    "take": lambda x: tg.take(x, tg.tensor(IDX)),
    "take_along_axis": lambda x: tg.take_along_axis(
        x.reshape(3, 4), tg.tensor(np.array([[0], [3], [1]])), axis=1
    ),
    "setitem": _setitem,
    "where": lambda x: tg.where(x > 0.5, x, x * x),
    "cumsum": lambda x: tg.cumsum(x.reshape(3, 4), axis=1),
    "cumprod": lambda x: tg.cumprod(x, axis=0),
    "concatenate": lambda x: tg.concatenate([x[:2], x[5:], x[:1] * x[1:2]]),
    "stack": lambda x: tg.stack([x[:3], x[3:6]], axis=1),
    "split": lambda x: tg.split(x, 3)[1] * tg.split(x, 3)[2],
    "sort": lambda x: tg.sort(x.reshape(3, 4), axis=1),
    "argsort_gather": lambda x: x[tg.argsort(x)],
    "tile": lambda x: tg.tile(x[:3], 2),
    "repeat": lambda x: tg.repeat(x[:3], 2),
    "squeeze_expand": lambda x: tg.squeeze(tg.expand_dims(x, 0), 0) ** 3,
    "clip": lambda x: tg.clip(x, 0.2, 0.8),
    "maximum": lambda x: tg.maximum(x[:6], x[6:]),
    "pow": lambda x: x[:6] ** x[6:],
    "abs_relu": lambda x: tg.abs(x - 0.5) + tg.relu(x - 0.3),
    "norm": lambda x: tg.norm(x.reshape(3, 4), axis=1),
    "trace": lambda x: tg.trace(x[:9].reshape(3, 3)) * x,
    "solve": lambda x: tg.linalg.solve(x[:4].reshape(2, 2) + tg.eye(2, dtype=x.dtype) * 3, x[4:6]),
    "inv": lambda x: tg.linalg.inv(x[:4].reshape(2, 2) + tg.eye(2, dtype=x.dtype) * 3),
    "det": lambda x: tg.linalg.det(x[:4].reshape(2, 2)) * x[4:],
    "guard": _guarded,
    "random_draws": lambda x: x * (tg.rand(12) * 0 + 1) + tg.randn(12) * 0,
    "stop_gradient": lambda x: tg.stop_gradient(x) * x,
    "cast": lambda x: x.astype(tg.float32).astype(x.dtype) * 3,
    "floor": lambda x: tg.floor(x * 3) * x,
    "one_hot": lambda x: tg.one_hot(tg.tensor(np.array([1, 0, 2])), 3).astype(x.dtype) @ x[:3],
    "conv2d": lambda x: tg.ops.conv2d(
        x.reshape(1, 1, 3, 4), tg.ones((1, 1, 2, 2), dtype=x.dtype)
    ).reshape(-1),
    "constant_output": lambda x: tg.zeros(3, dtype=x.dtype) + 1,
}


def _dense(fn, x):
    d = tg.jacrev(fn)(x).asnumpy()
    return d.reshape(-1, x.size)


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_detected_pattern_covers_dense_jacobian(name):
    fn = FUNCS[name]
    p = tg.jacobian_pattern(fn, tg.tensor(RNG.random(12) + 0.1)).toarray()
    assert p.dtype == bool
    for _ in range(3):
        d = _dense(fn, tg.tensor(RNG.random(12) + 0.1))
        assert d.shape == p.shape
        missed = np.argwhere((d != 0) & ~p)
        assert missed.size == 0, f"{name}: detection misses entries {missed[:5].tolist()}"


@pytest.mark.parametrize("name", sorted(FUNCS))
@pytest.mark.parametrize("mode", ["fwd", "rev", "auto"])
def test_sparse_jacobian_equals_jacrev(name, mode):
    fn = FUNCS[name]
    x = tg.tensor(RNG.random(12) + 0.1)
    j = tg.sparse_jacobian(fn, x, mode=mode)
    assert isinstance(j, sp.csr_array)
    np.testing.assert_allclose(j.toarray(), _dense(fn, x), rtol=1e-10, atol=1e-12)


def test_sparse_patterns_are_sparse_where_they_should_be():
    x = tg.ones(12, dtype=tg.float64)
    # per element, a band, a gather: exactly the true structure
    assert tg.jacobian_pattern(FUNCS["elementwise"], x).nnz == 12
    assert tg.jacobian_pattern(lambda x: x[2:] - 2 * x[1:-1] + x[:-2], x).nnz == 30
    assert tg.jacobian_pattern(FUNCS["gather"], x).nnz == 4
    assert tg.jacobian_pattern(FUNCS["cumsum"], x).nnz == 3 * (1 + 2 + 3 + 4)
    assert (
        tg.jacobian_pattern(FUNCS["sort"], x).nnz == 3 * 16
    )  # each row of the sort: its whole line
    assert tg.jacobian_pattern(FUNCS["constant_output"], x).nnz == 0


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_nd_input_and_output_flattened_in_c_order(dtype):
    def fn(x):  # x (3, 4) -> (2, 3, 3)
        return tg.stack([x[:, 1:] * x[:, :-1], tg.sin(x[:, :3])])

    x = tg.tensor(RNG.random((3, 4)), dtype=dtype)
    j = tg.sparse_jacobian(fn, x)
    assert j.shape == (18, 12) and j.dtype == np.dtype(str(dtype).lower())
    dense = tg.jacrev(fn)(x).asnumpy().reshape(18, 12)
    np.testing.assert_allclose(j.toarray(), dense, rtol=1e-6)


def test_numpy_input():
    j = tg.sparse_jacobian(lambda x: x * x, np.arange(3.0))
    np.testing.assert_array_equal(j.toarray(), np.diag([0.0, 2.0, 4.0]))


def test_explicit_zeros_keep_the_pattern():
    # d(x^2)/dx at 0 is 0: the entry stays stored, the structure does not depend on x
    j = tg.sparse_jacobian(lambda x: x * x, tg.zeros(3))
    assert j.nnz == 3
    np.testing.assert_array_equal(j.toarray(), np.zeros((3, 3)))


def test_sparse_jacobian_object_reuses_pattern_and_replays():
    def fn(x):
        return x[2:] - 2 * x[1:-1] + x[:-2] + tg.sin(x[1:-1])

    J = tg.SparseJacobian(fn, tg.ones(50, dtype=tg.float64))
    assert J.num_colors == 3 and J.pattern.shape == (48, 50) and J.pattern.nnz == 144
    for _ in range(3):
        x = tg.tensor(RNG.random(50))
        np.testing.assert_allclose(J(x).toarray(), _dense(fn, x), rtol=1e-12)
    # later calls replay the folded recording (Note [Compressed sweeps]), not the general path
    assert J._fast.folded > 0 and J._fast.kept > 0
    assert J._sweep.cache_info()["records"] == 0
    assert "SparseJacobian(shape=(48, 50)" in repr(J)


def test_mode_auto_picks_fewer_colors():
    # one dense row: column coloring needs n colors, row coloring 2
    fn = lambda x: tg.concatenate([x.sum(keepdims=True), x * 2])
    J = tg.SparseJacobian(fn, tg.ones(20))
    assert J.mode == "rev" and J.num_colors == 2
    # one dense column: the other way round
    fn2 = lambda x: x * x[0]
    J2 = tg.SparseJacobian(fn2, tg.ones(20))
    assert J2.mode == "fwd" and J2.num_colors == 2
    np.testing.assert_allclose(J2(tg.arange(20.0)).toarray(), _dense(fn2, tg.arange(20.0)))


def test_user_pattern():
    fn = lambda x: x[1:] * x[:-1]
    x = tg.tensor(RNG.random(5))
    p = np.eye(4, 5, dtype=bool) | np.eye(4, 5, k=1, dtype=bool)
    j = tg.sparse_jacobian(fn, x, pattern=p)
    np.testing.assert_allclose(j.toarray(), _dense(fn, x))
    j2 = tg.sparse_jacobian(fn, x, pattern=sp.csr_array(p), mode="rev")
    np.testing.assert_allclose(j2.toarray(), _dense(fn, x))


# ---- Hessians ----------------------------------------------------------------------------------

HESS = {
    "chain": lambda x: (x[1:] * x[:-1]).sum() + (x**3).sum(),
    "arrow": lambda x: (x[0] * x).sum() + tg.sin(x).sum(),
    "rosenbrock": lambda x: (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum(),
    "dense": lambda x: tg.logsumexp(x, axis=0),
    "quadratic_2d": lambda x: (x.reshape(3, 4) @ x.reshape(3, 4).T).sum(),
    "gather": lambda x: (x[tg.tensor(IDX)] ** 2 * x[:4]).sum(),
    "cumsum": lambda x: (tg.cumsum(x, axis=0) ** 2).sum(),
    "linear": lambda x: (x * 3).sum(),
}


@pytest.mark.parametrize("name", sorted(HESS))
def test_sparse_hessian_equals_hessian(name):
    fn = HESS[name]
    x = tg.tensor(RNG.random(12) + 0.1)
    h = tg.sparse_hessian(fn, x)
    dense = tg.hessian(fn)(x).asnumpy()
    np.testing.assert_allclose(h.toarray(), dense, rtol=1e-9, atol=1e-9)
    p = tg.hessian_pattern(fn, tg.tensor(RNG.random(12) + 0.1)).toarray()
    assert not ((dense != 0) & ~p).any()
    assert (p == p.T).all()


def test_sparse_hessian_arrow_needs_two_colors():
    H = tg.SparseHessian(HESS["arrow"], tg.ones(200, dtype=tg.float64))
    assert H.num_colors == 2
    x = tg.tensor(RNG.random(200))
    np.testing.assert_allclose(H(x).toarray(), tg.hessian(HESS["arrow"])(x).asnumpy(), rtol=1e-12)
    assert "SparseHessian(shape=(200, 200)" in repr(H)


def test_sparse_hessian_tridiagonal_colors():
    H = tg.SparseHessian(HESS["chain"], tg.ones(100, dtype=tg.float64))
    assert H.num_colors <= 3


# ---- coloring ----------------------------------------------------------------------------------


def _check_column_coloring(p, colors):
    p = sp.csr_array(p)
    for i in range(p.shape[0]):
        c = colors[p.indices[p.indptr[i] : p.indptr[i + 1]]]
        assert len(set(c.tolist())) == c.size, f"row {i}: two columns share a color"


def _check_star_coloring(p, colors):
    p = sp.csr_array(p)
    p = sp.csr_array(((p + p.T) != 0).astype(np.int8))
    rows = [set(p.indices[p.indptr[i] : p.indptr[i + 1]].tolist()) - {i} for i in range(p.shape[0])]
    for i, nb in enumerate(rows):
        assert all(colors[j] != colors[i] for j in nb), f"vertex {i}: a neighbour shares its color"
        for j in nb:
            ok_i = sum(colors[k] == colors[j] for k in rows[i] | {i}) == 1
            ok_j = sum(colors[k] == colors[i] for k in rows[j] | {j}) == 1
            assert ok_i or ok_j, f"entry ({i}, {j}) cannot be recovered directly"


def _random_pattern(rng, m, n, density):
    return sp.random_array((m, n), density=density, format="csr", rng=rng) != 0


@pytest.mark.parametrize("order", ["natural", "largest_first", "smallest_last", "dsatur"])
@pytest.mark.parametrize("seed", range(6))
def test_column_and_row_colorings_are_valid(order, seed):
    rng = np.random.default_rng(seed)
    m, n = int(rng.integers(1, 60)), int(rng.integers(1, 60))
    p = _random_pattern(rng, m, n, float(rng.uniform(0.01, 0.3)))
    c = tg.color_columns(p, order)
    _check_column_coloring(p, c)
    r = tg.color_rows(p, order)
    _check_column_coloring(sp.csr_array(p).T.tocsr(), r)
    lower = max(np.diff(sp.csr_array(p).indptr).max(initial=0), 1 if n else 0)
    assert c.max(initial=-1) + 1 >= lower
    print(
        f"seed {seed} {order}: {m}x{n}, nnz {p.nnz}: {c.max(initial=-1) + 1} column colors, "
        f"lower bound {lower}"
    )


def _dsatur_reference(p):
    """Dsatur as the C++ runs it, written plainly: next the uncolored column with the most distinct
    neighbour colors, then the largest degree bound (its rows' lengths minus one, summed), then the
    smallest index; it takes the smallest color no neighbour has."""
    p = sp.csr_array(p)
    m, n = p.shape
    lens = np.diff(p.indptr)
    cols_of = [set() for _ in range(n)]
    deg = [0] * n
    for i in range(m):
        row = p.indices[p.indptr[i] : p.indptr[i + 1]]
        for j in row:
            cols_of[j].update(int(c) for c in row)
            deg[j] += int(lens[i]) - 1
    for j in range(n):
        cols_of[j].discard(j)
    color = [-1] * n
    for _ in range(n):
        best = None
        for j in range(n):
            if color[j] >= 0:
                continue
            key = (len({color[w] for w in cols_of[j] if color[w] >= 0}), deg[j], -j)
            if best is None or key > best[0]:
                best = (key, j)
        j = best[1]
        used = {color[w] for w in cols_of[j]}
        c = 0
        while c in used:
            c += 1
        color[j] = c
    return np.array(color, np.int32)


@pytest.mark.parametrize("seed", range(12))
def test_dsatur_is_the_reference_dsatur(seed):
    # the bucket queue and the neighbour color masks pick the very columns (and colors) of a
    # plain Dsatur: the same colorings as before them, on random patterns, with dense rows (more
    # than 64 colors: the colors past the masks) and empty rows and columns
    rng = np.random.default_rng(300 + seed)
    m, n = int(rng.integers(1, 90)), int(rng.integers(1, 90))
    a = rng.random((m, n)) < float(rng.choice([0.02, 0.05, 0.15, 0.4]))
    if seed % 3 == 0:
        a[int(rng.integers(m)), :] = True  # a dense row: n mutually adjacent columns
    p = sp.csr_array(a.astype(np.float32))
    c = tg.color_columns(p, "dsatur")
    _check_column_coloring(p, c)
    np.testing.assert_array_equal(c, _dsatur_reference(p))


def test_dsatur_on_a_stencil_reaches_the_lower_bound():
    # the 5-point Laplacian: 5 colors (the most non-zeros in a row), where static orders need 7
    g = 30
    d = sp.diags_array([np.ones(g - 1), np.ones(g), np.ones(g - 1)], offsets=[-1, 0, 1])
    p = sp.kronsum(d, d, format="csr")
    c = tg.color_columns(p, "dsatur")
    _check_column_coloring(p, c)
    assert c.max() + 1 == 5
    assert tg.color_columns(p, "natural").max() + 1 > 5


def _union_reference(parts, rows, n):
    out = np.zeros((rows, n), bool)
    for p, m in parts:
        dense = sp.csr_array(p).toarray() != 0
        for r in range(rows):
            s = r if m is None else int(m[r])
            if s >= 0:
                out[r] |= dense[s]
    return out


@pytest.mark.parametrize("seed", range(20))
def test_pattern_union_matches_a_dense_reference(seed):
    # detection's row unions (csrc/transforms/patterns.h): canonical parts (copied, or merged two
    # or more at a time), rows in any order with duplicates (a marker array), maps with -1
    rng = np.random.default_rng(500 + seed)
    rows, n = int(rng.integers(0, 40)), int(rng.integers(1, 30))
    parts, args = [], []
    for _ in range(int(rng.integers(1, 5))):
        k = int(rng.integers(1, 30))
        p = sp.csr_array((rng.random((k, n)) < 0.2).astype(np.float32))
        p.sort_indices()
        canonical = True
        indices, indptr = p.indices.copy(), p.indptr.copy()
        if seed % 2:  # rows reversed, and each non-empty row's last column once more
            canonical = False
            rws = [list(indices[indptr[i] : indptr[i + 1]][::-1]) for i in range(k)]
            rws = [r + r[:1] for r in rws]
            indptr = np.concatenate([[0], np.cumsum([len(r) for r in rws])]).astype(np.int64)
            indices = np.array([c for r in rws for c in r], np.int64)
        m = None if rows == k and rng.random() < 0.4 else rng.integers(-1, k, rows)
        it = np.int32 if seed % 4 < 2 else np.int64
        parts.append((sp.csr_array((np.ones(indices.size), indices, indptr), shape=(k, n)), m))
        args.append((indptr.astype(it), indices.astype(it), k, m, canonical))
    indptr, indices = tg._core._pattern_union(args, rows, n)
    got = sp.csr_array((np.ones(indices.size), indices, indptr), shape=(rows, n))
    for r in range(rows):  # each row sorted, each column once
        row = indices[indptr[r] : indptr[r + 1]]
        assert (np.diff(row) > 0).all()
    np.testing.assert_array_equal(got.toarray() != 0, _union_reference(parts, rows, n))


def test_pattern_union_sorts_long_unsorted_rows():
    # a dense row in any order (a product with a sum's pattern): sorted by std::sort past 32
    # entries, duplicates across the parts kept once
    rng = np.random.default_rng(9)
    n = 500
    cols = rng.permutation(n)[:300]
    a = (np.array([0, cols.size]), cols.astype(np.int64))
    b = (np.array([0, 40]), rng.permutation(n)[:40].astype(np.int64))
    parts = [(ip, ix, 1, None, False) for ip, ix in (a, b)]
    indptr, indices = tg._core._pattern_union(parts, 1, n)
    np.testing.assert_array_equal(indices, np.union1d(a[1], b[1]))
    np.testing.assert_array_equal(indptr, [0, indices.size])


def test_pattern_union_refuses_bad_input():
    ip, ix = np.array([0, 2, 3], np.int32), np.array([0, 3, 1], np.int32)
    with pytest.raises(IndexError, match="column 3 out of range for 3 columns"):
        tg._core._pattern_union([(ip, ix, 2, None, True)], 2, 3)
    with pytest.raises(IndexError, match="row 2 out of range for a pattern of 2 rows"):
        tg._core._pattern_union([(ip, ix, 2, np.array([0, 2]), True)], 2, 4)
    with pytest.raises(ValueError, match="indptr has 3 entries for 5 rows"):
        tg._core._pattern_union([(ip, ix, 5, None, True)], 5, 4)
    with pytest.raises(ValueError, match="a row map has 1 entries for 2 rows"):
        tg._core._pattern_union([(ip, ix, 2, np.array([0]), True)], 2, 4)
    with pytest.raises(ValueError, match="indptr must be non-decreasing"):
        tg._core._pattern_union([(np.array([0, 3, 1], np.int32), ix, 2, None, True)], 2, 4)
    with pytest.raises(ValueError, match="indptr ends at 3 but indices has 2"):
        tg._core._pattern_union([(ip, ix[:2], 2, None, True)], 2, 4)


@pytest.mark.parametrize("order", ["natural", "largest_first", "smallest_last"])
@pytest.mark.parametrize("seed", range(8))
def test_star_colorings_are_valid(order, seed):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(1, 50))
    p = _random_pattern(rng, n, n, float(rng.uniform(0.02, 0.3)))
    p = (p + p.T + sp.eye_array(n)) != 0
    c = tg.star_color(p, order)
    _check_star_coloring(p, c)
    # the C++ recovery map agrees that every entry is recoverable
    q = sp.csr_array(p.astype(np.int8))
    q.sort_indices()
    k = int(c.max()) + 1
    pos = tg._core._star_recovery(q.indptr.astype(np.int64), q.indices.astype(np.int64), n, c, k)
    assert pos.size == q.nnz and (pos >= 0).all() and (pos < n * k).all()


@pytest.mark.parametrize("seed", range(10))
def test_star_colorings_with_hubs_are_valid(seed):
    # a few dense rows and columns (hubs) over a random sparse graph: the star coloring's bookkeeping
    # of hub neighbourhoods (it does not walk a hub's neighbours per vertex)
    rng = np.random.default_rng(200 + seed)
    n = int(rng.integers(5, 80))
    p = sp.lil_array(_random_pattern(rng, n, n, float(rng.uniform(0.01, 0.1))).astype(np.int8))
    for hub in rng.choice(n, size=int(rng.integers(1, 4)), replace=False):
        p[hub, :] = 1
        p[:, hub] = 1
    p = (p.tocsr() + p.tocsr().T + sp.eye_array(n)) != 0
    for order in ("natural", "largest_first", "smallest_last"):
        _check_star_coloring(p, tg.star_color(p, order))


def test_colorings_of_structured_patterns_reach_the_lower_bound():
    n = 1000
    tri = sp.diags_array(
        [np.ones(n - 1), np.ones(n), np.ones(n - 1)], offsets=[-1, 0, 1], format="csr"
    )
    assert tg.color_columns(tri).max() + 1 == 3
    g = 30  # 5-point stencil on a g x g grid
    lap = sp.kronsum(
        sp.diags_array([np.ones(g - 1), np.ones(g), np.ones(g - 1)], offsets=[-1, 0, 1]),
        sp.diags_array([np.ones(g - 1), np.ones(g), np.ones(g - 1)], offsets=[-1, 0, 1]),
    ).tocsr()
    c = tg.color_columns(lap)
    _check_column_coloring(lap, c)
    assert c.max() + 1 == 5
    arrow = sp.lil_array((50, 50))
    arrow.setdiag(1)
    arrow[0, :] = 1
    arrow[:, 0] = 1
    c = tg.star_color(arrow.tocsr())
    _check_star_coloring(arrow.tocsr(), c)
    assert c.max() + 1 == 2


def test_star_recovery_refuses_a_non_star_coloring():
    # a path 0-1-2-3 colored a b a b is distance-1 but not star: (1, 2) cannot be recovered
    path = sp.csr_array(np.eye(4, k=1) + np.eye(4, k=-1) + np.eye(4))
    colors = np.array([0, 1, 0, 1], np.int32)
    with pytest.raises(ValueError, match="star coloring"):
        tg._core._star_recovery(
            path.indptr.astype(np.int64), path.indices.astype(np.int64), 4, colors, 2
        )


def test_coloring_bad_input():
    with pytest.raises(ValueError, match="order must be"):
        tg.color_columns(sp.csr_array(np.eye(3)), "random")
    with pytest.raises(IndexError, match="out of range"):
        tg._core._color_columns(np.array([0, 1]), np.array([5]), 1, 3)
    with pytest.raises(ValueError, match="square"):
        tg.star_color(sp.csr_array(np.ones((2, 3))))


# ---- errors ------------------------------------------------------------------------------------


def test_errors_name_the_problem():
    x = tg.ones(4)
    with pytest.raises(ValueError, match="mode must be 'auto', 'fwd' or 'rev', got 'middle'"):
        tg.sparse_jacobian(lambda x: x, x, mode="middle")
    with pytest.raises(TypeError, match="must return one Tensor, got tuple"):
        tg.sparse_jacobian(lambda x: (x, x), x)
    with pytest.raises(TypeError, match="must return one Tensor, got float"):
        tg.sparse_jacobian(lambda x: 1.0, x)
    with pytest.raises(ValueError, match=r"pattern has shape \(3, 3\), expected \(4, 4\)"):
        tg.sparse_jacobian(lambda x: x, x, pattern=np.eye(3))
    with pytest.raises(TypeError, match="floating point"):
        tg.sparse_jacobian(lambda x: x, tg.tensor([1, 2]))
    with pytest.raises(TypeError, match="callable"):
        tg.SparseJacobian(3, x)
    J = tg.SparseJacobian(lambda x: x * 2, x)
    with pytest.raises(ValueError, match=r"shape \(5,\).*detected for shape \(4,\)"):
        J(tg.ones(5))
    with pytest.raises(ValueError, match="must return a scalar"):
        tg.sparse_hessian(lambda x: x * x, x)
    with pytest.raises(ValueError, match=r"pattern has shape"):
        tg.sparse_hessian(lambda x: (x * x).sum(), x, pattern=np.eye(2))


def test_write_into_a_closed_over_tensor_is_covered():
    # setitem into a tensor the function does not own is recorded as an in-place write
    # (write_basic): the written tensor's later reads depend on what was written
    buf = tg.zeros(5, dtype=tg.float64)

    def fn(x):
        buf[1:3] = x[:2] * 2
        return buf * x + tg.flip(x, 0)

    x = tg.tensor(RNG.random(5) + 0.1)
    assert "write_basic" in _sparse.prims_seen(fn, x)
    p = tg.jacobian_pattern(fn, x).toarray()
    d = _dense(fn, x)
    assert not ((d != 0) & ~p).any()
    np.testing.assert_allclose(tg.sparse_jacobian(fn, x).toarray(), d)


def test_import_without_scipy():
    import subprocess

    code = (
        "import sys; sys.modules['scipy'] = None; sys.modules['scipy.sparse'] = None\n"
        "import tapegrad as tg\n"
        "try:\n    tg.sparse_jacobian(lambda x: x, tg.ones(2))\n"
        "except ImportError as e:\n    print(e)\n"
    )
    env = dict(__import__("os").environ)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert "pip install tapegrad[scipy]" in out.stdout


def test_without_scipy_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy", None)
    monkeypatch.setitem(sys.modules, "scipy.sparse", None)
    with pytest.raises(ImportError, match=r"pip install tapegrad\[scipy\]"):
        tg.sparse_jacobian(lambda x: x, tg.ones(3))


# ---- the rule table ----------------------------------------------------------------------------


def _prim_names():
    """Every prim's name, from the registry of all prims (_core._prims())."""
    return sorted(p["name"] for p in tg._core._prims())


def test_every_prim_has_a_rule_or_is_reported_conservative():
    names = _prim_names()
    assert len(names) > 80 and "matmul" in names and "sin" in names and "index_gather" in names
    assert "equal" in names and "isnan" in names and "gelu" in names
    conservative = [
        n for n in names if _sparse.rule_for(n)[1] and n.lower() not in _sparse._ZERO_DERIVATIVE
    ]
    print("prims on the conservative (all-to-all) rule:", conservative)
    # the ones that are conservative on purpose: dense linear algebra, user rules, integer-only prims
    # (no float output reaches a rule), and the Bool compare prims
    expected = {
        "solve",
        "inv",
        "det",
        "slogdet",
        "cholesky",
        "svd",
        "svdvals",
        "eigh",
        "eigvalsh",
        "eig",
        "eigvals",
        "qr",
        "custom_jvp",
        "custom_vjp",
        "argmax",
        "argmin",
        "any",
        "all",
        "argsort",
        "index_last_writer",
        "index_pack",
        "bitwise_and",
        "bitwise_or",
        "bitwise_xor",
        "equal",
        "not_equal",
        "less",
        "less_equal",
        "greater",
        "greater_equal",
        "logical_and",
        "logical_or",
        "isnan",
        "isfinite",
        "signbit",
        "logical_not",
    }
    unexpected = sorted(set(conservative) - expected)
    assert not unexpected, f"prims without a sparsity rule: {unexpected}"


# ---- property tests: random compositions -------------------------------------------------------


def _apply(op, v, x, arg):
    n = v.shape[0]
    if op == "sin":
        return tg.sin(v)
    if op == "exp":
        return tg.exp(v * 0.1)
    if op == "square":
        return v * v
    if op == "shift_mul":
        return tg.concatenate([v[:1], v[1:] * v[:-1]])
    if op == "gather":
        return v[tg.tensor(np.asarray(arg, np.int64) % n)] if len(arg) else v
    if op == "cumsum":
        return tg.cumsum(v, axis=0)
    if op == "flip":
        return tg.flip(v, 0)
    if op == "sum_mul":
        return v * v[: max(1, n // 2)].sum()
    if op == "where":
        return tg.where(v > 0.5, v, -v * v)
    if op == "add_x":
        return v + x[:n] ** 2 if x.shape[0] >= n else v
    if op == "transpose":
        return v.reshape(2, -1).T.reshape(-1) if n % 2 == 0 else v
    if op == "setitem":
        y = v * 1
        k = min(n, x.shape[0], 2)
        y[:k] = x[:k] * 3
        return y
    if op == "softmax":
        return tg.softmax(v, axis=0) if n > 1 else v
    if op == "sort":
        return tg.sort(v)
    raise AssertionError(op)


OPS = [
    "sin",
    "exp",
    "square",
    "shift_mul",
    "gather",
    "cumsum",
    "flip",
    "sum_mul",
    "where",
    "add_x",
    "transpose",
    "setitem",
    "softmax",
    "sort",
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 9),
    steps=st.lists(
        st.tuples(st.sampled_from(OPS), st.lists(st.integers(0, 20), max_size=6)),
        min_size=1,
        max_size=5,
    ),
    seed=st.integers(0, 2**31),
)
def test_random_compositions(n, steps, seed):
    def fn(x):
        v = x
        for op, arg in steps:
            v = _apply(op, v, x, arg)
        return v

    rng = np.random.default_rng(seed)
    x0 = tg.tensor(rng.random(n) + 0.1)
    p = tg.jacobian_pattern(fn, x0).toarray()
    for _ in range(3):
        x = tg.tensor(rng.random(n) + 0.1)
        d = _dense(fn, x)
        assert not ((d != 0) & ~p).any(), f"missed entries for {steps}"
    for mode in ("fwd", "rev"):
        np.testing.assert_allclose(
            tg.sparse_jacobian(fn, x0, mode=mode).toarray(), _dense(fn, x0), rtol=1e-9, atol=1e-12
        )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 9),
    steps=st.lists(
        st.tuples(st.sampled_from(OPS), st.lists(st.integers(0, 20), max_size=6)),
        min_size=1,
        max_size=4,
    ),
    seed=st.integers(0, 2**31),
)
def test_random_compositions_hessian(n, steps, seed):
    def fn(x):
        v = x
        for op, arg in steps:
            v = _apply(op, v, x, arg)
        return (v * v).sum()

    rng = np.random.default_rng(seed)
    x0 = tg.tensor(rng.random(n) + 0.1)
    p = tg.hessian_pattern(fn, x0).toarray()
    for _ in range(2):
        x = tg.tensor(rng.random(n) + 0.1)
        d = tg.hessian(fn)(x).asnumpy()
        assert not ((d != 0) & ~p).any(), f"missed Hessian entries for {steps}"
    np.testing.assert_allclose(
        tg.sparse_hessian(fn, x0).toarray(), tg.hessian(fn)(x0).asnumpy(), rtol=1e-8, atol=1e-10
    )


# ---- the benchmark suite's code runs (no timing targets) --------------------------------------------


def test_bench_sparse_suite_measures_small_cases():
    from tapegrad._bench import sparse as bench

    results = []
    for kind in ("tridiagonal", "arrow hessian"):
        for method in ("tapegrad", "scipy fd"):
            r = bench.measure(method, kind, 200)
            assert r["first"] > 0 and r["later"] > 0 and r["colors"] >= 2, r
            results.append(r)
        r = bench.measure("tapegrad dense", kind, 200)
        assert r["first"] > 0 and r["later"] > 0
        results.append(r)
    # tapegrad's results equal the exact structure's count of non-zeros
    assert results[0]["nnz"] == bench.structure("tridiagonal", 200).nnz
    assert results[3]["nnz"] == bench.structure("arrow hessian", 200).nnz
    text = bench.table(results, list(bench.METHODS), markdown=True)
    assert "| tridiagonal n=200 | tapegrad |" in text and "scipy fd" in text
    assert bench.measure("tapegrad dense", "tridiagonal", 10**5).get("skipped")
