"""numpy's override protocols on Tensor: ``__array_ufunc__`` (NEP 13) and ``__array_function__``
(NEP 18), so that numpy's own functions called on Tensors run tapegrad's ops.

``np.exp(t)``, ``np.sum(t)``, ``np.concatenate([t, t])``, ``np.dot(t, t)``, ``ndarray * t`` ... give
Tensors and are differentiated like ``tg.exp(t)`` etc.: numpy hands the call to the Tensor, which
runs the ``tapegrad.numpy`` function of the same name. numpy's keyword arguments that tapegrad has
no use for are accepted at their defaults (``out=None``, ``dtype=None``, ``where=True``,
``order='C'``, ``casting='same_kind'``, ...); any other value is a ``TypeError`` naming the function
and the argument. ``dtype=`` of a reduction converts the input first (``np.sum(t, dtype=np.float64)``).

A numpy function that tapegrad does not implement (``np.median``, ``np.polyfit``, ...) still works on
Tensors that no transform is tracing: it runs in numpy on the values and returns numpy's result (an
``ndarray``, not differentiated, as for any array-like). Inside ``grad``/``jvp``/``vmap``/``jit`` it
is a ``TypeError`` rather than a silently zero derivative. NEP 18 allows either (a ``NotImplemented``
would give a ``TypeError`` everywhere); tapegrad chooses numpy's values outside a transform because
code that merely inspects results (printing, plotting, tests) should keep working.

ufunc methods: ``__call__`` for every ufunc with a tapegrad function of the same meaning;
``reduce`` for add, multiply, maximum, minimum, logical_and, logical_or (``np.add.reduce(t)`` is
``sum`` over axis 0); ``accumulate`` for add and multiply; ``outer`` for every supported ufunc.
An ``out=`` ndarray (``ndarray += t``) is written in place with the values (not differentiated,
as the ndarray cannot carry a derivative); ``out=`` Tensors are a ``TypeError``, and so are numpy's
functions that write into an argument (``np.add.at``, ``np.copyto``, ``np.put``, ``np.fill_diagonal``,
...), whose write would otherwise land in a converted copy and be lost.
"""

from __future__ import annotations

import inspect
import re

import numpy as np

from ._core import Tensor

__all__: list[str] = []

# numpy ufunc name -> tapegrad.numpy name, where they differ.
_UFUNC_ALIAS = {
    "subtract": "subtract",
    "multiply": "multiply",
    "divide": "divide",
    "true_divide": "divide",
    "power": "pow",
    "absolute": "abs",
    "fabs": "abs",
    "rint": "round",
    "negative": "negative",
    "conjugate": "conj",
    "conj": "conj",
    "left_shift": "bitwise_left_shift",
    "right_shift": "bitwise_right_shift",
    "invert": "bitwise_invert",
}
_UFUNC_REDUCE = {
    "add": "sum",
    "multiply": "prod",
    "maximum": "max",
    "minimum": "min",
    "logical_and": "all",
    "logical_or": "any",
}
_UFUNC_ACCUMULATE = {"add": "cumsum", "multiply": "cumprod"}

_NOVALUE = np._NoValue

# numpy keyword arguments that tapegrad accepts only at numpy's default (name -> allowed values).
_DEFAULTS = {
    "out": (None,),
    "where": (True, _NOVALUE),
    "initial": (_NOVALUE,),
    "order": ("C", "K", "A", None),
    "casting": ("same_kind",),
    "subok": (True,),
    "like": (None,),
    "copy": (None, True),
    "mean": (_NOVALUE,),
    "signature": (None,),
    "extobj": (None,),
    "device": (None, "cpu", "CPU"),
    "mode": ("raise",),
}


_TNP = []


def _tnp():
    if not _TNP:
        from . import numpy as tnp

        _TNP.append(tnp)
    return _TNP[0]


_UFUNC_FN: dict = {}


def _ufunc_fn(ufunc):
    """The tapegrad.numpy function for a ufunc (None when there is none), cached."""
    try:
        return _UFUNC_FN[ufunc]
    except KeyError:
        name = ufunc.__name__
        fn = _UFUNC_FN[ufunc] = getattr(_tnp(), _UFUNC_ALIAS.get(name, name), None)
        return fn


def _contains_tensor(obj, pred):
    if isinstance(obj, Tensor):
        return pred(obj)
    if isinstance(obj, (list, tuple)):
        return any(_contains_tensor(o, pred) for o in obj)
    if isinstance(obj, dict):
        return any(_contains_tensor(o, pred) for o in obj.values())
    return False


def _to_numpy(obj):
    if isinstance(obj, Tensor):
        return obj.numpy()
    if isinstance(obj, list):
        return [_to_numpy(o) for o in obj]
    if isinstance(obj, tuple):
        return tuple(_to_numpy(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _to_numpy(v) for k, v in obj.items()}
    return obj


def _is_default(name, value):
    return any(
        value is d or (not isinstance(value, np.ndarray) and type(value) is type(d) and value == d)
        for d in _DEFAULTS[name]
    )


_SIG_RE = re.compile(r"^\w+\((.*?)\)\s*->")


_PARAMS_CACHE: dict = {}


def _param_names(fn):
    """Parameter names of a tapegrad function (Python, or C++ through pybind11's signature line)."""
    names = _PARAMS_CACHE.get(fn)
    if names is not None:
        return names
    try:
        names = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        m = _SIG_RE.match((fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else "")
        names = (
            [
                p.split(":")[0].split("=")[0].strip().lstrip("*")
                for p in m.group(1).split(",")
                if p.strip()
            ]
            if m
            else []
        )
    _PARAMS_CACHE[fn] = names
    return names


_SIG_CACHE: dict = {}


def _np_signature(func):
    sig = _SIG_CACHE.get(func)
    if sig is None:
        sig = _SIG_CACHE[func] = inspect.signature(func)
    return sig


_BIND_CACHE: dict = {}


def _bind(func, args, kwargs):
    """numpy's `func`'s parameters -> the values given, in the signature's order (a light
    ``Signature.bind``: that one costs more than the op itself)."""
    info = _BIND_CACHE.get(func)
    if info is None:
        params = _np_signature(func).parameters
        P = inspect.Parameter
        simple = not any(p.kind in (P.VAR_POSITIONAL, P.VAR_KEYWORD) for p in params.values())
        positional = [
            n for n, p in params.items() if p.kind in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)
        ]
        keywords = {
            n for n, p in params.items() if p.kind in (P.POSITIONAL_OR_KEYWORD, P.KEYWORD_ONLY)
        }
        info = _BIND_CACHE[func] = (simple, positional, keywords, list(params))
    simple, positional, keywords, order = info
    if not simple or len(args) > len(positional) or not keywords.issuperset(kwargs):
        return (
            _np_signature(func).bind(*args, **kwargs).arguments
        )  # the general case, and its errors
    given = dict(zip(positional, args))
    for k, v in kwargs.items():
        if k in given:
            raise TypeError(
                f"{getattr(func, '__name__', func)}() got multiple values for argument {k!r}"
            )
        given[k] = v
    return {n: given[n] for n in order if n in given}


def _call_numpy_style(func, fn, args, kwargs, fname):
    """Call tapegrad's `fn` with numpy's `func`'s arguments: defaults dropped, `dtype` applied."""
    arguments = _bind(func, args, kwargs)
    params = _np_signature(func).parameters
    gnames = _param_names(fn)
    pos, kw, cast, prefix = [], {}, None, True
    for name, value in arguments.items():
        kind = params[name].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:
            pos.extend(value)
            continue
        if kind is inspect.Parameter.VAR_KEYWORD:
            for k, v in value.items():
                if k in gnames and k not in kw:  # np.pad(..., constant_values=...)
                    kw[k] = v
                    continue
                if k in _DEFAULTS and _is_default(k, v):
                    continue
                raise TypeError(f"numpy.{fname} on Tensors: {k}={v!r} is not supported by tapegrad")
            continue
        if name == "dtype" and "dtype" not in gnames:
            prefix = False
            if value is not None:
                cast = value
            continue
        if name == "correction" and value is not _NOVALUE:
            name = "ddof"
        # Options tapegrad's function takes itself (np.pad's mode, reshape's copy) go to it; the
        # others only at numpy's default.
        if name in _DEFAULTS and name not in gnames:
            prefix = False
            if _is_default(name, value):
                continue
            raise TypeError(
                f"numpy.{fname} on Tensors: {name}={value!r} is not supported by tapegrad "
                f"(only numpy's default {_DEFAULTS[name][0]!r})"
            )
        if value is _NOVALUE:
            prefix = False
            continue
        gname = {"a_min": "min", "a_max": "max", "newshape": "shape"}.get(name, name)
        if kind is inspect.Parameter.KEYWORD_ONLY:  # numpy's keyword-only ones go by name
            prefix = False
        if prefix and (gname not in gnames or gnames.index(gname) == len(pos)):
            pos.append(value)
        elif gname in gnames:
            kw[gname] = value
            prefix = False
        else:
            raise TypeError(
                f"numpy.{fname} on Tensors: argument {name!r} is not supported by tapegrad"
            )
    if cast is not None and pos and isinstance(pos[0], Tensor) and fname in _CAST_INPUT:
        pos[0] = pos[0].astype(cast)
        cast = None
    out = fn(*pos, **kw)
    if cast is not None and isinstance(out, Tensor):
        out = out.astype(cast)
    return out


_CAST_INPUT = {
    "sum",
    "prod",
    "mean",
    "cumsum",
    "cumprod",
    "nansum",
    "var",
    "std",
    "trace",
    "cumulative_sum",
    "cumulative_prod",
    "average",
}

_HANDLED: dict = {}
_NOT_DISPATCHED = {
    "array",
    "asarray",
    "ndarray",
    "dtype",
    "finfo",
    "iinfo",
    "result_type",
    "can_cast",
    "isdtype",
    "e",
    "pi",
    "inf",
    "nan",
    "newaxis",
}


def _handled():
    """numpy function -> (tapegrad function, name): every numpy function (top level and
    numpy.linalg) with a tapegrad.numpy / tapegrad.linalg function of the same name."""
    if _HANDLED:
        return _HANDLED
    tnp = _tnp()
    from . import linalg as tla

    for space, mine in ((np, tnp), (np.linalg, tla)):
        for name in dir(mine):
            if name.startswith("_") or name in _NOT_DISPATCHED:
                continue
            func = getattr(space, name, None)
            fn = getattr(mine, name)
            if (
                func is None
                or isinstance(func, np.ufunc)
                or not callable(fn)
                or isinstance(fn, type)
            ):
                continue
            if not hasattr(func, "_implementation"):
                continue  # not dispatched through __array_function__
            _HANDLED[func] = (fn, name)
    _HANDLED[np.where] = (_np_where, "where")
    _HANDLED[np.round] = (_np_round, "round")
    _HANDLED[np.around] = (_np_round, "round")
    return _HANDLED


def _np_where(condition, x=None, y=None):
    tnp = _tnp()
    if x is None and y is None:
        return tnp.nonzero(condition)
    if x is None or y is None:
        raise ValueError(
            "numpy.where on Tensors: either both or neither of x and y should be given"
        )
    return tnp.where(condition, x, y)


def _np_round(a, decimals=0, out=None):
    if out is not None:
        raise TypeError("numpy.round on Tensors: out= is not supported by tapegrad")
    return _tnp().round(a, decimals)


# numpy functions that write into an argument: on a converted copy the write would be lost.
_IN_PLACE = {"copyto", "put", "place", "putmask", "fill_diagonal", "put_along_axis"}


def _not_handled(what, args, kwargs, run):
    if what.rsplit(".", 1)[-1] in _IN_PLACE or _contains_tensor(kwargs.get("out"), lambda t: True):
        raise TypeError(
            f"{what} writes into its argument, which tapegrad does not support for Tensors "
            "(write with indexing: t[index] = value)"
        )
    if _contains_tensor((args, kwargs), lambda t: t._is_tracked()):
        raise TypeError(
            f"{what} is not implemented by tapegrad, so it cannot be differentiated, vmapped or jitted; "
            "use the tapegrad.numpy functions, or compute it outside the transform"
        )
    return run(*_to_numpy(args), **_to_numpy(kwargs))


def _array_function(self, func, types, args, kwargs):
    """numpy's NEP 18 hook: ``np.sum(t)``, ``np.concatenate([t, t])`` etc. run tapegrad's function of
    the same name and give Tensors (differentiable); see the module docs for the rest.

    >>> t = tg.tensor([1.0, 2.0, 3.0])
    >>> np.sum(t)
    Tensor(shape=[], dtype=Float32, value= 6)
    >>> tg.grad(lambda x: np.sum(np.concatenate([x, x]) ** 2))(t)
    Tensor(shape=[3], dtype=Float32, value= [ 4.00000000e+00,  8.00000000e+00,  1.20000000e+01])
    >>> np.median(t)  # not in tapegrad: numpy's value (an ndarray)
    np.float32(2.0)
    """
    for t in types:
        if not (issubclass(t, Tensor) or issubclass(t, np.ndarray)):
            return NotImplemented
    entry = _handled().get(func)
    if entry is None:
        name = getattr(func, "__module__", "numpy") + "." + getattr(func, "__name__", str(func))
        return _not_handled(name, args, kwargs, func)
    fn, name = entry
    if fn in (_np_where, _np_round):
        return fn(*args, **kwargs)
    return _call_numpy_style(func, fn, args, kwargs, name)


def _as_operand(x):
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x)) if isinstance(x, np.ndarray) else x


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    """numpy's NEP 13 hook: ``np.exp(t)``, ``np.maximum(t, 0)``, ``ndarray * t`` run tapegrad's ops and
    give Tensors (differentiable); see the module docs for the methods and ``out=``.

    >>> t = tg.tensor([1.0, 2.0])
    >>> np.exp(t)
    Tensor(shape=[2], dtype=Float32, value= [ 2.71828175e+00,  7.38905621e+00])
    >>> np.array([2.0, 3.0], np.float32) * t
    Tensor(shape=[2], dtype=Float32, value= [ 2.00000000e+00,  6.00000000e+00])
    >>> np.add.reduce(t)
    Tensor(shape=[], dtype=Float32, value= 3)
    """
    if method == "__call__" and not kwargs:  # the operator path (ndarray * t): no keywords to check
        fn = _ufunc_fn(ufunc)
        if fn is not None:
            return fn(*inputs)  # tapegrad's functions take ndarrays as they are
    tnp = _tnp()
    out = kwargs.pop("out", None)
    name = ufunc.__name__
    what = f"numpy.{name}" + ("" if method == "__call__" else f".{method}")
    for k, v in kwargs.items():
        if k == "dtype" or (k in _DEFAULTS and _is_default(k, v)):
            continue
        if method in ("reduce", "accumulate") and k in ("axis", "keepdims"):
            continue
        raise TypeError(f"{what} on Tensors: {k}={v!r} is not supported by tapegrad")
    dtype = kwargs.get("dtype")
    if method == "__call__":
        fn = getattr(tnp, _UFUNC_ALIAS.get(name, name), None)
        if fn is None:
            return _ufunc_fallback(what, ufunc, method, inputs, out, kwargs)
        result = fn(*[_as_operand(x) for x in inputs])
    elif method == "reduce" and name in _UFUNC_REDUCE:
        (x,) = inputs
        axis = kwargs.get("axis", 0)
        x = _as_operand(x)
        if dtype is not None:
            x, dtype = x.astype(dtype), None
        result = getattr(tnp, _UFUNC_REDUCE[name])(
            x, axis=axis, keepdims=bool(kwargs.get("keepdims", False))
        )
    elif method == "accumulate" and name in _UFUNC_ACCUMULATE:
        (x,) = inputs
        x = _as_operand(x)
        if dtype is not None:
            x, dtype = x.astype(dtype), None
        result = getattr(tnp, _UFUNC_ACCUMULATE[name])(x, axis=kwargs.get("axis", 0))
    elif method == "outer" and getattr(tnp, _UFUNC_ALIAS.get(name, name), None) is not None:
        a, b = (tnp.asarray(_as_operand(x)) for x in inputs)
        a = a.reshape(a.shape + (1,) * b.ndim)
        result = getattr(tnp, _UFUNC_ALIAS.get(name, name))(a, b)
    else:
        return _ufunc_fallback(what, ufunc, method, inputs, out, kwargs)
    if dtype is not None:
        result = result.astype(dtype)
    if out is None:
        return result
    return _write_out(what, out, result)


def _write_out(what, out, result):
    outs = out if isinstance(out, tuple) else (out,)
    results = result if isinstance(result, tuple) else (result,)
    if any(isinstance(o, Tensor) for o in outs):
        raise TypeError(
            f"{what}: out= Tensors are not supported by tapegrad (write `t[...] = value`)"
        )
    if _contains_tensor(results, lambda t: t._is_tracked()):
        raise TypeError(f"{what}: out= ndarray cannot hold a value that a transform is tracing")
    for o, r in zip(outs, results):
        if o is not None:
            np.copyto(o, r.numpy(), casting="same_kind")
    return out[0] if isinstance(out, tuple) and len(out) == 1 else out


def _ufunc_fallback(what, ufunc, method, inputs, out, kwargs):
    if method == "at":
        raise TypeError(
            f"{what} writes into its argument, which tapegrad does not support for Tensors "
            "(write with indexing: t[index] = value)"
        )
    if out is not None:
        kwargs = dict(kwargs, out=out)
    return _not_handled(what, inputs, kwargs, getattr(ufunc, method))


Tensor.__array_function__ = _array_function
Tensor.__array_ufunc__ = _array_ufunc
