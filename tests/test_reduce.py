"""Reductions: values and dtypes against numpy, errors, and VJP/JVP rules against finite differences."""

import os
import warnings
from functools import partial

import numpy as np
import pytest

import helpers
import tapegrad as tg
from helpers import assert_same, f64
from tapegrad.testing import check_grads

RNG = np.random.default_rng(1234)
DTYPES = ["float32", "float64", "int32", "int64", "bool"]
FLOATS = ["float32", "float64"]


make = partial(helpers.make, rng=RNG, ints=(-4, 5))


def np_logsumexp(x, axis=None, keepdims=False):
    x = np.asarray(x)
    if x.dtype.kind in "biu":
        x = x.astype(np.float64)
    ax = tuple(range(x.ndim)) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
    ax = tuple(a % x.ndim for a in ax) if x.ndim else ()
    if x.size and all(x.shape[a] for a in ax):
        m = np.max(x, axis=ax, keepdims=True)
        m = np.where(np.isfinite(m), m, 0).astype(x.dtype)
    else:
        m = np.zeros([1 if i in ax else s for i, s in enumerate(x.shape)], x.dtype)
    with np.errstate(divide="ignore"):
        r = np.log(np.sum(np.exp(x - m), axis=ax, keepdims=True)) + m
    return r if keepdims else np.squeeze(r, axis=ax)


# name -> (tapegrad function, numpy function, dtypes, data kind)
REDUCERS = {
    "sum": (tg.sum, np.sum, DTYPES, "normal"),
    "mean": (tg.mean, np.mean, DTYPES, "normal"),
    "prod": (tg.prod, np.prod, DTYPES, "prod"),
    "max": (tg.max, np.max, DTYPES, "normal"),
    "min": (tg.min, np.min, DTYPES, "normal"),
    "amax": (tg.amax, np.amax, DTYPES, "normal"),
    "amin": (tg.amin, np.amin, DTYPES, "normal"),
    "var": (tg.var, np.var, DTYPES, "normal"),
    "std": (tg.std, np.std, DTYPES, "normal"),
    "logsumexp": (tg.logsumexp, np_logsumexp, ["float32", "float64", "int32", "int64"], "normal"),
    "any": (tg.any, np.any, DTYPES, "normal"),
    "all": (tg.all, np.all, DTYPES, "normal"),
}
AXES = [None, 0, 1, -1, 2, (0, 2), (2, 0), (-1, -3), (0, 1, 2), ()]
CASES = [(n, d) for n, (_, _, dts, _) in REDUCERS.items() for d in dts]


def views(x):
    """Pairs (numpy view, matching tapegrad view) of a 3-d array: contiguous and not."""
    t = tg.tensor(x)
    return [
        ("contiguous", x, t),
        ("transposed", x.transpose(2, 0, 1), tg.transpose(t, (2, 0, 1))),
        ("strided", x[::2], t[::2]),
        ("reversed", x[:, ::-1], t[:, ::-1]),
    ]


@pytest.mark.parametrize("name,dtype", CASES)
def test_reduction_values(name, dtype):
    tgf, npf, _, kind = REDUCERS[name]
    x = make((3, 4, 5), dtype, kind=kind)
    for vname, xv, tv in views(x):
        for axis in AXES:
            for keepdims in (False, True):
                want = npf(xv, axis=axis, keepdims=keepdims)
                got = tgf(tv, axis=axis, keepdims=keepdims)
                try:
                    assert_same(got, want)
                except AssertionError as e:
                    raise AssertionError(
                        f"{name} {dtype} {vname} axis={axis} keepdims={keepdims}: {e}"
                    ) from None


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "max", "min", "var", "std", "any", "all"])
def test_reduction_methods(name):
    _tgf, npf, _, kind = REDUCERS[name]
    x = make((3, 4), "float64", kind=kind)
    t = tg.tensor(x)
    assert_same(getattr(t, name)(), npf(x))
    assert_same(getattr(t, name)(axis=1), npf(x, axis=1))
    if name not in ("var", "std"):  # their second positional argument is ddof (MindSpore's order)
        assert_same(getattr(t, name)(0, True), npf(x, 0, keepdims=True))
    assert_same(getattr(t, name)(axis=(0, 1), keepdims=True), npf(x, axis=(0, 1), keepdims=True))


@pytest.mark.parametrize("name,dtype", CASES)
def test_reduction_0d(name, dtype):
    tgf, npf, _, kind = REDUCERS[name]
    x = make((), dtype, kind=kind)
    t = tg.tensor(x)
    for axis in (None, ()):
        for keepdims in (False, True):
            assert_same(tgf(t, axis=axis, keepdims=keepdims), npf(x, axis=axis, keepdims=keepdims))
    with pytest.raises(IndexError, match=name if name not in ("amax", "amin") else "m"):
        tgf(t, axis=0)


@pytest.mark.parametrize("name", list(REDUCERS))
@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0, 4)])
def test_reduction_empty(name, shape):
    tgf, npf, _, kind = REDUCERS[name]
    x = make(shape, "float32", kind=kind)
    t = tg.tensor(x)
    axes = [None] + list(range(len(shape))) + ([(0, len(shape) - 1)] if len(shape) > 1 else [])
    for axis in axes:
        ax = (
            tuple(range(len(shape)))
            if axis is None
            else (axis if isinstance(axis, tuple) else (axis,))
        )
        empty_group = any(shape[a] == 0 for a in ax)
        if name in ("max", "min", "amax", "amin") and empty_group:
            with pytest.raises(ValueError, match="max" if "max" in name else "min"):
                tgf(t, axis=axis)
            continue
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            want = npf(x, axis=axis)
        assert_same(tgf(t, axis=axis), want)


def test_reduction_nan_and_inf():
    x = np.array(
        [[1.0, np.nan, 3.0], [np.inf, -np.inf, 2.0], [-np.inf, -np.inf, -np.inf]], np.float32
    )
    t = tg.tensor(x)
    for npf, tgf in [
        (np.sum, tg.sum),
        (np.prod, tg.prod),
        (np.max, tg.max),
        (np.min, tg.min),
        (np.mean, tg.mean),
    ]:
        for axis in (None, 0, 1):
            with np.errstate(invalid="ignore"):
                assert_same(tgf(t, axis=axis), npf(x, axis=axis))
    assert_same(tg.argmax(t, axis=1), np.argmax(x, axis=1))
    assert_same(tg.argmin(t, axis=0), np.argmin(x, axis=0))
    assert_same(tg.any(tg.tensor([0.0, np.nan])), np.any([0.0, np.nan]))
    # A NaN deep inside a large array is found by every parallel / SIMD path.
    for dt in FLOATS:
        big = np.arange(300_000, dtype=dt).reshape(600, 500)
        big[417, 123] = np.nan
        tb = tg.tensor(big)
        for axis in (None, 0, 1):
            assert_same(tg.max(tb, axis=axis), np.max(big, axis=axis))
            assert_same(tg.min(tb, axis=axis), np.min(big, axis=axis))
            assert_same(tg.sum(tb, axis=axis), np.sum(big, axis=axis), rtol=1e-5)


def test_max_min_extremes_and_ints():
    i32 = np.array([np.iinfo(np.int32).min, 7, np.iinfo(np.int32).max, -3], np.int32)
    assert_same(tg.max(tg.tensor(i32)), np.max(i32))
    assert_same(tg.min(tg.tensor(i32)), np.min(i32))
    big = RNG.integers(-(10**12), 10**12, size=(513, 77))
    for axis in (None, 0, 1):
        assert_same(tg.max(tg.tensor(big), axis=axis), np.max(big, axis=axis))
        assert_same(tg.sum(tg.tensor(big), axis=axis), np.sum(big, axis=axis))
    ninf = np.array([-np.inf, -np.inf])
    assert_same(tg.max(tg.tensor(ninf)), np.max(ninf))


@pytest.mark.parametrize(
    "shape,axis",
    [
        ((1_000_000,), None),
        ((1000, 1000), 0),
        ((1000, 1000), 1),
        ((64, 20000), 0),
        ((20000, 64), 1),
        ((40, 50, 500), (0, 2)),
        ((200, 5000), 0),
    ],
)
def test_float32_sum_accuracy_large(shape, axis):
    """Float32 sums of many elements stay accurate (double accumulation) through every path."""
    x = (RNG.standard_normal(shape) + 0.5).astype(np.float32)
    want64 = np.sum(x.astype(np.float64), axis=axis)
    got = tg.sum(tg.tensor(x), axis=axis)
    assert np.asarray(got).dtype == np.float32
    np.testing.assert_allclose(np.asarray(got), want64, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(np.asarray(got), np.sum(x, axis=axis), rtol=1e-5, atol=1e-3)
    # mean and max of the same data through the same paths
    np.testing.assert_allclose(
        np.asarray(tg.mean(tg.tensor(x), axis=axis)),
        np.mean(x.astype(np.float64), axis=axis),
        rtol=1e-5,
        atol=1e-6,
    )
    np.testing.assert_array_equal(np.asarray(tg.max(tg.tensor(x), axis=axis)), np.max(x, axis=axis))


def test_sum_of_transposed_and_broadcast_views():
    x = make((300, 400), "float64")
    t = tg.tensor(x)
    assert_same(tg.sum(t.T, axis=0), np.sum(x.T, axis=0))
    assert_same(tg.sum(t.T, axis=1), np.sum(x.T, axis=1))
    b = tg.broadcast_to(tg.tensor(x[:1]), (300, 400))
    assert_same(tg.sum(b, axis=0), np.sum(np.broadcast_to(x[:1], (300, 400)), axis=0))
    assert_same(tg.sum(b), np.sum(np.broadcast_to(x[:1], (300, 400))))
    y = make((6, 7, 8, 9), "float32")
    ty = tg.tensor(y)
    for axis in [(0, 2), (1, 3), (0, 1, 3), (0, 3)]:
        assert_same(tg.sum(ty, axis=axis), np.sum(y, axis=axis))
        assert_same(tg.max(ty, axis=axis), np.max(y, axis=axis))
        assert_same(
            tg.sum(tg.transpose(ty, (3, 1, 0, 2)), axis=axis),
            np.sum(y.transpose(3, 1, 0, 2), axis=axis),
        )


# ---- argmax / argmin -------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_arg_reductions(name, dtype):
    x = make((3, 4, 5), dtype)
    for _vname, xv, tv in views(x):
        for axis in (None, 0, 1, -1):
            for keepdims in (False, True):
                assert_same(
                    getattr(tg, name)(tv, axis=axis, keepdims=keepdims),
                    getattr(np, name)(xv, axis=axis, keepdims=keepdims),
                )
        assert_same(getattr(tv, name)(), getattr(np, name)(xv))
        assert_same(getattr(tv, name)(1), getattr(np, name)(xv, 1))


def test_arg_reductions_ties_0d_empty_errors():
    x = np.array([[1, 5, 5, 0], [2, 2, 2, 2]], np.float32)
    assert_same(tg.argmax(tg.tensor(x), axis=1), np.argmax(x, axis=1))  # first occurrence
    assert_same(tg.argmin(tg.tensor(x), axis=1), np.argmin(x, axis=1))
    assert_same(tg.argmax(tg.tensor(np.array(3.0))), np.argmax(np.array(3.0)))
    assert_same(tg.argmax(tg.tensor(np.zeros((3, 0))), axis=0), np.argmax(np.zeros((3, 0)), axis=0))
    with pytest.raises(ValueError, match="argmax"):
        tg.argmax(tg.tensor(np.zeros((0, 3))))
    with pytest.raises(ValueError, match="argmin"):
        tg.argmin(tg.tensor(np.zeros((0, 3))), axis=0)
    with pytest.raises(IndexError, match="argmax"):
        tg.argmax(tg.tensor(x), axis=2)
    with pytest.raises(TypeError, match="argmax"):
        tg.argmax(tg.tensor(x), axis=(0, 1))


# ---- var / std ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("ddof", [0, 1, 2, 5])
def test_var_std_ddof(name, ddof):
    x = make((3, 4), "float64")
    t = tg.tensor(x)
    for axis in (None, 0, 1, (0, 1)):
        for keepdims in (False, True):
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                want = getattr(np, name)(x, axis=axis, ddof=ddof, keepdims=keepdims)
            assert_same(getattr(tg, name)(t, axis=axis, ddof=ddof, keepdims=keepdims), want)
            assert_same(getattr(t, name)(axis=axis, ddof=ddof, keepdims=keepdims), want)


# ---- softmax / log_softmax -------------------------------------------------------------------------


def np_softmax(x, axis=-1):
    x = np.asarray(x)
    if x.dtype.kind in "biu":
        x = x.astype(np.float64)
    m = np.max(x, axis=axis, keepdims=True)
    e = np.exp(x - m)
    return e / np.sum(e, axis=axis, keepdims=True)


def np_log_softmax(x, axis=-1):
    x = np.asarray(x)
    if x.dtype.kind in "biu":
        x = x.astype(np.float64)
    m = np.max(x, axis=axis, keepdims=True)
    return (x - m) - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64"])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_values(name, dtype):
    ref = np_softmax if name == "softmax" else np_log_softmax
    f = getattr(tg, name)
    x = make((3, 4, 5), dtype)
    for _vname, xv, tv in views(x):
        assert_same(f(tv), ref(xv))
        for axis in (0, 1, 2, -2):
            assert_same(f(tv, axis=axis), ref(xv, axis=axis))
            assert_same(f(tv, axis), ref(xv, axis=axis))
        assert_same(getattr(tv, name)(axis=0), ref(xv, axis=0))
    # wide rows and columns (the vector and column-block paths)
    w = make((7, 3000), dtype)
    for axis in (0, 1):
        assert_same(f(tg.tensor(w), axis=axis), ref(w, axis=axis))


def test_softmax_stability_and_special_values():
    x = np.array(
        [[1000.0, 1001.0, 999.0], [-1000.0, -1001.0, -999.0], [0.0, -np.inf, 1.0]], np.float32
    )
    t = tg.tensor(x)
    for axis in (0, 1):
        assert_same(tg.softmax(t, axis=axis), np_softmax(x, axis=axis))
        assert_same(tg.log_softmax(t, axis=axis), np_log_softmax(x, axis=axis))
    nan_row = tg.softmax(tg.tensor([[1.0, np.nan, 2.0], [1.0, 2.0, 3.0]]))
    assert np.isnan(nan_row.numpy()[0]).all() and np.isfinite(nan_row.numpy()[1]).all()
    assert_same(tg.softmax(tg.tensor(np.array(3.0))), np.array(1.0))
    assert_same(tg.log_softmax(tg.tensor(np.array(3.0))), np.array(0.0))
    assert tg.softmax(tg.tensor(np.zeros((2, 0), np.float32))).shape == (2, 0)
    with pytest.raises(IndexError, match="softmax"):
        tg.softmax(t, axis=2)
    with pytest.raises(IndexError, match="log_softmax"):
        tg.log_softmax(t, axis=-3)


# ---- logsumexp -------------------------------------------------------------------------------------


def test_logsumexp_stability():
    x = np.array([[1000.0, 1000.0], [-np.inf, -np.inf], [np.inf, 1.0], [-1000.0, 5.0]])
    assert_same(tg.logsumexp(tg.tensor(x), axis=1), np_logsumexp(x, axis=1))
    assert_same(
        tg.tensor(x).logsumexp(axis=1, keepdims=True), np_logsumexp(x, axis=1, keepdims=True)
    )
    try:
        from scipy.special import logsumexp as sp_lse
    except ImportError:  # pragma: no cover
        return
    y = make((4, 6), "float64")
    np.testing.assert_allclose(
        tg.logsumexp(tg.tensor(y), axis=0).numpy(), sp_lse(y, axis=0), rtol=1e-12
    )


# ---- cumsum / cumprod ------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_scans(name, dtype):
    x = make((3, 4, 5), dtype, kind="prod" if name == "cumprod" else "normal")
    for _vname, xv, tv in views(x):
        for axis in (None, 0, 1, 2, -1):
            assert_same(getattr(tg, name)(tv, axis=axis), getattr(np, name)(xv, axis=axis))
        assert_same(getattr(tv, name)(), getattr(np, name)(xv))
        assert_same(getattr(tv, name)(1), getattr(np, name)(xv, 1))
    x0 = make((), dtype)
    assert_same(getattr(tg, name)(tg.tensor(x0)), getattr(np, name)(x0))
    xe = make((0, 3), dtype)
    for axis in (None, 0, 1):
        assert_same(getattr(tg, name)(tg.tensor(xe), axis=axis), getattr(np, name)(xe, axis=axis))
    with pytest.raises(IndexError, match=name):
        getattr(tg, name)(tg.tensor(x0), axis=0)
    with pytest.raises(IndexError, match=name):
        getattr(tg, name)(tg.tensor(x), axis=3)


def test_scans_large():
    x = RNG.standard_normal((300, 2000)).astype(np.float32)
    for axis in (0, 1):
        np.testing.assert_allclose(
            tg.cumsum(tg.tensor(x), axis=axis).numpy(),
            np.cumsum(x.astype(np.float64), axis=axis),
            rtol=1e-4,
            atol=1e-3,
        )


# ---- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [n for n in REDUCERS if n not in ("amax", "amin")])
def test_reduction_errors(name):
    tgf = REDUCERS[name][0]
    t = tg.tensor(make((2, 3), "float32"))
    with pytest.raises(IndexError, match=name):
        tgf(t, axis=2)
    with pytest.raises(IndexError, match=name):
        tgf(t, axis=(0, -3))
    with pytest.raises(ValueError, match="duplicate"):
        tgf(t, axis=(0, -2))
    with pytest.raises(TypeError, match=name):
        tgf(t, axis="0")
    with pytest.raises(TypeError, match=name):
        tgf(t, axis=1.5)


# ---- gradients ------------------------------------------------------------------------------------

GRAD_CASES = {
    "sum": (lambda x: tg.sum(x), (3, 4)),
    "sum_axis_keep": (lambda x: tg.sum(x, axis=1, keepdims=True) * x, (3, 4)),
    "sum_tuple": (lambda x: tg.sum(x, axis=(0, 2)), (2, 3, 4)),
    "sum_T": (lambda x: tg.sum(x.T * x.T, axis=0), (3, 4)),
    "mean": (lambda x: tg.mean(x * x, axis=0), (3, 4)),
    "prod_all": (lambda x: tg.prod(x), (2, 3)),
    "prod_axis": (lambda x: tg.prod(x, axis=1), (3, 4)),
    "prod_tuple_keep": (lambda x: tg.prod(x, axis=(0, 2), keepdims=True), (2, 3, 4)),
    "prod_T": (lambda x: tg.prod(x.T, axis=1), (3, 4)),
    "max": (lambda x: tg.max(x, axis=0), (3, 4)),
    "max_all": (lambda x: tg.max(x * x), (3, 4)),
    "min_keep": (lambda x: tg.min(x, axis=-1, keepdims=True) * x, (3, 4)),
    "amax_tuple": (lambda x: tg.amax(x, axis=(0, 2)), (2, 3, 4)),
    "max_ties": (lambda x: tg.max(tg.concatenate([x, x]), axis=0), (3, 4)),
    "min_ties": (lambda x: tg.min(tg.tile(x, (2, 2)), axis=1), (3, 4)),
    "var": (lambda x: tg.var(x), (3, 4)),
    "var_ddof": (lambda x: tg.var(x, axis=1, ddof=1), (3, 4)),
    "std": (lambda x: tg.std(x, axis=0), (3, 4)),
    "std_ddof_keep": (lambda x: tg.std(x, axis=(0, 1), ddof=1, keepdims=True) * x, (3, 4)),
    "logsumexp": (lambda x: tg.logsumexp(x, axis=1), (3, 4)),
    "logsumexp_all": (lambda x: tg.logsumexp(x * 3.0), (3, 4)),
    "softmax": (lambda x: tg.softmax(x), (3, 4)),
    "softmax_axis0": (lambda x: tg.softmax(x, axis=0), (3, 4, 2)),
    "log_softmax": (lambda x: tg.log_softmax(x, axis=1), (3, 4)),
    "softmax_T": (lambda x: tg.softmax(x.T), (3, 4)),
    "cumsum": (lambda x: tg.cumsum(x, axis=0), (3, 4)),
    "cumsum_flat": (lambda x: tg.cumsum(x * x), (3, 4)),
    "cumprod": (lambda x: tg.cumprod(x, axis=1), (3, 5)),
    "cumprod_flat": (lambda x: tg.cumprod(x), (2, 5)),
    "cumprod_axis0": (lambda x: tg.cumprod(x, axis=0), (7, 2)),
}


@pytest.mark.parametrize("name", list(GRAD_CASES))
def test_grads_order2(name):
    fn, shape = GRAD_CASES[name]
    check_grads(fn, (f64(shape, kind="prod" if "prod" in name else "normal"),), order=2)


@pytest.mark.parametrize(
    "name", ["prod_all", "prod_axis", "prod_tuple_keep", "cumprod", "cumprod_flat"]
)
def test_grads_with_zeros(name):
    """prod/cumprod derivatives are exact at zeros (no division by x), to second order."""
    fn, shape = GRAD_CASES[name]
    x = make(shape, "float64", kind="prod", rng=np.random.default_rng(3))
    x.flat[1] = 0.0
    check_grads(fn, (tg.tensor(x),), order=2)
    x.flat[-1] = 0.0  # two zeros
    check_grads(fn, (tg.tensor(x),), order=2)


def test_prod_grad_values_at_zeros():
    g = tg.grad(lambda x: tg.prod(x))(tg.tensor([2.0, 0.0, 3.0], tg.float64))
    np.testing.assert_array_equal(g.numpy(), [0.0, 6.0, 0.0])
    g = tg.grad(lambda x: tg.prod(x))(tg.tensor([0.0, 0.0, 3.0], tg.float64))
    np.testing.assert_array_equal(g.numpy(), [0.0, 0.0, 0.0])
    g = tg.grad(lambda x: tg.prod(x, axis=0).sum())(tg.tensor([[0.0, 2.0], [5.0, 0.0]], tg.float64))
    np.testing.assert_array_equal(g.numpy(), [[5.0, 0.0], [0.0, 2.0]])
    g = tg.grad(lambda x: tg.cumprod(x).sum())(tg.tensor([2.0, 0.0, 3.0, 4.0], tg.float64))
    np.testing.assert_array_equal(g.numpy(), [1.0, 2 + 6 + 24, 0.0, 0.0])


def test_max_min_ties_split_equally():
    x = tg.tensor([1.0, 3.0, 3.0, 2.0], tg.float64)
    np.testing.assert_allclose(tg.grad(tg.max)(x).numpy(), [0, 0.5, 0.5, 0])
    np.testing.assert_allclose(
        tg.grad(tg.min)(tg.tensor([1.0, 1.0, 1.0, 2.0])).numpy(),
        [1 / 3, 1 / 3, 1 / 3, 0],
        rtol=1e-6,
    )
    _, t = tg.jvp(tg.max, (x,), (tg.tensor([1.0, 2.0, 4.0, 8.0], tg.float64),))
    assert float(t) == pytest.approx(3.0)
    m = tg.tensor([[1.0, 1.0], [0.0, 2.0]], tg.float64)
    np.testing.assert_allclose(
        tg.grad(lambda a: tg.max(a, axis=1).sum())(m).numpy(), [[0.5, 0.5], [0, 1]]
    )


def test_std_at_constant_input_has_zero_gradient():
    """std is not differentiable where the input is constant (std(c + h v) = |h| std(v)); we return
    the subgradient 0 rather than NaN (0/0), for reverse and forward mode."""
    x = tg.tensor([2.0, 2.0, 2.0], tg.float64)
    g = tg.grad(tg.std)(x)
    np.testing.assert_array_equal(g.numpy(), [0.0, 0.0, 0.0])
    _, t = tg.jvp(tg.std, (x,), (tg.tensor([1.0, -1.0, 0.5], tg.float64),))
    assert float(t) == 0.0
    g2 = tg.grad(lambda a: tg.std(a, axis=1).sum())(tg.tensor([[1.0, 1.0], [1.0, 3.0]], tg.float64))
    np.testing.assert_allclose(g2.numpy(), [[0, 0], [-0.5, 0.5]])
    # var is smooth there: 2 (x - mean) / n = 0
    np.testing.assert_array_equal(tg.grad(tg.var)(x).numpy(), [0.0, 0.0, 0.0])


@pytest.mark.parametrize(
    "name",
    ["sum", "prod_axis", "max", "logsumexp", "softmax", "log_softmax", "cumsum", "std", "cumprod"],
)
def test_grads_float32(name):
    fn, shape = GRAD_CASES[name]
    x = tg.tensor(
        make(
            shape,
            "float32",
            kind="prod" if "prod" in name else "normal",
            rng=np.random.default_rng(7),
        )
    )
    check_grads(fn, (x,), order=1)


def test_nondifferentiable_reductions():
    x = tg.tensor([[1.0, 5.0, 2.0], [3.0, 0.0, 4.0]], tg.float64)

    def f(a):
        i = tg.argmax(a, axis=1)
        b = tg.any(a > 4.0, axis=1)
        c = tg.all(a > -1.0)
        return (
            tg.sum(a, axis=1) * i.astype(tg.float64) * b.astype(tg.float64) * c.astype(tg.float64)
        ).sum()

    g = tg.grad(f)(x)
    np.testing.assert_allclose(g.numpy(), [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    assert tg.argmax(x).dtype == tg.int64 and tg.any(x).dtype == tg.bool_


def test_integer_results_carry_no_gradient():
    # sum/cumsum/prod of a float input cast to int: the int results are constants of the grad.
    def f(a):
        i = (
            tg.sum(a.astype(tg.int64))
            + tg.cumsum(a.astype(tg.int32))[-1]
            + tg.prod(a.astype(tg.int64))
        )
        return tg.sum(a) * i.astype(tg.float64)

    g = tg.grad(f)(tg.tensor([1.0, 2.0, 3.0], tg.float64))
    np.testing.assert_allclose(g.numpy(), [18.0, 18.0, 18.0])


@pytest.mark.skipif(
    not os.environ.get("TAPEGRAD_SLOW"), reason="slow property test; set TAPEGRAD_SLOW=1"
)
def test_reductions_property():
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    @settings(max_examples=300, deadline=None)
    @given(
        hnp.arrays(
            np.float64,
            hnp.array_shapes(min_dims=1, max_dims=4, max_side=6),
            elements=st.floats(-1e6, 1e6),
        ),
        st.data(),
    )
    def run(x, data):
        axis = data.draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1)))
        for name in ("sum", "mean", "prod", "max", "min", "any", "all"):
            tgf, npf = REDUCERS[name][:2]
            if name in ("max", "min") and (
                x.size == 0 or (axis is not None and x.shape[axis] == 0)
            ):
                continue
            # prod: keep products finite (lanes reassociate, so inf * 0 could differ from numpy's order)
            xx = np.clip(x, -1.5, 1.5) if name == "prod" else x
            with np.errstate(all="ignore"):
                want = npf(xx, axis=axis)
            assert_same(tgf(tg.tensor(xx), axis=axis), want, rtol=1e-9, atol=1e-6)

    assert hypothesis is not None
    run()


_THREAD_SCRIPT = """
import sys, numpy as np, tapegrad as tg
tg.set_num_threads(int(sys.argv[1]))  # first thing: before the pool has run anything
x = (np.random.default_rng(5).standard_normal((300, 5000)) + 0.25).astype(np.float32)
t = tg.tensor(x)
res = [np.asarray(f(t, axis=a)) for f in (tg.sum, tg.max, tg.prod) for a in (None, 0, 1)]
res += [np.asarray(tg.softmax(t)), np.asarray(tg.cumsum(t, axis=0))]
np.savez(sys.argv[2], *res)
"""


def test_results_do_not_depend_on_thread_count(tmp_path):
    """Parallel reductions split work in fixed chunks: bitwise the same results on 1, 2 or 3 threads.
    Each thread count runs in a fresh process (the count is set before the pool is used)."""
    import subprocess
    import sys

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [os.path.join(os.path.dirname(tg.__file__), os.pardir)]
        + [p for p in [env.get("PYTHONPATH")] if p]
    )
    outs = []
    for n in (1, 2, 3):
        out = tmp_path / f"r{n}.npz"
        subprocess.run(
            [sys.executable, "-c", _THREAD_SCRIPT, str(n), str(out)], check=True, env=env
        )
        outs.append(np.load(out))
    for other in outs[1:]:
        for k in outs[0].files:
            np.testing.assert_array_equal(outs[0][k], other[k])


def test_float16_inputs():
    x = make((4, 6), "float32").astype(np.float16)
    t = tg.tensor(x)
    for tgf, npf in [
        (tg.sum, np.sum),
        (tg.max, np.max),
        (tg.min, np.min),
        (tg.prod, np.prod),
        (tg.mean, np.mean),
    ]:
        got = tgf(t, axis=1)
        assert np.asarray(got).dtype == np.float16
        np.testing.assert_allclose(
            np.asarray(got, np.float32), npf(x.astype(np.float32), axis=1), rtol=2e-3, atol=2e-3
        )
    assert_same(tg.argmax(t, axis=0), np.argmax(x, axis=0))
    assert_same(tg.any(t, axis=0), np.any(x, axis=0))
    for got, want in [
        (tg.cumsum(t, axis=1), np.cumsum(x.astype(np.float32), axis=1)),
        (tg.softmax(t), np_softmax(x.astype(np.float32))),
    ]:
        assert np.asarray(got).dtype == np.float16
        np.testing.assert_allclose(np.asarray(got, np.float32), want, rtol=5e-3, atol=5e-3)


@pytest.mark.parametrize(
    "name", ["prod_axis", "max", "std", "logsumexp", "softmax", "log_softmax", "cumsum", "cumprod"]
)
def test_mixed_modes(name):
    """jvp of grad and grad of jvp (forward-over-reverse and reverse-over-forward)."""
    fn, shape = GRAD_CASES[name]
    x = f64(shape, kind="prod" if "prod" in name else "normal", seed=11)

    def scalar(a):
        return tg.sum(fn(a) * fn(a))

    check_grads(tg.grad(scalar), (x,), order=1, modes=("fwd",))
    check_grads(
        lambda a: tg.jvp(scalar, (a,), (tg.ones_like(a),))[1], (x,), order=1, modes=("rev",)
    )
