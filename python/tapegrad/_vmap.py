"""vmap and the Jacobian transforms built on it (JAX semantics). Batching runs in C++: each op
runs once on the batched value through its batching rule."""
from __future__ import annotations

import functools
import numbers

import numpy as _np

from . import _core
from ._core import Tensor
from ._tree import flatten as _flatten
from ._tree import unflatten as _unflatten

__all__ = ["vmap", "jacrev", "jacfwd", "hessian"]


def _is_leaf(x):
    return isinstance(x, Tensor) or x is None or isinstance(x, (numbers.Number, _np.ndarray, _np.generic))


def _axes_for(axes, tree, what):
    """Broadcast an in_axes/out_axes spec (int, None, or a tree prefix) over the leaves of `tree`."""
    leaves, td = _flatten(tree, _is_leaf)
    if axes is None or isinstance(axes, int):
        return [axes] * len(leaves)
    if isinstance(axes, (tuple, list)) and isinstance(tree, (tuple, list)) and len(axes) == len(tree):
        out = []
        for a, t in zip(axes, tree):
            out.extend(_axes_for(a, t, what))
        return out
    if isinstance(axes, dict) and isinstance(tree, dict):
        out = []
        for k in sorted(tree.keys(), key=repr):
            out.extend(_axes_for(axes.get(k, 0), tree[k], what))
        return out
    raise ValueError(f"{what}: axes specification {axes!r} does not match the structure of the arguments")


def vmap(fn, in_axes=0, out_axes=0):
    """`fn` mapped over a batch axis of its inputs (batching rules in C++, no Python loop).

    >>> import tapegrad as tg
    >>> tg.vmap(lambda x: (x * x).sum())(tg.tensor([[1.0, 2.0], [3.0, 4.0]]))
    Tensor(shape=[2], dtype=Float32, value= [ 5.00000000e+00,  2.50000000e+01])
    """
    if not callable(fn):
        raise TypeError(f"vmap: fn must be callable, got {type(fn).__name__}")

    @functools.wraps(fn)
    def mapped(*args):
        ia = in_axes
        if isinstance(ia, list):
            ia = tuple(ia)
        if isinstance(ia, tuple) and len(ia) != len(args):
            raise ValueError(f"vmap: in_axes has {len(ia)} entries but the function got {len(args)} arguments")
        axes = _axes_for(ia if isinstance(ia, tuple) else ia, args if isinstance(ia, tuple) else args, "vmap")
        leaves, td = _flatten(args, _is_leaf)
        size = None
        norm = []
        for x, ax in zip(leaves, axes):
            if ax is None:
                norm.append((x, None))
                continue
            if not isinstance(x, Tensor):
                if isinstance(x, (numbers.Number, _np.ndarray, _np.generic)):
                    x = Tensor(x)
                else:
                    raise TypeError(f"vmap: cannot map over an argument of type {type(x).__name__}")
            if x.ndim == 0:
                raise ValueError("vmap: cannot map over axis of a 0-d tensor (use in_axes=None for it)")
            a = ax + x.ndim if ax < 0 else ax
            if not 0 <= a < x.ndim:
                raise ValueError(f"vmap: in_axes {ax} is out of range for an argument of shape {tuple(x.shape)}")
            n = x.shape[a]
            if size is None:
                size = n
            elif n != size:
                raise ValueError(f"vmap: mapped axes have different sizes: {size} and {n}")
            norm.append((x, a))
        if size is None:
            raise ValueError("vmap: at least one argument must be mapped (in_axes all None)")
        level = _core.BatchLevel(size)
        level.push()
        try:
            new_leaves = [level.track(x, a) if a is not None else x for x, a in norm]
            out = fn(*_unflatten(td, new_leaves))
        finally:
            level.pop()
        ol, od = _flatten(out, _is_leaf)
        oa = _axes_for(out_axes, out, "vmap") if not isinstance(out_axes, int) else [out_axes] * len(ol)
        res = []
        for o, a in zip(ol, oa):
            if not isinstance(o, Tensor):
                o = Tensor(o)
            if a is None:
                res.append(o)
                continue
            nd = o.ndim + 1
            res.append(level.unwrap(o, a + nd if a < 0 else a))
        return _unflatten(od, res)

    return mapped


def _positions(grad_position, nargs, what):
    from ._autodiff import _normalise_positions

    return _normalise_positions(grad_position, nargs, what)


def _basis(n, like):
    """The identity as n basis vectors of `like`'s shape: shape (n, *like.shape)."""
    from . import eye, reshape

    return reshape(eye(n, dtype=like.dtype), (n,) + tuple(like.shape))


def jacrev(fn, grad_position=0, has_aux=False):
    """Jacobian by reverse mode: one vmapped VJP sweep over the identity. Shape out.shape + in.shape."""
    from ._autodiff import vjp

    @functools.wraps(fn)
    def jac(*args):
        positions = _positions(grad_position, len(args), "jacrev")
        single = isinstance(grad_position, int)

        def f_pos(*xs):
            full = list(args)
            for p, x in zip(positions, xs):
                full[p] = x
            return fn(*full)

        xs = [args[p] if isinstance(args[p], Tensor) else Tensor(args[p]) for p in positions]
        res = vjp(f_pos, *xs, has_aux=has_aux)
        out, back = res[0], res[1]
        ol, od = _flatten(out, _is_leaf)
        if len(ol) != 1:
            raise TypeError("jacrev: the function must return a single Tensor")
        y = ol[0]
        n = max(y.size, 0)
        from . import reshape

        if n == 0:
            from . import zeros

            jacs = tuple(zeros(tuple(y.shape) + tuple(x.shape), x.dtype) for x in xs)
        else:
            cts = vmap(back)(_basis(n, y))
            jacs = tuple(reshape(c, tuple(y.shape) + tuple(x.shape)) for c, x in zip(cts, xs))
        j = jacs[0] if single else jacs
        return (j, res[2]) if has_aux else j

    return jac


def jacfwd(fn, grad_position=0, has_aux=False):
    """Jacobian by forward mode: one vmapped JVP over the identity. Shape out.shape + in.shape."""
    from ._autodiff import jvp

    @functools.wraps(fn)
    def jac(*args):
        positions = _positions(grad_position, len(args), "jacfwd")
        single = isinstance(grad_position, int)
        xs = [args[p] if isinstance(args[p], Tensor) else Tensor(args[p]) for p in positions]
        from . import reshape, zeros

        sizes = [x.size for x in xs]
        n = sum(sizes)

        def f_pos(*ys):
            full = list(args)
            for p, x in zip(positions, ys):
                full[p] = x
            return fn(*full)

        aux_box = []

        def push(t):
            # t: (n,) slice of the stacked basis -> one tangent per input
            tans, k = [], 0
            for x, s in zip(xs, sizes):
                tans.append(reshape(t[k : k + s], tuple(x.shape)).astype(x.dtype))
                k += s
            r = jvp(f_pos, tuple(xs), tuple(tans), has_aux=has_aux)
            if has_aux:
                aux_box.append(r[2])
            return r[1]

        from . import eye

        out_t = vmap(push)(eye(n, dtype=xs[0].dtype)) if n else None
        if has_aux and not aux_box:
            aux_box.append(jvp(f_pos, tuple(xs), tuple(zeros(tuple(x.shape), x.dtype) for x in xs), has_aux=True)[2])
        if out_t is None:
            y = f_pos(*xs)
            y = y[0] if has_aux else y
            jacs = tuple(zeros(tuple(y.shape) + tuple(x.shape), x.dtype) for x in xs)
        else:
            if not isinstance(out_t, Tensor):
                raise TypeError("jacfwd: the function must return a single Tensor")
            # out_t: (n, *out.shape) -> (*out.shape, n), split per input
            nd = out_t.ndim
            moved = out_t.transpose(tuple(range(1, nd)) + (0,))
            jacs, k = [], 0
            for x, s in zip(xs, sizes):
                part = moved[(Ellipsis, slice(k, k + s))]
                jacs.append(reshape(part, tuple(moved.shape[:-1]) + tuple(x.shape)))
                k += s
            jacs = tuple(jacs)
        j = jacs[0] if single else jacs
        return (j, aux_box[0]) if has_aux else j

    return jac


def hessian(fn, grad_position=0):
    """jacfwd(jacrev(fn))."""
    return jacfwd(jacrev(fn, grad_position), grad_position)
