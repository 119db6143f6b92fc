"""The GPU backend (API.md section 8). This build has no CUDA kernels: every tensor lives on the CPU."""

from __future__ import annotations

__all__ = ["device_count", "is_available"]


def is_available():
    """Whether tensors can be moved to a GPU (``t.to("GPU")``). False: the CUDA backend is not built.

    >>> import tapegrad as tg
    >>> tg.cuda.is_available()
    False
    """
    return False


def device_count():
    """Number of GPUs tapegrad can use: 0 without the CUDA backend.

    >>> import tapegrad as tg
    >>> tg.cuda.device_count()
    0
    """
    return 0
