"""Parameter and ParameterTuple (MindSpore names)."""
from __future__ import annotations

from . import _core
from ._core import Tensor


class Parameter(Tensor):
    """A trainable Tensor owned by a Cell.

    >>> import tapegrad as tg
    >>> w = tg.Parameter(tg.ones((2,)), name="w")
    >>> w.name, w.requires_grad
    ('w', True)
    """

    def __init__(self, default_input, name=None, requires_grad=True, layerwise_parallel=False, parallel_optimizer=True):
        if isinstance(default_input, Tensor):
            super().__init__(_core.strip(default_input))
        else:
            super().__init__(default_input)
        self.name = name
        self.requires_grad = bool(requires_grad)

    def set_data(self, data):
        """Replace the value in place (MindSpore's set_data)."""
        new = data if isinstance(data, Tensor) else Tensor(data, self.dtype)
        if tuple(new.shape) != tuple(self.shape):
            raise ValueError(f"Parameter.set_data: shape {tuple(new.shape)} does not match {tuple(self.shape)}")
        self[...] = new.astype(self.dtype)
        return self

    def assign_value(self, value):
        return self.set_data(value)

    @property
    def data(self):
        return self

    def clone(self, init="same"):
        return Parameter(Tensor(self), name=self.name, requires_grad=self.requires_grad)

    def __repr__(self):
        return f"Parameter (name={self.name}, shape={tuple(self.shape)}, dtype={self.dtype}, requires_grad={self.requires_grad})"

    def __reduce__(self):
        return (_rebuild_parameter, (self.asnumpy(), str(self.dtype.name), self.name, self.requires_grad))


def _rebuild_parameter(arr, dtype, name, requires_grad):
    return Parameter(Tensor(arr, dtype), name=name, requires_grad=requires_grad)


class ParameterTuple(tuple):
    """A tuple of Parameters, as MindSpore's ParameterTuple."""

    def __new__(cls, iterable=()):
        items = tuple(iterable)
        for p in items:
            if not isinstance(p, Parameter):
                raise TypeError(f"ParameterTuple: elements must be Parameters, got {type(p).__name__}")
        return super().__new__(cls, items)

    def clone(self, prefix="", init="same"):
        return ParameterTuple(
            Parameter(Tensor(p), name=(prefix + "." + p.name) if prefix and p.name else p.name, requires_grad=p.requires_grad)
            for p in self
        )
