"""autograd's differential operators written with tapegrad's transforms."""

import functools

import numpy as onp

import tapegrad as tg
from tapegrad import Tensor


def to_tensor(x):
    """Leaves of `x` as Tensors in numpy's dtype (Python float -> float64, complex -> complex128)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, tuple):
        return tuple(to_tensor(e) for e in x)
    if isinstance(x, list):
        return [to_tensor(e) for e in x]
    if isinstance(x, dict):
        return {k: to_tensor(v) for k, v in x.items()}
    if isinstance(x, (bool, onp.bool_)):
        return x
    if isinstance(x, (int, float, complex)):
        return Tensor(onp.asarray(x, dtype=onp.result_type(x, onp.float64)))
    if isinstance(x, (onp.ndarray, onp.generic)):
        return Tensor(onp.asarray(x))
    return x


def nary(op):
    """autograd's unary_to_nary: `op(fun, argnum=0, ...)(*args)` differentiates argument(s) argnum."""

    @functools.wraps(op)
    def wrapped(fun, argnum=0, *op_args, **op_kwargs):
        @functools.wraps(fun)
        def nary_f(*args, **kwargs):
            def unary_f(x):
                a = list(args)
                if isinstance(argnum, int):
                    a[argnum] = x
                else:
                    for i, xi in zip(argnum, x):
                        a[i] = xi
                return fun(*a, **kwargs)

            if isinstance(argnum, int):
                x = args[argnum]
            else:
                x = tuple(args[i] for i in argnum)
            return op(unary_f, to_tensor(x), *op_args, **op_kwargs)

        return nary_f

    return wrapped


def _ones_like(y):
    if isinstance(y, Tensor):
        return tg.numpy.ones_like(y)
    return onp.ones_like(y)


def _size(y):
    return y.size if isinstance(y, Tensor) else onp.size(y)


def _tensor_out(fun):
    # autograd's functions may return plain numpy values (a constant: derivative zero); tapegrad's
    # transforms take Tensors only.
    return lambda x: to_tensor(fun(x))


def _vjp(fun, x):
    ans, back = tg.vjp(_tensor_out(fun), x)

    def vjp(g):
        if isinstance(ans, Tensor) and not isinstance(g, Tensor):
            g = Tensor(onp.asarray(g), ans.dtype)
        return back(g)[0]

    return vjp, ans


@nary
def make_vjp(fun, x):
    return _vjp(fun, x)


def _jvp(fun, x, v):
    try:
        return tg.jvp(_tensor_out(fun), (x,), (v,))
    except TypeError as e:
        # autograd's error for a primitive without a forward rule (extend.primitive)
        if "no forward-mode rule" in str(e):
            raise NotImplementedError(str(e)) from e
        raise


@nary
def make_jvp(fun, x):
    def jvp(v):
        return _jvp(fun, x, to_tensor(v))

    return jvp


@nary
def grad(fun, x):
    vjp, ans = _vjp(fun, x)
    if _size(ans) != 1:
        raise TypeError(
            "Grad only applies to real scalar-output functions. "
            "Try jacobian, elementwise_grad or holomorphic_grad."
        )
    return vjp(_ones_like(ans))


@nary
def elementwise_grad(fun, x):
    vjp, ans = _vjp(fun, x)
    return vjp(_ones_like(ans))


@nary
def holomorphic_grad(fun, x):
    if not onp.iscomplexobj(onp.asarray(x)):
        raise TypeError("holomorphic_grad only applies to complex inputs")
    vjp, ans = _vjp(fun, x)
    return vjp(_ones_like(ans))


@nary
def value_and_grad(fun, x):
    vjp, ans = _vjp(fun, x)
    if _size(ans) != 1:
        raise TypeError("value_and_grad only applies to real scalar-output functions.")
    return ans, vjp(_ones_like(ans))


@nary
def grad_and_aux(fun, x):
    ans, back, aux = tg.vjp(fun, x, has_aux=True)
    return back(_ones_like(ans))[0], aux


@nary
def deriv(fun, x):
    return _jvp(fun, x, _ones_like(x))[1]


@nary
def jacobian(fun, x):
    # Reverse mode, rows out.shape and columns x.shape, as autograd's.
    return tg.jacrev(fun)(x)


def hessian(fun, argnum=0):
    return jacobian(jacobian(fun, argnum), argnum)


@nary
def make_hvp(fun, x):
    return _vjp(grad(fun), x)


def tensor_jacobian_product(fun, argnum=0):
    def vector_dot_grad(*args, **kwargs):
        args, vector = args[:-1], args[-1]
        return make_vjp(fun, argnum)(*args, **kwargs)[0](vector)

    return vector_dot_grad
