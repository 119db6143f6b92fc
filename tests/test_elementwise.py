"""Elementwise functions: values against numpy (ULP-level for the vectorised transcendentals, on
every SIMD path this CPU runs), special values, dtype promotion, shapes, errors, and derivative
rules (first and second order, forward and reverse)."""

import math
import os

import numpy as np
import pytest

import tapegrad as tg
from helpers import arr
from tapegrad import _core

np.seterr(all="ignore")

F32, F64 = np.float32, np.float64
SIMD_PATHS = [p for p in ("sse2", "avx2", "avx512") if _core._set_simd_path(p)]
_core._set_simd_path("best")


@pytest.fixture(params=SIMD_PATHS)
def simd_path(request):
    assert _core._set_simd_path(request.param)
    yield request.param
    _core._set_simd_path("best")


# ---- references -----------------------------------------------------------------------------
LD = np.longdouble
_erf = np.vectorize(math.erf, otypes=[F64])
_erfc = np.vectorize(math.erfc, otypes=[F64])


def _sigmoid(x):
    x = x.astype(LD)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _gelu(x):
    """x Phi(x) = x erfc(a) / 2, a = -x / sqrt 2. a is carried as a_hi + a_lo (the float64
    rounding of a costs up to 2 a^2 ULP in erfc otherwise): erfc(a_hi + a_lo) ~ erfc(a_hi) -
    a_lo 2 / sqrt(pi) exp(-a_hi^2)."""
    x = np.asarray(x, F64)
    a = -x.astype(LD) / np.sqrt(LD(2))
    ah = a.astype(F64)
    al = (a - ah.astype(LD)).astype(F64)
    with np.errstate(all="ignore"):
        al = np.where(np.isfinite(a), al, 0.0)
        e0 = _erfc(ah)
        ec = e0.astype(LD) - LD(al) * (2 / np.sqrt(np.pi)) * np.exp(-(ah.astype(LD) ** 2))
        r = 0.5 * x.astype(LD) * np.where(e0 == 0, LD(0), ec)
    r = np.where(np.isposinf(x), np.inf, r)
    return np.where(r == 0, np.copysign(LD(0), x), r)  # underflow keeps the sign of x


# name -> (numpy reference on float64/longdouble, input range for random tests)
UNARY = {
    "exp": (np.exp, (-80, 80)),
    "exp2": (np.exp2, (-120, 120)),
    "expm1": (np.expm1, (-30, 80)),
    "log": (np.log, (1e-30, 1e30)),
    "log2": (np.log2, (1e-30, 1e30)),
    "log1p": (np.log1p, (-0.999, 1e20)),
    "sin": (np.sin, (-1e4, 1e4)),
    "cos": (np.cos, (-1e4, 1e4)),
    "tan": (np.tan, (-100, 100)),
    "arcsin": (np.arcsin, (-1, 1)),
    "arccos": (np.arccos, (-1, 1)),
    "arctan": (np.arctan, (-1e3, 1e3)),
    "sinh": (np.sinh, (-80, 80)),
    "cosh": (np.cosh, (-80, 80)),
    "tanh": (np.tanh, (-12, 12)),
    "sigmoid": (_sigmoid, (-100, 40)),
    "softplus": (lambda x: np.logaddexp(LD(0), x.astype(LD)), (-100, 90)),
    "gelu": (_gelu, (-12, 10)),
    "erf": (_erf, (-6, 6)),
    "sqrt": (np.sqrt, (0, 1e6)),
    "rsqrt": (lambda x: 1 / np.sqrt(x.astype(LD)), (1e-6, 1e6)),
    "reciprocal": (lambda x: 1 / x.astype(LD), (0.01, 100)),
    "square": (np.square, (-1e3, 1e3)),
    "abs": (np.abs, (-5, 5)),
    "neg": (np.negative, (-5, 5)),
    "relu": (lambda x: np.maximum(x, 0), (-5, 5)),
    "floor": (np.floor, (-50, 50)),
    "ceil": (np.ceil, (-50, 50)),
    "round": (np.round, (-50, 50)),
    "sign": (np.sign, (-5, 5)),
}
VECMATH = [
    "exp",
    "exp2",
    "expm1",
    "log",
    "log2",
    "log1p",
    "sin",
    "cos",
    "tan",
    "arcsin",
    "arccos",
    "arctan",
    "sinh",
    "cosh",
    "tanh",
    "sigmoid",
    "softplus",
    "gelu",
    "erf",
]


def samples(name, dtype, n, seed=0):
    """Random inputs over the function's range, with a share of small and log-spaced magnitudes."""
    lo, hi = UNARY[name][1]
    rng = np.random.default_rng(seed)
    parts = [rng.uniform(lo, hi, n)]
    if lo > 0:
        parts.append(np.exp(rng.uniform(np.log(lo), np.log(hi), n)))
    else:
        parts.append(rng.uniform(max(lo, -3), min(hi, 3), n))
        if lo < 0 < hi:
            tiny = np.logspace(-20, 0, n // 4) * rng.choice([-1, 1], n // 4)
            parts.append(tiny[(tiny >= lo) & (tiny <= hi)])
    return np.concatenate(parts).astype(dtype)


def ulp_error(got, ref, dtype):
    """|got - ref| in units of the spacing of `dtype` at ref (ref computed in higher precision)."""
    ref = np.asarray(ref, dtype=LD)
    got = np.asarray(got).astype(LD)
    refd = ref.astype(dtype)
    spacing = np.spacing(np.abs(refd)).astype(LD)
    err = np.abs(got - ref) / spacing
    both_inf = np.isinf(got) & np.isinf(refd) & (np.sign(got) == np.sign(refd))
    return np.where(both_inf, 0, err)


def max_ulp(name, dtype):
    # The vectorised kernels are within ~2.5 ULP, gelu within ~4.5 (a long polynomial times exp in
    # its tail); the references themselves add up to ~1 for float64 (numpy's and libm's float64
    # functions).
    return 6 if name == "gelu" else 4


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_values_against_numpy(name, dtype):
    x = samples(name, dtype, 2000)
    ref_fn = UNARY[name][0]
    got = arr(getattr(tg, name)(tg.tensor(x)))
    assert got.dtype == dtype
    ref = ref_fn(x.astype(LD) if ref_fn not in (_erf, _gelu) else x.astype(F64))
    err = ulp_error(got, ref, dtype)
    bad = np.argmax(err)
    assert err.max() <= max_ulp(name, dtype), (
        f"{name}({np.dtype(dtype).name}): {err.max():.2f} ULP at x={x[bad]!r}: got {got[bad]!r}, want {ref[bad]!r}"
    )


@pytest.mark.parametrize("dtype", [F32, F64])
def test_vecmath_on_every_simd_path(simd_path, dtype):
    assert tg.get_simd_path() == simd_path
    for name in VECMATH:
        x = samples(name, dtype, 300, seed=1)
        got = arr(getattr(tg, name)(tg.tensor(x)))
        ref_fn = UNARY[name][0]
        ref = ref_fn(x.astype(LD) if ref_fn not in (_erf, _gelu) else x.astype(F64))
        err = ulp_error(got, ref, dtype)
        assert err.max() <= max_ulp(name, dtype), (
            f"{simd_path} {name}({np.dtype(dtype).name}): {err.max():.2f} ULP"
        )


def test_float64_tails_against_mpmath():
    """Regions where the float64 reference of the other tests is itself inexact: gelu's negative
    tail, erf near 1, sin near multiples of pi/2."""
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 40
    cases = {
        "gelu": (np.linspace(-14.8, -1.0, 60), lambda v: v * mp.erfc(-v / mp.sqrt(2)) / 2),
        "erf": (np.linspace(0.8, 5.9, 60), mp.erf),
        "sin": ((np.arange(1, 60) * 104729 % 600000) * (np.pi / 2), mp.sin),
        "cos": ((np.arange(1, 60) * 7919 % 600000) * (np.pi / 2), mp.cos),
        "tanh": (np.logspace(-8, 1.2, 60), mp.tanh),
        "expm1": (np.logspace(-12, 0, 60) * -1, mp.expm1),
    }
    for name, (x, f) in cases.items():
        ref = np.array([float(f(mp.mpf(float(v)))) for v in x])
        got = arr(getattr(tg, name)(tg.tensor(x, tg.float64)))
        err = ulp_error(got, ref, F64)
        assert err.max() <= 3, f"{name}: {err.max():.2f} ULP at {x[np.argmax(err)]!r}"


SPECIAL = [
    np.nan,
    np.inf,
    -np.inf,
    0.0,
    -0.0,
    1e-30,
    -1e-30,
    1e30,
    -1e30,
    0.5,
    -0.5,
    1.0,
    -1.0,
    88.5,
    -88.5,
    89.5,
    -104.0,
    710.0,
    -745.0,
    1e6,
    2e6,
    -14.9,
    -38.0,
    3.5e38,
    -3.5e38,
]

SPECIAL_REF = {
    "sigmoid": lambda x: _sigmoid(x),
    "softplus": lambda x: np.logaddexp(LD(0), x.astype(LD)),
    "erf": lambda x: _erf(x.astype(F64)),
}


def same_special(got, ref):
    """NaN where numpy has NaN, the same infinities, and the sign of zeros."""
    got = np.asarray(got, dtype=LD)
    ref = np.asarray(ref, dtype=LD)
    ok = (np.isnan(got) == np.isnan(ref)) & (np.isinf(got) == np.isinf(ref))
    ok &= ~(np.isinf(ref) & (np.sign(got) != np.sign(ref)))
    ok &= ~((ref == 0) & (got == 0) & (np.signbit(got) != np.signbit(ref)))
    return ok


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("name", VECMATH)
def test_special_values_propagate_as_numpy(simd_path, name, dtype):
    fi = np.finfo(dtype)
    x = np.array(
        SPECIAL
        + [fi.tiny, -fi.tiny, fi.smallest_subnormal, -fi.smallest_subnormal, fi.max, -fi.max],
        dtype=dtype,
    )
    got = arr(getattr(tg, name)(tg.tensor(x)))
    if name == "gelu":
        xd = x.astype(F64)
        ref = np.where(np.isneginf(xd), -0.0, _gelu(xd)).astype(dtype)  # gelu(-inf) = -0, the limit
    elif name in SPECIAL_REF:
        ref = SPECIAL_REF[name](x).astype(dtype)
    else:
        ref = getattr(np, name)(x)
    ok = same_special(got, ref)
    assert ok.all(), f"{name}: x={x[~ok]} got={got[~ok]} want={ref[~ok]}"
    fin = np.isfinite(got) & np.isfinite(ref) & (np.abs(ref.astype(F64)) >= fi.tiny)
    assert np.allclose(got[fin], ref[fin], rtol=8 * fi.eps, atol=0)


# ---- shapes, layouts, dtypes ------------------------------------------------------------------
@pytest.mark.parametrize("name", ["exp", "tanh", "sqrt", "sin", "gelu", "abs", "floor"])
@pytest.mark.parametrize("shape", [(), (0,), (1,), (7,), (3, 4), (2, 0, 3), (2, 3, 5)])
def test_unary_shapes(name, shape):
    x = np.random.default_rng(1).uniform(0.1, 2.0, shape).astype(F32)
    got = getattr(tg, name)(tg.tensor(x))
    assert got.shape == shape and got.dtype == tg.float32
    ref = UNARY[name][0](x.astype(F64))
    np.testing.assert_allclose(arr(got), np.asarray(ref, F64), rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("view", ["T", "step", "neg_step", "broadcast"])
def test_unary_non_contiguous(view):
    base = np.random.default_rng(2).uniform(-2, 2, (6, 8))
    t = tg.tensor(base)
    if view == "T":
        tv, nv = t.T, base.T
    elif view == "step":
        tv, nv = t[::2, 1::3], base[::2, 1::3]
    elif view == "neg_step":
        tv, nv = t[::-1], base[::-1]
    else:
        tv, nv = tg.broadcast_to(t[0], (4, 8)), np.broadcast_to(base[0], (4, 8))
    for name in ("exp", "tanh", "sin", "erf", "square", "relu"):
        np.testing.assert_allclose(
            arr(getattr(tg, name)(tv)), UNARY[name][0](nv), rtol=1e-14, atol=1e-15
        )
        np.testing.assert_allclose(
            arr(getattr(tv, name)()), UNARY[name][0](nv), rtol=1e-14, atol=1e-15
        )


@pytest.mark.parametrize("threads", [1, 2])
def test_large_arrays_threaded(threads):
    """Sizes above the threading thresholds, contiguous and strided, agree with the serial result."""
    old = tg.get_num_threads()
    tg.set_num_threads(threads)
    try:
        x = np.random.default_rng(3).standard_normal(300_001).astype(F32)
        t = tg.tensor(x)
        np.testing.assert_array_max_ulp(arr(tg.exp(t)), np.exp(x.astype(F64)).astype(F32), maxulp=3)
        np.testing.assert_array_max_ulp(
            arr(tg.tanh(t[::3])), np.tanh(x[::3].astype(F64)).astype(F32), maxulp=3
        )
        np.testing.assert_array_equal(arr(t + t), x + x)
        np.testing.assert_array_equal(arr(t[::2] * 2.0), x[::2] * F32(2))
        m = x.reshape(1, -1)[:, :300_000].reshape(600, 500)
        tm = t[:300_000].reshape(600, 500)
        np.testing.assert_array_equal(arr(tm.T - tm[:, 0]), m.T - m[:, 0])
    finally:
        tg.set_num_threads(old)


def test_threaded_results_are_the_same_bits_for_any_pool_size():
    # Each thread starts on its own lane of chunks and steals from the others' ends; chunks of the
    # flat loops start on 64-byte blocks. Whatever the pool (more threads than chunks, than
    # cores), every element is computed once and the same way: the results equal the serial ones
    # bit for bit, for sizes with a ragged end, views starting mid-line, scalar operands and
    # every item size.
    old = tg.get_num_threads()
    rng = np.random.default_rng(11)
    cases = []
    for n in (40_001, 65_537, 100_003, 300_001):
        x = rng.standard_normal(n)
        y = rng.standard_normal(n)
        cases.append((x.astype(F32), y.astype(F32)))
    x64, y64 = rng.standard_normal(70_001), rng.standard_normal(70_001)
    c128 = (x64 + 1j * y64).astype(np.complex128)
    i8 = rng.integers(-128, 128, 200_003).astype(np.int8)

    def compute():
        out = []
        for x, y in cases:
            tx, ty = tg.tensor(x), tg.tensor(y)
            out += [tx + ty, tg.exp(tx), tg.tanh(tx[3:]), tx[1:] * ty[:-1], tx - 2.5, tx > ty]
        t64, u64 = tg.tensor(x64), tg.tensor(y64)
        out += [t64 * u64, tg.sin(t64), tg.maximum(t64[5:], 0.0), t64.astype(tg.float32)]
        tc = tg.tensor(c128)
        out += [tc * tc, tc + 1.0]
        ti = tg.tensor(i8)
        out += [ti + ti, ti * 3, tg.abs(ti)]
        return [arr(o) for o in out]

    try:
        tg.set_num_threads(1)
        want = compute()
        for threads in (2, 3, 5, 8):
            tg.set_num_threads(threads)
            for _ in range(3):  # the split between threads differs from call to call
                for g, w in zip(compute(), want):
                    assert g.dtype == w.dtype
                    np.testing.assert_array_equal(g.view(np.uint8), w.view(np.uint8))
    finally:
        tg.set_num_threads(old)
    x, y = cases[2]  # and they are the right numbers (six results per case above)
    np.testing.assert_array_equal(want[12], x + y)
    np.testing.assert_array_equal(want[15], x[1:] * y[:-1])
    np.testing.assert_array_equal(want[-3], i8 + i8)


@pytest.mark.parametrize("name", ["exp", "sqrt", "sin", "log1p", "tanh", "erf", "arctan"])
def test_float_functions_of_integers_and_bools(name):
    i32 = np.array([0, 1, 2, 3], np.int32)
    i64 = np.array([0, 1, 2, 3], np.int64)
    b = np.array([True, False, True])
    for x, want in ((i32, F64), (i64, F64), (b, np.float16)):
        got = getattr(tg, name)(tg.tensor(x))
        assert arr(got).dtype == want, f"{name}({x.dtype}) -> {got.dtype}"
        ref = UNARY[name][0](x.astype(F64))
        np.testing.assert_allclose(
            arr(got).astype(F64), ref, rtol=1e-3 if want == np.float16 else 1e-14
        )


def test_integer_preserving_functions():
    x = np.array([-3, -1, 0, 2, 5], np.int32)
    t = tg.tensor(x)
    for name, ref in (
        ("abs", np.abs(x)),
        ("neg", -x),
        ("square", x * x),
        ("sign", np.sign(x)),
        ("floor", x),
        ("ceil", x),
        ("round", x),
        ("relu", np.maximum(x, 0)),
    ):
        got = getattr(tg, name)(t)
        assert got.dtype == tg.int32, name
        np.testing.assert_array_equal(arr(got), ref)
    np.testing.assert_array_equal(arr(tg.reciprocal(tg.tensor([1, 2, -1, 4]))), [1, 0, -1, 0])
    b = tg.tensor([True, False])
    assert tg.abs(b).dtype == tg.bool_ and tg.floor(b).dtype == tg.bool_
    assert tg.square(b).dtype == tg.int8  # as numpy


def test_float16_inputs_computed_in_float32():
    x = np.array([0.5, 1.0, 2.0, -3.0], np.float16)
    for name in ("exp", "tanh", "sigmoid", "sqrt"):
        got = getattr(tg, name)(tg.tensor(x))
        assert got.dtype == tg.float16
        ref = UNARY[name][0](x.astype(F64))
        np.testing.assert_allclose(
            arr(got).astype(F64), np.asarray(ref, F64), rtol=1e-3, equal_nan=True
        )


def test_rounding_functions_match_numpy():
    x = np.array([-2.5, -1.5, -0.5, -0.0, 0.0, 0.5, 1.5, 2.5, 2.7, -2.7, np.nan, np.inf], F32)
    for name, f in (("round", np.round), ("floor", np.floor), ("ceil", np.ceil)):
        got = arr(getattr(tg, name)(tg.tensor(x)))
        np.testing.assert_array_equal(got, f(x))
        assert (np.signbit(got) == np.signbit(f(x)))[~np.isnan(x)].all()


def test_predicates_and_logical():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, 1.5], F32)
    t = tg.tensor(x)
    np.testing.assert_array_equal(arr(tg.isnan(t)), np.isnan(x))
    np.testing.assert_array_equal(arr(tg.isfinite(t)), np.isfinite(x))
    np.testing.assert_array_equal(arr(tg.isnan(tg.tensor([1, 2]))), [False, False])
    np.testing.assert_array_equal(arr(tg.isfinite(tg.tensor([1, 2]))), [True, True])
    a = np.array([0, 1, 2, 0])
    b = np.array([0.0, 0.0, 3.0, 1.0])
    np.testing.assert_array_equal(
        arr(tg.logical_and(tg.tensor(a), tg.tensor(b))), np.logical_and(a, b)
    )
    np.testing.assert_array_equal(
        arr(tg.logical_or(tg.tensor(a), tg.tensor(b))), np.logical_or(a, b)
    )
    np.testing.assert_array_equal(arr(tg.logical_not(tg.tensor(a))), np.logical_not(a))
    np.testing.assert_array_equal(arr(tg.logical_and(tg.tensor(a), 1)), np.logical_and(a, 1))
    for f in (tg.isnan, tg.isfinite, tg.logical_not):
        assert f(t).dtype == tg.bool_


def test_unary_dtype_errors():
    with pytest.raises(TypeError, match="neg.*Bool"):
        tg.neg(tg.tensor([True]))
    with pytest.raises(TypeError, match="sign.*Bool"):
        tg.sign(tg.tensor([True]))
    with pytest.raises(TypeError, match="exp: .*string"):
        tg.exp("abc")
    with pytest.raises(TypeError):
        tg.exp(None)


# ---- binary functions -------------------------------------------------------------------------
BINARY = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": np.true_divide,
    "pow": np.power,
    "maximum": np.maximum,
    "minimum": np.minimum,
    "arctan2": np.arctan2,
    "floor_divide": np.floor_divide,
    "mod": np.remainder,
}
DTYPES = [np.bool_, np.int32, np.int64, np.float16, np.float32, np.float64]


def operand_values(dtype, shape, rng, positive=False):
    if dtype == np.bool_:
        return rng.integers(0, 2, shape).astype(bool)
    if np.issubdtype(dtype, np.integer):
        return rng.integers(1 if positive else -4, 6, shape).astype(dtype)
    v = rng.uniform(0.5 if positive else -3, 3, shape)
    return v.astype(dtype)


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("da", DTYPES)
@pytest.mark.parametrize("db", DTYPES)
def test_binary_dtypes_match_numpy(name, da, db):
    rng = np.random.default_rng(4)
    positive = name in ("pow", "floor_divide", "mod", "div")
    a = operand_values(da, (5,), rng, positive)
    b = operand_values(db, (5,), rng, positive)
    try:
        want = BINARY[name](a, b)
    except TypeError:
        with pytest.raises(TypeError):
            getattr(tg, name)(tg.tensor(a), tg.tensor(b))
        return
    got = getattr(tg, name)(tg.tensor(a), tg.tensor(b))
    want_dt = want.dtype
    assert arr(got).dtype == want_dt, (
        f"{name}({a.dtype}, {b.dtype}) -> {got.dtype}, numpy {want.dtype}"
    )
    tol = 2e-3 if want_dt == np.float16 else (2e-6 if want_dt == np.float32 else 1e-13)
    np.testing.assert_allclose(arr(got).astype(F64), want.astype(F64), rtol=tol, atol=tol)


@pytest.mark.parametrize(
    "sa,sb",
    [
        ((), ()),
        ((3,), ()),
        ((), (4,)),
        ((2, 3), (3,)),
        ((2, 1), (1, 4)),
        ((4, 1, 3), (2, 1)),
        ((0,), (1,)),
        ((2, 0), (2, 1)),
    ],
)
@pytest.mark.parametrize("name", ["add", "mul", "sub", "div", "maximum", "pow", "arctan2", "mod"])
def test_binary_broadcasting(name, sa, sb):
    rng = np.random.default_rng(5)
    a = rng.uniform(0.5, 2, sa)
    b = rng.uniform(0.5, 2, sb)
    got = getattr(tg, name)(tg.tensor(a), tg.tensor(b))
    want = BINARY[name](a, b)
    assert got.shape == want.shape
    np.testing.assert_allclose(arr(got), want, rtol=1e-14)


def test_binary_non_contiguous():
    rng = np.random.default_rng(6)
    a = rng.uniform(0.5, 2, (6, 8))
    b = rng.uniform(0.5, 2, (8, 6))
    ta, tb = tg.tensor(a), tg.tensor(b)
    for name, f in BINARY.items():
        np.testing.assert_allclose(arr(getattr(tg, name)(ta, tb.T)), f(a, b.T), rtol=1e-14)
        np.testing.assert_allclose(
            arr(getattr(tg, name)(ta[::2, ::-3], tb.T[1::2, ::-3])),
            f(a[::2, ::-3], b.T[1::2, ::-3]),
            rtol=1e-14,
        )


def test_binary_special_values():
    a = np.array([np.nan, 1.0, np.inf, -np.inf, 0.0, -0.0, 0.0, 5.0, -5.0, 5.0])
    b = np.array([1.0, np.nan, np.inf, 1.0, -0.0, 0.0, 0.0, 0.0, 3.0, -3.0])
    for name, f in BINARY.items():
        got = arr(getattr(tg, name)(tg.tensor(a), tg.tensor(b)))
        want = f(a, b)
        assert same_special(got, want).all(), f"{name}: got {got} want {want}"
        np.testing.assert_allclose(got, want, rtol=1e-15, equal_nan=True)


def test_pow_float32_vectorised(simd_path):
    rng = np.random.default_rng(11)
    a = np.exp(rng.uniform(-20, 20, 3000)).astype(F32)
    b = rng.uniform(-6, 6, 3000).astype(F32)
    got = arr(tg.pow(tg.tensor(a), tg.tensor(b)))
    ref = a.astype(F64) ** b.astype(F64)
    fin = np.isfinite(ref.astype(F32)) & (np.abs(ref) >= np.finfo(F32).tiny)
    assert ulp_error(got[fin], ref[fin], F32).max() <= 1
    assert (np.isinf(got) == np.isinf(ref.astype(F32))).all()
    # Special values follow libm/numpy: negative bases, zeros, infinities, NaN.
    sp = np.array(
        [0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -3.0, np.inf, -np.inf, np.nan, 1e-40, 3e38], F32
    )
    A, B = (m.ravel() for m in np.meshgrid(sp, sp))
    got = arr(tg.pow(tg.tensor(A), tg.tensor(B)))
    want = np.power(A, B)
    assert same_special(got, want).all()
    np.testing.assert_array_max_ulp(got[np.isfinite(want)], want[np.isfinite(want)], maxulp=1)
    # Broadcast and strided operands take the same kernel.
    np.testing.assert_array_max_ulp(
        arr(tg.tensor(a[:100]) ** tg.tensor(b[:10]).reshape(10, 1)),
        (a[:100].astype(F64) ** b[:10].astype(F64).reshape(10, 1)).astype(F32),
        1,
    )
    np.testing.assert_array_max_ulp(
        arr(tg.tensor(a)[::7] ** 1.7),  # a weak scalar: float32(1.7)
        (a[::7].astype(F64) ** F64(F32(1.7))).astype(F32),
        1,
    )


@pytest.mark.parametrize("e", [2, 0.5, -1, 1, 0, 3, 2.5])
@pytest.mark.parametrize("dtype", [F32, F64])
def test_pow_scalar_exponents_like_numpy_operator(e, dtype):
    x = np.array([-0.0, 0.0, -1.0, 2.0, 3.5, np.inf, -np.inf, np.nan], dtype)
    got = arr(tg.tensor(x) ** e)
    want = x**e
    assert got.dtype == want.dtype
    assert same_special(got, want).all(), (got, want)
    np.testing.assert_array_max_ulp(got[np.isfinite(want)], want[np.isfinite(want)], maxulp=1)


def test_integer_division_and_modulo_follow_numpy():
    a = np.array([7, -7, 7, -7, 0, 5], np.int64)
    b = np.array([2, 2, -2, -2, 3, 0], np.int64)
    np.testing.assert_array_equal(
        arr(tg.floor_divide(tg.tensor(a), tg.tensor(b))), np.floor_divide(a, b)
    )
    np.testing.assert_array_equal(arr(tg.mod(tg.tensor(a), tg.tensor(b))), np.remainder(a, b))
    af = a.astype(F64)
    bf = np.array([2.0, 2.0, -2.0, -2.0, 3.0, 0.5])
    np.testing.assert_array_equal(
        arr(tg.floor_divide(tg.tensor(af), tg.tensor(bf))), np.floor_divide(af, bf)
    )
    np.testing.assert_array_equal(arr(tg.mod(tg.tensor(af), tg.tensor(bf))), np.remainder(af, bf))


def test_binary_errors():
    with pytest.raises(ValueError, match=r"add: .*\(3,\).*Float32.*\(2,\).*Int64"):
        tg.add(tg.tensor([1.0, 2.0, 3.0]), tg.tensor([1, 2]))
    with pytest.raises(TypeError, match="sub: numpy boolean subtract"):
        tg.sub(tg.tensor([True]), tg.tensor([False]))
    with pytest.raises(ValueError, match="pow: integers to negative integer powers"):
        tg.pow(tg.tensor([2, 3]), tg.tensor([1, -1]))
    with pytest.raises(TypeError):
        tg.add(tg.tensor([1.0]), "x")


def test_maximum_minimum_nan_and_ties():
    a = np.array([np.nan, 1.0, -0.0, 0.0, 2.0])
    b = np.array([1.0, np.nan, 0.0, -0.0, 2.0])
    for name, f in (("maximum", np.maximum), ("minimum", np.minimum)):
        got = arr(getattr(tg, name)(tg.tensor(a), tg.tensor(b)))
        want = f(a, b)
        np.testing.assert_array_equal(got, want)
        assert (np.signbit(got) == np.signbit(want))[~np.isnan(want)].all()


# ---- where and clip ---------------------------------------------------------------------------
def test_where_values_dtypes_broadcast():
    c = np.array([[True], [False]])
    a = np.arange(3, dtype=F32)
    b = np.array(7, np.int32)
    got = tg.where(tg.tensor(c), tg.tensor(a), tg.tensor(b))
    want = np.where(c, a, b)
    assert got.shape == want.shape and arr(got).dtype == want.dtype
    np.testing.assert_array_equal(arr(got), want)
    np.testing.assert_array_equal(
        arr(tg.where(tg.tensor(a) > 0, tg.tensor(a), 0.0)), np.where(a > 0, a, F32(0))
    )
    assert tg.where(tg.tensor(a) > 0, tg.tensor(a), 0.0).dtype == tg.float32
    np.testing.assert_array_equal(arr(tg.where(tg.tensor([1, 0, 2]), 1, 0)), [1, 0, 1])
    with pytest.raises(ValueError, match="where"):
        tg.where(tg.tensor([True, False, True]), tg.tensor([1.0, 2.0]), 0.0)


@pytest.mark.parametrize(
    "lo,hi",
    [(1.5, 4.0), (None, 2.0), (-1.0, None), (None, None), (4.0, 1.0), ("t", 3.0), (0.0, "t")],
)
def test_clip_values(lo, hi):
    x = np.array([-1.0, 0.0, 1.5, 2.0, 3.7, 5.0, np.nan], F32)
    bound = np.array([0.5, 0.5, 2.0, 2.0, 1.0, 1.0, 1.0], F32)
    nlo = bound if lo == "t" else lo
    nhi = bound if hi == "t" else hi
    tlo = tg.tensor(bound) if lo == "t" else lo
    thi = tg.tensor(bound) if hi == "t" else hi
    got = tg.clip(tg.tensor(x), tlo, thi)
    want = np.clip(x, nlo, nhi)
    assert got.dtype == tg.float32
    np.testing.assert_array_equal(arr(got), want)
    np.testing.assert_array_equal(arr(tg.tensor(x).clip(tlo, thi)), want)


def test_clip_dtypes_and_broadcast():
    i = np.array([1, 5, 10])
    assert tg.clip(tg.tensor(i), 2, 7).dtype == tg.int64
    np.testing.assert_array_equal(arr(tg.clip(tg.tensor(i), 2, 7)), np.clip(i, 2, 7))
    got = tg.clip(tg.tensor(i), 2.5, 7)
    assert arr(got).dtype == np.clip(i, 2.5, 7).dtype
    np.testing.assert_array_equal(arr(got), np.clip(i, 2.5, 7))
    x = np.arange(6.0).reshape(2, 3)
    lo = np.array([[1.0], [4.0]])
    np.testing.assert_array_equal(
        arr(tg.clip(tg.tensor(x), tg.tensor(lo), 4.5)), np.clip(x, lo, 4.5)
    )
    assert np.signbit(arr(tg.clip(tg.tensor([-0.0]), 0.0, 1.0)))[0] == np.signbit(
        np.clip(-0.0, 0.0, 1.0)
    )
    with pytest.raises(ValueError, match="clip"):
        tg.clip(tg.tensor(x), tg.tensor([1.0, 2.0]), None)


# ---- derivatives ----------------------------------------------------------------------------
# Points inside each function's domain, away from kinks.
GRAD_RANGE = {
    "log": (0.3, 2.0),
    "log2": (0.3, 2.0),
    "log1p": (-0.5, 2.0),
    "sqrt": (0.3, 2.0),
    "rsqrt": (0.3, 2.0),
    "reciprocal": (0.3, 2.0),
    "arcsin": (-0.8, 0.8),
    "arccos": (-0.8, 0.8),
    "tan": (-1.2, 1.2),
}
DIFFERENTIABLE_UNARY = [
    "neg",
    "abs",
    "exp",
    "exp2",
    "log",
    "log2",
    "log1p",
    "expm1",
    "sqrt",
    "rsqrt",
    "square",
    "reciprocal",
    "sin",
    "cos",
    "tan",
    "arcsin",
    "arccos",
    "arctan",
    "sinh",
    "cosh",
    "tanh",
    "sigmoid",
    "relu",
    "softplus",
    "gelu",
    "erf",
]


def grad_input(name, shape=(4,), dtype=tg.float64, seed=0):
    lo, hi = GRAD_RANGE.get(name, (-2.0, 2.0))
    v = np.random.default_rng(seed).uniform(lo, hi, shape)
    if name in ("abs", "relu"):
        v = np.where(np.abs(v) < 0.1, 0.5, v)  # away from the kink
    return tg.tensor(v, dtype)


@pytest.mark.parametrize("name", DIFFERENTIABLE_UNARY)
def test_unary_grads_order2(name):
    tg.testing.check_grads(getattr(tg, name), (grad_input(name),), order=2)


@pytest.mark.parametrize("name", DIFFERENTIABLE_UNARY)
def test_unary_grads_float32(name):
    tg.testing.check_grads(getattr(tg, name), (grad_input(name, dtype=tg.float32),), order=1)


def test_unary_grad_values():
    x = tg.tensor([0.3, -1.2, 2.0], tg.float64)
    xn = arr(x)
    cases = {
        "tanh": 1 - np.tanh(xn) ** 2,
        "sigmoid": _sigmoid(xn) * (1 - _sigmoid(xn)),
        "erf": 2 / np.sqrt(np.pi) * np.exp(-(xn**2)),
        "softplus": _sigmoid(xn),
        "relu": (xn > 0).astype(F64),
        "abs": np.sign(xn),
    }
    for name, want in cases.items():
        fn = getattr(tg, name)
        g = tg.grad(lambda t, fn=fn: fn(t).sum())(x)
        np.testing.assert_allclose(arr(g), np.asarray(want, F64), rtol=1e-13, err_msg=name)


BINARY_GRAD_RANGE = {
    "pow": ((0.5, 2.0), (-1.5, 1.5)),
    "div": ((-2, 2), (0.5, 2.0)),
    "mod": ((0.5, 4.0), (0.7, 1.3)),
    "arctan2": ((-2, 2), (-2, 2)),
}


@pytest.mark.parametrize(
    "name", ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "arctan2", "mod"]
)
@pytest.mark.parametrize("shapes", [((4,), (4,)), ((2, 3), (3,)), ((), (3,))])
def test_binary_grads_order2(name, shapes):
    (alo, ahi), (blo, bhi) = BINARY_GRAD_RANGE.get(name, ((-2, 2), (-2, 2)))
    rng = np.random.default_rng(7)
    a = tg.tensor(rng.uniform(alo, ahi, shapes[0]), tg.float64)
    b = tg.tensor(rng.uniform(blo, bhi, shapes[1]), tg.float64)
    tg.testing.check_grads(getattr(tg, name), (a, b), order=2)


@pytest.mark.parametrize("name", ["add", "mul", "div", "pow", "maximum", "arctan2"])
def test_binary_grads_float32(name):
    (alo, ahi), (blo, bhi) = BINARY_GRAD_RANGE.get(name, ((-2, 2), (-2, 2)))
    rng = np.random.default_rng(8)
    a = tg.tensor(rng.uniform(alo, ahi, (3,)), tg.float32)
    b = tg.tensor(rng.uniform(blo, bhi, (3,)), tg.float32)
    tg.testing.check_grads(getattr(tg, name), (a, b), order=1)


def test_binary_grad_special_points():
    # maximum/minimum split ties in half; d/dx x**0 = 0 also at x = 0; d/dy 0**y = 0 for y > 0.
    x = tg.tensor([1.0, 2.0, 3.0], tg.float64)
    y = tg.tensor([1.0, 3.0, 2.0], tg.float64)
    gx, gy = tg.grad(lambda a, b: tg.maximum(a, b).sum(), grad_position=(0, 1))(x, y)
    np.testing.assert_array_equal(arr(gx), [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(arr(gy), [0.5, 1.0, 0.0])
    z = tg.tensor([0.0, 0.0], tg.float64)
    e = tg.tensor([0.0, 2.0], tg.float64)
    gz, ge = tg.grad(lambda a, b: tg.pow(a, b).sum(), grad_position=(0, 1))(z, e)
    np.testing.assert_array_equal(arr(gz), [0.0, 0.0])
    np.testing.assert_array_equal(arr(ge), [0.0, 0.0])
    # Integer exponents: gradient for the base only.
    g = tg.grad(lambda a: tg.pow(a, tg.tensor([2, 3])).sum())(tg.tensor([1.5, 2.0], tg.float64))
    np.testing.assert_allclose(arr(g), [3.0, 12.0])


def test_where_grads():
    c = tg.tensor([True, False, True, False])
    rng = np.random.default_rng(9)
    a = tg.tensor(rng.uniform(-1, 1, (4,)), tg.float64)
    b = tg.tensor(rng.uniform(-1, 1, (2, 4)), tg.float64)
    tg.testing.check_grads(lambda a, b: tg.where(c, a * a, tg.sin(b)), (a, b), order=2)
    ga, gb = tg.grad(lambda a, b: tg.where(c, a, b).sum(), grad_position=(0, 1))(a, b)
    np.testing.assert_array_equal(arr(ga), [2.0, 0.0, 2.0, 0.0])
    np.testing.assert_array_equal(arr(gb), [[0, 1, 0, 1], [0, 1, 0, 1]])


def test_clip_grads():
    rng = np.random.default_rng(10)
    x = tg.tensor(rng.uniform(-2, 2, (6,)), tg.float64)
    lo = tg.tensor(rng.uniform(-1.5, -0.5, (6,)), tg.float64)
    hi = tg.tensor(rng.uniform(0.5, 1.5, (6,)), tg.float64)
    tg.testing.check_grads(lambda x, lo, hi: tg.clip(x * x * x, lo, hi), (x, lo, hi), order=2)
    tg.testing.check_grads(lambda x: tg.clip(tg.sin(x), None, 0.3), (x,), order=2)
    tg.testing.check_grads(lambda x, lo: tg.clip(x, lo, None), (x, lo), order=1)
    tg.testing.check_grads(
        lambda x: tg.clip(x, -0.5, 0.5), (tg.tensor([0.1, -0.3], tg.float32),), order=1
    )
    # Ties keep the gradient in x; where lo > hi the result is hi.
    xs = tg.tensor([-1.0, 0.0, 1.0, 2.0, 5.0], tg.float64)
    gx, glo, ghi = tg.grad(lambda x, l, h: tg.clip(x, l, h).sum(), grad_position=(0, 1, 2))(
        xs,
        tg.tensor([0.0, 0.0, 0.0, 0.0, 9.0], tg.float64),
        tg.tensor([1.0, 1.0, 1.0, 1.0, 1.0], tg.float64),
    )
    np.testing.assert_array_equal(arr(gx), [0, 1, 1, 0, 0])
    np.testing.assert_array_equal(arr(glo), [1, 0, 0, 0, 0])
    np.testing.assert_array_equal(arr(ghi), [0, 0, 0, 1, 1])


def test_integer_inputs_are_not_differentiated():
    i = tg.tensor([1, 2, 3])
    x = tg.tensor([0.5, 1.0, 1.5], tg.float64)
    g = tg.grad(lambda x: (tg.sqrt(i) * x + tg.exp(i) / x).sum())(x)
    ii = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(arr(g), np.sqrt(ii) - np.exp(ii) / arr(x) ** 2)


def test_jvp_of_composite_expression():
    x = tg.tensor([0.2, 0.7], tg.float64)
    v = tg.tensor([1.0, -2.0], tg.float64)
    _out, t = tg.jvp(lambda x: tg.gelu(tg.tanh(x)) * tg.erf(x), (x,), (v,))
    xn = arr(x)
    eps = 1e-6

    def f(z):
        th = np.tanh(z)
        return _gelu(th) * _erf(z)

    np.testing.assert_allclose(
        arr(t), (f(xn + eps * arr(v)) - f(xn - eps * arr(v))) / (2 * eps), rtol=1e-7
    )


@pytest.mark.skipif(
    not os.environ.get("TAPEGRAD_SLOW"), reason="slow property test; set TAPEGRAD_SLOW=1"
)
def test_vecmath_property_random_floats():
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=300, deadline=None)
    @given(
        st.lists(st.floats(width=32, allow_nan=True, allow_infinity=True), min_size=1, max_size=40),
        st.sampled_from(VECMATH),
    )
    def check(vals, name):
        x = np.array(vals, F32)
        got = arr(getattr(tg, name)(tg.tensor(x)))
        ref_fn = UNARY[name][0]
        if name == "gelu":
            ref = np.where(np.isneginf(x), -0.0, _gelu(x)).astype(F32)
        else:
            ref = np.asarray(
                ref_fn(x.astype(LD) if ref_fn not in (_erf,) else x.astype(F64))
            ).astype(F32)
        assert same_special(got, ref).all()
        fin = np.isfinite(ref) & (np.abs(ref) >= np.finfo(F32).tiny)
        assert (
            ulp_error(
                got[fin],
                np.asarray(
                    ref_fn(x[fin].astype(LD) if ref_fn not in (_erf, _gelu) else x[fin].astype(F64))
                ),
                F32,
            )
            <= 4
        ).all()

    del hypothesis
    check()


HL_SPECIAL = np.array([0.0, -0.0, 1e-300, 3.0, -4.0, 1e300, np.inf, -np.inf, np.nan])


@pytest.mark.parametrize("name", ["hypot", "logaddexp"])
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_hypot_logaddexp_special_values_as_numpy(name, dt):
    a, b = np.meshgrid(HL_SPECIAL.astype(dt), HL_SPECIAL.astype(dt))
    with np.errstate(all="ignore"):
        want = getattr(np, name)(a, b)
    got = getattr(tg, name)(tg.tensor(a), tg.tensor(b)).asnumpy()
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=2e-7 if dt == np.float64 else 2e-6)
    assert getattr(tg.numpy, name) is getattr(tg, name)


@pytest.mark.parametrize("name", ["hypot", "logaddexp"])
def test_hypot_logaddexp_integers_give_float64_and_broadcast(name):
    a, b = np.arange(6).reshape(2, 3), np.array([1, 2, 3])
    got = getattr(tg, name)(tg.tensor(a), b).asnumpy()
    want = getattr(np, name)(a, b)
    assert got.dtype == want.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-15)
    got = tg.grad(lambda x: getattr(tg, name)(x, 2.0).sum())(
        tg.tensor([1.0, 3.0], dtype=tg.float64)
    )
    assert np.isfinite(got.asnumpy()).all()


def test_logaddexp_gradient_at_infinities_is_the_limit():
    a = tg.tensor([-np.inf, np.inf, -np.inf, np.inf, 0.0], dtype=tg.float64)
    b = tg.tensor([1.0, 1.0, -np.inf, np.inf, 0.0], dtype=tg.float64)
    ga, gb = tg.grad(lambda x, y: tg.logaddexp(x, y).sum(), (0, 1))(a, b)
    np.testing.assert_array_equal(ga.asnumpy(), [0.0, 1.0, 0.5, 0.5, 0.5])
    np.testing.assert_array_equal(gb.asnumpy(), [1.0, 0.0, 0.5, 0.5, 0.5])


def test_hypot_gradient_at_the_origin_is_zero():
    z = tg.tensor([0.0, 3.0], dtype=tg.float64)
    gx, gy = tg.grad(lambda x, y: tg.hypot(x, y).sum(), (0, 1))(
        z, tg.tensor([0.0, 4.0], dtype=tg.float64)
    )
    np.testing.assert_allclose(gx.asnumpy(), [0.0, 0.6])
    np.testing.assert_allclose(gy.asnumpy(), [0.0, 0.8])


@pytest.mark.parametrize("n", [3, 4, 3.0, 4.0])
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_cube_and_fourth_power_by_multiplication_match_pow(n, dt):
    x = np.concatenate([np.random.default_rng(3).uniform(-3, 3, 1000), HL_SPECIAL]).astype(dt)
    with np.errstate(all="ignore"):
        want = x**n
    got = (tg.tensor(x) ** n).asnumpy()
    assert got.dtype == want.dtype
    fin = np.isfinite(want)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(got[~fin & ~np.isnan(want)], want[~fin & ~np.isnan(want)])
    np.testing.assert_array_equal(np.signbit(got[want == 0]), np.signbit(want[want == 0]))
    np.testing.assert_allclose(got[fin], want[fin], rtol=2 * np.finfo(dt).eps, atol=0)
    # The same kernel under a fused jit replay: the same bits.
    f = tg.jit(lambda t: t**n)
    np.testing.assert_array_equal(f(tg.tensor(x)).asnumpy(), got)
