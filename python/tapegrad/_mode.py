"""MindSpore's execution modes. PYNATIVE_MODE (default) runs eagerly; GRAPH_MODE runs every
Cell.construct under tg.jit."""
from __future__ import annotations

PYNATIVE_MODE = 1
GRAPH_MODE = 0

_context = {"mode": PYNATIVE_MODE, "device_target": "CPU"}


def set_context(**kwargs):
    """`tg.set_context(mode=tg.GRAPH_MODE)`; other MindSpore keys are accepted and stored.

    `mode` is `tg.PYNATIVE_MODE` (the default: run eagerly) or `tg.GRAPH_MODE`;
    `device_target` is "CPU" or "GPU". Values are the same in both modes.

    >>> tg.set_context(mode=tg.GRAPH_MODE, device_target="CPU")
    >>> tg.get_context("mode") == tg.GRAPH_MODE
    True
    >>> tg.set_context(mode=tg.PYNATIVE_MODE)
    """
    if "mode" in kwargs and kwargs["mode"] not in (PYNATIVE_MODE, GRAPH_MODE):
        raise ValueError(f"set_context: mode must be tg.PYNATIVE_MODE or tg.GRAPH_MODE, got {kwargs['mode']!r}")
    if "device_target" in kwargs:
        dt = str(kwargs["device_target"]).upper()
        if dt not in ("CPU", "GPU"):
            raise ValueError(f"set_context: device_target must be 'CPU' or 'GPU', got {kwargs['device_target']!r}")
        kwargs["device_target"] = dt
    _context.update(kwargs)


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
    return _context["mode"] == GRAPH_MODE


def run_cell_graph(cell, inputs, kwargs):
    # Tape replay (tg.jit) is not built yet: GRAPH_MODE runs the same computation eagerly, which
    # gives identical values.
    return cell.construct(*inputs, **kwargs)
