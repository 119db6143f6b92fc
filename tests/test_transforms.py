"""Forward mode, vmap, Jacobians and Hessians, and their compositions (API.md section 4)."""

import numpy as np
import pytest

import tapegrad as tg
from helpers import close, t64

# ---- seed 000: the Jacobian MindSpore could not compute ------------------------------------------


def seed_000():
    x = tg.tensor(np.array([1, 2, 3]).astype(np.float32))
    y = tg.tensor(np.array([[1], [2], [3]]).astype(np.float32))
    index = tg.tensor(np.array([0, 2, 1]).astype(np.int32))
    return x, y, index


@pytest.mark.parametrize("transform", ["jacrev", "jacfwd"])
def test_seed_000_jacobian_without_mask(transform):
    x, y, index = seed_000()
    J = getattr(tg, transform)(lambda x: y[index][:, 0] * x[index])(x)
    assert J.shape == (3, 3) and J.dtype == tg.float32
    close(J, [[1, 0, 0], [0, 0, 3], [0, 2, 0]])


# ---- vmap ------------------------------------------------------------------------------------


def test_vmap_basic_axes():
    m = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
    close(tg.vmap(lambda x: (x * x).sum())(m), [5.0, 25.0])
    close(tg.vmap(lambda x: x.sum(), in_axes=1)(m), [4.0, 6.0])
    close(
        tg.vmap(lambda x, y: x * y, in_axes=(0, None))(m, tg.tensor([10.0, 100.0])),
        [[10, 200], [30, 400]],
    )
    out = tg.vmap(lambda x: x * 2, out_axes=1)(m)
    close(out, np.array([[1.0, 2.0], [3.0, 4.0]]).T * 2)


def test_vmap_matches_python_loop():
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((5, 3, 4))
    f = lambda x: (tg.tanh(x) * tg.exp(x.T).T).sum(axis=0) + x.mean()
    got = tg.vmap(f)(t64(xs))
    want = np.stack([np.asarray(f(t64(x))) for x in xs])
    close(got, want, rtol=1e-12)


def test_nested_vmap_and_tuple_outputs():
    m = t64(np.arange(6.0).reshape(2, 3))
    a, b = tg.vmap(tg.vmap(lambda x: (x * 2, x + 1)))(m)
    close(a, np.arange(6.0).reshape(2, 3) * 2)
    close(b, np.arange(6.0).reshape(2, 3) + 1)


def test_vmap_errors():
    with pytest.raises(ValueError):
        tg.vmap(lambda x, y: x + y)(tg.ones((2, 3)), tg.ones((3, 3)))
    with pytest.raises(ValueError):
        tg.vmap(lambda x: x, in_axes=None)(tg.ones((2,)))
    with pytest.raises(ValueError):
        tg.vmap(lambda x: float(x.sum()))(tg.ones((2, 3)))


# ---- compositions ------------------------------------------------------------------------------


def rosen(x):
    return (100.0 * (x[1:] - x[:-1] * x[:-1]) ** 2 + (1.0 - x[:-1]) ** 2).sum()


def rosen_np_grad(x):
    g = np.zeros_like(x)
    g[:-1] = -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g[1:] += 200 * (x[1:] - x[:-1] ** 2)
    return g


def test_vmap_of_grad_per_example():
    rng = np.random.default_rng(1)
    xs = rng.standard_normal((4, 5))
    got = tg.vmap(tg.grad(rosen))(t64(xs))
    close(got, np.stack([rosen_np_grad(x) for x in xs]), rtol=1e-10)


def test_grad_of_vmap():
    m = t64([[1.0, 2.0], [3.0, 4.0]])
    close(
        tg.grad(lambda m: tg.vmap(lambda x: (x * x * x).sum())(m).sum())(m), 3 * np.asarray(m) ** 2
    )


def test_jacobians_agree_and_match_numpy():
    x = t64([0.3, -1.2, 2.0])
    f = lambda x: tg.sin(x) * x
    want = np.diag(np.cos([0.3, -1.2, 2.0]) * [0.3, -1.2, 2.0] + np.sin([0.3, -1.2, 2.0]))
    close(tg.jacrev(f)(x), want, rtol=1e-12)
    close(tg.jacfwd(f)(x), want, rtol=1e-12)


def test_hessian_rosenbrock():
    x = t64([0.5, 1.5, -0.3])
    H = tg.hessian(rosen)(x)
    # finite differences of the analytic gradient
    eps = 1e-6
    want = np.stack(
        [
            (rosen_np_grad(np.asarray(x) + eps * e) - rosen_np_grad(np.asarray(x) - eps * e))
            / (2 * eps)
            for e in np.eye(3)
        ]
    ).T
    close(H, want, rtol=1e-6, atol=1e-5)
    close(tg.jacfwd(tg.jacrev(rosen))(x), H)
    close(tg.jacrev(tg.jacrev(rosen))(x), H, rtol=1e-10)
    close(tg.jacrev(tg.jacfwd(rosen))(x), H, rtol=1e-10)


def test_jvp_of_grad_and_third_order():
    f = lambda x: (x**4).sum()
    x = t64([1.0, 2.0])
    _, t = tg.jvp(tg.grad(f), (x,), (t64([1.0, 0.0]),))
    close(t, [12.0, 0.0])
    close(tg.grad(tg.grad(tg.grad(lambda x: (x**4).sum())))(x), [24.0, 48.0])


def test_jacrev_multiple_positions_and_aux():
    f = lambda x, y: (x * y, x.sum())
    x, y = t64([1.0, 2.0]), t64([3.0, 4.0])
    (jx, jy), aux = tg.jacrev(f, (0, 1), has_aux=True)(x, y)
    close(jx, np.diag([3.0, 4.0]))
    close(jy, np.diag([1.0, 2.0]))
    close(aux, 3.0)
