"""MindSpore's `ops` namespace: GradOperation, stop_gradient, broadcast_to/BroadcastTo and every
tapegrad function (the same objects as `tapegrad.<name>`)."""

import tapegrad as _tg

from .._autodiff import GradOperation, grad, jvp, stop_gradient, value_and_grad, vjp  # noqa: F401
from .._conv import conv2d  # noqa: F401
from . import functional  # noqa: F401
from .primitives import *  # noqa: F403

_g = globals()
for _name in _tg._public_functions():
    if _name not in _g:
        _g[_name] = getattr(_tg, _name)
del _g, _name
