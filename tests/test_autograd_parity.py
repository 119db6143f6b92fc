"""What running HIPS autograd's own test suite through an adapter (tools/autograd_suite) found:
each case is written against numpy's values and finite differences, not against autograd's tests.

- Tensors a transform tracks, inside a Python list given to an op (`mean([x, x + 2])`), kept no
  derivative: the list became an array of their numbers (a silent zero gradient);
- the derivative of `std` of complex input was NaN where the variance is 0 (one element);
- numpy's stacking functions take an array as the sequence of its rows; `clip` takes numpy's
  `a_min`/`a_max` keywords;
- numpy functions autograd.numpy differentiates that tapegrad.numpy lacked: `fliplr`, `flipud`,
  `rollaxis`, `append`, `row_stack`, `fabs`, `r_`, `c_`, `iscomplex`, `isreal`, `iscomplexobj`,
  `isrealobj`, `real_if_close`, `partition`, `gradient`.
"""

from __future__ import annotations

import numpy as np
import pytest

import tapegrad as tg

tnp = tg.numpy
_R = np.random.default_rng(1717).standard_normal


def _f(a, dtype):
    return tg.tensor(np.asarray(a), dtype)


# ---- lists of tracked Tensors -------------------------------------------------------------------

LIST_FUNCS = {
    "mean": lambda x: tnp.mean([x, x + 2.0]),
    "mean_tuple": lambda x: tnp.mean((x, x * 3.0)),
    "sum": lambda x: tg.sum([x, 2.0 * x]),
    "std": lambda x: tnp.std([x, x * x]),
    "var": lambda x: tnp.var([x, x * x]),
    "norm": lambda x: tnp.linalg.norm([x, x + 2.0]),
    "exp": lambda x: tg.exp([x, -x]).sum(),
    "mul_operand": lambda x: (tg.tensor([1.0, 2.0], x.dtype) * [x, x * x]).sum(),
    "asarray": lambda x: tnp.asarray([x, x * x]).sum(),
    "concatenate": lambda x: tnp.concatenate([[x], [x * x]]).sum(),
    "append": lambda x: tnp.append([x, x * x], x).sum(),
    "nested": lambda x: tnp.sum([[x, 1.0], [2.0, x * x]]),
}


@pytest.mark.parametrize("name", sorted(LIST_FUNCS))
@pytest.mark.parametrize("dtype", [tg.float32, tg.float64], ids=["f32", "f64"])
def test_a_list_of_tracked_tensors_keeps_its_derivatives(name, dtype):
    f = LIST_FUNCS[name]
    x = tg.tensor(1.7, dtype)
    # the function of x that numpy computes, differentiated numerically (in float64)
    h = 1e-6
    fp, fm = f(tg.tensor(1.7 + h, tg.float64)), f(tg.tensor(1.7 - h, tg.float64))
    num = (float(fp) - float(fm)) / (2 * h)
    assert abs(num) > 0.1  # the case can tell a zero derivative from the right one
    tol = 1e-6 if dtype == tg.float64 else 2e-2
    assert float(tg.grad(f)(x)) == pytest.approx(num, rel=tol, abs=tol)
    assert float(tg.jvp(f, x, tg.ones_like(x))[1]) == pytest.approx(num, rel=tol, abs=tol)
    tg.testing.check_grads(f, (x,), order=2)


def test_a_list_of_untracked_tensors_is_still_a_constant():
    c = tg.tensor(2.0, tg.float64)
    f = lambda x: tnp.mean([c, c * 3.0]) * x
    assert float(tg.grad(f)(tg.tensor(1.0, tg.float64))) == 4.0
    # outside any transform a list is data, as before
    assert tnp.mean([tg.tensor(1.0), tg.tensor(3.0)]).tolist() == 2.0


# ---- std of complex input ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [tg.complex64, tg.complex128], ids=["c64", "c128"])
def test_complex_std_derivative_is_zero_where_the_variance_is(dtype):
    z = tg.tensor(0.3 + 0.4j, dtype)
    assert float(tg.std(z)) == 0.0
    assert complex(tg.grad(tg.std)(z)) == 0.0
    assert float(tg.jvp(tg.std, z, tg.tensor(1.0 + 1.0j, dtype))[1]) == 0.0
    rows = tg.tensor(np.array([[1.0 + 2.0j, 3.0 - 1.0j]]), dtype)
    g = tg.grad(lambda a: tnp.std(a, axis=0).sum())(rows)
    assert np.all(np.asarray(g) == 0)
    # a NaN variance stays NaN
    assert np.isnan(float(tg.std(tg.tensor([complex("nan"), 1.0], dtype))))


def test_complex_std_derivative_elsewhere_matches_finite_differences():
    z0 = np.array([0.3 + 0.4j, -1.0 + 0.2j, 0.5 - 0.7j])
    g = np.asarray(tg.grad(tg.std)(tg.tensor(z0)))
    h = 1e-7
    for k in range(3):
        for d in (1.0, 1.0j):  # both real directions: grad = dL/dx - i dL/dy (JAX's convention)
            e = np.zeros(3, complex)
            e[k] = d * h
            num = (np.std(z0 + e) - np.std(z0 - e)) / (2 * h)
            got = g[k].real if d == 1.0 else -g[k].imag
            assert got == pytest.approx(num, rel=1e-6, abs=1e-8)
    np.testing.assert_allclose(float(tg.std(tg.tensor(z0))), np.std(z0), rtol=1e-14)


# ---- numpy's sequence and keyword forms ----------------------------------------------------------


@pytest.mark.parametrize("name", ["vstack", "hstack", "dstack", "column_stack", "row_stack"])
@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 3, 4), (0, 2)], ids=str)
def test_stacking_an_array_stacks_its_rows(name, shape):
    a = _R(shape)
    if not shape[0]:  # no rows: nothing to stack, a ValueError in numpy too
        with pytest.raises(ValueError):
            getattr(np, "vstack" if name == "row_stack" else name)(a)
        with pytest.raises(ValueError, match="concatenate"):
            getattr(tnp, name)(tg.tensor(a))
        return
    want = getattr(np, "vstack" if name == "row_stack" else name)(a)
    got = getattr(tnp, name)(tg.tensor(a))
    np.testing.assert_array_equal(got.numpy(), want)
    np.testing.assert_array_equal(getattr(tnp, name)(a).numpy(), want)  # an ndarray too
    if a.size:
        tg.testing.check_grads(lambda t: getattr(tnp, name)(t), (tg.tensor(a),), order=2)


def test_stacking_a_0d_array_is_a_type_error():
    with pytest.raises(TypeError, match="vstack"):
        tnp.vstack(tg.tensor(1.0))


def test_clip_takes_numpys_keywords():
    a = _R((3, 4))
    x = tg.tensor(a)
    np.testing.assert_array_equal(
        tnp.clip(x, a_min=-0.5, a_max=0.5).numpy(), np.clip(a, a_min=-0.5, a_max=0.5)
    )
    np.testing.assert_array_equal(tnp.clip(x, -0.5, None).numpy(), np.clip(a, -0.5, None))
    np.testing.assert_array_equal(tnp.clip(x, max=0.1).numpy(), np.clip(a, max=0.1))
    with pytest.raises(TypeError, match="clip"):
        tnp.clip(x, a_min=0.0, min=0.0)
    with pytest.raises(TypeError, match="out="):
        tnp.clip(x, 0.0, 1.0, np.zeros((3, 4)))
    tg.testing.check_grads(lambda t: tnp.clip(t, a_min=0.1, a_max=1.1), (x,), order=2)


# ---- the functions added -------------------------------------------------------------------------

NEW = {
    "fliplr": (lambda m, a: m.fliplr(a), [(3, 4)]),
    "fliplr_3d": (lambda m, a: m.fliplr(a), [(2, 3, 2)]),
    "flipud": (lambda m, a: m.flipud(a), [(3, 4)]),
    "flipud_1d": (lambda m, a: m.flipud(a), [(5,)]),
    "rollaxis": (lambda m, a: m.rollaxis(a, 2), [(2, 3, 4)]),
    "rollaxis_start": (lambda m, a: m.rollaxis(a, 0, 2), [(2, 3, 4)]),
    "rollaxis_neg": (lambda m, a: m.rollaxis(a, -1, -2), [(2, 3, 4)]),
    "rollaxis_same": (lambda m, a: m.rollaxis(a, 1, 2), [(2, 3, 4)]),
    "rollaxis_end": (lambda m, a: m.rollaxis(a, 0, 3), [(2, 3, 4)]),
    "append": (lambda m, a, b: m.append(a, b), [(2, 3), (4,)]),
    "append_axis": (lambda m, a, b: m.append(a, b, axis=0), [(2, 3), (1, 3)]),
    "append_scalar": (lambda m, a, b: m.append(a, b), [(3,), ()]),
    "fabs": (lambda m, a: m.fabs(a + 0.05), [(3, 4)]),
    "real_if_close": (lambda m, a: m.real_if_close(a), [(3,)]),
    "r_": (lambda m, a, b: m.r_[a, b, a], [(2,), (3,)]),
    "r_2d": (lambda m, a, b: m.r_[a, b], [(2, 3), (1, 3)]),
    "r_scalar_range": (lambda m, a: m.r_[a, 2.0, 0:3] * m.r_[a, a, a][:6], [(2,)]),
    "c_": (lambda m, a, b: m.c_[a, b, a], [(3, 2), (3, 1)]),
    "c_1d": (lambda m, a, b: m.c_[a, b], [(3,), (3,)]),
    "gradient": (lambda m, a: m.gradient(a), [(6,)]),
    "gradient_2d": (lambda m, a: m.gradient(a)[1], [(4, 5)]),
    "gradient_axis": (lambda m, a: m.gradient(a, axis=-1), [(3, 4, 5)]),
    "gradient_axes": (lambda m, a: m.gradient(a, 0.5, axis=(0, 2))[1], [(3, 4, 5)]),
    "gradient_spacings": (lambda m, a: m.gradient(a, 2.0, 0.5)[0], [(3, 4)]),
    "gradient_order2": (lambda m, a: m.gradient(a, edge_order=2), [(5,)]),
}


@pytest.mark.parametrize("name", sorted(NEW))
@pytest.mark.parametrize("dtype", [tg.float32, tg.float64], ids=["f32", "f64"])
def test_added_functions_match_numpy_and_differentiate(name, dtype):
    fn, shapes = NEW[name]
    args = [_R(s) for s in shapes]
    np_dt = np.float32 if dtype == tg.float32 else np.float64
    want = fn(np, *[a.astype(np_dt) for a in args])
    got = fn(tnp, *[_f(a, dtype) for a in args])
    assert np.dtype(got.dtype.name) == want.dtype
    tol = 1e-6 if dtype == tg.float32 else 1e-13
    np.testing.assert_allclose(got.numpy(), want, rtol=tol, atol=tol)
    tg.testing.check_grads(lambda *xs: fn(tnp, *xs), tuple(_f(a, dtype) for a in args), order=2)


@pytest.mark.parametrize("name", ["fliplr", "flipud", "rollaxis", "fabs", "gradient"])
def test_added_functions_on_non_contiguous_and_empty_input(name):
    calls = {
        "fliplr": lambda m, a: m.fliplr(a),
        "flipud": lambda m, a: m.flipud(a),
        "rollaxis": lambda m, a: m.rollaxis(a, 1),
        "fabs": lambda m, a: m.fabs(a),
        "gradient": lambda m, a: m.gradient(a, axis=0),
    }
    f = calls[name]
    a = _R((4, 6))
    t = tg.tensor(a)
    np.testing.assert_allclose(f(tnp, t.T[::2]).numpy(), f(np, a.T[::2]), rtol=1e-15)
    np.testing.assert_allclose(f(tnp, t[:, ::-2]).numpy(), f(np, a[:, ::-2]), rtol=1e-15)
    if name != "gradient":  # numpy's gradient needs 2 samples
        e = np.zeros((0, 3))
        assert f(tnp, tg.tensor(e)).shape == f(np, e).shape


def test_added_functions_refuse_bad_input_as_numpy():
    x = tg.tensor(_R((2, 3)))
    with pytest.raises(ValueError, match="fliplr"):
        tnp.fliplr(tg.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="flipud"):
        tnp.flipud(tg.tensor(1.0))
    with pytest.raises(ValueError, match="rollaxis"):
        tnp.rollaxis(x, 0, 3)
    with pytest.raises((ValueError, IndexError), match="rollaxis"):
        tnp.rollaxis(x, 2)
    with pytest.raises(TypeError, match="fabs"):
        tnp.fabs(tg.tensor([1 + 1j]))
    with pytest.raises(ValueError, match="gradient"):
        tnp.gradient(tg.tensor([1.0]))
    with pytest.raises(ValueError, match="gradient"):
        tnp.gradient(tg.tensor([1.0, 2.0]), edge_order=2)
    with pytest.raises(TypeError, match="coordinate"):
        tnp.gradient(tg.tensor([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 3.0]))
    with pytest.raises(ValueError, match="edge_order"):
        tnp.gradient(tg.tensor([1.0, 2.0, 3.0]), edge_order=3)
    with pytest.raises(TypeError, match="r_"):
        tnp.r_["0,2", x]
    with pytest.raises(ValueError, match="partition"):
        tnp.partition(tg.tensor([1.0, 2.0]), 2)


def test_gradient_of_integers_is_float64_as_numpy():
    a = np.array([1, 4, 9, 16])
    got = tnp.gradient(tg.tensor(a))
    assert got.dtype == tg.float64
    np.testing.assert_array_equal(got.numpy(), np.gradient(a))


@pytest.mark.parametrize("kth", [0, 3, -1, [1, 4]])
def test_partition_is_a_valid_partition(kth):
    a = _R(7)
    got = tnp.partition(tg.tensor(a), kth).numpy()
    want = np.partition(a, kth)
    for k in np.atleast_1d(kth):
        # the element at k is numpy's; everything before is not larger, after not smaller
        assert got[k] == want[k]
        assert np.all(got[:k] <= got[k]) and np.all(got[k:] >= got[k])
    np.testing.assert_array_equal(np.sort(got), np.sort(a))
    tg.testing.check_grads(lambda t: tnp.partition(t, kth), (tg.tensor(a),), order=2)


def test_complex_predicates_match_numpy():
    for a in (
        np.array([1.0, 2.0]),
        np.array([1 + 0j, 2 + 1e-20j, 3 - 2j]),
        np.array(1.5 + 0j),
        np.zeros((2, 0)),
    ):
        t = tg.tensor(a)
        for name in ("iscomplex", "isreal"):
            got = getattr(tnp, name)(t)
            assert got.dtype == tg.bool_
            np.testing.assert_array_equal(got.numpy(), getattr(np, name)(a))
        assert tnp.iscomplexobj(t) is bool(np.iscomplexobj(a))
        assert tnp.isrealobj(t) is bool(np.isrealobj(a))
    assert tnp.iscomplexobj(1j) and tnp.isrealobj(1.0)


def test_real_if_close_matches_numpy():
    for a, tol in [
        (np.array([1 + 1e-16j, 2 - 1e-17j]), 100),
        (np.array([1 + 1e-3j]), 100),
        (np.array([1 + 1e-3j]), 1e-2),
        (np.array([1.0, 2.0]), 100),
    ]:
        got = tnp.real_if_close(tg.tensor(a), tol=tol)
        want = np.real_if_close(a, tol=tol)
        assert np.dtype(got.dtype.name) == want.dtype
        np.testing.assert_array_equal(got.numpy(), want)
    g = tg.grad(lambda z: tg.abs(tnp.real_if_close(z)).sum())(tg.tensor([3.0 + 0j]))
    assert complex(g[0]) == pytest.approx(1.0)
