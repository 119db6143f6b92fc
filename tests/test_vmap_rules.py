"""Batching rules (vmap) of every prim, reached through the public API, against a Python loop that
stacks the per-example results: in_axes 0 / 1 / -1 / None mixtures, out_axes, float32 and float64,
batches of size 1 and 0, nested vmap, grad / jacrev / jacfwd through vmap and vmap of grad. Every
check also asserts that no op fell back to the batch level's per-element loop
(`_core._vmap_fallback_count()` unchanged): each prim ran once on the whole batch."""

import numpy as np
import pytest

import tapegrad as tg
from helpers import as_list, setitem
from tapegrad import _core

# ---- argument specs: per-example shapes; batch dims are added in front, then moved -----------


class F:  # float, standard normal
    def __init__(self, *shape):
        self.shape = shape

    def make(self, rng, lead, dtype):
        return rng.standard_normal(lead + self.shape).astype(dtype)


class I:  # int64 indices in [0, high), or [-high, high) with neg=True
    def __init__(self, high, *shape, neg=False):
        self.high, self.shape, self.neg = high, shape, neg

    def make(self, rng, lead, dtype):
        lo = -self.high if self.neg else 0
        return rng.integers(lo, self.high, lead + self.shape).astype(np.int64)


class N:  # small non-negative int64 values
    def __init__(self, *shape):
        self.shape = shape

    def make(self, rng, lead, dtype):
        return rng.integers(0, 7, lead + self.shape).astype(np.int64)


class SPD:  # symmetric positive definite n x n
    def __init__(self, n):
        self.shape = (n, n)

    def make(self, rng, lead, dtype):
        n = self.shape[0]
        a = rng.standard_normal(lead + (n, n))
        return (a @ np.swapaxes(a, -1, -2) + n * np.eye(n)).astype(dtype)


def put_batched_idx(x, i, v):
    return setitem(x, i, v)


def put_into_zeros(i):
    y = tg.zeros(4)  # unbatched target, batched indices: the write makes y batched
    y[i] = 1.0
    return y


def put_scalar_idx(x, i, v):
    return setitem(x, i, v)


def grad_of_gather(x):  # vmap of a function that takes a gradient: index_add under vmap
    return tg.grad(lambda z: (z[tg.tensor([0, 0, 2])] ** 2).sum())(x)


def grad_of_setitem(x, i, v):  # index_put's VJP (last writer) under vmap, with batched indices
    return tg.grad(lambda z, w: (setitem(z, i, w) ** 2 * 1.5).sum(), (0, 1))(x, v)


MASK = np.array(
    [[True, False, True, True], [False, False, True, False], [True, True, False, False]]
)

# name: (fn, arg specs, positions to differentiate; () for integer/Bool outputs)
CASES = {
    # elementwise
    "add_broadcast": (lambda x, y: x + y, [F(4, 5), F(5)], (0, 1)),
    "sin_mul": (lambda x: tg.sin(x) * x, [F(3, 4)], (0,)),
    "unary_chain": (
        lambda x: tg.exp(tg.tanh(x)) + tg.log1p(x * x) + tg.sigmoid(x) - tg.gelu(x),
        [F(3, 4)],
        (0,),
    ),
    "pow": (lambda x, y: tg.abs(x) ** y, [F(3, 4), F(4)], (0, 1)),
    "div_sub": (lambda x, y: (x - y) / (y * y + 1.0), [F(2, 3), F(3)], (0, 1)),
    "maximum_minimum": (
        lambda x, y: tg.maximum(x, y) + tg.minimum(x, 0.2 * y),
        [F(3, 4), F(3, 4)],
        (0, 1),
    ),
    "arctan2": (lambda x, y: tg.arctan2(x, y), [F(5), F(5)], (0, 1)),
    "where": (lambda x, y: tg.where(x > y, x, y * 2.0), [F(3, 4), F(4)], (0, 1)),
    "compare_logical": (lambda x: tg.logical_and(~tg.isnan(x), x > 0) | (x < -1.0), [F(3, 4)], ()),
    "int_ops": (lambda a, b: (a & b) ^ (a | 1) + a // (b + 1) + a % (b + 1), [N(3, 4), N(4)], ()),
    "clip_scalar": (lambda x: tg.clip(x, -0.5, 0.5), [F(3, 4)], (0,)),
    "clip_tensor": (
        lambda x, lo, hi: tg.clip(x, lo, lo + tg.abs(hi)),
        [F(3, 4), F(4), F(3, 1)],
        (0, 1, 2),
    ),
    "cast_float": (lambda x: (x.astype(tg.float64) * 3.0).astype(tg.float32) + x, [F(3, 4)], (0,)),
    "cast_int": (
        lambda i: i.astype(tg.int32) * 2 + i.astype(tg.bool_).astype(tg.int64),
        [N(5)],
        (),
    ),
    "copy": (lambda x: x.copy() * 2.0, [F(3, 4)], (0,)),
    # reductions
    "sum_axis": (lambda x: x.sum(axis=1), [F(3, 4, 5)], (0,)),
    "sum_all_keepdims": (lambda x: x.sum(keepdims=True), [F(3, 4)], (0,)),
    "mean": (lambda x: x.mean(axis=(0, 2)), [F(3, 4, 5)], (0,)),
    "prod": (lambda x: x.prod(axis=-1), [F(3, 4)], (0,)),
    "max_min": (lambda x: x.max(axis=0) + x.min(axis=(0, 1)), [F(3, 4, 5)], (0,)),
    "argmax": (lambda x: x.argmax(axis=1), [F(3, 4, 5)], ()),
    "argmin_flat": (lambda x: x.argmin(), [F(3, 4)], ()),
    "any_all": (
        lambda x: (x > 0).any(axis=0) & (x > -1.5).all(axis=-1, keepdims=True),
        [F(3, 4)],
        (),
    ),
    "std_var": (lambda x: x.std(axis=-1) + tg.var(x, axis=0, ddof=1).sum(), [F(3, 4)], (0,)),
    "cumsum": (lambda x: tg.cumsum(x, axis=1), [F(3, 4)], (0,)),
    "cumprod": (lambda x: tg.cumprod(x, axis=-1), [F(3, 5)], (0,)),
    "cumprod_int": (lambda i: tg.cumprod(i, axis=0) + tg.cumsum(i, axis=None), [N(4)], ()),
    "softmax": (lambda x: tg.softmax(x, axis=-1), [F(3, 4)], (0,)),
    "log_softmax": (lambda x: tg.log_softmax(x, axis=0), [F(3, 4)], (0,)),
    "logsumexp": (lambda x: tg.logsumexp(x, axis=1), [F(3, 4)], (0,)),
    # shape
    "reshape": (lambda x: x.reshape((5, 4)), [F(4, 5)], (0,)),
    "broadcast_to": (lambda x: tg.broadcast_to(x, (3, 4, 5)), [F(4, 1)], (0,)),
    "transpose": (lambda x: x.T + 0.0, [F(3, 4, 2)], (0,)),
    "swapaxes_expand": (lambda x: tg.expand_dims(x.swapaxes(0, 1), 0).squeeze(0), [F(3, 4)], (0,)),
    "concatenate": (lambda x, y: tg.concatenate([x, y], axis=0), [F(2, 3), F(4, 3)], (0, 1)),
    "concatenate_last": (
        lambda x, y: tg.concatenate([x, y * 2.0, x], axis=-1),
        [F(2, 3), F(2, 1)],
        (0, 1),
    ),
    "stack": (lambda x, y: tg.stack([x, y * 2.0], axis=1), [F(3, 4), F(3, 4)], (0, 1)),
    "split_sections": (lambda x: tuple(tg.split(x, 3, axis=1)), [F(2, 6)], (0,)),
    "split_indices": (lambda x: tuple(tg.split(x, [1, 4], axis=-1)), [F(2, 6)], (0,)),
    "flip": (lambda x: tg.flip(x, axis=1) + tg.flip(x), [F(3, 4)], (0,)),
    "tile": (lambda x: tg.tile(x, (2, 1, 3)), [F(3, 2)], (0,)),
    "repeat_scalar": (lambda x: tg.repeat(x, 2, axis=0), [F(3, 2)], (0,)),
    "repeat_counts": (lambda x: tg.repeat(x, tg.tensor([1, 0, 3]), axis=0), [F(3, 2)], (0,)),
    "repeat_counts_flat": (lambda x: tg.repeat(x, tg.tensor([2, 1, 0, 1, 3, 1])), [F(3, 2)], (0,)),
    # indexing: basic
    "slice": (lambda x: x[1:, ::2], [F(3, 5)], (0,)),
    "slice_negative_step": (lambda x: x[::-1, 1:3], [F(3, 5)], (0,)),
    "int_newaxis_ellipsis": (lambda x: x[None, :, 0] + x[..., -1], [F(3, 4)], (0,)),
    "setitem_slice": (lambda x, v: setitem(x, slice(1, 3), v), [F(4, 3), F(2, 3)], (0, 1)),
    "setitem_int_broadcast": (lambda x, v: setitem(x, (Ellipsis, 1), v), [F(4, 3), F(1)], (0, 1)),
    # indexing: advanced, constant indices
    "gather": (lambda x: x[tg.tensor([2, 0, 2])], [F(3, 4)], (0,)),
    "gather_two_arrays": (lambda x: x[tg.tensor([0, 2]), tg.tensor([1, -1])], [F(3, 4)], (0,)),
    "gather_after_slice": (lambda x: x[:, tg.tensor([[1], [0]])], [F(3, 4)], (0,)),
    "gather_mask": (lambda x: x[tg.tensor(MASK)], [F(3, 4)], (0,)),
    "setitem_const_idx": (
        lambda x, v: setitem(x, tg.tensor([0, 2, 0]), v),
        [F(4, 3), F(3, 3)],
        (0, 1),
    ),
    "take_const": (lambda x: tg.take(x, tg.tensor([[3, 0], [1, 1]]), axis=1), [F(2, 4)], (0,)),
    "grad_of_gather": (grad_of_gather, [F(3, 2)], (0,)),
    # indexing: indices batched along with the data (vmap over the index, as JAX)
    "batched_index": (lambda x, i: x[i], [F(5, 3), I(5, 4)], (0,)),
    "batched_index_scalar": (lambda x, i: x[i], [F(5, 3), I(5)], (0,)),
    "batched_index_pair": (lambda x, i, j: x[i, j], [F(4, 5), I(4, 3), I(5, 3, neg=True)], (0,)),
    "batched_index_after_slice": (lambda x, i: x[1:, i], [F(4, 5), I(5, 2, 2)], (0,)),
    "batched_take": (lambda x, i: tg.take(x, i, axis=1), [F(3, 5), I(5, 4)], (0,)),
    "batched_take_flat": (lambda x, i: tg.take(x, i), [F(3, 5), I(15, 4)], (0,)),
    "batched_take_along_axis": (
        lambda x, i: tg.take_along_axis(x, i, axis=1),
        [F(3, 5), I(5, 3, 4)],
        (0,),
    ),
    "batched_one_hot": (lambda i: tg.one_hot(i, 5), [I(5, 3)], ()),
    "batched_setitem": (put_batched_idx, [F(5, 3), I(5, 4), F(4, 3)], (0, 2)),
    "batched_setitem_scalar": (put_scalar_idx, [F(5, 3), I(5), F(3)], (0, 2)),
    "batched_setitem_into_zeros": (put_into_zeros, [I(4, 2)], ()),
    "grad_of_batched_setitem": (grad_of_setitem, [F(5, 3), I(5, 4), F(4, 3)], ()),
    # sorting
    "sort": (lambda x: tg.sort(x, axis=-1), [F(3, 5)], (0,)),
    "sort_descending_axis0": (lambda x: tg.sort(x, axis=0, descending=True), [F(3, 5)], (0,)),
    "argsort": (lambda x: tg.argsort(x, axis=0), [F(4, 3)], ()),
    # linear algebra
    "matmul": (lambda a, b: a @ b, [F(3, 4), F(4, 2)], (0, 1)),
    "matmul_matrix_vector": (lambda a, v: a @ v, [F(3, 4), F(4)], (0, 1)),
    "matmul_vector_matrix": (lambda v, b: v @ b, [F(4), F(4, 2)], (0, 1)),
    "matmul_vector_vector": (lambda v, w: tg.matmul(v, w), [F(4), F(4)], (0, 1)),
    "matmul_stacked": (lambda a, b: a @ b, [F(2, 3, 4), F(4, 5)], (0, 1)),
    "dot_outer": (
        lambda a, b: tg.dot(a, b) + tg.outer(a[:, 0], b[0]).sum(),
        [F(3, 4), F(4, 2)],
        (0, 1),
    ),
    "einsum": (lambda a, b: tg.einsum("ij,kj->ik", a, b), [F(3, 4), F(2, 4)], (0, 1)),
    "einsum_diagonal": (lambda a: tg.einsum("ii->i", a), [F(4, 4)], (0,)),
    "trace": (lambda a: tg.trace(a) + tg.trace(a, offset=1), [F(4, 4)], (0,)),
    "trace_axes": (lambda a: tg.trace(a, 0, 0, 2), [F(3, 2, 3)], (0,)),
    "norm_2": (lambda x: tg.norm(x) + tg.norm(x, ord=2, axis=1).sum(), [F(3, 4)], (0,)),
    "norm_inf": (lambda x: tg.norm(x, ord=np.inf), [F(5)], (0,)),
    "norm_inf_axis": (
        lambda x: tg.norm(x, ord=np.inf, axis=0) + tg.norm(x, ord=-np.inf, axis=1).sum(),
        [F(3, 4)],
        (0,),
    ),
    "norm_matrix_1": (lambda x: tg.norm(x, ord=1) + tg.norm(x, "fro"), [F(3, 4)], (0,)),
    "solve": (lambda a, b: tg.linalg.solve(a, b), [SPD(3), F(3, 2)], (0, 1)),
    "solve_vector": (lambda a, b: tg.linalg.solve(a, b), [SPD(3), F(3)], (0, 1)),
    "inv": (lambda a: tg.linalg.inv(a), [SPD(3)], (0,)),
    "det": (lambda a: tg.linalg.det(a), [SPD(3)], (0,)),
    "slogdet": (lambda a: tuple(tg.linalg.slogdet(a)), [SPD(3)], (0,)),
    "cholesky": (lambda a: tg.linalg.cholesky(a), [SPD(3)], (0,)),
}

NAMES = sorted(CASES)
DIFF = sorted(n for n in NAMES if CASES[n][2])


# ---- helpers -----------------------------------------------------------------------------------


def tol(dtype):
    return {"rtol": 2e-5, "atol": 2e-5} if dtype == np.float32 else {"rtol": 1e-9, "atol": 1e-11}


def build(specs, rng, dtype, lead, axes):
    """Arrays of each spec with batch dims `lead` in front; the (last) batch dim moved to axes[i]
    (None: unbatched, a single example)."""
    arrs = []
    for s, ax in zip(specs, axes):
        if ax is None:
            arrs.append(s.make(rng, lead[:-1], dtype))
        else:
            a = s.make(rng, lead, dtype)
            arrs.append(np.moveaxis(a, len(lead) - 1, ax) if len(lead) == 1 else a)
    return arrs


def loop(f, arrs, axes, size, out_axes, examples=None):
    """The reference: f on each example, results stacked along out_axes. For an empty batch the
    result shapes come from f on `examples` (one valid example per argument)."""
    outs = []
    for b in range(size):
        args = [
            tg.tensor(a) if ax is None else tg.tensor(np.take(a, b, axis=ax))
            for a, ax in zip(arrs, axes)
        ]
        outs.append([np.asarray(o) for o in as_list(f(*args))])
    if size == 0:
        ex = [tg.tensor(a if ax is None else e) for a, ax, e in zip(arrs, axes, examples)]
        return [np.zeros((0,) + np.asarray(o).shape, np.asarray(o).dtype) for o in as_list(f(*ex))]
    return [np.stack([o[j] for o in outs], axis=out_axes) for j in range(len(outs[0]))]


def check(got, want, dtype):
    got = as_list(got)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        g = np.asarray(g)
        assert g.shape == w.shape, (g.shape, w.shape)
        assert g.dtype == w.dtype, (g.dtype, w.dtype)
        if w.dtype.kind in "biu":
            np.testing.assert_array_equal(g, w)
        else:
            np.testing.assert_allclose(g, w, **tol(dtype))


class no_fallback:
    """Asserts that no prim ran through the batch level's per-element loop."""

    def __enter__(self):
        self.before = _core._vmap_fallback_count()

    def __exit__(self, *exc):
        if exc[0] is None:
            assert _core._vmap_fallback_count() == self.before, (
                "an op fell back to the per-element loop"
            )


def run_case(name, dtype=np.float64, axes=None, out_axes=0, size=3, seed=0):
    f, specs, _ = CASES[name]
    axes = [0] * len(specs) if axes is None else axes
    rng = np.random.default_rng(seed)
    arrs = build(specs, rng, dtype, (size,), axes)
    examples = [s.make(rng, (), dtype) for s in specs]
    with no_fallback():
        got = tg.vmap(f, in_axes=tuple(axes), out_axes=out_axes)(*[tg.tensor(a) for a in arrs])
    check(got, loop(f, arrs, axes, size, out_axes, examples), dtype)


def axis_for(spec, where):
    """A batch axis position for a spec: first, second (when the example has a dim), last."""
    nd = len(spec.shape)
    return {"first": 0, "second": min(1, nd), "last": -1}[where]


# ---- forward: vmap against the loop --------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("where", ["first", "second", "last"])
@pytest.mark.parametrize("name", NAMES)
def test_in_axes(name, where, dtype):
    specs = CASES[name][1]
    run_case(name, dtype, axes=[axis_for(s, where) for s in specs])


@pytest.mark.parametrize("name", [n for n in NAMES if len(CASES[n][1]) > 1])
def test_in_axes_none_mixtures(name):
    specs = CASES[name][1]
    k = len(specs)
    for unmapped in range(k):  # each argument unbatched in turn, the others on varied axes
        axes = [
            None if i == unmapped else axis_for(s, ["first", "last", "second"][i % 3])
            for i, s in enumerate(specs)
        ]
        run_case(name, axes=axes)
    if k > 2:
        run_case(name, axes=[0] + [None] * (k - 1))


@pytest.mark.parametrize("out_axes", [1, -1])
@pytest.mark.parametrize("name", NAMES)
def test_out_axes(name, out_axes):
    f, specs, _ = CASES[name]
    ex = [tg.tensor(s.make(np.random.default_rng(1), (), np.float64)) for s in specs]
    if out_axes == 1 and min(np.ndim(np.asarray(o)) for o in as_list(f(*ex))) == 0:
        out_axes = 0  # a scalar per example: axis 1 does not exist
    run_case(name, out_axes=out_axes, axes=[axis_for(s, "last") for s in specs])


@pytest.mark.parametrize("size", [1, 0])
@pytest.mark.parametrize("name", NAMES)
def test_batch_size_one_and_empty(name, size):
    run_case(name, size=size)
    run_case(name, np.float32, size=size, axes=[axis_for(s, "last") for s in CASES[name][1]])


@pytest.mark.parametrize("name", NAMES)
def test_nested_vmap(name):
    f, specs, _ = CASES[name]
    rng = np.random.default_rng(2)
    arrs = [s.make(rng, (2, 3), np.float64) for s in specs]
    with no_fallback():
        got = tg.vmap(tg.vmap(f))(*[tg.tensor(a) for a in arrs])
        # inner batch axis last, outer first: the rules see batch axes in other places
        got2 = tg.vmap(tg.vmap(f, in_axes=-1), in_axes=0)(
            *[tg.tensor(np.moveaxis(a, 1, -1)) for a in arrs]
        )
    per_outer = [loop(f, [a[o] for a in arrs], [0] * len(arrs), 3, 0) for o in range(2)]
    want = [np.stack([p[j] for p in per_outer]) for j in range(len(per_outer[0]))]
    check(got, want, np.float64)
    check(got2, want, np.float64)


@pytest.mark.parametrize(
    "name",
    [
        "batched_index",
        "batched_index_pair",
        "batched_setitem",
        "matmul",
        "solve",
        "sort",
        "concatenate",
        "split_indices",
        "setitem_slice",
    ],
)
def test_nested_vmap_mixed_unbatched(name):
    """Outer vmap over the first argument only, inner over all: values batched at one level only."""
    f, specs, _ = CASES[name]
    rng = np.random.default_rng(3)
    arrs = [specs[0].make(rng, (2, 3), np.float64)] + [
        s.make(rng, (3,), np.float64) for s in specs[1:]
    ]
    k = len(specs)
    with no_fallback():
        got = tg.vmap(tg.vmap(f), in_axes=(0,) + (None,) * (k - 1))(*[tg.tensor(a) for a in arrs])
    per_outer = [loop(f, [arrs[0][o]] + arrs[1:], [0] * k, 3, 0) for o in range(2)]
    want = [np.stack([p[j] for p in per_outer]) for j in range(len(per_outer[0]))]
    check(got, want, np.float64)


# ---- derivatives through vmap, and vmap of derivatives ------------------------------------------


def weights(f, arrs, rng):
    """Fixed random weights for each float output of vmap(f) (a scalar loss per example)."""
    outs = as_list(f(*[tg.tensor(a[0]) for a in arrs]))
    return [rng.standard_normal((arrs[0].shape[0],) + tuple(o.shape)) for o in outs]


def weighted(outs, ws):
    total = 0.0
    for o, w in zip(as_list(outs), ws):
        total = total + (o * w).sum()
    return total


@pytest.mark.parametrize("name", DIFF)
def test_grad_through_vmap_and_vmap_of_grad(name):
    f, specs, diff = CASES[name]
    rng = np.random.default_rng(4)
    arrs = build(specs, rng, np.float64, (3,), [0] * len(specs))
    ws = weights(f, arrs, rng)
    p = diff[0]
    ts = [tg.tensor(a) for a in arrs]

    def f_at(x, rest):
        args = list(rest)
        args.insert(p, x)
        return f(*args)

    rest = ts[:p] + ts[p + 1 :]
    want = np.stack(
        [
            np.asarray(
                tg.grad(
                    lambda x, b=b: weighted(
                        f_at(x, [tg.tensor(a[b]) for j, a in enumerate(arrs) if j != p]),
                        [tg.tensor(w[b]) for w in ws],
                    )
                )(tg.tensor(arrs[p][b]))
            )
            for b in range(3)
        ]
    )
    with no_fallback():
        g1 = tg.grad(
            lambda x: weighted(
                tg.vmap(lambda x, *r: f_at(x, r))(x, *rest), [tg.tensor(w) for w in ws]
            )
        )(ts[p])
        wt = [tg.tensor(w) for w in ws]
        g2 = tg.vmap(tg.grad(lambda x, r, w: weighted(f_at(x, r), w)))(ts[p], rest, wt)
    np.testing.assert_allclose(np.asarray(g1), want, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(np.asarray(g2), want, rtol=1e-9, atol=1e-11)


def flat(outs):
    return tg.concatenate([o.reshape(-1) for o in as_list(outs)], axis=0)


@pytest.mark.parametrize("name", DIFF)
def test_jacrev_jacfwd_through_vmap(name):
    f, specs, diff = CASES[name]
    rng = np.random.default_rng(5)
    B = 2
    arrs = build(specs, rng, np.float64, (B,), [0] * len(specs))
    ts = [tg.tensor(a) for a in arrs]
    for p in diff:

        def g(x, p=p):
            args = list(ts)
            args[p] = x
            return tg.vmap(lambda *xs: flat(f(*xs)))(*args)  # (B, n)

        # reference: one reverse sweep per output component of each example (no vmap involved)
        xshape = arrs[p].shape
        n = g(ts[p]).shape[1]
        want = np.zeros((B, n) + xshape)
        for b in range(B):
            ex = [tg.tensor(a[b]) for a in arrs]

            def fb(x, ex=ex, p=p):
                args = list(ex)
                args[p] = x
                return flat(f(*args))

            for k in range(n):
                want[(b, k, b)] = np.asarray(tg.grad(lambda x, k=k: fb(x)[k])(ex[p]))
        with no_fallback():
            jr = tg.jacrev(g)(ts[p])
            jf = tg.jacfwd(g)(ts[p])
        np.testing.assert_allclose(np.asarray(jr), want, rtol=1e-9, atol=1e-11)
        np.testing.assert_allclose(np.asarray(jf), want, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize(
    "name",
    [
        "gather",
        "batched_index",
        "batched_setitem",
        "sort",
        "solve",
        "cholesky",
        "cumsum",
        "repeat_counts",
        "trace",
        "norm_inf_axis",
        "clip_tensor",
        "split_indices",
    ],
)
def test_vmap_of_jacobians(name):
    f, specs, diff = CASES[name]
    rng = np.random.default_rng(6)
    arrs = build(specs, rng, np.float64, (3,), [0] * len(specs))
    ts = [tg.tensor(a) for a in arrs]
    p = diff[0]

    def fx(*args):
        return flat(f(*args))

    for jac in (tg.jacrev, tg.jacfwd):
        with no_fallback():
            got = tg.vmap(jac(fx, p))(*ts)
        want = np.stack(
            [np.asarray(jac(fx, p)(*[tg.tensor(a[b]) for a in arrs])) for b in range(3)]
        )
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-9, atol=1e-11)


# ---- batched index arrays, explicitly --------------------------------------------------------


def test_batched_gather_matches_numpy():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((4, 6, 3))
    I = rng.integers(-6, 6, (4, 5))
    with no_fallback():
        got = tg.vmap(lambda x, i: x[i])(tg.tensor(X), tg.tensor(I))
    np.testing.assert_array_equal(np.asarray(got), np.stack([X[b][I[b]] for b in range(4)]))
    with no_fallback():  # one table, a batch of index arrays (int32)
        got = tg.vmap(lambda i: tg.tensor(X[0])[i])(tg.tensor(I.astype(np.int32)))
    np.testing.assert_array_equal(np.asarray(got), X[0][I])


def test_batched_setitem_last_write_wins_and_gradient():
    x = np.arange(12.0).reshape(2, 6)
    i = np.array([[1, 3, 1], [0, 0, 5]])  # repeated rows in each example
    v = np.array([[10.0, 20.0, 30.0], [40.0, 50.0, 60.0]])

    def f(x, i, v):
        y = x.copy()
        y[i] = v
        return y

    want = x.copy()
    for b in range(2):
        for k in range(3):
            want[b, i[b, k]] = v[b, k]
    with no_fallback():
        got = tg.vmap(f)(tg.tensor(x), tg.tensor(i), tg.tensor(v))
        gv = tg.vmap(tg.grad(lambda x, i, v: (f(x, i, v) * tg.arange(6.0)).sum(), 2))(
            tg.tensor(x), tg.tensor(i), tg.tensor(v)
        )
    np.testing.assert_array_equal(np.asarray(got), want)
    # only the winning write of a repeated row receives the gradient
    np.testing.assert_array_equal(np.asarray(gv), [[0.0, 3.0, 1.0], [0.0, 0.0, 5.0]])


def test_batched_index_errors():
    X = tg.tensor(np.zeros((2, 3)))
    with pytest.raises(IndexError, match="out of bounds"):
        tg.vmap(lambda x, i: x[i])(X, tg.tensor([[0, 1], [2, 3]]))
    with pytest.raises(ValueError, match="Bool mask batched by vmap"):
        tg.vmap(lambda x: x[x > 0])(X)
    with pytest.raises(ValueError, match="repeat counts cannot be batched"):
        tg.vmap(lambda x, r: tg.repeat(x, r))(X, tg.tensor([[1, 1, 1], [2, 0, 1]]))
    with pytest.raises(ValueError, match="batched by vmap"):
        tg.vmap(lambda x: float(x.sum()))(X)


def test_fallback_counter_counts_custom_vjp():
    """custom_vjp has no batching rule (its forward is Python): the one op that still loops, and the
    counter sees it, once per call."""

    @tg.custom_vjp
    def twice(x):
        return x * 2.0

    twice.defvjp(lambda x: (x * 2.0, None), lambda res, g: (g * 2.0,))
    before = _core._vmap_fallback_count()
    got = tg.vmap(lambda x: twice(x) + 1.0)(tg.tensor(np.arange(6.0).reshape(3, 2)))
    assert _core._vmap_fallback_count() == before + 1
    np.testing.assert_array_equal(np.asarray(got), np.arange(6.0).reshape(3, 2) * 2 + 1)
    # an empty batch runs the function once on a stand-in element, for the output's shape
    assert tg.vmap(twice)(tg.tensor(np.zeros((0, 2)))).shape == (0, 2)
