"""Views of traced values (Note [Views of traced values]): inside a transform a view of a traced
value is a copy, so code that writes through one side and reads the other raises ValueError
instead of giving a different number than eager code; the patterns that agree with eager code
keep working."""

import numpy as np
import pytest

import tapegrad as tg

VIEWS = {
    "index": lambda y: y[0],
    "slice": lambda y: y[1:],
    "T": lambda y: y.T,
    "reshape": lambda y: y.reshape(-1),
    "swapaxes": lambda y: y.swapaxes(0, 1),
    "expand_dims": lambda y: tg.expand_dims(y, 0),
    "nested": lambda y: y[:, 1:].T[0],
    "whole": lambda y: y[...],
}


def base():
    return tg.tensor(np.arange(6.0).reshape(2, 3))


def run(transform, f):
    y = base()
    if transform == "grad":
        return tg.grad(f)(y)
    if transform == "vjp":
        return tg.vjp(f, y)[0]
    if transform == "jvp":
        return tg.jvp(f, (y,), (tg.ones((2, 3), dtype=tg.float64),))[0]
    if transform == "vmap":
        return tg.vmap(f)(tg.stack([y, y + 1]))
    if transform == "jacrev":
        return tg.jacrev(f)(y)
    if transform == "checkpoint":
        return tg.grad(tg.checkpoint(f))(y)
    raise AssertionError(transform)


TRANSFORMS = ["grad", "vjp", "jvp", "vmap", "jacrev", "checkpoint"]


@pytest.mark.parametrize("transform", TRANSFORMS)
@pytest.mark.parametrize("kind", sorted(VIEWS))
def test_write_through_view_then_read_base_raises(transform, kind):
    view = VIEWS[kind]

    def f(y):
        v = view(y)
        v *= 3
        return y.sum()

    assert f(base()).item() != base().sum().item()  # eagerly the write reaches y
    with pytest.raises(ValueError, match="views of traced values"):
        run(transform, f)


@pytest.mark.parametrize("transform", TRANSFORMS)
@pytest.mark.parametrize("kind", sorted(VIEWS))
def test_write_base_then_read_view_raises(transform, kind):
    view = VIEWS[kind]

    def f(y):
        r = view(y)
        y[0, 1] = 50.0
        return r.sum()

    with pytest.raises(ValueError, match="views of traced values"):
        run(transform, f)


def test_jit_of_a_closed_over_view_write_matches_eager_or_raises():
    def f(y):
        z = y * 1.0
        v = z[0]
        v *= 3
        return z.sum()

    with pytest.raises(ValueError, match="views of traced values"):
        tg.jit(f)(base())


@pytest.mark.parametrize(
    "f",
    [
        lambda y: (y.__setitem__(0, y[0] * 3), y.sum())[1],
        lambda y: (y.__setitem__(slice(1, None), y[1:] + 1), y.sum())[1],
    ],
)
def test_setitem_on_base_keeps_working(f):
    eager = f(base()).item()
    np.testing.assert_allclose(tg.jit(f)(base()).item(), eager)
    np.testing.assert_allclose(tg.vjp(f, base())[0].item(), eager)


def fine_augmented(y):
    y[0] *= 3
    y[1:] += 1
    y[:, 1] -= 2
    y[...] *= 2
    y[:] += 1
    return (y * y).sum()


def fine_view_only(y):
    v = y.T
    v *= 3
    return (v * v).sum()


def fine_never_written(y):
    v = y[0]
    w = y.reshape(-1)
    return (v * w[:3]).sum() + y.sum()


def fine_view_after_write(y):
    y[0] *= 2
    v = y.T
    return (v * v).sum()


def fine_ordinary_inplace(y):
    z = y * 2
    z += 1
    z[0] = 0.0
    return (z * y).sum()


def fine_scalar(y):
    s = y[0, 1]
    s *= 3
    return y.sum() + s


def fine_constant_views(y):
    c = tg.tensor(np.ones((2, 3)))
    v = c[0]
    v *= 3  # a constant's view is a real view: c changes, as eagerly
    return (c * y).sum()


FINE = [
    fine_augmented,
    fine_view_only,
    fine_never_written,
    fine_view_after_write,
    fine_ordinary_inplace,
    fine_scalar,
    fine_constant_views,
]


@pytest.mark.parametrize("f", FINE, ids=lambda f: f.__name__)
def test_fine_patterns_match_eager(f):
    eager = f(base()).item()
    np.testing.assert_allclose(tg.vjp(f, base())[0].item(), eager)
    np.testing.assert_allclose(
        tg.jvp(f, (base(),), (tg.ones((2, 3), dtype=tg.float64),))[0].item(), eager
    )
    np.testing.assert_allclose(tg.checkpoint(f)(base()).item(), eager)
    j = tg.jit(f)
    for _ in range(3):
        np.testing.assert_allclose(j(base()).item(), eager)
    vm = tg.vmap(f)(tg.stack([base(), base() + 1]))
    np.testing.assert_allclose(np.asarray(vm), [f(base()).item(), f(base() + 1).item()])


def test_fine_patterns_gradients_match_finite_differences():
    x = np.arange(6.0).reshape(2, 3) / 7
    for f in FINE:
        g = np.asarray(tg.grad(f)(tg.tensor(x)))
        eps = 1e-6
        fd = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            d = np.zeros_like(x)
            d[i] = eps
            fd[i] = (f(tg.tensor(x + d)).item() - f(tg.tensor(x - d)).item()) / (2 * eps)
        np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-6, err_msg=f.__name__)


def test_reading_converting_or_returning_a_stale_value_raises():
    def conv(y):
        v = y[0]
        v *= 3
        float(y[1, 0])
        return v.sum()

    def ret(y):
        v = y[0]
        v += 1
        return y

    with pytest.raises(ValueError, match="views of traced values"):
        tg.grad(conv)(base())
    with pytest.raises(ValueError, match="the function returns"):
        tg.vjp(ret, base())


def test_write_back_to_another_place_raises():
    def f(y):
        t = y[0]
        t *= 3
        y[1] = t  # eagerly y[0] was tripled too
        return y.sum()

    assert f(base()).item() == pytest.approx(3 * 3 + 3 * 3)
    with pytest.raises(ValueError, match="setitem: writes into"):
        tg.grad(f)(base())


def test_nested_transforms():
    def fine(y):
        y[0] *= 3
        v = y.T
        return (v * v * y.T).sum()

    def bad(y):
        v = y.T
        v[0] += 1
        return (y * y).sum()

    x = base()
    eager_h = np.asarray(tg.hessian(fine)(x))
    assert eager_h.shape == (2, 3, 2, 3)
    g = tg.grad(fine)
    np.testing.assert_allclose(np.asarray(tg.vmap(g)(tg.stack([x, x]))[0]), np.asarray(g(x)))
    np.testing.assert_allclose(np.asarray(tg.jit(g)(x)), np.asarray(g(x)))
    with pytest.raises(ValueError, match="views of traced values"):
        tg.hessian(bad)(x)
    with pytest.raises(ValueError, match="views of traced values"):
        tg.grad(lambda y: tg.grad(bad)(y).sum())(x)
    with pytest.raises(ValueError, match="views of traced values"):
        tg.vmap(tg.grad(bad))(tg.stack([x, x]))
