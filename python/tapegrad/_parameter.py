"""Parameter and ParameterTuple (MindSpore names)."""

from __future__ import annotations

import numpy as np

from . import (
    _core,
    _pickle,  # Tensor.__reduce_ex__ (every pickle protocol); Parameter's below builds on it
)
from ._core import Tensor


class Parameter(Tensor):
    """A trainable Tensor owned by a Cell: `Parameter(data, name=None, requires_grad=True)`.

    A Parameter is a Tensor (every op takes it); optimizers update it in place. Assigned as an
    attribute of a `nn.Cell`, it is registered under the attribute's name unless it has one.

    >>> w = tg.Parameter(tg.ones((2,)), name="w")
    >>> w.name, w.requires_grad
    ('w', True)
    >>> w
    Parameter (name=w, shape=(2,), dtype=Float32, requires_grad=True)
    >>> w * 3
    Tensor(shape=[2], dtype=Float32, value= [ 3.00000000e+00,  3.00000000e+00])
    """

    def __init__(
        self,
        default_input,
        name=None,
        requires_grad=True,
        layerwise_parallel=False,
        parallel_optimizer=True,
    ):
        if isinstance(default_input, Tensor):
            super().__init__(_core.strip(default_input))
        else:
            super().__init__(default_input)
        self.name = name
        self.requires_grad = bool(requires_grad)

    def set_data(self, data):
        """Replace the value in place (MindSpore's set_data); the shape must match.

        >>> w = tg.Parameter(tg.zeros(2), name="w")
        >>> print(w.set_data(tg.tensor([3.0, 4.0])))
        [3. 4.]
        """
        new = data if isinstance(data, Tensor) else Tensor(data, self.dtype)
        if tuple(new.shape) != tuple(self.shape):
            raise ValueError(
                f"Parameter.set_data: shape {tuple(new.shape)} does not match {tuple(self.shape)}"
            )
        self[...] = new.astype(self.dtype)
        return self

    def assign_value(self, value):
        """The same as `set_data`.

        >>> w = tg.Parameter(tg.zeros(2), name="w")
        >>> print(w.assign_value([1.0, 2.0]))
        [1. 2.]
        """
        return self.set_data(value)

    @property
    def data(self):
        """The Parameter itself (MindSpore's `param.data`).

        >>> w = tg.Parameter(tg.ones(2), name="w")
        >>> w.data is w
        True
        """
        return self

    def clone(self, init="same"):
        """A new Parameter with a copy of the value, the same name and requires_grad.

        >>> w = tg.Parameter(tg.ones(2), name="w")
        >>> c = w.clone()
        >>> c[0] = 5.0
        >>> print(w, c, c.name)
        [1. 1.] [5. 1.] w
        """
        return Parameter(Tensor(self), name=self.name, requires_grad=self.requires_grad)

    def __repr__(self):
        if not self._initialised():
            return "<Parameter, not initialised>"
        return f"Parameter (name={self.name}, shape={tuple(self.shape)}, dtype={self.dtype}, requires_grad={self.requires_grad})"

    def __copy__(self):
        return self.clone()

    def __deepcopy__(self, memo):
        out = self.clone()
        memo[id(self)] = out
        return out

    def __reduce_ex__(self, protocol):
        # The values as _pickle does for a Tensor (protocol 5: one out-of-band buffer), plus the
        # name and requires_grad.
        return (
            _rebuild_parameter,
            (
                _pickle.contiguous_data(self),
                _pickle._dtype_name(self),
                self.name,
                self.requires_grad,
            ),
        )

    def __reduce__(self):
        return self.__reduce_ex__(2)


def _rebuild_parameter(arr, dtype, name, requires_grad):
    if name is not None and not isinstance(name, str):
        raise TypeError(
            f"Parameter pickle: the name must be a str or None, got {type(name).__name__}"
        )
    if not isinstance(requires_grad, (bool, np.bool_)):
        raise TypeError(
            f"Parameter pickle: requires_grad must be a bool, got {type(requires_grad).__name__}"
        )
    data = _pickle.array_from_parts(arr, dtype, "Parameter pickle")
    return Parameter(Tensor(data, dtype), name=name, requires_grad=bool(requires_grad))


class ParameterTuple(tuple):
    """A tuple of Parameters, as MindSpore's ParameterTuple (what `Cell.trainable_params()`
    returns and `GradOperation(get_by_list=True)` takes).

    >>> a, b = tg.Parameter(tg.ones(1), name="a"), tg.Parameter(tg.zeros(2), name="b")
    >>> params = tg.ParameterTuple([a, b])
    >>> [p.name for p in params]
    ['a', 'b']
    """

    def __new__(cls, iterable=()):
        items = tuple(iterable)
        for p in items:
            if not isinstance(p, Parameter):
                raise TypeError(
                    f"ParameterTuple: elements must be Parameters, got {type(p).__name__}"
                )
        return super().__new__(cls, items)

    def clone(self, prefix="", init="same"):
        """Copies of every Parameter, their names prefixed with `prefix` + ".".

        >>> params = tg.ParameterTuple([tg.Parameter(tg.ones(1), name="w")])
        >>> params.clone(prefix="moment")[0].name
        'moment.w'
        """
        return ParameterTuple(
            Parameter(
                Tensor(p),
                name=(prefix + "." + p.name) if prefix and p.name else p.name,
                requires_grad=p.requires_grad,
            )
            for p in self
        )
