"""`from tapegrad.ops.functional import grad` (MindSpore's mindspore.ops.functional)."""

from .._autodiff import grad, jvp, stop_gradient, value_and_grad, vjp  # noqa: F401
