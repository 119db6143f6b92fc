"""Plain arguments of the transforms: what counts as one array and how it becomes a Tensor.

Every transform (grad, value_and_grad, GradOperation, vjp, jvp, jacrev, jacfwd, hessian, vmap,
jit) takes, wherever it takes a Tensor, any of

- a numpy array (any dtype, byte order aside; any memory order or strides),
- a numpy scalar (``np.float64(1.5)``), a Python scalar (``bool``, ``int``, ``float``),
- a *number list*: a non-empty (nested) Python list whose items are all Python or numpy scalars
  or number lists themselves (``[1.0, 2.0]``, ``[[1, 2], [3, 4]]``).

Each is converted exactly as ``tg.tensor(x)`` converts it (Python floats -> Float32, ints ->
Int64, bools -> Bool, numpy arrays and scalars keep their dtype; an array is wrapped without a
copy where its layout allows), so a transform called on it gives what it gives on
``tg.tensor(x)``: results are Tensors.

Everything else keeps JAX's pytree meaning: a tuple or dict is always a container (a tuple of
numbers is a tuple of scalar arguments), and so is a list that holds anything but numbers and
number lists (a list of Tensors, of arrays, of tuples; an empty list). A ragged number list is
a ``ValueError`` from ``tg.tensor``.

This module is the single place where that rule lives; the transform modules call ``is_leaf``
(to stop pytree flattening at an array argument) and ``to_tensor`` (to convert one).
"""

from __future__ import annotations

import numbers

import numpy as _np

from ._core import Tensor

# (complex too: a list of complex numbers is one complex array argument, as a list of floats is a
# float one, not a pytree of 0-d leaves)
_SCALAR_TYPES = (
    bool,
    int,
    float,
    complex,
    _np.bool_,
    _np.integer,
    _np.floating,
    _np.complexfloating,
)
_ARRAY_TYPES = (_np.ndarray, _np.generic)


def is_number(x):
    """A Python or numpy scalar (bool, int, float, complex and their numpy types)."""
    return isinstance(x, _SCALAR_TYPES)


# Deeper than any array (numpy's 64 dimensions): a list nested this deep, or one that holds
# itself, is taken as array data, so that tg.tensor refuses it with a ValueError instead of the
# check recursing until Python's stack gives out.
_MAX_DEPTH = 64


def is_number_list(x, _depth=0):
    """A non-empty (nested) list of numbers: one array argument, not a pytree."""
    if type(x) is not list or not x:
        return False
    if _depth > _MAX_DEPTH:
        return True
    for v in x:
        if not (isinstance(v, _SCALAR_TYPES) or is_number_list(v, _depth + 1)):
            return False
    return True


def is_array_data(x):
    """Data that becomes one Tensor argument: a numpy array or scalar, or a number list (Python
    scalars are handled by each transform: jit keeps them static)."""
    return isinstance(x, _ARRAY_TYPES) or is_number_list(x)


def is_leaf(x):
    """Where pytree flattening of transform arguments stops: Tensors, None, scalars, numpy arrays
    and number lists."""
    return (
        isinstance(x, Tensor)
        or x is None
        or isinstance(x, (numbers.Number, _np.ndarray, _np.generic))
        or is_number_list(x)
    )


def to_tensor(x, what):
    """One argument leaf as a Tensor: Tensors as they are, everything that `tg.tensor` takes as
    one array converted by it; anything else is a TypeError naming the transform."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (bool, int, float, complex, _np.ndarray, _np.generic)) or is_number_list(x):
        return Tensor(x)
    raise TypeError(
        f"{what}: arguments must be Tensors, numpy arrays, Python or numpy scalars, lists of "
        f"numbers, or tuples/lists/dicts of them; got {type(x).__name__}"
    )


def convert_positions(args, positions):
    """`args` (a tuple) with the plain arguments at `positions` converted to Tensors, so that the
    C++ fast paths, which take Tensors only, see them. Returns `args` itself when nothing changes
    (the common all-Tensor call costs one type check per position)."""
    out = None
    for p in positions:
        a = args[p]
        if type(a) is Tensor or isinstance(a, Tensor):
            continue
        if isinstance(a, (float, int, _np.ndarray, _np.generic)) or is_number_list(a):
            if out is None:
                out = list(args)
            out[p] = Tensor(a)
    return args if out is None else tuple(out)
