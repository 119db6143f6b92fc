"""The Array API's elementwise functions on complex64/complex128: values against numpy on a grid of
ordinary and special values (zeros of both signs, infinities, NaN, tiny and huge parts: the branch
cuts and special cases of C99 Annex G, which the standard and numpy follow), and derivatives in
JAX's convention against central differences along real and imaginary directions."""

import warnings

import numpy as np
import pytest

import tapegrad as tg
from test_complex import _rand, check_complex_grads

tnp = tg.numpy
CPLX = ["complex64", "complex128"]
PARTS = [0.0, -0.0, 1.0, -1.0, 0.5, -2.0, 2.0, np.inf, -np.inf, np.nan, 1e-10, 1e30]
GRID = np.array([complex(a, b) for a in PARTS for b in PARTS])

# tapegrad.numpy name -> numpy function
FUNCS = {
    "acos": np.arccos,
    "acosh": np.arccosh,
    "asin": np.arcsin,
    "asinh": np.arcsinh,
    "atan": np.arctan,
    "atanh": np.arctanh,
    "arccos": np.arccos,
    "arccosh": np.arccosh,
    "arcsin": np.arcsin,
    "arcsinh": np.arcsinh,
    "arctan": np.arctan,
    "arctanh": np.arctanh,
    "cos": np.cos,
    "cosh": np.cosh,
    "exp": np.exp,
    "exp2": np.exp2,
    "expm1": np.expm1,
    "log": np.log,
    "log1p": np.log1p,
    "log2": np.log2,
    "log10": np.log10,
    "reciprocal": np.reciprocal,
    "sign": np.sign,
    "sin": np.sin,
    "sinh": np.sinh,
    "sqrt": np.sqrt,
    "tan": np.tan,
    "tanh": np.tanh,
    "round": np.round,
    "positive": np.positive,
    "negative": np.negative,
}


def same(got, want, rtol):
    """Part by part: both NaN, or equal with the same sign of zero, or close when finite."""
    for p, q in ((got.real, want.real), (got.imag, want.imag)):
        nan = np.isnan(p) & np.isnan(q)
        exact = (p == q) & ((p != 0) | (np.signbit(p) == np.signbit(q)))
        with np.errstate(invalid="ignore"):
            near = (
                np.isfinite(p) & np.isfinite(q) & (np.abs(p - q) <= rtol * np.maximum(1, np.abs(q)))
            )
        ok = nan | exact | (near & (q != 0))
        if not ok.all():
            return ~ok
    return None


@pytest.mark.parametrize("name", CPLX)
@pytest.mark.parametrize("fn", list(FUNCS))
def test_values_and_special_cases_against_numpy(fn, name):
    z = GRID.astype(name)
    got = getattr(tnp, fn)(tg.tensor(z))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = FUNCS[fn](z)
    assert got.dtype.name == name
    bad = same(np.asarray(got), want, 1e-5 if name == "complex64" else 1e-12)
    if bad is not None:
        raise AssertionError(
            f"{fn}: {[(z[i], np.asarray(got)[i], want[i]) for i in np.flatnonzero(bad)[:5]]}"
        )
    # the same functions of tg (where they exist) reach the same kernels
    if hasattr(tg, fn):
        np.testing.assert_array_equal(np.asarray(getattr(tg, fn)(tg.tensor(z))), np.asarray(got))


def test_round_decimals_and_sign_of_complex():
    z = np.array([1.256 - 2.5j, -0.5 + 3.14159j])
    np.testing.assert_array_equal(np.asarray(tnp.round(tg.tensor(z), 2)), np.round(z, 2))
    np.testing.assert_array_equal(np.asarray(tnp.round(tg.tensor(z))), np.round(z))
    s = np.asarray(tnp.sign(tg.tensor([3 + 4j, 0j, -2j])))
    np.testing.assert_allclose(s, [0.6 + 0.8j, 0, -1j])


# Points away from the branch cuts (the real axis beyond +-1 for asin/acos/atanh, the imaginary
# axis beyond +-i for asinh/atan, below 1 on the real axis for acosh, the negative real axis for
# the logarithms and sqrt): central differences there see the holomorphic function.
GRAD_FUNCS = [
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atanh",
    "cosh",
    "exp2",
    "expm1",
    "log1p",
    "log2",
    "log10",
    "sinh",
    "tan",
]


@pytest.mark.parametrize("fn", GRAD_FUNCS)
def test_grads_in_jax_convention(fn):
    f = getattr(tnp, fn)
    check_complex_grads(f, [_rand((2, 3), True, 21) * 0.6])
    check_complex_grads(lambda z: f(z[:, ::2]), [_rand((2, 4), True, 22) * 0.6])  # non-contiguous
    check_complex_grads(lambda x: f(x * (0.3 + 0.4j)), [_rand((3,), False, 23)])  # a real input


def test_sign_and_round_have_zero_derivatives():
    z = tg.tensor([0.3 + 0.4j, -1 + 2j], tg.complex128)
    for f in (tnp.sign, tnp.round):
        g = tg.grad(lambda z, f=f: tnp.real(tg.sum(f(z) * z)))(z)
        np.testing.assert_allclose(np.asarray(g), np.asarray(f(z)))  # only the factor z's part


def test_functions_under_vmap_jit_and_second_order():
    a = _rand((4, 3), True, 24) * 0.6
    z = tg.tensor(a)
    for fn in ("asinh", "acosh", "tan", "log1p"):
        f = getattr(tnp, fn)
        np.testing.assert_allclose(np.asarray(tg.vmap(f)(z)), np.asarray(f(z)), rtol=1e-12)
        jf = tg.jit(f)
        for _ in range(2):
            r = jf(z)
        np.testing.assert_allclose(np.asarray(r), np.asarray(f(z)), rtol=1e-12)
    # d/dz asin(z) = 1/sqrt(1 - z^2), and its derivative z (1 - z^2)^(-3/2)
    zz = 0.3 + 0.2j
    g2 = tg.grad(lambda z: tnp.real(tg.grad(lambda z: tnp.real(tnp.asin(z)))(z)))(
        tg.tensor(zz, tg.complex128)
    )
    # grad of Re f for holomorphic f is f' (JAX's convention), so grad of Re f' is f''
    np.testing.assert_allclose(g2.item(), zz * (1 - zz**2) ** -1.5, rtol=1e-10)


# ---- products, closeness, creation ----------------------------------------------------------------


@pytest.mark.parametrize("name", CPLX)
def test_prod_cumprod_values(name):
    rng = np.random.default_rng(25)
    z = (rng.uniform(-1.5, 1.5, (3, 4, 5)) + 1j * rng.uniform(-1.5, 1.5, (3, 4, 5))).astype(name)
    t = tg.tensor(z)
    tol = 1e-5 if name == "complex64" else 1e-12
    for kw in [{}, {"axis": 1}, {"axis": (0, 2)}, {"axis": -1, "keepdims": True}]:
        got = tnp.prod(t, **kw)
        assert got.dtype.name == name
        np.testing.assert_allclose(np.asarray(got), np.prod(z, **kw), rtol=tol)
    for axis in (0, 1, 2):
        np.testing.assert_allclose(
            np.asarray(tnp.cumprod(t, axis=axis)), np.cumprod(z, axis=axis), rtol=tol
        )
    np.testing.assert_allclose(
        np.asarray(tnp.cumprod(t)), np.cumprod(z), rtol=10 * tol
    )  # flattened
    np.testing.assert_allclose(
        np.asarray(tnp.prod(t[:, ::2, 1:])), np.prod(z[:, ::2, 1:]), rtol=tol
    )
    # empty groups give 1, zeros stay exact
    assert tnp.prod(tg.zeros((2, 0), name), axis=1).tolist() == [1, 1]
    assert tnp.cumprod(tg.zeros((0,), name)).shape == (0,)
    assert tnp.prod(tg.tensor(np.array([2j, 0, 3], name))).item() == 0
    assert tnp.prod(tg.tensor(np.array(1 + 1j, name))).item() == 1 + 1j  # 0-d


def test_prod_cumprod_grads():
    z = _rand((2, 4), True, 26)
    check_complex_grads(lambda z: tnp.prod(z, axis=1), [z])
    check_complex_grads(tnp.prod, [z])
    check_complex_grads(lambda z: tnp.cumprod(z, axis=1), [z])
    check_complex_grads(lambda x: tnp.prod(x * (1 - 0.5j), axis=0), [_rand((3, 2), False, 27)])
    # with a zero factor the gradient is the product of the others (no division by z)
    z0 = np.array([0.0, 1 + 1j, 2 - 1j])
    g = tg.grad(lambda z: tnp.real(tnp.prod(z)))(tg.tensor(z0))
    np.testing.assert_allclose(np.asarray(g), [(1 + 1j) * (2 - 1j), 0, 0])
    zs = tg.tensor(_rand((4, 3), True, 28))
    np.testing.assert_allclose(
        np.asarray(tg.vmap(lambda z: tnp.prod(z))(zs)), np.prod(np.asarray(zs), axis=1), rtol=1e-12
    )


@pytest.mark.parametrize("name", CPLX)
def test_isclose_allclose(name):
    a = np.array([1 + 1j, 1 + 1j, np.inf + 1j, np.nan + 0j, 1e-9j, complex(np.inf, np.inf)], name)
    b = np.array(
        [1 + 1.000001j, 1 + 1.1j, np.inf + 1j, np.nan + 0j, 0j, complex(np.inf, -np.inf)], name
    )
    for eq in (False, True):
        np.testing.assert_array_equal(
            np.asarray(tnp.isclose(tg.tensor(a), tg.tensor(b), equal_nan=eq)),
            np.isclose(a, b, equal_nan=eq),
        )
    np.testing.assert_array_equal(
        np.asarray(tnp.isclose(tg.tensor(a), tg.tensor(a.real.copy()))), np.isclose(a, a.real)
    )
    assert tnp.allclose(tg.tensor(a[:1]), tg.tensor(b[:1])) and not tnp.allclose(
        tg.tensor(a), tg.tensor(b)
    )


@pytest.mark.parametrize("name", CPLX)
def test_creation_with_complex_dtypes(name):
    dt = getattr(tnp, name)
    for got, want in [
        (tnp.eye(3, 2, k=-1, dtype=dt), np.eye(3, 2, k=-1, dtype=name)),
        (tnp.arange(4, dtype=dt), np.arange(4, dtype=name)),
        (tnp.arange(0.5, 3, 0.5, dtype=dt), np.arange(0.5, 3, 0.5, dtype=name)),
        (
            tnp.linspace(0, 1, 4, dtype=dt, endpoint=False),
            np.linspace(0, 1, 4, dtype=name, endpoint=False),
        ),
        (tnp.linspace(1j, 2 - 1j, 5, dtype=dt), np.linspace(1j, 2 - 1j, 5, dtype=name)),
        (tnp.full((2,), 1 - 2j, dtype=dt), np.full((2,), 1 - 2j, dtype=name)),
        (tnp.ones((2, 1), dtype=dt), np.ones((2, 1), dtype=name)),
        (tnp.zeros_like(tg.tensor(np.ones(3, name))), np.zeros(3, name)),
        (tnp.asarray([[1 + 2j, 3], [0, -1j]], dtype=dt), np.asarray([[1 + 2j, 3], [0, -1j]], name)),
    ]:
        assert got.dtype.name == name
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6)
    # complex endpoints: complex64 by default (the default float is float32), arrays along axis
    r = tnp.linspace(np.array([0, 1j]), 2 + 2j, 3, axis=1)
    assert r.dtype == tg.complex64 and r.shape == (2, 3)
    np.testing.assert_allclose(
        np.asarray(r), np.linspace(np.array([0, 1j]), 2 + 2j, 3, axis=1), rtol=1e-6
    )
    with pytest.raises(TypeError, match="complex dtype"):
        tnp.linspace(0, 1j, 3, dtype=tnp.float32)
    # differentiable in complex Tensor endpoints: d/da sum(linspace(0, a, 5) c) = 2.5 c
    a = tg.tensor(1 + 1j, tg.complex128)
    g = tg.grad(lambda a: tnp.real(tg.sum(tnp.linspace(0, a, 5) * (1 - 2j))))(a)
    np.testing.assert_allclose(g.item(), 2.5 * (1 - 2j))


# ---- Jacobians (JAX's rules for complex values) ---------------------------------------------------


def test_jacobians_of_complex_functions():
    zs = np.array([1 + 1j, 0.5 - 2j])
    z = tg.tensor(zs)
    for jac in (tg.jacrev, tg.jacfwd):
        # holomorphic: the complex derivative, d(z^2)/dz = 2z on the diagonal
        np.testing.assert_allclose(
            np.asarray(jac(lambda z: z * z, holomorphic=True)(z)), np.diag(2 * zs)
        )
        # f = (sin(z0) z1, sin(z1) z0)
        want = [[np.cos(zs[0]) * zs[1], np.sin(zs[0])], [np.sin(zs[1]), np.cos(zs[1]) * zs[0]]]
        np.testing.assert_allclose(
            np.asarray(jac(lambda z: tnp.sin(z) * z[::-1], holomorphic=True)(z)), want
        )
    # jacrev of a real output of complex inputs: each row a gradient (d/dx - i d/dy), as jax.grad
    np.testing.assert_allclose(
        np.asarray(tg.jacrev(lambda z: tg.abs(z) ** 2)(z)), np.diag(2 * np.conj(zs))
    )
    # jacfwd of a complex output of real inputs: a complex Jacobian
    x = tg.tensor([0.3, 0.4], tg.float64)
    jf = tg.jacfwd(lambda x: tg.exp(1j * x))(x)
    assert jf.dtype == tg.complex128
    np.testing.assert_allclose(np.asarray(jf), np.diag(1j * np.exp(1j * np.asarray(x))))
    # the holomorphic Hessian
    h = tg.hessian(lambda z: tg.sum(z**3), holomorphic=True)(z)
    np.testing.assert_allclose(np.asarray(h), np.diag(6 * zs))
    # complex64 keeps its dtype
    j = tg.jacrev(lambda z: z * 2, holomorphic=True)(tg.tensor(zs.astype("complex64")))
    assert j.dtype == tg.complex64


def test_jacobian_refusals_follow_jax():
    z = tg.tensor([1 + 1j])
    x = tg.tensor([1.0])
    with pytest.raises(TypeError, match="jacrev requires real-valued outputs.*holomorphic=True"):
        tg.jacrev(lambda z: z * z)(z)
    with pytest.raises(TypeError, match="jacfwd requires real-valued inputs.*holomorphic=True"):
        tg.jacfwd(lambda z: tg.abs(z))(z)
    with pytest.raises(TypeError, match="holomorphic=True requires inputs with complex dtype"):
        tg.jacrev(lambda x: x * 1j, holomorphic=True)(x)
    with pytest.raises(TypeError, match="holomorphic=True requires outputs with complex dtype"):
        tg.jacfwd(lambda z: tg.abs(z), holomorphic=True)(z)
    with pytest.raises(TypeError, match="holomorphic must be a bool"):
        tg.jacrev(tg.sin, holomorphic=1)


@pytest.mark.parametrize("name", CPLX)
def test_multiply_divide_special_values(name):
    # numpy's formulas: the plain product (the Array API's) and Smith's quotient
    z = GRID.astype(name)
    a, b = z[:, None], z[None, :]
    ta, tb = tg.tensor(a), tg.tensor(b)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        want_div, want_mul = a / b, a * b
    assert same(np.asarray(ta / tb), want_div, 1e-5 if name == "complex64" else 1e-12) is None
    got = np.asarray(ta * tb)
    # The standard's formula (ac - bd) + (ad + bc)i, part by part in the part dtype. numpy's own
    # product is that formula too, but its SIMD loops fuse a multiply-add where the machine has
    # FMA, which changes roundings and overflows (1e30 * 1e30 - inf is -inf fused, nan unfused in
    # float32): compared with it only where both are finite.
    plain = np.empty(got.shape, name)
    with np.errstate(all="ignore"):
        ar, ai, br, bi = a.real, a.imag, b.real, b.imag
        plain.real, plain.imag = ar * br - ai * bi, ar * bi + ai * br
    assert same(got, plain, 0.0) is None
    finite = np.isfinite(got) & np.isfinite(want_mul)
    np.testing.assert_allclose(got[finite], want_mul[finite], rtol=1e-5, atol=1e-30)
