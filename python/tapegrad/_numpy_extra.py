"""numpy and Array API functions composed from tapegrad's differentiable ops.

Each function here is written with existing ops (no new derivative rules), so ``grad``, ``jvp``,
``vmap``, ``jit`` and higher orders work through it. Functions with integer or Bool results
(``isinf``, ``nonzero``, ``searchsorted``, ...) are not differentiable, as in numpy's world; the set
functions (``unique_*``) and ``nonzero`` have data-dependent shapes and run eagerly (a ``TypeError``
inside a transform). They are re-exported by ``tapegrad.numpy``.
"""

from __future__ import annotations

import builtins
import itertools
import math
import operator
import sys

import numpy as np

from . import _core, _creation
from ._core import Tensor, hypot, logaddexp
from ._tensor import _made, _place

__all__ = [  # noqa: RUF022  (grouped by kind)
    # elementwise
    "divide",
    "multiply",
    "subtract",
    "negative",
    "positive",
    "remainder",
    "fmod",
    "isinf",
    "isneginf",
    "isposinf",
    "signbit",
    "trunc",
    "hypot",
    "logaddexp",
    "logaddexp2",
    "copysign",
    "fmin",
    "fmax",
    "sinc",
    "log10",
    "degrees",
    "radians",
    "deg2rad",
    "rad2deg",
    "arcsinh",
    "arccosh",
    "arctanh",
    "asin",
    "acos",
    "atan",
    "atan2",
    "asinh",
    "acosh",
    "atanh",
    "round",
    "bitwise_and",
    "bitwise_or",
    "bitwise_xor",
    "bitwise_invert",
    "bitwise_not",
    "bitwise_left_shift",
    "bitwise_right_shift",
    "left_shift",
    "right_shift",
    "conj",
    "conjugate",
    "real",
    "imag",
    "angle",
    "isin",
    "fabs",
    "clip",
    "iscomplex",
    "isreal",
    "iscomplexobj",
    "isrealobj",
    "real_if_close",
    # shape
    "moveaxis",
    "permute_dims",
    "roll",
    "unstack",
    "broadcast_arrays",
    "broadcast_shapes",
    "meshgrid",
    "tril",
    "triu",
    "diag",
    "diagonal",
    "matrix_transpose",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "vstack",
    "hstack",
    "dstack",
    "column_stack",
    "row_stack",
    "fliplr",
    "flipud",
    "rollaxis",
    "append",
    "r_",
    "c_",
    "array_split",
    "hsplit",
    "vsplit",
    "dsplit",
    "rot90",
    "pad",
    "diff",
    # linear algebra
    "tensordot",
    "vecdot",
    "inner",
    "kron",
    "cross",
    "einsum",
    # search, select, reduce
    "nonzero",
    "count_nonzero",
    "cumulative_sum",
    "cumulative_prod",
    "searchsorted",
    "select",
    "nan_to_num",
    "isclose",
    "allclose",
    "partition",
    "gradient",
    # creation
    "linspace",
]

_E = math.e
_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


def _t(x):
    """`x` as a Tensor (Tensors as themselves). A list holding Tensors that a transform tracks is
    stacked, so their derivatives flow (the constructor would copy their numbers)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (list, tuple)) and _core._levels_active():
        from ._autodiff import _tensor_tracked

        t = _tensor_tracked(x, None)
        if t is not None:
            return t
    try:
        return Tensor(x)
    except TypeError as e:
        raise TypeError(_caller_named(str(e))) from None


def _caller_named(msg):
    """The constructor's error (`tensor: cannot make a tensor from None`) named after the public
    function of this module that was called: the first frame up whose code is one of its
    functions. Runs on the error path only."""
    if not msg.startswith("tensor:"):
        return msg
    f = sys._getframe(2)
    for _ in range(6):
        if f is None:
            break
        name = f.f_code.co_name
        if f.f_globals is globals() and not name.startswith("_") and name in __all__:
            return f"{name}:{msg[len('tensor:') :]}"
        f = f.f_back
    return msg


def _is_float(t):
    return str(t.dtype).startswith("Float")


def _is_complex(t):
    return t.dtype.name.startswith("complex")


def _axis(axis, ndim, name):
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{name}: axis must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(
            f"{name}: axis {axis} is out of bounds for an array of dimension {ndim}"
        )
    return int(axis) % ndim


def _as_dtype(dtype):
    """A tapegrad dtype from a tapegrad dtype, a numpy dtype or type, or a name."""
    if isinstance(dtype, _core.dtype):
        return dtype
    if isinstance(dtype, str):
        return _core._dtype_from_name(dtype)
    return Tensor(np.zeros(0, dtype)).dtype


def _where(c, a, b):
    return _core.where(c, a, b)


# ---- elementwise ---------------------------------------------------------------------------------


def divide(x1, x2):
    """``x1 / x2`` elementwise (numpy.divide; the Array API's name for ``div``).

    >>> print(tg.numpy.divide(tg.tensor([1.0, 3.0]), 2.0))
    [0.5 1.5]
    """
    return _core.div(x1, x2)


def multiply(x1, x2):
    """``x1 * x2`` elementwise (numpy.multiply; ``mul``).

    >>> print(tg.numpy.multiply(tg.tensor([1.0, 3.0]), tg.tensor([2.0, 2.0])))
    [2. 6.]
    """
    return _core.mul(x1, x2)


def subtract(x1, x2):
    """``x1 - x2`` elementwise (numpy.subtract; ``sub``).

    >>> print(tg.numpy.subtract(tg.tensor([1.0, 3.0]), 1.0))
    [0. 2.]
    """
    return _core.sub(x1, x2)


def negative(x):
    """``-x`` elementwise (numpy.negative; ``neg``).

    >>> print(tg.numpy.negative(tg.tensor([1.0, -3.0])))
    [-1.  3.]
    """
    return _core.neg(x)


def positive(x):
    """``+x``: a copy of `x` (numpy.positive), differentiable as the identity.

    >>> print(tg.numpy.positive(tg.tensor([1.0, -3.0])))
    [ 1. -3.]
    """
    x = _t(x)
    if x.dtype == _core.bool_:  # numpy has no Bool loop for positive (the Array API: numeric only)
        raise TypeError("positive: not supported for bool (as numpy); use the tensor itself")
    return _core.copy(x)


def remainder(x1, x2):
    """Remainder with the sign of the divisor (numpy.remainder / ``mod``, Python's ``%``).

    >>> print(tg.numpy.remainder(tg.tensor([-3.0, 3.0]), 2.0))
    [1. 1.]
    """
    return _core.mod(x1, x2)


def trunc(x):
    """Round toward zero (numpy.trunc); its derivative is zero.

    >>> print(tg.numpy.trunc(tg.tensor([-1.7, 1.7, 2.0])))
    [-1.  1.  2.]
    """
    x = _t(x)
    if _is_complex(x):
        raise TypeError(f"trunc: not supported for {x.dtype.name}")
    if not _is_float(x):
        return _core.copy(x)
    return _where(x < 0, _core.ceil(x), _core.floor(x))


def fmod(x1, x2):
    """Remainder with the sign of the dividend (numpy.fmod, C's fmod): ``x1 - trunc(x1/x2) * x2``.

    >>> print(tg.numpy.fmod(tg.tensor([-3.0, 3.0]), 2.0))
    [-1.  1.]
    """
    scalar1 = isinstance(x1, int | float) and not isinstance(x1, bool)
    t1 = _t(x1)
    # x2 a float of any kind (Python float, float Tensor, ndarray or numpy scalar): the float path
    x2_float = isinstance(x2, float) or (not isinstance(x2, int) and _is_float(_t(x2)))
    if not _is_float(t1) and not x2_float:
        r = _core.mod(t1, x2)  # integers: C's % from Python's %
        return _where((r != 0) & ((t1 < 0) != (_t(x2) < 0)), r - x2, r)
    # fmod(a, b) = sign(a) * mod(|a|, |b|): exact (x1 - trunc(x1 / x2) * x2 loses every digit once
    # x1 / x2 is beyond the float's precision), and Python scalars stay weak as in numpy.
    a1 = builtins.abs(x1) if scalar1 else _core.abs(t1)
    if isinstance(x2, int | float) and not isinstance(x2, bool):
        a2 = builtins.abs(x2)
    else:
        t2 = _t(x2)
        if not _is_float(t2):
            # |x2| in the result's float dtype: an integer abs wraps at the type's minimum
            # (abs(int64 -2**63) is -2**63), which would flip the remainder's sign
            from ._array_api import result_type  # (it imports this module)

            t2 = t2.astype(result_type(t1, t2))
        a2 = _core.abs(t2)
    r = _core.mod(a1, a2)
    if scalar1:
        return -r if math.copysign(1.0, x1) < 0 else r
    return _where(signbit(t1), -r, r)


def isinf(x):
    """Whether each element is +inf or -inf (numpy.isinf).

    >>> print(tg.numpy.isinf(tg.tensor([1.0, np.inf, -np.inf, np.nan])))
    [False  True  True False]
    """
    x = _t(x)
    if _is_complex(x):  # numpy: either part infinite (inf + nan j too)
        return isinf(real(x)) | isinf(imag(x))
    return _core.logical_not(_core.isfinite(x) | _core.isnan(x))


def isposinf(x):
    """Whether each element is +inf (numpy.isposinf).

    >>> print(tg.numpy.isposinf(tg.tensor([1.0, np.inf, -np.inf])))
    [False  True False]
    """
    x = _t(x)
    return isinf(x) & (x > 0)


def isneginf(x):
    """Whether each element is -inf (numpy.isneginf).

    >>> print(tg.numpy.isneginf(tg.tensor([1.0, np.inf, -np.inf])))
    [False False  True]
    """
    x = _t(x)
    return isinf(x) & (x < 0)


def signbit(x):
    """Whether the sign bit is set (numpy.signbit): True for negative numbers, ``-0.0``, ``-inf``
    and a NaN whose sign bit is set.

    >>> print(tg.numpy.signbit(tg.tensor([-1.0, -0.0, 0.0, 2.0])))
    [ True  True False False]
    """
    return _core.signbit(_t(x))


def _float_pair_dtype(x1, x2):
    """numpy's float result dtype of a float-valued binary function of x1 and x2 (Python scalars
    weak): that of hypot, whose rule is numpy's loop choice (each integer operand's own float
    dtype, promoted: (int8, uint8) -> float16, not the float dtype of their promoted int16)."""

    def probe(x):
        if isinstance(x, builtins.bool | int | float):
            return x
        return _core._zeros((0,), _t(x).dtype)

    a, b = probe(x1), probe(x2)
    try:
        return hypot(a, b).dtype
    except TypeError:  # complex operands: the caller's own op refuses them, naming itself
        return _t(a).dtype if isinstance(a, Tensor) else _t(b).dtype


def copysign(x1, x2):
    """The magnitude of `x1` with the sign of `x2` (numpy.copysign).

    >>> print(tg.numpy.copysign(tg.tensor([1.0, -2.0, 3.0]), tg.tensor([-1.0, 1.0, -0.0])))
    [-1.  2. -3.]
    """
    from ._array_api import result_type  # (it imports this module)

    # The result's dtype is the operands' promoted one (a Python scalar weak, NEP 50): a float32
    # magnitude with a float64 sign gives float64, and copysign(2.5, float32 tensor) stays float32.
    if isinstance(x1, Tensor) or isinstance(x2, Tensor):
        # Only Python scalars are weak: numpy scalars, arrays and lists are converted with their
        # own dtype (np.copysign(float32 array, np.int32(1)) is float64).
        dt = result_type(
            *[x if isinstance(x, Tensor | builtins.bool | int | float) else _t(x) for x in (x1, x2)]
        )
    else:
        dt = _t(x1).dtype
    if not _is_float(_core._zeros((0,), dt)):
        dt = _float_pair_dtype(x1, x2)
    x1 = _t(x1)
    if x1.dtype != dt:
        x1 = x1.astype(dt)
    return _where(signbit(x2), -_core.abs(x1), _core.abs(x1))


def logaddexp2(x1, x2):
    """``log2(2**x1 + 2**x2)`` without overflow (numpy.logaddexp2).

    >>> print(tg.numpy.logaddexp2(tg.tensor([1.0, 3.0]), tg.tensor([1.0, 3.0])))
    [2. 4.]
    """
    # Promote first (as numpy does): float16 * ln 2 next to an int64 would lose digits numpy keeps.
    dt = _float_pair_dtype(x1, x2)
    x1, x2 = _t(x1), _t(x2)
    return logaddexp(x1.astype(dt) * _LN2, x2.astype(dt) * _LN2) / _LN2


def fmax(x1, x2):
    """Elementwise maximum that ignores a NaN in one of the two (numpy.fmax).

    >>> print(tg.numpy.fmax(tg.tensor([1.0, np.nan, 5.0]), tg.tensor([np.nan, 2.0, 3.0])))
    [1. 2. 5.]
    """
    x1, x2 = _t(x1), _t(x2)
    return _where(_core.isnan(x2), x1, _where(_core.isnan(x1), x2, _core.maximum(x1, x2)))


def fmin(x1, x2):
    """Elementwise minimum that ignores a NaN in one of the two (numpy.fmin).

    >>> print(tg.numpy.fmin(tg.tensor([1.0, np.nan, 5.0]), tg.tensor([np.nan, 2.0, 3.0])))
    [1. 2. 3.]
    """
    x1, x2 = _t(x1), _t(x2)
    return _where(_core.isnan(x2), x1, _where(_core.isnan(x1), x2, _core.minimum(x1, x2)))


def sinc(x):
    """``sin(pi x) / (pi x)``, 1 at 0 (numpy.sinc); near 0 a Taylor polynomial, so that every
    derivative at 0 is right (the second is ``-pi**2 / 3``).

    >>> print(tg.numpy.sinc(tg.tensor([0.0, 0.5, 1.0])))
    [ 1.0000000e+00  6.3661975e-01 -2.7827534e-08]
    """
    x = _t(x)
    if not _is_float(x) and not _is_complex(x):  # numpy's sinc: integers in Float64 (pi * x)
        x = x.astype(_core.float64)
    small = _core.abs(x) < 1e-3
    xs = _where(small, 1.0, x)
    y = math.pi * xs
    big = _core.sin(y) / y
    z = math.pi * _where(small, x, 0.0)
    z2 = z * z
    taylor = 1.0 - z2 / 6.0 + z2 * z2 / 120.0
    return _where(small, taylor, big)


def _parts(z):
    return _core._complex_part(z, "real"), _core._complex_part(z, "imag")


def _times_i(z, sign=1.0):
    """``i z`` (``sign`` -1: ``-i z``) of a complex tensor, exactly: the parts swapped and one
    negated (a complex product would round zeros' signs and turn infinities into NaN)."""
    re, im = _parts(z)
    return _core._complex(-im, re) if sign > 0 else _core._complex(im, -re)


def log10(x):
    """Base-10 logarithm (numpy.log10); of complex `x`, ``log(x) / ln 10`` part by part.

    >>> print(tg.numpy.log10(tg.tensor([1.0, 100.0])))
    [0. 2.]
    """
    x = _t(x)
    if _is_complex(x):
        re, im = _parts(_core.log(x))
        return _core._complex(re * (1.0 / _LN10), im * (1.0 / _LN10))
    return _core.log(x) * (1.0 / _LN10)


def degrees(x):
    """Radians to degrees (numpy.degrees, rad2deg).

    >>> print(tg.numpy.degrees(tg.tensor([np.pi, np.pi / 2])))
    [180.  90.]
    """
    return _float(x) * (180.0 / math.pi)


def radians(x):
    """Degrees to radians (numpy.radians, deg2rad).

    >>> print(tg.numpy.radians(tg.tensor([180.0, 90.0])))
    [3.1415927 1.5707964]
    """
    return _float(x) * (math.pi / 180.0)


def rad2deg(x):
    """Radians to degrees (numpy.rad2deg).

    >>> print(tg.numpy.rad2deg(tg.tensor([np.pi])))
    [180.]
    """
    return degrees(x)


def deg2rad(x):
    """Degrees to radians (numpy.deg2rad).

    >>> print(tg.numpy.deg2rad(tg.tensor([180.0])))
    [3.1415927]
    """
    return radians(x)


def _float(x):
    """x in the float dtype numpy's float functions give it: an integer or Bool tensor as the
    smallest float that holds its values (numpy's ufunc loops: 1-byte as Float16, 2-byte as
    Float32, wider as Float64), a float one as itself."""
    x = _t(x)
    if _is_float(x) or str(x.dtype).startswith("Complex"):
        return x
    size = x.dtype.itemsize
    return x.astype(_core.float16 if size == 1 else _core.float32 if size == 2 else _core.float64)


def _big_threshold(x):
    """Where arcsinh/arccosh switch to log(2|x|): beyond it x*x would lose the "+- 1" anyway, and
    float16's x*x overflows from 256 (65504 gave NaN), so its switch is lower (the error of
    log(2x) there, 1/(4x**2), stays below float16's resolution)."""
    return 200.0 if x.dtype == _core.float16 else 1e8


def arcsinh(x):
    """Inverse hyperbolic sine (numpy.arcsinh), accurate for small and large |x|.

    >>> print(tg.numpy.arcsinh(tg.tensor([0.0, 1.0, -1.0])))
    [ 0.         0.8813736 -0.8813736]
    """
    x = _t(x)
    if _is_complex(x):  # C99's casinh(z) = -i casin(i z): its branch cuts, numpy's
        return _times_i(_core.arcsin(_times_i(x)), -1.0)
    x = _float(x)
    a = _where(x < 0, -x, x)  # |x| whose derivative at 0 is 1 (abs' is 0 there)
    big = a > _big_threshold(x)
    a_s = _where(big, 1.0, a)
    small_branch = _core.log1p(a_s + a_s * a_s / (1.0 + _core.sqrt(1.0 + a_s * a_s)))
    a_b = _where(big, a, 1.0)
    big_branch = _core.log(a_b) + _LN2
    r = _where(big, big_branch, small_branch)
    # x itself at +-0: the result keeps the zero's sign (asinh(-0.0) is -0.0), derivative 1
    return _where(x < 0, -r, _where(x == 0, x, r))


def arccosh(x):
    """Inverse hyperbolic cosine (numpy.arccosh): NaN below 1, ``+inf`` derivative at 1.

    >>> print(tg.numpy.arccosh(tg.tensor([1.0, 2.0])))
    [0.       1.316958]
    """
    x = _t(x)
    if _is_complex(x):
        # C99's cacosh(z) = +-i cacos(z), the sign that makes the real part nonnegative: i w when
        # Im w has its sign bit set (then Im z does not) or is NaN (numpy's NaN + i pi/2 at
        # cacosh(0 + NaN i)), else -i w
        w = _core.arccos(x)
        w_im = _core._complex_part(w, "imag")
        return _where(signbit(w_im) | _core.isnan(w_im), _times_i(w), _times_i(w, -1.0))
    x = _float(x)
    big = x > _big_threshold(x)
    xs = _where(big, 2.0, x)
    t = xs - 1.0
    small_branch = _core.log1p(t + _core.sqrt(t * (xs + 1.0)))
    big_branch = _core.log(_where(big, x, 2.0)) + _LN2
    r = _where(big, big_branch, small_branch)
    # Below 1 the result is NaN; rounding (float16's t * (x + 1) for x = -100) can hit log1p(-1).
    return _where(x < 1.0, np.nan, r)


def arctanh(x):
    """Inverse hyperbolic tangent (numpy.arctanh): ``+-inf`` at ``+-1``, NaN beyond.

    >>> print(tg.numpy.arctanh(tg.tensor([0.0, 0.5, -0.5])))
    [ 0.          0.54930615 -0.54930615]
    """
    x = _t(x)
    if _is_complex(x):  # C99's catanh(z) = -i catan(i z)
        return _times_i(_core.arctan(_times_i(x)), -1.0)
    x = _float(x)
    return 0.5 * _core.log1p(2.0 * x / (1.0 - x))


asin = _core.arcsin
acos = _core.arccos
atan = _core.arctan
atan2 = _core.arctan2


def asinh(x):
    """The Array API's name for ``arcsinh``.

    >>> print(tg.numpy.asinh(tg.tensor([1.0])))
    [0.8813736]
    """
    return arcsinh(x)


def acosh(x):
    """The Array API's name for ``arccosh``.

    >>> print(tg.numpy.acosh(tg.tensor([2.0])))
    [1.316958]
    """
    return arccosh(x)


def atanh(x):
    """The Array API's name for ``arctanh``.

    >>> print(tg.numpy.atanh(tg.tensor([0.5])))
    [0.54930615]
    """
    return arctanh(x)


def round(x, decimals=0):
    """Round half to even, to `decimals` places (numpy.round); its derivative is zero.

    >>> print(tg.numpy.round(tg.tensor([0.5, 1.5, 2.567])))
    [0. 2. 3.]
    >>> print(tg.numpy.round(tg.tensor([2.567, 1234.0], tg.float64), 1))
    [   2.6 1234. ]
    """
    x = _t(x)
    try:
        decimals = operator.index(decimals)
    except TypeError:
        raise TypeError(
            f"round: decimals must be an integer, got {type(decimals).__name__}"
        ) from None
    if _is_complex(x) and decimals != 0:  # part by part, as numpy
        re, im = _parts(x)
        return _core._complex(round(re, decimals), round(im, decimals))
    if decimals == 0 or (not _is_float(x) and (decimals > 0 or x.dtype == _core.bool_)):
        return _core.round(x)
    if not _is_float(x):  # integers to tens, hundreds, ...: as numpy, through float64, half to even
        if decimals < -400:
            return _creation.zeros_like(x)
        f = 10.0**-decimals
        return (_core.round(x.astype(_core.float64) / f) * f).astype(x.dtype)
    if abs(decimals) > 400:
        raise OverflowError(f"round: decimals {decimals} out of range")
    scale = 10.0**decimals
    return _core.round(x * scale) / scale


def _int_check(name, *xs):
    for x in xs:
        if isinstance(x, Tensor) and _is_float(x):
            raise TypeError(
                f"{name}: needs integer or Bool tensors, got {x.dtype} of shape {x.shape}"
            )
        if isinstance(x, float):
            raise TypeError(f"{name}: needs integers, got the float {x!r}")


def bitwise_and(x1, x2):
    """``x1 & x2`` on integer or Bool tensors (numpy.bitwise_and).

    >>> print(tg.numpy.bitwise_and(tg.tensor([12, 10]), tg.tensor([10, 6])))
    [8 2]
    """
    _int_check("bitwise_and", x1, x2)
    if isinstance(x2, Tensor) and not isinstance(x1, Tensor | np.ndarray):
        return operator.and_(x2, x1)  # commutative: the scalar stays weak (takes x2's dtype)
    return operator.and_(_t(x1), x2)


def bitwise_or(x1, x2):
    """``x1 | x2`` on integer or Bool tensors (numpy.bitwise_or).

    >>> print(tg.numpy.bitwise_or(tg.tensor([12, 10]), tg.tensor([10, 6])))
    [14 14]
    """
    _int_check("bitwise_or", x1, x2)
    if isinstance(x2, Tensor) and not isinstance(x1, Tensor | np.ndarray):
        return operator.or_(x2, x1)  # commutative: the scalar stays weak (takes x2's dtype)
    return operator.or_(_t(x1), x2)


def bitwise_xor(x1, x2):
    """``x1 ^ x2`` on integer or Bool tensors (numpy.bitwise_xor).

    >>> print(tg.numpy.bitwise_xor(tg.tensor([12, 10]), tg.tensor([10, 6])))
    [ 6 12]
    """
    _int_check("bitwise_xor", x1, x2)
    if isinstance(x2, Tensor) and not isinstance(x1, Tensor | np.ndarray):
        return operator.xor(x2, x1)  # commutative: the scalar stays weak (takes x2's dtype)
    return operator.xor(_t(x1), x2)


def bitwise_invert(x):
    """``~x`` on integer or Bool tensors (numpy.invert; the Array API's bitwise_invert).

    >>> print(tg.numpy.bitwise_invert(tg.tensor([0, 5])), tg.numpy.bitwise_invert(tg.tensor([True])))
    [-1 -6] [False]
    """
    _int_check("bitwise_invert", x)
    return operator.invert(_t(x))


bitwise_not = bitwise_invert


def _shift_operands(name, x1, x2):
    """x1 and x2 as tensors of numpy's result dtype, with the result's bit width and whether it is
    signed. numpy's own shift, run on empty arrays of the operands' dtypes (a Python int passed as
    itself, weak as NEP 50 says), gives that dtype: Bool with Bool is Int8, Bool with UInt16 is
    UInt16, and a Python int the other dtype cannot hold is an OverflowError."""
    _int_check(name, x1, x2)

    def probe(x):
        if isinstance(x, Tensor):
            return np.empty(0, np.dtype(str(x.dtype).lower()))
        return np.empty(0, x.dtype) if isinstance(x, np.ndarray) else x

    try:
        dt = np.dtype(np.left_shift(probe(x1), probe(x2)).dtype)
    except OverflowError as e:
        raise OverflowError(f"{name}: {e}") from None
    except (TypeError, ValueError):
        d1, d2 = (getattr(x, "dtype", type(x).__name__) for x in (x1, x2))
        raise TypeError(
            f"{name}: needs integer or Bool operands with a common integer dtype, got {d1} and {d2}"
        ) from None
    tdt = _as_dtype(dt.name)

    def conv(x):
        return (x if isinstance(x, Tensor) else Tensor(np.asarray(x, dtype=dt))).astype(tdt)

    return conv(x1), conv(x2), 8 * dt.itemsize, dt.kind == "i"


def bitwise_left_shift(x1, x2):
    """``x1 << x2`` on integer tensors (numpy.left_shift): ``x1 * 2**x2``, wrapping as numpy does;
    a shift by the width or more, or by a negative amount, gives 0 (numpy's rule).

    >>> print(tg.numpy.bitwise_left_shift(tg.tensor([1, 3]), tg.tensor([2, 1])))
    [4 6]
    """
    x1, x2, bits, _ = _shift_operands("bitwise_left_shift", x1, x2)
    big = (x2 >= bits) | (x2 < 0)  # every bit shifted out (x * 2**s wraps to the same bits below)
    s = _where(big, 0, x2).astype(x1.dtype)
    r = x1 * _core.pow(_creation.full_like(s, 2), s)
    return _where(big, 0, r).astype(x1.dtype)


def bitwise_right_shift(x1, x2):
    """``x1 >> x2`` on integer tensors (numpy.right_shift): arithmetic shift, ``floor(x1 / 2**x2)``;
    a shift by the width or more, or by a negative amount, gives -1 or 0 by the sign of x1.

    >>> print(tg.numpy.bitwise_right_shift(tg.tensor([16, -16]), tg.tensor([2, 2])))
    [ 4 -4]
    """
    x1, x2, bits, signed = _shift_operands("bitwise_right_shift", x1, x2)
    # From bits - 1 on (signed) the result is the sign fill, and 2**s would not fit the dtype.
    big = (x2 >= (bits - 1 if signed else bits)) | (x2 < 0)
    s = _where(big, 0, x2).astype(x1.dtype)
    r = _core.floor_divide(x1, _core.pow(_creation.full_like(s, 2), s))
    fill = -((x1 < 0).astype(x1.dtype)) if signed else _creation.zeros_like(x1)
    return _where(big, fill, r).astype(x1.dtype)


left_shift = bitwise_left_shift
right_shift = bitwise_right_shift


def _lshift(self, other):
    return bitwise_left_shift(self, other)


def _rshift(self, other):
    return bitwise_right_shift(self, other)


def conj(x):
    """The complex conjugate (numpy.conj); of a real tensor, a copy of `x`.

    >>> print(tg.numpy.conj(tg.tensor([1 + 2j])))
    [1.-2.j]
    >>> print(tg.numpy.conj(tg.tensor([1.0, -2.0])))
    [ 1. -2.]
    """
    x = _t(x)
    if _is_complex(x):
        return _core._complex_part(x, "conj")
    return _core.copy(x)


conjugate = conj


def real(x):
    """The real part, of the part dtype (float32 for complex64) (numpy.real); of a real tensor,
    a copy of `x`.

    >>> print(tg.numpy.real(tg.tensor([1 + 2j])))
    [1.]
    >>> print(tg.numpy.real(tg.tensor([1.0, -2.0])))
    [ 1. -2.]
    """
    x = _t(x)
    if _is_complex(x):
        return _core._complex_part(x, "real")
    return _core.copy(x)


def imag(x):
    """The imaginary part, of the part dtype (numpy.imag); of a real tensor, zeros like `x`.

    >>> print(tg.numpy.imag(tg.tensor([1 + 2j])))
    [2.]
    >>> print(tg.numpy.imag(tg.tensor([1.0, -2.0])))
    [0. 0.]
    """
    x = _t(x)
    if _is_complex(x):
        return _core._complex_part(x, "imag")
    if not _is_float(x):
        return _creation.zeros_like(x)
    # x * 0 keeps the (zero) gradient connected; inf * 0 and nan * 0 would be NaN, so those are 0.
    return _where(_core.isfinite(x), x * 0.0, 0.0) + 0.0  # + 0.0: no -0.0


# numpy's and PyTorch's Tensor attributes and methods for the same (x.real, x.imag, x.conj()).
# Of a real tensor, x.real is x itself (numpy's is a view of x), x.imag zeros like x; of a complex
# one, new tensors (tapegrad has no strided views of the parts), so writing into them does not
# change x, and neither attribute can be assigned to.
def _real_attr(self):
    """The real part (numpy's ndarray.real): `self` itself for a real tensor, else `real(self)`.

    >>> print(tg.tensor([1 + 2j, 3 - 4j]).real)
    [1. 3.]
    >>> x = tg.tensor([1.0, 2.0])
    >>> x.real is x
    True
    """
    return real(self) if _is_complex(self) else self


def _imag_attr(self):
    """The imaginary part (numpy's ndarray.imag): `imag(self)`, zeros for a real tensor.

    >>> print(tg.tensor([1 + 2j, 3 - 4j]).imag, tg.tensor([1.0, 2.0]).imag)
    [ 2. -4.] [0. 0.]
    """
    return imag(self)


def _conj_method(self):
    """The complex conjugate (numpy's ndarray.conj, also `conjugate`): `conj(self)`, a copy for
    a real tensor.

    >>> print(tg.tensor([1 + 2j]).conj(), tg.tensor([1 + 2j]).conjugate())
    [1.-2.j] [1.-2.j]
    """
    return conj(self)


Tensor.real = property(_real_attr, doc=_real_attr.__doc__)
Tensor.imag = property(_imag_attr, doc=_imag_attr.__doc__)
Tensor.conj = _conj_method
Tensor.conjugate = _conj_method


def angle(z, deg=False):
    """The argument of each element, arctan2(imag, real), of the part dtype (numpy.angle); 0 or
    pi for real tensors.

    >>> print(tg.numpy.angle(tg.tensor([1j, -1 + 0j])))
    [1.5707964 3.1415927]
    """
    a = _core._complex_part(_t(z), "angle")
    return a * (180.0 / math.pi) if deg else a


def isin(x1, x2, /, *, invert=False):
    """Whether each element of `x1` is among the elements of `x2` (numpy.isin, Array API isin);
    NaN is in nothing.

    >>> print(tg.numpy.isin(tg.tensor([1, 2, 3]), tg.tensor([3, 1])))
    [ True False  True]
    """
    x1, x2 = _t(x1), _t(x2)
    flat = x2.reshape((1,) * x1.ndim + (-1,))
    found = (
        _core.any(x1.reshape(x1.shape + (1,)) == flat, -1)
        if x2.size
        else _creation.zeros(x1.shape, _core.bool_)
    )
    return _core.logical_not(found) if invert else found


# ---- shape ---------------------------------------------------------------------------------------


def moveaxis(x, source, destination):
    """Move axes to new positions, the others keeping their order (numpy.moveaxis).

    >>> tg.numpy.moveaxis(tg.zeros((2, 3, 4)), 0, -1).shape
    (3, 4, 2)
    """
    x = _t(x)
    src = [source] if isinstance(source, (int, np.integer)) else list(source)
    dst = [destination] if isinstance(destination, (int, np.integer)) else list(destination)
    if len(src) != len(dst):
        raise ValueError(
            f"moveaxis: source {source} and destination {destination} need the same number of axes"
        )
    src = [_axis(a, x.ndim, "moveaxis") for a in src]
    dst = [_axis(a, x.ndim, "moveaxis") for a in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ValueError(f"moveaxis: repeated axis in source {source} or destination {destination}")
    order = [a for a in range(x.ndim) if a not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return _core.transpose(x, tuple(order))


def permute_dims(x, axes):
    """The axes of `x` permuted (the Array API's name for ``transpose(x, axes)``).

    >>> tg.numpy.permute_dims(tg.zeros((2, 3, 4)), (2, 0, 1)).shape
    (4, 2, 3)
    """
    return _core.transpose(_t(x), tuple(axes))


def roll(x, shift, axis=None):
    """Elements shifted cyclically along `axis` (all elements, flattened, when None) (numpy.roll).

    >>> print(tg.numpy.roll(tg.arange(5), 2))
    [3 4 0 1 2]
    >>> print(tg.numpy.roll(tg.tensor([[1, 2], [3, 4]]), (1, 1), axis=(0, 1)))
    [[4 3]
     [2 1]]
    """
    x = _t(x)
    if axis is None:
        return roll(x.reshape(-1), shift, 0).reshape(x.shape)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    shifts = (shift,) * len(axes) if isinstance(shift, (int, np.integer)) else tuple(shift)
    if len(shifts) == 1 and len(axes) > 1:
        shifts = shifts * len(axes)
    if len(axes) == 1 and len(shifts) > 1:
        axes = axes * len(shifts)
    if len(shifts) != len(axes):
        raise ValueError(f"roll: shift {shift} and axis {axis} have different lengths")
    for s, a in zip(shifts, axes):
        a = _axis(a, x.ndim, "roll")
        n = x.shape[a]
        if n == 0:
            continue
        idx = (np.arange(n) - operator.index(s) % n) % n  # reduce first: -(-2**63) overflows int64
        x = _core.take(x, Tensor(idx.astype(np.int64)), a)
    return x


def unstack(x, axis=0):
    """The slices of `x` along `axis`, as a tuple (the Array API's unstack).

    >>> a, b = tg.numpy.unstack(tg.tensor([[1, 2], [3, 4]]), axis=1)
    >>> print(a, b)
    [1 3] [2 4]
    """
    x = _t(x)
    axis = _axis(axis, x.ndim, "unstack")
    x = moveaxis(x, axis, 0)
    return tuple(x[i] for i in range(x.shape[0]))


def broadcast_shapes(*shapes):
    """The shape that `shapes` broadcast to (numpy.broadcast_shapes).

    >>> tg.numpy.broadcast_shapes((2, 1), (3,))
    (2, 3)
    """
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise ValueError(
            f"broadcast_shapes: shapes {' and '.join(map(str, shapes))} do not broadcast"
        ) from None


def broadcast_arrays(*arrays):
    """The arrays broadcast to their common shape (numpy.broadcast_arrays), as a tuple.

    >>> a, b = tg.numpy.broadcast_arrays(tg.zeros((2, 1)), tg.ones(3))
    >>> a.shape, b.shape
    ((2, 3), (2, 3))
    """
    ts = [_t(a) for a in arrays]
    shape = broadcast_shapes(*[t.shape for t in ts])
    return tuple(t if t.shape == shape else _core.broadcast_to(t, shape) for t in ts)


def meshgrid(*xi, indexing="xy", sparse=False, copy=True):
    """Coordinate grids from 1-D coordinate vectors (numpy.meshgrid), as a tuple.

    >>> X, Y = tg.numpy.meshgrid(tg.tensor([1, 2, 3]), tg.tensor([4, 5]))
    >>> print(X)
    [[1 2 3]
     [1 2 3]]
    >>> Y.shape
    (2, 3)
    """
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    ts = [_t(x).reshape(-1) for x in xi]
    n = len(ts)
    out = []
    for i, t in enumerate(ts):
        shape = [1] * n
        shape[i] = -1
        if indexing == "xy" and n > 1 and i < 2:
            shape[0], shape[1] = shape[1], shape[0]
        out.append(t.reshape(tuple(shape)))
    if not sparse:
        out = list(broadcast_arrays(*out))
    return tuple(out)


def _tri_mask(n, m, k, lower):
    i = np.arange(n)[:, None]
    j = np.arange(m)[None, :]
    return Tensor((j - i <= k) if lower else (j - i >= k))


def tril(x, k=0):
    """The lower triangle of the last two axes of `x`, the rest zero (numpy.tril).

    >>> print(tg.numpy.tril(tg.ones((3, 3))))
    [[1. 0. 0.]
     [1. 1. 0.]
     [1. 1. 1.]]
    """
    x = _t(x)
    if x.ndim < 2:
        raise ValueError(f"tril: needs at least 2 dimensions, got shape {x.shape}")
    return _where(_tri_mask(x.shape[-2], x.shape[-1], int(k), True), x, _creation.zeros_like(x))


def triu(x, k=0):
    """The upper triangle of the last two axes of `x`, the rest zero (numpy.triu).

    >>> print(tg.numpy.triu(tg.ones((3, 3)), 1))
    [[0. 1. 1.]
     [0. 0. 1.]
     [0. 0. 0.]]
    """
    x = _t(x)
    if x.ndim < 2:
        raise ValueError(f"triu: needs at least 2 dimensions, got shape {x.shape}")
    return _where(_tri_mask(x.shape[-2], x.shape[-1], int(k), False), x, _creation.zeros_like(x))


def diagonal(x, offset=0, axis1=0, axis2=1):
    """Diagonal `offset` of the (axis1, axis2) planes, as the last axis (numpy.diagonal).

    >>> print(tg.numpy.diagonal(tg.tensor([[1, 2], [3, 4]])))
    [1 4]
    >>> print(tg.numpy.diagonal(tg.arange(8).reshape(2, 2, 2), axis1=1, axis2=2))
    [[0 3]
     [4 7]]
    """
    x = _t(x)
    if x.ndim < 2:
        raise ValueError(f"diagonal: needs at least 2 dimensions, got shape {x.shape}")
    a1, a2 = _axis(axis1, x.ndim, "diagonal"), _axis(axis2, x.ndim, "diagonal")
    if a1 == a2:
        raise ValueError("diagonal: axis1 and axis2 cannot be the same")
    x = moveaxis(x, (a1, a2), (-2, -1))
    n, m = x.shape[-2], x.shape[-1]
    k = int(offset)
    rows = (
        np.arange(max(0, -k), min(n, m - k))
        if min(n, m - k) > max(0, -k)
        else np.zeros(0, np.int64)
    )
    flat = rows * m + rows + k
    x = x.reshape(x.shape[:-2] + (n * m,))
    return _core.take(x, Tensor(flat.astype(np.int64)), x.ndim - 1)


def diag(v, k=0):
    """A 2-D array with `v` on diagonal `k` (from 1-D `v`), or diagonal `k` of a 2-D `v` (numpy.diag).

    >>> print(tg.numpy.diag(tg.tensor([1, 2])))
    [[1 0]
     [0 2]]
    >>> print(tg.numpy.diag(tg.tensor([[1, 2], [3, 4]]), 1))
    [2]
    """
    v = _t(v)
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise ValueError(f"diag: input must be 1- or 2-d, got shape {v.shape}")
    n, k = v.shape[0], int(k)
    # [v_i, 0 * n] rows flattened, cut to n*n and reshaped put v_i at (i, i).
    d = _core.concatenate([v.reshape(n, 1), _creation.zeros((n, n), v.dtype)], 1).reshape(-1)[
        : n * n
    ]
    d = d.reshape(n, n)
    if k == 0:
        return d
    a = builtins.abs(k)
    return pad(d, ((0, a), (a, 0)) if k > 0 else ((a, 0), (0, a)))


def matrix_transpose(x):
    """The last two axes swapped (the Array API's matrix_transpose; ``Tensor.mT``).

    >>> tg.numpy.matrix_transpose(tg.zeros((5, 2, 3))).shape
    (5, 3, 2)
    """
    x = _t(x)
    if x.ndim < 2:
        raise ValueError(f"matrix_transpose: needs at least 2 dimensions, got shape {x.shape}")
    return _core.swapaxes(x, -1, -2)


def atleast_1d(*arys):
    """Each input with at least 1 dimension (numpy.atleast_1d); one input gives one Tensor.

    >>> tg.numpy.atleast_1d(tg.tensor(1.0)).shape
    (1,)
    """
    out = [_t(a) if _t(a).ndim >= 1 else _t(a).reshape(1) for a in arys]
    return out[0] if len(out) == 1 else tuple(out)


def atleast_2d(*arys):
    """Each input with at least 2 dimensions, new axes in front (numpy.atleast_2d).

    >>> tg.numpy.atleast_2d(tg.ones(3)).shape
    (1, 3)
    """
    out = []
    for a in arys:
        a = _t(a)
        out.append(a if a.ndim >= 2 else a.reshape((1,) * (2 - a.ndim) + a.shape))
    return out[0] if len(out) == 1 else tuple(out)


def atleast_3d(*arys):
    """Each input with at least 3 dimensions (numpy.atleast_3d: (N,) -> (1, N, 1), (M, N) -> (M, N, 1)).

    >>> tg.numpy.atleast_3d(tg.ones(3)).shape, tg.numpy.atleast_3d(tg.ones((2, 3))).shape
    ((1, 3, 1), (2, 3, 1))
    """
    out = []
    for a in arys:
        a = _t(a)
        if a.ndim == 0:
            a = a.reshape(1, 1, 1)
        elif a.ndim == 1:
            a = a.reshape(1, a.shape[0], 1)
        elif a.ndim == 2:
            a = a.reshape(a.shape + (1,))
        out.append(a)
    return out[0] if len(out) == 1 else tuple(out)


def _seq(tup, name):
    # numpy iterates any sequence, an array too (vstack of a 1-D array stacks its elements).
    if isinstance(tup, (Tensor, np.ndarray)) and tup.ndim >= 1:
        return list(unstack(tup, 0))
    if not isinstance(tup, (list, tuple)):
        raise TypeError(f"{name}: needs a sequence of arrays, got {type(tup).__name__}")
    return [_t(a) for a in tup]


def vstack(tup):
    """Stack along the first axis, 1-D inputs as rows (numpy.vstack).

    >>> print(tg.numpy.vstack([tg.tensor([1, 2]), tg.tensor([3, 4])]))
    [[1 2]
     [3 4]]
    """
    return _core.concatenate([atleast_2d(a) for a in _seq(tup, "vstack")], 0)


def hstack(tup):
    """Stack along the second axis (the first for 1-D inputs) (numpy.hstack).

    >>> print(tg.numpy.hstack([tg.tensor([1, 2]), tg.tensor([3])]))
    [1 2 3]
    """
    ts = [atleast_1d(a) for a in _seq(tup, "hstack")]
    return _core.concatenate(ts, 0 if ts and ts[0].ndim == 1 else 1)


def dstack(tup):
    """Stack along the third axis (numpy.dstack).

    >>> tg.numpy.dstack([tg.ones((2, 3)), tg.ones((2, 3))]).shape
    (2, 3, 2)
    """
    return _core.concatenate([atleast_3d(a) for a in _seq(tup, "dstack")], 2)


def column_stack(tup):
    """1-D inputs as columns of a 2-D result; 2-D inputs stacked side by side (numpy.column_stack).

    >>> print(tg.numpy.column_stack([tg.tensor([1, 2]), tg.tensor([3, 4])]))
    [[1 3]
     [2 4]]
    """
    ts = [a.reshape(-1, 1) if a.ndim < 2 else a for a in _seq(tup, "column_stack")]
    return _core.concatenate(ts, 1)


def array_split(x, indices_or_sections, axis=0):
    """Split into pieces, which need not be equal (numpy.array_split): `n` sections give the first
    ``len % n`` pieces one more element.

    >>> [p.tolist() for p in tg.numpy.array_split(tg.arange(5), 3)]
    [[0, 1], [2, 3], [4]]
    """
    x = _t(x)
    axis = _axis(axis, x.ndim, "array_split")
    if isinstance(indices_or_sections, (int, np.integer)):
        n = int(indices_or_sections)
        if n <= 0:
            raise ValueError(f"array_split: number of sections must be larger than 0, got {n}")
        size = x.shape[axis]
        each, extra = divmod(size, n)
        bounds = np.cumsum([0] + [each + 1] * extra + [each] * (n - extra))
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [x.shape[axis]]
    out = []
    for lo, hi in itertools.pairwise(bounds):
        index = [slice(None)] * x.ndim
        index[axis] = slice(int(lo), int(hi))
        out.append(x[tuple(index)])
    return out


def _split_n(name, x, ios, axis):
    x = _t(x)
    if isinstance(ios, (int, np.integer)) and x.shape[axis] % int(ios):
        raise ValueError(
            f"{name}: array split does not result in an equal division ({x.shape[axis]} by {ios})"
        )
    return array_split(x, ios, axis)


def hsplit(x, indices_or_sections):
    """Split along the second axis (the first for 1-D) into equal pieces (numpy.hsplit).

    >>> [p.shape for p in tg.numpy.hsplit(tg.ones((2, 4)), 2)]
    [(2, 2), (2, 2)]
    """
    x = _t(x)
    return _split_n("hsplit", x, indices_or_sections, 1 if x.ndim > 1 else 0)


def vsplit(x, indices_or_sections):
    """Split along the first axis into equal pieces (numpy.vsplit).

    >>> [p.shape for p in tg.numpy.vsplit(tg.ones((4, 2)), 2)]
    [(2, 2), (2, 2)]
    """
    x = _t(x)
    if x.ndim < 2:
        raise ValueError(f"vsplit: needs at least 2 dimensions, got shape {x.shape}")
    return _split_n("vsplit", x, indices_or_sections, 0)


def dsplit(x, indices_or_sections):
    """Split along the third axis into equal pieces (numpy.dsplit).

    >>> [p.shape for p in tg.numpy.dsplit(tg.ones((1, 2, 4)), 2)]
    [(1, 2, 2), (1, 2, 2)]
    """
    x = _t(x)
    if x.ndim < 3:
        raise ValueError(f"dsplit: needs at least 3 dimensions, got shape {x.shape}")
    return _split_n("dsplit", x, indices_or_sections, 2)


def rot90(m, k=1, axes=(0, 1)):
    """Rotate by 90 degrees `k` times in the plane of `axes` (numpy.rot90).

    >>> print(tg.numpy.rot90(tg.tensor([[1, 2], [3, 4]])))
    [[2 4]
     [1 3]]
    """
    m = _t(m)
    if len(axes) != 2:
        raise ValueError("rot90: len(axes) must be 2")
    a0, a1 = _axis(axes[0], m.ndim, "rot90"), _axis(axes[1], m.ndim, "rot90")
    if a0 == a1:
        raise ValueError(f"rot90: axes must be different, got {axes}")
    k = int(k) % 4
    if k == 0:
        return m
    if k == 2:
        return _core.flip(_core.flip(m, a0), a1)
    perm = list(range(m.ndim))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if k == 1:
        return _core.transpose(_core.flip(m, a1), tuple(perm))
    return _core.flip(_core.transpose(m, tuple(perm)), a1)


def _pad_widths(pad_width, ndim):
    pw = np.asarray(pad_width, dtype=np.int64)
    try:
        pw = np.broadcast_to(pw, (ndim, 2))
    except ValueError:
        raise ValueError(
            f"pad: pad_width {pad_width!r} does not fit an array of {ndim} dimensions"
        ) from None
    if (pw < 0).any():
        raise ValueError(f"pad: pad_width must be non-negative, got {pad_width!r}")
    return pw


def pad(x, pad_width, mode="constant", constant_values=0):
    """`x` padded (numpy.pad) in mode ``constant`` (`constant_values`: a scalar or per-axis
    ``(before, after)``), ``edge``, ``reflect``, ``symmetric`` or ``wrap``; differentiable in `x`
    (and in a Tensor `constant_values`).

    >>> print(tg.numpy.pad(tg.tensor([1, 2]), (1, 2)))
    [0 1 2 0 0]
    >>> print(tg.numpy.pad(tg.tensor([1, 2, 3]), 2, mode="reflect"))
    [3 2 1 2 3 2 1]
    """
    x = _t(x)
    pw = _pad_widths(pad_width, x.ndim)
    if mode == "constant":
        cv = constant_values
        if not isinstance(cv, Tensor):
            cv = np.broadcast_to(np.asarray(cv), (x.ndim, 2)) if np.ndim(cv) else None
        for ax in range(x.ndim):
            before, after = int(pw[ax, 0]), int(pw[ax, 1])
            if before == 0 and after == 0:
                continue
            parts = []
            for side, w in ((0, before), (1, after)):
                shape = list(x.shape)
                shape[ax] = w
                if isinstance(constant_values, Tensor):
                    val = constant_values.astype(x.dtype)
                elif cv is None:
                    val = constant_values
                else:
                    val = cv[ax, side].item()
                block = _core.broadcast_to(
                    _t(val).astype(x.dtype)
                    if isinstance(val, Tensor)
                    else _creation.full((), val, x.dtype),
                    tuple(shape),
                )
                parts.append(block)
            x = _core.concatenate([parts[0], x, parts[1]], ax)
        return x
    if mode not in ("edge", "reflect", "symmetric", "wrap"):
        raise ValueError(
            f"pad: mode {mode!r} is not supported (constant, edge, reflect, symmetric, wrap)"
        )
    for ax in range(x.ndim):
        before, after = int(pw[ax, 0]), int(pw[ax, 1])
        if before == 0 and after == 0:
            continue
        n = x.shape[ax]
        if n == 0:
            raise ValueError(
                f"pad: can't extend the empty axis {ax} of shape {x.shape} in mode {mode!r}"
            )
        idx = np.arange(-before, n + after)
        if mode == "edge":
            idx = np.clip(idx, 0, n - 1)
        elif mode == "wrap":
            idx = idx % n
        elif mode == "reflect":
            period = 2 * (n - 1) if n > 1 else 1
            idx = np.abs(idx) % period if n > 1 else np.zeros_like(idx)
            idx = np.where(idx >= n, period - idx, idx)
        else:  # symmetric
            period = 2 * n
            idx = idx % period
            idx = np.where(idx >= n, period - 1 - idx, idx)
        x = _core.take(x, Tensor(idx.astype(np.int64)), ax)
    return x


def diff(a, n=1, axis=-1, prepend=None, append=None):
    """The `n`-th discrete difference along `axis` (numpy.diff), with optional `prepend`/`append`.

    >>> print(tg.numpy.diff(tg.tensor([1.0, 4.0, 9.0, 16.0])))
    [3. 5. 7.]
    >>> print(tg.numpy.diff(tg.tensor([1.0, 4.0, 9.0, 16.0]), n=2))
    [2. 2.]
    """
    a = _t(a)
    if n < 0:
        raise ValueError(f"diff: order must be non-negative but got {n}")
    if a.ndim == 0:
        raise ValueError("diff: needs at least 1 dimension, got a 0-d array")
    axis = _axis(axis, a.ndim, "diff")

    def _edge(extra):
        e = _t(extra)
        if e.ndim == 0:
            shape = list(a.shape)
            shape[axis] = 1
            e = _core.broadcast_to(e, tuple(shape))
        return e

    parts = ([_edge(prepend)] if prepend is not None else []) + [a]
    parts += [_edge(append)] if append is not None else []
    if len(parts) > 1:
        a = _core.concatenate(parts, axis)
    # past the axis's length every further difference is empty: stop there (numpy loops n times,
    # so a huge n would hang)
    for _ in range(min(n, a.shape[axis] + 1)):
        hi = [slice(None)] * a.ndim
        lo = [slice(None)] * a.ndim
        hi[axis], lo[axis] = slice(1, None), slice(None, -1)
        a = (
            (a[tuple(hi)] != a[tuple(lo)])
            if str(a.dtype) == "Bool"
            else a[tuple(hi)] - a[tuple(lo)]
        )
    return a


# ---- linear algebra ------------------------------------------------------------------------------


def tensordot(a, b, axes=2):
    """Sum of products over the last `axes` axes of `a` and the first of `b`, or over the listed
    axes pairs (numpy.tensordot).

    >>> tg.numpy.tensordot(tg.ones((2, 3, 4)), tg.ones((3, 4, 5))).shape
    (2, 5)
    >>> print(tg.numpy.tensordot(tg.tensor([[1.0, 2.0]]), tg.tensor([[3.0], [4.0]]), axes=([1], [0])))
    [[11.]]
    """
    a, b = _t(a), _t(b)
    if isinstance(axes, (int, np.integer)):
        k = int(axes)
        if k < 0 or k > a.ndim or k > b.ndim:
            raise ValueError(f"tensordot: axes={k} does not fit shapes {a.shape} and {b.shape}")
        ax_a, ax_b = list(range(a.ndim - k, a.ndim)), list(range(k))
    else:
        ax_a, ax_b = axes
        ax_a = [ax_a] if isinstance(ax_a, (int, np.integer)) else list(ax_a)
        ax_b = [ax_b] if isinstance(ax_b, (int, np.integer)) else list(ax_b)
        if len(ax_a) != len(ax_b):
            raise ValueError(f"tensordot: axes {axes} have different lengths")
        ax_a = [_axis(i, a.ndim, "tensordot") for i in ax_a]
        ax_b = [_axis(i, b.ndim, "tensordot") for i in ax_b]
    for i, j in zip(ax_a, ax_b):
        if a.shape[i] != b.shape[j]:
            raise ValueError(
                f"tensordot: shape mismatch for sum: {a.shape} axis {i} and {b.shape} axis {j}"
            )
    free_a = [i for i in range(a.ndim) if i not in ax_a]
    free_b = [j for j in range(b.ndim) if j not in ax_b]
    k = int(np.prod([a.shape[i] for i in ax_a], dtype=np.int64))
    # The free sizes spelled out: reshape cannot infer a -1 next to a zero-length contracted axis
    # (contracting over a length-0 axis is a sum of nothing, zeros of the free shape).
    m = int(np.prod([a.shape[i] for i in free_a], dtype=np.int64))
    n = int(np.prod([b.shape[j] for j in free_b], dtype=np.int64))
    at = _core.transpose(a, tuple(free_a + ax_a)).reshape(m, k)
    bt = _core.transpose(b, tuple(ax_b + free_b)).reshape(k, n)
    out = _core.matmul(at, bt)
    return out.reshape(tuple(a.shape[i] for i in free_a) + tuple(b.shape[j] for j in free_b))


def vecdot(x1, x2, axis=-1):
    """Dot products of vectors along `axis`, broadcasting the rest (the Array API's vecdot).

    >>> print(tg.numpy.vecdot(tg.tensor([[1.0, 2.0], [3.0, 4.0]]), tg.tensor([1.0, 1.0])))
    [3. 7.]
    """
    x1, x2 = _t(x1), _t(x2)
    n1 = x1.shape[axis] if x1.ndim else None
    n2 = x2.shape[axis] if x2.ndim else None
    if n1 is None or n2 is None or n1 != n2:
        raise ValueError(f"vecdot: shapes {x1.shape} and {x2.shape} differ along axis {axis}")
    if _is_complex(x1):  # the Array API's vecdot conjugates x1
        x1 = conj(x1)
    p = x1 * x2
    r = _core.sum(p, axis)
    # The result has the operands' promoted dtype (Array API): sum widens small integers to Int64
    # as numpy's sum does, which vecdot must not (int32 vectors give int32, wrapping like matmul).
    return r if r.dtype == p.dtype else r.astype(p.dtype)


def inner(a, b):
    """Inner product over the last axes (numpy.inner); scalars multiply.

    >>> print(tg.numpy.inner(tg.tensor([1.0, 2.0]), tg.tensor([3.0, 4.0])))
    11.0
    """
    a, b = _t(a), _t(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return tensordot(a, b, ([-1], [-1]))


def kron(a, b):
    """Kronecker product (numpy.kron).

    >>> print(tg.numpy.kron(tg.tensor([[1, 2]]), tg.tensor([[1], [10]])))
    [[ 1  2]
     [10 20]]
    """
    a, b = _t(a), _t(b)
    nd = builtins.max(a.ndim, b.ndim)
    a = a.reshape((1,) * (nd - a.ndim) + a.shape)
    b = b.reshape((1,) * (nd - b.ndim) + b.shape)
    ai = a.reshape(tuple(d for s in a.shape for d in (s, 1)))
    bi = b.reshape(tuple(d for s in b.shape for d in (1, s)))
    return (ai * bi).reshape(tuple(p * q for p, q in zip(a.shape, b.shape)))


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 3-vectors, broadcasting the rest (numpy.cross): the vectors of `a` lie
    along `axisa`, those of `b` along `axisb`, the result's along `axisc`; `axis` sets all three.

    >>> print(tg.numpy.cross(tg.tensor([1.0, 0.0, 0.0]), tg.tensor([0.0, 1.0, 0.0])))
    [0. 0. 1.]
    >>> tg.numpy.cross(tg.ones((3, 2)), tg.ones((2, 3)), axisa=0).shape
    (2, 3)
    """
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = _t(a), _t(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"cross: needs vectors of 3 elements, got shapes {a.shape} and {b.shape}")
    axisa, axisb = _axis(axisa, a.ndim, "cross"), _axis(axisb, b.ndim, "cross")
    if a.shape[axisa] != 3 or b.shape[axisb] != 3:
        raise ValueError(
            f"cross: needs vectors of 3 elements along axes {axisa} and {axisb}, got shapes "
            f"{a.shape} and {b.shape}"
        )
    a, b = moveaxis(a, axisa, -1), moveaxis(b, axisb, -1)
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    out = _core.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], -1)
    return moveaxis(out, -1, _axis(axisc, out.ndim, "cross"))


def _sublist_to_str(sub):
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = []
    for s in sub:
        if s is Ellipsis:
            out.append("...")
        elif isinstance(s, (int, np.integer)) and 0 <= s < 52:
            out.append(letters[int(s)])
        else:
            raise ValueError(
                f"einsum: subscript {s!r} in a sublist must be an int in [0, 52) or Ellipsis"
            )
    return "".join(out)


def einsum(*operands, **kwargs):
    """Einstein summation (numpy.einsum), in the subscripts-string form or numpy's sublist form
    ``einsum(a, [0, 1], b, [1, 2], [0, 2])``.

    >>> a, b = tg.ones((2, 3)), tg.ones((3, 4))
    >>> tg.numpy.einsum("ij,jk->ik", a, b).shape
    (2, 4)
    >>> tg.numpy.einsum(a, [0, 1], b, [1, 2], [0, 2]).shape
    (2, 4)
    """
    for k, v in kwargs.items():
        if (
            (k in ("out", "dtype") and v is None)
            or k == "optimize"
            or (k == "order" and v in ("K", "C"))
        ):
            continue
        raise TypeError(f"einsum: argument {k}={v!r} is not supported")
    if not operands:
        raise ValueError("einsum: no operands given")
    if isinstance(operands[0], str):
        return _core.einsum(*operands)
    ops, subs = list(operands[0::2]), list(operands[1::2])
    out = None
    if len(ops) > len(subs):  # trailing output sublist
        out = ops.pop()
        if isinstance(out, (Tensor, np.ndarray)):
            raise ValueError("einsum: operands and sublists must alternate")
    spec = ",".join(_sublist_to_str(s) for s in subs)
    if out is not None:
        spec += "->" + _sublist_to_str(out)
    return _core.einsum(spec, *ops)


# ---- search, select, reduce ----------------------------------------------------------------------


def _eager(name, *xs):
    for x in xs:
        if isinstance(x, Tensor) and x._is_tracked():
            raise TypeError(
                f"{name}: the result's shape depends on the values, so it cannot run "
                "inside grad/jvp/vmap/jit (call it outside the transform)"
            )


def nonzero(x):
    """Indices of the non-zero elements, one Int64 Tensor per axis (numpy.nonzero); eager only.

    >>> [i.tolist() for i in tg.numpy.nonzero(tg.tensor([[1, 0], [0, 2]]))]
    [[0, 1], [0, 1]]
    """
    x = _t(x)
    _eager("nonzero", x)
    if x.ndim == 0:
        raise ValueError(
            "nonzero: 0-d arrays are not supported (numpy 2 raises too); use atleast_1d"
        )
    return tuple(Tensor(i.astype(np.int64)) for i in np.nonzero(x.numpy()))


def count_nonzero(x, axis=None, keepdims=False):
    """Number of non-zero elements, over `axis` (numpy.count_nonzero), as Int64.

    >>> print(tg.numpy.count_nonzero(tg.tensor([[1, 0], [3, 2]]), axis=1))
    [1 2]
    """
    x = _t(x)
    if isinstance(axis, (int, np.integer, tuple)):  # (errors naming count_nonzero, not sum)
        for a in axis if isinstance(axis, tuple) else (axis,):
            _axis(a, x.ndim, "count_nonzero")
    return _core.sum((x != 0).astype(_core.int64), axis, keepdims)


def _cumulative(name, fn, x, axis, dtype, include_initial, initial):
    x = _t(x)
    if axis is None:
        if x.ndim > 1:
            raise ValueError(
                f"{name}: axis is required for arrays of more than 1 dimension (shape {x.shape})"
            )
        axis = 0
    if x.ndim == 0:
        raise ValueError(f"{name}: needs at least 1 dimension, got a 0-d array")
    axis = _axis(axis, x.ndim, name)
    if dtype is not None:
        x = x.astype(dtype)
    elif str(x.dtype) in ("Bool", "Int32"):
        x = x.astype(_core.int64)
    out = fn(x, axis)
    if include_initial:
        shape = list(x.shape)
        shape[axis] = 1
        out = _core.concatenate([_creation.full(tuple(shape), initial, out.dtype), out], axis)
    return out


def cumulative_sum(x, axis=None, dtype=None, include_initial=False):
    """Cumulative sum along `axis` (the Array API's cumulative_sum), optionally starting with 0.

    >>> print(tg.numpy.cumulative_sum(tg.tensor([1, 2, 3]), include_initial=True))
    [0 1 3 6]
    """
    return _cumulative("cumulative_sum", _core.cumsum, x, axis, dtype, include_initial, 0)


def cumulative_prod(x, axis=None, dtype=None, include_initial=False):
    """Cumulative product along `axis` (the Array API's cumulative_prod), optionally starting with 1.

    >>> print(tg.numpy.cumulative_prod(tg.tensor([1.0, 2.0, 3.0])))
    [1. 2. 6.]
    """
    return _cumulative("cumulative_prod", _core.cumprod, x, axis, dtype, include_initial, 1)


def searchsorted(x1, x2, side="left", sorter=None):
    """Indices where the values `x2` would be inserted into the sorted 1-D `x1` to keep it sorted
    (numpy.searchsorted; NaNs sort last), as Int64. Not differentiable.

    >>> print(tg.numpy.searchsorted(tg.tensor([1.0, 2.0, 3.0]), tg.tensor([0.5, 2.0, 9.0])))
    [0 1 3]
    >>> print(tg.numpy.searchsorted(tg.tensor([1.0, 2.0, 3.0]), 2.0, side="right"))
    2
    """
    x1 = _t(x1)
    if x1.ndim != 1:
        raise ValueError(f"searchsorted: x1 must be 1-D, got shape {x1.shape}")
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    if sorter is not None:
        sorter = _t(sorter)
        if tuple(sorter.shape) != tuple(x1.shape):
            raise ValueError(
                f"searchsorted: sorter must have the shape of x1 {tuple(x1.shape)}, got "
                f"{tuple(sorter.shape)}"
            )
        x1 = _core.take(x1, sorter, 0)
    v = _t(x2)
    if _is_complex(x1) or _is_complex(v):
        raise TypeError(
            f"searchsorted: not supported for {x1.dtype.name} and {v.dtype.name} (complex numbers "
            "are not ordered)"
        )
    # A binary search, all values at once: ceil(log2(n + 1)) rounds of a gather and a compare on
    # x2's shape, so memory stays linear (comparing every pair would take len(x1) * x2.size).
    n = x1.shape[0]
    nan_order = _is_float(x1) or _is_float(v)
    lo = _core.zeros_like(v, _core.int64)
    hi = lo + n
    for _ in range(n.bit_length()):
        mid = (lo + hi) // 2
        a = _core.take(x1, _core.minimum(mid, n - 1), 0)  # mid == n only where lo == hi == n
        if side == "left":
            before = a < v
            if nan_order:  # NaNs sort last: any number is before a NaN
                before = before | (_core.isnan(v) & _core.logical_not(_core.isnan(a)))
        else:
            before = a <= v
            if nan_order:
                before = before | _core.isnan(v)
        open_ = lo < hi
        lo = _core.where(before & open_, mid + 1, lo)
        hi = _core.where(_core.logical_not(before) & open_, mid, hi)
    return lo


def select(condlist, choicelist, default=0):
    """Elements from `choicelist` where the first true condition of `condlist` holds, else
    `default` (numpy.select).

    >>> x = tg.tensor([-1.0, 0.0, 2.0])
    >>> print(tg.numpy.select([x < 0, x > 1], [-x, x * 10], default=7.0))
    [ 1.  7. 20.]
    """
    if len(condlist) != len(choicelist):
        raise ValueError(
            f"select: list of cases ({len(condlist)}) must be same length as list of conditions "
            f"({len(choicelist)})"
        )
    if not condlist:
        raise ValueError("select: select with an empty condition list is not possible")
    out = default
    for cond, choice in reversed(list(zip(condlist, choicelist))):
        cond = _t(cond)
        if str(cond.dtype) != "Bool":
            raise TypeError(
                f"select: invalid entry in condlist: should be boolean, got {cond.dtype}"
            )
        out = _where(cond, choice, out)
    out = _t(out)
    shape = broadcast_shapes(
        *[_t(c).shape for c in condlist],
        *[_t(c).shape for c in choicelist],
        np.shape(default) if not isinstance(default, Tensor) else default.shape,
    )
    return out if out.shape == shape else _core.broadcast_to(out, shape)


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """NaN replaced by `nan`, +-inf by `posinf`/`neginf` (the dtype's largest finite values by
    default) (numpy.nan_to_num); the gradient passes where `x` is finite.

    >>> print(tg.numpy.nan_to_num(tg.tensor([np.nan, np.inf, -np.inf, 1.0])))
    [ 0.0000000e+00  3.4028235e+38 -3.4028235e+38  1.0000000e+00]
    """
    x = _t(x)
    if _is_complex(x):  # part by part, as numpy
        parts = [nan_to_num(p, copy, nan, posinf, neginf) for p in (real(x), imag(x))]
        return _core._complex(*parts)
    if not _is_float(x):
        return _core.copy(x)
    big = float(np.finfo(str(x.dtype).lower()).max)
    posinf = big if posinf is None else posinf
    neginf = -big if neginf is None else neginf
    x = _where(_core.isnan(x), _creation.full((), nan, x.dtype), x)
    x = _where(isposinf(x), _creation.full((), posinf, x.dtype), x)
    return _where(isneginf(x), _creation.full((), neginf, x.dtype), x)


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise ``|a - b| <= atol + rtol * |b|``, infinities equal only to themselves
    (numpy.isclose).

    >>> print(tg.numpy.isclose(tg.tensor([1.0, 1.1, np.nan]), tg.tensor([1.0 + 1e-9, 1.0, np.nan]), equal_nan=True))
    [ True False  True]
    """
    a, b = _t(a), _t(b)
    if not (_is_float(a) or _is_complex(a)):  # complex: |a - b| is the modulus, as numpy
        a = a.astype(_core.float64)
    if not (_is_float(b) or _is_complex(b)):
        b = b.astype(_core.float64)
    finite = _core.isfinite(a) & _core.isfinite(b)
    diff_ = _core.abs(_where(finite, a - b, 0.0))
    close = finite & (diff_ <= atol + rtol * _core.abs(_where(finite, b, 0.0)))
    close = close | (_core.logical_not(finite) & (a == b))
    if equal_nan:
        close = close | (_core.isnan(a) & _core.isnan(b))
    return close


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether every element is close (numpy.allclose), as a Python bool.

    >>> tg.numpy.allclose(tg.tensor([1.0, 2.0]), tg.tensor([1.0, 2.0 + 1e-7]))
    True
    """
    return builtins.bool(_core.all(isclose(a, b, rtol, atol, equal_nan)))


# ---- creation ------------------------------------------------------------------------------------


def _complex_arg(v):
    if isinstance(v, Tensor):
        return _is_complex(v)
    return np.iscomplexobj(v)


def _is_complex_dtype(dt):
    return dt.name.startswith("complex")


def _split_complex(v):
    """(real, imag) of a linspace endpoint: Tensors through the differentiable parts."""
    if isinstance(v, Tensor):
        if _is_complex(v):
            return _core._complex_part(v, "real"), _core._complex_part(v, "imag")
        return v, _creation.zeros_like(v)
    v = np.asarray(v)
    if v.ndim == 0:
        return float(v.real), float(v.imag)
    return v.real, v.imag


def linspace(start, stop, num=50, endpoint=True, dtype=None, axis=0, *, retstep=False, device=None):
    """`num` evenly spaced values from `start` to `stop` (included when `endpoint`); float32 by
    default (numpy.linspace). Differentiable with respect to Tensor `start` and `stop`, which may
    be arrays (the values then run along `axis`).

    `retstep=True` returns `(samples, step)` as numpy does, `step` a Tensor of the shape of
    `start` and `stop` broadcast (0-d for scalars) and of the samples' dtype (float64 for an
    integer `dtype`), NaN when there is no step (`num` 0, or 1 with `endpoint`). `retstep` is
    keyword-only: tapegrad's fifth positional parameter has always been `dtype`.

    >>> tg.linspace(0, 1, 3)
    Tensor(shape=[3], dtype=Float32, value= [ 0.00000000e+00,  5.00000000e-01,  1.00000000e+00])
    >>> print(tg.linspace(0, 1, 4, endpoint=False))
    [0.   0.25 0.5  0.75]
    >>> tg.grad(lambda a, b: tg.linspace(a, b, 5).sum(), grad_position=(0, 1))(tg.tensor(0.0), tg.tensor(1.0))
    (Tensor(shape=[], dtype=Float32, value= 2.5), Tensor(shape=[], dtype=Float32, value= 2.5))
    >>> print(tg.numpy.linspace(0, 1 + 2j, 3))
    [0. +0.j 0.5+1.j 1. +2.j]
    """
    out = _linspace(start, stop, num, endpoint, dtype, axis, device)
    if not retstep:
        return out
    return out, _linspace_step(start, stop, num, endpoint, out, device)


def _linspace_step(start, stop, num, endpoint, out, device):
    """numpy's retstep: (stop - start) / div with div the number of intervals, NaN when there
    are none. A Tensor computed from `start` and `stop`, so that it is differentiable too."""
    sdt = out.dtype if (_is_float(out) or _is_complex(out)) else _core.float64
    div = (num - 1) if endpoint else num
    parts = []
    for v in (start, stop):
        if not isinstance(v, Tensor):  # numbers and arrays: read in double precision
            v = Tensor(np.asarray(v, dtype=np.complex128 if np.iscomplexobj(v) else np.float64))
        parts.append(v.astype(sdt))
    delta = parts[1] - parts[0]
    if div > 0:
        step = delta / div
    else:
        step = _creation.full(delta.shape, float("nan"), dtype=sdt)
    return _place(step, device, "linspace")


def _linspace(start, stop, num, endpoint, dtype, axis, device):
    if (
        _complex_arg(start)
        or _complex_arg(stop)
        or (dtype is not None and "complex" in str(dtype).lower())
    ):
        # complex endpoints: the real and the imaginary parts spaced separately (numpy's values);
        # complex64 unless a complex128/float64 Tensor or dtype says otherwise
        ct = _as_dtype(dtype) if dtype is not None else None
        if ct is None:
            wide = any(
                isinstance(v, Tensor) and v.dtype.name in ("complex128", "float64")
                for v in (start, stop)
            )
            ct = _core.complex128 if wide else _core.complex64
        if not _is_complex_dtype(ct):
            raise TypeError(f"linspace: complex start or stop needs a complex dtype, got {ct}")
        pt = _core.float64 if ct == _core.complex128 else _core.float32
        parts = [_split_complex(v) for v in (start, stop)]
        re = _linspace(parts[0][0], parts[1][0], num, endpoint, pt, axis, device)
        im = _linspace(parts[0][1], parts[1][1], num, endpoint, pt, axis, device)
        return _core._complex(re, im)
    if not (
        isinstance(start, Tensor) or isinstance(stop, Tensor) or np.ndim(start) or np.ndim(stop)
    ):
        if axis not in (0, -1):
            raise np.exceptions.AxisError(
                f"linspace: axis {axis} is out of bounds for the 1-d result"
            )
        return _made(device, "linspace", _core._linspace, start, stop, num, endpoint, dtype)
    if not isinstance(num, (int, np.integer)) or isinstance(num, bool):
        raise TypeError(f"linspace: num must be an int, got {num!r}")
    if num < 0:
        raise ValueError(f"linspace: number of samples, {num}, must be non-negative")
    num = int(num)
    a, b = _t(start), _t(stop)
    if dtype is not None:
        ft = _as_dtype(dtype)
    else:  # as the C++ linspace: float32 unless a Tensor argument is float64
        ft = (
            _core.float64
            if any(isinstance(v, Tensor) and str(v.dtype) == "Float64" for v in (start, stop))
            else _core.float32
        )
    work = ft if str(ft).startswith("Float") else _core.float64
    a, b = a.astype(work), b.astype(work)
    shape = broadcast_shapes(a.shape, b.shape)
    div = (num - 1) if endpoint else num
    steps = np.arange(num, dtype=np.float64) / div if div > 0 else np.zeros(num)
    t = Tensor(steps.reshape((num,) + (1,) * len(shape))).astype(work)
    out = a + t * (b - a)
    if endpoint and num > 1:
        out = _core.concatenate([out[:-1], _core.broadcast_to(b, shape).reshape((1,) + shape)], 0)
    if axis != 0:
        out = moveaxis(out, 0, axis)
    if dtype is not None and str(out.dtype) != str(ft):
        out = out.astype(ft)
    return _place(out, device, "linspace")


# numpy's remaining common functions that autograd.numpy differentiates (autograd's test suite
# runs them: tools/autograd_suite).


def row_stack(tup):
    """numpy's older name of vstack (numpy.row_stack).

    >>> tg.numpy.row_stack([tg.tensor([1, 2]), tg.tensor([3, 4])]).shape
    (2, 2)
    """
    return vstack(tup)


def fliplr(m):
    """Reverse the columns, the second axis (numpy.fliplr).

    >>> print(tg.numpy.fliplr(tg.tensor([[1, 2], [3, 4]])))
    [[2 1]
     [4 3]]
    """
    m = _t(m)
    if m.ndim < 2:
        raise ValueError(f"fliplr: the input must be at least 2-D, got shape {tuple(m.shape)}")
    return _core.flip(m, 1)


def flipud(m):
    """Reverse the rows, the first axis (numpy.flipud).

    >>> print(tg.numpy.flipud(tg.tensor([1, 2, 3])))
    [3 2 1]
    """
    m = _t(m)
    if m.ndim < 1:
        raise ValueError("flipud: the input must be at least 1-D, got a 0-d array")
    return _core.flip(m, 0)


def rollaxis(a, axis, start=0):
    """Move `axis` to just before position `start` (numpy.rollaxis; moveaxis is the clearer name).

    >>> tg.numpy.rollaxis(tg.ones((2, 3, 4)), 2).shape
    (4, 2, 3)
    >>> tg.numpy.rollaxis(tg.ones((2, 3, 4)), 0, 2).shape
    (3, 2, 4)
    """
    a = _t(a)
    n = a.ndim
    axis = _axis(axis, n, "rollaxis")
    if not isinstance(start, (int, np.integer)) or isinstance(start, (bool, np.bool_)):
        raise TypeError(f"rollaxis: start must be an integer, got {start!r}")
    if not -n <= start <= n:
        raise ValueError(f"rollaxis: start={start} is out of range for an array of {n} dimensions")
    start = int(start) + n if start < 0 else int(start)
    if axis < start:
        start -= 1
    if axis == start:
        return a
    return moveaxis(a, axis, start)


def append(arr, values, axis=None):
    """`values` appended to `arr` (numpy.append): both flattened when `axis` is None, else joined
    along `axis` (where the shapes must match but on that axis).

    >>> print(tg.numpy.append(tg.tensor([1, 2]), [[3, 4]]))
    [1 2 3 4]
    """
    arr, values = _t(arr), _t(values)
    if axis is None:
        return _core.concatenate([arr.reshape(-1), values.reshape(-1)], 0)
    return _core.concatenate([arr, values], axis)


class _Concatenator:
    """numpy's r_ and c_: `r_[a, b, 0:3]` joins its items along the first axis (slices become
    ranges, numbers 1-element arrays); `c_[a, b]` joins along the last axis, 1-D items as columns.
    numpy's string directives ('r', 'c', '0,2,1') are not supported (a TypeError)."""

    def __init__(self, name, columns):
        self._name = name
        self._columns = columns

    def _item(self, item):
        if isinstance(item, str):
            raise TypeError(f"{self._name}: string directives such as {item!r} are not supported")
        if isinstance(item, slice):
            start = 0 if item.start is None else item.start
            step = 1 if item.step is None else item.step
            if isinstance(step, complex):  # numpy: a complex step is a number of points
                return linspace(start, item.stop, int(abs(step)))
            return _creation.arange(start, item.stop, step)
        t = _t(item)
        if self._columns:
            return t.reshape(-1, 1) if t.ndim < 2 else t
        return t.reshape(1) if t.ndim == 0 else t

    def __getitem__(self, key):
        items = key if isinstance(key, tuple) else (key,)
        ts = [self._item(i) for i in items]
        if not ts:
            return Tensor(np.zeros(0))
        if self._columns:
            nd = builtins.max(t.ndim for t in ts)
            ts = [t.reshape(t.shape + (1,) * (nd - t.ndim)) for t in ts]
        return _core.concatenate(ts, -1 if self._columns else 0)


r_ = _Concatenator("r_", columns=False)
c_ = _Concatenator("c_", columns=True)


def fabs(x):
    """Absolute value of real numbers (numpy.fabs; complex input is a TypeError, as numpy's).

    >>> print(tg.numpy.fabs(tg.tensor([-1.5, 2.0])))
    [1.5 2. ]
    """
    x = _t(x)
    if _is_complex(x):
        raise TypeError(f"fabs: not supported for {x.dtype.name} (use abs for the modulus)")
    if not _is_float(x):
        # numpy's fabs has float loops only: integers and bools take the float dtype numpy picks
        # (float64 for int32 / int64, so abs(INT32_MIN) does not wrap)
        x = x.astype(np.fabs(np.zeros((), np.dtype(x.dtype.name))).dtype.name)
    return _core.abs(x)


def clip(x, /, min=None, max=None, out=None, *, a_min=None, a_max=None):
    """`x` limited to [min, max] (the Array API's clip and numpy's: the bounds by position, as
    the standard's `min=`/`max=` or as numpy's `a_min=`/`a_max=`; None bounds nothing on that
    side).

    >>> print(tg.numpy.clip(tg.tensor([-1.0, 0.5, 2.0]), a_min=0.0, a_max=1.0))
    [0.  0.5 1. ]
    """
    if out is not None:
        raise TypeError(
            f"clip: out={out!r} is not supported by tapegrad (only numpy's default None)"
        )
    if a_min is not None and min is not None:
        raise TypeError("clip: give the lower bound once (min or a_min)")
    if a_max is not None and max is not None:
        raise TypeError("clip: give the upper bound once (max or a_max)")
    lo = a_min if a_min is not None else min
    hi = a_max if a_max is not None else max
    return _core.clip(x, lo, hi)


def iscomplexobj(x):
    """Whether `x` has a complex dtype (numpy.iscomplexobj; a Python bool, not an array).

    >>> tg.numpy.iscomplexobj(tg.tensor([1 + 0j])), tg.numpy.iscomplexobj(tg.tensor([1.0]))
    (True, False)
    """
    if isinstance(x, Tensor):
        return _is_complex(x)
    return bool(np.iscomplexobj(x))


def isrealobj(x):
    """Whether `x` does not have a complex dtype (numpy.isrealobj; a Python bool).

    >>> tg.numpy.isrealobj(tg.tensor([1 + 0j])), tg.numpy.isrealobj(tg.tensor([1.0]))
    (False, True)
    """
    return not iscomplexobj(x)


def iscomplex(x):
    """Elementwise: a nonzero imaginary part (numpy.iscomplex; Bool, all False for real dtypes).

    >>> print(tg.numpy.iscomplex(tg.tensor([1 + 0j, 2 + 1j])))
    [False  True]
    """
    x = _t(x)
    if not _is_complex(x):
        return Tensor(np.zeros(tuple(x.shape), dtype=bool))
    return imag(x) != 0


def isreal(x):
    """Elementwise: a zero imaginary part (numpy.isreal; Bool, all True for real dtypes).

    >>> print(tg.numpy.isreal(tg.tensor([1 + 0j, 2 + 1j])))
    [ True False]
    """
    return _core.logical_not(iscomplex(x))


def real_if_close(a, tol=100):
    """The real part when every imaginary part is below `tol` machine epsilons (`tol` > 1) or
    below `tol` itself (`tol` <= 1), else `a` unchanged (numpy.real_if_close). Real input comes back as it is.

    Which of the two comes back depends on the values, as in numpy: inside a transform the choice
    is made on the values seen (``tg.jit`` re-checks it on every call).

    >>> tg.numpy.real_if_close(tg.tensor([1 + 1e-20j, 2 + 0j], tg.complex128)).dtype
    Float64
    """
    a = _t(a)
    if not _is_complex(a):
        return a
    if tol > 1:
        tol = tol * float(np.finfo(np.dtype(a.dtype.name)).eps)
    if bool(_core.all(_core.abs(imag(a)) < tol)):
        return real(a)
    return a


def partition(a, kth, axis=-1, kind="introselect", order=None):
    """`a` rearranged so that the element at each position `kth` is the one a sort would put there,
    smaller ones before it and larger ones after (numpy.partition). numpy leaves the order within
    the two parts unspecified; tapegrad returns them sorted (a full sort, which satisfies it).

    >>> print(tg.numpy.partition(tg.tensor([3, 1, 2]), 1))
    [1 2 3]
    """
    if order is not None:
        raise TypeError("partition: order= (structured arrays) is not supported by tapegrad")
    if kind != "introselect":
        raise ValueError(f"partition: kind must be 'introselect', got {kind!r}")
    a = _t(a)
    if axis is None:
        a, axis = a.reshape(-1), 0
    n = a.ndim
    axis = _axis(axis, n, "partition")
    size = a.shape[axis]
    for k in np.atleast_1d(np.asarray(kth)).tolist():
        if not isinstance(k, int) or not -size <= k < size:
            raise ValueError(f"partition: kth={k!r} is out of bounds for an axis of length {size}")
    return _core.sort(a, axis)


def gradient(f, *varargs, axis=None, edge_order=1):
    """The gradient of sampled values by second-order central differences in the interior and
    one-sided differences of order `edge_order` (1 or 2) at the ends (numpy.gradient). Spacings:
    none (1), one scalar for every axis, or one scalar per axis; numpy's coordinate arrays are
    not supported (a TypeError). One axis gives a Tensor, several a tuple of them.

    >>> print(tg.numpy.gradient(tg.tensor([1.0, 2.0, 4.0, 7.0])))
    [1.  1.5 2.5 3. ]
    """
    f = _t(f)
    n = f.ndim
    if n == 0:
        raise ValueError("gradient: the input must be at least 1-D")
    if axis is None:
        axes = list(range(n))
    elif isinstance(axis, (tuple, list)):
        axes = [_axis(ax, n, "gradient") for ax in axis]
    else:
        axes = [_axis(axis, n, "gradient")]
    if len(varargs) == 0:
        spacing = [1.0] * len(axes)
    elif len(varargs) == 1:
        spacing = list(varargs) * len(axes)
    elif len(varargs) == len(axes):
        spacing = list(varargs)
    else:
        raise TypeError(f"gradient: {len(varargs)} spacings for {len(axes)} axes")
    for h in spacing:
        if np.ndim(h) != 0:
            raise TypeError(
                "gradient: coordinate arrays as spacing are not supported; give scalars"
            )
    if edge_order not in (1, 2):
        raise ValueError(f"gradient: edge_order must be 1 or 2, got {edge_order!r}")
    if not (_is_float(f) or _is_complex(f)):
        f = f.astype(_core.float64)
    out = []
    for ax, h in zip(axes, spacing):
        length = f.shape[ax]
        if length < edge_order + 1:
            raise ValueError(
                f"gradient: axis {ax} has {length} samples; edge_order={edge_order} needs at least {edge_order + 1}"
            )
        g = moveaxis(f, ax, 0)
        h = float(h)
        interior = (g[2:] - g[:-2]) / (2.0 * h)
        if edge_order == 1:
            first = (g[1:2] - g[0:1]) / h
            last = (g[-1:] - g[-2:-1]) / h
        else:
            first = (-1.5 * g[0:1] + 2.0 * g[1:2] - 0.5 * g[2:3]) / h
            last = (0.5 * g[-3:-2] - 2.0 * g[-2:-1] + 1.5 * g[-1:]) / h
        d = _core.concatenate([first, interior, last], 0)
        out.append(moveaxis(d, 0, ax))
    return out[0] if len(out) == 1 else tuple(out)
