"""User-defined reverse rules: JAX's custom_vjp and MindSpore's Cell.bprop (custom_jvp: _custom_jvp)."""

from __future__ import annotations

import functools
import inspect

from . import _core
from ._core import Tensor
from ._tree import flatten, unflatten

__all__ = ["custom_vjp"]


def _is_leaf(x):
    return isinstance(x, Tensor) or not isinstance(x, (tuple, list, dict))


class custom_vjp:
    """A function with a user-defined reverse rule, honoured by every transform (JAX's
    custom_vjp). Decorate the function, then give the rule with `defvjp(fwd, bwd)`.

    >>> @tg.custom_vjp
    ... def clip_gradient(x):
    ...     return x
    >>> def fwd(x):
    ...     return x, ()
    >>> def bwd(residuals, g):
    ...     return (tg.clip(g, -1.0, 1.0),)
    >>> _ = clip_gradient.defvjp(fwd, bwd)
    >>> tg.grad(lambda x: (5.0 * clip_gradient(x)).sum())(tg.tensor([1.0, 2.0]))
    Tensor(shape=[2], dtype=Float32, value= [ 1.00000000e+00,  1.00000000e+00])
    """

    def __init__(self, fun):
        if not callable(fun):
            raise TypeError(f"custom_vjp: expected a function, got {type(fun).__name__}")
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.fwd = None
        self.bwd = None
        # Keyword arguments are bound to their positions (JAX's resolve_kwargs), so fwd and bwd
        # always see every argument positionally, one cotangent each.
        try:
            self._signature = inspect.signature(fun)
        except (TypeError, ValueError):
            self._signature = None

    def defvjp(self, fwd, bwd):
        """`fwd(*args) -> (out, residuals)`; `bwd(residuals, g) -> tuple of input cotangents`
        (one per argument). Returns the function itself.

        >>> @tg.custom_vjp
        ... def f(x):
        ...     return tg.sin(x)
        >>> f = f.defvjp(lambda x: (tg.sin(x), (x,)), lambda res, g: (2 * g,))
        >>> tg.grad(f)(tg.tensor(1.0))  # the rule says 2, whatever cos(1) is
        Tensor(shape=[], dtype=Float32, value= 2)
        """
        for what, rule in (("fwd", fwd), ("bwd", bwd)):
            if not callable(rule):
                raise TypeError(
                    f"custom_vjp.defvjp: {what} must be callable, got {type(rule).__name__}"
                )
        self.fwd = fwd
        self.bwd = bwd
        return self

    def _resolve_kwargs(self, args, kwargs):
        name = getattr(self.fun, "__name__", "")
        if self._signature is None:
            raise TypeError(
                f"custom_vjp {name}: keyword arguments need a function with a signature"
            )
        try:
            ba = self._signature.bind(*args, **kwargs)
        except TypeError as e:
            raise TypeError(f"custom_vjp {name}: {e}") from None
        given = set(ba.arguments)
        ba.apply_defaults()
        if ba.kwargs:
            raise TypeError(
                f"custom_vjp {name}: keyword-only arguments are not supported "
                f"({sorted(ba.kwargs)}); pass them positionally"
            )
        # As if passed positionally: defaults fill only the gaps before the last argument given,
        # so f(x, y=t) is f(x, t) and its rules see (and return cotangents for) those arguments.
        params = self._signature.parameters
        if any(params[n].kind == inspect.Parameter.VAR_POSITIONAL for n in given):
            return tuple(ba.args)
        names = list(ba.arguments)  # in the signature's order
        last = max(i for i, n in enumerate(names) if n in given)
        return tuple(ba.args)[: last + 1]

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return functools.partial(self.__call__, obj)

    def __call__(self, *args, **kwargs):
        if self.fwd is None:
            raise TypeError(
                f"custom_vjp {getattr(self.fun, '__name__', '')}: call defvjp(fwd, bwd) first"
            )
        if kwargs:
            args = self._resolve_kwargs(args, kwargs)
        leaves, in_def = flatten(args, _is_leaf)
        idx = [i for i, x in enumerate(leaves) if isinstance(x, Tensor)]
        tensors = [leaves[i] for i in idx]
        if not _core._any_tracked(tensors):
            return self.fun(*args)
        out_def = []

        def fwd_flat(*ts):
            ls = list(leaves)
            for i, t in zip(idx, ts):
                ls[i] = t
            r = self.fwd(*unflatten(in_def, ls))
            if not isinstance(r, tuple) or len(r) != 2:
                raise TypeError(
                    f"custom_vjp {getattr(self.fun, '__name__', '')}: the forward rule must return a pair "
                    f"(output, residuals), got {type(r).__name__}"
                )
            out, res = r
            ol, od = flatten(out, _is_leaf)
            out_def.append(od)
            return [o if isinstance(o, Tensor) else Tensor(o) for o in ol], res

        def bwd_flat(res, gs):
            g = unflatten(out_def[0], list(gs))
            cts = self.bwd(res, g)
            if not isinstance(cts, tuple):
                raise TypeError(
                    "custom_vjp: the backward rule must return a tuple with one entry per argument"
                )
            cl, _ = flatten(cts, _is_leaf)
            if len(cl) != len(leaves):
                raise ValueError(
                    f"custom_vjp: the backward rule returned {len(cl)} cotangent(s) for {len(leaves)} input(s)"
                )
            return [cl[i] for i in idx]

        outs = _core._custom_vjp_apply(fwd_flat, bwd_flat, tensors)
        return unflatten(out_def[0], outs)
