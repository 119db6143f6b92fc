"""Creation functions: argument normalisation in Python, the work in C++."""
from __future__ import annotations

import builtins

from . import _core

__all__ = ["zeros", "ones", "full", "empty", "arange"]


def _shape(shape, what):
    if isinstance(shape, builtins.int) and not isinstance(shape, builtins.bool):
        return (shape,)
    if isinstance(shape, (tuple, list)):
        return tuple(shape)
    raise TypeError(f"{what}: shape must be an int or a tuple of ints, got {shape!r}")


def zeros(shape, dtype=None):
    return _core._full(_shape(shape, "zeros"), 0.0, dtype if dtype is not None else _core.float32)


def ones(shape, dtype=None):
    return _core._full(_shape(shape, "ones"), 1.0, dtype if dtype is not None else _core.float32)


def empty(shape, dtype=None):
    return zeros(shape, dtype)


def full(shape, fill_value, dtype=None):
    if dtype is None:
        if isinstance(fill_value, builtins.bool):
            dtype = _core.bool_
        elif isinstance(fill_value, builtins.int):
            dtype = _core.int64
        else:
            dtype = _core.float32
    return _core._full(_shape(shape, "full"), builtins.float(fill_value), dtype)


def arange(start, stop=None, step=1, dtype=None):
    """numpy's arange; `arange(4.0)` is Float32, `arange(4)` Int64."""
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        is_f = any(isinstance(v, builtins.float) for v in (start, stop, step))
        dtype = _core.float32 if is_f else _core.int64
    return _core._arange(builtins.float(start), builtins.float(stop), builtins.float(step), dtype)
