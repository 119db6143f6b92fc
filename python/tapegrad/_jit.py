"""tg.jit: a function recorded once per input signature and replayed in C++ afterwards (Note [Tape
replay] in csrc/autodiff/trace.h). Python only splits the arguments into traced tensors and a
static part; recording, guards and replay are C++."""
from __future__ import annotations

import functools
import numbers
import os

from . import _args, _core
from ._core import Tensor
from ._tree import flatten as _flatten
from ._tree import unflatten as _unflatten

__all__ = ["jit"]

# Default of tg.jit's `fuse` option (Note [Fused replay] in csrc/autodiff/fusion.h): the
# environment variable TAPEGRAD_JIT_FUSE=0, read once at import, turns fusion off for every tg.jit
# that does not say `fuse=` (to compare fused and plain replays, e.g. in the test suite).
FUSE_DEFAULT = os.environ.get("TAPEGRAD_JIT_FUSE", "1").strip().lower() not in ("0", "false", "off", "no")


class _TensorSlot:
    """Marks where a traced tensor goes when a static structure is filled in again."""

    __slots__ = ()

    def __repr__(self):
        return "<tensor>"


_TENSOR = _TensorSlot()


def _is_leaf(x):
    return not isinstance(x, (tuple, list, dict)) or _args.is_number_list(x)


def _flatten_out(out):
    leaves, td = _flatten(out, _is_leaf)
    tensors = [v for v in leaves if isinstance(v, Tensor)]
    return tensors, (td, tuple(_TENSOR if isinstance(v, Tensor) else v for v in leaves))


def _unflatten_out(tree, tensors):
    td, statics = tree
    it = iter(tensors)
    return _unflatten(td, [next(it) if s is _TENSOR else s for s in statics])


def _static_key(v):
    """What identifies a non-tensor argument in the signature: its value when hashable (Python
    numbers, strings, None, tuples of them), else its identity."""
    if isinstance(v, (numbers.Number, str, bytes, type(None))):
        return (type(v), v)
    try:
        hash(v)
    except TypeError:
        return ("id", id(v))
    return (type(v), v)


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
        if fuse is None:
            fuse = FUSE_DEFAULT
        if not isinstance(fuse, bool):
            raise TypeError(f"jit: fuse must be True or False, got {type(fuse).__name__}")
        super().__init__(fn, _flatten_out, _unflatten_out, fuse)
        # Copies fn.__dict__ too; `_fn` is a read-only C++ property, so skip it when fn is jitted.
        functools.update_wrapper(self, fn, updated=())
        self.__dict__.update({k: v for k, v in getattr(fn, "__dict__", {}).items() if k != "_fn"})

    def _call_general(self, *args, **kwargs):
        if not kwargs and all(isinstance(a, Tensor) or _args.is_array_data(a) for a in args):
            # numpy arrays/scalars and number lists as Tensors: then the C++ call takes them
            return self(*[a if isinstance(a, Tensor) else Tensor(a) for a in args])
        leaves, td = _flatten((args, kwargs), _is_leaf)
        tensors, statics, key = [], [], []
        for v in leaves:
            if _args.is_array_data(v):  # numpy arrays and scalars, lists of numbers (_args.py)
                v = Tensor(v)
            if isinstance(v, Tensor):
                tensors.append(v)
                statics.append(_TENSOR)
            else:
                statics.append(v)
                key.append(_static_key(v))
        fn = self._fn

        def flat(*ts):
            it = iter(ts)
            a, kw = _unflatten(td, [next(it) if s is _TENSOR else s for s in statics])
            return fn(*a, **kw)

        return self._call(flat, tuple(tensors), (td, tuple(key)))

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

    def explain(self):
        """The fused groups of each recording, as text (Note [Fused replay]).

        A replay runs chains of elementwise ops (and a sum over all axes that ends one) as one pass
        over the data in cache-sized blocks, when they have at least 4096 elements; each group
        lists its records and the steps left after removing repeated and unused ones.

        >>> import tapegrad as tg
        >>> g = tg.jit(tg.grad(lambda x: (tg.sin(x) * x).sum()))
        >>> _ = g(tg.ones(10**5))
        >>> print(g.explain())  # doctest: +ELLIPSIS
        program 0: ... records, 1 fused group(s):
          group 0: 100000 elements, ... records -> ... steps [...], 2 inputs, 1 outputs, 0 sums
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
