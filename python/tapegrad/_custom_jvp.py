"""JAX's custom_jvp: a function with a user-defined forward (JVP) rule, honoured by every transform.

The dispatch over transform levels happens in C++ (Note [custom_jvp] in csrc/bindings/bind_custom.cpp);
this module flattens pytree arguments, calls the user's function and rule, checks what the rule
returns, and derives the reverse rule and the batched rule from it.
"""

from __future__ import annotations

import functools
import inspect
import numbers

import numpy as _np

from . import _core
from ._core import Tensor
from ._tree import flatten, unflatten

__all__ = ["custom_jvp"]


def _inexact(dt):
    """Float or complex: the dtypes that carry tangents (complex: JAX's convention)."""
    return dt.is_floating_point or dt.name.startswith("complex")


def _is_leaf(x):
    return isinstance(x, Tensor) or not isinstance(x, (tuple, list, dict))


class _StructureError(ValueError, TypeError):
    """The rule's outputs do not have the structure of the function's (ValueError and TypeError:
    MindSpore reports such mismatches as ValueError, JAX as TypeError)."""


def _describe(x):
    if isinstance(x, Tensor):
        return f"Tensor of shape {tuple(x.shape)} and dtype {x.dtype}"
    return type(x).__name__


def _signature_of(v):
    """What of a non-differentiated argument the rule check's cache keys on: an array by its
    shape and dtype (Tensors hash by identity, a reused id would match a stale entry, and their
    `==` is elementwise), anything else as itself (a TypeError when it does not hash)."""
    if isinstance(v, (Tensor, _np.ndarray)):
        return ("array", tuple(v.shape), str(v.dtype))
    if isinstance(v, (tuple, list)):
        return (type(v).__name__, tuple(_signature_of(e) for e in v))
    return v


def _zero_tangent(x):
    """The tangent the rule sees for an input that was not perturbed."""
    if isinstance(x, Tensor):
        return _core.zeros_like(x)
    if isinstance(x, bool):
        return None
    if isinstance(x, numbers.Number):
        return type(x)(0)
    if isinstance(x, (_np.ndarray, _np.generic)):
        return _np.zeros_like(x)
    return None


class _Call:
    """One call of a custom_jvp function: rebuilds its arguments from the flat list of Tensor
    inputs that the C++ dispatch passes around, and checks what the function and rule return."""

    __slots__ = ("args", "cj", "diff_pos", "in_def", "leaves", "out_def", "tidx")

    def __init__(self, cj, args, diff_pos, leaves, in_def, tidx):
        self.cj = cj
        self.args = args
        self.diff_pos = diff_pos
        self.leaves = leaves
        self.in_def = in_def
        self.tidx = tidx
        self.out_def = None

    @property
    def name(self):
        return f"custom_jvp {getattr(self.cj.fun, '__name__', '<function>')}"

    def _diff_args(self, xs):
        ls = list(self.leaves)
        for i, x in zip(self.tidx, xs):
            ls[i] = x
        return unflatten(self.in_def, ls)

    def _note_out(self, od, what):
        if self.out_def is None:
            self.out_def = od
        elif od != self.out_def:
            raise _StructureError(
                f"{self.name}: {what} does not have the structure of the function's output "
                f"({od} vs {self.out_def})"
            )

    def run_fun(self, xs):
        args = list(self.args)
        for p, v in zip(self.diff_pos, self._diff_args(xs)):
            args[p] = v
        out = self.cj.fun(*args)
        ol, od = flatten(out, _is_leaf)
        res = []
        for o in ol:
            if not isinstance(o, Tensor):
                if not isinstance(o, (numbers.Number, _np.ndarray, _np.generic)):
                    raise TypeError(
                        f"{self.name}: the function must return Tensors (or tuples, lists or dicts of "
                        f"them), got {type(o).__name__}"
                    )
                o = Tensor(o)
            res.append(o)
        self._note_out(od, "the output")
        return res

    def run_rule(self, xs, ts):
        """The rule on flat inputs and tangents (None = zero): (primal outputs, tangent outputs)."""
        primals = self._diff_args(xs)
        tl = [_zero_tangent(x) for x in self.leaves]
        for i, x, t in zip(self.tidx, xs, ts):
            tl[i] = t if t is not None else _core.zeros_like(x)
        tangents = unflatten(self.in_def, tl)
        nondiff = [self.args[p] for p in self.cj.nondiff_argnums]
        r = self.cj.jvp_rule(*nondiff, tuple(primals), tuple(tangents))
        if not isinstance(r, (tuple, list)) or len(r) != 2:
            raise TypeError(
                f"{self.name}: the JVP rule must return a pair (primal_out, tangent_out), got "
                f"{_describe(r) if not isinstance(r, (tuple, list)) else f'{len(r)} values'}"
            )
        po, to = r
        pl, pdef = flatten(po, _is_leaf)
        if to is None:
            tl_out, tdef = [None] * len(pl), pdef
        else:
            tl_out, tdef = flatten(to, _is_leaf)
        if tdef != pdef:
            raise _StructureError(
                f"{self.name}: the JVP rule returned a primal output and a tangent output of "
                f"different structures ({pdef} vs {tdef})"
            )
        outs, touts = [], []
        for k, (p, t) in enumerate(zip(pl, tl_out)):
            if not isinstance(p, Tensor):
                if not isinstance(p, (numbers.Number, _np.ndarray, _np.generic)):
                    raise TypeError(
                        f"{self.name}: the JVP rule's primal output {k} must be a Tensor, got "
                        f"{type(p).__name__}"
                    )
                p = Tensor(p)
            if t is not None:
                if not isinstance(t, Tensor):
                    if not isinstance(t, (numbers.Number, _np.ndarray, _np.generic)):
                        raise TypeError(
                            f"{self.name}: the JVP rule's tangent output {k} must be a Tensor or "
                            f"None, got {type(t).__name__}"
                        )
                    t = Tensor(_np.broadcast_to(_np.asarray(t), tuple(p.shape)).copy(), p.dtype)
                if tuple(t.shape) != tuple(p.shape):
                    raise ValueError(
                        f"{self.name}: the JVP rule returned a tangent of shape {tuple(t.shape)} for "
                        f"primal output {k} of shape {tuple(p.shape)}"
                    )
                if t.dtype != p.dtype and _inexact(p.dtype):
                    t = t.astype(p.dtype)
            outs.append(p)
            touts.append(t)
        self._note_out(pdef, "the JVP rule's primal output")
        return outs, touts

    def check_rule_primals(self, xs, outs):
        """Under jvp only the rule runs, so nothing else would notice a rule whose primal outputs
        differ in shape or dtype from the function's (JAX raises "Custom JVP rule must produce
        primal outputs with the same shapes and dtypes as the primal function"). Run the function
        on constants of the same inputs and compare, once per input signature: checking every call
        would run the function twice."""
        try:
            key = (
                tuple((tuple(x.shape), x.dtype.name) for x in xs),
                tuple(_signature_of(v) for i, v in enumerate(self.leaves) if i not in self.tidx),
                tuple(_signature_of(self.args[p]) for p in self.cj.nondiff_argnums),
            )
            hash(key)
        except TypeError:
            key = None  # arguments that do not hash: check every call
        seen = self.cj._checked_signatures
        if key is not None and key in seen:
            return
        rule_def, self.out_def = self.out_def, None
        fouts = self.run_fun([_core.stop_gradient(x) for x in xs])
        if self.out_def != rule_def:
            raise _StructureError(
                f"{self.name}: the JVP rule's primal output does not have the structure of the "
                f"function's output ({rule_def} vs {self.out_def})"
            )
        for k, (p, f) in enumerate(zip(outs, fouts)):
            if tuple(p.shape) != tuple(f.shape) or p.dtype != f.dtype:
                raise _StructureError(
                    f"{self.name}: the JVP rule's primal output {k} has shape {tuple(p.shape)} and "
                    f"dtype {p.dtype.name}, but the function's output {k} has shape "
                    f"{tuple(f.shape)} and dtype {f.dtype.name} (custom_jvp rule output mismatch: "
                    "the rule must return the function's value as its primal output)"
                )
        if key is not None:
            if len(seen) >= 256:
                seen.clear()
            seen.add(key)


def _vjp_from_rule(handler, xs, cots, need):
    """J(x)^T g for the J the rule declares: the reverse sweep of t -> rule(x, t)[1], which is linear
    in t, taken at t = 0 (Note [custom_jvp])."""
    level = _core.ReverseLevel()
    level.push()
    try:
        ts = [
            level.track(_core.zeros_like(x)) if w and _inexact(x.dtype) else None
            for x, w in zip(xs, need)
        ]
        _, touts = handler.rule(xs, ts)
    finally:
        level.pop()
    tracked = [t for t in ts if t is not None]
    outs, seeds = [], []
    for t, c in zip(touts, cots):
        if t is None or c is None:
            continue
        if tuple(t.shape) != tuple(c.shape):
            raise ValueError(
                f"{handler.name}: the JVP rule returned a tangent of shape {tuple(t.shape)} for an "
                f"output of shape {tuple(c.shape)}"
            )
        outs.append(t)
        seeds.append(c)
    if not tracked or not outs:
        return [None] * len(xs)
    grads = iter(level.backward(outs, seeds, tracked))
    return [next(grads) if t is not None else None for t in ts]


class _Handler:
    """What the C++ dispatch calls (Note [custom_jvp]): the function, the rule, the reverse rule
    derived from it, and the batched handler."""

    __slots__ = ("call",)

    def __init__(self, call):
        self.call = call

    @property
    def name(self):
        return self.call.name

    def fun(self, xs):
        return self.call.run_fun(xs)

    def jvp(self, xs, ts):
        outs, touts = self.call.run_rule(xs, ts)
        self.call.check_rule_primals(xs, outs)
        return outs, touts

    def rule(self, xs, ts):
        # for the reverse rule: f has run (its outputs are what the cotangents are checked against)
        return self.call.run_rule(xs, ts)

    def vjp(self, xs, cots, need):
        return _vjp_from_rule(self, xs, cots, need)

    def batched(self, bdims, size):
        return _Batched(self, bdims)


class _Batched:
    """The handler of vmap(f) with rule vmap(rule), on physical values with batch axes `bdims`."""

    __slots__ = ("axes", "inner")

    def __init__(self, inner, bdims):
        self.inner = inner
        self.axes = [None if b < 0 else int(b) for b in bdims]

    @property
    def name(self):
        return self.inner.name

    def fun(self, xs):
        from ._vmap import vmap

        return list(vmap(lambda *ys: self.inner.fun(list(ys)), in_axes=tuple(self.axes))(*xs))

    def jvp(self, xs, ts):
        from ._vmap import vmap

        t_axes = [a if t is not None else None for a, t in zip(self.axes, ts)]

        def rule(ys, us):
            po, to = self.inner.jvp(list(ys), list(us))
            return list(po), [t if t is not None else _core.zeros_like(p) for p, t in zip(po, to)]

        po, to = vmap(rule, in_axes=(list(self.axes), t_axes))(list(xs), list(ts))
        return list(po), list(to)

    rule = jvp  # the inner handler checks the rule's primal outputs against the function's

    def vjp(self, xs, cots, need):
        return _vjp_from_rule(self, xs, cots, need)

    def batched(self, bdims, size):
        return _Batched(self, bdims)


class custom_jvp:
    """A function with a user-defined forward-mode (JVP) rule, honoured by every transform (JAX's
    ``custom_jvp``): ``jvp``/``jacfwd`` call the rule; ``grad``/``vjp``/``jacrev`` use the reverse of
    the rule's (linear) tangent map; ``vmap`` maps the function and the rule; higher orders
    differentiate through the rule's own ops.

    Give the rule with ``defjvp(rule)``, where ``rule(primals, tangents) -> (primal_out,
    tangent_out)`` gets the arguments and their tangents as tuples and must be linear in the
    tangents; a ``None`` tangent output means zero. ``nondiff_argnums`` names arguments that are not
    differentiated: the rule receives them first, ``rule(*nondiff, primals, tangents)``. Works on
    methods too.

    >>> import tapegrad as tg
    >>> @tg.custom_jvp
    ... def log1pexp(x):
    ...     return tg.log(1.0 + tg.exp(x))
    >>> @log1pexp.defjvp
    ... def log1pexp_jvp(primals, tangents):
    ...     (x,), (t,) = primals, tangents
    ...     return log1pexp(x), t * tg.sigmoid(x)
    >>> tg.grad(log1pexp)(tg.tensor(100.0))  # exp(100) overflows float32; the rule does not
    Tensor(shape=[], dtype=Float32, value= 1)
    """

    def __init__(self, fun, nondiff_argnums=()):
        if not callable(fun):
            raise TypeError(f"custom_jvp: expected a function, got {type(fun).__name__}")
        functools.update_wrapper(self, fun)
        self.fun = fun
        if isinstance(nondiff_argnums, int):
            nondiff_argnums = (nondiff_argnums,)
        # ints only: int("1") or int(1.5) would read a string or a float as a position.
        if not isinstance(nondiff_argnums, (tuple, list)) or not all(
            isinstance(i, (int, _np.integer)) and not isinstance(i, (bool, _np.bool_))
            for i in nondiff_argnums
        ):
            raise TypeError(
                f"custom_jvp: nondiff_argnums must be an int or a tuple of ints, got {nondiff_argnums!r}"[
                    :200
                ]
            )
        self.nondiff_argnums = tuple(int(i) for i in nondiff_argnums)
        self.jvp_rule = None
        # input signatures whose rule outputs were checked against the function's (under jvp)
        self._checked_signatures = set()
        # Defaults are filled in (JAX's resolve_kwargs), so the rule always sees every argument.
        try:
            self._signature = inspect.signature(fun)
        except (TypeError, ValueError):
            self._signature = None
        self._n_fill = 0
        if self._signature is not None:
            params = list(self._signature.parameters.values())
            if any(p.default is not p.empty for p in params):
                self._n_fill = len(params)

    def defjvp(self, jvp):
        """Set the rule ``jvp(primals, tangents) -> (primal_out, tangent_out)``; returns ``jvp`` so
        that it can be used as a decorator.

        >>> import tapegrad as tg
        >>> @tg.custom_jvp
        ... def f(x):
        ...     return tg.sin(x)
        >>> @f.defjvp
        ... def f_jvp(primals, tangents):
        ...     return tg.sin(primals[0]), 3.0 * tangents[0]   # not cos: the rule is what counts
        >>> tg.jvp(f, tg.tensor(0.5), tg.tensor(1.0))[1]
        Tensor(shape=[], dtype=Float32, value= 3)
        """
        if not callable(jvp):
            raise TypeError(
                f"custom_jvp.defjvp: the rule must be callable, got {type(jvp).__name__}"
            )
        self.jvp_rule = jvp
        self._checked_signatures = set()
        return jvp

    def defjvps(self, *tangent_fns):
        """Set the rule from one function per argument, ``fn(t_i, primal_out, *primals)`` giving that
        argument's contribution to the tangent output (``None``: the argument has no derivative).

        >>> import tapegrad as tg
        >>> @tg.custom_jvp
        ... def mul(x, y):
        ...     return x * y
        >>> mul.defjvps(lambda tx, out, x, y: tx * y, lambda ty, out, x, y: ty * x)
        >>> tg.grad(mul, (0, 1))(tg.tensor(2.0), tg.tensor(5.0))
        (Tensor(shape=[], dtype=Float32, value= 5), Tensor(shape=[], dtype=Float32, value= 2))
        """
        if self.nondiff_argnums:
            raise TypeError("custom_jvp.defjvps cannot be used with nondiff_argnums; use defjvp")
        for fn in tangent_fns:
            if fn is not None and not callable(fn):
                raise TypeError(
                    f"custom_jvp.defjvps: expected functions or None, got {type(fn).__name__}"
                )

        def rule(primals, tangents):
            if len(primals) != len(tangent_fns):
                raise TypeError(
                    f"custom_jvp {self.__name__}: defjvps got {len(tangent_fns)} function(s) for a call "
                    f"with {len(primals)} argument(s)"
                )
            out = self(*primals)
            total = None
            for fn, t in zip(tangent_fns, tangents):
                if fn is None:
                    continue
                c = fn(t, out, *primals)
                if c is None:
                    continue
                if total is None:
                    total = c
                else:
                    tl, td = flatten(total, _is_leaf)
                    cl, _ = flatten(c, _is_leaf)
                    total = unflatten(td, [a + b for a, b in zip(tl, cl)])
            return out, total

        self.jvp_rule = rule
        self._checked_signatures = set()

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return functools.partial(self.__call__, obj)

    def _resolve_kwargs(self, args, kwargs):
        if self._signature is None:
            raise TypeError(
                f"custom_jvp {self.__name__}: keyword arguments need a function with a signature"
            )
        try:
            ba = self._signature.bind(*args, **kwargs)
        except (TypeError, ValueError) as e:
            raise TypeError(f"custom_jvp {self.__name__}: {e}") from None
        ba.apply_defaults()
        if ba.kwargs:
            raise TypeError(
                f"custom_jvp {self.__name__}: keyword-only arguments are not supported "
                f"({sorted(ba.kwargs)}); pass them positionally"
            )
        return tuple(ba.args)

    def __call__(self, *args, **kwargs):
        name = getattr(self.fun, "__name__", "<function>")
        if self.jvp_rule is None:
            raise TypeError(
                f"custom_jvp {name}: no JVP rule was given; call defjvp(rule) or defjvps(...) "
                "before calling the function"
            )
        if kwargs or len(args) < self._n_fill:
            args = self._resolve_kwargs(args, kwargs)
        elif (
            not self.nondiff_argnums
            and all(type(a) is Tensor for a in args)
            and not _core._any_tracked(args)
        ):
            return self.fun(*args)  # the common untransformed call, without flattening
        nondiff = set()
        for i in self.nondiff_argnums:
            j = i + len(args) if i < 0 else i
            if not 0 <= j < len(args):
                raise TypeError(
                    f"custom_jvp {name}: nondiff_argnums entry {i} is out of range for a call with "
                    f"{len(args)} argument(s)"
                )
            nondiff.add(j)
        diff_pos = [i for i in range(len(args)) if i not in nondiff]
        leaves, in_def = flatten(tuple(args[i] for i in diff_pos), _is_leaf)
        tidx = [i for i, x in enumerate(leaves) if isinstance(x, Tensor)]
        tensors = [leaves[i] for i in tidx]
        for j in sorted(nondiff):
            nl, _ = flatten(args[j], _is_leaf)
            if _core._any_tracked([x for x in nl if isinstance(x, Tensor)]):
                raise TypeError(
                    f"custom_jvp {name}: argument {j} is in nondiff_argnums but is being transformed "
                    "(differentiated or mapped); pass it as a regular argument"
                )
        if not tensors or not _core._any_tracked(tensors):
            return self.fun(*args)
        call = _Call(self, args, diff_pos, leaves, in_def, tidx)
        outs = _core._custom_jvp_apply(_Handler(call), tensors)
        return unflatten(call.out_def, outs)
