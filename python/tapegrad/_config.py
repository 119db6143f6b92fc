"""What tapegrad needs before its C++ core loads, and what it reports about itself.

- `load_blas()` finds scipy-openblas32 through its Python package and loads its shared library
  into the process (`RTLD_GLOBAL`) before `_core` is imported. `_core` names the library
  (`libscipy_openblas.so`) without a path; the loader then finds it already loaded, whatever the
  layout: a venv, a `--system-site-packages` venv over a base that has scipy-openblas32, a
  `pip install --target` folder on PYTHONPATH, `--user`, conda.
- `apply_simd_env()` applies `TAPEGRAD_SIMD`, which forces the CPU kernels' SIMD path.
- `show_config()` prints (or returns) the build and run-time facts a bug report needs.

Nothing here imports `_core` at module level: this module runs before it exists.
"""

from __future__ import annotations

import ctypes
import os
import sys
import warnings

# The paths of the CPU kernels, from the most basic up.
SIMD_PATHS = ("sse2", "avx2", "avx512")

_blas = {"path": None, "dll": None}


def load_blas():
    """Load scipy-openblas32's library into the process; return its path.

    Raises ImportError naming the fix when the package or its library is missing.
    """
    if _blas["dll"] is not None:
        return _blas["path"]
    try:
        import scipy_openblas32
    except ImportError as e:
        raise ImportError(
            "tapegrad needs the scipy-openblas32 package (its BLAS/LAPACK), which is not "
            f"importable from this Python ({sys.executable}): pip install scipy-openblas32"
        ) from e
    lib_dir = scipy_openblas32.get_lib_dir()
    names = (
        sorted(n for n in os.listdir(lib_dir) if n.startswith("libscipy_openblas"))
        if os.path.isdir(lib_dir)
        else []
    )
    if sys.platform == "darwin":
        names = [n for n in names if n.endswith(".dylib")] or names
    elif sys.platform != "win32":
        names = [n for n in names if ".so" in n] or names
    if not names:
        raise ImportError(
            f"scipy-openblas32 is installed but has no library in {lib_dir}: "
            "pip install --force-reinstall scipy-openblas32"
        )
    path = os.path.join(lib_dir, names[0])
    mode = getattr(ctypes, "RTLD_GLOBAL", 0)
    try:
        dll = ctypes.CDLL(path, mode=mode)
    except OSError as e:
        raise ImportError(
            f"tapegrad could not load scipy-openblas32's library {path}: {e}. "
            "pip install --force-reinstall scipy-openblas32"
        ) from e
    _blas.update(path=path, dll=dll)
    return path


def blas_info():
    """{'library', 'version', 'config', 'core', 'threads'} of the loaded scipy-openblas32."""
    dll, path = _blas["dll"], _blas["path"]
    info = {"library": path, "version": None, "config": None, "core": None, "threads": None}
    if dll is None:
        return info
    try:
        import importlib.metadata as md

        info["version"] = md.version("scipy-openblas32")
    except Exception:  # metadata missing in odd layouts: report no version
        pass
    for name, key, restype in (
        ("scipy_openblas_get_config", "config", ctypes.c_char_p),
        ("scipy_openblas_get_corename", "core", ctypes.c_char_p),
        ("scipy_openblas_get_num_threads", "threads", ctypes.c_int),
    ):
        fn = getattr(dll, name, None)
        if fn is not None:
            fn.restype = restype
            fn.argtypes = []
            value = fn()
            info[key] = (
                value.decode("utf-8", "replace").strip() if isinstance(value, bytes) else value
            )
    return info


def simd_available(build_info):
    """The SIMD paths that this build has and this CPU can run, basic first."""
    cpu = build_info.get("cpu_features", {})
    need = {
        "sse2": (),
        "avx2": ("avx2", "fma"),
        "avx512": ("avx512f", "avx512dq", "avx512bw", "avx512vl", "fma"),
    }
    return [
        p for p in build_info.get("simd_compiled", ["sse2"]) if all(cpu.get(f) for f in need[p])
    ]


def apply_simd_env(core, value=None):
    """Force the SIMD path named by TAPEGRAD_SIMD (or `value`); return the path in use.

    A name this CPU (or build) cannot run is clamped to the best path below it, with a
    RuntimeWarning; a name that is not a path at all is a ValueError (a typo must not pass as
    a forced path). An empty value (or "best") keeps the automatic choice. The C++ kernels read
    the same variable for their default path, so `_core._set_simd_path("best")` returns to it.
    """
    value = os.environ.get("TAPEGRAD_SIMD", "") if value is None else value
    want = value
    if want in ("", "best"):
        return core.simd_path()
    if want not in SIMD_PATHS:
        raise ValueError(
            f"TAPEGRAD_SIMD={value!r} is not a SIMD path: use one of {', '.join(SIMD_PATHS)} "
            "(or leave it unset for the best one this CPU runs)"
        )
    for path in reversed(SIMD_PATHS[: SIMD_PATHS.index(want) + 1]):
        if core._set_simd_path(path):
            if path != want:
                warnings.warn(
                    f"TAPEGRAD_SIMD={want}: this CPU or build cannot run the {want} kernels; "
                    f"using {path}",
                    RuntimeWarning,
                    stacklevel=3,
                )
            return path
    return core.simd_path()  # unreachable: sse2 is always there


def config_dict():
    """The facts show_config() prints, as nested dicts."""
    import platform

    from . import _core

    build = dict(_core._build_info())
    try:
        from . import cuda

        cuda_available = bool(cuda.is_available())
    except Exception:  # a broken CUDA runtime is reported, not raised
        cuda_available = False
    return {
        "tapegrad": {"version": _core.__version__, "location": os.path.dirname(_core.__file__)},
        "python": {
            "version": platform.python_version(),
            "executable": sys.executable,
            "platform": platform.platform(),
        },
        "build": {
            "compiler": build["compiler"],
            "flags": build["flags"],
            "build_type": build["build_type"],
        },
        "simd": {
            "path": _core.simd_path(),
            "available": simd_available(build),
            "compiled": list(build["simd_compiled"]),
            "forced": os.environ.get("TAPEGRAD_SIMD") or None,
        },
        "threads": _core.num_threads(),
        "blas": blas_info(),
        "cuda": {"built": bool(build["cuda"]), "available": cuda_available},
    }


def show_config(mode="stdout"):
    """Print tapegrad's build and run-time configuration, as `numpy.show_config()` does.

    The version, the SIMD path in use and the ones this CPU and build can run, the kernels'
    thread count, the BLAS library (scipy-openblas32: its path, version, build string and
    thread count), whether CUDA was built and is available, and the compiler and flags of
    this build. `mode="dicts"` returns the same facts as a dict instead of printing them.
    Paste the printout into bug reports.

    >>> tg.show_config()  # doctest: +ELLIPSIS
    tapegrad ...
      location: ...
    python: ...
    build:
      compiler: ...
      flags: ...
    simd:
      path: ...
      available: ...
    ...
    >>> cfg = tg.show_config(mode="dicts")
    >>> cfg["tapegrad"]["version"] == tg.__version__
    True
    >>> cfg["simd"]["path"] == tg.get_simd_path(), cfg["simd"]["path"] in cfg["simd"]["available"]
    (True, True)
    >>> sorted(cfg["blas"])
    ['config', 'core', 'library', 'threads', 'version']
    """
    cfg = config_dict()
    if mode == "dicts":
        return cfg
    if mode != "stdout":
        raise ValueError(f"show_config: mode must be 'stdout' or 'dicts', got {mode!r}")
    t, py, b, simd, blas, cuda = (
        cfg[k] for k in ("tapegrad", "python", "build", "simd", "blas", "cuda")
    )
    lines = [
        f"tapegrad {t['version']}",
        f"  location: {t['location']}",
        f"python: {py['version']} ({py['executable']}) on {py['platform']}",
        "build:",
        f"  compiler: {b['compiler']}",
        f"  flags: {b['flags']}",
        f"  build type: {b['build_type']}",
        "simd:",
        f"  path: {simd['path']}"
        + (f" (forced by TAPEGRAD_SIMD={simd['forced']})" if simd["forced"] else ""),
        f"  available: {', '.join(simd['available'])}",
        f"  compiled: {', '.join(simd['compiled'])}",
        f"threads: {cfg['threads']} (kernels)",
        "blas:",
        f"  library: {blas['library']}",
        f"  version: scipy-openblas32 {blas['version']}",
        f"  config: {blas['config']}",
        f"  core: {blas['core']}",
        f"  threads: {blas['threads']}",
        "cuda:",
        f"  built: {cuda['built']}",
        f"  available: {cuda['available']}",
    ]
    print("\n".join(lines))
    return None
