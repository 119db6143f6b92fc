"""numpy.linalg-named linear algebra on LAPACK (scipy-openblas32), differentiable to any order.

``solve``, ``inv``, ``det``, ``slogdet`` and ``cholesky`` work on stacks of matrices (leading
dims are a batch). Singular matrices raise ``ValueError`` in ``solve`` and ``inv`` (numpy raises
its ``LinAlgError``); ``det`` of a singular matrix is 0 and ``slogdet`` gives ``(0, -inf)``.
``norm`` is ``numpy.linalg.norm``; the gradient of the 2-norm at 0 is 0 (as JAX's safe norm).
"""

from __future__ import annotations

from typing import NamedTuple

from . import _core
from ._core import Tensor

__all__ = [
    "SlogdetResult",
    "cholesky",
    "cross",
    "det",
    "diagonal",
    "dot",
    "einsum",
    "inv",
    "matmul",
    "matrix_norm",
    "matrix_power",
    "matrix_transpose",
    "norm",
    "outer",
    "slogdet",
    "solve",
    "tensordot",
    "trace",
    "vdot",
    "vecdot",
    "vector_norm",
]

_la = _core.linalg

# The Array API linalg extension's functions that tapegrad's ops compose.
from ._linalg_extra import (  # noqa: E402
    cholesky,
    cross,
    diagonal,
    matrix_norm,
    matrix_power,
    matrix_transpose,
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
