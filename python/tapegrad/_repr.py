"""MindSpore-2.x-compatible ``repr`` formatting for tensors.

This module is a clean-room re-implementation (written from a description of
the behaviour, not a translation of MindSpore's code) of the text MindSpore 2.x
produces for ``repr(Tensor)``.  Entry point: :func:`format_tensor_repr`.

Rules (as determined from reading MindSpore's tensor stringifier in
``mindspore/core/ir/tensor.cc`` / ``tensor_data.h``, identical across the 2.x
revisions inspected, plus example outputs quoted in MindSpore's docstrings)
----------------------------------------------------------------------------

Envelope
    ``Tensor(shape=<S>, dtype=<D>, value=<SEP><BODY>)`` where

    * ``<S>`` is ``[d0, d1, ...]`` (``[]`` for 0-d tensors),
    * ``<D>`` is the MindSpore dtype name (``Float32``, ``Int64``, ``Bool``...),
    * ``<SEP>`` is a newline when ``ndim > 1`` and a single space otherwise
      (0-d and 1-d tensors),
    * ``<BODY>`` is described below.  A tensor with zero elements has an empty
      body, e.g. ``Tensor(shape=[0], dtype=Float32, value= )``.

0-d tensors (scalars) -- no brackets, no padding
    * float16/32/64: C ``printf("%g")`` semantics (6 significant digits,
      trailing zeros removed): ``28.0 -> 28``, ``0.663754``, ``1e-07``,
      ``1.23457e+06``.
    * integers: plain decimal (int8/uint8 printed as numbers, not chars).
    * bool: ``True`` / ``False``.

Elements inside arrays
    * Float32 / Float64: ``%15.8e`` (scientific, 8 fractional digits,
      right-aligned in 15 columns), e.g. ``' 1.00000000e+00'``,
      ``'-2.50000000e-01'``.  Width is a minimum: ``-1.00000000e+100`` is 16
      characters and is not truncated.
    * Float16: ``%11.4e`` (e.g. ``' 1.0000e+00'``).
    * Bool: ``True``/``False`` right-aligned in 5 columns (``' True'``).
    * Integers: decimal, right-aligned to the width of the widest *printed*
      element of the whole tensor (a single width shared by all rows; elements
      hidden by summarisation do not count).
    * nan / inf follow glibc: ``nan``, ``-nan`` (NaN with the sign bit set),
      ``inf``, ``-inf``; in arrays they are right-aligned in the float width.
    * Elements are separated by ``', '``.

Layout
    * Every dimension is bracketed.  Sibling sub-arrays at depth ``k`` are
      separated by ``',\\n'`` followed by ``k + 1`` spaces of indentation (no
      blank lines, unlike NumPy).
    * 1-d tensors only: after the element at 0-based position ``i`` (when the
      printed run has more than 3 elements) a line break ``'\\n '`` is emitted
      if ``(i + 1)`` is a multiple of 12 for float/bool dtypes or 24 for
      integer (and complex/bfloat16) dtypes.  The break comes *after* the
      ``', '`` separator, so broken lines end with a trailing space, and if the
      last element falls on such a position the closing bracket lands on its
      own line as ``'\\n ]'``.
    * No line wrapping by width ever happens for ``ndim > 1``.

Summarisation (threshold 6, edge items 3)
    * Innermost dimension of a tensor with ``ndim > 1``: if it has more than
      6 entries, print the first 3, then ``' ... '``, then the last 3.
    * 1-d tensor: same, but only when it has more than 1000 elements (see
      uncertainties).  The two printed halves never get the 12/24 line breaks.
    * Outer dimensions: if a dimension has more than 6 entries, print the first
      3 sub-arrays, then a line ``,\\n<indent>...``, then the last 3
      sub-arrays; the first sub-array after the ``...`` line is *not* preceded
      by a comma (``'...\\n <block>'``), the others are.

Other dtypes (best effort)
    * Complex64/128: ``<real>%g`` immediately followed by the imaginary part in
      ``%+g`` and ``j`` (``1+2j``, ``0-1j``), no padding, 6 significant digits.
    * BFloat16: values formatted like float scalars (``%g``) but padded like
      integers (right-aligned to the widest printed element).  NumPy has no
      bfloat16, so pass the values as a float array (they are not re-rounded).

Uncertain points
    * The 1-d summarisation threshold (> 1000 elements) exists in recent 2.x
      sources; older 2.x revisions inspected never summarise 1-d tensors and
      print every element (with the 12/24 line breaks).  Pass
      ``summarize_1d=False`` to get that older behaviour.
    * Empty tensors with ``ndim > 1``: the code emits a newline separator and an
      empty body (``value=\\n)``).  A MindSpore docstring shows
      ``value= )`` for a dynamic-shape ``[3, -1]`` tensor, which may come from
      another version or a hand-edited example.
    * Tensors sharing memory with NumPy (``Tensor.from_numpy``) are printed by
      MindSpore via ``numpy.array2string(..., separator=', ')`` instead; that
      path is not reproduced here.
    * ``-nan`` assumes MindSpore runs on glibc (Linux); other C runtimes may
      print NaNs and three-digit exponents differently.
    * Complex and BFloat16 formatting were derived from the streaming
      operators only and were not checked against real output.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

__all__ = ["format_tensor_repr"]

# Summarisation parameters.
_SUMMARY_THRESHOLD = 6  # dimensions longer than this get summarised
_EDGE_ITEMS = _SUMMARY_THRESHOLD // 2  # items kept at each end
_SUMMARY_THRESHOLD_1D = 1000  # 1-d tensors are summarised above this length

# Number of elements after which a 1-d tensor breaks its line.
_LINE_ITEMS_FLOAT = 12
_LINE_ITEMS_BOOL = 12
_LINE_ITEMS_OTHER = 24

_BOOL_WIDTH = len("False")

# dtype name -> (category, numpy dtype used to normalise the data)
_DTYPES = {
    "Bool": ("bool", np.bool_),
    "Int8": ("int", np.int8),
    "Int16": ("int", np.int16),
    "Int32": ("int", np.int32),
    "Int64": ("int", np.int64),
    "UInt8": ("int", np.uint8),
    "UInt16": ("int", np.uint16),
    "UInt32": ("int", np.uint32),
    "UInt64": ("int", np.uint64),
    "Float16": ("float", np.float16),
    "Float32": ("float", np.float32),
    "Float64": ("float", np.float64),
    "BFloat16": ("bfloat16", np.float32),
    "Complex64": ("complex", np.complex64),
    "Complex128": ("complex", np.complex128),
}

# (width, precision) for elements of float arrays.
_FLOAT_ARRAY_STYLE = {
    np.dtype(np.float16): (11, 4),
    np.dtype(np.float32): (15, 8),
    np.dtype(np.float64): (15, 8),
}


def _nonfinite_text(x: float, plus: bool) -> str | None:
    """glibc spelling of nan/inf, or None for finite numbers."""
    if math.isnan(x):
        sign = "-" if math.copysign(1.0, x) < 0 else ("+" if plus else "")
        return sign + "nan"
    if math.isinf(x):
        return ("-" if x < 0 else ("+" if plus else "")) + "inf"
    return None


def _general(x: float, plus: bool = False) -> str:
    """C ``%g`` (``%+g`` when *plus*) with glibc's nan/inf spelling."""
    special = _nonfinite_text(x, plus)
    if special is not None:
        return special
    return ("%+g" if plus else "%g") % x


def _scientific(x: float, precision: int) -> str:
    """C ``%.<precision>e`` with glibc's nan/inf spelling."""
    special = _nonfinite_text(x, False)
    if special is not None:
        return special
    return f"{x:.{precision}e}"


def _element_formatter(category: str, data: np.ndarray, scalar: bool) -> Callable[[int], str]:
    """Return ``f(flat_index) -> text`` for one element (before int padding)."""
    flat = data.reshape(-1)
    if category == "bool":
        if scalar:
            return lambda i: "True" if flat[i] else "False"
        return lambda i: ("True" if flat[i] else "False").rjust(_BOOL_WIDTH)
    if category == "int":
        return lambda i: str(int(flat[i]))
    if category == "float":
        if scalar:
            return lambda i: _general(float(flat[i]))
        width, precision = _FLOAT_ARRAY_STYLE[flat.dtype]
        return lambda i: _scientific(float(flat[i]), precision).rjust(width)
    if category == "bfloat16":
        return lambda i: _general(float(flat[i]))
    if category == "complex":
        return lambda i: (
            _general(float(flat[i].real)) + _general(float(flat[i].imag), plus=True) + "j"
        )
    raise AssertionError(category)


class _Layout:
    """Walks the tensor and records text pieces and element slots."""

    def __init__(self, shape: tuple, line_items: int, summarize_1d: bool) -> None:
        self.shape = shape
        self.ndim = len(shape)
        self.line_items = line_items
        self.summarize_1d = summarize_1d
        # Either literal text (str) or a flat element index (int).
        self.pieces: list[str | int] = []

    def _run(self, base: int, first: int, stop: int) -> None:
        """Emit elements ``first..stop-1`` of the innermost row at *base*."""
        count = stop - first
        for pos in range(first, stop):
            self.pieces.append(base + pos)
            if pos != stop - 1:
                self.pieces.append(", ")
            if self.ndim == 1 and count > _EDGE_ITEMS and (pos + 1) % self.line_items == 0:
                self.pieces.append("\n ")

    def block(self, depth: int, base: int) -> None:
        n = self.shape[depth]
        self.pieces.append("[")
        if depth == self.ndim - 1:
            if self.ndim > 1:
                summarise = n > _SUMMARY_THRESHOLD
            else:
                summarise = self.summarize_1d and n > _SUMMARY_THRESHOLD_1D
            if summarise:
                self._run(base, 0, _EDGE_ITEMS)
                self.pieces.append(" ... ")
                self._run(base, n - _EDGE_ITEMS, n)
            else:
                self._run(base, 0, n)
        else:
            stride = int(np.prod(self.shape[depth + 1 :], dtype=np.int64))
            newline = "\n" + " " * (depth + 1)
            if n > _SUMMARY_THRESHOLD:
                for k in range(_EDGE_ITEMS):
                    if k:
                        self.pieces.append("," + newline)
                    self.block(depth + 1, base + k * stride)
                self.pieces.append("," + newline + "...")
                for j, k in enumerate(range(n - _EDGE_ITEMS, n)):
                    self.pieces.append(newline if j == 0 else "," + newline)
                    self.block(depth + 1, base + k * stride)
            else:
                for k in range(n):
                    if k:
                        self.pieces.append("," + newline)
                    self.block(depth + 1, base + k * stride)
        self.pieces.append("]")


def _format_body(data: np.ndarray, category: str, summarize_1d: bool) -> str:
    if data.size == 0:
        return ""
    if data.ndim == 0:
        return _element_formatter(category, data, scalar=True)(0)

    if category == "float":
        line_items = _LINE_ITEMS_FLOAT
    elif category == "bool":
        line_items = _LINE_ITEMS_BOOL
    else:
        line_items = _LINE_ITEMS_OTHER

    layout = _Layout(tuple(int(d) for d in data.shape), line_items, summarize_1d)
    layout.block(0, 0)

    fmt = _element_formatter(category, data, scalar=False)
    texts = {p: fmt(p) for p in layout.pieces if isinstance(p, int)}
    if category in ("int", "bfloat16"):
        width = max(len(t) for t in texts.values())
        texts = {k: t.rjust(width) for k, t in texts.items()}
    return "".join(texts[p] if isinstance(p, int) else p for p in layout.pieces)


def format_tensor_repr(arr: np.ndarray, dtype_name: str, *, summarize_1d: bool = True) -> str:
    """Format *arr* the way MindSpore 2.x formats ``repr(Tensor)``.

    Args:
        arr: the tensor data (anything ``numpy.asarray`` accepts).  It is
            converted to the NumPy dtype matching *dtype_name* first.
        dtype_name: MindSpore dtype name, e.g. ``"Float32"``, ``"Int64"``,
            ``"Bool"``; it is printed verbatim and selects the element style.
        summarize_1d: summarise 1-d tensors with more than 1000 elements
            (recent MindSpore 2.x).  ``False`` prints them in full, as older
            2.x releases do.

    Returns:
        e.g. ``'Tensor(shape=[], dtype=Float32, value= 28)'``.
    """
    try:
        category, np_dtype = _DTYPES[dtype_name]
    except KeyError:
        raise ValueError(
            f"unsupported dtype name {dtype_name!r}; expected one of {sorted(_DTYPES)}"
        ) from None
    data = np.asarray(arr)
    if data.dtype != np.dtype(np_dtype):
        data = data.astype(np_dtype)

    shape_text = "[" + ", ".join(str(int(d)) for d in data.shape) + "]"
    separator = "\n" if data.ndim > 1 else " "
    body = _format_body(data, category, summarize_1d)
    return f"Tensor(shape={shape_text}, dtype={dtype_name}, value={separator}{body})"
