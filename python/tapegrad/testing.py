"""Numerical checks of derivative rules (JAX's check_grads)."""

from __future__ import annotations

import numpy as np

from ._autodiff import jvp, vjp
from ._core import Tensor
from ._tree import flatten

__all__ = ["check_grads", "numerical_jvp"]


def _np(x):
    return np.asarray(x, dtype=np.float64)


def _default_eps(dtype):
    return {"Float64": 1e-5, "Float32": 1e-2, "Float16": 1e-1}.get(str(dtype), 1e-5)


def _default_tol(dtype):
    return {"Float64": 1e-5, "Float32": 2e-2, "Float16": 1e-1}.get(str(dtype), 1e-5)


def _leaves(out):
    leaves, _ = flatten(out, lambda x: isinstance(x, Tensor))
    return leaves


def numerical_jvp(fn, args, tangents, eps):
    """Central difference (f(x + eps t) - f(x - eps t)) / 2 eps, leaves as float64 arrays.

    `args` and `tangents` are sequences of Tensors; the result has one array per output leaf.

    >>> x, t = tg.tensor([1.0, 2.0], tg.float64), tg.tensor([1.0, 0.0], tg.float64)
    >>> tg.testing.numerical_jvp(lambda x: x * x, [x], [t], eps=0.5)
    [array([2., 0.])]
    """
    plus = [Tensor(_np(a) + eps * _np(t), a.dtype) for a, t in zip(args, tangents)]
    minus = [Tensor(_np(a) - eps * _np(t), a.dtype) for a, t in zip(args, tangents)]
    fp = _leaves(fn(*plus))
    fm = _leaves(fn(*minus))
    return [(_np(p) - _np(m)) / (2 * eps) for p, m in zip(fp, fm)]


def _check_close(what, got, want, atol, rtol):
    got = _np(got)
    want = _np(want)
    if got.shape != want.shape:
        raise AssertionError(f"{what}: shape {got.shape} != expected {want.shape}")
    if not np.allclose(got, want, atol=atol, rtol=rtol, equal_nan=True):
        err = np.max(np.abs(got - want)) if got.size else 0.0
        raise AssertionError(
            f"{what}: max abs error {err:.3g} (atol={atol}, rtol={rtol})\n got: {got}\nwant: {want}"
        )


def check_grads(fn, args, order=2, modes=("fwd", "rev"), atol=None, rtol=None, eps=None, seed=0):
    """Check `fn`'s forward (JVP) and reverse (VJP) derivatives at `args` against central finite
    differences, up to `order` (each higher order checks the derivative functions themselves).

    Raises `AssertionError` naming the order, the mode and the error; returns None when every
    check passes. `modes` is "fwd", "rev" or both.

    >>> tg.testing.check_grads(tg.sin, (tg.tensor([0.5, 1.0], tg.float64),), order=2)
    >>> @tg.custom_vjp
    ... def wrong(x):
    ...     return x * x
    >>> _ = wrong.defvjp(lambda x: (x * x, x), lambda x, g: (g * x,))  # should be 2 x g
    >>> tg.testing.check_grads(wrong, (tg.tensor([1.0, 2.0], tg.float64),), order=1, modes="rev")
    Traceback (most recent call last):
    AssertionError: VJP (order 1): <vjp(u), v> = ...
    """
    if isinstance(modes, str):
        modes = (modes,)
    for m in modes:
        if m not in ("fwd", "rev"):
            raise ValueError(f"check_grads: unknown mode {m!r} (use 'fwd' and/or 'rev')")
    args = tuple(a if isinstance(a, Tensor) else Tensor(a) for a in args)
    dt = args[0].dtype if args else None
    eps = eps if eps is not None else _default_eps(dt)
    atol = atol if atol is not None else _default_tol(dt)
    rtol = rtol if rtol is not None else _default_tol(dt)
    rng = np.random.default_rng(seed)

    def rand_like(t):
        return Tensor(rng.standard_normal(tuple(t.shape)), t.dtype)

    def check(f, xs, k):
        tangents = [rand_like(a) for a in xs]
        num = numerical_jvp(f, xs, tangents, eps)
        if "fwd" in modes:
            _, t_out = jvp(f, tuple(xs), tuple(tangents))
            for i, (g, w) in enumerate(zip(_leaves(t_out), num)):
                _check_close(f"JVP (order {k}), output {i}", g, w, atol, rtol)
        if "rev" in modes:
            out, f_vjp = vjp(f, *xs)
            outs = _leaves(out)
            cots = [rand_like(o) for o in outs]
            ct_in = f_vjp(tuple(cots) if len(cots) > 1 else cots[0])
            # <u, J v> computed two ways: through the VJP and through finite differences.
            lhs = sum(float(np.sum(_np(c) * _np(t))) for c, t in zip(ct_in, tangents))
            rhs = sum(float(np.sum(_np(u) * n)) for u, n in zip(cots, num))
            scale = max(1.0, abs(rhs))
            if abs(lhs - rhs) > atol * scale + rtol * abs(rhs):
                raise AssertionError(
                    f"VJP (order {k}): <vjp(u), v> = {lhs:.8g} but <u, J v> = {rhs:.8g}"
                )
        if k < order:
            if "fwd" in modes:
                t_fixed = tangents

                def f_jvp(*ys):
                    return jvp(f, tuple(ys), tuple(t_fixed))[1]

                check(f_jvp, xs, k + 1)
            if "rev" in modes:
                o0, _ = vjp(f, *xs)
                u_fixed = [rand_like(o) for o in _leaves(o0)]

                def f_vjp(*ys):
                    _, back = vjp(f, *ys)
                    return back(tuple(u_fixed) if len(u_fixed) > 1 else u_fixed[0])

                check(f_vjp, xs, k + 1)

    check(fn, list(args), 1)
