"""`autograd.numpy` of the adapter: tapegrad.numpy under autograd's name, in numpy's dtypes.

Every name resolves to tapegrad.numpy's function, called through a wrapper that gives it numpy's
default dtypes: tapegrad's default float is float32 (a Python float, a list of them or
`ones(3)` is Float32, as in JAX without x64), numpy's and so autograd's is float64. The wrapper
turns Python floats and complex numbers among the arguments into numpy float64 / complex128
scalars (which tapegrad keeps as they are) and gives the creation functions `dtype=float64` when
none is given: the same code then computes in the same dtype under both. `random` is numpy's own
generator module (the suite draws ndarrays and passes them in); `linalg` is tapegrad.numpy.linalg
through the same wrapper.
"""

import functools
import types

import numpy as _onp

import tapegrad.numpy as _tnp

# numpy's default float for these when no dtype is given (numpy: float64, tapegrad: float32).
_CREATION = {"zeros", "ones", "empty", "full", "eye", "identity", "linspace", "logspace", "tri"}


def _x64(x):
    if type(x) is float:
        return _onp.float64(x)
    if type(x) is complex:
        return _onp.complex128(x)
    if type(x) is list:
        return [_x64(e) for e in x]
    if type(x) is tuple:
        return tuple(_x64(e) for e in x)
    return x


def _wrap(name, f):
    creation = name in _CREATION

    @functools.wraps(f)
    def call(*args, **kwargs):
        args = tuple(_x64(a) for a in args)
        kwargs = {k: _x64(v) for k, v in kwargs.items()}
        if creation and kwargs.get("dtype") is None:
            if name == "full" and len(args) < 3:
                fill = args[1] if len(args) > 1 else kwargs.get("fill_value")
                kwargs["dtype"] = _onp.result_type(fill)
            elif name != "full":
                kwargs["dtype"] = _onp.float64
        return f(*args, **kwargs)

    return call


def _wrapped(module, name):
    obj = getattr(module, name)
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)) or (
        callable(obj) and type(obj).__name__ in ("cfunction", "builtin_function_or_method")
    ):
        return _wrap(name, obj)
    return obj


for _name in dir(_tnp):
    if not _name.startswith("__") and _name not in ("linalg", "random", "fft"):
        globals()[_name] = _wrapped(_tnp, _name)

__version__ = _onp.__version__

from . import linalg, random  # noqa: E402, F401
