"""MindSpore's execution modes. PYNATIVE_MODE (default) runs eagerly; GRAPH_MODE runs every
Cell.construct and every transform (grad, value_and_grad, GradOperation, jacrev, jacfwd, vmap)
under tg.jit: recorded once per input signature, replayed in C++ afterwards."""

from __future__ import annotations

import threading

PYNATIVE_MODE = 1
GRAPH_MODE = 0

_context = {"mode": PYNATIVE_MODE, "device_target": "CPU"}
# GRAPH[0]: GRAPH_MODE is on (read on every transform call, so a list, not a dict lookup).
GRAPH = [False]
# DEVICE[0]: the device_target, where creation functions and tg.tensor put new tensors (API.md
# section 8); read on every creation call, so a list as GRAPH.
DEVICE = ["CPU"]
# Per thread: how many graph recordings are running. Inside one, cells and transforms run eagerly
# (the outer recording sees all their ops).
_local = threading.local()


def set_context(**kwargs):
    """`tg.set_context(mode=tg.GRAPH_MODE)`; other MindSpore keys are accepted and stored.

    `mode` is `tg.PYNATIVE_MODE` (the default: run eagerly) or `tg.GRAPH_MODE`;
    `device_target` is "CPU" or "GPU" (which needs ``tg.cuda.is_available()``: a RuntimeError
    otherwise): the device that the creation functions and ``tg.tensor`` put new tensors on when
    they are given no ``device=``. Values are the same in both modes.

    >>> tg.set_context(mode=tg.GRAPH_MODE, device_target="CPU")
    >>> tg.get_context("mode") == tg.GRAPH_MODE
    True
    >>> tg.set_context(mode=tg.PYNATIVE_MODE)
    """
    if "mode" in kwargs and (
        type(kwargs["mode"]) is not int or kwargs["mode"] not in (PYNATIVE_MODE, GRAPH_MODE)
    ):
        raise ValueError(
            f"set_context: mode must be tg.PYNATIVE_MODE or tg.GRAPH_MODE, got {kwargs['mode']!r}"
        )
    if "device_target" in kwargs:
        dt = str(kwargs["device_target"]).upper()
        if dt not in ("CPU", "GPU"):
            raise ValueError(
                f"set_context: device_target must be 'CPU' or 'GPU', got {kwargs['device_target']!r}"
            )
        kwargs["device_target"] = dt
        if dt == "GPU":
            from . import cuda

            cuda._require("set_context(device_target='GPU')")
    _context.update(kwargs)
    GRAPH[0] = _context["mode"] == GRAPH_MODE
    DEVICE[0] = _context["device_target"]


def get_context(key):
    """The value of a `set_context` key; `ValueError` for a key never set.

    >>> tg.get_context("device_target")
    'CPU'
    >>> tg.get_context("mode") == tg.PYNATIVE_MODE
    True
    """
    if key not in _context:
        raise ValueError(f"get_context: unknown key {key!r}")
    return _context[key]


def graph_mode_active():
    """True in GRAPH_MODE, except inside a graph recording (whose outer trace already sees every op)."""
    return GRAPH[0] and not getattr(_local, "depth", 0)


def _recording(fn):
    def run(*args, **kwargs):
        _local.depth = getattr(_local, "depth", 0) + 1
        try:
            return fn(*args, **kwargs)
        finally:
            _local.depth -= 1

    return run


def run_graph(owner, fn, args, kwargs, static=None):
    """Call `fn` under tg.jit (GRAPH_MODE). The JitFunction is kept on `owner` (a transform's
    function or a Cell); `static`, when given, joins the signature (a Cell's state)."""
    # Kept with the owner it was made for (functools.wraps copies a wrapped function's __dict__).
    kept = owner.__dict__.get("_tg_graph")
    j = kept[1] if kept is not None and kept[0] is owner else None
    if j is None:
        from ._jit import JitFunction

        if static is None:
            j = JitFunction(_recording(fn))
        else:
            j = JitFunction(_recording(lambda _static, *a, **k: fn(*a, **k)))
        owner.__dict__["_tg_graph"] = (owner, j)
    if static is None:
        return j(*args, **kwargs)
    return j(static, *args, **kwargs)


# Bumped whenever a Cell's attributes or training flag change: part of a Cell's graph signature, so
# that a recording made before the change is not replayed after it.
_cell_epoch = [0]


def bump_cell_epoch():
    _cell_epoch[0] += 1


def run_cell_graph(cell, inputs, kwargs):
    return run_graph(cell, cell.construct, inputs, kwargs, static=_cell_epoch[0])
