"""tapegrad: a C++ automatic-differentiation runtime with a thin Python face.

MindSpore's ``GradOperation`` and ``stop_gradient``, JAX-style transforms, and a numpy-like
``Tensor`` whose every op runs in C++ (SIMD kernels, a flat tape for reverse mode).
"""

# isort: skip_file
# (The import order below is load order: the functions bound in C++ first, then the modules that
# add Python-side Tensor methods, then those that read _public_functions().)
import numpy as _np

from . import _config

# BLAS/LAPACK come from the scipy-openblas32 package, wherever it is installed: its library is
# loaded (RTLD_GLOBAL) before _core, which names it without a path.
_config.load_blas()
try:
    from . import _core
except ImportError as _e:
    import os as _os

    if not any(n.startswith("_core.") for n in _os.listdir(_os.path.dirname(__file__))):
        raise ImportError(
            f"tapegrad's C++ extension (_core) is not built in {_os.path.dirname(__file__)}: "
            "this is a source checkout. Install tapegrad (pip install tapegrad, or pip install . "
            "in the checkout), or build it in place (README: Development)"
        ) from _e
    raise
from ._core import (  # noqa: E402,F401
    Tensor,
    bool_,
    complex64,
    complex128,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    uint8,
    uint16,
    uint32,
    uint64,
)

# The version has one source, pyproject.toml, baked into _core at build time.
__version__ = _core.__version__

# TAPEGRAD_SIMD=sse2|avx2|avx512 forces the CPU kernels' SIMD path (clamped, with a warning, to
# what this CPU runs); unset, the best path for the CPU is used.
_config.apply_simd_env(_core)
show_config = _config.show_config

# Names of _core that are internal and not part of the public API.
_INTERNAL = {
    "ReverseLevel",
    "ForwardLevel",
    "BatchLevel",
    "strip",
    "simd_path",
    "num_threads",
    "set_num_threads",
    "bytes_in_use",
    "empty_cache",
    "dtype",
}

# Every public function bound in C++ is a tapegrad function (ops and numpy re-export them).
_core_functions = {
    name: getattr(_core, name)
    for name in dir(_core)
    if not name.startswith("_")
    and name not in _INTERNAL
    and callable(getattr(_core, name))
    and not isinstance(getattr(_core, name), _core.dtype)  # callable too (tg.float32(3)): not ops
    and name not in ("Tensor",)
}
globals().update(_core_functions)

from . import _tensor  # noqa: E402,F401  (Python-side Tensor methods: repr, str, numpy interop)
from ._tensor import _place  # noqa: E402
from . import _mode  # noqa: E402
from ._creation import *  # noqa: E402,F403
from ._autodiff import (  # noqa: E402,F401
    GradOperation,
    checkpoint,
    grad,
    jvp,
    stop_gradient,
    value_and_grad,
    vjp,
)
from . import testing  # noqa: E402,F401
from ._memory import memory_stats, reset_peak_memory_stats  # noqa: E402,F401
from . import linalg  # noqa: E402,F401

dtype = _core.dtype
bool = bool_  # MindSpore spells it mindspore.bool_ and tg.bool
float = float32
half = float16
double = float64
int = int64


def tensor(data, dtype=None, *, device=None):
    """A Tensor from a Python scalar, nested list, numpy array or Tensor.

    Python floats become Float32, ints Int64, bools Bool; numpy arrays keep their dtype; `dtype`
    (a tapegrad dtype, a numpy dtype or a name) converts. A Tensor argument is copied; a numpy
    array is wrapped without a copy where its layout allows (as `from_dlpack`), so later writes
    to the array show in the tensor.

    >>> tg.tensor([1.0, 2.0])
    Tensor(shape=[2], dtype=Float32, value= [ 1.00000000e+00,  2.00000000e+00])
    >>> tg.tensor(3)
    Tensor(shape=[], dtype=Int64, value= 3)
    >>> tg.tensor(np.array([1, 2], np.int32))
    Tensor(shape=[2], dtype=Int32, value= [1, 2])
    >>> tg.tensor([[1, 2], [3, 4]], "float64")
    Tensor(shape=[2, 2], dtype=Float64, value=
    [[ 1.00000000e+00,  2.00000000e+00],
     [ 3.00000000e+00,  4.00000000e+00]])

    `device` is "CPU" or "GPU" (when ``tg.cuda.is_available()``); None: a Tensor argument stays on
    its device, anything else goes to ``set_context``'s device_target (the CPU by default).

    Inside a transform, a tensor built from values the transform tracks (``tg.tensor([x[0], x[1]])``
    or ``tg.tensor(x)`` under ``grad``) keeps their derivatives: it is built by stacking them, not by
    copying their numbers.
    """
    if device is None and _mode.DEVICE[0] != "CPU" and not isinstance(data, Tensor):
        device = _mode.DEVICE[0]  # set_context(device_target="GPU")
    if _core._levels_active() and not isinstance(data, _np.ndarray):
        from ._autodiff import _tensor_tracked

        t = _tensor_tracked(data, dtype)
        if t is not None:
            return _place(t, device, "tensor")
    return _place(Tensor(data, dtype), device, "tensor")


def is_tensor(x):
    """Whether `x` is a Tensor (Parameters are).

    >>> tg.is_tensor(tg.ones(2)), tg.is_tensor(np.ones(2))
    (True, False)
    """
    return isinstance(x, Tensor)


def _dtype_from_name(name):
    return _core._dtype_from_name(name)


def get_simd_path():
    """The SIMD instruction set the CPU kernels use on this machine.

    >>> tg.get_simd_path() in ("avx512", "avx2", "sse2")
    True
    """
    return _core.simd_path()


def set_num_threads(n):
    """Set the number of threads the CPU kernels may use.

    >>> n = tg.get_num_threads()
    >>> tg.set_num_threads(1)
    >>> tg.get_num_threads()
    1
    >>> tg.set_num_threads(n)
    """
    _core.set_num_threads(n)


def get_num_threads():
    """The number of threads the CPU kernels may use.

    >>> tg.get_num_threads() >= 1
    True
    """
    return _core.num_threads()


from ._custom import custom_vjp  # noqa: E402,F401
from ._parameter import Parameter, ParameterTuple  # noqa: E402,F401
from ._mode import GRAPH_MODE, PYNATIVE_MODE, get_context, set_context  # noqa: E402,F401

_NOT_FUNCTIONS = {
    "Tensor",
    "Parameter",
    "ParameterTuple",
    "GradOperation",
    "dtype",
    "tensor",
    "is_tensor",
}


def _public_functions():
    """Names of the tapegrad functions that `ops` and `numpy` re-export."""
    g = globals()
    names = set(_core_functions) | {n for n in _creation.__all__}
    names |= {"grad", "value_and_grad", "vjp", "jvp", "stop_gradient", "tensor"}
    for extra in ("linalg_norm",):
        names.discard(extra)
    return sorted(n for n in names if (n in g and n not in _NOT_FUNCTIONS) or n == "tensor")


from . import _creation  # noqa: E402

# linspace differentiable in start/stop, einsum with numpy's sublist form too (before ops and
# numpy re-export them).
from ._numpy_extra import einsum, linspace  # noqa: E402,F401
from . import nn  # noqa: E402,F401
from . import ops  # noqa: E402,F401
from . import numpy  # noqa: E402,F401
from . import _array_function  # noqa: E402,F401  (np.sum(t), np.exp(t) ... give Tensors)
from ._vmap import hessian, jacfwd, jacrev, vmap  # noqa: E402,F401
from ._jit import jit  # noqa: E402,F401
from . import cuda  # noqa: E402,F401

from ._custom_jvp import custom_jvp  # noqa: E402,F401
from ._serialization import load_checkpoint, load_param_into_net, save_checkpoint  # noqa: E402,F401
from ._sparse import (  # noqa: E402, F401
    SparseHessian,
    SparseJacobian,
    color_columns,
    color_rows,
    hessian_pattern,
    jacobian_pattern,
    sparse_hessian,
    sparse_jacobian,
    star_color,
)

# Everything public: what `from tapegrad import *` gives, and what pdoc documents on the tapegrad
# page (without __all__ it would skip the functions bound in C++ and document private modules).
__all__ = [n for n in sorted(globals()) if not n.startswith("_")]
