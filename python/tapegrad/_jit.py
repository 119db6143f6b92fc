"""tg.jit: a function recorded once per input signature and replayed in C++ afterwards (Note [Tape
replay] in csrc/autodiff/trace.h). Python only splits the arguments into traced tensors and a
static part; recording, guards and replay are C++."""
from __future__ import annotations

import dataclasses as _dataclasses
import functools
import numbers
import struct as _struct
import weakref as _weakref

import numpy as _np

from . import _core
from ._core import Tensor
from ._tree import flatten as _flatten
from ._tree import unflatten as _unflatten

__all__ = ["jit"]


class _TensorSlot:
    """Marks where a traced tensor goes when a static structure is filled in again."""

    __slots__ = ()

    def __repr__(self):
        return "<tensor>"


_TENSOR = _TensorSlot()


def _is_leaf(x):
    return not isinstance(x, (tuple, list, dict))


def _flatten_out(out):
    leaves, td = _flatten(out, _is_leaf)
    tensors = [v for v in leaves if isinstance(v, Tensor)]
    return tensors, (td, tuple(_TENSOR if isinstance(v, Tensor) else v for v in leaves))


def _unflatten_out(tree, tensors):
    td, statics = tree
    it = iter(tensors)
    return _unflatten(td, [next(it) if s is _TENSOR else s for s in statics])


class _Uncacheable(Exception):
    """A static argument that no key can identify correctly: the call runs eagerly."""


class _WeakKey:
    """Identifies an object whose equality is identity (a Cell, a module, a function) without
    keeping it alive: a dead referent never equals a live one, so a reused id() cannot collide."""

    __slots__ = ("__weakref__", "h", "ref")

    def __init__(self, v):
        self.ref = _weakref.ref(v)
        self.h = id(v)

    def __hash__(self):
        return self.h

    def __eq__(self, other):
        return type(other) is _WeakKey and self.ref == other.ref

    def dead(self):
        return self.ref() is None


def _float_key(v):
    # The bit pattern: 0.0 and -0.0 differ, NaN equals the same NaN (== would say the opposite).
    return _struct.pack("<d", v)


def _canon(v, weak):
    """A hashable key for a static argument that is equal for two arguments only when the function
    cannot tell them apart: the type always takes part (True, 1 and 1.0 differ), floats by their
    bits, containers and dataclasses by their contents, objects compared by identity by a weak
    reference (collected in `weak`). Raises _Uncacheable when no such key exists."""
    t = type(v)
    if v is None or t is bool or t is int or t is str or t is bytes:
        return (t, v)
    if t is float:
        return (t, _float_key(v))
    if t is complex:
        return (t, _float_key(v.real), _float_key(v.imag))
    if isinstance(v, _np.generic):
        return (t, v.dtype.str, v.tobytes())
    if t in (tuple, list) or (isinstance(v, tuple) and hasattr(v, "_fields")):
        return (t, tuple(_canon(x, weak) for x in v))
    if t in (frozenset, set):
        return (t, frozenset(_canon(x, weak) for x in v))
    if t is dict:
        return (t, tuple(sorted(((_canon(k, weak), _canon(x, weak)) for k, x in v.items()), key=repr)))
    if t is slice:
        return (t, _canon(v.start, weak), _canon(v.stop, weak), _canon(v.step, weak))
    if isinstance(v, type) or (callable(v) and t.__eq__ is object.__eq__):
        pass  # classes, functions: identity (below)
    elif _dataclasses.is_dataclass(v):
        return (t, tuple((f.name, _canon(getattr(v, f.name), weak)) for f in _dataclasses.fields(v)))
    elif isinstance(v, numbers.Number):
        try:
            hash(v)
        except TypeError:
            raise _Uncacheable(f"an unhashable number of type {t.__name__}") from None
        return (t, v)
    if t.__eq__ is object.__eq__ and t.__hash__ is object.__hash__:
        # Equality is identity: key by a weak reference when the object allows one.
        try:
            k = _WeakKey(v)
        except TypeError:
            return (t, "id", v)  # kept alive by the cache, so its id cannot be reused
        weak.append(k)
        return (t, k)
    try:
        hash(v)
    except TypeError:
        raise _Uncacheable(f"a static argument of type {t.__name__} is unhashable") from None
    return (t, "eq", v)  # its own __eq__/__hash__ (JAX's rule for static arguments)


class JitFunction(_core._JitFunction):
    """`fn` recorded on its first call for each input signature and replayed in C++ afterwards.

    Tensor arguments (also inside tuples, lists and dicts, and numpy arrays) are traced; every other
    argument is static: a new value means a new recording. Each `bool()`, `item()`, `float()` or
    numpy conversion of a traced value inside `fn` is a recorded decision, re-checked on replay;
    when one comes out differently the function is recorded again. Random draws are recorded (a
    replay draws fresh numbers). Functions that write in place into tensors that are not their
    arguments, or call set_seed, cannot be replayed and run eagerly (same values, no speed-up). Python side effects inside `fn` (printing, appending to a
    list) happen when it is recorded, not on replays. Tensors `fn` closes over are read afresh on
    every replay (every op is recorded, also those on constants), so a parameter updated in place
    between calls is seen with its new value.

    >>> import tapegrad as tg
    >>> @tg.jit
    ... def f(x):
    ...     return (x * x).sum()
    >>> f(tg.tensor([1.0, 2.0]))
    Tensor(shape=[], dtype=Float32, value= 5)
    >>> f(tg.tensor([3.0, 4.0]))  # replayed: the Python body does not run again
    Tensor(shape=[], dtype=Float32, value= 25)
    >>> f.cache_info()["replays"]
    1
    """

    # __call__ is C++ (positional Tensor arguments go straight to the cache); anything else comes
    # here.
    def __init__(self, fn):
        if not callable(fn):
            raise TypeError(f"jit: fn must be callable, got {type(fn).__name__}")
        super().__init__(fn, _flatten_out, _unflatten_out)
        # Copies fn.__dict__ too; `_fn` is a read-only C++ property, so skip it when fn is jitted.
        functools.update_wrapper(self, fn, updated=())
        self.__dict__.update({k: v for k, v in getattr(fn, "__dict__", {}).items() if k != "_fn"})

    def _call_general(self, *args, **kwargs):
        leaves, td = _flatten((args, kwargs), _is_leaf)
        tensors, statics, key, weak = [], [], [], []
        fn = self._fn
        try:
            for v in leaves:
                if isinstance(v, _np.ndarray):
                    v = Tensor(v)
                if isinstance(v, Tensor):
                    tensors.append(v)
                    statics.append(_TENSOR)
                else:
                    statics.append(v)
                    key.append(_canon(v, weak))
        except _Uncacheable:
            # No key can tell two such arguments apart correctly: run the function as it is.
            self._eager_calls = getattr(self, "_eager_calls", 0) + 1
            return fn(*args, **kwargs)
        if weak:
            self._watch(weak)

        def flat(*ts):
            it = iter(ts)
            a, kw = _unflatten(td, [next(it) if s is _TENSOR else s for s in statics])
            return fn(*a, **kw)

        return self._call(flat, tuple(tensors), (td, tuple(key), tuple(weak)))

    def _watch(self, weak):
        """Forget the recordings keyed by an object once it is collected (a Cell whose class has a
        jitted construct): its programs hold its parameters."""
        watched = self.__dict__.setdefault("_watched", {})
        for k in weak:
            if k.h in watched and watched[k.h][0] == k.ref:
                continue
            obj = k.ref()
            if obj is None:
                continue
            try:
                fin = _weakref.finalize(obj, _purge, _weakref.ref(self))
            except TypeError:
                continue
            fin.atexit = False
            watched[k.h] = (k.ref, fin)

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return functools.partial(self, obj)

    def cache_info(self):
        """Counts of recordings and replays, and why any signature runs eagerly.

        >>> import tapegrad as tg
        >>> f = tg.jit(lambda x: x + 1)
        >>> _ = f(tg.ones(2)); _ = f(tg.ones(2))
        >>> info = f.cache_info()
        >>> info["records"], info["replays"]
        (1, 1)
        """
        return self._stats()

    def clear_cache(self):
        """Forget every recording (the next call records again).

        >>> import tapegrad as tg
        >>> f = tg.jit(lambda x: x + 1)
        >>> _ = f(tg.ones(2)); f.clear_cache()
        >>> f.cache_info()["programs"]
        0
        """
        self._clear()


def _purge(self_ref):
    self = self_ref()
    if self is None:
        return
    self._drop_entries(lambda key: any(k.dead() for k in key[2]))
    watched = self.__dict__.get("_watched", {})
    for h in [h for h, (r, _) in watched.items() if r() is None]:
        del watched[h]


def jit(fn=None, **options):
    """Record `fn` once per input signature and replay it in C++ afterwards (API.md section 6).
    Also usable as a decorator, with or without options (MindSpore's ``@jit``; its options such as
    ``mode`` or ``jit_config`` are accepted and ignored).

    >>> import tapegrad as tg
    >>> g = tg.jit(tg.grad(lambda x: (tg.sin(x) * x).sum()))
    >>> print(g(tg.tensor([0.0, 1.0])))
    [0.        1.3817732]
    """
    if fn is None:
        return lambda f: jit(f, **options)
    if isinstance(fn, JitFunction):
        return fn
    return JitFunction(fn)
