"""Differentiation transforms on top of the C++ tape levels (see Note [Tape levels] in
csrc/autodiff/levels.h). Python only arranges arguments and results; every op, record and sweep
runs in C++."""

from __future__ import annotations

import functools
import weakref as _weakref

import numpy as _np

from . import _args, _core, _mode
from ._core import Tensor
from ._mode import GRAPH as _GRAPH
from ._tree import flatten as _flatten
from ._tree import unflatten as _unflatten

__all__ = [
    "GradOperation",
    "checkpoint",
    "grad",
    "jvp",
    "stop_gradient",
    "value_and_grad",
    "vjp",
]


# Plain arguments (numpy arrays and scalars, Python scalars, lists of numbers): the rule is in
# _args.py, shared by every transform.
_is_leaf = _args.is_leaf
_to_tensor_arg = _args.to_tensor
_plain_to_tensors = _args.convert_positions

# Note [Self-reference by weakref]
# ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
# A transform's function hands itself to _mode.run_graph in GRAPH_MODE. Naming itself through its
# closure would make it a reference cycle, which only the garbage collector frees: a transform made
# per call (`tg.grad(f)(x)` in a loop, `GradOperation(...)(f)(x)`) would leave one cycle behind
# every call and pay for collections (about 9k instructions a call). It names itself through a weak
# reference instead, alive whenever the function runs. The reference pickles as the function
# (cloudpickle sends closures by value, to Dask workers for one).


class _SelfRef:
    """A weak reference to a transform's own function that pickles (Note [Self-reference by
    weakref])."""

    __slots__ = ("ref",)

    def __init__(self, f):
        self.ref = _weakref.ref(f)

    def __call__(self):
        return self.ref()

    def __reduce__(self):
        return (_SelfRef, (self.ref(),))


def _inexact(dt):
    """Float or complex: the dtypes derivatives flow through (complex: JAX's convention)."""
    return dt.is_floating_point or dt.name.startswith("complex")


def _check_float(t, what):
    if not _inexact(t.dtype):
        raise TypeError(
            f"{what}: can only differentiate with respect to floating-point inputs, got a tensor "
            f"of dtype {t.dtype} and shape {t.shape}"
        )


def _normalise_positions(grad_position, nargs, what):
    if grad_position is None:
        return ()
    if isinstance(grad_position, _np.integer):
        grad_position = int(grad_position)
    elif isinstance(grad_position, (tuple, list)):
        grad_position = tuple(int(p) if isinstance(p, _np.integer) else p for p in grad_position)
    single = isinstance(grad_position, int) and not isinstance(grad_position, bool)
    positions = (grad_position,) if single else grad_position
    if not isinstance(positions, (tuple, list)) or not all(
        isinstance(p, int) and not isinstance(p, bool) for p in positions
    ):
        raise TypeError(
            f"{what}: grad_position must be an int or a tuple of ints, got {grad_position!r}"
        )
    if len(positions) == 0:
        raise ValueError(f"{what}: grad_position must not be empty")
    out = []
    for p in positions:
        q = p + nargs if p < 0 else p
        if not 0 <= q < nargs:
            raise IndexError(
                f"{what}: grad_position {p} is out of range for a function called with {nargs} argument(s)"
            )
        out.append(q)
    return tuple(out)


def _normalise_weights(weights, what):
    if weights is None:
        return None, False
    if isinstance(weights, Tensor):
        return [weights], True
    if isinstance(weights, (list, tuple)):
        ws = list(weights)
        for w in ws:
            if not isinstance(w, Tensor):
                raise TypeError(
                    f"{what}: weights must be Parameters/Tensors, got {type(w).__name__}"
                )
        return ws, False
    if isinstance(weights, dict):
        raise TypeError(
            f"{what}: weights must be a Parameter, a list or a ParameterTuple, not a dict"
        )
    raise TypeError(
        f"{what}: weights must be a Parameter, a list or a ParameterTuple, got {type(weights).__name__}"
    )


class _Traced:
    """The result of running fn under a reverse level, ready for backward sweeps."""

    __slots__ = (
        "aux",
        "in_defs",
        "in_index",
        "in_leaves",
        "level",
        "out",
        "out_def",
        "out_leaves",
        "w_index",
        "w_tracked",
        "writes",
    )


def _finish_writes(writes, in_place):
    """Give the weights that fn wrote into (an optimizer step, `w[...] = v` inside the function)
    what fn wrote, as it would outside a transform; the gradient is that of the value fn started
    from. In place (the weight's storage, which tg.jit recordings read afresh) once no sweep
    needs the old value (it shares that storage); otherwise by rebinding the weight (vjp, whose
    sweep comes later, if ever)."""
    while writes:
        w, value = writes.pop()
        if in_place:
            w[...] = value
        else:
            _core._swap_value(w, value)


def _trace_reverse(fn, args, positions, weights, has_aux, what, kwargs=None, defer_writes=True):
    writes = []  # (weight, value): weights fn wrote into; see _finish_writes
    try:
        args = tuple(args)
        kwargs = kwargs or {}
        level = _core.ReverseLevel()
        new_args = list(args)
        # A position listed twice is tracked once; each copy gets its full gradient (in_index maps the
        # per-position leaves to the tracked ones).
        in_leaves, in_defs, in_index, uniq = [], [], [], {}
        for p in positions:
            if p not in uniq:
                leaves, td = _flatten(args[p], _is_leaf)
                tl = []
                for x in leaves:
                    t = _to_tensor_arg(x, what)
                    _check_float(t, what)
                    tl.append(t)
                uniq[p] = (len(in_leaves), len(tl), td)
                in_leaves.extend(tl)
            start, n, td = uniq[p]
            in_defs.append((td, n))
            in_index.extend(range(start, start + n))
        for p in range(len(args)):
            if p not in positions:
                leaves, td = _flatten(args[p], _is_leaf)
                for x in leaves:
                    if not _is_leaf(x):
                        raise TypeError(
                            f"{what}: argument {p} contains a {type(x).__name__}; arguments must be Tensors, "
                            "Python scalars, or tuples/lists/dicts of them"
                        )
        level.push()
        swapped = []
        try:
            tracked = [level.track(t) for t in in_leaves]
            for p, (start, n, td) in uniq.items():
                new_args[p] = _unflatten(td, tracked[start : start + n])
            if weights:
                # A weight listed twice is tracked once; each copy gets its full gradient.
                first = {}
                w_index = []
                for w in weights:
                    if id(w) not in first:
                        _check_float(w, what)
                        first[id(w)] = len(swapped)
                        tw = level.track(w)
                        # w now holds the tracked value (the third object names it too, for the
                        # sweep), tw the original one
                        swapped.append((w, tw, _core._swap_in(w, tw)))
                    w_index.append(first[id(w)])
            else:
                w_index = []
            out = fn(*new_args, **kwargs)
        finally:
            for w, tw, entry in reversed(swapped):
                # fn wrote into the weight when the write rebound w (a tracked value) to a new
                # value: the sweep differentiates `entry`, the value fn started from.
                # w gets its value back; tw now holds the tracked one (the written one, if any)
                if not _core._swap_out(w, tw, entry):
                    writes.append((w, level.unwrap(tw)))
            level.pop()
        if not defer_writes:
            _finish_writes(writes, False)
        w_tracked = [entry for _, _, entry in swapped]
        if has_aux:
            if not isinstance(out, tuple) or len(out) < 1:
                raise TypeError(
                    f"{what}: with has_aux=True the function must return a tuple (output, *aux)"
                )
            primary = out[0]
            aux = out[1:]
            aux = aux[0] if len(aux) == 1 else tuple(aux)
        else:
            primary, aux = out, None
        out_leaves, out_def = _flatten(primary, _is_leaf)
        if not out_leaves:
            raise TypeError(
                f"{what}: the function must return a Tensor (or a tuple of them), got {primary!r}"[
                    :300
                ]
            )
        for o in out_leaves:
            if not isinstance(o, Tensor):
                raise TypeError(
                    f"{what}: the function must return Tensors (or tuples of them), got {type(o).__name__}"
                )
        tr = _Traced()
        tr.w_index = w_index
        tr.in_index = in_index
        tr.level = level
        tr.out = out
        tr.out_leaves = out_leaves
        tr.out_def = out_def
        tr.aux = aux
        tr.in_leaves = tracked
        tr.in_defs = in_defs
        tr.w_tracked = w_tracked
        tr.writes = writes
        return tr
    except BaseException:
        _finish_writes(writes, True)  # no sweep will need the weights' old values
        raise


def _strip_level(tr, x):
    return _unflatten(
        *_flatten_map(x, lambda t: tr.level.unwrap(t) if isinstance(t, Tensor) else t)
    )


def _flatten_map(x, f):
    leaves, td = _flatten(x, _is_leaf)
    return td, [f(v) for v in leaves]


def _sweep(tr, cotangents=None):
    """Backward sweep: gradients of every tracked input, then of every weight."""
    outs = list(tr.out_leaves)
    if cotangents is None:
        cots = [None] * len(outs)
    else:
        cots = cotangents
    try:
        grads = tr.level.backward(outs, cots, list(tr.in_leaves) + list(tr.w_tracked))
    finally:
        _finish_writes(tr.writes, True)
    n = len(tr.in_leaves)
    if (
        len(tr.w_index) != len(tr.w_tracked) or len(tr.in_index) != n
    ):  # a position or weight listed twice
        grads = [grads[i] for i in tr.in_index] + [grads[n + i] for i in tr.w_index]
    return grads


def _pack_grads(tr, grads, positions, single_pos, n_weights, weights_single, return_ids, weights):
    n_in = len(tr.in_index)
    in_grads = grads[:n_in]
    w_grads = grads[n_in:]
    per_pos = []
    k = 0
    for td, n in tr.in_defs:
        per_pos.append(_unflatten(td, in_grads[k : k + n]))
        k += n
    if return_ids:
        per_pos = [(p, g) for p, g in zip(positions, per_pos)]
    pos_part = None
    if positions:
        pos_part = per_pos[0] if single_pos else tuple(per_pos)
    w_part = None
    if n_weights is not None:
        wg = list(w_grads)
        if return_ids:
            wg = [(getattr(w, "name", i), g) for i, (w, g) in enumerate(zip(weights, wg))]
        w_part = wg[0] if weights_single else tuple(wg)
    if positions and n_weights is not None:
        return (pos_part, w_part)
    if n_weights is not None:
        return w_part
    return pos_part


def _check_cotangents(c, outs, what, kind):
    """Cotangent leaves for `outs` (the level's output leaves): one per output, of its shape and a
    floating dtype; errors name both shapes."""
    c_leaves, _ = _flatten(c, _is_leaf)
    if len(c_leaves) != len(outs):
        raise ValueError(
            f"{what}: expected {len(outs)} {kind}(s), one per output, got {len(c_leaves)}"
        )
    cl = []
    for i, (ci, o) in enumerate(zip(c_leaves, outs)):
        ct = _to_tensor_arg(ci, what)
        where = f" for output {i}" if len(outs) > 1 else ""
        if tuple(ct.shape) != tuple(o.shape):
            raise ValueError(
                f"{what}: {kind} of shape {tuple(ct.shape)}{where} does not match the output shape "
                f"{tuple(o.shape)}"
            )
        if o.dtype.is_floating_point and not ct.dtype.is_floating_point:
            raise TypeError(
                f"{what}: {kind}{where} has dtype {ct.dtype} but the output has dtype {o.dtype} (a "
                "floating-point cotangent is needed)"
            )
        cl.append(ct)
    return cl


def _value(tr):
    """The function's output with this level's wrappers removed."""
    return _strip_level(tr, tr.out)


def _finish_nested(out, level, wanted, what):
    """(value, grads) of a fast-path run whose output was nested: flatten it here and finish the
    sweep on the same level."""
    leaves, td = _flatten(out, _is_leaf)
    for o in leaves:
        if not isinstance(o, Tensor):
            raise TypeError(
                f"{what}: the function must return Tensors (or tuples of them), got {type(o).__name__}"
            )
    grads = level.backward(leaves, [None] * len(leaves), wanted)
    return _unflatten(td, [level.unwrap(o) for o in leaves]), tuple(grads)


def _fast(fn, args, positions, what="grad"):
    """C++ fast path for plain Tensor arguments: (value, grads) or None to take the general path."""
    r = _core._grad_fast(fn, args, positions)
    if r is None or r[0] is not Ellipsis:
        return r
    return _finish_nested(r[1], r[2], r[3], what)


# Note [One call per gradient] (csrc/bindings/autodiff.cpp): the transforms' common case is one
# call of _grad_call(fn, args, position, flags); these name its flags.
_grad_call = _core._grad_call
_GRAD_VALUE = _core._GRAD_VALUE  # return (value, grads)
_GRAD_TUPLE = _core._GRAD_TUPLE  # grads as a tuple even for one position
_GRAD_ALL = _core._GRAD_ALL  # position: every argument
_GRAD_AUX = _core._GRAD_AUX  # fn returns (output, *aux)


def _grad_call_rest(r, fn, args, position, flags, what):
    """What _grad_call left to Python: `r` is None (it declined: plain arguments other than Tensors
    and arrays are converted and it is tried once more) or [out, level, wanted] (a nested output:
    the sweep is finished here). The transform's result, or None for the general path."""
    if r is None:
        if position == _GRAD_ALL:
            positions = tuple(range(len(args)))
        elif -len(args) <= position < len(args):
            positions = (position % len(args),)
        else:
            return None
        conv = _plain_to_tensors(args, positions)
        if conv is args:
            return None
        r = _grad_call(fn, conv, position, flags)
        if r is None or r.__class__ is not list:
            return r
    value, grads = _finish_nested(r[0], r[1], r[2], what)
    g = grads if flags & _GRAD_TUPLE else grads[0]
    return (value, g) if flags & _GRAD_VALUE else g


def _is_complex_arg(x):
    dt = getattr(x, "dtype", None)
    if dt is None:
        return isinstance(x, complex)
    return str(dt).lower().startswith("complex")


def _holomorphic(make, what, fn, grad_position, has_aux):
    """`make(fn)` (a grad or value_and_grad function) with JAX's ``holomorphic=True`` checks: the
    differentiated inputs and the output must be complex. The gradient is then the complex
    derivative f'(z), which is what the cotangent 1 gives (docs/numpy.md: JAX's convention)."""

    def dtype_of(x):
        return getattr(x, "dtype", type(x).__name__)

    @functools.wraps(fn)
    def checked_fn(*args, **kwargs):
        out = fn(*args, **kwargs)
        y = out[0] if has_aux and isinstance(out, (tuple, list)) and out else out
        for leaf in y if isinstance(y, (tuple, list)) else (y,):
            if not _is_complex_arg(leaf):
                raise TypeError(
                    f"{what} with holomorphic=True requires outputs with complex dtype, but got "
                    f"{dtype_of(leaf)}"
                )
        return out

    inner = make(checked_fn)

    @functools.wraps(fn)
    def holomorphic_fn(*args, **kwargs):
        for p in _normalise_positions(grad_position, len(args), what):
            if not _is_complex_arg(args[p]):
                raise TypeError(
                    f"{what} with holomorphic=True requires inputs with complex dtype, but got "
                    f"{dtype_of(args[p])} at position {p}"
                )
        return inner(*args, **kwargs)

    return holomorphic_fn


def grad(fn, grad_position=0, weights=None, has_aux=False, return_ids=False, holomorphic=False):
    """Gradient of `fn` with respect to the arguments at `grad_position` and/or `weights`.

    `grad_position` is an int (one gradient) or a tuple of ints (a tuple of gradients); with
    `weights` (a Parameter, list or ParameterTuple) the gradients of the weights come too, as
    `(input_grads, weight_grads)`, or alone when `grad_position=None`. With `has_aux=True`, `fn`
    returns `(output, *aux)` and the result is `(grads, aux)`. Non-scalar and tuple outputs get a
    cotangent of ones for every element (MindSpore semantics). Python control flow inside `fn` is
    fine: the tape records what ran.

    >>> tg.grad(lambda x: (x * x).sum())(tg.tensor([1.0, 2.0]))
    Tensor(shape=[2], dtype=Float32, value= [ 2.00000000e+00,  4.00000000e+00])
    >>> f = lambda x, y: (x * y).sum()
    >>> gx, gy = tg.grad(f, grad_position=(0, 1))(tg.tensor([1.0, 2.0]), tg.tensor([3.0, 4.0]))
    >>> print(gx, gy)
    [3. 4.] [1. 2.]
    >>> g, aux = tg.grad(lambda x: ((x * x).sum(), x.sum()), has_aux=True)(tg.tensor([1.0, 2.0]))
    >>> print(g, aux)
    [2. 4.] 3.0
    >>> w = tg.Parameter(tg.tensor([2.0]), name="w")
    >>> tg.grad(lambda x: (w * x).sum(), grad_position=None, weights=[w])(tg.tensor([3.0]))
    (Tensor(shape=[1], dtype=Float32, value= [ 3.00000000e+00]),)
    >>> tg.grad(tg.grad(lambda x: x ** 3))(tg.tensor(2.0))  # any order
    Tensor(shape=[], dtype=Float32, value= 12)

    Complex inputs follow JAX's convention (docs/numpy.md): for a real-valued `fn` the gradient is
    dL/dx - i dL/dy; ``holomorphic=True`` (JAX's) asks for the complex derivative f'(z) of a
    complex-valued `fn`, and checks that the inputs and the output are complex.

    >>> tg.grad(lambda z: z * z, holomorphic=True)(tg.tensor(1.0 + 2.0j))
    Tensor(shape=[], dtype=Complex64, value= 2+4j)
    """
    if not callable(fn):
        raise TypeError(f"grad: fn must be callable, got {type(fn).__name__}")
    if holomorphic:
        return _holomorphic(
            lambda f: grad(f, grad_position, weights, has_aux, return_ids),
            "grad",
            fn,
            grad_position,
            has_aux,
        )
    if isinstance(grad_position, _np.integer):
        grad_position = int(grad_position)
    ws, w_single = _normalise_weights(weights, "grad")
    if grad_position is None and ws is None:
        raise ValueError("grad: grad_position and weights cannot both be None")

    single = isinstance(grad_position, int) and not isinstance(grad_position, bool)
    simple = ws is None and not has_aux and not return_ids

    fixed = (grad_position,) if single and grad_position >= 0 else None

    @functools.wraps(fn)
    def grad_fn(*args, **kwargs):
        if _GRAPH[0] and _mode.graph_mode_active():
            return _mode.run_graph(me(), me(), args, kwargs)
        if fixed is not None and simple and not kwargs and len(args) > fixed[0]:
            # Tensors and numpy arrays go to C++ as they are; other plain arguments (scalars,
            # number lists) are converted first (the fast path declines them before running fn).
            r = _grad_call(fn, args, fixed[0], 0)
            if r is None or r.__class__ is list:
                r = _grad_call_rest(r, fn, args, fixed[0], 0, "grad")
            if r is not None:
                return r
        positions = _normalise_positions(grad_position, len(args), "grad")
        args = _plain_to_tensors(args, positions)
        if simple and not kwargs:
            r = _fast(fn, args, positions)
            if r is not None:
                return r[1][0] if single else r[1]
        tr = _trace_reverse(fn, args, positions, ws, has_aux, "grad", kwargs)
        g = _pack_grads(
            tr,
            _sweep(tr),
            positions,
            single,
            None if ws is None else len(ws),
            w_single,
            return_ids,
            ws,
        )
        if has_aux:
            return g, _strip_level(tr, tr.aux)
        return g

    me = _SelfRef(grad_fn)  # Note [Self-reference by weakref]
    many = _c_positions(grad_position)
    c_ok = ws is None and not return_ids  # simple, or has_aux (the C function splits the output)
    aux = _GRAD_AUX if has_aux else 0
    if c_ok and many is not None:  # a tuple of positions: a tuple of gradients
        return _c_grad_fn(fn, 0, _GRAD_TUPLE | aux, grad_fn, "grad", many)
    if fixed is None or not c_ok:
        return grad_fn
    return _c_grad_fn(fn, fixed[0], aux, grad_fn, "grad")


def value_and_grad(fn, grad_position=0, weights=None, has_aux=False, holomorphic=False):
    """`(value, grads)` of `fn`; with has_aux, `((value, aux), grads)`.

    The arguments are those of `grad` (``holomorphic=True`` too); the value comes from the same
    run as the gradients.

    >>> value, g = tg.value_and_grad(lambda x: (x * x).sum())(tg.tensor([1.0, 2.0]))
    >>> value
    Tensor(shape=[], dtype=Float32, value= 5)
    >>> g
    Tensor(shape=[2], dtype=Float32, value= [ 2.00000000e+00,  4.00000000e+00])
    >>> f = lambda x: ((x * x).sum(), x.sum())
    >>> (value, aux), g = tg.value_and_grad(f, has_aux=True)(tg.tensor([1.0, 2.0]))
    >>> print(value, aux, g)
    5.0 3.0 [2. 4.]
    """
    if not callable(fn):
        raise TypeError(f"value_and_grad: fn must be callable, got {type(fn).__name__}")
    if holomorphic:
        return _holomorphic(
            lambda f: value_and_grad(f, grad_position, weights, has_aux),
            "value_and_grad",
            fn,
            grad_position,
            has_aux,
        )
    if isinstance(grad_position, _np.integer):
        grad_position = int(grad_position)
    ws, w_single = _normalise_weights(weights, "value_and_grad")
    if grad_position is None and ws is None:
        raise ValueError("value_and_grad: grad_position and weights cannot both be None")

    single = isinstance(grad_position, int) and not isinstance(grad_position, bool)
    simple = ws is None and not has_aux
    fixed = (grad_position,) if single and grad_position >= 0 else None

    @functools.wraps(fn)
    def vg_fn(*args, **kwargs):
        if _GRAPH[0] and _mode.graph_mode_active():
            return _mode.run_graph(me(), me(), args, kwargs)
        if fixed is not None and simple and not kwargs and len(args) > fixed[0]:
            # As in grad: Tensors and numpy arrays straight to C++, other plain arguments converted.
            r = _grad_call(fn, args, fixed[0], _GRAD_VALUE)
            if r is None or r.__class__ is list:
                r = _grad_call_rest(r, fn, args, fixed[0], _GRAD_VALUE, "value_and_grad")
            if r is not None:
                return r
        positions = _normalise_positions(grad_position, len(args), "value_and_grad")
        args = _plain_to_tensors(args, positions)
        if simple and not kwargs:
            r = _fast(fn, args, positions, "value_and_grad")
            if r is not None:
                return r[0], (r[1][0] if single else r[1])
        tr = _trace_reverse(fn, args, positions, ws, has_aux, "value_and_grad", kwargs)
        g = _pack_grads(
            tr, _sweep(tr), positions, single, None if ws is None else len(ws), w_single, False, ws
        )
        value = _value(tr)
        if has_aux:
            return (value[0], _strip_level(tr, tr.aux)), g
        return value, g

    me = _SelfRef(vg_fn)  # Note [Self-reference by weakref]
    many = _c_positions(grad_position)
    c_ok = ws is None
    aux = _GRAD_AUX if has_aux else 0
    if c_ok and many is not None:
        return _c_grad_fn(fn, 0, _GRAD_VALUE | _GRAD_TUPLE | aux, vg_fn, "value_and_grad", many)
    if fixed is None or not c_ok:
        return vg_fn
    return _c_grad_fn(fn, fixed[0], _GRAD_VALUE | aux, vg_fn, "value_and_grad")


def vjp(fn, *inputs, weights=None, has_aux=False):
    """`(outputs, vjp_fn)`: `vjp_fn(cotangents)` gives the cotangents of the inputs (a tuple with
    one entry per input; with weights, `(input_cotangents, weight_cotangents)`).

    `vjp_fn` can be called once (its sweep frees the tape). With `has_aux=True` the result is
    `(outputs, vjp_fn, aux)`.

    >>> out, vjp_fn = tg.vjp(lambda x: x * x, tg.tensor([1.0, 2.0]))
    >>> out
    Tensor(shape=[2], dtype=Float32, value= [ 1.00000000e+00,  4.00000000e+00])
    >>> vjp_fn(tg.tensor([1.0, 10.0]))
    (Tensor(shape=[2], dtype=Float32, value= [ 2.00000000e+00,  4.00000000e+01]),)
    """
    if not callable(fn):
        raise TypeError(f"vjp: fn must be callable, got {type(fn).__name__}")
    ws, _ = _normalise_weights(weights, "vjp")
    positions = tuple(range(len(inputs)))
    tr = _trace_reverse(fn, inputs, positions, ws, has_aux, "vjp", defer_writes=False)
    primary = tr.out[0] if has_aux else tr.out
    out_value = _strip_level(tr, primary)
    used = [False]

    def vjp_fn(*cots):
        if used[0]:
            raise RuntimeError(
                "vjp: vjp_fn can only be called once (the tape is freed by its sweep)"
            )
        if not cots:
            raise TypeError(
                f"vjp: vjp_fn takes the cotangent(s) of the output(s) ({len(tr.out_leaves)}), got none"
            )
        c = cots[0] if len(cots) == 1 else cots
        # Checked before the sweep: a call with wrong cotangents raises and leaves vjp_fn usable.
        cl = _check_cotangents(c, tr.out_leaves, "vjp", "cotangent")
        used[0] = True
        grads = _sweep(tr, cl)
        n_in = len(tr.in_index)
        per = []
        k = 0
        for td, n in tr.in_defs:
            per.append(_unflatten(td, grads[k : k + n]))
            k += n
        res = tuple(per)
        if ws is not None:
            return res, tuple(grads[n_in:])
        return res

    if has_aux:
        return out_value, vjp_fn, _strip_level(tr, tr.aux)
    return out_value, vjp_fn


def jvp(fn, inputs, v, has_aux=False):
    """`(outputs, tangents)` of `fn` at `inputs` along `v` (forward mode).

    `inputs` and `v` are a Tensor each, or tuples with one entry per argument of `fn`. With
    `has_aux=True` the result is `(outputs, tangents, aux)`.

    >>> out, tangent = tg.jvp(lambda x: x * x, tg.tensor([1.0, 2.0]), tg.tensor([1.0, 1.0]))
    >>> print(out, tangent)
    [1. 4.] [2. 4.]
    >>> f = lambda x, y: x * y
    >>> tg.jvp(f, (tg.tensor(2.0), tg.tensor(3.0)), (tg.tensor(1.0), tg.tensor(0.0)))[1]
    Tensor(shape=[], dtype=Float32, value= 3)
    """
    if not callable(fn):
        raise TypeError(f"jvp: fn must be callable, got {type(fn).__name__}")
    # A list of numbers is one array argument (_args.py), not a list of arguments.
    single = not isinstance(inputs, (tuple, list)) or _args.is_number_list(inputs)
    ins = (inputs,) if single else tuple(inputs)
    vs = (
        (v,)
        if single or (not isinstance(v, (tuple, list))) or _args.is_number_list(v)
        else tuple(v)
    )
    if len(vs) != len(ins):
        raise ValueError(f"jvp: got {len(ins)} input(s) but {len(vs)} tangent(s)")
    level = _core.ForwardLevel()
    wrapped = []
    for x, t in zip(ins, vs):
        xl, xd = _flatten(x, _is_leaf)
        tl, td = _flatten(t, _is_leaf)
        if len(xl) != len(tl) or td != xd:
            raise ValueError("jvp: tangents must have the structure of the inputs")
        ws = []
        for xi, ti in zip(xl, tl):
            xt = _to_tensor_arg(xi, "jvp")
            tt = _to_tensor_arg(ti, "jvp")
            if tuple(xt.shape) != tuple(tt.shape):
                raise ValueError(
                    f"jvp: tangent shape {tt.shape} does not match input shape {xt.shape}"
                )
            if _inexact(xt.dtype):
                if not _inexact(tt.dtype):
                    raise TypeError(
                        f"jvp: tangent of dtype {tt.dtype} for an input of dtype {xt.dtype} and shape "
                        f"{tuple(xt.shape)}: tangents of floating-point inputs must be floating point"
                    )
                tt = tt.astype(xt.dtype)
                ws.append((xt, tt))
            else:
                ws.append((xt, None))
        wrapped.append((xd, ws))
    level.push()
    try:
        new_ins = []
        for xd, ws in wrapped:
            new_ins.append(
                _unflatten(xd, [level.track(x, t) if t is not None else x for x, t in ws])
            )
        out = fn(*new_ins)
    finally:
        level.pop()
    if has_aux:
        if not isinstance(out, tuple) or len(out) < 2:
            raise TypeError(
                "jvp: with has_aux=True the function must return a tuple (output, aux), got "
                f"{type(out).__name__}"
            )
        primary, aux = out[0], out[1:]
        aux = aux[0] if len(aux) == 1 else tuple(aux)
    else:
        primary, aux = out, None
    ol, od = _flatten(primary, _is_leaf)
    if not ol:
        raise TypeError(
            f"jvp: the function must return a Tensor (or a tuple of them), got {primary!r}"[:300]
        )
    for o in ol:
        if not isinstance(o, Tensor):
            raise TypeError(
                f"jvp: the function must return Tensors (or tuples/lists/dicts of them), got "
                f"{type(o).__name__}"
            )
    prim = _unflatten(od, [level.unwrap(o) for o in ol])
    tans = _unflatten(od, [level.tangent_of(o) for o in ol])
    if has_aux:
        al, ad = _flatten(aux, _is_leaf)
        aux = _unflatten(ad, [level.unwrap(a) if isinstance(a, Tensor) else a for a in al])
        return prim, tans, aux
    return prim, tans


class GradOperation:
    """MindSpore's GradOperation: `GradOperation(get_all, get_by_list, sens_param)(fn[, weights])`.

    Calling it on `fn` (and the weights, with `get_by_list=True`) gives the gradient function:
    the gradient of the first input; of all inputs as a tuple (`get_all`); of the weights
    (`get_by_list`); both as `(inputs, weights)`. With `sens_param=True` the gradient function
    takes one more argument, the cotangent of the output.

    >>> from tapegrad import ops
    >>> f = lambda x, y: (x * y).sum()
    >>> x, y = tg.tensor([1.0, 2.0]), tg.tensor([3.0, 4.0])
    >>> ops.GradOperation()(f)(x, y)
    Tensor(shape=[2], dtype=Float32, value= [ 3.00000000e+00,  4.00000000e+00])
    >>> gx, gy = ops.GradOperation(get_all=True)(f)(x, y)
    >>> print(gx, gy)
    [3. 4.] [1. 2.]
    >>> w = tg.Parameter(tg.tensor([2.0]), name="w")
    >>> ops.GradOperation(get_by_list=True)(lambda x: (w * x).sum(), tg.ParameterTuple([w]))(x)
    (Tensor(shape=[1], dtype=Float32, value= [ 3.00000000e+00]),)
    >>> ops.GradOperation(sens_param=True)(lambda x: x * x)(x, tg.tensor([1.0, 0.5]))
    Tensor(shape=[2], dtype=Float32, value= [ 2.00000000e+00,  2.00000000e+00])
    """

    def __init__(self, get_all=False, get_by_list=False, sens_param=False):
        self.get_all = bool(get_all)
        self.get_by_list = bool(get_by_list)
        self.sens_param = bool(sens_param)

    def __call__(self, fn, weights=None):
        if not callable(fn):
            raise TypeError(f"GradOperation: fn must be callable, got {type(fn).__name__}")
        if self.get_by_list and weights is None:
            raise TypeError(
                "GradOperation(get_by_list=True) needs the weights: grad_op(fn, weights)"
            )
        ws, _ = _normalise_weights(weights, "GradOperation") if self.get_by_list else (None, False)
        get_all, get_by_list, sens_param = self.get_all, self.get_by_list, self.sens_param
        # The common cases in one C++ call (Note [One call per gradient]): every input or the first.
        fast_pos = None
        if not sens_param and not get_by_list:
            fast_pos = _GRAD_ALL if get_all else 0
        fast_flags = _GRAD_TUPLE if get_all else 0

        @functools.wraps(fn)
        def grad_fn(*args):
            if _GRAPH[0] and _mode.graph_mode_active():
                return _mode.run_graph(me(), me(), args, {})
            if fast_pos is not None and args:
                r = _grad_call(fn, args, fast_pos, fast_flags)
                if r is None or r.__class__ is list:
                    r = _grad_call_rest(r, fn, args, fast_pos, fast_flags, "GradOperation")
                if r is not None:
                    return r
            if sens_param:
                if not args:
                    raise TypeError(
                        "GradOperation(sens_param=True): the last argument must be the sensitivity"
                    )
                args, sens = args[:-1], args[-1]
                if sens is None:
                    raise TypeError(
                        "GradOperation(sens_param=True): the sensitivity (last argument) must be a "
                        "Tensor of the output's shape, got None"
                    )
            else:
                sens = None
            if get_all:
                positions = tuple(range(len(args)))
            elif get_by_list:
                positions = ()
            else:
                if not args:
                    raise TypeError(
                        "GradOperation: the function needs at least one input to differentiate"
                    )
                positions = (0,)
            args = _plain_to_tensors(args, positions)
            tr = _trace_reverse(fn, args, positions, ws, False, "GradOperation")
            cots = None
            if sens is not None:
                try:
                    cots = _check_cotangents(
                        sens, tr.out_leaves, "GradOperation(sens_param=True)", "sens"
                    )
                except BaseException:
                    _finish_writes(tr.writes, True)  # no sweep follows
                    raise
            grads = _sweep(tr, cots)
            n_in = len(tr.in_index)
            per, k = [], 0
            for td, n in tr.in_defs:
                per.append(_unflatten(td, grads[k : k + n]))
                k += n
            wg = tuple(grads[n_in:])
            if get_all and get_by_list:
                return tuple(per), wg
            if get_by_list:
                return wg
            if get_all:
                return tuple(per)
            return per[0]

        me = _SelfRef(grad_fn)  # Note [Self-reference by weakref]
        if fast_pos is None:
            return grad_fn
        return _c_grad_fn(fn, fast_pos, fast_flags, grad_fn, "GradOperation")


def _grad_aux_rest(r, flags, what):
    """The C gradient function's nested case with has_aux: fn ran once and returned `r[0]`; split
    it as _trace_reverse does, finish the sweep on its level and strip the aux."""
    out, level, wanted = r
    if not isinstance(out, tuple) or len(out) < 1:
        raise TypeError(
            f"{what}: with has_aux=True the function must return a tuple (output, *aux)"
        )
    primary, aux = out[0], out[1:]
    aux = aux[0] if len(aux) == 1 else tuple(aux)
    if not _flatten(primary, _is_leaf)[0]:
        raise TypeError(
            f"{what}: the function must return a Tensor (or a tuple of them), got {primary!r}"[:300]
        )
    value, grads = _finish_nested(primary, level, wanted, what)
    aux = _unflatten(*_flatten_map(aux, lambda t: level.unwrap(t) if isinstance(t, Tensor) else t))
    g = grads if flags & _GRAD_TUPLE else grads[0]
    return ((value, aux), g) if flags & _GRAD_VALUE else (g, aux)


def _c_positions(grad_position):
    """A tuple of int positions for the C gradient function, or None (then the Python function
    checks and normalises what it is given)."""
    if isinstance(grad_position, (tuple, list)) and grad_position:
        if all(type(p) is int for p in grad_position):
            return tuple(grad_position)
    return None


def _c_int(p):
    return -(2**31) <= p < 2**31


def _c_grad_fn(fn, position, flags, slow, what, positions=None):
    """The C object that runs `slow`'s fast path itself (Note [Gradient functions in C] in
    csrc/bindings/autodiff.cpp); `slow` (the Python closure) takes every other call. It gets
    fn's name, doc and __wrapped__ in slow's attribute dict (update_wrapper's work, in C).
    A position beyond a C int (it can only be out of range) stays with `slow`, whose call
    raises the IndexError naming it."""
    if not _c_int(position) or (positions is not None and not all(map(_c_int, positions))):
        return slow
    return _core._grad_fn(fn, position, flags, slow, _c_rest, _GRAPH, what, None, positions)


def _c_rest(r, args, fn, position, flags, what):
    """What a C gradient function leaves to Python after fn ran once: `r` is [out, level,
    wanted] for a gradient whose output (or aux) is a pytree, [rows, out_def, aux] for a
    Jacobian with a pytree output."""
    if flags & _core._JACOBIAN:
        rows, out_def, aux = r
        j = _unflatten(out_def, [row[0] for row in rows])
        return (j, aux) if flags & _core._JAC_HAS_AUX else j
    if flags & _GRAD_AUX:
        return _grad_aux_rest(r, flags, what)
    return _grad_call_rest(r, fn, args, position, flags, what)


def _tensor_tracked(data, dtype):
    """tg.tensor(data) when data holds tensors an active transform tracks: built by stacking them
    (and a copy through an op for a Tensor), so the derivative flows; None when nothing is tracked
    (the plain constructor then copies the numbers)."""
    found = []

    def scan(x, depth):
        if isinstance(x, Tensor):
            found.append(x)
        elif isinstance(x, (list, tuple)) and depth < 64:
            for v in x:
                scan(v, depth + 1)

    scan(data, 0)
    if not found or not _core._any_tracked(found):
        return None
    import tapegrad as tg

    def build(x):
        if isinstance(x, Tensor):
            return x * 1 if x.dtype.is_floating_point else x  # a copy that keeps the derivative
        if isinstance(x, (list, tuple)):
            if not x:
                return Tensor(x)
            return tg.stack([build(v) for v in x])
        return Tensor(x)

    t = build(data)
    return t if dtype is None else t.astype(dtype)


def stop_gradient(x):
    """`x` as a constant to every transform (its gradient is zero).

    Works on Tensors and on tuples, lists and dicts of them; the value is unchanged.

    >>> x = tg.tensor([1.0, 2.0])
    >>> tg.stop_gradient(x)
    Tensor(shape=[2], dtype=Float32, value= [ 1.00000000e+00,  2.00000000e+00])
    >>> tg.grad(lambda x: (x * tg.stop_gradient(x)).sum())(x)  # d(x * c)/dx = c
    Tensor(shape=[2], dtype=Float32, value= [ 1.00000000e+00,  2.00000000e+00])
    """
    leaves, td = _flatten(x, _is_leaf)
    return _unflatten(td, [_core.stop_gradient(v) if isinstance(v, Tensor) else v for v in leaves])


def checkpoint(fn):
    """`fn` whose intermediates are recomputed in the reverse sweep instead of stored.

    Trades compute for memory; values and gradients are those of `fn`. Random ops inside `fn` draw
    the same numbers in the recomputation as in the forward. Non-tensor arguments (and integer
    tensors) are constants; keyword arguments must not be tensors.

    >>> f = tg.checkpoint(lambda x: tg.sin(x) * x)
    >>> tg.grad(lambda x: f(x).sum())(tg.tensor([0.0, 1.0]))  # sin(x) + x cos(x)
    Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  1.38177...e+00])
    """
    from ._custom import custom_vjp

    if not callable(fn):
        raise TypeError(f"checkpoint: fn must be callable, got {type(fn).__name__}")

    def make(f):
        @custom_vjp
        def ck(*args):
            return f(*args)

        def fwd(*args):
            before = _core._rng_state()
            out = f(*args)
            after = _core._rng_state()
            # Random ops inside f: the recomputation must draw the same numbers (the state is put
            # back for it, then moved on to where it was).
            return out, (args, before if after != before else None)

        def bwd(res, g):
            args, state = res
            # Differentiate with respect to the float and complex tensors (and containers of them); numbers
            # and integer tensors are constants and get None.
            pos = [
                i
                for i, a in enumerate(args)
                if (isinstance(a, Tensor) and _inexact(a.dtype))
                or isinstance(a, (tuple, list, dict))
            ]

            def g_fn(*ts):
                full = list(args)
                for i, t in zip(pos, ts):
                    full[i] = t
                return f(*full)

            now = None
            if state is not None:
                now = _core._rng_state()
                _core._set_rng_state(*state)
            try:
                _, f_vjp = vjp(g_fn, *[args[i] for i in pos])
            finally:
                if now is not None:
                    _core._set_rng_state(*now)
            cts = f_vjp(g)
            res_cts = [None] * len(args)
            for i, c in zip(pos, cts):
                res_cts[i] = c
            return tuple(_none_tree(a) if c is None else c for a, c in zip(args, res_cts))

        ck.defvjp(fwd, bwd)
        return ck

    plain = make(fn)

    @functools.wraps(fn)
    def checkpointed(*args, **kwargs):
        # Forward mode (jvp, jacfwd, hessian) differentiates fn itself, as JAX's checkpoint does:
        # the custom_vjp below has no forward rule, and a forward sweep stores nothing to save.
        tensors = [v for v in _flatten(args, _is_leaf)[0] if isinstance(v, Tensor)]
        if tensors and _core._forward_tracked(tensors):
            return fn(*args, **kwargs)
        if not kwargs:
            return plain(*args)
        leaves, _ = _flatten(kwargs, _is_leaf)
        if any(isinstance(v, Tensor) for v in leaves):
            raise TypeError(
                "checkpoint: pass tensors positionally (keyword arguments are constants to the "
                "recomputation, and their gradient would be lost)"
            )
        return make(functools.partial(fn, **kwargs))(*args)

    return checkpointed


def _none_tree(a):
    """None for every leaf of `a` (the cotangent of a constant argument)."""
    leaves, td = _flatten(a, lambda x: not isinstance(x, (tuple, list, dict)))
    return _unflatten(td, [None] * len(leaves))
