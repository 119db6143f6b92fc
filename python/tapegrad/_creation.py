"""Creation and random functions: public signatures here, argument checking and work in C++.

Each takes ``device=`` (API.md section 8): None or ``"CPU"`` (the default; a ``*_like`` function
defaults to its argument's device) or ``"GPU"`` when ``tg.cuda.is_available()``; the values are
made on the CPU and copied (GPU kernels for creation and random numbers are not written yet)."""

from __future__ import annotations

import math

import numpy as np

from . import _core
from ._tensor import _made

__all__ = [
    "arange",
    "empty",
    "empty_like",
    "eye",
    "full",
    "full_like",
    "get_seed",
    "linspace",
    "normal",
    "ones",
    "ones_like",
    "rand",
    "randint",
    "randn",
    "set_seed",
    "uniform",
    "zeros",
    "zeros_like",
]


def zeros(shape, dtype=None, *, device=None):
    """A tensor of zeros; `shape` is an int or a tuple of ints, `dtype` defaults to float32.

    >>> tg.zeros(3, tg.int32)
    Tensor(shape=[3], dtype=Int32, value= [0, 0, 0])
    >>> tg.zeros((2, 3))
    Tensor(shape=[2, 3], dtype=Float32, value=
    [[ 0.00000000e+00,  0.00000000e+00,  0.00000000e+00],
     [ 0.00000000e+00,  0.00000000e+00,  0.00000000e+00]])
    """
    return _made(device, "zeros", _core._zeros, shape, dtype)


def ones(shape, dtype=None, *, device=None):
    """A tensor of ones; `shape` is an int or a tuple of ints, `dtype` defaults to float32.

    >>> tg.ones(2)
    Tensor(shape=[2], dtype=Float32, value= [ 1.00000000e+00,  1.00000000e+00])
    >>> print(tg.ones((2, 2), "int64"))
    [[1 1]
     [1 1]]
    """
    return _made(device, "ones", _core._ones, shape, dtype)


def empty(shape, dtype=None, *, device=None):
    """An uninitialised tensor (as numpy.empty); `dtype` defaults to float32.

    Its values are whatever the memory held: write them before reading them.

    >>> x = tg.empty((2, 3))
    >>> x.shape, x.dtype
    ((2, 3), Float32)
    """
    return _made(device, "empty", _core._empty, shape, dtype)


def full(shape, fill_value, dtype=None, *, device=None):
    """A tensor of `fill_value`. Without `dtype`, a Python bool gives Bool, an int Int64, a float
    Float32, and a tensor or numpy value its own dtype; an array-like fill value is broadcast.

    >>> tg.full((2,), 7)
    Tensor(shape=[2], dtype=Int64, value= [7, 7])
    >>> tg.full(2, 0.5)
    Tensor(shape=[2], dtype=Float32, value= [ 5.00000000e-01,  5.00000000e-01])
    >>> print(tg.full((2, 3), [1.0, 2.0, 3.0]))
    [[1. 2. 3.]
     [1. 2. 3.]]
    """
    return _made(device, "full", _core._full, shape, fill_value, dtype)


def zeros_like(x, dtype=None, *, device=None):
    """Zeros with the shape and (unless given) the dtype of `x`.

    >>> tg.zeros_like(tg.tensor([1, 2, 3]))
    Tensor(shape=[3], dtype=Int64, value= [0, 0, 0])
    >>> tg.zeros_like(tg.tensor([1, 2]), tg.float32)
    Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  0.00000000e+00])
    """
    return _made(device, "zeros_like", _core._zeros_like, x, dtype)


def ones_like(x, dtype=None, *, device=None):
    """Ones with the shape and (unless given) the dtype of `x`.

    >>> tg.ones_like(tg.tensor([[1.0, 2.0]]))
    Tensor(shape=[1, 2], dtype=Float32, value=
    [[ 1.00000000e+00,  1.00000000e+00]])
    """
    return _made(device, "ones_like", _core._ones_like, x, dtype)


def empty_like(x, dtype=None, *, device=None):
    """An uninitialised tensor with the shape and (unless given) the dtype of `x`.

    >>> x = tg.empty_like(tg.tensor([1, 2, 3]))
    >>> x.shape, x.dtype
    ((3,), Int64)
    """
    return _made(device, "empty_like", _core._empty_like, x, dtype)


def full_like(x, fill_value, dtype=None, *, device=None):
    """`fill_value` with the shape and (unless given) the dtype of `x`.

    >>> tg.full_like(tg.zeros(3), 2.5)
    Tensor(shape=[3], dtype=Float32, value= [ 2.50000000e+00,  2.50000000e+00,  2.50000000e+00])
    >>> tg.full_like(tg.tensor([1, 2]), 2.5)  # the dtype of x: Int64
    Tensor(shape=[2], dtype=Int64, value= [2, 2])
    """
    return _made(device, "full_like", _core._full_like, x, fill_value, dtype)


_NO_START = object()  # tells arange(5) (the stop) from no start at all


def arange(start=_NO_START, /, stop=None, step=1, dtype=None, *, device=None, **kwargs):
    """numpy's arange: values in [start, stop) spaced by `step`; `arange(n)` is [0, n).

    As in numpy, `start` may be given by name with `stop`, and `stop` alone by name
    (`arange(stop=3)` is [0, 3)); `arange()` and `arange(start=3)` raise numpy's TypeError.

    Without `dtype` the result is Int64 when every argument is an integer and Float32 otherwise
    (`arange(4.0)` is Float32).

    >>> tg.arange(4)
    Tensor(shape=[4], dtype=Int64, value= [0, 1, 2, 3])
    >>> tg.arange(3.0)
    Tensor(shape=[3], dtype=Float32, value= [ 0.00000000e+00,  1.00000000e+00,  2.00000000e+00])
    >>> print(tg.arange(1, 2, 0.25))
    [1.   1.25 1.5  1.75]
    >>> print(tg.arange(stop=3), tg.arange(start=1, stop=3))
    [0 1 2] [1 2]
    """
    # `start` is positional-only so that a keyword `start` (numpy's arange(start=1, stop=3)) lands
    # in kwargs: numpy tells arange(3) from arange(start=3), which it refuses.
    if kwargs:
        extra = sorted(set(kwargs) - {"start"})
        if extra:
            raise TypeError(f"arange() got an unexpected keyword argument {extra[0]!r}")
        if start is not _NO_START:
            raise TypeError("arange() got multiple values for argument 'start'")
        if stop is None:
            raise TypeError("arange() requires stop to be specified.")
        start = kwargs["start"]
    elif start is _NO_START:
        if stop is None:
            raise TypeError("arange() requires stop to be specified.")
        start = 0
    _check_arange_length(start, stop, step)
    if dtype is not None:
        _check_arange_int_bounds(start, stop, step, dtype)
    return _made(device, "arange", _core._arange, start, stop, step, dtype)


def _check_arange_int_bounds(start, stop, step, dtype):
    """numpy computes the first two values of an integer arange in the dtype itself: one the dtype
    cannot hold is an OverflowError (later values wrap, as numpy's do)."""
    if stop is None:
        start, stop = 0, start
    if (
        not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, stop, step))
        or not step
    ):
        return
    from ._numpy_extra import _as_dtype

    try:
        info = np.iinfo(str(_as_dtype(dtype)).lower())
    except (TypeError, ValueError):
        return  # a float or Bool dtype, or a bad one (the core names it)
    n = max(0, -((start - stop) // step))
    for v in (start, start + step)[: min(n, 2)]:
        if not info.min <= v <= info.max:
            raise OverflowError(f"arange: Python integer {v} out of bounds for {info.dtype}")


def _check_arange_length(start, stop, step):
    """numpy raises "Maximum allowed size exceeded" when ceil((stop - start) / step) is beyond the
    index range, whichever its sign (an empty range that far away included); so does tapegrad."""
    if stop is None:
        start, stop = 0, start
    vals = []
    for v in (start, stop, step):
        if isinstance(v, bool) or not isinstance(v, int | float):
            return  # tensors, numpy scalars, bad types: the core checks them
        vals.append(v)
    a, b, s = vals
    if s == 0 or not all(math.isfinite(float(v)) for v in vals):
        return
    if any(isinstance(v, float) for v in vals):
        too_big = (
            abs((b - a) / s) >= 2**63
        )  # numpy's float length check, a negative length included
    else:
        too_big = -((a - b) // s) >= 2**63  # integers: only a positive length can overflow
    if too_big:
        raise ValueError(
            f"arange: maximum allowed size exceeded (start={a!r}, stop={b!r}, step={s!r})"
        )


def linspace(start, stop, num=50, endpoint=True, dtype=None, *, device=None):
    """`num` evenly spaced values from `start` to `stop` (included when `endpoint`); float32 by
    default.

    >>> tg.linspace(0, 1, 3)
    Tensor(shape=[3], dtype=Float32, value= [ 0.00000000e+00,  5.00000000e-01,  1.00000000e+00])
    >>> print(tg.linspace(0, 1, 4, endpoint=False))
    [0.   0.25 0.5  0.75]
    """
    return _made(device, "linspace", _core._linspace, start, stop, num, endpoint, dtype)


def eye(N, M=None, k=0, dtype=None, *, device=None):
    """An N x M matrix (M defaults to N) with ones on diagonal `k`, float32 by default.

    >>> tg.eye(2)
    Tensor(shape=[2, 2], dtype=Float32, value=
    [[ 1.00000000e+00,  0.00000000e+00],
     [ 0.00000000e+00,  1.00000000e+00]])
    >>> print(tg.eye(2, 3, k=1, dtype=tg.int32))
    [[0 1 0]
     [0 0 1]]
    """
    return _made(device, "eye", _core._eye, N, M, k, dtype)


# ---- random numbers ------------------------------------------------------------------------------
# One global counter-based generator (Philox 4x32-10): every call takes the next unused blocks of
# the stream, so successive calls differ and `set_seed(n)` replays the same sequence, whatever the
# number of threads.


def set_seed(seed):
    """Seed the global generator (0 <= seed < 2**64) and rewind it.

    The same seed gives the same numbers, whatever the number of threads.

    >>> tg.set_seed(42)
    >>> a = tg.rand(4)
    >>> tg.set_seed(42)
    >>> bool((tg.rand(4) == a).all())
    True
    """
    _core._set_seed(seed)


def get_seed():
    """The seed of the global generator.

    >>> tg.set_seed(7)
    >>> tg.get_seed()
    7
    """
    return _core._get_seed()


def _varargs_shape(dims, shape, op):
    if dims and shape is not None:
        raise TypeError(f"{op}: give the shape either as arguments or as shape=, not both")
    if shape is not None:
        return shape
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        return dims[0]
    return dims


def _random_dtype(dtype, op, complex_ok):
    """The dtype of a random draw as _core's dtype object (None: the default, float32).

    Complex dtypes: `randn` and `normal` draw them as JAX's ``random.normal`` does (below);
    `rand` and `uniform` refuse them as JAX and numpy do (a uniform distribution over complex
    numbers has no one meaning: the unit square? the unit disc?)."""
    if dtype is None:
        return None
    try:
        dt = _core._zeros((0,), dtype).dtype
    except (TypeError, ValueError):
        return dtype  # the core names the bad dtype
    if dt in (_core.float16, _core.float32, _core.float64):
        return dt
    if dt in (_core.complex64, _core.complex128):
        if complex_ok:
            return dt
        raise TypeError(
            f"{op}: dtype must be a float dtype (Float16, Float32, Float64), got {dt}: uniform "
            "samples of complex numbers are not defined (as in numpy and JAX); draw the real and "
            "imaginary parts separately"
        )
    kinds = (
        "a float or complex dtype" if complex_ok else "a float dtype (Float16, Float32, Float64)"
    )
    raise TypeError(f"{op}: dtype must be {kinds}, got {dt}")


def _normal_draw(op, mean, stddev, shape, dtype):
    """Normal samples, complex ones included: a complex dtype draws the real and the imaginary
    part (in that order, one after the other from the generator) each with variance stddev**2 / 2,
    JAX's convention, so that E|z - mean|**2 = stddev**2; `mean` may then be complex."""
    return _renamed(op, "normal", _normal_parts, op, mean, stddev, shape, dtype)


def _normal_parts(op, mean, stddev, shape, dtype):
    dt = _random_dtype(dtype, op, complex_ok=True)
    if dt not in (_core.complex64, _core.complex128):
        if isinstance(mean, complex):
            raise TypeError(
                f"{op}: mean must be a real number for a real dtype, got {mean!r} "
                "(a complex mean needs dtype=complex64 or complex128)"
            )
        return _core._normal(mean, stddev, shape, dt)
    real = _core.float32 if dt == _core.complex64 else _core.float64
    if isinstance(mean, complex | np.complexfloating):
        m_re, m_im = mean.real, mean.imag
    else:
        m_re, m_im = mean, 0.0
    # The real-argument checks (finite, stddev >= 0) before the scale is applied, so that their
    # messages quote what the caller gave.
    _core._normal(m_re, stddev, (0,), real)
    _core._normal(m_im, stddev, (0,), real)
    s = stddev * math.sqrt(0.5)
    re = _core._normal(m_re, s, shape, real)
    im = _core._normal(m_im, s, shape, real)
    return _core._complex(re, im)


def _renamed(op, core_name, make, *args):
    """``make(*args)`` with the core's error messages, which name the core function
    (`uniform`, `normal`), naming `op` (`rand`, `randn`) instead."""
    try:
        return make(*args)
    except (TypeError, ValueError, OverflowError, MemoryError) as e:
        msg = str(e)
        if op == core_name or not msg.startswith(core_name + ":"):
            raise
        raise type(e)(op + msg[len(core_name) :]) from None


def rand(*dims, shape=None, dtype=None, device=None):
    """Uniform samples in [0, 1): `rand(2, 3)`, `rand((2, 3))` or `rand(shape=(2, 3))`; float32 by
    default (complex dtypes are refused).

    >>> tg.set_seed(0)
    >>> print(tg.rand(2, 3).numpy().round(3))
    [[0.399 0.881 0.736]
     [0.605 0.972 0.362]]
    >>> tg.rand(shape=()).shape
    ()
    """
    shape = _varargs_shape(dims, shape, "rand")
    dtype = _random_dtype(dtype, "rand", complex_ok=False)
    return _made(
        device, "rand", _renamed, "rand", "uniform", _core._uniform, 0.0, 1.0, shape, dtype
    )


def randn(*dims, shape=None, dtype=None, device=None):
    """Standard normal samples: `randn(2, 3)`, `randn((2, 3))` or `randn(shape=())` (0-d);
    float32 by default. A complex dtype draws standard complex normal samples (JAX's
    convention): real and imaginary parts independent, each of variance 1/2.

    >>> tg.set_seed(0)
    >>> print(tg.randn(3).numpy().round(3))
    [ 0.991 -0.925 -0.618]
    >>> tg.randn(shape=()).shape
    ()
    >>> tg.randn(2, dtype=tg.complex64).dtype
    Complex64
    """
    shape = _varargs_shape(dims, shape, "randn")
    return _made(device, "randn", _normal_draw, "randn", 0.0, 1.0, shape, dtype)


def uniform(low=0.0, high=1.0, shape=(), dtype=None, *, device=None):
    """Uniform samples in [low, high) of the given shape; float32 by default (complex dtypes are
    refused).

    >>> tg.set_seed(0)
    >>> print(tg.uniform(-1, 1, shape=(3,)).numpy().round(3))
    [-0.202  0.761  0.471]
    """
    dtype = _random_dtype(dtype, "uniform", complex_ok=False)
    return _made(device, "uniform", _core._uniform, low, high, shape, dtype)


def normal(mean=0.0, stddev=1.0, shape=(), dtype=None, *, device=None):
    """Normal samples with the given mean and standard deviation; float32 by default. A complex
    dtype draws complex normal samples (JAX's convention: real and imaginary parts independent,
    each of variance stddev**2 / 2); `mean` may then be complex.

    >>> tg.set_seed(0)
    >>> print(tg.normal(10.0, 0.1, shape=(3,)).numpy().round(3))
    [10.099  9.908  9.938]
    """
    return _made(device, "normal", _normal_draw, "normal", mean, stddev, shape, dtype)


def randint(low, high=None, shape=(), dtype=None, *, device=None):
    """Uniform integers in [low, high) (in [0, low) without `high`); int64 by default.

    >>> tg.set_seed(0)
    >>> tg.randint(0, 10, shape=(5,))
    Tensor(shape=[5], dtype=Int64, value= [8, 6, 3, 0, 3])
    >>> tg.randint(3, shape=(2, 2), dtype=tg.int32).dtype
    Int32
    """
    return _made(device, "randint", _core._randint, low, high, shape, dtype)
