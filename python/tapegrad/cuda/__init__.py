"""The GPU backend (API.md section 8): ``t.to("GPU")``, memory statistics, synchronisation.

The CUDA kernels live in a plugin module, ``tapegrad._cuda``, built beside ``_core`` when nvcc was
found at build time. It is imported on the first call here (never by ``import tapegrad``), and it
registers its kernels with ``_core`` only when the CUDA driver reports a GPU. Without the plugin, a
driver or a GPU, :func:`is_available` is False and tensors stay on the CPU.
"""

from __future__ import annotations

__all__ = [
    "DeviceUnavailableError",
    "device_count",
    "empty_cache",
    "is_available",
    "max_memory_allocated",
    "memory_allocated",
    "memory_reserved",
    "reset_peak_memory_stats",
    "synchronize",
]

# The plugin module once loaded and initialised; False when it cannot be used (the reason is in
# _state["reason"]); None before the first call.
_state = {"plugin": None, "reason": ""}


def _plugin():
    """The initialised plugin module, or None (the reason in ``_state["reason"]``)."""
    p = _state["plugin"]
    if p is None:
        # `from .. import _cuda` of a module that is not there is an ImportError, not always a
        # ModuleNotFoundError: ask first whether the plugin was built at all.
        if not _built():
            _state["plugin"] = False
            _state["reason"] = "the CUDA backend is not built in this tapegrad"
            return None
        try:
            from .. import _cuda
        except ModuleNotFoundError:
            _state["plugin"] = False
            _state["reason"] = "the CUDA backend is not built in this tapegrad"
            return None
        except ImportError as e:  # built, but it cannot load here (another _core's build, ...)
            _state["plugin"] = False
            _state["reason"] = (
                f"the CUDA backend is built but its plugin tapegrad._cuda does not load ({e})"
            )
            return None
        try:
            count = _cuda.init()
        except Exception as e:  # a driver that fails to set up the GPU: not available, and why
            count = 0
            _state["reason"] = f"the CUDA backend is built but the GPU could not be set up ({e})"
        if count > 0:
            _state["plugin"] = _cuda
            lib = _cublas_dir()
            if lib:
                _cuda.set_library_dir(lib)
        else:
            _state["plugin"] = False
            _state["reason"] = _state["reason"] or (
                f"the CUDA backend is built but no CUDA GPU was found ({_cuda.no_device_reason()})"
            )
        p = _state["plugin"]
    return p or None


def _cublas_dir():
    """The folder of libcublas in the nvidia-cublas wheel (``pip install tapegrad[cuda]``), or None:
    the GPU matmul loads it from there at run time (Note [cuBLAS at run time] in kernels/cuda).
    The wheels put it under the ``nvidia`` namespace package (``nvidia/cublas/lib`` for CUDA 12,
    ``nvidia/cu13/lib`` for CUDA 13), so every ``nvidia/*/lib`` is looked at."""
    import glob
    import importlib.util
    import os

    try:
        spec = importlib.util.find_spec("nvidia")
    except (ImportError, ValueError):
        return None
    for root in (spec.submodule_search_locations or []) if spec else []:
        for lib in sorted(
            glob.glob(os.path.join(root, "*", "lib*", "libcublas.so.*")), reverse=True
        ):
            return os.path.dirname(lib)
    return None


def _built():
    """Whether this tapegrad has the CUDA plugin (it may still find no GPU)."""
    import importlib.util

    return importlib.util.find_spec("tapegrad._cuda") is not None


class DeviceUnavailableError(RuntimeError, ValueError):
    """A GPU was asked for (``device="GPU"``, ``.to("cuda")``, ``device_target="GPU"``) where none
    can be used. A RuntimeError (this environment has no usable GPU) and a ValueError (the device
    argument names a device that is not available), as numpy's AxisError is both a ValueError and
    an IndexError: code that catches either sees it."""


def _require(what):
    """The plugin, or the DeviceUnavailableError that says why there is no GPU."""
    p = _plugin()
    if p is None:
        raise DeviceUnavailableError(
            f"{what}: {_state['reason']}, so only the CPU is available (tg.cuda.is_available() is False)"
        )
    return p


def is_available():
    """Whether tensors can be moved to a GPU (``t.to("GPU")``): the CUDA plugin is built and the
    driver reports a GPU. Never raises; the first call loads the plugin.

    >>> import tapegrad as tg
    >>> tg.cuda.is_available() in (True, False)
    True
    """
    return _plugin() is not None


def device_count():
    """Number of GPUs tapegrad can use: 0 without the CUDA plugin, a driver or a GPU.

    >>> import tapegrad as tg
    >>> tg.cuda.device_count() >= 0
    True
    """
    p = _plugin()
    return p.device_count() if p is not None else 0


def memory_allocated():
    """Bytes of GPU memory held by tensors (as ``torch.cuda.memory_allocated``); 0 without a GPU.

    Blocks are counted at their size class (Note [Caching allocator] in csrc/core/caching_allocator.h).

    >>> import tapegrad as tg
    >>> tg.cuda.memory_allocated() >= 0
    True
    """
    p = _plugin()
    return p.memory_allocated() if p is not None else 0


def max_memory_allocated():
    """Peak of :func:`memory_allocated` since the start or :func:`reset_peak_memory_stats`.

    >>> import tapegrad as tg
    >>> tg.cuda.max_memory_allocated() >= tg.cuda.memory_allocated()
    True
    """
    p = _plugin()
    return p.max_memory_allocated() if p is not None else 0


def memory_reserved():
    """Bytes taken from the driver: held by tensors plus cached for reuse; 0 without a GPU.

    >>> import tapegrad as tg
    >>> tg.cuda.memory_reserved() >= tg.cuda.memory_allocated()
    True
    """
    p = _plugin()
    return p.memory_reserved() if p is not None else 0


def reset_peak_memory_stats():
    """The peak of :func:`max_memory_allocated` becomes the current :func:`memory_allocated`.

    >>> import tapegrad as tg
    >>> tg.cuda.reset_peak_memory_stats()
    """
    p = _plugin()
    if p is not None:
        p.reset_peak_memory_stats()


def empty_cache():
    """Hand the GPU memory cached for reuse back to the driver (tensors keep theirs).

    >>> import tapegrad as tg
    >>> tg.cuda.empty_cache()
    """
    p = _plugin()
    if p is not None:
        p.empty_cache()


def synchronize():
    """Wait until every kernel queued on the GPU has finished (no-op without a GPU).

    >>> import tapegrad as tg
    >>> tg.cuda.synchronize()
    """
    p = _plugin()
    if p is not None:
        p.synchronize()
