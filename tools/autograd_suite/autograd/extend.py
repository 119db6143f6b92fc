"""autograd.extend: `primitive` as a tapegrad custom_vjp function with no rule yet.

Calling the derivative of a primitive that has no rule raises NotImplementedError, as autograd's.
"""

import tapegrad as tg


def primitive(f):
    def fwd(*args):
        return f(*args), args

    def bwd(res, g):
        raise NotImplementedError(f"VJP of {getattr(f, '__name__', f)} wrt argnum 0 not defined")

    p = tg.custom_vjp(f)
    p.defvjp(fwd, bwd)
    return p
