"""Tensor operators: + - * / // % ** (and reflected), unary -, +, abs(), ~, comparisons, & | ^;
mixing with Python scalars (NEP 50 weak scalars), numpy scalars and numpy arrays on either side;
dtypes as numpy 2; errors; and derivatives through operator expressions."""

import operator

import numpy as np
import pytest

import tapegrad as tg
from helpers import arr

np.seterr(all="ignore")


ARITH = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
    "**": operator.pow,
}
COMPARE = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
BITWISE = {"&": operator.and_, "|": operator.or_, "^": operator.xor}
DTYPES = [np.bool_, np.int32, np.int64, np.float16, np.float32, np.float64]


def values(dtype, shape=(4,), seed=0, positive=False):
    rng = np.random.default_rng(seed)
    if dtype == np.bool_:
        return rng.integers(0, 2, shape).astype(bool)
    if np.issubdtype(dtype, np.integer):
        return rng.integers(1 if positive else -3, 5, shape).astype(dtype)
    return rng.uniform(0.5 if positive else -2, 2, shape).astype(dtype)


def expect_like_numpy(fn, a, b, ta, tb):
    """fn on tensors gives numpy's dtype and values, or raises as numpy."""
    try:
        want = np.asarray(fn(a, b))
    except (TypeError, ValueError, OverflowError) as e:
        with pytest.raises(type(e)):
            fn(ta, tb)
        return
    got = fn(ta, tb)
    assert isinstance(got, tg.Tensor)
    want_dt = want.dtype
    assert arr(got).dtype == want_dt, f"{a!r} {fn} {b!r}: {got.dtype}, numpy {want.dtype}"
    assert got.shape == want.shape
    tol = 2e-3 if want_dt == np.float16 else (3e-6 if want_dt == np.float32 else 1e-12)
    if want_dt == np.bool_ or np.issubdtype(want_dt, np.integer):
        np.testing.assert_array_equal(arr(got), want)
    else:
        np.testing.assert_allclose(
            arr(got).astype(np.float64), want.astype(np.float64), rtol=tol, atol=tol, equal_nan=True
        )


@pytest.mark.parametrize("op", sorted(ARITH))
@pytest.mark.parametrize("da", DTYPES)
@pytest.mark.parametrize("db", DTYPES)
def test_tensor_tensor_arithmetic(op, da, db):
    positive = op in ("/", "//", "%", "**")
    a, b = values(da, seed=1, positive=positive), values(db, seed=2, positive=positive)
    expect_like_numpy(ARITH[op], a, b, tg.tensor(a), tg.tensor(b))


# Python scalars are weak (NEP 50): they take the tensor's dtype kind.
SCALARS = [2, -3, 2.5, True, 0.5]


@pytest.mark.parametrize("op", sorted(ARITH))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scalar", SCALARS)
def test_tensor_python_scalar_both_sides(op, dtype, scalar):
    positive = op in ("/", "//", "%", "**")
    a = values(dtype, seed=3, positive=positive)
    if (
        op == "**"
        and isinstance(scalar, int)
        and not isinstance(scalar, bool)
        and scalar < 0
        and dtype != np.bool_
    ):
        scalar = 2
    fn = ARITH[op]
    # `bool_array ** 2` included: numpy computes it as square(bool_array), int8 (power(b, 2) and
    # every other exponent promote to int64), and so does the operator here.
    expect_like_numpy(fn, a, scalar, tg.tensor(a), scalar)
    expect_like_numpy(lambda x, y: fn(y, x), a, scalar, tg.tensor(a), scalar)


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**"])
@pytest.mark.parametrize(
    "nps", [np.float64(2.5), np.float32(1.5), np.int64(3), np.int32(2), np.bool_(True)]
)
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.float16])
def test_numpy_scalars_are_not_weak(op, nps, dtype):
    a = values(dtype, seed=4, positive=True)
    fn = ARITH[op]
    expect_like_numpy(fn, a, nps, tg.tensor(a), nps)
    expect_like_numpy(lambda x, y: fn(y, x), a, nps, tg.tensor(a), nps)


@pytest.mark.parametrize("op", sorted(ARITH))
@pytest.mark.parametrize(
    "da,db",
    [
        (np.float32, np.float32),
        (np.float32, np.float64),
        (np.int64, np.float32),
        (np.int32, np.int64),
        (np.float64, np.bool_),
    ],
)
def test_numpy_arrays_on_either_side(op, da, db):
    positive = op in ("/", "//", "%", "**")
    a, b = (
        values(da, (2, 3), seed=5, positive=positive),
        values(db, (3,), seed=6, positive=positive),
    )
    ta = tg.tensor(a)
    expect_like_numpy(ARITH[op], a, b, ta, b)  # Tensor op ndarray
    expect_like_numpy(lambda x, y: ARITH[op](y, x), a, b, ta, b)  # ndarray op Tensor is a Tensor


def test_weak_scalar_examples():
    x32 = tg.tensor([1.0, 2.0], tg.float32)
    assert (x32 * 2.5).dtype == tg.float32
    assert (2.5 * x32).dtype == tg.float32
    assert (x32 + 1).dtype == tg.float32
    i32 = tg.tensor([1, 2], tg.int32)
    assert (i32 * 2).dtype == tg.int32
    assert (i32 * 2.5).dtype == tg.float64
    assert (i32 / 2).dtype == tg.float64
    b = tg.tensor([True, False])
    assert (
        (b + 1).dtype == tg.int64 and (b * 2.5).dtype == tg.float64 and (b | True).dtype == tg.bool_
    )
    h = tg.tensor([1.0], tg.float16)
    assert (h * 2.5).dtype == tg.float16
    assert (x32 * np.float64(2.0)).dtype == tg.float64  # numpy scalars are strongly typed
    assert (x32 + 2**70).dtype == tg.float32
    np.testing.assert_allclose(arr(x32 * 2.5), [2.5, 5.0])


def test_python_int_out_of_bounds():
    with pytest.raises(OverflowError, match="out of bounds for int32"):
        tg.tensor([1, 2], tg.int32) + 2**40
    with pytest.raises(OverflowError):
        tg.tensor([1, 2]) * 2**70


@pytest.mark.parametrize("op", sorted(COMPARE))
@pytest.mark.parametrize(
    "da,db",
    [
        (np.float32, np.float32),
        (np.int64, np.float32),
        (np.bool_, np.int32),
        (np.float64, np.float16),
        (np.int32, np.int64),
    ],
)
def test_comparisons(op, da, db):
    a = values(da, seed=7)
    b = values(db, seed=8)
    b[0] = a[0]  # a tie
    fn = COMPARE[op]
    got = fn(tg.tensor(a), tg.tensor(b))
    assert got.dtype == tg.bool_
    np.testing.assert_array_equal(arr(got), fn(a, b))
    np.testing.assert_array_equal(arr(fn(tg.tensor(a), 1)), fn(a, 1))
    np.testing.assert_array_equal(arr(fn(1, tg.tensor(a))), fn(1, a))  # reflected: 1 < x
    np.testing.assert_array_equal(arr(fn(b, tg.tensor(a))), fn(b, a))  # ndarray on the left
    np.testing.assert_array_equal(arr(fn(tg.tensor(a), 0.5)), fn(a, 0.5))


def test_comparisons_with_nan_and_broadcast():
    a = np.array([[np.nan, 1.0, 2.0]])
    b = np.array([[np.nan], [1.0]])
    for fn in COMPARE.values():
        np.testing.assert_array_equal(arr(fn(tg.tensor(a), tg.tensor(b))), fn(a, b))


def test_eq_with_foreign_objects():
    x = tg.tensor([1.0, 2.0])
    assert (x == None) is False  # noqa: E711  (Python's fallback, as for other objects)
    assert (x != None) is True  # noqa: E711
    assert (x == "a") is False
    assert x.__eq__(None) is NotImplemented
    with pytest.raises(TypeError, match="'<' not supported"):
        x < None  # noqa: B015
    assert x in [None, x]  # identity short-circuits list membership


@pytest.mark.parametrize("op", sorted(BITWISE))
@pytest.mark.parametrize(
    "da,db",
    [
        (np.bool_, np.bool_),
        (np.int32, np.int32),
        (np.int64, np.int32),
        (np.bool_, np.int64),
        (np.float32, np.int32),
        (np.float64, np.bool_),
    ],
)
def test_bitwise(op, da, db):
    a, b = values(da, seed=9), values(db, seed=10)
    expect_like_numpy(BITWISE[op], a, b, tg.tensor(a), tg.tensor(b))
    expect_like_numpy(
        BITWISE[op], a, True if da == np.bool_ else 3, tg.tensor(a), True if da == np.bool_ else 3
    )


def test_unary_operators():
    f = np.array([-1.5, 0.0, 2.0], np.float32)
    i = np.array([-3, 0, 4], np.int32)
    b = np.array([True, False])
    tf, ti, tb = tg.tensor(f), tg.tensor(i), tg.tensor(b)
    np.testing.assert_array_equal(arr(-tf), -f)
    np.testing.assert_array_equal(arr(+tf), f)
    np.testing.assert_array_equal(arr(abs(tf)), abs(f))
    np.testing.assert_array_equal(arr(-ti), -i)
    np.testing.assert_array_equal(arr(abs(ti)), abs(i))
    np.testing.assert_array_equal(arr(~ti), ~i)
    np.testing.assert_array_equal(arr(~tb), ~b)
    assert (-ti).dtype == tg.int32 and (~tb).dtype == tg.bool_ and abs(tb).dtype == tg.bool_
    assert np.signbit(arr(-tg.tensor([0.0])))[0]
    with pytest.raises(TypeError, match="neg.*Bool"):
        _ = -tb
    with pytest.raises(TypeError, match="invert.*Float32"):
        _ = ~tf


def test_operator_errors_are_clear():
    x = tg.tensor([1.0, 2.0, 3.0])
    with pytest.raises(
        TypeError, match=r"unsupported operand type\(s\) for \+: '.*Tensor' and 'str'"
    ):
        x + "a"
    with pytest.raises(
        TypeError, match=r"unsupported operand type\(s\) for \*: 'NoneType' and '.*Tensor'"
    ):
        None * x
    with pytest.raises(TypeError):
        x - {1: 2}
    with pytest.raises(TypeError, match="three-argument"):
        pow(x, 2, 3)
    with pytest.raises(
        ValueError, match=r"mul: operands could not be broadcast together: .*\(3,\).*\(2,\)"
    ):
        x * tg.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="sub: numpy boolean subtract"):
        tg.tensor([True]) - tg.tensor([True])
    with pytest.raises(ValueError, match="negative integer powers"):
        tg.tensor([2, 3]) ** -1
    with pytest.raises(TypeError, match="bitwise_and"):
        x & 1
    with pytest.raises(TypeError, match="less: not supported for complex"):
        _ = x < (1 + 2j)


class Other:
    """A foreign type with reflected operators: Tensor defers to it."""

    def __radd__(self, other):
        return "radd"

    def __rmul__(self, other):
        return "rmul"


def test_foreign_reflected_operators_take_over():
    x = tg.tensor([1.0])
    assert x + Other() == "radd"
    assert x * Other() == "rmul"


@pytest.mark.parametrize(
    "shape_a,shape_b",
    [((), ()), ((), (3,)), ((0,), ()), ((2, 0), (0,)), ((2, 1, 3), (4, 1)), ((1,), (5,))],
)
def test_shapes_0d_empty_broadcast(shape_a, shape_b):
    a = values(np.float64, shape_a, seed=11, positive=True)
    b = values(np.float64, shape_b, seed=12, positive=True)
    for fn in list(ARITH.values()) + list(COMPARE.values()):
        got = fn(tg.tensor(a), tg.tensor(b))
        want = fn(a, b)
        assert got.shape == np.shape(want)
        np.testing.assert_allclose(arr(got), want, rtol=1e-14)


def test_non_contiguous_operands():
    a = values(np.float64, (6, 5), seed=13, positive=True)
    b = values(np.float64, (5, 6), seed=14, positive=True)
    ta, tb = tg.tensor(a), tg.tensor(b)
    for fn in ARITH.values():
        np.testing.assert_allclose(arr(fn(ta, tb.T)), fn(a, b.T), rtol=1e-14)
        np.testing.assert_allclose(arr(fn(ta[::2], tb.T[1::2])), fn(a[::2], b.T[1::2]), rtol=1e-14)
        np.testing.assert_allclose(arr(fn(ta[:, ::-1], 2.0)), fn(a[:, ::-1], 2.0), rtol=1e-14)


def test_operands_are_not_modified():
    a = np.array([1.0, 2.0])
    ta = tg.tensor(a)
    tb = ta * 3
    tc = 3 - ta
    np.testing.assert_array_equal(arr(ta), a)
    assert tb is not ta and tc is not ta
    np.testing.assert_array_equal(arr(tb), a * 3)
    np.testing.assert_array_equal(arr(tc), 3 - a)


# ---- derivatives through operators ----------------------------------------------------------
def f64(*shape, seed=0, lo=-2.0, hi=2.0):
    return tg.tensor(np.random.default_rng(seed).uniform(lo, hi, shape), tg.float64)


@pytest.mark.parametrize(
    "expr",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a * b,
        lambda a, b: a / b,
        lambda a, b: a**b,
        lambda a, b: a % b,
        lambda a, b: -a * abs(b),
        lambda a, b: 2.0 * a - b / 3 + 1,
        lambda a, b: 3 / a + b**2,
        lambda a, b: 2**a * b,
        lambda a, b: (a * b) ** 0.5,
    ],
)
def test_operator_grads_order2(expr):
    a = f64(3, seed=1, lo=0.5, hi=2.0)
    b = f64(3, seed=2, lo=0.6, hi=1.4)
    tg.testing.check_grads(expr, (a, b), order=2)


def test_operator_grads_float32_and_broadcast():
    a = tg.tensor(np.random.default_rng(3).uniform(0.5, 2, (2, 3)), tg.float32)
    b = tg.tensor(np.random.default_rng(4).uniform(0.5, 2, (3,)), tg.float32)
    tg.testing.check_grads(lambda a, b: a * b / (a + b) - a**2, (a, b), order=1)
    ga, gb = tg.grad(lambda a, b: (a * b).sum(), grad_position=(0, 1))(a, b)
    assert ga.shape == (2, 3) and gb.shape == (3,)
    np.testing.assert_allclose(arr(gb), arr(a).sum(0), rtol=1e-6)


def test_ndarray_times_tensor_is_differentiated():
    w = np.array([1.0, 2.0, 3.0])
    x = tg.tensor([0.5, -1.0, 2.0], tg.float64)
    g = tg.grad(lambda x: (w * x + x * w - w / x).sum())(x)
    np.testing.assert_allclose(arr(g), 2 * w + w / arr(x) ** 2)
    out = w * x
    assert isinstance(out, tg.Tensor)


def test_comparisons_and_integer_ops_have_no_gradient():
    x = tg.tensor([0.5, 1.5, 2.5], tg.float64)
    g = tg.grad(lambda x: (x * (x > 1.0) + (x // 1.0) * x).sum())(x)
    np.testing.assert_allclose(arr(g), [0.0 + 0.0, 1.0 + 1.0, 1.0 + 2.0])


def test_grad_of_weak_scalar_expressions_keeps_dtype():
    x = tg.tensor([0.5, 1.5], tg.float32)
    g = tg.grad(lambda x: (x * 2.5 + 1).sum())(x)
    assert g.dtype == tg.float32
    np.testing.assert_allclose(arr(g), [2.5, 2.5])
