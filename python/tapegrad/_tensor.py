"""Python-side parts of Tensor: MindSpore repr, numpy str, numpy interop flags."""
from __future__ import annotations

from ._core import Tensor
from ._repr import format_tensor_repr


def _repr(self):
    return format_tensor_repr(self._value_repr(), str(self.dtype))


def _str(self):
    return str(self._value_repr())


Tensor.__repr__ = _repr
Tensor.__str__ = _str
# numpy defers to Tensor's reflected operators (ndarray * Tensor is a Tensor), as with JAX arrays.
Tensor.__array_ufunc__ = None
Tensor.__array_priority__ = 1000


def _iter(self):
    if self.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    for i in range(self.shape[0]):
        yield self[i]


Tensor.__iter__ = _iter
Tensor.__format__ = lambda self, spec: format(self.item(), spec) if self.size == 1 and spec else str(self)
