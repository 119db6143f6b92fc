"""Shape ops: values, dtypes and shapes against numpy, view semantics, errors, and VJP/JVP rules."""

import os
from functools import partial

import numpy as np
import pytest

import helpers
import tapegrad as tg
from helpers import f64
from tapegrad.testing import check_grads

RNG = np.random.default_rng(99)
DTYPES = ["float32", "float64", "int32", "int64", "bool"]


make = partial(helpers.make, rng=RNG)
assert_same = partial(helpers.assert_same, exact=True)


def views(x):
    """(name, numpy view, tapegrad view): contiguous, transposed, strided, reversed."""
    t = tg.tensor(x)
    out = [("contiguous", x, t), ("transposed", x.T, t.T)]
    if x.ndim >= 1 and x.shape[0] > 1:
        out += [("strided", x[::2], t[::2]), ("reversed", x[::-1], t[::-1])]
    return out


# ---- the existing layout ops --------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_reshape_transpose_swapaxes(dtype):
    x = make((2, 3, 4), dtype)
    for _name, xv, tv in views(x):
        assert_same(tg.reshape(tv, (4, -1)), xv.reshape(4, -1))
        assert_same(tv.reshape(2, -1), xv.reshape(2, -1))
        assert_same(tv.reshape((xv.size,)), xv.reshape(xv.size))
        assert_same(tv.reshape(xv.shape[::-1]), xv.reshape(xv.shape[::-1]))
        assert_same(tg.transpose(tv), np.transpose(xv))
        assert_same(tg.transpose(tv, (1, 0, 2)), np.transpose(xv, (1, 0, 2)))
        assert_same(tv.transpose(2, 0, 1), xv.transpose(2, 0, 1))
        assert_same(tg.swapaxes(tv, 0, -1), np.swapaxes(xv, 0, -1))
        assert_same(tv.swapaxes(1, 2), xv.swapaxes(1, 2))
    z = make((), dtype)
    assert_same(tg.reshape(tg.tensor(z), (1, 1)), z.reshape(1, 1))
    e = make((0, 3), dtype)
    assert_same(tg.reshape(tg.tensor(e).T, (3, 0)), e.T.reshape(3, 0))


def test_layout_errors():
    t = tg.tensor(make((2, 3)))
    with pytest.raises(ValueError, match="reshape"):
        tg.reshape(t, (4, 2))
    with pytest.raises(ValueError, match="reshape"):
        tg.reshape(t, (-1, -1))
    with pytest.raises(ValueError, match="transpose"):
        tg.transpose(t, (0,))
    with pytest.raises(ValueError, match="transpose"):
        tg.transpose(t, (0, 0))
    with pytest.raises(IndexError, match="transpose"):
        tg.transpose(t, (0, 2))
    with pytest.raises(IndexError, match="swapaxes"):
        tg.swapaxes(t, 0, 2)
    with pytest.raises(ValueError, match="squeeze"):
        tg.squeeze(t, 0)
    with pytest.raises(IndexError, match="squeeze"):
        tg.squeeze(t, 3)
    with pytest.raises(IndexError, match="expand_dims"):
        tg.expand_dims(t, 4)
    with pytest.raises(ValueError, match="broadcast_to"):
        tg.broadcast_to(t, (3, 3))
    with pytest.raises(ValueError, match="broadcast_to"):
        tg.broadcast_to(t, (3,))
    with pytest.raises(ValueError, match="broadcast_to"):
        tg.broadcast_to(tg.tensor([1.0]), (-1,))


@pytest.mark.parametrize("dtype", DTYPES)
def test_squeeze_expand_dims_broadcast(dtype):
    x = make((1, 3, 1, 2), dtype)
    for _name, xv, tv in views(x):
        assert_same(tg.squeeze(tv), np.squeeze(xv))
        ones = tuple(i for i, s in enumerate(xv.shape) if s == 1)
        assert_same(tg.squeeze(tv, ones[-1]), np.squeeze(xv, ones[-1]))
        assert_same(tv.squeeze(ones), xv.squeeze(ones))
        assert_same(tg.expand_dims(tv, 0), np.expand_dims(xv, 0))
        assert_same(tg.expand_dims(tv, -1), np.expand_dims(xv, -1))
        assert_same(tg.expand_dims(tv, (0, 3)), np.expand_dims(xv, (0, 3)))
        assert_same(tv.expand_dims((-1, 1)), np.expand_dims(xv, (-1, 1)))
    y = make((3, 1), dtype)
    assert_same(tg.broadcast_to(tg.tensor(y), (2, 3, 4)), np.broadcast_to(y, (2, 3, 4)))
    assert_same(tg.tensor(y).broadcast_to((3, 0)), np.broadcast_to(y, (3, 0)))
    z = make((), dtype)
    assert_same(tg.broadcast_to(tg.tensor(z), (2, 2)), np.broadcast_to(z, (2, 2)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_flatten_ravel_copy(dtype):
    x = make((3, 4), dtype)
    for _name, xv, tv in views(x):
        assert_same(tg.flatten(tv), xv.flatten())
        assert_same(tv.flatten(), xv.flatten())
        assert_same(tg.ravel(tv), np.ravel(xv))
        assert_same(tv.ravel(), xv.ravel())
        assert_same(tg.copy(tv), np.copy(xv))
    z = make((), dtype)
    assert_same(tg.ravel(tg.tensor(z)), np.ravel(z))


def test_flatten_copies_ravel_views():
    x = np.arange(6.0).reshape(2, 3)
    t = tg.tensor(x)
    f = tg.flatten(t)
    r = tg.ravel(t)
    t[0, 0] = 100.0
    assert float(f[0]) == 0.0  # flatten is a copy, as numpy's
    assert float(r[0]) == 100.0  # ravel of contiguous data is a view, as numpy's


# ---- concatenate / stack / split --------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_concatenate(dtype):
    a, b, c = make((2, 3), dtype), make((4, 3), dtype), make((1, 3), dtype)
    ta, tb, tc = tg.tensor(a), tg.tensor(b), tg.tensor(c)
    assert_same(tg.concatenate([ta, tb, tc]), np.concatenate([a, b, c]))
    assert_same(tg.concat((ta, tb), axis=0), np.concatenate((a, b), axis=0))
    assert_same(tg.concatenate([ta.T, tb.T], axis=1), np.concatenate([a.T, b.T], axis=1))
    assert_same(
        tg.concatenate([ta.T, tb[::2].T], axis=-1), np.concatenate([a.T, b[::2].T], axis=-1)
    )
    assert_same(tg.concatenate([ta, tb], axis=None), np.concatenate([a, b], axis=None))
    assert_same(tg.concatenate([ta]), np.concatenate([a]))
    e = make((0, 3), dtype)
    assert_same(tg.concatenate([ta, tg.tensor(e), tc]), np.concatenate([a, e, c]))


def test_concatenate_promotes_dtypes_and_many_inputs():
    a = np.arange(3, dtype=np.int32)
    b = np.linspace(0, 1, 2, dtype=np.float32)
    c = np.array([True, False])
    assert_same(
        tg.concatenate([tg.tensor(a), tg.tensor(b), tg.tensor(c)]), np.concatenate([a, b, c])
    )
    assert_same(tg.concatenate([tg.tensor(a), tg.tensor(c)]), np.concatenate([a, c]))
    xs = [make((2, i % 3 + 1)) for i in range(70)]
    assert_same(tg.concatenate([tg.tensor(x) for x in xs], axis=1), np.concatenate(xs, axis=1))


def test_concatenate_stack_errors():
    a, b = tg.tensor(make((2, 3))), tg.tensor(make((2, 4)))
    with pytest.raises(ValueError, match=r"concatenate.*\(2, 3\).*\(2, 4\)"):
        tg.concatenate([a, b], axis=0)
    with pytest.raises(ValueError, match="concatenate"):
        tg.concatenate([a, tg.tensor(make((3,)))])
    with pytest.raises(ValueError, match="zero-dimensional"):
        tg.concatenate([tg.tensor(1.0), tg.tensor(2.0)])
    with pytest.raises(ValueError, match="concatenate"):
        tg.concatenate([])
    with pytest.raises(IndexError, match="concatenate"):
        tg.concatenate([a, a], axis=2)
    with pytest.raises(TypeError, match="concatenate"):
        tg.concatenate(a)
    with pytest.raises(ValueError, match=r"stack.*same shape"):
        tg.stack([a, b])
    with pytest.raises(IndexError, match="stack"):
        tg.stack([a, a], axis=3)
    with pytest.raises(ValueError, match="stack"):
        tg.stack([])


@pytest.mark.parametrize("dtype", DTYPES)
def test_stack(dtype):
    a, b = make((2, 3), dtype), make((2, 3), dtype)
    ta, tb = tg.tensor(a), tg.tensor(b)
    for axis in (0, 1, 2, -1, -3):
        assert_same(tg.stack([ta, tb], axis=axis), np.stack([a, b], axis=axis))
    assert_same(tg.stack([ta.T, tb.T], 1), np.stack([a.T, b.T], 1))
    assert_same(tg.stack([ta]), np.stack([a]))
    z0, z1 = make((), dtype), make((), dtype)
    assert_same(tg.stack([tg.tensor(z0), tg.tensor(z1)]), np.stack([z0, z1]))


@pytest.mark.parametrize("dtype", DTYPES)
def test_split(dtype):
    x = make((6, 4), dtype)
    for _name, xv, tv in views(x):
        for spec, axis in [
            (2, 0),
            (1, 1),
            ([1, 3], 0),
            ([2, 2], -1),
            ([-2], 0),
            ([3, 20, 1], 0),
            ([], 0),
        ]:
            if isinstance(spec, int) and xv.shape[axis] % spec:
                continue
            got = tg.split(tv, spec, axis=axis)
            want = np.split(xv, spec, axis=axis)
            assert isinstance(got, list) and len(got) == len(want)
            for g, w in zip(got, want):
                assert_same(g, w)
    parts = tg.split(tg.tensor(x), tg.tensor([1, 4]))
    assert [p.shape for p in parts] == [(1, 4), (3, 4), (2, 4)]
    assert [p.shape for p in tg.split(tg.tensor(x), tg.tensor(3))] == [(2, 4)] * 3


def test_split_errors():
    t = tg.tensor(make((6, 4)))
    with pytest.raises(ValueError, match="equal division"):
        tg.split(t, 4)
    with pytest.raises(ValueError, match="split"):
        tg.split(t, 0)
    with pytest.raises(IndexError, match="split"):
        tg.split(t, 2, axis=2)
    with pytest.raises(IndexError, match="split"):
        tg.split(tg.tensor(1.0), 1)


# ---- flip / tile / repeat ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_flip(dtype):
    x = make((3, 4, 2), dtype)
    for _name, xv, tv in views(x):
        for axis in (None, 0, 1, -1, (0, 2), ()):
            assert_same(tg.flip(tv, axis=axis), np.flip(xv, axis=axis))
        assert_same(tg.flip(tg.flip(tv, 1), 1), xv)
    assert_same(tg.flip(tg.tensor(make((0, 3), dtype)), 0), np.flip(make((0, 3), dtype), 0))
    z = make((), dtype)
    assert_same(tg.flip(tg.tensor(z)), np.flip(z))
    with pytest.raises(IndexError, match="flip"):
        tg.flip(tg.tensor(x), 3)
    # a view, as numpy's: arithmetic and copies on it see the reversed order
    t = tg.tensor(np.arange(5.0))
    assert_same(tg.flip(t) + 0.0, np.arange(5.0)[::-1])


@pytest.mark.parametrize("dtype", DTYPES)
def test_tile(dtype):
    x = make((2, 3), dtype)
    for _name, xv, tv in views(x):
        for reps in (2, (2, 1), (1, 3), (2, 2, 2), (3,), (0, 2), (1, 1)):
            assert_same(tg.tile(tv, reps), np.tile(xv, reps))
        assert_same(tv.tile((2, 1)), np.tile(xv, (2, 1)))
    z = make((), dtype)
    assert_same(tg.tile(tg.tensor(z), (2, 3)), np.tile(z, (2, 3)))
    with pytest.raises(ValueError, match="tile"):
        tg.tile(tg.tensor(x), (-1, 2))
    t = tg.tensor(x)
    y = tg.tile(t, 1)  # numpy tile always copies
    if dtype != "bool":
        t[0, 0] = 7
        assert np.asarray(y)[0, 0] == x[0, 0]


@pytest.mark.parametrize("dtype", DTYPES)
def test_repeat(dtype):
    x = make((3, 4), dtype)
    for _name, xv, tv in views(x):
        per0 = [(i * 2 + 1) % 3 for i in range(xv.shape[0])]
        per1 = tuple(i % 3 for i in range(xv.shape[1]))
        for reps, axis in [
            (2, None),
            (3, 0),
            (2, 1),
            (0, 1),
            (per0, 0),
            (per1, 1),
            ([2], -1),
            (np.arange(xv.size) % 3, None),
        ]:
            want = np.repeat(xv, reps, axis=axis)
            assert_same(
                tg.repeat(
                    tv, reps if not isinstance(reps, np.ndarray) else tg.tensor(reps), axis=axis
                ),
                want,
            )
        assert_same(tv.repeat(2, axis=0), xv.repeat(2, axis=0))
        assert_same(tv.repeat(2), xv.repeat(2))
    z = make((), dtype)
    assert_same(tg.repeat(tg.tensor(z), 3), np.repeat(z, 3))


def test_repeat_errors():
    t = tg.tensor(make((3, 4)))
    with pytest.raises(ValueError, match="negative"):
        tg.repeat(t, -1)
    with pytest.raises(ValueError, match="negative"):
        tg.repeat(t, [1, -1, 2], axis=0)
    with pytest.raises(ValueError, match="repeat"):
        tg.repeat(t, [1, 2], axis=0)
    with pytest.raises(TypeError, match="repeat"):
        tg.repeat(t, 1.5)
    with pytest.raises(IndexError, match="repeat"):
        tg.repeat(t, 2, axis=2)
    with pytest.raises(IndexError, match="repeat"):
        tg.repeat(tg.tensor(1.0), 2, axis=0)


# ---- sort / argsort ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_sort_argsort(dtype):
    x = make((4, 5, 6), dtype)
    for _name, xv, tv in views(x):
        for axis in (-1, 0, 1, None):
            assert_same(tg.sort(tv, axis=axis), np.sort(xv, axis=axis, kind="stable"))
            assert_same(tg.argsort(tv, axis=axis), np.argsort(xv, axis=axis, kind="stable"))
        assert_same(tv.argsort(), np.argsort(xv, kind="stable"))
        assert_same(tv.argsort(0), np.argsort(xv, 0, kind="stable"))
        assert_same(tg.argsort(tv, kind="quicksort"), np.argsort(xv, kind="stable"))
        if dtype != "bool":
            # descending is stable too: equal elements keep their order
            neg = -xv.astype(np.float64)
            assert_same(
                tg.argsort(tv, axis=1, descending=True), np.argsort(neg, axis=1, kind="stable")
            )
            assert_same(
                tg.sort(tv, axis=1, descending=True),
                np.take_along_axis(xv, np.argsort(neg, axis=1, kind="stable"), axis=1),
            )
    e = make((0, 3), dtype)
    assert_same(tg.sort(tg.tensor(e), axis=0), np.sort(e, axis=0))
    assert_same(tg.argsort(tg.tensor(e)), np.argsort(e))
    z = make((), dtype)
    assert_same(tg.sort(tg.tensor(z), axis=None), np.sort(z, axis=None))
    with pytest.raises(IndexError, match="sort"):
        tg.sort(tg.tensor(z))
    with pytest.raises(IndexError, match="argsort"):
        tg.argsort(tg.tensor(x), axis=3)


def test_sort_nan_and_large():
    x = np.array([3.0, np.nan, -1.0, np.inf, -np.inf, 2.0, np.nan, 0.0], np.float32)
    assert_same(tg.sort(tg.tensor(x)), np.sort(x))
    assert_same(tg.argsort(tg.tensor(x)), np.argsort(x, kind="stable"))
    d = tg.sort(tg.tensor(x), descending=True).numpy()
    assert np.isnan(d[:2]).all()
    np.testing.assert_array_equal(d[2:], np.sort(x)[:6][::-1])
    big = make((50, 3000), "float32")
    assert_same(tg.sort(tg.tensor(big), axis=1), np.sort(big, axis=1))
    assert_same(tg.argsort(tg.tensor(big), axis=0), np.argsort(big, axis=0, kind="stable"))


# ---- gradients --------------------------------------------------------------------------------------

GRAD_CASES = {
    "reshape": (lambda x: tg.reshape(x, (4, 3)) * tg.reshape(x, (4, 3)), [(3, 4)]),
    "transpose": (lambda x: tg.transpose(x, (2, 0, 1)) * 2.0, [(2, 3, 4)]),
    "swapaxes": (lambda x: tg.swapaxes(x, 0, 1) ** 2, [(2, 3)]),
    "squeeze": (lambda x: tg.squeeze(x) ** 2, [(1, 3, 1)]),
    "expand_dims": (lambda x: tg.expand_dims(x, (0, 2)) ** 2, [(3, 2)]),
    "broadcast_to": (lambda x: tg.broadcast_to(x, (2, 3, 4)) ** 2, [(3, 1)]),
    "flatten": (lambda x: tg.flatten(x.T) ** 2, [(3, 2)]),
    "ravel": (lambda x: tg.ravel(x) ** 2, [(3, 2)]),
    "copy": (lambda x: tg.copy(x.T) ** 2, [(3, 2)]),
    "concatenate": (lambda x, y: tg.concatenate([x, y * y, x], axis=1), [(2, 3), (2, 2)]),
    "concatenate_none": (lambda x, y: tg.concatenate([x.T, y], axis=None) ** 2, [(2, 3), (4,)]),
    "concatenate_one_tracked": (
        lambda x: tg.concatenate([x, tg.ones((2, 3), dtype=tg.float64)]) ** 2,
        [(2, 3)],
    ),
    "stack": (lambda x, y: tg.stack([x, y, x * y], axis=1), [(2, 3), (2, 3)]),
    "stack_last": (lambda x: tg.stack([x, x.T.T * 2.0], axis=-1) ** 2, [(3,)]),
    "split": (lambda x: tuple(p**2 for p in tg.split(x, [1, 3], axis=1)), [(2, 5)]),
    "split_count": (lambda x: tuple(tg.split(x * x, 3)), [(6, 2)]),
    "split_overlapping": (lambda x: tuple(p**2 for p in tg.split(x, [3, 1], axis=0)), [(5, 2)]),
    "split_one_used": (lambda x: tg.split(x, 2, axis=1)[1] ** 2, [(2, 4)]),
    "flip": (lambda x: tg.flip(x, 0) * x, [(3, 4)]),
    "flip_all": (lambda x: tg.flip(x) ** 2, [(2, 3, 2)]),
    "tile": (lambda x: tg.tile(x, (2, 1, 3)) ** 2, [(2, 3)]),
    "tile_int": (lambda x: tg.tile(x, 3) ** 2, [(2,)]),
    "repeat": (lambda x: tg.repeat(x, 2, axis=1) ** 2, [(2, 3)]),
    "repeat_none": (lambda x: tg.repeat(x, 3) ** 2, [(2, 2)]),
    "repeat_counts": (lambda x: tg.repeat(x, [1, 0, 3], axis=0) ** 2, [(3, 2)]),
    "repeat_counts_axis1": (lambda x: tg.repeat(x.T, [2, 1], axis=1) ** 2, [(2, 3)]),
    "sort": (lambda x: tg.sort(x) * tg.sort(x, axis=0), [(3, 4)]),
    "sort_desc": (lambda x: tg.sort(x, axis=0, descending=True) ** 2, [(4, 3)]),
    "sort_none": (lambda x: tg.sort(x.T, axis=None) ** 2, [(3, 2)]),
}


@pytest.mark.parametrize("name", list(GRAD_CASES))
def test_grads_order2(name):
    fn, shapes = GRAD_CASES[name]
    check_grads(fn, tuple(f64(s, i) for i, s in enumerate(shapes)), order=2)


@pytest.mark.parametrize(
    "name", ["concatenate", "stack", "split", "flip", "tile", "repeat_counts", "sort"]
)
def test_grads_float32(name):
    fn, shapes = GRAD_CASES[name]
    args = tuple(
        tg.tensor(make(s, "float32", rng=np.random.default_rng(i))) for i, s in enumerate(shapes)
    )
    check_grads(fn, args, order=1)


def test_grad_values():
    x = tg.tensor([3.0, 1.0, 2.0], tg.float64)
    w = tg.tensor([1.0, 10.0, 100.0], tg.float64)
    # sort: the cotangent of position j goes back to the element that landed there
    np.testing.assert_allclose(
        tg.grad(lambda a: (tg.sort(a) * w).sum())(x).numpy(), [100.0, 1.0, 10.0]
    )
    np.testing.assert_allclose(
        tg.grad(lambda a: (tg.tile(a, 2) * tg.arange(6.0).astype(tg.float64)).sum())(x).numpy(),
        [3.0, 5.0, 7.0],
    )
    np.testing.assert_allclose(
        tg.grad(lambda a: tg.repeat(a, [2, 0, 3]).sum())(x).numpy(), [2.0, 0.0, 3.0]
    )
    np.testing.assert_allclose(
        tg.grad(lambda a: (tg.flip(a) * w).sum())(x).numpy(), [100.0, 10.0, 1.0]
    )
    # argsort is not differentiable: its result is a constant of the gradient
    np.testing.assert_allclose(
        tg.grad(lambda a: (a * tg.argsort(a).astype(tg.float64)).sum())(x).numpy(), [1.0, 2.0, 0.0]
    )


@pytest.mark.skipif(
    not os.environ.get("TAPEGRAD_SLOW"), reason="slow property test; set TAPEGRAD_SLOW=1"
)
def test_sort_split_concat_property():
    pytest.importorskip("hypothesis")
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    @settings(max_examples=300, deadline=None)
    @given(
        hnp.arrays(
            np.float64,
            hnp.array_shapes(min_dims=1, max_dims=3, max_side=7),
            elements=st.floats(allow_nan=True, allow_infinity=True, width=64),
        ),
        st.data(),
    )
    def run(x, data):
        axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
        assert_same(tg.sort(tg.tensor(x), axis=axis), np.sort(x, axis=axis))
        assert_same(tg.argsort(tg.tensor(x), axis=axis), np.argsort(x, axis=axis, kind="stable"))
        cuts = data.draw(st.lists(st.integers(-8, 8), max_size=4))
        parts = tg.split(tg.tensor(x), cuts, axis=axis)
        for g, w in zip(parts, np.split(x, cuts, axis=axis)):
            assert_same(g, w)
        assert_same(
            tg.concatenate(parts, axis=axis),
            np.concatenate(np.split(x, cuts, axis=axis), axis=axis),
        )

    run()


def test_float16_shape_ops():
    x = make((3, 4), "float32").astype(np.float16)
    t = tg.tensor(x)
    assert_same(tg.concatenate([t, t], axis=1), np.concatenate([x, x], axis=1))
    assert_same(tg.stack([t, t]), np.stack([x, x]))
    assert_same(tg.flip(t, 1), np.flip(x, 1))
    assert_same(tg.tile(t, (1, 2)), np.tile(x, (1, 2)))
    assert_same(tg.repeat(t, [1, 2, 0], axis=0), np.repeat(x, [1, 2, 0], axis=0))
    assert_same(tg.sort(t, axis=0), np.sort(x, axis=0))
    assert_same(tg.argsort(t), np.argsort(x, kind="stable"))
    for g, w in zip(tg.split(t, 2, axis=1), np.split(x, 2, axis=1)):
        assert_same(g, w)


@pytest.mark.parametrize(
    "name", ["concatenate", "stack", "split", "flip", "tile", "repeat_counts", "sort"]
)
def test_mixed_modes(name):
    """jvp of grad and grad of jvp (forward-over-reverse and reverse-over-forward)."""
    fn, shapes = GRAD_CASES[name]
    args = tuple(f64(s, i + 5) for i, s in enumerate(shapes))

    def scalar(*a):
        out = fn(*a)
        outs = out if isinstance(out, tuple) else (out,)
        return sum(tg.sum(o * o * o) for o in outs)

    check_grads(
        tg.grad(scalar, grad_position=tuple(range(len(args))))
        if len(args) > 1
        else tg.grad(scalar),
        args,
        order=1,
        modes=("fwd",),
    )
    check_grads(
        lambda *a: tg.jvp(scalar, a, tuple(tg.ones_like(v) for v in a))[1],
        args,
        order=1,
        modes=("rev",),
    )
