"""numpy-named functions on Tensors: `from tapegrad import numpy as tnp` (MindSpore's mindspore.numpy).

It is also tapegrad's Python Array API namespace (``__array_api_version__ = "2024.12"``,
``Tensor.__array_namespace__()`` returns it), with the ``linalg`` extension as ``tnp.linalg``
(``tapegrad.linalg``). What of the standard is still missing: docs/numpy.md.
"""

import builtins as _builtins

import numpy as _np

import tapegrad as _tg

_g = globals()
for _name in _tg._public_functions():
    _g[_name] = getattr(_tg, _name)
del _g, _name

ndarray = _tg.Tensor
float32, float64, float16 = _tg.float32, _tg.float64, _tg.float16
int32, int64, bool_ = _tg.int32, _tg.int64, _tg.bool_
int8, int16 = _tg.int8, _tg.int16
uint8, uint16, uint32, uint64 = _tg.uint8, _tg.uint16, _tg.uint32, _tg.uint64
complex64, complex128 = _tg.complex64, _tg.complex128
# Each dtype is also numpy's scalar constructor: tnp.float32(3), tnp.int64(x) give Tensors of that
# dtype, as JAX's jnp.float32 (docs/numpy.md, "dtypes").


class _DTypeMeta(type):
    # isinstance(tnp.float32, tnp.dtype) holds as in numpy, though tnp.dtype(...) returns tapegrad's
    # own dtype objects (the class below is never instantiated).
    def __instancecheck__(cls, obj):
        return isinstance(obj, _tg.dtype)

    def __subclasscheck__(cls, sub):
        return isinstance(sub, type) and issubclass(sub, _tg.dtype)


class dtype(metaclass=_DTypeMeta):
    """numpy.dtype: the tapegrad dtype of a dtype, a numpy dtype or scalar type, a Python type
    or a name numpy understands ('float32', 'f4', '<f8'); None is float64, as in numpy.

    >>> tnp = tg.numpy
    >>> tnp.dtype("float32"), tnp.dtype(np.int64), tnp.dtype("f8") is tg.float64
    (Float32, Int64, True)
    >>> isinstance(tg.float32, tnp.dtype)
    True
    """

    def __new__(cls, obj):
        if isinstance(obj, _tg.dtype):
            return obj
        if isinstance(obj, (_tg.Tensor, _np.ndarray)):
            raise TypeError(
                f"dtype: cannot make a dtype from an array ({type(obj).__name__}); use its .dtype"
            )
        try:
            npdt = _np.dtype(obj)
        except (TypeError, ValueError) as e:
            raise TypeError(f"dtype: {e}") from None
        try:
            return _tg._core._dtype_from_name(npdt.name)
        except TypeError:
            raise TypeError(
                f"dtype: numpy's {npdt!r} has no tapegrad dtype (tapegrad has bool, the integers, "
                "float16, float32, float64, complex64 and complex128)"
            ) from None


def array(obj, dtype=None, copy=True):
    """A new Tensor from data (numpy.array; always copies).

    >>> tnp = tg.numpy
    >>> tnp.array([1.0, 2.0])
    Tensor(shape=[2], dtype=Float32, value= [ 1.00000000e+00,  2.00000000e+00])
    """
    return _tg.tensor(obj, dtype)


def identity(n, dtype=None, *, device=None):
    """The n x n identity matrix (numpy.identity): `eye(n, dtype=dtype)`, float32 by default
    (tapegrad's default float, as `eye`; numpy's is float64).

    >>> tnp = tg.numpy
    >>> print(tnp.identity(2, dtype=tnp.int32))
    [[1 0]
     [0 1]]
    """
    # (the builtins: this module's `int` and `bool` are tapegrad dtypes, as numpy's namespace)
    if isinstance(n, _builtins.bool) or not isinstance(n, (_builtins.int, _np.integer)):
        raise TypeError(f"identity: n must be an integer, got {type(n).__name__} {n!r}")
    if n < 0:
        raise ValueError(f"identity: negative dimensions are not allowed (n={n})")
    return _tg.eye(_builtins.int(n), dtype=dtype, device=device)


def asarray(obj, dtype=None):
    """`obj` itself when it is a Tensor of the dtype asked for, else a new Tensor.

    >>> x = tg.tensor([1, 2])
    >>> tg.numpy.asarray(x) is x
    True
    >>> tg.numpy.asarray(x, tg.float32)
    Tensor(shape=[2], dtype=Float32, value= [ 1.00000000e+00,  2.00000000e+00])
    """
    if isinstance(obj, _tg.Tensor) and (dtype is None or obj.dtype == dtype):
        return obj
    return _tg.tensor(obj, dtype)


# numpy / Array API functions composed from the ops above (and numpy's protocols on Tensor).
from ._array_api import *  # noqa: E402, F403  (Array API spellings: asarray(copy=), sum(dtype=), ...)
from ._numpy_extra import *  # noqa: E402, F403

bool = bool_
# numpy's other names of the same functions (autograd's tests and numpy code use them)
power, absolute, true_divide, around = pow, abs, divide, round  # noqa: F405

from . import linalg  # noqa: E402, F401  (numpy.linalg and the Array API's linalg extension)
