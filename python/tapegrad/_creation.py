"""Creation and random functions: public signatures here, argument checking and work in C++."""

from __future__ import annotations

from . import _core

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


def zeros(shape, dtype=None):
    """A tensor of zeros; `shape` is an int or a tuple of ints, `dtype` defaults to float32."""
    return _core._zeros(shape, dtype)


def ones(shape, dtype=None):
    """A tensor of ones; `shape` is an int or a tuple of ints, `dtype` defaults to float32."""
    return _core._ones(shape, dtype)


def empty(shape, dtype=None):
    """An uninitialised tensor (as numpy.empty); `dtype` defaults to float32."""
    return _core._empty(shape, dtype)


def full(shape, fill_value, dtype=None):
    """A tensor of `fill_value`. Without `dtype`, a Python bool gives Bool, an int Int64, a float
    Float32, and a tensor or numpy value its own dtype; an array-like fill value is broadcast."""
    return _core._full(shape, fill_value, dtype)


def zeros_like(x, dtype=None):
    """Zeros with the shape and (unless given) the dtype of `x`."""
    return _core._zeros_like(x, dtype)


def ones_like(x, dtype=None):
    """Ones with the shape and (unless given) the dtype of `x`."""
    return _core._ones_like(x, dtype)


def empty_like(x, dtype=None):
    """An uninitialised tensor with the shape and (unless given) the dtype of `x`."""
    return _core._empty_like(x, dtype)


def full_like(x, fill_value, dtype=None):
    """`fill_value` with the shape and (unless given) the dtype of `x`."""
    return _core._full_like(x, fill_value, dtype)


def arange(start, stop=None, step=1, dtype=None):
    """numpy's arange: values in [start, stop) spaced by `step`; `arange(n)` is [0, n).

    Without `dtype` the result is Int64 when every argument is an integer and Float32 otherwise
    (`arange(4.0)` is Float32)."""
    return _core._arange(start, stop, step, dtype)


def linspace(start, stop, num=50, endpoint=True, dtype=None):
    """`num` evenly spaced values from `start` to `stop` (included when `endpoint`); float32 by
    default."""
    return _core._linspace(start, stop, num, endpoint, dtype)


def eye(N, M=None, k=0, dtype=None):
    """An N x M matrix (M defaults to N) with ones on diagonal `k`, float32 by default."""
    return _core._eye(N, M, k, dtype)


# ---- random numbers ------------------------------------------------------------------------------
# One global counter-based generator (Philox 4x32-10): every call takes the next unused blocks of
# the stream, so successive calls differ and `set_seed(n)` replays the same sequence, whatever the
# number of threads.


def set_seed(seed):
    """Seed the global generator (0 <= seed < 2**64) and rewind it."""
    _core._set_seed(seed)


def get_seed():
    """The seed of the global generator."""
    return _core._get_seed()


def _varargs_shape(dims, shape, op):
    if dims and shape is not None:
        raise TypeError(f"{op}: give the shape either as arguments or as shape=, not both")
    if shape is not None:
        return shape
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        return dims[0]
    return dims


def rand(*dims, shape=None, dtype=None):
    """Uniform samples in [0, 1): `rand(2, 3)`, `rand((2, 3))` or `rand(shape=(2, 3))`; float32 by
    default."""
    return _core._uniform(0.0, 1.0, _varargs_shape(dims, shape, "rand"), dtype)


def randn(*dims, shape=None, dtype=None):
    """Standard normal samples: `randn(2, 3)`, `randn((2, 3))` or `randn(shape=())` (0-d);
    float32 by default."""
    return _core._normal(0.0, 1.0, _varargs_shape(dims, shape, "randn"), dtype)


def uniform(low=0.0, high=1.0, shape=(), dtype=None):
    """Uniform samples in [low, high) of the given shape; float32 by default."""
    return _core._uniform(low, high, shape, dtype)


def normal(mean=0.0, stddev=1.0, shape=(), dtype=None):
    """Normal samples with the given mean and standard deviation; float32 by default."""
    return _core._normal(mean, stddev, shape, dtype)


def randint(low, high=None, shape=(), dtype=None):
    """Uniform integers in [low, high) (in [0, low) without `high`); int64 by default."""
    return _core._randint(low, high, shape, dtype)
