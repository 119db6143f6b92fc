"""`autograd.numpy.linalg`: tapegrad.numpy.linalg, with numpy's dtypes (see autograd.numpy)."""

import tapegrad.numpy as _tnp

from . import _wrapped

for _name in dir(_tnp.linalg):
    if not _name.startswith("__"):
        globals()[_name] = _wrapped(_tnp.linalg, _name)
