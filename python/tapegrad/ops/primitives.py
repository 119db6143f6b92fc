"""MindSpore's primitive-class forms: `ops.BroadcastTo(shape)(x)` and friends."""
from __future__ import annotations

__all__ = ["BroadcastTo", "Primitive", "ReduceSum", "ReduceMean", "Reshape", "Transpose", "Cast"]


def _tg():
    import tapegrad

    return tapegrad


class Primitive:
    """A configured operation: instantiate with attributes, call with tensors."""

    def __repr__(self):
        return f"Prim[{type(self).__name__}]"


class BroadcastTo(Primitive):
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
    def __init__(self, keep_dims=False):
        self.keep_dims = keep_dims

    def __call__(self, x, axis=()):
        return _tg().sum(x, axis=None if axis == () else axis, keepdims=self.keep_dims)


class ReduceMean(Primitive):
    def __init__(self, keep_dims=False):
        self.keep_dims = keep_dims

    def __call__(self, x, axis=()):
        return _tg().mean(x, axis=None if axis == () else axis, keepdims=self.keep_dims)


class Reshape(Primitive):
    def __call__(self, x, shape):
        return _tg().reshape(x, shape)


class Transpose(Primitive):
    def __call__(self, x, perm):
        return _tg().transpose(x, perm)


class Cast(Primitive):
    def __call__(self, x, dtype):
        return x.astype(dtype)
