"""Sparse Jacobians and Hessians: the sparsity pattern detected from a recording of the function,
colored, and the derivative computed with one compressed sweep (docs/sparse.md).

1. Detection. The function is recorded once by the tg.jit recorder (control flow and index arrays
   computed from traced values are fixed in the recording by its guards). Each slot of the recording
   gets a pattern: a boolean matrix of shape (slot.size, x.size), CSR, or None when the slot does
   not depend on x. One rule per prim (``_RULES`` below) maps input patterns to output patterns.
   Rules over-approximate but never miss a dependency; a prim without a rule uses the conservative
   all-to-all rule (every output element depends on everything any input depends on).
   Hessian patterns are the (symmetrised) Jacobian patterns of a recording of ``grad(f)``, which
   holds the reverse sweep's ops: a safe pattern that reuses the first-order rules.
2. Coloring (C++, csrc/transforms/coloring.cpp): greedy distance-1 column (forward mode) or row
   (reverse mode) coloring, star coloring for symmetric Hessians.
3. Evaluation: one vmapped jvp over the color seeds (J S), or one vmapped vjp (S^T J), or one vmapped
   jvp of the gradient (H S), decompressed into a ``scipy.sparse.csr_array``. The sweep is recorded
   once; its records that do not depend on x are computed once, and each later call replays the
   rest and gathers the non-zeros in C++ (Note [Compressed sweeps], csrc/transforms/compressed.h).

Shape convention: the Jacobian of ``f`` at ``x`` is a matrix of shape ``(f(x).size, x.size)``,
rows and columns in C order (``x`` and ``f(x)`` flattened); its ``.toarray()`` equals
``tg.jacrev(f)(x)`` reshaped to that shape. Entries of the detected pattern that happen to be zero at
this ``x`` stay stored (explicit zeros), so the structure does not change from one x to the next.
"""

from __future__ import annotations

import numpy as _np

from . import _core
from ._core import Tensor

__all__ = ["SparseHessian", "SparseJacobian", "sparse_hessian", "sparse_jacobian"]

_SCIPY_HINT = "needs SciPy: pip install tapegrad[scipy] (or pip install scipy)"


def _sp():
    try:
        import scipy.sparse as sp
    except ImportError as e:  # pragma: no cover - exercised with SciPy hidden
        raise ImportError(f"tapegrad sparse Jacobians {_SCIPY_HINT}") from e
    return sp


_FLOATS = ("Float16", "Float32", "Float64")


def _is_float(dtype):
    return str(dtype) in _FLOATS


# Slots whose values carry derivatives: real floats and complex numbers (a function may go through
# complex arithmetic and come back with `real`/`abs`: its dependencies go through too).
_CARRIERS = _FLOATS + ("Complex64", "Complex128")


def _carries(dtype):
    return str(dtype) in _CARRIERS


def _size(shape):
    return int(_np.prod(shape, dtype=_np.int64)) if len(shape) else 1


# ---- pattern algebra (CSR matrices of shape (numel, n); None = depends on nothing) -------------

# Above this many stored entries a conservative (dense) rule refuses rather than exhaust memory.
_MAX_CONSERVATIVE_NNZ = 5 * 10**7


def _empty(rows, n):
    sp = _sp()
    return sp.csr_array((rows, n), dtype=_np.float32)


def _ones(p):
    """`p` with every stored value 1 (structure only; sums and products never cancel)."""
    if p is not None and p.nnz:
        p.data[:] = 1
    return p


_ONES = [_np.ones(0, _np.float32)]


def _ones_data(nnz):
    """nnz stored values 1 for a canonical pattern: views of one read-only buffer, grown as needed
    (a fresh array per pattern cost a first touch of its pages each time). Nothing writes the
    values of a canonical pattern: SciPy's sum_duplicates/sort_indices leave it alone, and rules
    that combine patterns make new arrays."""
    if _ONES[0].size < nnz:
        buf = _np.ones(max(nnz, 2 * _ONES[0].size), _np.float32)
        buf.flags.writeable = False
        _ONES[0] = buf
    return _ONES[0][:nnz]


def _canonical(indptr, indices, shape):
    """A pattern around index arrays known to be canonical (each row's columns sorted, each once:
    what _core._pattern_union returns), stored values 1; SciPy is told so and checks nothing."""
    sp = _sp()
    p = sp.csr_array((_ones_data(indices.size), indices, indptr), shape=shape)
    p.has_canonical_format = True
    return p


def _rows(parts, rows, n):
    """The pattern of `rows` rows whose row r is the union of the rows the parts map to r. parts:
    (pattern, map), map an index array of `rows` entries (negative: nothing) or None (row r
    itself). One C++ pass (csrc/transforms/patterns.h): no SciPy additions or row takes."""
    args = [
        (
            p.indptr,
            p.indices,
            p.shape[0],
            None if m is None else _np.asarray(m, _np.int64).ravel(),
            bool(p.has_canonical_format),
        )
        for p, m in parts
    ]
    indptr, indices = _core._pattern_union(args, rows, n)
    return _canonical(indptr, indices, (rows, n))


def _stack(items, n):
    """The patterns (or None: no dependency) of items (pattern, rows) one above the other: the
    index arrays joined with offset indptrs (SciPy's vstack without its checks)."""
    if len(items) == 1 and items[0][0] is not None:
        return items[0][0]
    ptrs, inds, base, canonical = [_np.zeros(1, _np.int64)], [], 0, True
    for p, m in items:
        if p is None:
            ptrs.append(_np.full(m, base, _np.int64))
            continue
        ptrs.append(p.indptr[1:].astype(_np.int64) + base)
        inds.append(p.indices)
        base += p.nnz
        canonical = canonical and bool(p.has_canonical_format)
    indices = _np.concatenate(inds) if inds else _np.zeros(0, _np.int64)
    it = (
        _np.int32
        if base <= _np.iinfo(_np.int32).max and n <= _np.iinfo(_np.int32).max
        else _np.int64
    )
    total = sum(m for _, m in items)
    # shared values only for a canonical result: SciPy sorts the others in place, values included
    data = _ones_data(base) if canonical else _np.ones(base, _np.float32)
    p = _sp().csr_array(
        (data, indices.astype(it, copy=False), _np.concatenate(ptrs).astype(it)), shape=(total, n)
    )
    p.has_canonical_format = canonical
    return p


def _union(ps):
    ps = [p for p in ps if p is not None]
    if not ps:
        return None
    if len(ps) == 1:
        return ps[0]
    return _rows([(p, None) for p in ps], ps[0].shape[0], ps[0].shape[1])


def _take_rows(p, idx, n):
    """Rows idx of p (a negative index: an empty row)."""
    idx = _np.asarray(idx, dtype=_np.int64).ravel()
    size = idx.size
    # all rows in order: p itself (the ends are looked at first, a slice fails there)
    if (
        size == p.shape[0]
        and (not size or (idx[0] == 0 and idx[-1] == size - 1))
        and _np.array_equal(idx, _np.arange(size))
    ):
        return p
    return _rows([(p, idx)], size, n)


def _local(rows, cols, shape):
    """The structural local Jacobian with non-zeros at (rows, cols)."""
    sp = _sp()
    rows = _np.asarray(rows, _np.int64).ravel()
    cols = _np.asarray(cols, _np.int64).ravel()
    return sp.csr_array((_np.ones(rows.size, _np.float32), (rows, cols)), shape=shape)


def _apply_local(local, p):
    return None if p is None else _ones((local @ p).tocsr())


class _Ctx:
    """What a rule sees: the record, its input shapes, dtypes and patterns, and slot values."""

    def __init__(self, n, patterns, shapes, dtypes, values, program, k, rec, tainted):
        self.n = n
        self.tainted = tainted
        self.patterns = patterns
        self.shapes = shapes
        self.dtypes = dtypes
        self._values = values
        self.program = program
        self.k = k
        (
            self.name,
            self.nondiff,
            self.ints,
            self.scalar,
            self.flag,
            self.attr_dtype,
            self.ins,
            self.outs,
            self.out_shapes,
            self.out_dtypes,
        ) = rec

    def pat(self, i):
        s = self.ins[i]
        return None if s < 0 else self.patterns[s]

    def shape(self, i):
        return self.shapes[self.ins[i]]

    def index_varies(self, i):
        """Whether input i (an index array) is computed from x without a guard fixing it: its value
        at the example x says nothing about other x."""
        return self.ins[i] >= 0 and self.tainted[self.ins[i]]

    def value(self, i):
        """The value of input i at the example x (index arrays)."""
        return self._values()[self.ins[i]]


# ---- rules, one per prim family ---------------------------------------------------------------
# Note: a later refactor (the op table of issue 12) will move each rule beside its prim in csrc/ops.
# Each rule takes a _Ctx and returns one pattern (or None) per output.


def _rule_elementwise(c):
    """Per element, with numpy broadcasting (unary, binary, where, clip, cast, copy)."""
    out_shape = tuple(c.out_shapes[0])
    size = _size(out_shape)
    parts = []
    for i in range(len(c.ins)):
        p = c.pat(i)
        if p is None:
            continue
        shp = tuple(c.shape(i))
        if shp == out_shape:
            parts.append((p, None))
        else:  # broadcast: each output element reads the input element it expands
            parts.append((p, _np.broadcast_to(_np.arange(_size(shp)).reshape(shp), out_shape)))
    if not parts:
        return [None]
    if any(m is None and p.shape[0] != size for p, m in parts):
        return [_empty(size, c.n)]
    u = parts[0][0] if len(parts) == 1 and parts[0][1] is None else _rows(parts, size, c.n)
    return [u]


def _rule_movement(c):
    """Data movement (indexing, reshapes, concatenation, gathers, puts): each output element is a
    copy of at most one input element. The prim itself runs on the inputs' element ids (float64,
    exact), with index inputs at their recorded values, so its attrs need no interpretation here."""
    if c.name == "reshape" and len(c.outs) == 1 and c.pat(0) is not None:
        # C order kept: output element k is input element k
        p = c.pat(0)
        if p.shape[0] == _size(c.out_shapes[0]):
            return [p]
    # The ids in float32 where they are exact (below 2^24): half the memory of float64.
    total = sum(_size(c.shape(i)) for i, s in enumerate(c.ins) if s >= 0 and _carries(c.dtypes[s]))
    real, cplx = (_np.float32, _np.complex64) if total < 2**24 else (_np.float64, _np.complex128)
    run_in, items, offset = [], [], 0  # items: (pattern or None, element count)
    for i, s in enumerate(c.ins):
        if s < 0:
            run_in.append(None)
            continue
        shp = c.shape(i)
        if _carries(c.dtypes[s]):
            m = _size(shp)
            ids = _np.arange(offset + 1, offset + m + 1, dtype=real).reshape(shp)
            if not _is_float(c.dtypes[s]):  # complex: the ids as real parts, in the slot's dtype
                ids = ids.astype(cplx)
            run_in.append(Tensor(ids))
            items.append((c.pat(i), m))
            offset += m
        else:
            if c.index_varies(i):
                return _rule_along_axis(c) if c.name == "permute_along" else _rule_conservative(c)
            run_in.append(c.value(i))
    if all(p is None for p, _ in items):
        return [None] * len(c.outs)
    if offset >= 2**53:
        return _rule_conservative(c)
    outs = c.program.run_record(c.k, run_in)
    big = _stack(items, c.n)
    res = []
    for o in outs:
        # the input element each output element copies, as an id over all carrying inputs in order
        # (-1: none, a constant's element or a fill value)
        src = _np.real(_np.asarray(o.asnumpy())).astype(_np.int64).ravel()
        src -= 1
        res.append(_take_rows(big, src, c.n) if src.size else _empty(0, c.n))
    return res


def _reduce_groups(shape, mask):
    """For each element of `shape`, the index of its output when the axes in `mask` are reduced."""
    keep = tuple(1 if (mask >> a) & 1 else d for a, d in enumerate(shape))
    return _np.broadcast_to(_np.arange(_size(keep)).reshape(keep), shape).ravel()


def _rule_reduce(c):
    """Reductions over an axis mask (ints[0]); keepdims does not change element order."""
    p = c.pat(0)
    if p is None:
        return [None]
    shp = c.shape(0)
    groups = _reduce_groups(shp, int(c.ints[0]))
    local = _local(groups, _np.arange(groups.size), (_size(c.out_shapes[0]), groups.size))
    return [_apply_local(local, p)]


def _axis_lines(shape, axis):
    """Element indices of `shape` as an array (lines, length) along `axis`."""
    idx = _np.moveaxis(_np.arange(_size(shape)).reshape(shape), axis, -1)
    return idx.reshape(-1, shape[axis] if len(shape) else 1)


def _rule_along_axis(c):
    """softmax / log_softmax, and sorting (permute_along by an index computed from x): every
    element depends on its whole line along ints[0]."""
    p = c.pat(0)
    if p is None:
        return [None]
    shp = c.shape(0)
    if not len(shp):
        return [p]
    lines = _axis_lines(shp, int(c.ints[0]))
    length = lines.shape[1]
    rows = _np.repeat(lines, length, axis=1)
    cols = _np.tile(lines, (1, length))
    return [_apply_local(_local(rows, cols, (_size(shp), _size(shp))), p)]


def _rule_cumsum(c):
    """cumsum, cumprod: prefix along ints[0]: element k of a line depends on elements 0..k."""
    p = c.pat(0)
    if p is None:
        return [None]
    shp = c.shape(0)
    if not len(shp):
        return [p]
    lines = _axis_lines(shp, int(c.ints[0]))
    length = lines.shape[1]
    ii, jj = _np.tril_indices(length)
    return [_apply_local(_local(lines[:, ii], lines[:, jj], (_size(shp), _size(shp))), p)]


def _rule_matmul(c):
    """numpy matmul: out[..., i, k] depends on row i of a and column k of b (dense in the product:
    zeros inside a constant operand are not looked at)."""
    sa, sb = tuple(c.shape(0)), tuple(c.shape(1))
    pa, pb = c.pat(0), c.pat(1)
    if pa is None and pb is None:
        return [None]
    A = (1,) + sa if len(sa) == 1 else sa
    B = sb + (1,) if len(sb) == 1 else sb
    batch = _np.broadcast_shapes(A[:-2], B[:-2])
    m, kk = A[-2], A[-1]
    q = B[-1]
    full = batch + (m, q, kk)
    out_ids = _np.broadcast_to(
        _np.arange(_size(batch + (m, q))).reshape(batch + (m, q))[..., None], full
    )
    out_size = _size(c.out_shapes[0])
    parts = []
    if pa is not None:
        ai = _np.broadcast_to(_np.arange(_size(sa)).reshape(A), batch + (m, kk))
        cols = _np.broadcast_to(ai[..., :, None, :], full)
        parts.append(_apply_local(_local(out_ids, cols, (out_size, _size(sa))), pa))
    if pb is not None:
        bi = _np.broadcast_to(_np.arange(_size(sb)).reshape(B), batch + (kk, q))
        cols = _np.broadcast_to(_np.swapaxes(bi, -1, -2)[..., None, :, :], full)
        parts.append(_apply_local(_local(out_ids, cols, (out_size, _size(sb))), pb))
    return [_union(parts)]


def _rule_index_add(c):
    """index_add(x, idx, v): x's element stays in place; v's rows are added at the rows idx names
    (idx: shape B + (k,), indexing the first k axes of x; v: shape B + x.shape[k:])."""
    px, pv = c.pat(0), c.pat(2)
    xs, vs = tuple(c.shape(0)), tuple(c.shape(2))
    parts = [px] if px is not None else []
    if pv is not None:
        if c.index_varies(1):
            return _rule_conservative(c)
        idx = _np.asarray(c.value(1).asnumpy(), dtype=_np.int64)
        k = idx.shape[-1]
        rest = _size(xs[k:])
        rows = idx.reshape(-1, k)
        if _size(vs) != rows.shape[0] * rest:
            return _rule_conservative(c)
        dims = _np.asarray(xs[:k], _np.int64)
        flat_row = (
            _np.ravel_multi_index(tuple((rows % dims).T), xs[:k])
            if k
            else _np.zeros(rows.shape[0], _np.int64)
        )
        dest = (flat_row[:, None] * rest + _np.arange(rest)[None, :]).ravel()
        parts.append(_apply_local(_local(dest, _np.arange(dest.size), (_size(xs), _size(vs))), pv))
    return [_union(parts)]


def _rule_segment_sum(c):
    """repeat_transpose (the transpose of repeat): runs of ints[0]-axis positions summed."""
    p = c.pat(0)
    if p is None:
        return [None]
    shp = tuple(c.shape(0))
    axis = int(c.ints[0])
    if c.index_varies(1):
        return _rule_conservative(c)
    counts = _np.asarray(c.value(1).asnumpy(), dtype=_np.int64).ravel()
    seg = _np.repeat(_np.arange(counts.size), counts)
    out_shape = tuple(c.out_shapes[0])
    if seg.size != shp[axis]:
        return _rule_conservative(c)
    coords = list(_np.indices(shp).reshape(len(shp), -1))
    coords[axis] = seg[coords[axis]]
    dest = _np.ravel_multi_index(tuple(coords), out_shape)
    return [_apply_local(_local(dest, _np.arange(dest.size), (_size(out_shape), _size(shp))), p)]


def _rule_nondiff(c):
    """Integer, Bool and piecewise-constant outputs: nothing flows through them."""
    return [None] * len(c.outs)


def _rule_write_basic(c):
    """An in-place write into a constant (setitem into a tensor the function does not own): the
    constant's slot is read afresh by later records, so it takes the union conservatively."""
    s = c.ins[0]
    ps = [c.pat(i) for i in range(len(c.ins)) if c.ins[i] >= 0 and c.pat(i) is not None]
    if ps:
        c.patterns[s] = _conservative_rows(ps, _size(c.shape(0)), c.n, c.name)
    return [None] * len(c.outs)


def _conservative_rows(ps, rows, n, name):
    """`rows` rows, each holding every column any of the patterns `ps` holds."""
    sp = _sp()
    cols = _np.unique(_np.concatenate([p.indices for p in ps]).astype(_np.int64))
    if rows * cols.size > _MAX_CONSERVATIVE_NNZ:
        raise MemoryError(
            f"sparse_jacobian: prim '{name}' has no sparsity rule, and its conservative pattern "
            f"({rows} x {cols.size} entries) is too large; pass pattern= explicitly"
        )
    indptr = _np.arange(rows + 1, dtype=_np.int64) * cols.size
    return sp.csr_array(
        (_np.ones(rows * cols.size, _np.float32), _np.tile(cols, rows), indptr), shape=(rows, n)
    )


def _rule_conservative(c):
    """No rule: every output element depends on everything any input depends on (never misses)."""
    ps = [c.pat(i) for i in range(len(c.ins)) if c.ins[i] >= 0 and c.pat(i) is not None]
    if not ps:
        return [None] * len(c.outs)
    return [
        _conservative_rows(ps, _size(shp), c.n, c.name) if _carries(dt) else None
        for shp, dt in zip(c.out_shapes, c.out_dtypes)
    ]


# The elementwise ops of the op table (csrc/core/elementwise_ops.def): one output element from the
# same element of each input. Read from the table, so a new row is covered without a list here;
# compares and predicates give Bool outputs (nothing flows), the table marks which rows are
# non-differentiable (rule_for sends those with a zero derivative to the nondiff rule).
# Read on the first detection, not at import (building the table's dicts costs milliseconds).
_ELEMENTWISE_ADDED = []

_RULES = {}
for _name in ("where", "clip", "astype", "copy"):
    _RULES[_name] = _rule_elementwise
for _name in (
    "basic_index",
    "basic_put",
    "broadcast_to",
    "reshape",
    "transpose",
    "concatenate",
    "split",
    "flip",
    "repeat",
    "diagonal",
    "diag_embed",
    "index_gather",
    "index_put",
    "permute_along",
):
    _RULES[_name] = _rule_movement
for _name in ("sum", "prod", "amax", "amin", "std", "norm2", "norm_max"):
    _RULES[_name] = _rule_reduce
for _name in ("softmax", "log_softmax"):
    _RULES[_name] = _rule_along_axis
_RULES["cumsum"] = _rule_cumsum
# cumprod is recorded as the prim of "values no differentiation level tracks" (marked
# non-differentiable; under grad it is a composite of multiplies): its outputs still depend on x.
_RULES["cumprod"] = _rule_cumsum
_RULES["matmul"] = _rule_matmul
_RULES["index_add"] = _rule_index_add
_RULES["repeat_transpose"] = _rule_segment_sum
_RULES["write_basic"] = _rule_write_basic
# Linear algebra (solve, inv, det, slogdet, cholesky, svd, svdvals, eigh, eigvalsh, qr) and
# user-defined rules (custom_vjp, custom_jvp) use the conservative rule on purpose: dense within the
# operands.


# Prims marked non-differentiable whose float outputs really have a zero derivative. Any other prim
# marked so (its float outputs may still depend on x, as cumprod's do) needs a rule of its own or is
# treated conservatively.
_ZERO_DERIVATIVE = {
    "sign",
    "floor",
    "ceil",
    "round",
    "bitwise_invert",
    "floor_divide",
    "stop_gradient",
    "uniform",
    "normal",
    "randint",
}


def rule_for(name, nondiff=False):
    """The rule detection uses for the prim `name` (`nondiff`: the prim's table marks it
    non-differentiable), and whether it is the conservative fallback."""
    if not _ELEMENTWISE_ADDED:
        for p in _core._prims():
            if p["kind"] in ("unary", "binary"):
                _RULES.setdefault(p["name"], _rule_elementwise)
        _ELEMENTWISE_ADDED.append(True)
    key = name.lower()
    if nondiff and key in _ZERO_DERIVATIVE:
        return _rule_nondiff, False
    if key == "write_basic":
        return _rule_write_basic, False
    r = _RULES.get(key)
    return (r, False) if r is not None else (_rule_conservative, True)


# ---- detection ----------------------------------------------------------------------------------


def _as_input(x, op):
    if isinstance(x, Tensor):
        t = x
    else:
        try:
            t = Tensor(_np.asarray(x))
        except Exception as e:
            raise TypeError(
                f"{op}: x must be a Tensor or array of floats, got {type(x).__name__}"
            ) from e
    if str(t.dtype) not in ("Float32", "Float64"):
        # (scipy.sparse has no float16: a Float16 x would give a result SciPy cannot read)
        raise TypeError(
            f"{op}: x must be floating point (Float32 or Float64), got {t.dtype} of shape {t.shape}"
        )
    return t


def _check_output(y, op):
    if not isinstance(y, Tensor):
        raise TypeError(f"{op}: the function must return one Tensor, got {type(y).__name__}")
    if str(y.dtype).startswith("Complex"):
        # The compressed sweeps and their decompression are real; take .real / .imag (or abs)
        # inside the function, or tg.jacfwd for the dense complex Jacobian.
        raise TypeError(
            f"{op}: the function must return a real Tensor, got {y.dtype} of shape {tuple(y.shape)}"
            " (return its real and imaginary parts, tg.numpy.real(y) and tg.numpy.imag(y), separately)"
        )
    return y


class _Decisions:
    """The Python-visible decisions (guards: ``bool()``, ``float()``, ``item()`` of a traced value)
    of a detection recording, with their values at the x it was made at. The pattern holds for the
    path those decisions chose; an x that decides differently may take another path with another
    pattern (``x * 2 if x[0] > 0 else x[::-1]``), which the compressed sweep alone would decompress
    with the old pattern: silently wrong entries. `hold(x)` replays the recording's forward on x
    (values only) and compares each decided value."""

    def __init__(self, prog, x):
        self._prog = prog
        self._slots = list(prog.guard_slots)
        # Only the records the decided values depend on are run again (often none: a closed-over
        # index array is a constant of the program), in recording order.
        recs = prog.records()
        need, plan = set(self._slots), []
        for k in range(len(recs) - 1, -1, -1):
            ins, outs = recs[k][6], recs[k][7]
            if any(o in need for o in outs):
                plan.append((k, list(ins), list(outs)))
                need.update(i for i in ins if i >= 0)
        plan.reverse()
        self._plan = plan
        self._constants = {slot: t for slot, t in prog.constants() if slot in need}
        vals = self._values_at(x)
        self._values = [vals[s].asnumpy().copy() for s in self._slots]

    def _values_at(self, x):
        vals = dict(self._constants)
        vals[0] = x
        for k, ins, outs in self._plan:
            res = self._prog.run_record(k, [vals.get(i) if i >= 0 else None for i in ins])
            vals.update(zip(outs, res))
        return vals

    def hold(self, x):
        try:
            vals = self._values_at(x)
        except Exception:  # another path may index out of range, or fail to broadcast: redetect
            return False
        for s, want in zip(self._slots, self._values):
            t = vals.get(s)
            if t is None:
                return False
            got = t.asnumpy()
            nan = got.dtype.kind in "fc"
            if got.shape != want.shape or not _np.array_equal(got, want, equal_nan=nan):
                return False
        return True


def _detect(fn, x, op, decisions=None):
    """The Jacobian pattern of fn at x: CSR (fn(x).size, x.size), sorted, values 1. With a list
    `decisions`, appends the recording's _Decisions when it has any (guards)."""
    sp = _sp()
    shape = tuple(x.shape)
    n = _size(shape)

    def flat(xt):
        return _check_output(fn(xt), op)

    prog = _core._sparse_record(flat, (x,))
    recs = prog.records()
    patterns = [None] * prog.num_slots
    shapes = [None] * prog.num_slots
    dtypes = [None] * prog.num_slots
    it = _np.int32 if n <= _np.iinfo(_np.int32).max else _np.int64
    patterns[0] = _canonical(_np.arange(n + 1, dtype=it), _np.arange(n, dtype=it), (n, n))
    shapes[0], dtypes[0] = shape, x.dtype
    for slot, val in prog.constants():
        shapes[slot], dtypes[slot] = tuple(val.shape), val.dtype
    tainted = [False] * prog.num_slots  # the slot's value depends on x (also through integers)
    tainted[0] = True
    guarded = set(prog.guard_slots)
    cache = []

    def values():
        if not cache:
            cache.append(prog.values([x]))
        return cache[0]

    for k, rec in enumerate(recs):
        name, nondiff, outs, out_shapes, out_dtypes = rec[0], rec[1], rec[7], rec[8], rec[9]
        for s, shp, dt in zip(outs, out_shapes, out_dtypes):
            shapes[s], dtypes[s] = tuple(shp), dt
        ins = rec[6]
        t = any(s >= 0 and tainted[s] for s in ins)
        if not any(s >= 0 and patterns[s] is not None for s in ins) or (
            name != "write_basic" and not any(_carries(d) for d in out_dtypes)
        ):
            res = [None] * len(outs)
        else:
            rule, _ = rule_for(name, nondiff)
            res = rule(_Ctx(n, patterns, shapes, dtypes, values, prog, k, rec, tainted))
        for s, p, dt in zip(outs, res, out_dtypes):
            patterns[s] = p if _carries(dt) else None
            tainted[s] = t and s not in guarded
    if decisions is not None and len(prog.guard_slots):
        decisions.append(_Decisions(prog, x))
    out_slot = prog.outputs[0]
    m = _size(shapes[out_slot])
    p = patterns[out_slot]
    if p is None or not _carries(dtypes[out_slot]):
        p = _empty(m, n)
    p = sp.csr_array(p)
    p.sum_duplicates()
    p.sort_indices()
    return p, shapes[out_slot], dtypes[out_slot]


def prims_seen(fn, x):
    """Names of the prims a recording of fn(x) runs (for tests and diagnostics)."""
    prog = _core._sparse_record(fn, (_as_input(x, "prims_seen"),))
    return [r[0] for r in prog.records()]


def jacobian_pattern(fn, x):
    """The detected Jacobian sparsity pattern of `fn` at `x`: a Bool ``scipy.sparse.csr_array`` of
    shape ``(fn(x).size, x.size)``. It covers every entry that can be non-zero for any input that
    takes the same recorded path (guards fix control flow and index arrays).

    >>> import tapegrad as tg
    >>> p = tg.jacobian_pattern(lambda x: x[1:] * x[:-1], tg.ones(4))
    >>> p.toarray().astype(int)
    array([[1, 1, 0, 0],
           [0, 1, 1, 0],
           [0, 0, 1, 1]])
    """
    p, _, _ = _detect(fn, _as_input(x, "jacobian_pattern"), "jacobian_pattern")
    return _bool(p)


def hessian_pattern(fn, x):
    """The detected Hessian sparsity pattern of a scalar `fn` at `x`: a symmetric Bool
    ``scipy.sparse.csr_array`` of shape ``(x.size, x.size)``, from the Jacobian pattern of a
    recording of ``tg.grad(fn)``.

    >>> import tapegrad as tg
    >>> p = tg.hessian_pattern(lambda x: (x[1:] * x[:-1]).sum(), tg.ones(3))
    >>> p.toarray().astype(int)
    array([[0, 1, 0],
           [1, 0, 1],
           [0, 1, 0]])
    """
    x = _as_input(x, "hessian_pattern")
    return _bool(_hessian_pattern(fn, x, "hessian_pattern"))


def _hessian_pattern(fn, x, op, decisions=None):
    from ._autodiff import grad

    shape = tuple(x.shape)

    def scalar(xt):
        y = _check_output(fn(xt), op)
        if y.size != 1:
            raise ValueError(
                f"{op}: the function must return a scalar (one element), got shape {tuple(y.shape)}"
            )
        return y.reshape(())

    g = grad(scalar)
    p, _, _ = _detect(lambda xt: g(xt).reshape(shape), x, op, decisions)
    p = _ones((p + p.T).tocsr())
    p.sum_duplicates()
    p.sort_indices()
    return p


def _bool(p):
    sp = _sp()
    return sp.csr_array((_np.ones(p.nnz, bool), p.indices.copy(), p.indptr.copy()), shape=p.shape)


def _user_pattern(pattern, shape, op):
    sp = _sp()
    if sp.issparse(pattern):
        # by value, as a dense pattern: stored zeros (explicit, or duplicates summing to 0) are
        # zeros, not dependencies (scipy's jac_sparsity: "a zero entry means ... identically zero")
        p = sp.csr_array(pattern, copy=True)
        p.sum_duplicates()
        p.eliminate_zeros()
    else:
        a = _np.asarray(pattern)
        if a.ndim != 2:
            raise ValueError(
                f"{op}: pattern must be a 2-d array or scipy.sparse matrix of shape {shape}, "
                f"got shape {a.shape}"
            )
        p = sp.csr_array(a != 0)
    if tuple(p.shape) != tuple(shape):
        raise ValueError(
            f"{op}: pattern has shape {tuple(p.shape)}, expected {tuple(shape)} "
            "(output size x input size)"
        )
    p = sp.csr_array((_np.ones(p.nnz, _np.float32), p.indices, p.indptr), shape=p.shape)
    p.sum_duplicates()
    p.eliminate_zeros()
    p.sort_indices()
    return p


# ---- coloring -------------------------------------------------------------------------------------

_ORDERS = ("natural", "largest_first", "smallest_last")


def _check_order(order, op):
    if order is not None and not isinstance(order, str):
        raise TypeError(
            f"{op}: order must be None or one of 'natural', 'largest_first', 'smallest_last', "
            f"'dsatur' (a string), got {type(order).__name__}"
        )


def _row_coloring(p, m, n):
    """A row coloring of the m x n pattern p (CSR): the column coloring of its transpose."""
    pt = p.T.tocsr()
    pt.sort_indices()
    return _best_coloring(
        _core._color_columns, pt.indptr.astype(_np.int64), pt.indices.astype(_np.int64), n, m
    )


def _best_coloring(color_fn, indptr, indices, *args):
    """The fewest colors of the vertex orders, stopping once one reaches the lower bound (the most
    non-zeros in one row). Column colorings try the natural order (optimal on banded patterns, and
    the cheapest), then Dsatur (optimal on stencils, where the static orders need more colors),
    then the other static orders."""
    counts = _np.diff(indptr)
    lower = int(counts.max(initial=0))
    best = None
    if color_fn is _core._color_columns:
        orders = ("natural", "dsatur", "largest_first", "smallest_last")
        # The natural order first where it is likely to reach the bound: a band of half-width w
        # colors greedily with at most 2w + 1 colors, near the bound when w is of the order of a
        # row's non-zeros. A much wider band (a 2-D stencil: the width of a grid row) goes to
        # Dsatur first, which the natural order rarely beats there.
        if len(indices):
            # the half-width from each row's first and last column (rows are sorted): O(rows)
            r = _np.flatnonzero(counts)
            lo = _np.abs(indices[indptr[r]] - r).max()
            hi = _np.abs(indices[indptr[r + 1] - 1] - r).max()
            if 2 * int(max(lo, hi)) + 1 > 4 * max(lower, 1):
                orders = ("dsatur", "natural", "largest_first", "smallest_last")
    else:
        orders = _ORDERS
    for order in orders:
        c = color_fn(indptr, indices, *args, order)
        if best is None or (c.max(initial=-1) < best.max(initial=-1)):
            best = c
        if best.max(initial=-1) + 1 <= max(lower, 1):
            break
    return best


def color_columns(pattern, order=None):
    """Greedy distance-1 coloring of the columns of a sparse pattern (columns sharing a row get
    different colors), as used by forward-mode sparse Jacobians. `order` is ``"natural"``,
    ``"largest_first"``, ``"smallest_last"`` or ``"dsatur"``; None tries them and keeps the fewest
    colors (stopping at the lower bound, the most non-zeros in one row).
    Returns an int32 array of colors 0..k-1, one per column.

    >>> import numpy as np, scipy.sparse as sp, tapegrad as tg
    >>> tg.color_columns(sp.csr_array(np.eye(3) + np.eye(3, k=1)))
    array([0, 1, 0], dtype=int32)
    """
    _check_order(order, "color_columns")
    p = _user_pattern(pattern, _sp().csr_array(pattern).shape, "color_columns")
    args = (p.indptr.astype(_np.int64), p.indices.astype(_np.int64), p.shape[0], p.shape[1])
    if order is None:
        return _best_coloring(_core._color_columns, *args)
    return _core._color_columns(*args, order)


def color_rows(pattern, order=None):
    """Greedy distance-1 coloring of the rows of a sparse pattern (rows sharing a column get
    different colors), as used by reverse-mode sparse Jacobians.

    >>> import numpy as np, scipy.sparse as sp, tapegrad as tg
    >>> tg.color_rows(sp.csr_array(np.eye(3) + np.eye(3, k=1)))
    array([0, 1, 0], dtype=int32)
    """
    _check_order(order, "color_rows")
    return color_columns(_sp().csr_array(pattern).T.tocsr(), order)


def star_color(pattern, order=None):
    """Star coloring of a symmetric sparse pattern: a distance-1 coloring in which every path on
    four vertices uses at least three colors, so that a symmetric matrix with this pattern can be
    recovered directly from its product with the color seed matrix (used by sparse Hessians).

    >>> import numpy as np, scipy.sparse as sp, tapegrad as tg
    >>> arrow = np.eye(5); arrow[0, :] = arrow[:, 0] = 1
    >>> tg.star_color(sp.csr_array(arrow))
    array([0, 1, 1, 1, 1], dtype=int32)
    """
    _check_order(order, "star_color")
    p = _user_pattern(pattern, _sp().csr_array(pattern).shape, "star_color")
    if p.shape[0] != p.shape[1]:
        raise ValueError(f"star_color: the pattern must be square, got shape {p.shape}")
    p = _ones((p + p.T).tocsr())
    p.sort_indices()
    args = (p.indptr.astype(_np.int64), p.indices.astype(_np.int64), p.shape[0])
    if order is None:
        return _best_coloring(_core._star_color, *args)
    return _core._star_color(*args, order)


# ---- compressed evaluation ------------------------------------------------------------------------


def _seed(colors, k, dtype):
    s = _np.zeros((k, colors.size), dtype=dtype)
    s[colors, _np.arange(colors.size)] = 1
    return s


def _np_dtype(dtype):
    return {"Float16": _np.float16, "Float32": _np.float32, "Float64": _np.float64}[str(dtype)]


def _evaluate(obj, x, what, empty, check=True):
    """The compressed sweep of a SparseJacobian/SparseHessian at `x`, decompressed into the CSR
    array of its pattern (Note [Compressed sweeps] in csrc/transforms/compressed.h). The fast path
    is one C++ call (replay of the folded sweep, gather into the value array); it answers None
    where it cannot (another signature, x tracked by a transform or on a GPU), and the general path
    below then runs the jit-compiled sweep."""
    if check and obj._decisions is not None:
        # The detection recording made Python-visible decisions: the pattern is only known for x
        # that decide the same way; another x is detected (and colored) afresh (docs/sparse.md).
        x = _check_signature(obj, x, what)
        if not obj._decisions.hold(x):
            return obj._again(x)
    if empty:
        x = _check_signature(obj, x, what)
        return obj._csr(_np.zeros(0, _np_dtype(obj._dtype)))
    if not isinstance(x, Tensor):
        x = _as_input(x, what)
    data = obj._fast(x)
    if data is None:
        x = _check_signature(obj, x, what)
        data = obj._fast.gather(obj._sweep(x, obj._seeds).asnumpy())
    if data.dtype != obj._np_dtype:
        # A function whose output dtype differs from x's: the forward sweep gives the output's
        # dtype, the reverse one x's. The result is in x's, as dense jacrev/jacfwd give it,
        # whichever mode "auto" took (and never float16, which scipy.sparse cannot hold).
        data = data.astype(obj._np_dtype)
    return obj._csr(data)


def _check_signature(obj, x, what):
    x = _as_input(x, what)
    if tuple(x.shape) != obj._shape or str(x.dtype) != str(obj._dtype):
        raise ValueError(
            f"{what}: x has shape {tuple(x.shape)} and dtype {x.dtype}, but the pattern "
            f"was detected for shape {obj._shape} and dtype {obj._dtype}"
        )
    return x


class _CsrMaker:
    """Builds the result ``csr_array`` around each call's value array without SciPy's constructor
    (its checks cost tens of microseconds a call): the pattern's index arrays are known good,
    sorted and free of duplicates, and every result shares them, read-only (a result's structure
    cannot be changed in place, e.g. by ``eliminate_zeros()``, without ``.copy()`` first: the next
    call would see the change). Falls back to the constructor should SciPy's csr_array ever keep
    its state elsewhere than in these attributes."""

    _KEYS = frozenset({"data", "indices", "indptr", "_shape"})

    def __init__(self, p):
        sp = _sp()
        indices, indptr = p.indices.copy(), p.indptr.copy()
        indices.flags.writeable = False
        indptr.flags.writeable = False
        self._args = (indices, indptr)
        self._shape = p.shape
        t = sp.csr_array((_np.zeros(p.nnz, _np.float32), indices, indptr), shape=p.shape)
        t.has_canonical_format  # noqa: B018 - computed once here, kept as a flag for every result
        state = getattr(t, "__dict__", None)
        # SciPy may keep copies of the index arrays (1.17 does): every result shares those.
        ok = (
            state is not None
            and self._KEYS <= set(state)
            and all(
                isinstance(state[k], _np.ndarray) and _np.array_equal(state[k], v)
                for k, v in (("indices", indices), ("indptr", indptr))
            )
        )
        if ok:
            for k in ("indices", "indptr"):
                state[k].flags.writeable = False
            self._args = (state["indices"], state["indptr"])
        self._state = {k: v for k, v in state.items() if k != "data"} if ok else None
        self._cls = type(t)

    def __call__(self, data):
        if self._state is None:
            return self._cls((data,) + self._args, shape=self._shape)
        a = self._cls.__new__(self._cls)
        d = a.__dict__
        d.update(self._state)
        d["data"] = data
        return a


class SparseJacobian:
    """The sparse Jacobian of `fn`, with the pattern detected and colored once at `x_example`;
    calling it on a new `x` of the same shape and dtype costs only the compressed sweeps (replayed
    by tg.jit). Returns a ``scipy.sparse.csr_array`` of shape ``(fn(x).size, x.size)`` equal to the
    dense ``jacrev(fn)(x)`` reshaped to 2-d.

    `mode`: ``"fwd"`` (one vmapped jvp over the column colors), ``"rev"`` (one vmapped vjp over the
    row colors) or ``"auto"`` (the mode with fewer colors). `pattern`: a known sparsity pattern
    (scipy sparse or dense, shape ``(fn(x).size, x.size)``) instead of detection. Attributes:
    ``pattern`` (Bool csr_array), ``colors``, ``num_colors``, ``mode`` (the mode in use).

    >>> import tapegrad as tg
    >>> f = lambda x: x[1:] ** 2 - x[:-1]
    >>> J = tg.SparseJacobian(f, tg.ones(5))
    >>> J.num_colors, J.pattern.nnz
    (2, 8)
    >>> J(tg.arange(5.0)).toarray()
    array([[-1.,  2.,  0.,  0.,  0.],
           [ 0., -1.,  4.,  0.,  0.],
           [ 0.,  0., -1.,  6.,  0.],
           [ 0.,  0.,  0., -1.,  8.]], dtype=float32)
    """

    def __init__(self, fn, x_example, mode="auto", pattern=None):
        op = "SparseJacobian"
        if not callable(fn):
            raise TypeError(f"{op}: fn must be callable, got {type(fn).__name__}")
        if mode not in ("auto", "fwd", "rev"):
            raise ValueError(f"{op}: mode must be 'auto', 'fwd' or 'rev', got {mode!r}")
        x = _as_input(x_example, op)
        self._fn = fn
        self._shape = tuple(x.shape)
        self._dtype = x.dtype
        self._np_dtype = _np_dtype(x.dtype)
        n = _size(self._shape)
        self._mode_arg = mode
        self._user_pattern = pattern
        self._example = _np.array(x.asnumpy())  # for pickling: detection again at the same x
        decisions = []
        if pattern is None:
            p, out_shape, _ = _detect(fn, x, op, decisions)
        else:
            y = _check_output(fn(x), op)
            out_shape = tuple(y.shape)
            p = _user_pattern(pattern, (_size(out_shape), n), op)
        self._decisions = decisions[0] if decisions else None
        self._out_shape = tuple(out_shape)
        self._p = p
        self.pattern = _bool(p)
        m = p.shape[0]
        rows = _np.repeat(_np.arange(m, dtype=_np.int64), _np.diff(p.indptr))
        cols = p.indices.astype(_np.int64)
        cc = rc = None
        if mode in ("auto", "fwd"):
            cc = _best_coloring(_core._color_columns, p.indptr.astype(_np.int64), cols, m, n)
        # auto: the row coloring is skipped when the column coloring already uses no more colors
        # than the row coloring's lower bound (the most non-zeros in one column): fwd wins anyway.
        if mode == "rev" or (
            mode == "auto"
            and cc.max(initial=-1) + 1 > _np.bincount(cols, minlength=n).max(initial=0)
        ):
            rc = _row_coloring(p, m, n)
        if mode == "auto":
            mode = "fwd" if rc is None or cc.max(initial=-1) <= rc.max(initial=-1) else "rev"
        try:
            self._use(fn, x, p, mode, cc if mode == "fwd" else rc, rows, cols)
        except TypeError:
            # auto: a function with no forward-mode rule (a custom_vjp, tg.checkpoint) has
            # reverse mode, as dense jacrev does.
            if self._mode_arg != "auto" or mode != "fwd" or not p.nnz:
                raise
            if rc is None:
                rc = _row_coloring(p, m, n)
            self._use(fn, x, p, "rev", rc, rows, cols)

    def _use(self, fn, x, p, mode, colors, rows, cols):
        """Seeds, decompression indices and the recorded compressed sweep for `mode`."""
        m, n = p.shape
        self.mode = mode
        self.colors = colors
        self.num_colors = int(self.colors.max(initial=-1)) + 1
        k = max(self.num_colors, 1)
        dt = _np_dtype(self._dtype)
        # B (k, m) in fwd mode: J[i, j] = B[color[j], i]; in rev mode B (k, n): J[i, j] = B[color[i], j].
        # (in place: each temporary of nnz entries costs a first touch of its pages)
        if mode == "fwd":
            take = self.colors.astype(_np.int64)[cols]
            take *= m
            take += rows
        else:
            take = self.colors.astype(_np.int64)[rows]
            take *= n
            take += cols
        self._seeds = Tensor(_seed(self.colors, k, dt))
        sweep = _sweep_fn(fn, self._shape, mode)
        self._sweep = _jit(sweep)
        self._csr = _CsrMaker(p)
        size = k * (m if mode == "fwd" else n)
        self._fast = _core._CompressedSweep(sweep, x, [self._seeds], take, size) if p.nnz else None

    def __call__(self, x):
        return _evaluate(self, x, "SparseJacobian", self._p.nnz == 0)

    def __reduce__(self):
        # The recorded sweep is not picklable; `fn` (a module-level function) and the example
        # rebuild the same pattern, coloring and sweep (a Dask worker, a copy.deepcopy).
        return (SparseJacobian, (self._fn, self._example, self._mode_arg, self._user_pattern))

    def _again(self, x):
        """The Jacobian at an x whose recorded decisions differ: a fresh detection at x."""
        J = SparseJacobian(self._fn, x, mode=self._mode_arg)
        return _evaluate(J, x, "SparseJacobian", J._p.nnz == 0, check=False)

    def __repr__(self):
        return (
            f"SparseJacobian(shape={self.pattern.shape}, nnz={self.pattern.nnz}, mode={self.mode!r}, "
            f"num_colors={self.num_colors})"
        )


def _jit(fn):
    from ._jit import jit

    return jit(fn)


def _sweep_fn(fn, shape, mode):
    """The compressed sweep as a function of (x, seeds): one vmapped jvp over the seeds (J S) or
    one vmapped vjp (S^T J), recorded and replayed by _CompressedSweep (the general path jit-compiles
    it)."""
    from ._autodiff import jvp, vjp
    from ._vmap import vmap

    def flat(xf):
        y = fn(xf.reshape(shape))
        return _check_output(y, "sparse_jacobian").reshape(-1)

    if mode == "fwd":

        def sweep(x, s):
            xf = x.reshape(-1)
            return vmap(lambda t: jvp(flat, (xf,), (t,))[1])(s)
    else:

        def sweep(x, s):
            xf = x.reshape(-1)
            _, back = vjp(flat, xf)
            return vmap(lambda w: back(w)[0])(s)

    return sweep


class SparseHessian:
    """The sparse Hessian of a scalar `fn`, with the pattern detected (from a recording of
    ``grad(fn)``) and star-colored once at `x_example`; calling it on a new `x` costs one vmapped
    forward-over-reverse sweep over the colors. Returns a symmetric ``scipy.sparse.csr_array`` of
    shape ``(x.size, x.size)`` equal to ``tg.hessian(fn)(x)`` reshaped to 2-d.

    >>> import tapegrad as tg
    >>> f = lambda x: (x[0] * x).sum() + (x ** 3).sum()   # an arrow: x[0] meets every x[i]
    >>> H = tg.SparseHessian(f, tg.ones(6))
    >>> H.num_colors
    2
    >>> H(tg.ones(6)).toarray()[:2]
    array([[8., 1., 1., 1., 1., 1.],
           [1., 6., 0., 0., 0., 0.]], dtype=float32)
    """

    def __init__(self, fn, x_example, pattern=None):
        op = "SparseHessian"
        if not callable(fn):
            raise TypeError(f"{op}: fn must be callable, got {type(fn).__name__}")
        x = _as_input(x_example, op)
        self._shape = tuple(x.shape)
        self._dtype = x.dtype
        self._np_dtype = _np_dtype(x.dtype)
        n = _size(self._shape)
        self._fn = fn
        self._user_pattern = pattern
        self._example = _np.array(x.asnumpy())  # for pickling: detection again at the same x
        decisions = []
        if pattern is None:
            p = _hessian_pattern(fn, x, op, decisions)
        else:
            p = _user_pattern(pattern, (n, n), op)
            p = _ones((p + p.T).tocsr())
            p.sort_indices()
        self._decisions = decisions[0] if decisions else None
        self._p = p
        self.pattern = _bool(p)
        ip, ix = p.indptr.astype(_np.int64), p.indices.astype(_np.int64)
        self.colors = _best_coloring(_core._star_color, ip, ix, n)
        self.num_colors = int(self.colors.max(initial=-1)) + 1
        k = max(self.num_colors, 1)
        # B = H S as (k, n): entry (i, c) of H S is B[c, i]
        pos = _core._star_recovery(ip, ix, n, self.colors, k) if p.nnz else _np.zeros(0, _np.int64)
        row, col = pos // k, pos % k
        take = col * n + row
        self._seeds = Tensor(_seed(self.colors, k, _np_dtype(self._dtype)))
        sweep = _hessian_sweep_fn(fn, self._shape)
        self._sweep = _jit(sweep)
        self._csr = _CsrMaker(p)
        self._fast = _core._CompressedSweep(sweep, x, [self._seeds], take, k * n) if p.nnz else None

    def __call__(self, x):
        return _evaluate(self, x, "SparseHessian", self._p.nnz == 0)

    def __reduce__(self):
        return (SparseHessian, (self._fn, self._example, self._user_pattern))

    def _again(self, x):
        """The Hessian at an x whose recorded decisions differ: a fresh detection at x."""
        H = SparseHessian(self._fn, x)
        return _evaluate(H, x, "SparseHessian", H._p.nnz == 0, check=False)

    def __repr__(self):
        return f"SparseHessian(shape={self.pattern.shape}, nnz={self.pattern.nnz}, num_colors={self.num_colors})"


def _hessian_sweep_fn(fn, shape):
    """One vmapped jvp of the gradient over the seeds (H S), as a function of (x, seeds)."""
    from ._autodiff import grad, jvp
    from ._vmap import vmap

    def scalar(xf):
        y = _check_output(fn(xf.reshape(shape)), "sparse_hessian")
        if y.size != 1:
            raise ValueError(
                f"sparse_hessian: the function must return a scalar, got shape {tuple(y.shape)}"
            )
        return y.reshape(())

    g = grad(scalar)

    def sweep(x, s):
        xf = x.reshape(-1)
        return vmap(lambda t: jvp(g, (xf,), (t,))[1])(s)

    return sweep


def sparse_jacobian(fn, x, mode="auto", pattern=None):
    """The Jacobian of `fn` at `x` as a ``scipy.sparse.csr_array`` of shape ``(fn(x).size, x.size)``
    (both flattened in C order), equal to the dense ``tg.jacrev(fn)(x)`` reshaped to 2-d. The pattern
    is detected from a recording of `fn` (or given as `pattern`), colored, and the values come from
    one compressed sweep: ``mode="fwd"`` (jvp over column colors), ``"rev"`` (vjp over row colors) or
    ``"auto"`` (fewer colors). Use `SparseJacobian` to reuse the pattern across calls. Needs SciPy.

    >>> import tapegrad as tg
    >>> J = tg.sparse_jacobian(lambda x: tg.sin(x) * 2, tg.zeros(3))
    >>> J.toarray()
    array([[2., 0., 0.],
           [0., 2., 0.],
           [0., 0., 2.]], dtype=float32)
    >>> J.nnz
    3
    """
    return SparseJacobian(fn, x, mode=mode, pattern=pattern)(x)


def sparse_hessian(fn, x, pattern=None):
    """The Hessian of the scalar `fn` at `x` as a symmetric ``scipy.sparse.csr_array`` of shape
    ``(x.size, x.size)``, equal to ``tg.hessian(fn)(x)`` reshaped to 2-d: pattern detected from a
    recording of ``grad(fn)`` (or given), star-colored, one compressed forward-over-reverse sweep.
    Needs SciPy.

    >>> import tapegrad as tg
    >>> H = tg.sparse_hessian(lambda x: (x[1:] * x[:-1]).sum(), tg.ones(3))
    >>> H.toarray()
    array([[0., 1., 0.],
           [1., 0., 1.],
           [0., 1., 0.]], dtype=float32)
    """
    return SparseHessian(fn, x, pattern=pattern)(x)
