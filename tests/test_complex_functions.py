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
