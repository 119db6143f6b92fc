"""MindSpore's primitive-class forms: `ops.BroadcastTo(shape)(x)` and friends."""

from __future__ import annotations

__all__ = ["BroadcastTo", "Cast", "Primitive", "ReduceMean", "ReduceSum", "Reshape", "Transpose"]


def _tg():
    import tapegrad

    return tapegrad


class Primitive:
    """A configured operation: instantiate with attributes, call with tensors (MindSpore's
    primitive classes; the subclasses below).

    >>> from tapegrad import ops
    >>> isinstance(ops.ReduceSum(), ops.Primitive)
    True
    >>> ops.ReduceSum()
    Prim[ReduceSum]
    """

    def __repr__(self):
        return f"Prim[{type(self).__name__}]"


class BroadcastTo(Primitive):
    """`BroadcastTo(shape)(x)`: `x` broadcast to `shape`; -1 in `shape` keeps x's dimension.

    >>> from tapegrad import ops
    >>> print(ops.BroadcastTo((2, 3))(tg.tensor([1.0, 2.0, 3.0])))
    [[1. 2. 3.]
     [1. 2. 3.]]
    >>> ops.BroadcastTo((-1, 2))(tg.tensor([[1], [2]])).shape
    (2, 2)
    """

    def __init__(self, shape):
        if not isinstance(shape, (tuple, list)) or not all(isinstance(d, int) for d in shape):
            raise TypeError(f"BroadcastTo: shape must be a tuple of ints, got {shape!r}")
        self.shape = tuple(shape)

    def __call__(self, x):
        shape = self.shape
        if -1 in shape:  # MindSpore: -1 keeps the input's dimension
            nd = len(shape)
            xs = (1,) * (nd - x.ndim) + tuple(x.shape)
            shape = tuple(xs[i] if d == -1 else d for i, d in enumerate(shape))
        return _tg().broadcast_to(x, shape)


class ReduceSum(Primitive):
    """`ReduceSum(keep_dims=False)(x, axis=())`: sum over `axis`, () meaning every axis.

    >>> from tapegrad import ops
    >>> x = tg.ones((2, 3))
    >>> ops.ReduceSum()(x)
    Tensor(shape=[], dtype=Float32, value= 6)
    >>> print(ops.ReduceSum(keep_dims=True)(x, 1))
    [[3.]
     [3.]]
    """

    def __init__(self, keep_dims=False):
        self.keep_dims = keep_dims

    def __call__(self, x, axis=()):
        return _tg().sum(x, axis=None if axis == () else axis, keepdims=self.keep_dims)


class ReduceMean(Primitive):
    """`ReduceMean(keep_dims=False)(x, axis=())`: mean over `axis`, () meaning every axis.

    >>> from tapegrad import ops
    >>> ops.ReduceMean()(tg.tensor([[1.0, 2.0], [3.0, 4.0]]), 0)
    Tensor(shape=[2], dtype=Float32, value= [ 2.00000000e+00,  3.00000000e+00])
    """

    def __init__(self, keep_dims=False):
        self.keep_dims = keep_dims

    def __call__(self, x, axis=()):
        return _tg().mean(x, axis=None if axis == () else axis, keepdims=self.keep_dims)


class Reshape(Primitive):
    """`Reshape()(x, shape)`.

    >>> from tapegrad import ops
    >>> print(ops.Reshape()(tg.arange(6), (2, 3)))
    [[0 1 2]
     [3 4 5]]
    """

    def __call__(self, x, shape):
        return _tg().reshape(x, shape)


class Transpose(Primitive):
    """`Transpose()(x, perm)`: the axes of `x` permuted.

    >>> from tapegrad import ops
    >>> ops.Transpose()(tg.ones((2, 3, 4)), (2, 0, 1)).shape
    (4, 2, 3)
    """

    def __call__(self, x, perm):
        return _tg().transpose(x, perm)


class Cast(Primitive):
    """`Cast()(x, dtype)`: `x` converted to `dtype` (floats to ints truncate, as numpy).

    >>> from tapegrad import ops
    >>> ops.Cast()(tg.tensor([1.5, -2.5]), tg.int32)
    Tensor(shape=[2], dtype=Int32, value= [ 1, -2])
    """

    def __call__(self, x, dtype):
        return x.astype(dtype)
