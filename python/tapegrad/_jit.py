"""tg.jit: a function recorded once per input signature and replayed in C++ afterwards (Note [Tape
replay] in csrc/autodiff/trace.h). Python only splits the arguments into traced tensors and a
static part; recording, guards and replay are C++."""

from __future__ import annotations

import dataclasses as _dataclasses
import functools
import os
import struct as _struct
import sys
import weakref as _weakref

import numpy as _np

from . import _args, _core
from ._core import Tensor
from ._tree import flatten as _flatten
from ._tree import unflatten as _unflatten

__all__ = ["jit"]

# Default of tg.jit's `fuse` option (Note [Fused replay] in csrc/autodiff/fusion.h): the
# environment variable TAPEGRAD_JIT_FUSE=0, read once at import, turns fusion off for every tg.jit
# that does not say `fuse=` (to compare fused and plain replays, e.g. in the test suite).
FUSE_DEFAULT = os.environ.get("TAPEGRAD_JIT_FUSE", "1").strip().lower() not in (
    "0",
    "false",
    "off",
    "no",
)


class _TensorSlot:
    """Marks where a traced tensor goes when a static structure is filled in again."""

    __slots__ = ()

    def __repr__(self):
        return "<tensor>"


_TENSOR = _TensorSlot()


def _is_leaf(x):
    return not isinstance(x, (tuple, list, dict)) or _args.is_number_list(x)


def _flatten_out(out):
    # A plain tuple of Tensors (value_and_grad's (value, grad)) is the int n: the C++ replay
    # builds the tuple itself, with no Python call per replay.
    if type(out) is tuple and out and all(isinstance(v, Tensor) for v in out):
        return list(out), len(out)
    leaves, td = _flatten(out, _is_leaf)
    tensors = [v for v in leaves if isinstance(v, Tensor)]
    return tensors, (td, tuple(_TENSOR if isinstance(v, Tensor) else v for v in leaves))


def _unflatten_out(tree, tensors):
    if type(tree) is int:
        return tuple(tensors)
    td, statics = tree
    it = iter(tensors)
    return _unflatten(td, [next(it) if s is _TENSOR else s for s in statics])


class _Uncacheable(Exception):
    """A static argument that no key can identify correctly: the call runs eagerly."""


_ATOMS = frozenset({type(None), bool, int, str, bytes})
_KINDS = {}  # type -> how its values are keyed (decided once per type)


def _kind_of(t):
    if t in (tuple, list) or (issubclass(t, tuple) and hasattr(t, "_fields")):
        return "seq"
    if t in (frozenset, set):
        return "set"
    if t is dict:
        return "dict"
    if t is slice:
        return "slice"
    if t is complex:
        return "complex"
    if issubclass(t, _np.generic):
        return "np"
    if issubclass(t, type):
        return "ident"
    if _dataclasses.is_dataclass(t):
        return "dataclass"
    if t.__eq__ is object.__eq__ and t.__hash__ is object.__hash__:
        return "ident"
    if t.__hash__ is None:
        return "unhashable"
    return "eq"


def _canon(v, weak):
    """A hashable key for a static argument that is equal for two arguments only when the function
    cannot tell them apart: the type always takes part (True, 1 and 1.0 differ), floats by their
    bits where == would mislead (0.0 and -0.0, NaN), containers and dataclasses by their contents,
    objects compared by identity by a weak reference (collected in `weak`). Raises _Uncacheable
    when no such key exists."""
    t = type(v)
    if t in _ATOMS:
        return (t, v)
    if t is float:
        return (t, v) if v == v and v != 0.0 else (t, _struct.pack("<d", v))
    kind = _KINDS.get(t)
    if kind is None:
        kind = _KINDS[t] = _kind_of(t)
    if kind == "seq":
        return (t, tuple([_canon(x, weak) for x in v]))
    if kind == "ident":
        # A weak reference: hashed and compared as its referent (by identity here) while alive; a
        # dead one equals only itself, so a reused id() never matches it.
        try:
            k = _weakref.ref(v)
        except TypeError:
            return (t, "id", v)  # kept alive by the cache, so its id cannot be reused
        weak.append(k)
        return (t, k)
    if kind == "dict":
        return (
            t,
            tuple(sorted(((_canon(k, weak), _canon(x, weak)) for k, x in v.items()), key=repr)),
        )
    if kind == "set":
        return (t, frozenset([_canon(x, weak) for x in v]))
    if kind == "slice":
        return (t, _canon(v.start, weak), _canon(v.stop, weak), _canon(v.step, weak))
    if kind == "complex":
        return (t, _struct.pack("<dd", v.real, v.imag))
    if kind == "np":
        return (t, v.dtype.str, v.tobytes())
    if kind == "dataclass":
        return (
            t,
            tuple([(f.name, _canon(getattr(v, f.name), weak)) for f in _dataclasses.fields(v)]),
        )
    try:
        hash(v)
    except TypeError:
        raise _Uncacheable(f"a static argument of type {t.__name__} is unhashable") from None
    if isinstance(v, float):  # a float subclass: by bits too
        return (t, _struct.pack("<d", v))
    return (t, "eq", v)  # its own __eq__/__hash__ (JAX's rule for static arguments)


class JitFunction(_core._JitFunction):
    """`fn` recorded on its first call for each input signature and replayed in C++ afterwards.

    Tensor arguments (also inside tuples, lists and dicts), numpy arrays, numpy scalars and lists
    of numbers are traced; every other argument (Python scalars too) is static: a new value means a
    new recording. Each `bool()`, `item()`, `float()` or
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
    def __init__(self, fn, fuse=None):
        if not callable(fn):
            raise TypeError(f"jit: fn must be callable, got {type(fn).__name__}")
        try:
            _ = self._fn
        except TypeError:
            pass  # not initialised yet: the normal case
        else:
            raise TypeError(
                "jit: a jitted function cannot be initialised again; make a new one with tg.jit(fn)"
            )
        if fuse is None:
            fuse = FUSE_DEFAULT
        if not isinstance(fuse, bool):
            raise TypeError(f"jit: fuse must be True or False, got {type(fuse).__name__}")
        super().__init__(fn, _flatten_out, _unflatten_out, _bindings_of, fuse)
        # Copies fn.__dict__ too; `_fn` is a read-only C++ property, so skip it when fn is jitted.
        functools.update_wrapper(self, fn, updated=())
        self.__dict__.update({k: v for k, v in getattr(fn, "__dict__", {}).items() if k != "_fn"})

    def _call_general(self, *args, **kwargs):
        if not kwargs and all(isinstance(a, Tensor) or _args.is_array_data(a) for a in args):
            # numpy arrays/scalars and number lists as Tensors: then the C++ call takes them
            return self(*[a if isinstance(a, Tensor) else Tensor(a) for a in args])
        leaves, td = _flatten((args, kwargs), _is_leaf)
        tensors, statics, key, weak = [], [], [], []
        fn = self._fn
        try:
            for v in leaves:
                if _args.is_array_data(v):  # numpy arrays and scalars, lists of numbers (_args.py)
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
        watched = self.__dict__.get("_watched")
        if watched is None:
            watched = self.__dict__["_watched"] = {}
        for r in weak:
            if r in watched:
                continue
            obj = r()
            if obj is None:
                continue
            fin = _weakref.finalize(obj, _purge, _weakref.ref(self))
            fin.atexit = False
            watched[r] = fin

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return functools.partial(self, obj)

    def __reduce__(self):
        # Pickled as its Python function, never its recordings: the copy records again where it
        # is loaded (a Dask worker). A module-level `@tg.jit def f` is found again by name (the
        # same object, cache and all, in the loading process); otherwise the function itself goes
        # into the stream (by reference under plain pickle, by value for closures and __main__
        # under cloudpickle, which is how Dask sends functions).
        mod, qual = self.__dict__.get("__module__"), self.__dict__.get("__qualname__")
        if isinstance(mod, str) and isinstance(qual, str) and mod != "__main__" and "<" not in qual:
            obj = sys.modules.get(mod)
            for part in qual.split("."):
                obj = getattr(obj, part, None)
            if obj is self:
                return qual
        if self._fuse != FUSE_DEFAULT:
            return (_jit_fused, (self._fn, self._fuse))
        return (jit, (self._fn,))

    def cache_info(self):
        """Counts of recordings and replays, and why any signature runs eagerly.

        >>> import tapegrad as tg
        >>> f = tg.jit(lambda x: x + 1)
        >>> _ = f(tg.ones(2)); _ = f(tg.ones(2))
        >>> info = f.cache_info()
        >>> info["records"], info["replays"]
        (1, 1)

        ``records`` counts the times the function was recorded (once per signature, again when a
        guard or a rebound outside tensor asks; ``explain()`` lists the ops each recording holds),
        ``replays`` the calls that replayed a recording, ``programs`` the recordings kept.
        ``arena_buffers`` and ``arena_bytes`` are what the recordings' arenas hold for the
        intermediates of fused replays (see ``docs/autodiff.md``, Memory plan).
        """
        return self._stats()

    def explain(self):
        """The fused groups of each recording, as text (Note [Fused replay]).

        A replay runs chains of elementwise ops (with partial broadcasts, and a sum, max or min
        over all axes, over the last axis or over other axes, that ends one)
        as one pass over the data in cache-sized
        blocks, when they have at least 4096 elements; each group lists the steps left after
        removing repeated and unused ones and folding exact constants (``x*1``, ``x**1``; sin and
        cos of one value become one `sincos` step), the records they come from, the counts of what
        was removed and the group's register program (``r<i>`` registers, the inputs a step
        reads first; ``out<j>`` the group's outputs; ``res<j>`` its reduction results).

        >>> import tapegrad as tg
        >>> g = tg.jit(tg.grad(lambda x: (tg.sin(x) * x).sum()))
        >>> _ = g(tg.ones(10**5))
        >>> print(g.explain())  # doctest: +ELLIPSIS
        program 0: ... ops recorded, 1 fused group(s):
          group 0: 100000 elements, ... ops -> ... steps [...], 1 inputs, 1 outputs, 0 reductions
            simplified: 2 folded, 0 repeated, 0 dead, 1 trig pair(s) merged
            program: r1,r2=sincos(r0); r3=mul(r0,r2); out0=add(r1,r3);
          dropped: 2 dead op(s), 0 op(s) identical to an earlier one
          op by op: ...
        """
        return self._explain()

    def clear_cache(self):
        """Forget every recording (the next call records again).

        >>> import tapegrad as tg
        >>> f = tg.jit(lambda x: x + 1)
        >>> _ = f(tg.ones(2)); f.clear_cache()
        >>> f.cache_info()["programs"]
        0
        """
        self._clear()


def _bindings_of(fn):
    """(cell, None, tensor) and (globals, name, tensor) for the tensors `fn` names from outside:
    the cache is dropped when one of them is rebound to another object."""
    f = getattr(fn, "__func__", fn)
    code = getattr(f, "__code__", None)
    if code is None:
        return ()
    out = []
    for cell in getattr(f, "__closure__", None) or ():
        try:
            v = cell.cell_contents
        except ValueError:
            continue
        if isinstance(v, Tensor):
            out.append((cell, None, v))
    g = getattr(f, "__globals__", None)
    if isinstance(g, dict):
        for name in code.co_names:
            v = g.get(name)
            if isinstance(v, Tensor):
                out.append((g, name, v))
    return out


def _purge(self_ref):
    self = self_ref()
    if self is None:
        return
    self._drop_entries(lambda key: any(r() is None for r in key[2]))
    watched = self.__dict__.get("_watched", {})
    for r in [r for r in watched if r() is None]:
        del watched[r]


def _jit_fused(fn, fuse):
    """Unpickles a jitted function made with an explicit ``fuse``."""
    return JitFunction(fn, fuse=fuse)


def jit(fn=None, **options):
    """Record `fn` once per input signature and replay it in C++ afterwards (API.md section 6).
    Also usable as a decorator, with or without options (MindSpore's ``@jit``; its options such as
    ``mode`` or ``jit_config`` are accepted and ignored).

    ``fuse`` (default True, or False when the environment variable ``TAPEGRAD_JIT_FUSE=0`` was set
    at import) runs chains of elementwise ops of at least 4096 elements, and a sum that ends one,
    as one pass over the data in cache-sized blocks: the same values as op by op (bit for bit,
    except that a fused sum over all axes adds in float64 in another order), with less memory and
    time. ``fuse=False`` replays op by op; ``f.explain()`` shows the groups.

    >>> import tapegrad as tg
    >>> g = tg.jit(tg.grad(lambda x: (tg.sin(x) * x).sum()))
    >>> print(g(tg.tensor([0.0, 1.0])))
    [0.        1.3817732]
    """
    if fn is None:
        return lambda f: jit(f, **options)
    fuse = options.get("fuse")
    if isinstance(fn, JitFunction) and (fuse is None or fuse == fn._fuse):
        return fn
    if isinstance(fn, JitFunction):
        fn = fn._fn
    return JitFunction(fn, fuse=fuse)
