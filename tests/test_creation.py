"""Creation functions against numpy: values, dtypes, shapes, errors."""

import numpy as np
import pytest

import tapegrad as tg

DTYPES = [tg.float16, tg.float32, tg.float64, tg.int32, tg.int64, tg.bool_]


def np_dt(dt):
    return np.dtype(dt.name)


def check(t, expected, dtype=None):
    assert isinstance(t, tg.Tensor)
    expected = np.asarray(expected)
    if dtype is not None:
        assert t.dtype == dtype, (t.dtype, dtype)
        expected = expected.astype(np_dt(dtype))
    a = t.asnumpy()
    assert a.shape == expected.shape
    assert a.dtype == expected.dtype, (a.dtype, expected.dtype)
    np.testing.assert_array_equal(a, expected)


# ---- zeros / ones / empty / full -----------------------------------------------------------------


@pytest.mark.parametrize("shape", [(), 0, 3, (2, 3), [2, 0, 4], (1, 1, 1), np.int64(4)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_zeros_ones_full_empty(shape, dtype):
    check(tg.zeros(shape, dtype), np.zeros(shape, np_dt(dtype)), dtype)
    check(tg.ones(shape, dtype), np.ones(shape, np_dt(dtype)), dtype)
    check(tg.full(shape, 3, dtype), np.full(shape, 3, np_dt(dtype)), dtype)
    e = tg.empty(shape, dtype)
    assert e.shape == np.empty(shape).shape and e.dtype == dtype


def test_default_dtypes():
    assert tg.zeros(3).dtype == tg.float32
    assert tg.ones((2, 2)).dtype == tg.float32
    assert tg.empty(2).dtype == tg.float32
    assert tg.full(2, 1.5).dtype == tg.float32
    assert tg.full(2, 7).dtype == tg.int64
    assert tg.full(2, True).dtype == tg.bool_
    assert tg.full(2, np.float64(1.5)).dtype == tg.float64
    assert tg.full(2, np.int32(3)).dtype == tg.int32
    assert tg.full(2, tg.tensor(2.0, tg.float64)).dtype == tg.float64


@pytest.mark.parametrize(
    "dtype", [tg.float64, "float64", np.float64, np.dtype("float64"), "Float64"]
)
def test_dtype_spellings(dtype):
    assert tg.zeros(2, dtype=dtype).dtype == tg.float64
    assert tg.ones(2, dtype).dtype == tg.float64


def test_full_values_exact():
    # Python floats reach float64 without a detour through float32; big ints stay exact.
    check(tg.full(3, 0.1, tg.float64), np.full(3, 0.1))
    check(tg.full(2, 2**62 + 1), np.full(2, 2**62 + 1, np.int64))
    check(tg.full((2, 2), 3.7, tg.int32), np.full((2, 2), 3.7, np.int32))
    check(tg.full((2,), -0.0), np.full(2, -0.0, np.float32))
    check(tg.full(2, np.nan), np.full(2, np.nan, np.float32))


def test_full_array_fill_broadcasts():
    check(tg.full((2, 3), [1.0, 2.0, 3.0]), np.full((2, 3), [1, 2, 3], np.float32))
    check(tg.full((2, 3), tg.tensor([[1], [2]])), np.full((2, 3), [[1], [2]], np.int64))
    with pytest.raises(ValueError, match="full"):
        tg.full((2, 3), [1.0, 2.0])


def test_full_like_zeros_like_ones_like():
    x = tg.tensor(np.arange(6, dtype=np.int32).reshape(2, 3))
    check(tg.zeros_like(x), np.zeros((2, 3), np.int32))
    check(tg.ones_like(x, dtype=tg.float64), np.ones((2, 3)))
    check(tg.full_like(x, 2.5), np.full_like(np.zeros((2, 3), np.int32), 2.5))
    check(tg.full_like(x, 2.5, tg.float32), np.full((2, 3), 2.5, np.float32))
    e = tg.empty_like(x)
    assert e.shape == (2, 3) and e.dtype == tg.int32
    # Non-contiguous, 0-d, empty and non-tensor inputs.
    check(tg.ones_like(x.T), np.ones((3, 2), np.int32))
    check(tg.zeros_like(tg.tensor(1.5)), np.zeros((), np.float32))
    check(tg.full_like(tg.zeros((0, 2)), 1), np.ones((0, 2), np.float32))
    check(tg.zeros_like(np.ones((2, 2))), np.zeros((2, 2)))
    check(tg.ones_like([1, 2, 3]), np.ones(3, np.int64))
    # The module-level names and the private ones agree.
    check(tg._core.zeros_like(x, tg.float64), np.zeros((2, 3)))


def test_full_is_differentiable_in_its_fill_value():
    def f(v):
        return (tg.full((2, 3), v) * tg.arange(6.0, dtype=tg.float64).reshape((2, 3))).sum()

    g = tg.grad(f)(tg.tensor(2.0, tg.float64))
    assert float(g) == pytest.approx(15.0)
    tg.testing.check_grads(lambda v: tg.full((2, 2), v) * v, (tg.tensor(1.5, tg.float64),), order=2)
    tg.testing.check_grads(
        lambda v: tg.full((3, 2), v) ** 2, (tg.tensor([0.5, -1.0], tg.float64),), order=2
    )
    tg.testing.check_grads(lambda v: tg.full((2,), v) * v, (tg.tensor(1.5, tg.float32),), order=1)


def test_creation_results_are_constants_under_grad():
    def f(x):
        return (x * tg.ones_like(x) + tg.zeros_like(x) + tg.full_like(x, 2.0)).sum()

    g = tg.grad(f)(tg.tensor([1.0, 2.0]))
    np.testing.assert_array_equal(g.asnumpy(), [1.0, 1.0])


@pytest.mark.parametrize(
    "fn, args, exc, match",
    [
        (tg.zeros, ((2, -1),), ValueError, "zeros: negative dimensions"),
        (tg.ones, (-3,), ValueError, "ones: negative dimensions"),
        (tg.empty, ((-1,),), ValueError, "empty: negative dimensions"),
        (tg.full, ((2, -2), 1.0), ValueError, "full: negative dimensions"),
        (tg.zeros, ((2**40, 2**40),), ValueError, "zeros: shape .* too large"),
        (tg.zeros, ((2.0, 3),), TypeError, "zeros: shape must contain ints"),
        (tg.zeros, (2.5,), TypeError, "zeros: shape must be an int or a tuple"),
        (tg.ones, ("3",), TypeError, "ones: shape"),
        (tg.zeros, (None,), TypeError, "zeros: shape"),
        (tg.zeros, ((True, 2),), TypeError, "zeros: shape"),
        (tg.zeros, (3, "float128"), TypeError, "not a supported dtype"),
        (tg.zeros, (3, np.clongdouble), TypeError, "not supported"),
        (tg.full, (2, "a"), TypeError, "full: fill_value"),
        (tg.full, (2, None), TypeError, "full: fill_value"),
        (tg.full, (2, 1 + 2j, tg.float32), TypeError, "full: fill_value"),
        (tg.full, (2, 2**40, tg.int32), OverflowError, "out of bounds for int32"),
        (tg.zeros_like, ("abc",), TypeError, "zeros_like"),
        (tg.ones_like, (None,), TypeError, "ones_like"),
    ],
)
def test_creation_errors(fn, args, exc, match):
    with pytest.raises(exc, match=match):
        fn(*args)


# ---- arange --------------------------------------------------------------------------------------

ARANGE_CASES = [
    (4,),
    (4.0,),
    (0,),
    (-3,),
    (2, 9),
    (9, 2),
    (10, 0, -3),
    (1, 2, 0.25),
    (0, 1, 0.1),
    (1.3, 100.7, 0.37),
    (-2.5, 2.5, 0.5),
    (5, 0.5, -0.7),
    (0, 5, 0.5),
    (3.0, 3.0),
    (2**60, 2**60 + 3),
]


@pytest.mark.parametrize("args", ARANGE_CASES)
def test_arange_default_dtype(args):
    t = tg.arange(*args)
    is_float = any(isinstance(a, float) for a in args)
    assert t.dtype == (tg.float32 if is_float else tg.int64)
    check(t, np.arange(*args, dtype=np.float32 if is_float else np.int64))


@pytest.mark.parametrize("args", ARANGE_CASES[:-1])
@pytest.mark.parametrize("dtype", [tg.float16, tg.float32, tg.float64, tg.int32, tg.int64])
def test_arange_dtypes_match_numpy_bit_for_bit(args, dtype):
    check(tg.arange(*args, dtype=dtype), np.arange(*args, dtype=np_dt(dtype)), dtype)


def test_arange_keywords_and_numpy_scalars():
    check(tg.arange(start=1, stop=7, step=2), np.arange(1, 7, 2))
    check(tg.arange(np.int32(5)), np.arange(5))
    check(tg.arange(np.float64(2.5)), np.arange(2.5, dtype=np.float32))
    check(tg.arange(tg.tensor(3)), np.arange(3))
    check(tg.arange(tg.tensor(3.0)), np.arange(3, dtype=np.float32))
    check(tg.arange(2, dtype=tg.bool_), np.arange(2, dtype=bool))


def test_arange_large_is_exact():
    n = 1 << 18  # above the kernels' parallel threshold
    check(tg.arange(n), np.arange(n))
    check(tg.arange(0.0, n * 0.5, 0.5), np.arange(0.0, n * 0.5, 0.5, dtype=np.float32))


@pytest.mark.parametrize(
    "args, kw, exc, match",
    [
        ((0, 10, 0), {}, ValueError, "arange: step must not be zero"),
        ((0.0, 1.0, 0.0), {}, ValueError, "arange: step must not be zero"),
        ((0, np.inf), {}, ValueError, "arange"),
        ((np.nan,), {}, ValueError, "arange"),
        ((0.0, 1e300, 1e-300), {}, ValueError, "arange"),
        (("a",), {}, TypeError, "arange: stop must be a real number"),
        ((None,), {}, TypeError, "arange"),
        ((1j,), {}, TypeError, "arange"),
        ((3,), {"dtype": tg.bool_}, TypeError, "arange: a Bool result"),
        ((3,), {"dtype": "nope"}, TypeError, "dtype"),
        ((tg.tensor([1, 2]),), {}, TypeError, "arange"),
    ],
)
def test_arange_errors(args, kw, exc, match):
    with pytest.raises(exc, match=match):
        tg.arange(*args, **kw)


# ---- linspace ------------------------------------------------------------------------------------

LINSPACE_CASES = [
    (0, 1, 5, True),
    (0, 1, 5, False),
    (2, 3, 1, True),
    (2, 3, 1, False),
    (2, 3, 0, True),
    (-1, 1, 7, True),
    (1, -1, 6, False),
    (0, 1e-320, 3, True),
    (5, 5, 4, True),
    (0.1, 0.7, 50, True),
    (-3.5, 10.25, 1000, False),
]


@pytest.mark.parametrize("start, stop, num, endpoint", LINSPACE_CASES)
@pytest.mark.parametrize("dtype", [tg.float16, tg.float32, tg.float64, tg.int32, tg.int64])
def test_linspace(start, stop, num, endpoint, dtype):
    expected = np.linspace(start, stop, num, endpoint=endpoint, dtype=np_dt(dtype))
    check(tg.linspace(start, stop, num, endpoint=endpoint, dtype=dtype), expected, dtype)


def test_linspace_defaults():
    t = tg.linspace(0, 1)
    assert t.dtype == tg.float32 and t.shape == (50,)
    check(t, np.linspace(0, 1).astype(np.float32))
    check(
        tg.linspace(tg.tensor(1.0), np.float64(2.0), np.int64(3)),
        np.linspace(1, 2, 3, dtype=np.float32),
    )


@pytest.mark.parametrize(
    "args, exc, match",
    [
        ((0, 1, -1), ValueError, "linspace: number of samples, -1, must be non-negative"),
        ((0, 1, 2.5), TypeError, "linspace: num must be an int"),
        (("0", 1), TypeError, "linspace: start must be a real number"),
        ((0, None), TypeError, "linspace: stop"),
        ((0, np.nan, 3), ValueError, "linspace"),
    ],
)
def test_linspace_errors(args, exc, match):
    with pytest.raises(exc, match=match):
        tg.linspace(*args)


# ---- eye -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n, m, k",
    [
        (3, None, 0),
        (3, 4, 1),
        (4, 3, -1),
        (3, 3, 5),
        (3, 3, -5),
        (0, None, 0),
        (1, 0, 0),
        (2, 5, 3),
        (5, 2, -4),
    ],
)
@pytest.mark.parametrize(
    "dtype", [tg.float32, tg.float64, tg.int32, tg.int64, tg.bool_, tg.float16]
)
def test_eye(n, m, k, dtype):
    check(tg.eye(n, m, k, dtype=dtype), np.eye(n, m, k, dtype=np_dt(dtype)), dtype)


def test_eye_defaults_and_errors():
    t = tg.eye(2)
    assert t.dtype == tg.float32
    check(t, np.eye(2, dtype=np.float32))
    check(tg.eye(2, M=3, k=np.int64(1)), np.eye(2, 3, 1, dtype=np.float32))
    with pytest.raises(ValueError, match="eye: N and M must be non-negative"):
        tg.eye(-1)
    with pytest.raises(ValueError, match="eye"):
        tg.eye(2, -2)
    with pytest.raises(TypeError, match="eye: N must be an int"):
        tg.eye(2.0)
    with pytest.raises(TypeError, match="eye: k must be an int"):
        tg.eye(2, k=0.5)


def test_creation_names_are_exported():
    for name in [
        "arange",
        "zeros",
        "ones",
        "full",
        "empty",
        "zeros_like",
        "ones_like",
        "full_like",
        "eye",
        "linspace",
        "rand",
        "randn",
        "uniform",
        "normal",
        "randint",
        "set_seed",
        "from_dlpack",
    ]:
        assert callable(getattr(tg, name)), name
