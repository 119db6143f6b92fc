"""The fast paths of eager dense Jacobians and Hessians, each checked bit for bit against the path
it replaces.

Lazy identity batches (Note [Lazy identity batches] in csrc/autodiff/levels.h): a large dense
Jacobian seeds its sweep with the identity in lazy form, runs add/sub/mul/div/neg/astype on its
diagonal and off-diagonal values, and materialises it once. The reference is the same Jacobian
under tg.jit(fuse=False), whose recording seeds densely (a trace must see the ops it replays) and
whose replay runs the recorded kernels one by one. `_core._lazy_batch_counts()` says which path a
sweep took.

jacrev of a one-element output sweeps with no batch level (a gradient); the power rule skips its
double-where for a constant nonzero exponent (not while a trace records, so tg.jit(fuse=False)
is again the reference)."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import _core

JACS = ["jacrev", "jacfwd"]
N = 200  # 200 x 200 is above the lazy threshold (2**14 elements)


def special(n, dtype, seed=0):
    """Values of both signs with -0.0, +-inf and NaN among them: the off-diagonal entries then
    hold -0.0 and NaN, which the lazy form must reproduce."""
    x = np.random.default_rng(seed).standard_normal(n).astype(dtype) * 3
    x[1], x[2] = -0.0, 0.0
    x[5], x[7], x[8] = np.inf, np.nan, -np.inf
    return x


def counts():
    return np.array(_core._lazy_batch_counts())


def bits(a):
    a = np.ascontiguousarray(np.asarray(a))
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64)


def assert_same_bits(got, want):
    got = got if isinstance(got, (tuple, list)) else (got,)
    want = want if isinstance(want, (tuple, list)) else (want,)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_array_equal(bits(g), bits(w))


def dense(jac, f, *args, **kw):
    return tg.jit(getattr(tg, jac)(f, **kw), fuse=False)(*args)


ELEMENTWISE = {
    "sin_x": lambda x: tg.sin(x) * x,
    "rational": lambda x: (x * x - 3.0 * x) / (x + 2.5) - x,
    "neg": lambda x: -(tg.exp(x) * x) + tg.tanh(x) * 2.0,
    "div_by": lambda x: 2.0 / (1.5 + x * x) - tg.cos(x) / 3.0,
    "astype": lambda x: (x.astype(tg.float64) * x).astype(x.dtype) * 1.5,
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@pytest.mark.parametrize("jac", JACS)
def test_elementwise_sweep_stays_lazy_and_matches_the_dense_bits(jac, name, dtype):
    f = ELEMENTWISE[name]
    x = tg.tensor(special(N, dtype))
    before = counts()
    got = getattr(tg, jac)(f)(x)
    ops, materialised = counts() - before
    assert ops >= 2 and materialised == 1  # the whole sweep lazy, one write of the result
    assert_same_bits(got, dense(jac, f, x))
    assert got.shape == (N, N) and got.dtype == x.dtype


@pytest.mark.parametrize("jac", JACS)
def test_two_dimensional_inputs(jac):
    f = lambda x: tg.sin(x) * x[::-1] + x
    x = tg.tensor(np.random.default_rng(1).standard_normal((12, 15)))
    assert_same_bits(getattr(tg, jac)(f)(x), dense(jac, f, x))
    g = lambda x: tg.cos(x) * x * 0.5
    before = counts()
    got = getattr(tg, jac)(g)(x)
    assert (counts() - before)[1] == 1
    assert got.shape == (12, 15, 12, 15)
    assert_same_bits(got, dense(jac, g, x))


FALLBACKS = {  # ops the lazy form does not take: materialised, then the dense path as before
    "sum": lambda x: tg.sin(x) * x.sum(),
    "getitem": lambda x: tg.sin(x[1:]) * x[:-1],
    "matmul": lambda x: (
        tg.tanh(x.reshape(20, 10) @ tg.ones((10, 10), dtype=x.dtype)).reshape(-1) * x
    ),
    "where": lambda x: tg.where(x > 0, x * 2.0, tg.sin(x)),
    "pow": lambda x: x**3 + tg.exp(x) * x,
    "concat": lambda x: tg.concatenate([x[:5] * 2.0, tg.sin(x[5:])]),
}


@pytest.mark.parametrize("name", sorted(FALLBACKS))
@pytest.mark.parametrize("jac", JACS)
def test_other_ops_materialise_and_give_the_dense_bits(jac, name):
    f = FALLBACKS[name]
    x = tg.tensor(special(N, np.float32, seed=3))
    assert_same_bits(getattr(tg, jac)(f)(x), dense(jac, f, x))


@pytest.mark.parametrize("jac", JACS)
def test_several_blocks_keep_their_shift(jac):
    # jacrev of two outputs: the second block of the identity starts at row m1; jacfwd of two
    # inputs: the second input's columns start at n1. Mixing the blocks materialises them.
    x = tg.tensor(special(150, np.float64, seed=4))
    y = tg.tensor(np.random.default_rng(5).standard_normal(150))
    if jac == "jacrev":
        f = lambda x: (tg.sin(x) * x, tg.cos(x) - x, x * 3.0)
        got = tg.jacrev(f)(x)
        assert_same_bits(got, dense(jac, f, x))
    f2 = lambda x, y: tg.sin(x) * y + y * x
    got = getattr(tg, jac)(f2, grad_position=(0, 1))(x, y)
    assert_same_bits(got, dense(jac, f2, x, y, grad_position=(0, 1)))
    f3 = lambda x, y: (x * 2.0, y / 3.0)
    got = getattr(tg, jac)(f3, grad_position=(0, 1))(x, y)
    want = dense(jac, f3, x, y, grad_position=(0, 1))
    assert_same_bits([b for row in got for b in row], [b for row in want for b in row])


def test_identity_function_results_are_fresh_memory():
    x = tg.tensor(special(N, np.float32))
    for jac in JACS:
        j1 = getattr(tg, jac)(lambda t: t)(x)
        j2 = getattr(tg, jac)(lambda t: t)(x)
        a1, a2 = np.asarray(j1), np.asarray(j2)
        assert not np.shares_memory(a1, a2)
        np.testing.assert_array_equal(a1, np.eye(N, dtype=np.float32))


def test_small_jacobians_and_traces_stay_dense():
    x = tg.tensor(np.linspace(-1, 1, 30))
    before = counts()
    for jac in JACS:
        getattr(tg, jac)(lambda t: tg.sin(t) * t)(x)
    big = tg.tensor(np.linspace(-1, 1, N))
    for jac in JACS:
        tg.jit(getattr(tg, jac)(lambda t: tg.sin(t) * t))(big)
    assert (counts() - before == 0).all()


def test_complex_and_integer_paths_stay_dense():
    z = tg.tensor((np.linspace(-1, 1, N) + 0.5j).astype(np.complex128))
    before = counts()
    j = tg.jacfwd(lambda t: tg.exp(t) * t, holomorphic=True)(z)
    assert (counts() - before == 0).all()
    zv = np.linspace(-1, 1, N) + 0.5j
    np.testing.assert_allclose(np.diag(np.asarray(j)), np.exp(zv) * (zv + 1), rtol=1e-12)


@pytest.mark.parametrize("jac", JACS)
def test_under_outer_transforms(jac):
    # The sweep's other operands are tracked by an outer level: the lazy value is materialised so
    # that the outer level records the dense ops (grad of a Jacobian, vmap of one, hessian).
    f = lambda x: tg.sin(x) * x
    x = tg.tensor(np.random.default_rng(6).standard_normal(N))
    J = getattr(tg, jac)(f)
    g = tg.grad(lambda t: (J(t) * J(t)).sum())(x)
    assert_same_bits(g, tg.jit(tg.grad(lambda t: (J(t) * J(t)).sum()), fuse=False)(x))
    xs = tg.tensor(np.random.default_rng(7).standard_normal((2, N)))
    assert_same_bits(tg.vmap(J)(xs), tg.jit(tg.vmap(J), fuse=False)(xs))
    h = tg.hessian(lambda t: (tg.sin(t) * t).sum())(x)
    assert_same_bits(h, tg.jit(tg.hessian(lambda t: (tg.sin(t) * t).sum()), fuse=False)(x))
    xv = np.asarray(x)
    np.testing.assert_allclose(np.diag(np.asarray(h)), 2 * np.cos(xv) - xv * np.sin(xv), rtol=1e-12)


def test_custom_jvp_rule_receives_the_lazy_tangent():
    @tg.custom_jvp
    def f(x):
        return tg.sin(x) * x

    @f.defjvp
    def f_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return f(x), t * (tg.cos(x) * x + tg.sin(x))

    x = tg.tensor(special(N, np.float64, seed=8))
    got = tg.jacfwd(f)(x)
    assert_same_bits(got, tg.jit(tg.jacfwd(f), fuse=False)(x))
    xv = np.asarray(x)
    ok = np.isfinite(xv)
    d, xv = np.diag(np.asarray(got))[ok], xv[ok]
    np.testing.assert_allclose(d, np.cos(xv) * xv + np.sin(xv), rtol=1e-12)


SCALAR_FNS = {
    "rosen": lambda x: (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum(),
    "sin": lambda x: (tg.sin(x) * x).sum().reshape(1, 1),
    "matmul": lambda x: (tg.tanh(x.reshape(-1, 2) @ tg.ones((2, 3), dtype=x.dtype)) ** 2).mean(),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(SCALAR_FNS))
def test_jacrev_of_one_element_is_the_gradient(name, dtype):
    f = SCALAR_FNS[name]
    x = tg.tensor(np.random.default_rng(9).standard_normal(12).astype(dtype))
    j = tg.jacrev(f)(x)
    out_shape = tuple(f(x).shape)
    assert j.shape == out_shape + (12,) and j.dtype == x.dtype
    assert_same_bits(j.reshape(12), tg.grad(lambda t: f(t).reshape(()))(x))
    y = tg.tensor(np.random.default_rng(10).standard_normal((3, 4)).astype(dtype))
    two = tg.jacrev(lambda a, b: (tg.sin(a) * b).sum(), grad_position=(0, 1))(y, y * 2.0)
    assert [t.shape for t in two] == [(3, 4), (3, 4)]
    want = tg.grad(lambda a, b: (tg.sin(a) * b).sum(), (0, 1))(y, y * 2.0)
    assert_same_bits(list(two), list(want))


POWERS = {
    "square": lambda x: (x**2 * 3.0).sum(),
    "cube_int": lambda x: (tg.sin(x) ** 3).sum(),
    "sqrt": lambda x: (tg.abs(x) ** 0.5).sum(),
    "inverse": lambda x: ((x * x + 1.0) ** -1.0).sum(),
    "zero": lambda x: (x**0.0 * x).sum(),  # a zero exponent keeps the where()s
    "array_exp": lambda x: (tg.abs(x) ** tg.tensor([1.5], dtype=x.dtype)).sum(),
    "rosen": SCALAR_FNS["rosen"],
}


@pytest.mark.parametrize("name", sorted(POWERS))
def test_hessians_through_powers_match_the_traced_bits(name):
    f = POWERS[name]
    x = special(40, np.float64, seed=11)
    x[3] = 0.0
    x = tg.tensor(x)
    assert_same_bits(tg.hessian(f)(x), tg.jit(tg.hessian(f), fuse=False)(x))
    assert_same_bits(tg.grad(f)(x), tg.jit(tg.grad(f), fuse=False)(x))
    third = lambda t: tg.grad(lambda u: tg.grad(f)(u).sum())(t).sum()
    assert_same_bits(tg.grad(third)(x), tg.jit(tg.grad(third), fuse=False)(x))


def test_power_derivatives_at_zero_base_and_exponent():
    # The cases the double-where guards: d/dx x**b at x == 0, for b == 0 (0, never nan) and b == 2.
    x = tg.tensor([0.0, 1.5, -2.0])
    assert np.asarray(tg.grad(lambda t: (t**0.0).sum())(x)).tolist() == [0.0, 0.0, 0.0]
    assert np.asarray(tg.grad(lambda t: (t**2.0).sum())(x)).tolist() == [0.0, 3.0, -4.0]
    h = np.asarray(tg.hessian(lambda t: (t**2.0).sum())(x))
    np.testing.assert_array_equal(h, 2.0 * np.eye(3))
    h1 = np.asarray(tg.hessian(lambda t: (t**1.0).sum())(x))
    np.testing.assert_array_equal(h1, np.zeros((3, 3)))
