"""numpy.linalg-named linear algebra on LAPACK (scipy-openblas32), differentiable to any order;
the Array API 2024.12 linalg extension, and numpy's ``eig``/``eigvals`` (complex results, as JAX's).

Every function works on stacks of matrices (leading dims are a batch). Singular matrices raise
``ValueError`` in ``solve`` and ``inv``, and a decomposition that does not converge (NaN input)
raises ``ValueError`` (numpy raises its ``LinAlgError``, a ``ValueError`` too); ``det`` of a singular
matrix is 0 and ``slogdet`` gives ``(0, -inf)``. ``norm`` is ``numpy.linalg.norm``; the gradient of
the 2-norm at 0 is 0 (as JAX's safe norm).

Decompositions (``svd``, ``eigh``, ``qr``) differentiate in every output, with JAX's conventions:
``svd`` needs ``full_matrices=False`` for a non-square input, ``qr`` mode ``'reduced'`` with
m >= n; ``eigh`` differentiates the symmetric matrix that the triangle it reads (``UPLO``) defines.
Where singular values or eigenvalues repeat, the derivatives of the singular vectors and
eigenvectors are inf/nan (those are not continuous there), while ``svdvals`` and ``eigvalsh`` keep
finite gradients everywhere. Losses that do not depend on the signs LAPACK picks for the vectors
(``abs(U)``, ``U @ diag(S) @ Vh``, ``Q @ R``) get their exact gradients.
"""

from __future__ import annotations

from typing import NamedTuple

from . import _core
from ._core import Tensor

__all__ = [
    "EigResult",
    "EighResult",
    "QRResult",
    "SVDResult",
    "SlogdetResult",
    "cholesky",
    "cond",
    "cross",
    "det",
    "diagonal",
    "dot",
    "eig",
    "eigh",
    "eigvals",
    "eigvalsh",
    "einsum",
    "inv",
    "lstsq",
    "matmul",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "matrix_transpose",
    "multi_dot",
    "norm",
    "outer",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "svd",
    "svdvals",
    "tensordot",
    "trace",
    "vdot",
    "vecdot",
    "vector_norm",
]

_la = _core.linalg

# The Array API linalg extension's functions that tapegrad's ops compose.
from ._linalg_extra import (  # noqa: E402
    EighResult,
    EigResult,
    QRResult,
    SVDResult,
    cholesky,
    cond,
    cross,
    diagonal,
    eig,
    eigh,
    eigvals,
    eigvalsh,
    lstsq,
    matrix_norm,
    matrix_power,
    matrix_rank,
    matrix_transpose,
    multi_dot,
    pinv,
    qr,
    svd,
    svdvals,
    tensordot,
    trace,
    vecdot,
    vector_norm,
)
from ._numpy_extra import einsum  # noqa: E402  (numpy's sublist form too)

solve = _la.solve
inv = _la.inv
det = _la.det
norm = _la.norm
matmul = _core.matmul
dot = _core.dot
vdot = _core.vdot
outer = _core.outer


class SlogdetResult(NamedTuple):
    """``(sign, logabsdet)`` of ``slogdet``, as numpy's namedtuple.

    >>> r = tg.linalg.slogdet(tg.tensor([[-2.0, 0.0], [0.0, 1.0]]))
    >>> r.sign
    Tensor(shape=[], dtype=Float32, value= -1)
    >>> sign, logabsdet = r
    >>> logabsdet
    Tensor(shape=[], dtype=Float32, value= 0.693147)
    """

    sign: Tensor
    logabsdet: Tensor


def slogdet(a):
    """Sign and natural log of the absolute value of the determinant (numpy.linalg.slogdet).

    Stable where `det` over- or underflows; differentiable in `logabsdet`. Works on stacks.

    >>> sign, logabsdet = tg.linalg.slogdet(tg.tensor([[2.0, 0.0], [0.0, 3.0]]))
    >>> print(sign, logabsdet)  # log 6
    1.0 1.79...
    """
    sign, logabsdet = _la.slogdet(a)
    return SlogdetResult(sign, logabsdet)
