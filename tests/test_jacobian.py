"""jacrev / jacfwd / hessian (API.md section 4): pytree inputs and outputs, positions, has_aux,
edge shapes, errors, and composition with the other transforms. Values are checked against
analytic Jacobians and central finite differences in float64."""

from functools import partial

import numpy as np
import pytest

import helpers
import tapegrad as tg
from helpers import rosen, t64

rng = np.random.default_rng(7)
JACS = ["jacrev", "jacfwd"]
close = partial(helpers.close, atol=1e-9)


def fd_jacobian(f, x, eps=1e-6):
    """d f(x) / d x by central differences, shape f(x).shape + x.shape (numpy in, numpy out)."""
    x = np.asarray(x, np.float64)
    y0 = np.asarray(f(x))
    J = np.zeros(y0.shape + x.shape)
    for i in np.ndindex(*x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        J[(Ellipsis,) + i] = (np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * eps)
    return J


def via_np(f):
    return lambda a: np.asarray(f(t64(a)))


@pytest.mark.parametrize("jac", JACS)
@pytest.mark.parametrize(
    "shape_in,shape_out_fn",
    [
        ((4,), lambda x: tg.sin(x) * x),
        ((2, 3), lambda x: tg.exp(x).sum(axis=0)),
        ((3,), lambda x: tg.outer(x, x)),
        ((), lambda x: tg.stack([x, x * x, tg.sin(x)])),
        ((3,), lambda x: (x * x).sum()),
        ((2, 2), lambda x: tg.linalg.inv(x + 3 * tg.eye(2, dtype=tg.float64))),
    ],
)
def test_matches_finite_differences(jac, shape_in, shape_out_fn):
    x = rng.standard_normal(shape_in)
    J = getattr(tg, jac)(shape_out_fn)(t64(x))
    want = fd_jacobian(via_np(shape_out_fn), x)
    assert J.shape == want.shape and J.dtype == tg.float64
    close(J, want, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("jac", JACS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_and_noncontiguous_input(jac, dtype):
    base = rng.standard_normal((3, 4)).astype(dtype)
    x = tg.tensor(base).T[::2]  # a non-contiguous (2, 3) view
    J = getattr(tg, jac)(lambda x: tg.tanh(x) * 2)(x)
    xn = base.T[::2].astype(np.float64)
    want = np.zeros((2, 3, 2, 3))
    for i in np.ndindex(2, 3):
        want[i + i] = 2 * (1 - np.tanh(xn[i]) ** 2)
    assert J.dtype == (tg.float32 if dtype == np.float32 else tg.float64)
    close(J, want, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6)


@pytest.mark.parametrize("jac", JACS)
def test_tuple_positions_and_repeated_position(jac):
    x, y = rng.standard_normal(3), rng.standard_normal(3)
    f = lambda a, b: a * tg.sin(b)
    Ja, Jb = getattr(tg, jac)(f, grad_position=(0, 1))(t64(x), t64(y))
    close(Ja, np.diag(np.sin(y)))
    close(Jb, np.diag(x * np.cos(y)))
    Jb1, Jb2 = getattr(tg, jac)(f, grad_position=(1, 1))(t64(x), t64(y))
    close(Jb1, Jb)
    close(Jb2, Jb)
    Jneg = getattr(tg, jac)(f, grad_position=-1)(t64(x), t64(y))
    close(Jneg, Jb)


@pytest.mark.parametrize("jac", JACS)
def test_pytree_inputs_give_input_structure(jac):
    p = {"w": t64(rng.standard_normal(2)), "b": [t64(0.5), t64(rng.standard_normal(3))]}
    f = lambda p: p["w"].sum() * p["b"][0] + p["b"][1]  # a (3,) output
    J = getattr(tg, jac)(f)(p)
    assert set(J) == {"w", "b"} and isinstance(J["b"], list)
    assert J["w"].shape == (3, 2) and J["b"][0].shape == (3,) and J["b"][1].shape == (3, 3)
    close(J["w"], np.full((3, 2), 0.5))
    close(J["b"][0], np.full(3, np.asarray(p["w"]).sum()))
    close(J["b"][1], np.eye(3))


@pytest.mark.parametrize("jac", JACS)
def test_pytree_outputs_give_output_structure(jac):
    x = rng.standard_normal(3)
    f = lambda x: {"sq": x * x, "pair": (x.sum(), tg.sin(x[0]))}
    J = getattr(tg, jac)(f)(t64(x))
    close(J["sq"], np.diag(2 * x))
    close(J["pair"][0], np.ones(3))
    close(J["pair"][1], [np.cos(x[0]), 0, 0])
    # Output tree of input trees: a tuple of positions inside every output leaf.
    g = lambda a, b: (a * b, a + b)
    (J00, J01), (J10, J11) = getattr(tg, jac)(g, grad_position=(0, 1))(t64(x), t64(2 * x))
    close(J00, np.diag(2 * x))
    close(J01, np.diag(x))
    close(J10, np.eye(3))
    close(J11, np.eye(3))


@pytest.mark.parametrize("jac", JACS)
def test_scalar_and_numpy_arguments(jac):
    J = getattr(tg, jac)(lambda x: x * x * x)(2.0)  # a Python float is a 0-d float32 tensor
    assert J.shape == () and J.dtype == tg.float32
    close(J, 12.0)
    J = getattr(tg, jac)(lambda x: x * 3)(np.ones(2))
    close(J, 3 * np.eye(2))


@pytest.mark.parametrize("jac", JACS)
def test_has_aux_returns_plain_aux(jac):
    x = t64([1.0, 2.0])

    def f(x):
        y = x * x
        return y, {"norm": y.sum(), "tag": 3}

    J, aux = getattr(tg, jac)(f, has_aux=True)(x)
    close(J, np.diag([2.0, 4.0]))
    assert aux["tag"] == 3
    close(aux["norm"], 5.0)
    # The aux value is an ordinary tensor again: a later transform sees it as a constant.
    assert tg.grad(lambda z: (z * aux["norm"]).sum())(x).tolist() == [5.0, 5.0]
    J2, (a1, a2) = getattr(tg, jac)(lambda x: (x * 2, x.sum(), x[0]), has_aux=True)(x)
    close(J2, 2 * np.eye(2))
    close(a1, 3.0)
    close(a2, 1.0)


@pytest.mark.parametrize("jac", JACS)
def test_empty_and_integer_cases(jac):
    J = getattr(tg, jac)(lambda x: x * 2)(tg.zeros((0,), dtype=tg.float64))
    assert J.shape == (0, 0)
    J = getattr(tg, jac)(lambda x: x.sum(keepdims=True)[:0])(t64([1.0, 2.0]))
    assert J.shape == (0, 2)
    J = getattr(tg, jac)(lambda x: (x > 1).astype(tg.int32))(t64([1.0, 2.0]))  # integer output
    assert J.shape == (2, 2) and not np.asarray(J).any()
    J = getattr(tg, jac)(lambda x: t64([1.0, 2.0, 3.0]))(t64([1.0]))  # output independent of x
    assert J.shape == (3, 1) and not np.asarray(J).any()


@pytest.mark.parametrize("jac", JACS)
def test_errors(jac):
    J = getattr(tg, jac)
    with pytest.raises(TypeError, match=jac):
        J(lambda x: x)(tg.tensor([1, 2]))  # integer input
    with pytest.raises(TypeError):
        J(lambda x: x)("text")
    with pytest.raises(TypeError, match=jac):
        J(lambda x: "not a tensor")(t64([1.0]))
    with pytest.raises(TypeError, match="has_aux"):
        J(lambda x: x, has_aux=True)(t64([1.0]))
    with pytest.raises(IndexError):
        J(lambda x: x, grad_position=3)(t64([1.0]))
    with pytest.raises(TypeError):
        J(3)
    with pytest.raises(ZeroDivisionError):  # the function's own error passes through, levels intact
        J(lambda x: x * (1 / 0))(t64([1.0]))
    close(J(lambda x: x * 2)(t64([1.0])), [[2.0]])


def test_kwargs_are_passed_and_not_differentiated():
    J = tg.jacrev(lambda x, scale=1.0: x * scale)(t64([1.0, 2.0]), scale=3.0)
    close(J, 3 * np.eye(2))


# ---- composition ----------------------------------------------------------------------------


def rosen_hess(x):
    n = len(x)
    H = np.zeros((n, n))
    for i in range(n - 1):
        H[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        H[i, i + 1] += -400 * x[i]
        H[i + 1, i] += -400 * x[i]
        H[i + 1, i + 1] += 200
    return H


@pytest.mark.parametrize(
    "outer,inner",
    [("jacfwd", "jacrev"), ("jacrev", "jacrev"), ("jacrev", "jacfwd"), ("jacfwd", "jacfwd")],
)
def test_second_order_any_nesting(outer, inner):
    x = rng.standard_normal(5)
    H = getattr(tg, outer)(getattr(tg, inner)(rosen))(t64(x))
    close(H, rosen_hess(x), rtol=1e-10)


def test_hessian_has_aux_and_positions():
    x, y = rng.standard_normal(3), rng.standard_normal(3)
    H, aux = tg.hessian(lambda a, b: ((a * a * b).sum(), b), grad_position=1, has_aux=True)(
        t64(x), t64(y)
    )
    close(H, np.zeros((3, 3)))
    close(aux, y)
    H = tg.hessian(lambda a, b: (a * a * b).sum())(t64(x), t64(y))
    close(H, np.diag(2 * y))


def test_third_order_jacobian():
    x = rng.standard_normal(2)
    T = tg.jacfwd(tg.jacrev(tg.jacrev(lambda x: (x**3).sum())))(t64(x))
    want = np.zeros((2, 2, 2))
    for i in range(2):
        want[i, i, i] = 6
    close(T, want)


def test_vmap_of_jacobians_and_jacobian_of_vmap():
    X = rng.standard_normal((4, 3))
    f = lambda x: tg.sin(x) * x.sum()
    for jac in (tg.jacrev, tg.jacfwd):
        Jb = tg.vmap(jac(f))(t64(X))
        want = np.stack([np.asarray(jac(f)(t64(x))) for x in X])
        close(Jb, want)
        # Jacobian of a batched function: block-diagonal over the batch.
        Jv = jac(tg.vmap(f))(t64(X))
        assert Jv.shape == (4, 3, 4, 3)
        for i in range(4):
            close(Jv[i, :, i, :], want[i])
            for k in range(4):
                if k != i:
                    assert not np.asarray(Jv[i, :, k, :]).any()


def test_grad_and_jvp_of_jacobian():
    x = rng.standard_normal(3)
    f = lambda x: tg.sin(x) * x
    # d/dx sum(J(x)) where J = diag(cos(x) x + sin(x)): (-sin x x + 2 cos x)
    g = tg.grad(lambda x: tg.jacrev(f)(x).sum())(t64(x))
    close(g, -np.sin(x) * x + 2 * np.cos(x))
    _, t = tg.jvp(lambda x: tg.jacfwd(f)(x), t64(x), t64(np.ones(3)))
    close(t, np.diag(-np.sin(x) * x + 2 * np.cos(x)))


def test_seed_000_jacobian_inside_grad_and_vmap():
    x = tg.tensor(np.array([1, 2, 3], np.float32))
    y = tg.tensor(np.array([[1], [2], [3]], np.float32))
    index = tg.tensor(np.array([0, 2, 1], np.int32))
    f = lambda x: y[index][:, 0] * x[index]
    want = [[1, 0, 0], [0, 0, 3], [0, 2, 0]]
    close(tg.vmap(tg.jacrev(f))(tg.stack([x, x * 2])), [want, want])
    close(tg.vmap(tg.jacfwd(f))(tg.stack([x, x * 2])), [want, want])
    # The Jacobian does not depend on x: its gradient is zero.
    close(tg.grad(lambda x: tg.jacrev(f)(x).sum())(x), [0, 0, 0])


@pytest.mark.parametrize("jac", JACS)
def test_repeated_jacobians_reuse_the_seed_but_never_share_memory(jac):
    # Note [Jacobian seed cache]: a Jacobian at the size of the last one reuses its identity seed;
    # a result that is the seed itself (f(x) = x) is a copy, so writing into one result changes
    # neither the next result nor an earlier one.
    J = getattr(tg, jac)
    for dt in (np.float32, np.float64):
        x = tg.tensor(np.linspace(-1, 1, 7).astype(dt))
        j1 = J(lambda t: t)(x)
        j2 = J(lambda t: t)(x)
        j1[0, 0] = 5.0
        j1[3, 4] = 2.0
        np.testing.assert_array_equal(j2.asnumpy(), np.eye(7, dtype=dt))
        np.testing.assert_array_equal(J(lambda t: t)(x).asnumpy(), np.eye(7, dtype=dt))
        j3 = J(lambda t: t.reshape(7, 1))(x)  # a view of the seed
        j3[1, 0, 1] = 4.0
        np.testing.assert_array_equal(J(lambda t: t)(x).asnumpy(), np.eye(7, dtype=dt))
        a = x.asnumpy().astype(np.float64)
        want = np.diag(np.sin(a) + a * np.cos(a))
        for _ in range(3):  # the same seed again, then another size, then this one again
            close(J(lambda t: tg.sin(t) * t)(x).asnumpy(), want, atol=1e-6)
            close(J(lambda t: t * 2)(tg.tensor(np.ones(3, dt))).asnumpy(), 2 * np.eye(3), atol=0)
        assert j2.dtype == dt and j1.asnumpy()[0, 0] == 5.0


def test_seed_reuse_is_top_level_only():
    # Under tg.jit the seed is built by a recorded op (the replay makes it), and inside another
    # transform (hessian's jacrev) by a fresh eye: the values are the same either way.
    x = tg.tensor(np.linspace(-1, 1, 5))
    f = lambda t: tg.sin(t) * t
    want = tg.jacfwd(f)(x).asnumpy()
    for _ in range(2):
        np.testing.assert_array_equal(tg.jit(tg.jacfwd(f))(x).asnumpy(), want)
        np.testing.assert_array_equal(tg.jit(tg.jacrev(f))(x).asnumpy(), tg.jacrev(f)(x).asnumpy())
    h = tg.hessian(rosen)(x).asnumpy()
    close(tg.hessian(rosen)(x).asnumpy(), h, atol=0)
    close(tg.jacfwd(tg.jacrev(rosen))(x).asnumpy(), h, atol=0)
