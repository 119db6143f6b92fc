"""The Array API linalg extension's functions that tapegrad's ops compose (no SVD or
eigendecomposition needed), re-exported by ``tapegrad.linalg``."""

from __future__ import annotations

import numpy as np

from . import _core, _creation
from ._numpy_extra import _as_dtype, _axis, _t, matrix_transpose, moveaxis, tensordot, vecdot
from ._numpy_extra import cross as _np_cross
from ._numpy_extra import diagonal as _np_diagonal

__all__ = [
    "cholesky",
    "cross",
    "diagonal",
    "matrix_norm",
    "matrix_power",
    "matrix_transpose",
    "tensordot",
    "trace",
    "vecdot",
    "vector_norm",
]

_ = (matrix_transpose, tensordot, vecdot)  # re-exported unchanged


def cross(x1, x2, /, *, axis=-1):
    """Cross product of the 3-vectors along `axis` of `x1` and `x2`, broadcasting the rest (Array
    API linalg.cross; numpy.cross with its `axis`).

    >>> print(tg.linalg.cross(tg.tensor([[1.0, 0.0, 0.0]]), tg.tensor([0.0, 1.0, 0.0])))
    [[0. 0. 1.]]
    """
    x1, x2 = _t(x1), _t(x2)
    if x1.ndim == 0 or x2.ndim == 0:
        raise ValueError(
            f"cross: needs vectors of 3 elements, got shapes {x1.shape} and {x2.shape}"
        )
    if not -min(x1.ndim, x2.ndim) <= axis < 0:
        # the standard counts `axis` from the end, after broadcasting: a nonnegative axis is
        # ambiguous when the ranks differ
        nd = max(x1.ndim, x2.ndim)
        axis = _axis(axis, nd, "cross") - nd
        if axis < -min(x1.ndim, x2.ndim):
            raise ValueError(f"cross: axis out of range for shapes {x1.shape} and {x2.shape}")
    return _np_cross(x1, x2, axis=axis)


def diagonal(x, /, *, offset=0):
    """Diagonal `offset` of each matrix in the last two axes (Array API linalg.diagonal).

    >>> print(tg.linalg.diagonal(tg.arange(8).reshape(2, 2, 2)))
    [[0 3]
     [4 7]]
    """
    return _np_diagonal(x, offset, -2, -1)


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """Vector `ord`-norm over `axis` (all elements when None; a tuple of axes is one flattened
    vector, unlike numpy.linalg.norm) (Array API linalg.vector_norm). Its gradient at 0 is 0.

    >>> print(tg.linalg.vector_norm(tg.tensor([[3.0, 0.0], [0.0, 4.0]])))
    5.0
    >>> print(tg.linalg.vector_norm(tg.tensor([[3.0, 0.0], [0.0, 4.0]]), axis=1, ord=1))
    [3. 4.]
    """
    x = _t(x)
    nd = x.ndim
    axes = (
        tuple(range(nd))
        if axis is None
        else (axis,)
        if isinstance(axis, (int, np.integer))
        else tuple(axis)
    )
    axes = tuple(_axis(a, nd, "vector_norm") for a in axes)
    if len(set(axes)) != len(axes):
        raise ValueError(f"vector_norm: repeated axis in {axis}")
    if nd == 0:
        out = _core.linalg.norm(x.reshape(1), ord)
        return out
    moved = moveaxis(x, axes, tuple(range(nd - len(axes), nd)))
    kept = moved.shape[: nd - len(axes)]
    out = _core.linalg.norm(moved.reshape(kept + (-1,)), ord, -1)
    if keepdims:
        shape = [1 if i in axes else s for i, s in enumerate(x.shape)]
        out = out.reshape(tuple(shape))
    return out


def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """Matrix norm of each matrix in the last two axes (Array API linalg.matrix_norm): ``'fro'``,
    ``1``, ``-1``, ``inf``, ``-inf``. ``2``, ``-2`` and ``'nuc'`` need singular values, which
    tapegrad does not compute yet: they raise ``ValueError``.

    >>> print(tg.linalg.matrix_norm(tg.tensor([[1.0, 2.0], [3.0, 4.0]]), ord=1))
    6.0
    """
    x = _t(x)
    if x.ndim < 2:
        raise ValueError(f"matrix_norm: needs at least 2 dimensions, got shape {x.shape}")
    return _core.linalg.norm(x, ord, (-2, -1), keepdims)


def matrix_power(x, n, /):
    """`x` (a square matrix, or a stack) to the integer power `n` by repeated squaring; ``n = 0``
    gives the identity, ``n < 0`` powers of the inverse (numpy.linalg.matrix_power).

    >>> print(tg.linalg.matrix_power(tg.tensor([[1.0, 1.0], [0.0, 1.0]]), 3))
    [[1. 3.]
     [0. 1.]]
    """
    x = _t(x)
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"matrix_power: exponent must be an integer, got {n!r}")
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError(
            f"matrix_power: needs square matrices in the last two axes, got shape {x.shape}"
        )
    n = int(n)
    if n == 0:
        return _core.broadcast_to(_creation.eye(x.shape[-1], dtype=x.dtype), x.shape)
    if n < 0:
        x, n = _core.linalg.inv(x), -n
    result, base = None, x
    while n:
        if n & 1:
            result = base if result is None else _core.matmul(result, base)
        n >>= 1
        if n:
            base = _core.matmul(base, base)
    return result


def cholesky(x, /, *, upper=False):
    """The Cholesky factor of each symmetric positive definite matrix in the last two axes: the
    lower triangular ``L`` with ``x = L @ L.mT``, or with ``upper=True`` the upper ``U = L.mT``
    (``x = U.mT @ U``) (numpy.linalg.cholesky, Array API linalg.cholesky).

    >>> print(tg.linalg.cholesky(tg.tensor([[4.0, 2.0], [2.0, 2.0]]), upper=True))
    [[2. 1.]
     [0. 1.]]
    """
    lower = _core.linalg.cholesky(x)
    return matrix_transpose(lower) if upper else lower


def trace(x, /, *, offset=0, dtype=None):
    """Sum of diagonal `offset` of each matrix in the last two axes (numpy.linalg.trace, Array
    API linalg.trace; ``tg.trace`` is numpy.trace, over axes 0 and 1). `dtype` converts first;
    integer and Bool inputs sum as Int64.

    >>> print(tg.linalg.trace(tg.arange(8.0).reshape(2, 2, 2)))
    [ 3. 11.]
    >>> tg.linalg.trace(tg.eye(2, dtype=tg.int32)).dtype
    Int64
    """
    x = _t(x)
    if x.ndim < 2:
        raise ValueError(f"trace: needs at least 2 dimensions, got shape {x.shape}")
    if dtype is not None:
        x = x.astype(_as_dtype(dtype))
    elif str(x.dtype) in ("Bool", "Int32"):
        x = x.astype(_core.int64)
    return _core.trace(x, offset, -2, -1)
