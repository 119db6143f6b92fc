"""vmap and the Jacobian transforms built on it (JAX semantics). Batching runs in C++: each op
runs once on the batched value through its batching rule."""

from __future__ import annotations

import functools
import numbers

import numpy as _np

from . import _args, _core, _mode
from ._autodiff import _c_rest, _SelfRef
from ._core import Tensor
from ._mode import GRAPH as _GRAPH
from ._tree import flatten as _flatten
from ._tree import unflatten as _unflatten

__all__ = ["hessian", "jacfwd", "jacrev", "vmap"]


# Plain arguments (numpy arrays and scalars, Python scalars, lists of numbers): see _args.py.
_is_leaf = _args.is_leaf


def _axes_for(axes, tree, what, kind="arguments"):
    """Broadcast an in_axes/out_axes spec (int, None, or a tree prefix) over the leaves of `tree`."""
    leaves, _ = _flatten(tree, _is_leaf)
    if isinstance(axes, (bool, _np.bool_)):
        raise TypeError(f"{what}: an axis must be an int or None, got {axes!r}")
    if isinstance(axes, _np.integer):
        axes = int(axes)
    if axes is None or isinstance(axes, int):
        return [axes] * len(leaves)
    if (
        isinstance(axes, (tuple, list))
        and isinstance(tree, (tuple, list))
        and len(axes) == len(tree)
    ):
        out = []
        for a, t in zip(axes, tree):
            out.extend(_axes_for(a, t, what, kind))
        return out
    if isinstance(axes, dict) and isinstance(tree, dict):
        # The keys must match exactly (JAX): a key missing from the spec used to map that entry
        # on axis 0 silently, and a misspelt key was ignored.
        if set(axes) != set(tree):
            raise ValueError(
                f"{what}: axes specification has keys {sorted(axes, key=repr)!r} but the {kind} "
                f"have keys {sorted(tree, key=repr)!r}"[:300]
            )
        out = []
        for k in sorted(tree.keys(), key=repr):
            out.extend(_axes_for(axes[k], tree[k], what, kind))
        return out
    raise ValueError(
        f"{what}: axes specification {axes!r} does not match the structure of the {kind}"
    )


def _check_axes_spec(spec, name, depth=0):
    """in_axes/out_axes: ints (not bools), None, or tuples/lists/dicts of them."""
    if spec is None or (
        isinstance(spec, (int, _np.integer)) and not isinstance(spec, (bool, _np.bool_))
    ):
        return
    if isinstance(spec, (tuple, list)) and depth < 64:
        for s in spec:
            _check_axes_spec(s, name, depth + 1)
        return
    if isinstance(spec, dict) and depth < 64:
        for s in spec.values():
            _check_axes_spec(s, name, depth + 1)
        return
    raise TypeError(
        f"vmap: {name} must be an int, None, or a tuple/list/dict of them, got {spec!r}"[:300]
    )


def _outer_tensors(fn):
    """(name, tensor, its value) for the tensors `fn` reaches by name from outside (closure cells,
    globals it names, defaults): vmap checks afterwards that none was rebound to a mapped value."""
    f = getattr(fn, "__func__", fn)
    code = getattr(f, "__code__", None)
    if code is None:
        return ()
    found = []
    for name, cell in zip(code.co_freevars, getattr(f, "__closure__", None) or ()):
        try:
            v = cell.cell_contents
        except ValueError:
            continue
        if isinstance(v, Tensor):
            found.append((name, v, _core.strip(v)))
    g = getattr(f, "__globals__", None) or {}
    for name in code.co_names:
        v = g.get(name)
        if isinstance(v, Tensor):
            found.append((name, v, _core.strip(v)))
    for v in getattr(f, "__defaults__", None) or ():
        if isinstance(v, Tensor):
            found.append(("<default>", v, _core.strip(v)))
    return found


def _restore_outer(outer, level):
    bad = []
    for name, t, before in outer:
        if not _core._same_value(t, before) and level.wraps(t):
            _core._swap_value(t, before)  # t names its value from before the call again
            bad.append(name)
    if bad:
        raise ValueError(
            f"vmap: the function wrote a mapped (batched) value into {', '.join(repr(b) for b in bad)}, a tensor "
            "that vmap does not map and that outlives the call; it would be left with no single value. The write "
            "was undone: build a new tensor and return it instead (or pass the tensor as a mapped argument)"
        )


def vmap(fn, in_axes=0, out_axes=0):
    """`fn` mapped over a batch axis of its inputs (batching rules in C++, no Python loop).

    >>> import tapegrad as tg
    >>> tg.vmap(lambda x: (x * x).sum())(tg.tensor([[1.0, 2.0], [3.0, 4.0]]))
    Tensor(shape=[2], dtype=Float32, value= [ 5.00000000e+00,  2.50000000e+01])
    """
    if not callable(fn):
        raise TypeError(f"vmap: fn must be callable, got {type(fn).__name__}")
    for name, spec in (("in_axes", in_axes), ("out_axes", out_axes)):
        _check_axes_spec(spec, name)

    @functools.wraps(fn)
    def mapped(*args, **kwargs):
        if _GRAPH[0] and _mode.graph_mode_active():
            return _mode.run_graph(me(), me(), args, kwargs)
        ia = in_axes
        if isinstance(ia, list):
            ia = tuple(ia)
        if isinstance(ia, tuple) and len(ia) != len(args):
            raise ValueError(
                f"vmap: in_axes has {len(ia)} entries but the function got {len(args)} arguments"
            )
        axes = _axes_for(ia, args, "vmap")
        # Keyword arguments are mapped over their leading axis, as JAX does (in_axes covers only
        # the positional ones).
        axes += _axes_for(0, kwargs, "vmap")
        leaves, td = _flatten((args, kwargs), _is_leaf)
        size = None
        norm = []
        for x, ax in zip(leaves, axes):
            if ax is None:
                norm.append((x, None))
                continue
            if not isinstance(x, Tensor):
                if isinstance(
                    x, (numbers.Number, _np.ndarray, _np.generic)
                ) or _args.is_number_list(x):
                    x = Tensor(x)
                else:
                    raise TypeError(f"vmap: cannot map over an argument of type {type(x).__name__}")
            if x.ndim == 0:
                raise ValueError(
                    "vmap: cannot map over axis of a 0-d tensor (use in_axes=None for it)"
                )
            a = ax + x.ndim if ax < 0 else ax
            if not 0 <= a < x.ndim:
                raise ValueError(
                    f"vmap: in_axes {ax} is out of range for an argument of shape {tuple(x.shape)}"
                )
            n = x.shape[a]
            if size is None:
                size = n
            elif n != size:
                raise ValueError(f"vmap: mapped axes have different sizes: {size} and {n}")
            norm.append((x, a))
        if size is None:
            raise ValueError("vmap: at least one argument must be mapped (in_axes all None)")
        level = _core.BatchLevel(size)
        outer = _outer_tensors(fn)
        level.push()
        try:
            new_leaves = [level.track(x, a) if a is not None else x for x, a in norm]
            a_, kw_ = _unflatten(td, new_leaves)
            out = fn(*a_, **kw_)
        finally:
            level.pop()
            if outer:
                _restore_outer(outer, level)
        ol, od = _flatten(out, _is_leaf)
        oa = (
            _axes_for(out_axes, out, "vmap", "outputs (out_axes)")
            if type(out_axes) is not int
            else [out_axes] * len(ol)
        )
        res = []
        for o, a in zip(ol, oa):
            if o is None:  # None is an empty output (JAX): it comes back as None
                res.append(None)
                continue
            if not isinstance(o, Tensor):
                try:
                    o = Tensor(o)
                except (TypeError, ValueError) as e:
                    raise TypeError(
                        f"vmap: the function must return tensors, numbers or tuples/lists/dicts of "
                        f"them; it returned a {type(o).__name__} ({e})"[:300]
                    ) from None
            if a is None:
                if level.wraps(o):
                    raise ValueError(
                        "vmap: out_axes is None for an output that depends on the mapped inputs (it has "
                        "one value per batch element); give it an axis"
                    )
                res.append(o)
                continue
            nd = o.ndim + 1
            if not -nd <= a < nd:  # checked here so that the message shows the axis as given
                raise IndexError(
                    f"vmap: out_axes {a} is out of range for an output of {o.ndim} dimensions "
                    f"(the mapped result has {nd}: axes {-nd}..{nd - 1})"
                )
            res.append(level.unwrap(o, a + nd if a < 0 else a))
        return _unflatten(od, res)

    me = _SelfRef(mapped)  # Note [Self-reference by weakref] in _autodiff.py
    return mapped


def _positions(grad_position, nargs, what):
    from ._autodiff import _normalise_positions

    return _normalise_positions(grad_position, nargs, what)


def _flatten_out(tree):
    return _flatten(tree, _is_leaf)


def _jacobian(fn, grad_position, has_aux, forward, what, holomorphic=False):
    """jacrev/jacfwd: one traced call of `fn` and one batched sweep, in C++ (Note [Jacobians] in
    csrc/transforms/jacobian.h). Python only flattens pytree arguments and rebuilds the result."""
    if not callable(fn):
        raise TypeError(f"{what}: fn must be callable, got {type(fn).__name__}")
    if isinstance(grad_position, _np.integer):
        grad_position = int(grad_position)
    single = isinstance(grad_position, int) and not isinstance(grad_position, bool)
    fixed = (grad_position,) if single and grad_position >= 0 else None
    jacobian = _core._jacobian

    @functools.wraps(fn)
    def jac(*args, **kwargs):
        if _GRAPH[0] and _mode.graph_mode_active():
            return _mode.run_graph(me(), me(), args, kwargs)
        # The common case first: one Tensor (or one plain array, converted) at a fixed position.
        if fixed is not None and not kwargs and len(args) > grad_position:
            if args[grad_position].__class__ is not Tensor:
                args = _args.convert_positions(args, fixed)
            if isinstance(args[grad_position], Tensor):
                rows, out_def, aux = jacobian(
                    fn, args, fixed, forward, has_aux, what, _flatten_out, holomorphic
                )
                j = rows[0][0] if out_def is None else _unflatten(out_def, [row[0] for row in rows])
                return (j, aux) if has_aux else j
        f = functools.partial(fn, **kwargs) if kwargs else fn
        positions = _positions(grad_position, len(args), what)
        args = _args.convert_positions(args, positions)
        if all(isinstance(args[p], Tensor) for p in positions) and len(set(positions)) == len(
            positions
        ):
            rows, out_def, aux = jacobian(
                f, args, positions, forward, has_aux, what, _flatten_out, holomorphic
            )
        else:
            rows, out_def, aux = _jacobian_tree(
                f, args, positions, forward, has_aux, what, holomorphic
            )
        per_out = [row[0] if single else tuple(row) for row in rows]
        j = per_out[0] if out_def is None else _unflatten(out_def, per_out)
        return (j, aux) if has_aux else j

    me = _SelfRef(jac)  # Note [Self-reference by weakref] in _autodiff.py
    # the C object below covers holomorphic=False and positions that fit a C int
    if fixed is None or holomorphic or grad_position >= 2**31:
        return jac

    # Note [Gradient functions in C] (csrc/bindings/autodiff.cpp): the common case above runs in
    # C; a pytree output comes back to _c_rest as [rows, out_def, aux] to be rebuilt.
    flags = _core._JACOBIAN | (_core._JAC_FORWARD if forward else 0)
    flags |= _core._JAC_HAS_AUX if has_aux else 0
    return _core._grad_fn(fn, grad_position, flags, jac, _c_rest, _GRAPH, what, _flatten_out)


def _jacobian_tree(fn, args, positions, forward, has_aux, what, holomorphic=False):
    """The general case: arguments at `positions` may be scalars, arrays, or tuples/lists/dicts of
    them, and a position may repeat. Each row of the result holds one entry per position."""
    from ._autodiff import _to_tensor_arg

    uniq = tuple(dict.fromkeys(positions))
    leaves, defs = [], []
    for p in uniq:
        ls, td = _flatten(args[p], _is_leaf)
        defs.append((td, len(leaves), len(ls)))
        leaves.extend(_to_tensor_arg(x, what) for x in ls)

    def flat_fn(*ls):
        full = list(args)
        for p, (td, k, n) in zip(uniq, defs):
            full[p] = _unflatten(td, ls[k : k + n])
        return fn(*full)

    rows, out_def, aux = _core._jacobian(
        flat_fn,
        tuple(leaves),
        tuple(range(len(leaves))),
        forward,
        has_aux,
        what,
        _flatten_out,
        holomorphic,
    )
    regrouped = []
    for row in rows:
        per = []
        for p in positions:
            td, k, n = defs[uniq.index(p)]
            per.append(_unflatten(td, row[k : k + n]))
        regrouped.append(tuple(per))
    return regrouped, out_def, aux


def jacrev(fn, grad_position=0, has_aux=False, holomorphic=False):
    """Jacobian of `fn` by reverse mode: one traced call and one VJP sweep over the rows of the
    identity, batched (not one sweep per row). Each output leaf gets ``out.shape + in.shape``;
    with a tuple ``grad_position``, a tuple over the positions; pytree arguments and outputs give
    the same structure (output tree of input trees). ``has_aux``: ``(jacobian, aux)``.

    Complex values, as ``jax.jacrev``: the outputs must be real (each row is then the gradient of
    an output, ``d/dx - i d/dy`` for a complex input), unless ``holomorphic=True``, which needs
    complex inputs and outputs and gives the complex derivative ``df_i/dz_j``.

    >>> import tapegrad as tg
    >>> print(tg.jacrev(lambda x: x * x)(tg.tensor([1.0, 2.0])))
    [[2. 0.]
     [0. 4.]]
    """
    return _jacobian(fn, grad_position, has_aux, False, "jacrev", _bool_arg(holomorphic, "jacrev"))


def jacfwd(fn, grad_position=0, has_aux=False, holomorphic=False):
    """Jacobian of `fn` by forward mode: one call with the columns of the identity as a batch of
    tangents. Same result and structure as :func:`jacrev`; cheaper when inputs are fewer than
    outputs.

    Complex values, as ``jax.jacfwd``: the inputs must be real (complex outputs give a complex
    Jacobian), unless ``holomorphic=True``, which needs complex inputs and outputs.

    >>> import tapegrad as tg
    >>> print(tg.jacfwd(lambda x: tg.sin(x) * 2)(tg.tensor([0.0, 0.0])))
    [[2. 0.]
     [0. 2.]]
    """
    return _jacobian(fn, grad_position, has_aux, True, "jacfwd", _bool_arg(holomorphic, "jacfwd"))


def hessian(fn, grad_position=0, has_aux=False, holomorphic=False):
    """Hessian of a scalar function: ``jacfwd(jacrev(fn))`` (forward over reverse); with
    ``holomorphic=True`` (complex inputs and output), the complex second derivative, as JAX's.

    >>> import tapegrad as tg
    >>> print(tg.hessian(lambda x: (x ** 3).sum())(tg.tensor([1.0, 2.0])))
    [[ 6.  0.]
     [ 0. 12.]]
    """
    return jacfwd(
        jacrev(fn, grad_position, has_aux, holomorphic), grad_position, has_aux, holomorphic
    )


def _bool_arg(v, what):
    if not isinstance(v, (bool, _np.bool_)):
        raise TypeError(f"{what}: holomorphic must be a bool, got {v!r}")
    return bool(v)
