"""The Array API linalg extension's functions and numpy.linalg's composites that tapegrad's ops
compose (decompositions with named results, pinv, matrix_rank, cond, lstsq, ...), re-exported by
``tapegrad.linalg``."""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from . import _core, _creation
from ._core import Tensor
from ._numpy_extra import _as_dtype, _axis, _t, matrix_transpose, moveaxis, tensordot, vecdot
from ._numpy_extra import cross as _np_cross
from ._numpy_extra import diagonal as _np_diagonal

__all__ = [
    "EigResult",
    "EighResult",
    "QRResult",
    "SVDResult",
    "cholesky",
    "cond",
    "cross",
    "diagonal",
    "eig",
    "eigh",
    "eigvals",
    "eigvalsh",
    "lstsq",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "matrix_transpose",
    "multi_dot",
    "pinv",
    "qr",
    "svd",
    "svdvals",
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
    # The flattened length spelled out: reshape cannot infer a -1 next to a zero-length kept axis
    # (a (0, 2, 2) tensor over its last axis is (0, 2) vectors of length 2).
    n = 1
    for s in moved.shape[nd - len(axes) :]:
        n *= s
    out = _core.linalg.norm(moved.reshape(kept + (n,)), ord, -1)
    if keepdims:
        shape = [1 if i in axes else s for i, s in enumerate(x.shape)]
        out = out.reshape(tuple(shape))
    return out


def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """Matrix norm of each matrix in the last two axes (Array API linalg.matrix_norm): ``'fro'``,
    ``'nuc'`` (the sum of the singular values), ``1``, ``-1``, ``inf``, ``-inf``, ``2`` and ``-2``
    (the largest and smallest singular value).

    >>> print(tg.linalg.matrix_norm(tg.tensor([[1.0, 2.0], [3.0, 4.0]]), ord=1))
    6.0
    >>> print(tg.linalg.matrix_norm(tg.tensor([[3.0, 0.0], [0.0, -4.0]]), ord="nuc"))
    7.0
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
    if n == 3:  # numpy's association for 3, (x @ x) @ x: with inf entries the orders differ
        return _core.matmul(_core.matmul(x, x), x)
    result, base = None, x
    while n:
        if n & 1:
            result = base if result is None else _core.matmul(result, base)
        n >>= 1
        if n:
            base = _core.matmul(base, base)
    return result


# ---- decompositions ------------------------------------------------------------------------------


class SVDResult(NamedTuple):
    """``(U, S, Vh)`` of ``svd``: ``x = U @ diag(S) @ Vh`` (numpy's and the Array API's names).

    >>> tg.linalg.svd(tg.eye(2)).S
    Tensor(shape=[2], dtype=Float32, value= [ 1.00000000e+00,  1.00000000e+00])
    """

    U: Tensor
    S: Tensor
    Vh: Tensor


class EighResult(NamedTuple):
    """``(eigenvalues, eigenvectors)`` of ``eigh``; the eigenvectors are the columns.

    >>> tg.linalg.eigh(tg.tensor([[2.0, 0.0], [0.0, 1.0]])).eigenvalues
    Tensor(shape=[2], dtype=Float32, value= [ 1.00000000e+00,  2.00000000e+00])
    """

    eigenvalues: Tensor
    eigenvectors: Tensor


class EigResult(NamedTuple):
    """``(eigenvalues, eigenvectors)`` of ``eig``; the eigenvectors are the columns.

    >>> tg.linalg.eig(tg.tensor([[2.0, 0.0], [0.0, 1.0]])).eigenvalues.tolist()
    [(2+0j), (1+0j)]
    """

    eigenvalues: Tensor
    eigenvectors: Tensor


class QRResult(NamedTuple):
    """``(Q, R)`` of ``qr``.

    >>> tg.linalg.qr(tg.eye(3)[:, :2]).R.shape
    (2, 2)
    """

    Q: Tensor
    R: Tensor


def _bool(v, name, what):
    if not isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{name}: {what} must be a bool, got {v!r}")
    return bool(v)


def svd(x, /, full_matrices=True, compute_uv=True, hermitian=False):
    """Singular value decomposition ``x = U @ diag(S) @ Vh`` of each matrix in the last two axes
    (numpy.linalg.svd and the Array API's): an ``SVDResult``, or ``S`` alone when `compute_uv` is
    False. ``S`` is descending; `full_matrices` gives square ``U`` and ``Vh``. `hermitian` is
    accepted for numpy's signature (the general SVD runs; the values are the same).

    Differentiable in ``U``, ``S`` and ``Vh``; a non-square `x` needs ``full_matrices=False`` for
    that (the extra columns of a full ``U`` are not unique). Where singular values repeat (or one
    is 0 in a non-square matrix), the derivatives of ``U`` and ``Vh`` are inf/nan; ``svdvals``'s
    stay finite.

    >>> u, s, vh = tg.linalg.svd(tg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), full_matrices=False)
    >>> u.shape, s.shape, vh.shape
    ((3, 2), (2,), (2, 2))
    >>> print(np.round((u @ (s[:, None] * vh)).numpy(), 4))
    [[1. 2.]
     [3. 4.]
     [5. 6.]]
    """
    _bool(hermitian, "svd", "hermitian")
    r = _core.linalg.svd(x, full_matrices, compute_uv)
    return SVDResult(*r) if isinstance(r, tuple) else r


def svdvals(x, /):
    """The singular values of each matrix in the last two axes, descending (Array API
    linalg.svdvals). The gradient ``U @ diag(g) @ Vh`` is finite for every `x`.

    >>> print(tg.linalg.svdvals(tg.tensor([[0.0, 2.0], [-1.0, 0.0]])))
    [2. 1.]
    """
    return _core.linalg.svdvals(x)


def eigh(x, /, UPLO="L"):
    """Eigenvalues (ascending) and eigenvectors (columns) of each symmetric matrix in the last two
    axes, an ``EighResult`` (numpy.linalg.eigh, the Array API's). Only the lower (``UPLO='L'``) or
    upper (``'U'``) triangle is read, and derivatives are those of the symmetric matrix it
    defines. Eigenvector derivatives are inf/nan where eigenvalues repeat; ``eigvalsh``'s gradient
    stays finite.

    >>> w, v = tg.linalg.eigh(tg.tensor([[2.0, 1.0], [1.0, 2.0]]))
    >>> print(w)
    [1. 3.]
    """
    return EighResult(*_core.linalg.eigh(x, UPLO))


def eig(x, /):
    """Eigenvalues and right eigenvectors (the columns) of each square matrix in the last two axes,
    an ``EigResult`` (numpy.linalg.eig; LAPACK geev). Both are complex (complex64 for float32
    input, complex128 for float64), for real input too, as ``jax.numpy.linalg.eig``: numpy returns
    real arrays when every eigenvalue happens to be real. Each eigenvector has unit 2-norm and its
    largest component real (LAPACK's normalisation, numpy's and JAX's).

    Differentiable in both outputs with JAX's rules (``jax.lax.linalg.eig`` with
    ``enable_eigvec_derivs=True``), which differentiate that normalisation. Where eigenvalues
    repeat, eigenvector derivatives are inf/nan; a defective matrix has none (``ValueError``).

    >>> w, v = tg.linalg.eig(tg.tensor([[0.0, -1.0], [1.0, 0.0]]))
    >>> w.tolist()
    [1j, -1j]
    >>> print(np.round(np.abs(v.numpy()), 4))
    [[0.7071 0.7071]
     [0.7071 0.7071]]
    """
    return EigResult(*_core.linalg.eig(x))


def eigvals(x, /):
    """Eigenvalues of each square matrix in the last two axes (numpy.linalg.eigvals), complex for
    real input too (as ``eig``). Its gradient ``V^-T diag(g) V^T`` stays finite where eigenvalues
    repeat, as long as the matrix is diagonalisable.

    >>> print(tg.linalg.eigvals(tg.tensor([[2.0, 1.0], [0.0, 3.0]])))
    [2.+0.j 3.+0.j]
    """
    return _core.linalg.eigvals(x)


def eigvalsh(x, /, UPLO="L"):
    """Eigenvalues (ascending) of each symmetric matrix in the last two axes, read from one
    triangle (numpy.linalg.eigvalsh, the Array API's). Its gradient is finite for every `x`.

    >>> print(tg.linalg.eigvalsh(tg.tensor([[2.0, 1.0], [1.0, 2.0]])))
    [1. 3.]
    """
    return _core.linalg.eigvalsh(x, UPLO)


def qr(x, /, mode="reduced"):
    """QR decomposition of each matrix in the last two axes (numpy.linalg.qr, the Array API's): a
    ``QRResult`` for ``mode='reduced'`` (``Q`` (..., m, k), ``R`` (..., k, n), k = min(m, n)) or
    ``'complete'`` (``Q`` (..., m, m)), ``R`` alone for ``'r'``. Differentiable for ``'reduced'``
    and ``'r'`` when m >= n (square or tall) and `x` has full column rank.

    >>> q, r = tg.linalg.qr(tg.tensor([[3.0, 1.0], [4.0, 2.0]]))
    >>> print(np.round((q @ r).numpy(), 4))
    [[3. 1.]
     [4. 2.]]
    >>> print(np.round(abs(tg.linalg.qr(tg.tensor([[3.0, 1.0], [4.0, 2.0]]), mode="r")).numpy(), 4))
    [[5.  2.2]
     [0.  0.4]]
    """
    if not isinstance(mode, str):
        raise TypeError(f"qr: mode must be a str, got {mode!r}")
    r = _core.linalg.qr(x, mode)
    return QRResult(*r) if isinstance(r, tuple) else r


def cholesky(x, /, *, upper=False):
    """The lower-triangular ``L`` with ``L @ L.T = x`` for each symmetric positive-definite matrix
    in the last two axes, or the upper ``L.T`` when `upper` (numpy.linalg.cholesky, the Array
    API's); a matrix that is not positive definite raises ``ValueError``. Reads the lower triangle.
    For complex (Hermitian) `x`, ``L @ L.conj().T = x`` and `upper` gives ``L.conj().T``.

    >>> print(tg.linalg.cholesky(tg.tensor([[4.0, 2.0], [2.0, 2.0]])))
    [[2. 0.]
     [1. 1.]]
    >>> print(tg.linalg.cholesky(tg.tensor([[4.0, 2.0], [2.0, 2.0]]), upper=True))
    [[2. 1.]
     [0. 1.]]
    """
    lower = _core.linalg.cholesky(x)
    if not _bool(upper, "cholesky", "upper"):
        return lower
    if lower.dtype.name.startswith("complex"):  # U = L^H, with U^H U = x
        return _core._complex_part(matrix_transpose(lower), "conj")
    return matrix_transpose(lower)


def trace(x, /, *, offset=0, dtype=None):
    """Sum of diagonal `offset` of each matrix in the last two axes (numpy.linalg.trace, Array
    API linalg.trace; ``tg.trace`` is numpy.trace, over axes 0 and 1). `dtype` converts first;
    signed integer and Bool inputs sum as Int64, unsigned ones as UInt64 (the Array API's default
    integer).

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
    elif str(x.dtype) in ("Bool", "Int8", "Int16", "Int32"):
        x = x.astype(_core.int64)
    elif str(x.dtype) in ("UInt8", "UInt16", "UInt32"):
        x = x.astype(_core.uint64)
    return _core.trace(x, offset, -2, -1)


def _float_dtype(x):
    """The dtype LAPACK runs on: floats and complex numbers as they are, the rest as float64."""
    ok = (_core.float32, _core.float64, _core.complex64, _core.complex128)
    return x.dtype if x.dtype in ok else _core.float64


def _is_cplx(dt):
    return dt in (_core.complex64, _core.complex128)


def _part(dt):
    """The real dtype of singular values and tolerances for matrices of dtype `dt`."""
    return {_core.complex64: _core.float32, _core.complex128: _core.float64}.get(dt, dt)


def _mH(x):
    """The conjugate transpose of each matrix (the transpose of real ones)."""
    t = matrix_transpose(x)
    return _core._complex_part(t, "conj") if _is_cplx(t.dtype) else t


def _eps(dt):
    return float(np.finfo(np.float32 if dt in (_core.float32, _core.complex64) else np.float64).eps)


def _rtol_default(x, dt):
    return max(x.shape[-2:]) * _eps(dt)


def pinv(x, /, rcond=None, hermitian=False, *, rtol=None):
    """Moore-Penrose pseudo-inverse of each matrix in the last two axes, from its SVD: singular
    values at or below ``rtol * largest`` count as 0 (numpy.linalg.pinv, the Array API's).
    `rtol` defaults to ``max(m, n) * eps`` (the Array API's; numpy's `rcond` is the same cutoff,
    and giving both is an error). `hermitian` is accepted for numpy's signature.

    Differentiable through the SVD; its derivative exists where the rank is locally constant, and
    the composition gives it for matrices of full rank with distinct singular values.

    >>> print(tg.linalg.pinv(tg.tensor([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]])))
    [[1.  0.  0. ]
     [0.  0.5 0. ]]
    """
    _bool(hermitian, "pinv", "hermitian")
    if rcond is not None and rtol is not None:
        raise ValueError("pinv: rtol and rcond can't be both set")
    x = _t(x)
    dt = _float_dtype(x)
    x = x.astype(dt)
    if x.ndim < 2:
        raise ValueError(f"pinv: needs at least 2 dimensions, got shape {x.shape}")
    cut = rtol if rtol is not None else rcond
    if cut is None:
        cut = _rtol_default(x, dt)
    m, n = x.shape[-2:]
    if m == 0 or n == 0:
        return _creation.zeros(x.shape[:-2] + (n, m), dt)
    u, s, vh = svd(x, full_matrices=False)
    cut = _t(cut).astype(_part(dt))
    if cut.ndim:
        cut = cut[..., None]
    big = s > cut * _core.amax(s, axis=-1, keepdims=True)
    # 1/s where kept, 0 elsewhere; the division never sees a dropped value (a nan gradient).
    s_inv = _core.where(big, 1.0 / _core.where(big, s, 1.0), 0.0)
    return _mH(vh) @ (s_inv[..., None] * _mH(u))  # V S^+ U^H


def matrix_rank(x, /, tol=None, hermitian=False, *, rtol=None):
    """The number of singular values above ``tol`` (absolute) or ``rtol * largest`` (relative,
    ``max(m, n) * eps`` by default) of each matrix in the last two axes, an int64 count
    (numpy.linalg.matrix_rank, the Array API's). A vector has rank 1 unless it is all zeros.

    >>> tg.linalg.matrix_rank(tg.tensor([[1.0, 2.0], [2.0, 4.0]]))
    Tensor(shape=[], dtype=Int64, value= 1)
    """
    _bool(hermitian, "matrix_rank", "hermitian")
    if tol is not None and rtol is not None:
        raise ValueError("matrix_rank: tol and rtol can't be both set")
    x = _t(x)
    if x.ndim < 2:
        return _core.any(x != 0).astype(_core.int64)
    dt = _float_dtype(x)
    if x.shape[-1] == 0 or x.shape[-2] == 0:  # no singular values: rank 0 (amax would refuse)
        return _creation.zeros(tuple(x.shape[:-2]), _core.int64)
    s = svdvals(x.astype(dt))
    if tol is not None:
        t = _t(tol).astype(_part(dt))
        bound = t[..., None] if t.ndim else t
    else:
        r = _t(_rtol_default(x, dt) if rtol is None else rtol).astype(_part(dt))
        bound = _core.amax(s, axis=-1, keepdims=True) * (r[..., None] if r.ndim else r)
    return _core.sum((s > bound).astype(_core.int64), axis=-1)


def cond(x, p=None):
    """Condition number of each matrix in the last two axes in the norm `p` (numpy.linalg.cond):
    None or 2 (largest over smallest singular value), -2 (the inverse ratio), or any matrix norm
    of ``norm`` (``norm(x, p) * norm(inv(x), p)``; those need square, invertible matrices and raise
    ``ValueError`` on singular ones, where numpy gives inf).

    >>> print(tg.linalg.cond(tg.tensor([[2.0, 0.0], [0.0, 0.5]])))
    4.0
    """
    x = _t(x)
    if x.ndim < 2:
        raise ValueError(f"cond: needs at least 2 dimensions, got shape {x.shape}")
    if p is None or (not isinstance(p, str) and p in (2, -2)):
        s = svdvals(x.astype(_float_dtype(x)))
        if p == -2:
            return s[..., -1] / s[..., 0]
        return s[..., 0] / s[..., -1]
    return _core.linalg.norm(x, p, (-2, -1)) * _core.linalg.norm(_core.linalg.inv(x), p, (-2, -1))


def lstsq(a, b, rcond=None):
    """Least-squares solution of ``a @ x = b`` for a 2-d `a` (m, n) and `b` (m,) or (m, k), by the
    pseudo-inverse (numpy.linalg.lstsq): ``(x, residuals, rank, s)`` -- the sums of squared
    residuals (shape (k,), or (1,) for a 1-d `b`; empty when the rank is below n or m <= n), the
    rank and the singular values of `a`. `rcond` defaults to ``max(m, n) * eps``. Differentiable
    in `a` and `b` (through the SVD, for `a` of full rank).

    >>> x, res, rank, s = tg.linalg.lstsq(tg.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), tg.tensor([1.0, 2.0, 3.0]))
    >>> print(np.round(x.numpy(), 4), int(rank))
    [1. 2.] 2
    """
    a, b = _t(a), _t(b)
    if a.ndim != 2:
        raise ValueError(f"lstsq: a must be 2-dimensional, got shape {a.shape}")
    if b.ndim not in (1, 2):
        raise ValueError(f"lstsq: b must be 1- or 2-dimensional, got shape {b.shape}")
    m, n = a.shape
    if b.shape[0] != m:
        raise ValueError(f"lstsq: incompatible dimensions: a {a.shape} and b {b.shape}")
    dts = (_float_dtype(a), _float_dtype(b))
    wide = any(d in (_core.float64, _core.complex128) for d in dts)
    if any(_is_cplx(d) for d in dts):
        dt = _core.complex128 if wide else _core.complex64
    else:
        dt = _core.float64 if wide else _core.float32
    a, b = a.astype(dt), b.astype(dt)
    p = pinv(a, rtol=rcond)
    x = p @ b
    s = svdvals(a)
    rank = matrix_rank(a, rtol=rcond)
    if int(rank) == n and m > n:
        r = a @ x - b
        if _is_cplx(dt):  # |r|^2, real (numpy's)
            r = _core.abs(r)
        res = _core.sum(r * r, axis=0)
        if b.ndim == 1:
            res = res.reshape(1)
    else:
        res = _creation.zeros((0,), _part(dt))
    return x, res, rank, s


def multi_dot(arrays, *, out=None):
    """The product of two or more matrices, left to right (numpy.linalg.multi_dot; a 1-d first
    argument is a row vector, a 1-d last one a column vector).

    >>> print(tg.linalg.multi_dot([tg.ones(2), tg.eye(2), tg.ones(2)]))
    2.0
    """
    if out is not None:
        raise TypeError("multi_dot: out= is not supported (Tensors are not written in place)")
    arrays = list(arrays)
    if len(arrays) < 2:
        raise ValueError("multi_dot: expecting at least two arrays")
    for i, t in enumerate(arrays):
        nd = _t(t).ndim
        ok = nd == 2 or (nd == 1 and i in (0, len(arrays) - 1))
        if not ok:
            raise ValueError(
                f"multi_dot: argument {i} has {nd} dimensions (needs 2, or 1 at the ends)"
            )
    return functools.reduce(_core.matmul, arrays)
