"""Robustness of the older API (sections 2-7) over the newer dtypes (int8, int16, uint8-uint64,
float16, Bool): each test guards one behaviour that an adversarial probe found giving a wrong answer,
a wrong dtype or an unhelpful error, compared with numpy (and JAX for derivatives)."""

from __future__ import annotations

import operator

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import numpy as tnp

INTS = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]


def _sample(dt):
    if dt == "bool":
        return np.array([True, False, True])
    info = np.iinfo(dt)
    return np.array([info.min, info.max, 0, 1, 7], dtype=dt)


# ---- signbit reads the sign bit ----------------------------------------------------------------


@pytest.mark.parametrize("dt", ["float16", "float32", "float64"])
@pytest.mark.parametrize("fn", [tg.signbit, tnp.signbit], ids=["tg", "tnp"])
def test_signbit_reads_the_sign_of_nan_and_zero(fn, dt):
    # signbit(-nan) was False (the sign was inferred by comparisons, which never see a NaN's sign).
    x = np.array([-np.nan, np.nan, -0.0, 0.0, -np.inf, np.inf, -1.5, 2.0], dtype=dt)
    got = fn(tg.tensor(x))
    assert got.dtype == tg.bool_
    np.testing.assert_array_equal(got.numpy(), np.signbit(x))


@pytest.mark.parametrize("dt", ["bool", *INTS])
def test_signbit_of_integers(dt):
    x = _sample(dt)
    np.testing.assert_array_equal(tg.signbit(tg.tensor(x)).numpy(), np.signbit(x))


def test_signbit_under_transforms():
    x = tg.tensor([-np.nan, 1.0, -0.0])
    np.testing.assert_array_equal(tg.jit(tg.signbit)(x).numpy(), [True, False, True])
    np.testing.assert_array_equal(tg.jit(tg.signbit)(-x).numpy(), [False, True, False])
    np.testing.assert_array_equal(tg.vmap(tg.signbit)(x).numpy(), [True, False, True])


@pytest.mark.parametrize("dt", ["complex64", "complex128"])
def test_signbit_of_complex_is_a_type_error(dt):
    with pytest.raises(TypeError, match=f"signbit: not supported for {dt}"):
        tg.signbit(tg.tensor(np.array([1 + 1j], dtype=dt)))


# ---- Tensor.astype(copy=) ----------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["x", None, 1, 0.0, [True]], ids=repr)
@pytest.mark.parametrize("fn", [lambda t, **k: t.astype(tg.float64, **k), tg.astype, tnp.astype])
def test_astype_copy_must_be_a_bool(fn, bad):
    # Tensor.astype(copy=...) was pybind's "incompatible function arguments" for every copy value.
    t = tg.tensor([1.0, 2.0])
    args = () if fn.__name__ == "<lambda>" else (tg.float64,)
    with pytest.raises(TypeError, match="astype: copy must be True or False"):
        fn(t, *args, copy=bad)


@pytest.mark.parametrize("copy", [True, False, np.True_, np.False_], ids=repr)
def test_astype_copy_flag(copy):
    t = tg.tensor([1.0, 2.0])
    same = t.astype(tg.float32, copy=copy)
    assert (same is t) != bool(copy)
    assert same._shares_memory(t) != bool(copy)
    other = t.astype(tg.int8, copy=copy)
    assert other.dtype == tg.int8 and other.tolist() == [1, 2]
    assert t.astype(dtype=tg.float64, copy=copy).dtype == tg.float64


def test_astype_other_keywords_are_a_clear_type_error():
    t = tg.tensor([1.0])
    with pytest.raises(TypeError, match="unexpected keyword argument 'order'"):
        t.astype(tg.float64, order="C")
    with pytest.raises(TypeError, match="missing the required argument 'dtype'"):
        t.astype(copy=True)


# ---- checkpoint in forward mode ----------------------------------------------------------------


def _f(x):
    return tg.sin(x) * x


@pytest.mark.parametrize(
    "transform",
    [
        lambda f, x: tg.jvp(f, (x,), (tg.ones_like(x),))[1],
        lambda f, x: tg.jacfwd(f)(x),
        lambda f, x: tg.hessian(lambda y: f(y).sum())(x),
        lambda f, x: tg.jacrev(tg.jacfwd(f))(x),
        lambda f, x: tg.jacfwd(tg.jacrev(f))(x),
        lambda f, x: tg.jit(tg.jacfwd(f))(x),
        lambda f, x: tg.vmap(lambda y: tg.jvp(f, (y,), (tg.ones_like(y),))[1])(x),
    ],
    ids=["jvp", "jacfwd", "hessian", "jacrev_jacfwd", "jacfwd_jacrev", "jit_jacfwd", "vmap_jvp"],
)
def test_checkpoint_in_forward_mode(transform):
    # JAX's checkpoint supports forward mode; tapegrad's raised (custom_vjp has no forward rule).
    x = tg.tensor([0.5, 1.0, 2.0], dtype=tg.float64)
    np.testing.assert_allclose(
        transform(tg.checkpoint(_f), x).numpy(), transform(_f, x).numpy(), rtol=1e-12
    )


def test_checkpoint_reverse_mode_unchanged():
    x = tg.tensor([0.5, 1.0], dtype=tg.float64)
    g = tg.grad(lambda y: tg.checkpoint(_f)(y).sum())(x)
    np.testing.assert_allclose(g.numpy(), np.sin(x.numpy()) + x.numpy() * np.cos(x.numpy()))


# ---- shifts: numpy's result dtype and its OverflowError ----------------------------------------


@pytest.mark.parametrize("op", [operator.lshift, operator.rshift], ids=["lshift", "rshift"])
@pytest.mark.parametrize("d2", ["bool", *INTS])
@pytest.mark.parametrize("d1", ["bool", *INTS])
def test_shift_dtypes_follow_numpy(op, d1, d2):
    # Bool was shifted as Int64 (numpy: Int8, or the other operand's dtype), and Bool with UInt64
    # was refused as Float64.
    a, b = _sample(d1), _sample(d2)[::-1].copy()
    a, b = np.resize(a, 5), np.resize(b, 5)
    try:
        want = op(a, b)
    except TypeError:
        with pytest.raises(TypeError, match="shift: needs integer or Bool operands"):
            op(tg.tensor(a), tg.tensor(b))
        return
    got = op(tg.tensor(a), tg.tensor(b))
    assert np.dtype(str(got.dtype).lower()) == want.dtype
    np.testing.assert_array_equal(got.numpy(), want)


@pytest.mark.parametrize("op", [operator.lshift, operator.rshift], ids=["lshift", "rshift"])
@pytest.mark.parametrize(
    "dt,s", [("int8", 300), ("int8", -129), ("uint8", -3), ("uint16", -1), ("uint64", -3)]
)
def test_shift_by_a_python_int_out_of_bounds_is_an_overflow_error(op, dt, s):
    # The shift count was converted silently (numpy 2 raises OverflowError, NEP 50).
    with pytest.raises(OverflowError, match=f"Python integer {s} out of bounds for {dt}"):
        op(tg.tensor(_sample(dt)), s)


@pytest.mark.parametrize("op", [operator.lshift, operator.rshift], ids=["lshift", "rshift"])
def test_shift_uint64_by_a_large_python_int(op):
    # 2**63 fits uint64 but was converted through int64 (OverflowError).
    a = np.array([1, 2**63, 5], dtype="uint64")
    for x, y in [(a, 2**63), (2**63, a[[0, 2]])]:
        got = op(
            tg.tensor(x) if isinstance(x, np.ndarray) else x,
            tg.tensor(y) if isinstance(y, np.ndarray) else y,
        )
        want = op(x, y)
        assert got.dtype == tg.uint64
        np.testing.assert_array_equal(got.numpy(), want)


# ---- true division by a Python int the integer dtype cannot hold -------------------------------


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's 1 / 0
@pytest.mark.parametrize("dt", ["bool", *INTS])
@pytest.mark.parametrize("s", [300, -129, 2**63, -(2**63) - 1, 2**70])
def test_true_division_by_a_large_python_int(dt, s):
    # Was an OverflowError: numpy's true division of integers is a float64 loop, and takes it.
    a = _sample(dt)
    for got, want in [
        (tg.tensor(a) / s, a / s),
        (s / tg.tensor(a), s / a),
        (tg.div(tg.tensor(a), s), a / s),
    ]:
        assert got.dtype == tg.float64
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-15)


def test_floor_division_by_a_large_python_int_still_overflows():
    with pytest.raises(OverflowError, match="Python integer 300 out of bounds for int8"):
        tg.tensor(_sample("int8")) // 300


# ---- in-place operators: numpy's same_kind (unsigned < signed) ---------------------------------


@pytest.mark.parametrize(
    "op",
    [
        operator.iadd,
        operator.isub,
        operator.imul,
        operator.ifloordiv,
        operator.imod,
        operator.ior,
        operator.ilshift,
    ],
    ids=lambda f: f.__name__,
)
@pytest.mark.parametrize(
    "d1,d2", [("uint8", "int8"), ("uint16", "int32"), ("uint32", "int64"), ("uint8", "int64")]
)
def test_inplace_unsigned_with_signed_is_refused(op, d1, d2):
    # Was silently wrapped into the unsigned dtype; numpy raises UFuncTypeError (a TypeError).
    t = tg.tensor(np.array([7, 5], dtype=d1))
    with pytest.raises(TypeError, match=r"\(in place\): cannot cast the result from"):
        op(t, tg.tensor(np.array([2, 3], dtype=d2)))
    assert t.tolist() == [7, 5]


@pytest.mark.parametrize(
    "d1,d2", [("int8", "uint8"), ("int16", "uint8"), ("int64", "uint32"), ("uint8", "uint16")]
)
def test_inplace_within_same_kind_still_wraps_as_numpy(d1, d2):
    a, b = np.array([100, -1 if d1[0] == "i" else 1], dtype=d1), np.array([100, 3], dtype=d2)
    t = tg.tensor(a.copy())
    t += tg.tensor(b)
    a += b
    assert t.dtype == tg.tensor(a).dtype
    np.testing.assert_array_equal(t.numpy(), a)


# ---- arange in an integer dtype: numpy's OverflowError for its first two values ----------------


@pytest.mark.parametrize(
    "args,dt",
    [
        ((-3, 5, 2), "uint8"),
        ((-1, 5), "uint16"),
        ((250, 300, 10), "int8"),
        ((100, 200, 50), "int8"),
        ((1, -300, -100), "uint8"),
        ((-3, 5, 2), "uint64"),
    ],
)
def test_arange_start_out_of_bounds_of_an_integer_dtype(args, dt):
    # Was silently wrapped (uint8 arange from -3 began at 253).
    with pytest.raises(
        OverflowError, match=f"arange: Python integer -?[0-9]+ out of bounds for {dt}"
    ):
        tg.arange(*args, dtype=dt)
    with pytest.raises(OverflowError):
        np.arange(*args, dtype=dt)


@pytest.mark.parametrize(
    "args,dt",
    [((0, 300), "uint8"), ((0, 300), "int8"), ((250, 260, 10), "uint8"), ((0, 10, -1), "uint8")],
)
def test_arange_later_values_wrap_as_numpy(args, dt):
    got = tg.arange(*args, dtype=dt)
    np.testing.assert_array_equal(got.numpy(), np.arange(*args, dtype=dt))


# ---- tnp.mean(dtype=) -----------------------------------------------------------------------------


@pytest.mark.parametrize("dt", ["float64", "float16", "int8", "uint8", "int64", "bool"])
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_numpy_mean_with_dtype(dt, axis):
    # Was pybind's "incompatible function arguments".
    a = np.array([[1, 2, 3], [100, 120, 7]], dtype="int8")
    got = tnp.mean(tg.tensor(a), axis=axis, dtype=dt)
    want = np.mean(a, axis=axis, dtype=dt)
    assert np.dtype(str(got.dtype).lower()) == want.dtype
    np.testing.assert_allclose(got.numpy().astype(float), want.astype(float), rtol=1e-3)


def test_numpy_mean_with_dtype_is_differentiable():
    g = tg.grad(lambda x: tnp.mean(x, dtype=tg.float64))(tg.tensor([1.0, 2.0]))
    np.testing.assert_allclose(g.numpy(), [0.5, 0.5])


# ---- clip with a Python int bound beyond the integer dtype ------------------------------------


@pytest.mark.parametrize("dt", ["int8", "uint8", "int64", "uint64"])
@pytest.mark.parametrize(
    "lo,hi",
    [(0, 300), (-300, 5), (-1, 2**64), (-(2**64), 3), (1, 2**63), (None, 300), (-200, None)],
)
def test_clip_bound_beyond_the_dtype_bounds_nothing(dt, lo, hi):
    # Was an OverflowError; numpy drops a bound that lies beyond the dtype on its own side.
    a = np.array([0, 5, np.iinfo(dt).max], dtype=dt)
    got = tg.clip(tg.tensor(a), lo, hi)
    want = np.clip(a, lo, hi)
    assert got.dtype == tg.tensor(want).dtype
    np.testing.assert_array_equal(got.numpy(), want)


@pytest.mark.parametrize("lo,hi,bad", [(200, 300, 200), (-300, -200, -200)])
def test_clip_bound_beyond_on_the_other_side_overflows(lo, hi, bad):
    with pytest.raises(OverflowError, match=f"clip: Python integer {bad} out of bounds for int8"):
        tg.clip(tg.tensor(np.array([1], dtype="int8")), lo, hi)


# ---- divmod --------------------------------------------------------------------------------------


@pytest.mark.parametrize("dt", ["int8", "int16", "int64", "uint8", "float16", "float32"])
def test_divmod_as_numpy(dt):
    # divmod(tensor, tensor) was "unsupported operand type(s) for divmod()".
    a = np.array([7, 5, 9], dtype=dt)
    b = np.array([2, 3, 4], dtype=dt)
    if dt[0] == "i":
        a, b = np.array([np.iinfo(dt).min, 7, -7], dtype=dt), np.array([-1, -2, 2], dtype=dt)
    with np.errstate(all="ignore"):
        want = divmod(a, b)
    for got in (divmod(tg.tensor(a), tg.tensor(b)), divmod(tg.tensor(a), b)):
        for g, w in zip(got, want):
            assert g.dtype == tg.tensor(w).dtype
            np.testing.assert_array_equal(g.numpy(), w)
    q, r = divmod(7, tg.tensor(np.array([2, -2], dtype="int8")))
    assert q.tolist() == [3, -4] and r.tolist() == [1, -1]


# ---- losses over integer inputs ---------------------------------------------------------------


@pytest.mark.parametrize(
    "loss,want", [(tg.nn.MSELoss(), (1 + 255**2) / 2), (tg.nn.L1Loss(), 128.0)], ids=["mse", "l1"]
)
@pytest.mark.parametrize("dt", ["uint8", "int8"])
def test_losses_of_integer_inputs_do_not_wrap(loss, want, dt):
    # uint8 [0, 255] against [1, 0] gave an MSE of 1 (the difference and its square wrapped).
    a = np.array([0, 255 if dt == "uint8" else 127], dtype=dt)
    b = np.array([1, 0], dtype=dt)
    if dt == "int8":
        want = (1 + 127**2) / 2 if isinstance(loss, tg.nn.MSELoss) else 64.0
    got = loss(tg.tensor(a), tg.tensor(b))
    assert got.dtype == tg.float64
    assert float(got) == want


def test_l1_loss_of_bool_inputs():
    got = tg.nn.L1Loss(reduction="none")(tg.tensor([True, False]), tg.tensor([False, False]))
    assert got.tolist() == [1.0, 0.0]


# ---- float functions of integers: numpy's float dtype -----------------------------------------


@pytest.mark.parametrize("dt", ["bool", "int8", "uint8", "int16", "uint16", "int32", "uint64"])
@pytest.mark.parametrize(
    "name", ["arcsinh", "arccosh", "arctanh", "radians", "degrees", "deg2rad", "rad2deg", "sinc"]
)
def test_float_functions_of_integers_take_numpy_dtype(name, dt):
    # Gave Float32 (arcsinh, sinc) or Float64 (radians) whatever the integer's width; numpy gives
    # Float16 for 1-byte integers, Float32 for 2-byte ones, Float64 wider (sinc: always Float64).
    a = np.array([0, 1, 2], dtype=dt)
    with np.errstate(all="ignore"):
        want = getattr(np, name)(a)
    got = getattr(tnp, name)(tg.tensor(a))
    assert np.dtype(str(got.dtype).lower()) == want.dtype
    np.testing.assert_allclose(got.numpy(), want, rtol=2e-3, equal_nan=True)


# ---- float results of integer and Bool operands (numpy 2's loop choice) --------------------------
# numpy picks the first float loop both operands cast to safely: each integer operand's own float
# dtype (Bool/int8/uint8 -> float16, int16/uint16 -> float32, wider -> float64), promoted. So
# (int8, uint8) gives float16, not the float32 of their promoted int16. The Array API leaves
# integer operands of these functions unspecified, so tapegrad.numpy follows numpy.

SMALL = ["bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64"]
FLOAT_BINARY = ["hypot", "arctan2", "logaddexp", "logaddexp2", "copysign", "nextafter"]


def _ints(dt, seed):
    if dt == "bool":
        return np.array([True, False, True, True])
    return np.array([0, 1, 3, 5], dtype=dt)[np.random.default_rng(seed).permutation(4)]


@pytest.mark.parametrize("name", FLOAT_BINARY)
@pytest.mark.parametrize("d1", SMALL)
@pytest.mark.parametrize("d2", SMALL)
def test_float_binary_of_integer_pairs_follow_numpy(name, d1, d2):
    a, b = _ints(d1, 1), _ints(d2, 2)
    with np.errstate(all="ignore"):
        want = getattr(np, name)(a, b)
    fn = getattr(tnp, name)
    if name == "nextafter" and want.dtype == np.float16:
        # nextafter of float16 needs float16 arithmetic (computed in float32, its next value would
        # round back to x1): refused rather than wrong.
        with pytest.raises(TypeError, match="nextafter: .*Float16, which is not supported"):
            fn(tnp.asarray(a), tnp.asarray(b))
        return
    got = fn(tnp.asarray(a), tnp.asarray(b))
    assert str(got.dtype).lower() == want.dtype.name, (name, d1, d2)
    tol = 1e-3 if want.dtype == np.float16 else 1e-6
    np.testing.assert_allclose(got.numpy(), want, rtol=tol, atol=tol)


def test_float_binary_with_weak_python_scalars_follow_numpy():
    i8 = np.array([1, -2, 3], np.int8)
    for name in ("hypot", "arctan2", "logaddexp", "copysign", "logaddexp2"):
        fn = getattr(tnp, name)
        want = getattr(np, name)(i8, 2)  # a Python int is weak: int8's float16
        got = fn(tnp.asarray(i8), 2)
        assert str(got.dtype).lower() == want.dtype.name == "float16", name
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-3)


@pytest.mark.parametrize(
    "name",
    ["sqrt", "exp", "log1p", "sin", "arctan", "tanh", "log2", "exp2", "deg2rad", "sinc"],
)
@pytest.mark.parametrize("dt", SMALL)
def test_float_unary_of_integers_follow_numpy(name, dt):
    a = _ints(dt, 3)
    with np.errstate(all="ignore"):
        want = getattr(np, name)(a)
    got = getattr(tnp, name)(tnp.asarray(a))
    assert str(got.dtype).lower() == want.dtype.name, (name, dt)
    tol = 2e-3 if want.dtype == np.float16 else 1e-6
    np.testing.assert_allclose(got.numpy(), want, rtol=tol, atol=tol)


# ---- integer reciprocal of 0, Bool ** 2, float16 cumsum -----------------------------------------


@pytest.mark.parametrize("dt", INTS)
def test_integer_reciprocal_of_zero_matches_numpy(dt):
    # numpy computes 1.0 / x and converts back: 1/0 = inf becomes INT_MIN for int32/int64 on
    # x86-64 and 0 for the narrower and the unsigned integers. numpy also warns (divide by zero);
    # tapegrad's kernels raise no floating-point warnings, here as for float 1/0.
    a = np.array([0, 1, 2, -1, 3], dtype=np.int64).astype(dt)
    with np.errstate(all="ignore"):
        want = np.reciprocal(a)
    got = tnp.reciprocal(tnp.asarray(a))
    assert got.numpy().dtype == want.dtype
    np.testing.assert_array_equal(got.numpy(), want)
    np.testing.assert_array_equal(tg.tensor(a).reciprocal().numpy(), want)
    if dt in ("int32", "int64"):
        assert got.numpy()[0] == np.iinfo(dt).min


def test_bool_squared_is_int8_as_numpy():
    b = np.array([True, False, True])
    t = tg.tensor(b)
    assert (t**2).dtype == tg.int8 and (b**2).dtype == np.int8
    np.testing.assert_array_equal((t**2).numpy(), b**2)
    # Every other exponent, and power(b, 2), promote Bool with a weak int to int64 (as numpy).
    assert (t**3).dtype == tg.int64 and (b**3).dtype == np.int64
    assert (t**1).dtype == tg.int64
    assert tnp.power(t, 2).dtype == tg.int64 and np.power(b, 2).dtype == np.int64
    assert str((t**True).dtype).lower() == (b**True).dtype.name  # bool ** bool: int8
    assert str((t**2.0).dtype).lower() == (b**2.0).dtype.name  # a float exponent: no square


def test_float16_cumsum_dtype_and_values():
    # numpy's cumsum of float16 returns float16 and accumulates in float16: each running sum is
    # rounded to float16 before the next addition, so a long sum stalls (3000 x 0.1 gives 256.0,
    # np.sum gives 300.0). tapegrad keeps the float16 dtype but accumulates in float32 and rounds
    # each running sum once (as PyTorch does): every element is the exact running sum rounded to
    # float16, which is what numpy gives wherever its float16 accumulation has not drifted.
    a = np.full(3000, 0.1, np.float16)
    got = tnp.cumsum(tnp.asarray(a))
    assert got.dtype == tg.float16 and np.cumsum(a).dtype == np.float16
    exact = np.cumsum(a.astype(np.float64)).astype(np.float16)
    np.testing.assert_allclose(got.numpy().astype(np.float64), exact, rtol=1e-3)
    assert got.numpy()[-1] == np.float16(300.0)
    short = np.array([0.5, 0.25, 1.5, -2.0, 3.0], np.float16)
    np.testing.assert_array_equal(tnp.cumsum(tnp.asarray(short)).numpy(), np.cumsum(short))
    np.testing.assert_array_equal(tnp.cumulative_sum(tnp.asarray(short)).numpy(), np.cumsum(short))


# ---- unusual but valid inputs: numpy scalars, 0-d arrays, bools, nan, -0.0 ------------------------
_ODD_INPUTS = {
    **{f"np.{d}": np.dtype(d).type(1) for d in SMALL + ["float16", "float32", "float64"]},
    **{f"0-d {d}": np.array(3, dtype=d) for d in SMALL + ["float16", "float32", "float64"]},
    "np.float32(-0.0)": np.float32(-0.0),
    "0-d -0.0": np.array(-0.0),
    "True": True,
    "[True, False]": [True, False],
    "5": 5,
    "[1, 2**40]": [1, 2**40],
}
_ODD_UNARY = ["negative", "abs", "exp", "sqrt", "square", "sign", "floor", "round", "isnan"]
_ODD_UNARY += ["signbit", "reciprocal", "positive", "trunc", "cumsum", "sum", "max", "argmax"]
_ODD_BINARY = ["add", "subtract", "multiply", "divide", "power", "maximum", "floor_divide"]
_ODD_BINARY += ["remainder", "less", "hypot", "arctan2", "logaddexp", "copysign"]


def _same_as_numpy(np_call, tg_call):
    try:
        want = np.asarray(np_call())
    except Exception:  # numpy refuses: so must tapegrad, with a clear error
        with pytest.raises((TypeError, ValueError)):
            tg_call()
        return
    got = tg_call()
    got = got.numpy() if hasattr(got, "numpy") else np.asarray(got)
    assert got.dtype == want.dtype and got.shape == want.shape
    if want.dtype.kind == "f":
        np.testing.assert_allclose(got, want, rtol=1e-3, equal_nan=True)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want))  # -0.0 kept
    else:
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", _ODD_UNARY)
@pytest.mark.parametrize("what", list(_ODD_INPUTS))
def test_unary_of_unusual_inputs_follow_numpy(name, what):
    v = _ODD_INPUTS[what]
    with np.errstate(all="ignore"):
        _same_as_numpy(lambda: getattr(np, name)(v), lambda: getattr(tnp, name)(v))


@pytest.mark.parametrize("name", _ODD_BINARY)
@pytest.mark.parametrize("what", list(_ODD_INPUTS))
def test_binary_with_unusual_inputs_follow_numpy(name, what):
    v = _ODD_INPUTS[what]
    f32 = np.array([1.5, -2.0], np.float32)
    i32 = np.array([1, 3], np.int32)
    with np.errstate(all="ignore"):
        for arr in (f32, i32):
            _same_as_numpy(
                lambda arr=arr: getattr(np, name)(arr, v),
                lambda arr=arr: getattr(tnp, name)(tnp.asarray(arr), v),
            )


def test_round_of_bool_is_float16_and_cumsum_keeps_negative_zero():
    b = np.array([True, False])
    assert tnp.round(tnp.asarray(b)).dtype == tg.float16 and np.round(b).dtype == np.float16
    assert tg.tensor(b).round().dtype == tg.float16
    assert tnp.floor(tnp.asarray(b)).dtype == tg.bool_  # floor/ceil/trunc keep Bool, as numpy
    z = np.array([-0.0, -0.0, 1.0])
    for dt in ("float16", "float32", "float64"):
        got = tnp.cumsum(tnp.asarray(z.astype(dt))).numpy()
        np.testing.assert_array_equal(np.signbit(got), np.signbit(np.cumsum(z.astype(dt))))
    with pytest.raises(TypeError, match="positive: not supported for bool"):
        tnp.positive(tnp.asarray(b))


@pytest.mark.parametrize(
    "value, exc",
    [
        (__import__("fractions").Fraction(1, 3), TypeError),
        (__import__("decimal").Decimal("1.5"), TypeError),
        (b"ab", TypeError),
    ],
)
def test_fraction_decimal_bytes_are_refused(value, exc):
    for call in (
        lambda: tg.tensor(value),
        lambda: tnp.asarray(value),
        lambda: tnp.exp(value),
        lambda: tnp.add(tnp.ones(2), value),
    ):
        with pytest.raises(exc):
            call()


def test_memoryview_converts_as_numpy():
    m = memoryview(b"ab")
    got = tnp.asarray(m)
    want = np.asarray(m)
    assert got.numpy().dtype == want.dtype == np.uint8
    np.testing.assert_array_equal(got.numpy(), want)
