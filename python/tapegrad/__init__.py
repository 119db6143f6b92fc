"""tapegrad: a C++ automatic-differentiation runtime with a thin Python face."""
from . import _core  # noqa: F401
from ._core import Tensor  # noqa: F401

__version__ = "0.1.0"
