"""tg.memory_stats / tg.reset_peak_memory_stats: the bytes of tensor storage the caching allocator
has handed out (csrc/core/storage.cpp)."""

from __future__ import annotations

from . import _core

__all__ = ["memory_stats", "reset_peak_memory_stats"]


def memory_stats():
    """Bytes of tensor storage in use now and at their peak since `reset_peak_memory_stats()`.

    Returns a dict with ``"current_bytes"`` (storage held by live tensors, and by buffers that a
    pool keeps for reuse, such as a jitted function's arena) and ``"peak_bytes"`` (the highest
    ``current_bytes`` since the last reset or the start of the process), like
    ``torch.cuda.memory_allocated`` / ``max_memory_allocated`` for a GPU. Memory that the caching
    allocator keeps after a tensor is freed is not counted; memory borrowed from numpy is not
    either (tapegrad did not allocate it).

    >>> import tapegrad as tg
    >>> tg.reset_peak_memory_stats()
    >>> before = tg.memory_stats()["current_bytes"]
    >>> x = tg.ones(1000)                 # 4000 bytes of float32
    >>> tg.memory_stats()["current_bytes"] - before
    4000
    >>> del x
    >>> tg.memory_stats()["peak_bytes"] - before >= 4000
    True
    """
    return {"current_bytes": _core._bytes_in_use(), "peak_bytes": _core._peak_bytes_in_use()}


def reset_peak_memory_stats():
    """Make ``memory_stats()["peak_bytes"]`` start again from the bytes in use now.

    >>> import tapegrad as tg
    >>> y = tg.ones(10**5); del y
    >>> tg.reset_peak_memory_stats()
    >>> s = tg.memory_stats()
    >>> s["peak_bytes"] == s["current_bytes"]
    True
    """
    _core._reset_peak_bytes()
