"""autograd's `check_grads` and `combo_check`, written for the adapter.

Each check follows autograd's documented test: the forward derivative along a random tangent and
the reverse derivative against a random cotangent, both compared with the central difference
(f(x + eps/2 v) - f(x - eps/2 v)) / eps through the real inner product Re(sum(conj(a) b)); order 2
checks the JVP and VJP functions themselves, as functions of (x, v). Complex leaves take complex
random directions, so both real directions are checked.
"""

import itertools

import numpy as onp

import tapegrad as tg
from tapegrad import Tensor

from ._ops import make_jvp, make_vjp, nary, to_tensor

TOL = 1e-6
RTOL = 1e-6
EPS = 1e-6

_rng = onp.random.RandomState(0)


def scalar_close(a, b):
    return abs(a - b) < TOL or abs(a - b) / abs(a + b) < RTOL


def _leaves(x):
    if isinstance(x, (tuple, list)):
        return [leaf for e in x for leaf in _leaves(e)]
    if isinstance(x, dict):
        return [leaf for k in sorted(x) for leaf in _leaves(x[k])]
    return [x]


def _rebuild(like, it):
    if isinstance(like, tuple):
        return tuple(_rebuild(e, it) for e in like)
    if isinstance(like, list):
        return [_rebuild(e, it) for e in like]
    if isinstance(like, dict):
        return {k: _rebuild(like[k], it) for k in sorted(like)}
    return next(it)


def _arr(x):
    return onp.asarray(x.asnumpy() if isinstance(x, Tensor) else x)


def _space(x):
    """(shape, dtype) of every leaf: autograd's vspace."""
    out = []
    for leaf in _leaves(x):
        a = _arr(leaf)
        out.append((a.shape, a.dtype))
    return out


def _randn(x):
    def one(leaf):
        a = _arr(leaf)
        r = _rng.randn(*a.shape)
        if onp.iscomplexobj(a):
            r = r + 1j * _rng.randn(*a.shape)
        return Tensor(onp.asarray(r, a.dtype if a.dtype.kind in "fc" else onp.float64))

    return _rebuild(x, iter([one(leaf) for leaf in _leaves(x)]))


def _inner(x, y):
    return sum(
        float(onp.real(onp.vdot(_arr(a).ravel(), _arr(b).ravel())))
        for a, b in zip(_leaves(x), _leaves(y))
    )


def _covector(x):
    return _rebuild(x, iter([onp.conj(_arr(leaf)) for leaf in _leaves(x)]))


def _axpy(a, x, y):
    # a * x + y, leaf by leaf, as Tensors of y's dtype
    return _rebuild(
        y,
        iter(
            [
                to_tensor(onp.asarray(a * _arr(xl) + _arr(yl), _arr(yl).dtype))
                for xl, yl in zip(_leaves(x), _leaves(y))
            ]
        ),
    )


def _numerical_jvp(f, x):
    y = f(x)

    def jvp(v):
        fp = f(_axpy(EPS / 2, v, x))
        fm = f(_axpy(-EPS / 2, v, x))
        return _rebuild(
            y, iter([(_arr(p) - _arr(m)) / EPS for p, m in zip(_leaves(fp), _leaves(fm))])
        )

    return jvp


def check_equivalent(x, y):
    sx, sy = _space(x), _space(y)
    assert [s for s, _ in sx] == [s for s, _ in sy], f"VSpace mismatch:\nx: {sx}\ny: {sy}"
    v = _randn(x)
    assert scalar_close(_inner(x, v), _inner(y, v)), f"Value mismatch:\nx: {x}\ny: {y}"


def check_vjp(f, x):
    vjp, y = make_vjp(f)(x)
    jvp = _numerical_jvp(f, x)
    x_v, y_v = _randn(x), _randn(y)
    vjp_y = _covector(vjp(to_tensor(_covector(y_v))))
    assert _space(vjp_y) == _space(x), f"VJP space {_space(vjp_y)} != input space {_space(x)}"
    exact = _inner(x_v, vjp_y)
    numeric = _inner(y_v, jvp(x_v))
    assert scalar_close(numeric, exact), (
        f"Derivative (VJP) check of {getattr(f, '__name__', f)} failed with arg {x}:\n"
        f"analytic: {exact}\nnumeric:  {numeric}"
    )


def check_jvp(f, x):
    jvp = make_jvp(f)(x)
    numeric = _numerical_jvp(f, x)
    v = _randn(x)
    check_equivalent(jvp(v)[1], numeric(v))


def _check(f, x, modes, order):
    if "fwd" in modes:
        check_jvp(f, x)
        if order > 1:
            v = _randn(x)

            def jvp_f(xv):
                return make_jvp(f)(xv[0])(xv[1])[1]

            _check(jvp_f, (x, v), modes, order - 1)
    if "rev" in modes:
        check_vjp(f, x)
        if order > 1:
            v = _randn(f(x))

            def vjp_f(xv):
                return make_vjp(f)(xv[0])[0](xv[1])

            _check(vjp_f, (x, v), modes, order - 1)


@nary
def check_grads(f, x, modes=["fwd", "rev"], order=2):  # noqa: B006  (autograd's signature)
    assert all(m in ["fwd", "rev"] for m in modes)
    _check(f, x, modes, order)


def combo_check(fun, *args, **kwargs):
    """Every combination of the given argument and keyword values, each through check_grads."""

    def _combo(*arg_lists, **kwarg_lists):
        keyed = [[(k, v) for v in vs] for k, vs in kwarg_lists.items()]
        for a in itertools.product(*arg_lists):
            for kw in itertools.product(*keyed):
                check_grads(fun, *args, **kwargs)(*a, **dict(kw))

    return _combo


__all__ = ["check_equivalent", "check_grads", "combo_check", "scalar_close", "tg"]
