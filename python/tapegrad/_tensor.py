"""Python-side parts of Tensor: MindSpore repr, numpy str, numpy interop flags."""

from __future__ import annotations

from ._core import Tensor
from ._repr import format_tensor_repr


def _repr(self):
    """MindSpore's repr: shape, dtype and the value (floats as %.8e in arrays, %g as scalars).

    >>> tg.tensor([0.0, 1.0])
    Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  1.00000000e+00])
    >>> tg.tensor(28.0), tg.tensor([True, False])
    (Tensor(shape=[], dtype=Float32, value= 28), Tensor(shape=[2], dtype=Bool, value= [ True, False]))
    """
    if not self._initialised():
        return f"<{type(self).__name__}, not initialised>"
    return format_tensor_repr(self._value_repr(), str(self.dtype))


def _str(self):
    """numpy's str of the value: what `print(t)` shows.

    >>> print(tg.tensor([[6.0, 6.0], [1.5, 0.0]]))
    [[6.  6. ]
     [1.5 0. ]]
    """
    if not self._initialised():
        return _repr(self)
    return str(self._value_repr())


Tensor.__repr__ = _repr
Tensor.__str__ = _str
# numpy defers to Tensor's reflected operators (ndarray * Tensor is a Tensor), as with JAX arrays.
Tensor.__array_ufunc__ = None
Tensor.__array_priority__ = 1000


def _iter(self):
    """Iteration over the first dimension (TypeError for a 0-d tensor).

    >>> [row.tolist() for row in tg.tensor([[1, 2], [3, 4]])]
    [[1, 2], [3, 4]]
    >>> a, b = tg.tensor([1.0, 2.0])
    >>> a
    Tensor(shape=[], dtype=Float32, value= 1)
    """
    if self.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    for i in range(self.shape[0]):
        yield self[i]


Tensor.__iter__ = _iter
Tensor.__format__ = lambda self, spec: (
    format(self.item(), spec) if self.size == 1 and spec else str(self)
)


def _to(self, target):
    """The tensor on a device (`"CPU"`, `"GPU"`) or in a dtype (as ``astype``).

    The CUDA backend is not built in this version, so `"GPU"` raises (``tg.cuda.is_available()``
    is False); `"CPU"` returns the tensor itself, as PyTorch's ``.to`` does for its own device.

    >>> import tapegrad as tg
    >>> t = tg.ones(2)
    >>> t.to("CPU") is t
    True
    >>> t.to(tg.float64).dtype
    Float64
    """
    if isinstance(target, str) and target.upper() in ("CPU", "GPU", "CUDA", "ASCEND"):
        dev = target.upper()
        if dev == "CPU":
            return self
        raise RuntimeError(
            f"to({target!r}): the CUDA backend is not built in this tapegrad, so only the CPU is "
            "available (tg.cuda.is_available() is False)"
        )
    return self.astype(target)


Tensor.to = _to
