"""Python Array API (2024.12) parts of ``tapegrad.numpy``: the version declaration and
``Tensor.__array_namespace__``, data-type functions, constants, set functions, the standard's
keyword spellings (``expand_dims(axis=0)``, ``var(correction=)``...), ``nextafter``, and Tensor's
``mT``, ``to_device``, ``<<``/``>>`` and their in-place forms.

``tapegrad.numpy`` declares ``__array_api_version__ = "2024.12"``. What it still lacks of the
standard is listed in docs/numpy.md ("The Array API standard"): the complex forms of a few
functions (``prod``, ``cumprod``, complex creation ranges, the ``linalg`` decompositions on
complex input) and the optional ``fft`` extension.
"""

from __future__ import annotations

import builtins
import math
from typing import NamedTuple

import numpy as np

from . import _core
from . import cuda as _cuda
from ._core import Tensor
from ._numpy_extra import _as_dtype, _t, bitwise_left_shift, bitwise_right_shift, matrix_transpose
from ._tensor import _device_name

__all__ = [  # noqa: RUF022  (grouped by kind)
    "__array_api_version__",
    "e",
    "pi",
    "inf",
    "nan",
    "newaxis",
    "finfo",
    "iinfo",
    "isdtype",
    "result_type",
    "can_cast",
    "asarray",
    "astype",
    "sum",
    "prod",
    "mean",
    "var",
    "std",
    "take_along_axis",
    "expand_dims",
    "reshape",
    "unique_values",
    "unique_counts",
    "unique_inverse",
    "unique_all",
    "UniqueCountsResult",
    "UniqueInverseResult",
    "UniqueAllResult",
    "__array_namespace_info__",
]

__array_api_version__ = "2024.12"
# The versions Tensor.__array_namespace__ accepts: 2024.12 and the earlier ones, whose functions it
# contains (each version only added to the previous one or made a default more general).
_API_VERSIONS = ("2021.12", "2022.12", "2023.12", "2024.12")

e = math.e
pi = math.pi
inf = math.inf
nan = math.nan
newaxis = None


def _np_dtype(dtype):
    """numpy's dtype for a tapegrad dtype (or anything ``_as_dtype`` takes)."""
    name = str(_as_dtype(dtype)).lower()
    return np.dtype("bool" if name == "bool" else name)


def _dtype_of(x, what="finfo"):
    if isinstance(x, Tensor):
        return x.dtype
    if x is None:  # numpy's finfo(None) is float64, deprecated: no dtype named here
        raise TypeError(f"{what}: expected a dtype or a Tensor, got None")
    try:
        return _as_dtype(x)
    except TypeError as e:
        raise TypeError(f"{what}: expected a dtype or a Tensor, got {x!r} ({e})") from None


class finfo_object(NamedTuple):
    """Machine limits of a floating dtype (what ``finfo`` returns; the Array API's fields).

    >>> tg.numpy.finfo(tg.float32).bits
    32
    """

    bits: int
    eps: float
    max: float
    min: float
    smallest_normal: float
    dtype: object


class iinfo_object(NamedTuple):
    """Limits of an integer dtype (what ``iinfo`` returns).

    >>> tg.numpy.iinfo(tg.int32).max
    2147483647
    """

    bits: int
    max: int
    min: int
    dtype: object


def finfo(type):
    """Machine limits of a floating dtype (or of a Tensor's dtype): ``bits``, ``eps``, ``max``,
    ``min``, ``smallest_normal``, ``dtype`` (Array API finfo).

    >>> fi = tg.numpy.finfo(tg.float64)
    >>> fi.eps, fi.dtype
    (2.220446049250313e-16, Float64)
    """
    dt = _dtype_of(type)
    if str(dt).startswith("Complex"):  # the limits of its parts (Array API)
        dt = _core.float32 if str(dt) == "Complex64" else _core.float64
    if not str(dt).startswith("Float"):
        raise TypeError(f"finfo: {dt} is not a floating dtype")
    f = np.finfo(_np_dtype(dt))
    return finfo_object(
        int(f.bits), float(f.eps), float(f.max), float(f.min), float(f.smallest_normal), dt
    )


def iinfo(type):
    """Limits of an integer dtype (or of a Tensor's dtype): ``bits``, ``max``, ``min``, ``dtype``.

    >>> tg.numpy.iinfo(tg.int64).min
    -9223372036854775808
    """
    dt = _dtype_of(type, "iinfo")
    if not str(dt).startswith(("Int", "UInt")):
        raise TypeError(f"iinfo: {dt} is not an integer dtype")
    i = np.iinfo(_np_dtype(dt))
    return iinfo_object(int(i.bits), int(i.max), int(i.min), dt)


_SIGNED = ("Int8", "Int16", "Int32", "Int64")
_UNSIGNED = ("UInt8", "UInt16", "UInt32", "UInt64")
_KINDS = {
    "bool": ("Bool",),
    "signed integer": _SIGNED,
    "unsigned integer": _UNSIGNED,
    "integral": _SIGNED + _UNSIGNED,
    "real floating": ("Float16", "Float32", "Float64"),
    "complex floating": ("Complex64", "Complex128"),
    "numeric": _SIGNED + _UNSIGNED + ("Float16", "Float32", "Float64", "Complex64", "Complex128"),
}


def isdtype(dtype, kind):
    """Whether `dtype` is of `kind`: a dtype, one of the standard's kind names (``"bool"``,
    ``"signed integer"``, ``"unsigned integer"``, ``"integral"``, ``"real floating"``,
    ``"complex floating"``, ``"numeric"``) or a tuple of them (Array API isdtype).

    >>> tg.numpy.isdtype(tg.float32, "real floating"), tg.numpy.isdtype(tg.int32, ("bool", "integral"))
    (True, True)
    """
    if not isinstance(dtype, _core.dtype):
        raise TypeError(f"isdtype: dtype must be a tapegrad dtype, got {dtype!r}")
    if isinstance(kind, tuple):
        return builtins.any(isdtype(dtype, k) for k in kind)
    if isinstance(kind, str):
        if kind not in _KINDS:
            raise ValueError(f"isdtype: unknown kind {kind!r} (one of {', '.join(_KINDS)})")
        return str(dtype) in _KINDS[kind]
    if isinstance(kind, _core.dtype):
        return dtype == kind
    raise TypeError(f"isdtype: kind must be a dtype, a kind name or a tuple, got {kind!r}")


def result_type(*arrays_and_dtypes):
    """The dtype tapegrad's arithmetic gives for these Tensors, dtypes and Python scalars
    (Array API result_type; Python scalars are weak, as in numpy 2). Mixed integer and float
    dtypes promote as numpy does (Int32 with Float32 gives Float64), not as the standard leaves
    open.

    >>> tg.numpy.result_type(tg.int32, tg.float32), tg.numpy.result_type(tg.ones(2), 1.0)
    (Float64, Float32)
    """
    if not arrays_and_dtypes:
        raise ValueError("result_type: at least one array or dtype is required")
    tensors, scalars = [], []
    for a in arrays_and_dtypes:
        if isinstance(a, Tensor):
            tensors.append(_core._zeros((0,), a.dtype) if a.size else a)
        elif isinstance(a, (builtins.bool, int, float)):
            scalars.append(a)
        else:
            tensors.append(_core._zeros((0,), _as_dtype(a)))
    if not tensors:
        raise ValueError(
            "result_type: needs at least one array or dtype (Python scalars alone have none)"
        )
    out = tensors[0].reshape(-1)[:0]
    for t in tensors[1:]:
        t = t.reshape(-1)[:0]
        if str(out.dtype) == "Bool" and str(t.dtype) == "Bool":
            continue
        out = out + t if str(t.dtype) != "Bool" else out
        if str(out.dtype) == "Bool":
            out = t
    for s in scalars:
        if str(out.dtype) == "Bool" and isinstance(s, builtins.bool):
            continue
        # A weak scalar's effect depends on its type only (NEP 50): a zero of that type, so that
        # an int the dtype cannot hold (uint8 with 300) gives the dtype, as np.result_type does.
        out = out + type(s)(0)
    return out.dtype


def can_cast(from_, to):
    """Whether a cast from `from_` (a dtype or a Tensor) to `to` keeps every value (numpy's "safe"
    casting; Array API can_cast).

    >>> tg.numpy.can_cast(tg.int32, tg.float64), tg.numpy.can_cast(tg.float64, tg.float32)
    (True, False)
    """
    return builtins.bool(
        np.can_cast(_np_dtype(_dtype_of(from_, "can_cast")), _np_dtype(to), "safe")
    )


def asarray(obj, dtype=None, device=None, copy=None):
    """`obj` as a Tensor (Array API asarray): `obj` itself when it is a Tensor of the dtype asked
    for and `copy` is not True; ``copy=True`` always copies, ``copy=False`` never does (a
    ``ValueError`` when it would have to).

    >>> x = tg.tensor([1, 2])
    >>> tg.numpy.asarray(x) is x, tg.numpy.asarray(x, copy=True) is x
    (True, False)
    >>> tg.numpy.asarray([1.0, 2.0], dtype=tg.float64)
    Tensor(shape=[2], dtype=Float64, value= [ 1.00000000e+00,  2.00000000e+00])
    """
    if copy is not None and not (isinstance(copy, (bool, np.bool_, int)) and copy in (0, 1)):
        raise ValueError(f"asarray: copy must be True, False or None, got {copy!r}")
    _check_device("asarray", device)
    if device is not None:
        want = _device_name(device, "asarray")
        if not (
            isinstance(obj, Tensor) and obj.device == want
        ):  # a move: a copy on the other device
            if copy is False:
                raise ValueError(
                    f"asarray: copy=False, but putting it on device {device!r} needs a copy"
                )
            return asarray(obj, dtype).to(want)
    dt = None if dtype is None else _as_dtype(dtype)
    if isinstance(obj, Tensor):
        if dt is None or obj.dtype == dt:
            return _core.copy(obj) if copy else obj
        if copy is False:
            raise ValueError(
                f"asarray: copy=False, but converting {obj.dtype} to {dt} needs a copy"
            )
        return obj.astype(dt)
    if not isinstance(obj, np.ndarray) and hasattr(obj, "__dlpack__"):
        # Any other DLPack producer (torch, cupy, jax arrays, ...): its memory, or a copy of it.
        out = _core.from_dlpack(obj, copy=None if copy is None else bool(copy))
        if dt is None or out.dtype == dt:
            return out
        if copy is False:
            raise ValueError(
                f"asarray: copy=False, but converting {out.dtype} to {dt} needs a copy"
            )
        return out.astype(dt)
    if copy is False:
        if not isinstance(obj, np.ndarray) and not hasattr(obj, "__dlpack__"):
            raise ValueError(
                f"asarray: copy=False, but a {type(obj).__name__} has to be copied into a Tensor"
            )
        out = Tensor(obj, dt)
        if isinstance(obj, np.ndarray) and not np.shares_memory(np.asarray(out), obj):
            raise ValueError(
                "asarray: copy=False, but this array has to be copied (its dtype or layout)"
            )
        return out
    if isinstance(obj, (list, tuple)) and _core._levels_active():
        # Tensors a transform tracks inside a list are stacked, so their derivatives flow (as in
        # tg.tensor); the constructor would copy their numbers.
        from ._autodiff import _tensor_tracked

        tracked = _tensor_tracked(obj, dt)
        if tracked is not None:
            return tracked
    out = Tensor(obj, dt)
    if copy and isinstance(obj, np.ndarray) and np.shares_memory(np.asarray(out), obj):
        out = _core.copy(out)
    return out


def _check_device(name, device):
    if device is None or str(device).upper() == "CPU":
        return
    if str(device).upper() in ("GPU", "CUDA") and _cuda.is_available():
        return
    raise ValueError(f"{name}: device {device!r} is not available (devices: {_devices()})")


def _devices():
    return ["CPU", "GPU"] if _cuda.is_available() else ["CPU"]


def astype(x, dtype, /, *, copy=True, device=None):
    """`x` converted to `dtype` (Array API astype); with ``copy=False`` `x` itself when it already
    has that dtype.

    >>> x = tg.tensor([1.5, 2.5])
    >>> tg.numpy.astype(x, tg.int32)
    Tensor(shape=[2], dtype=Int32, value= [1, 2])
    >>> tg.numpy.astype(x, tg.float32, copy=False) is x
    True
    """
    _check_device("astype", device)
    if not isinstance(copy, (builtins.bool, np.bool_)):
        raise TypeError(f"astype: copy must be True or False, got {copy!r}")
    x = _t(x)
    dt = _as_dtype(dtype)
    if x.dtype == dt:
        return _core.copy(x) if copy else x
    return x.astype(dt)


def sum(x, /, axis=None, dtype=None, keepdims=False):
    """Sum over `axis` (Array API sum): `dtype` converts first; integer and Bool inputs sum as Int64
    (unsigned ones as UInt64), as numpy; an integer `dtype` gives the sum wrapped to it.

    >>> print(tg.numpy.sum(tg.tensor([1.5, 2.5]), dtype=tg.float64))
    4.0
    >>> tg.numpy.sum(tg.tensor([1, 2], tg.int32)).dtype
    Int64
    >>> print(tg.numpy.sum(tg.tensor([100, 100], tg.int8), dtype=tg.int8))
    -56
    """
    return _reduce_as(_core.sum, x, axis, dtype, keepdims)


def _reduce_as(fn, x, axis, dtype, keepdims):
    """fn (sum or prod) of x, in `dtype` when given. Integer results are computed in the 64-bit
    accumulator and wrapped to `dtype` afterwards: the same bits as accumulating in `dtype`, since
    both are arithmetic modulo 2**bits."""
    x = _t(x)
    if dtype is None:
        return fn(x, axis, keepdims)
    dt = _as_dtype(dtype)
    out = fn(x.astype(dt), axis, keepdims)
    return out if out.dtype == dt else out.astype(dt)


def prod(x, /, axis=None, dtype=None, keepdims=False):
    """Product over `axis` (Array API prod): `dtype` converts first; integer and Bool inputs
    multiply as Int64 (unsigned ones as UInt64), as numpy.

    >>> print(tg.numpy.prod(tg.tensor([1.5, 2.0]), dtype=tg.float64))
    3.0
    """
    return _reduce_as(_core.prod, x, axis, dtype, keepdims)


def mean(x, /, axis=None, keepdims=False, *, dtype=None):
    """Mean over `axis`; numpy's `dtype` computes it in that dtype (an integer `dtype`: the sum
    wrapped to it, divided, and truncated to it, as numpy).

    >>> print(tg.numpy.mean(tg.tensor([1, 2], tg.int8), dtype=tg.float64))
    1.5
    >>> print(tg.numpy.mean(tg.tensor([1, 2], tg.int8), dtype=tg.int8))
    1
    """
    if dtype is None:
        return _core.mean(x, axis, keepdims)
    x = _t(x)
    dt = _as_dtype(dtype)
    if np.dtype(dt.numpy_dtype).kind in "fc":
        return _core.mean(x.astype(dt), axis, keepdims)
    s = _reduce_as(_core.sum, x, axis, dt, keepdims)
    n = x.size // max(s.size, 1) if x.size else 0
    return (s / n).astype(dt)


def _correction(name, ddof, correction):
    # The standard's default correction=0.0 and numpy's ddof=0 are the same request; a nonzero
    # value of either wins, and two different nonzero values are an error.
    if correction and ddof and ddof != correction:
        raise ValueError(f"{name}: ddof={ddof} and correction={correction} disagree (give one)")
    c = correction or ddof or 0
    if isinstance(c, float) and c.is_integer():
        c = int(c)
    return c


def _var(name, x, axis, ddof, keepdims, correction):
    c = _correction(name, ddof, correction)
    if not isinstance(c, float):
        return _core.var(x, axis, c, keepdims)
    # A fractional correction (the standard allows any real one): the population variance
    # scaled by N / (N - c), N the number of elements reduced.
    x = _t(x)
    n = _core.sum(_core.ones_like(x, dtype=x.dtype), axis, keepdims)
    return _core.var(x, axis, 0, keepdims) * (n / (n - c))


def var(x, /, axis=None, ddof=0, keepdims=False, *, correction=0.0):
    """Variance over `axis` with `correction` (the Array API's name, any real number) or `ddof`
    (numpy's) degrees of freedom removed.

    >>> print(tg.numpy.var(tg.tensor([1.0, 2.0, 3.0, 4.0]), correction=1))
    1.6666666
    >>> print(tg.numpy.var(tg.tensor([1.0, 2.0, 3.0, 4.0]), correction=0.5))
    1.4285715
    """
    return _var("var", x, axis, ddof, keepdims, correction)


def std(x, /, axis=None, ddof=0, keepdims=False, *, correction=0.0):
    """Standard deviation over `axis` with `correction` (Array API) or `ddof` (numpy).

    >>> print(tg.numpy.std(tg.tensor([1.0, 3.0]), correction=0))
    1.0
    """
    if isinstance(_correction("std", ddof, correction), float):
        return _core.sqrt(_var("std", x, axis, ddof, keepdims, correction))
    return _core.std(x, axis, _correction("std", ddof, correction), keepdims)


def expand_dims(x, /, axis=0):
    """`x` with a new axis of length 1 at `axis`, 0 by default (Array API expand_dims; numpy's
    tuple of axes too).

    >>> tg.numpy.expand_dims(tg.ones((2, 3))).shape, tg.numpy.expand_dims(tg.ones(2), -1).shape
    ((1, 2, 3), (2, 1))
    """
    return _core.expand_dims(x, axis)


def reshape(x, /, shape, *, copy=None):
    """`x` with a new shape of as many elements (Array API reshape): a view when it can be one;
    ``copy=True`` always copies, ``copy=False`` never does (a ``ValueError`` when it would have to).

    >>> x = tg.arange(6.0)
    >>> tg.numpy.reshape(x, (2, 3), copy=False).shape
    (2, 3)
    >>> tg.numpy.reshape(x.reshape(2, 3).T, (6,), copy=False)
    Traceback (most recent call last):
    ...
    ValueError: reshape: copy=False, but this reshape of a tensor of shape (3, 2) needs a copy (its strides)
    """
    out = _core.reshape(x, shape)
    if copy is None:
        return out
    x = _t(x)
    shared = out._shares_memory(x)
    if copy and shared:
        return _core.copy(out)
    if copy is False and not shared and x.size:
        raise ValueError(
            f"reshape: copy=False, but this reshape of a tensor of shape {tuple(x.shape)} "
            "needs a copy (its strides)"
        )
    return out


def take_along_axis(x, indices, /, axis=-1):
    """Values of `x` at `indices` along `axis`, -1 by default (Array API / numpy take_along_axis).

    >>> print(tg.numpy.take_along_axis(tg.tensor([[3.0, 1.0], [5.0, 4.0]]), tg.tensor([[1], [0]])))
    [[1.]
     [5.]]
    """
    return _core.take_along_axis(x, indices, axis)


# ---- set functions (eager: their shapes depend on the values) -----------------------------------


class UniqueCountsResult(NamedTuple):
    """``(values, counts)`` of ``unique_counts``.

    >>> tg.numpy.unique_counts(tg.tensor([2, 1, 2])).counts.tolist()
    [1, 2]
    """

    values: Tensor
    counts: Tensor


class UniqueInverseResult(NamedTuple):
    """``(values, inverse_indices)`` of ``unique_inverse``.

    >>> tg.numpy.unique_inverse(tg.tensor([2, 1, 2])).inverse_indices.tolist()
    [1, 0, 1]
    """

    values: Tensor
    inverse_indices: Tensor


class UniqueAllResult(NamedTuple):
    """``(values, indices, inverse_indices, counts)`` of ``unique_all``.

    >>> tg.numpy.unique_all(tg.tensor([2, 1, 2])).indices.tolist()
    [1, 0]
    """

    values: Tensor
    indices: Tensor
    inverse_indices: Tensor
    counts: Tensor


def _unique_input(name, x):
    x = _t(x)
    if x._is_tracked():
        raise TypeError(
            f"{name}: the result's shape depends on the values, so it cannot run inside "
            "grad/jvp/vmap/jit (call it outside the transform)"
        )
    return x, x.numpy()


def _i64(a):
    return Tensor(np.asarray(a).astype(np.int64))


def unique_values(x, /):
    """The distinct values of `x`, sorted, flattened (Array API unique_values; each NaN is
    distinct). Eager only, not differentiable.

    >>> print(tg.numpy.unique_values(tg.tensor([3, 1, 3, 2])))
    [1 2 3]
    """
    x, a = _unique_input("unique_values", x)
    return Tensor(np.unique(a, equal_nan=False), x.dtype)


def unique_counts(x, /):
    """Distinct values and how often each occurs (Array API unique_counts). Eager only.

    >>> v, c = tg.numpy.unique_counts(tg.tensor([3, 1, 3]))
    >>> print(v, c)
    [1 3] [1 2]
    """
    x, a = _unique_input("unique_counts", x)
    values, counts = np.unique(a, return_counts=True, equal_nan=False)
    return UniqueCountsResult(Tensor(values, x.dtype), _i64(counts))


def unique_inverse(x, /):
    """Distinct values and, for each element of `x`, the index of its value among them (shaped
    like `x`) (Array API unique_inverse). Eager only.

    >>> v, inv = tg.numpy.unique_inverse(tg.tensor([[3, 1], [3, 2]]))
    >>> print(inv)
    [[2 0]
     [2 1]]
    """
    x, a = _unique_input("unique_inverse", x)
    values, inverse = np.unique(a, return_inverse=True, equal_nan=False)
    return UniqueInverseResult(Tensor(values, x.dtype), _i64(np.reshape(inverse, a.shape)))


def unique_all(x, /):
    """Distinct values, the flat index of each one's first occurrence, the inverse indices and
    the counts (Array API unique_all). Eager only.

    >>> r = tg.numpy.unique_all(tg.tensor([3, 1, 3]))
    >>> print(r.values, r.indices, r.inverse_indices, r.counts)
    [1 3] [1 0] [1 0 1] [1 2]
    """
    x, a = _unique_input("unique_all", x)
    values, index, inverse, counts = np.unique(a, True, True, True, equal_nan=False)
    return UniqueAllResult(
        Tensor(values, x.dtype), _i64(index), _i64(np.reshape(inverse, a.shape)), _i64(counts)
    )


# ---- inspection -----------------------------------------------------------------------------------

# The standard's dtypes that tapegrad has (float16 exists too, but is not an Array API dtype).
_DTYPE_NAMES = {
    "bool": "bool_",
    "int8": "int8",
    "int16": "int16",
    "int32": "int32",
    "int64": "int64",
    "uint8": "uint8",
    "uint16": "uint16",
    "uint32": "uint32",
    "uint64": "uint64",
    "float32": "float32",
    "float64": "float64",
    "complex64": "complex64",
    "complex128": "complex128",
}


class ArrayNamespaceInfo:
    """What ``__array_namespace_info__()`` returns: the Array API's inspection methods, for the
    dtypes and the device tapegrad has.

    >>> info = tg.numpy.__array_namespace_info__()
    >>> info.devices(), info.default_device()
    (['CPU'], 'CPU')
    """

    def capabilities(self):
        """Optional features: Bool-mask indexing and data-dependent shapes (eager ``nonzero``,
        ``unique_*``) are supported; arrays of up to 63 dimensions work with every function.

        The standard asks for None only when any number of dimensions is supported. A Tensor holds
        at most 64, and the functions that take a set of axes (reductions, ``flip``,
        ``expand_dims``) refuse a 64th with a ValueError (their axis sets are 63-bit masks), so 63
        is the number every function supports.

        >>> tg.numpy.__array_namespace_info__().capabilities()["max dimensions"]
        63
        """
        return {"boolean indexing": True, "data-dependent shapes": True, "max dimensions": 63}

    def default_device(self):
        """The device new tensors go to: ``"CPU"``.

        >>> tg.numpy.__array_namespace_info__().default_device()
        'CPU'
        """
        return "CPU"

    def devices(self):
        """The devices tensors can live on here: the CPU, and the GPU when ``tg.cuda.is_available()``.

        >>> tg.numpy.__array_namespace_info__().devices()[0]
        'CPU'
        """
        return _devices()

    def default_dtypes(self, *, device=None):
        """The default dtypes: Float32 for real floats (tapegrad's and MindSpore's default), Int64
        for integers and indices, Complex64 (the complex dtype of the default float) for complex.

        >>> tg.numpy.__array_namespace_info__().default_dtypes()["real floating"]
        Float32
        """
        _check_device("default_dtypes", device)
        return {
            "real floating": _core.float32,
            "complex floating": _core.complex64,
            "integral": _core.int64,
            "indexing": _core.int64,
        }

    def dtypes(self, *, device=None, kind=None):
        """The dtypes tapegrad has, by name, optionally only those of `kind` (as ``isdtype``).

        >>> sorted(tg.numpy.__array_namespace_info__().dtypes(kind="signed integer"))
        ['int16', 'int32', 'int64', 'int8']
        """
        _check_device("dtypes", device)
        out = {n: getattr(_core, a) for n, a in _DTYPE_NAMES.items()}
        if kind is not None:
            out = {n: d for n, d in out.items() if isdtype(d, kind)}
        return out


def __array_namespace_info__():
    """The Array API inspection namespace of ``tapegrad.numpy`` (devices, dtypes, capabilities).

    >>> tg.numpy.__array_namespace_info__().dtypes(kind="real floating")["float64"]
    Float64
    """
    return ArrayNamespaceInfo()


# ---- Tensor attributes and operators ------------------------------------------------------------


def _mT(self):
    """The last two axes swapped (Array API ``mT``; ``T`` reverses every axis).

    >>> tg.zeros((4, 2, 3)).mT.shape
    (4, 3, 2)
    """
    return matrix_transpose(self)


def _to_device(self, device, /, *, stream=None):
    """The tensor on `device` (Array API ``to_device``): ``"cpu"``/``"CPU"`` (or ``x.device``)
    gives the tensor itself; ``"gpu"`` copies it to the GPU (``Tensor.to``).

    >>> x = tg.ones(2)
    >>> x.to_device("cpu") is x, x.to_device(x.device) is x
    (True, True)
    """
    if stream is not None:
        raise ValueError("to_device: streams are not supported on the CPU")
    if str(device).upper() == "CPU":
        return self
    return self.to(device)


def _int_operand(x):
    return isinstance(x, (Tensor, int, np.integer)) and not isinstance(x, (float, np.floating))


def _lshift(self, other):
    """``x << n`` on integer tensors (numpy's left_shift).

    >>> print(tg.tensor([1, 3]) << 2)
    [ 4 12]
    """
    if not _int_operand(other):
        return NotImplemented
    return bitwise_left_shift(self, other)


def _rshift(self, other):
    """``x >> n`` on integer tensors (numpy's arithmetic right_shift).

    >>> print(tg.tensor([16, -16]) >> 2)
    [ 4 -4]
    """
    if not _int_operand(other):
        return NotImplemented
    return bitwise_right_shift(self, other)


def _rlshift(self, other):
    # `other` goes as it is: a Python int stays weak (takes self's dtype, NEP 50)
    return bitwise_left_shift(other if isinstance(other, int) else _t(other), self)


def _rrshift(self, other):
    return bitwise_right_shift(other if isinstance(other, int) else _t(other), self)


def _array_namespace(self, /, *, api_version=None):
    """The Array API namespace of Tensors: ``tapegrad.numpy`` (``api_version`` None or one of
    ``"2021.12"`` ... ``"2024.12"``; any other is a ``ValueError``, as the standard asks).

    >>> tg.ones(2).__array_namespace__() is tg.numpy
    True
    """
    if api_version is not None and api_version not in _API_VERSIONS:
        raise ValueError(
            f"__array_namespace__: api_version {api_version!r} is not supported "
            f"(supported: {', '.join(_API_VERSIONS)})"
        )
    from . import numpy

    return numpy


def _inplace(name, fn):
    # numpy's out=self with casting='same_kind', as the C++ in-place operators (+= ...): the
    # result is written into self's memory, keeping its dtype and shape.
    def op(self, other):
        if not isinstance(other, (Tensor, builtins.bool, int, float)):
            # arrays and lists as Tensors: else Python would fall back to the out-of-place
            # operator (numpy's, for an ndarray) and rebind the name to a new array
            try:
                other = Tensor(other)
            except (TypeError, ValueError):
                return NotImplemented
        r = fn(self, other)
        if r is NotImplemented:
            return NotImplemented
        if r.shape != self.shape:
            raise ValueError(
                f"{name} (in place): the result's shape {tuple(r.shape)} is not the tensor's "
                f"{tuple(self.shape)}"
            )
        if _kind(r.dtype) > _kind(self.dtype):
            raise TypeError(
                f"{name} (in place): cannot cast the result from {r.dtype} to {self.dtype} "
                "(an in-place operation keeps the tensor's dtype)"
            )
        self[...] = r
        return self

    op.__name__ = op.__qualname__ = f"__i{name}__"
    op.__doc__ = f"``x {_INPLACE_SYMBOL[name]}= y``, written into x (its dtype and shape kept)."
    return op


_INPLACE_SYMBOL = {"lshift": "<<", "rshift": ">>", "matmul": "@"}


def _kind(dt):
    # numpy's same_kind order: bool < unsigned < signed < floating < complex
    s = str(dt)
    if s == "Bool":
        return 0
    for rank, prefix in enumerate(("UInt", "Int", "Float", "Complex"), 1):
        if s.startswith(prefix):
            return rank
    raise TypeError(f"unknown dtype {s}")


def _complex(self):
    """``complex(x)`` of a one-element tensor (Array API ``__complex__``).

    >>> complex(tg.tensor(2.0)), complex(tg.tensor(1 - 2j))
    ((2+0j), (1-2j))
    """
    if self.size != 1:
        raise TypeError(f"complex(): only a one-element tensor converts, got shape {self.shape}")
    return complex(self.item())


def _divmod(self, other):
    """``divmod(x, y)``: ``(x // y, x % y)``, as numpy's divmod.

    >>> divmod(tg.tensor([7, -7]), 2)
    (Tensor(shape=[2], dtype=Int64, value= [ 3, -4]), Tensor(shape=[2], dtype=Int64, value= [1, 1]))
    """
    return self // other, self % other


def _rdivmod(self, other):
    return other // self, other % self


Tensor.__array_namespace__ = _array_namespace
Tensor.mT = property(_mT)
Tensor.to_device = _to_device
Tensor.__lshift__ = _lshift
Tensor.__rshift__ = _rshift
Tensor.__rlshift__ = _rlshift
Tensor.__rrshift__ = _rrshift
Tensor.__divmod__ = _divmod
Tensor.__rdivmod__ = _rdivmod
Tensor.__ilshift__ = _inplace("lshift", _lshift)
Tensor.__irshift__ = _inplace("rshift", _rshift)
Tensor.__imatmul__ = _inplace("matmul", Tensor.__matmul__)
if not hasattr(Tensor, "__complex__"):  # a build with complex dtypes defines its own
    Tensor.__complex__ = _complex


def _dtype_call(dt, *args, **kwargs):
    """``tg.float32(x)``: numpy's dtypes double as conversion functions; ours convert as JAX's
    ``jnp.float32(x)``, that is ``asarray(x, dtype=dt)`` (derivatives kept, never a copy when `x`
    already is a Tensor of the dtype)."""
    if kwargs:
        raise TypeError(f"{dt.name}() got an unexpected keyword argument {next(iter(kwargs))!r}")
    if len(args) != 1:
        if not args:
            raise TypeError(f"{dt.name}() missing 1 required positional argument: 'x'")
        raise TypeError(f"{dt.name}() takes 1 positional argument but {len(args)} were given")
    (x,) = args
    if isinstance(x, (str, bytes)):
        # numpy parses np.float32("1.5"); JAX refuses strings, and so does every Tensor constructor.
        raise TypeError(f"{dt.name}: cannot convert a string to a Tensor, got {x!r}")
    try:
        return asarray(x, dt)
    except (TypeError, ValueError, OverflowError) as e:
        # The conversion's own message names `tensor` or `asarray`: name what the user called.
        msg = str(e)
        for prefix in ("tensor: ", "asarray: "):
            msg = msg.removeprefix(prefix)
        raise type(e)(f"{dt.name}: {msg}") from None
