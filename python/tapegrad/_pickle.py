"""Pickling of Tensor and Parameter, for every pickle protocol (0 to 5).

A Tensor reduces to ``(_rebuild_tensor, (data, dtype_name))`` where ``data`` is a C-contiguous
numpy view of the tensor's values (a copy only when the tensor is not contiguous). numpy pickles
that view, so each protocol gets numpy's best encoding: with protocol 5 and a ``buffer_callback``
the values travel as one out-of-band ``pickle.PickleBuffer`` (nothing is copied into the stream);
protocols 0 to 4 carry them in the stream. Loading validates the pieces (a malformed or hostile
stream gives a TypeError/ValueError, never a tensor over bad memory) and copies a read-only buffer
(bytes from the stream, a read-only frame), so a loaded tensor never writes into memory it may not
own. The same helpers serve Dask's serialisation (tapegrad.dask) and the Parameter pickling.
"""

from __future__ import annotations

import numpy as np

from ._core import Tensor

# The dtypes a Tensor can have, by the name pickles carry (numpy's names).
_DTYPE_NAMES = (
    "float16",
    "float32",
    "float64",
    "int32",
    "int64",
    "bool",
    "int8",
    "int16",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "complex64",
    "complex128",
)


def _dtype_name(t):
    return str(t.dtype.name)


def contiguous_data(t):
    """A C-contiguous numpy array of `t`'s values: a read-only view of its storage when `t` is
    contiguous, else one copy."""
    if not isinstance(t, Tensor):
        raise TypeError(f"pickle: expected a Tensor, got {type(t).__name__}")
    a = np.asarray(t)
    return a if a.flags.c_contiguous else a.copy(order="C")  # (np.ascontiguousarray makes 0-d 1-d)


def array_from_parts(data, dtype, op="Tensor pickle"):
    """The numpy array a pickled or serialised tensor is rebuilt from, checked: `data` must be a
    numpy array whose dtype is `dtype`, one of the names in _DTYPE_NAMES. A read-only array is
    copied (see the module docstring)."""
    if not isinstance(dtype, str):
        raise TypeError(
            f"{op}: the dtype must be a str naming one of {_DTYPE_NAMES}, got {type(dtype).__name__}"
        )
    if dtype not in _DTYPE_NAMES:
        raise ValueError(f"{op}: unknown dtype {dtype!r} (expected one of {_DTYPE_NAMES})")
    if type(data) is not np.ndarray:
        raise TypeError(f"{op}: the data must be a numpy.ndarray, got {type(data).__name__}")
    if data.dtype != np.dtype(dtype):
        raise ValueError(f"{op}: the data has dtype {data.dtype} but the state says {dtype}")
    if not data.flags.writeable:
        data = data.copy()
    return data


def _rebuild_tensor(data, dtype):
    return Tensor(array_from_parts(data, dtype), dtype)


def _tensor_reduce_ex(self, protocol):
    return (_rebuild_tensor, (contiguous_data(self), _dtype_name(self)))


def _tensor_reduce(self):
    return _tensor_reduce_ex(self, 2)


Tensor.__reduce_ex__ = _tensor_reduce_ex
Tensor.__reduce__ = _tensor_reduce


_construct_from_state = Tensor.__setstate__


def _tensor_setstate(self, state):
    """Tensor.__setstate__: the old (numpy array, dtype name) state pair. On a tensor made by
    Tensor.__new__ it constructs the value; on a live tensor it replaces the value (shape, dtype and
    values), as numpy's ndarray.__setstate__ does (pybind11 alone would silently keep the old one)."""
    if not self._initialised():
        return _construct_from_state(self, state)
    fresh = Tensor.__new__(Tensor)
    _construct_from_state(fresh, state)
    self._rebind(fresh)
    return None


Tensor.__setstate__ = _tensor_setstate
