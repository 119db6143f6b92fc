"""A thin `autograd` look-alike over tapegrad, to run HIPS autograd's own test suite.

Placed first on sys.path by tools/autograd_suite/run.sh. `autograd.numpy` is tapegrad.numpy;
the differential operators below map autograd's signatures (`grad(fun, argnum=0)`, ...) onto
tapegrad's transforms. Inputs the suite passes (numpy arrays, Python floats and complex numbers)
become Tensors of numpy's dtype (float64 / complex128), as autograd computes in numpy's dtypes.
"""

from ._ops import (  # noqa: F401
    deriv,
    elementwise_grad,
    grad,
    grad_and_aux,
    hessian,
    holomorphic_grad,
    jacobian,
    make_hvp,
    make_jvp,
    make_vjp,
    tensor_jacobian_product,
    value_and_grad,
)
from .builtins import dict, list, tuple  # noqa: F401
