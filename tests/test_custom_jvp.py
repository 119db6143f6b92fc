"""custom_jvp (API.md section 4; JAX semantics): the rule is used by every transform (jvp, jacfwd,
grad, vjp, jacrev, vmap) and their compositions, to second order; pytrees, nondiff arguments, None
tangents, methods, errors. Note [custom_jvp] in csrc/bindings/bind_custom.cpp has the design."""

from functools import partial

import numpy as np
import pytest

import helpers
import tapegrad as tg
from helpers import t64
from tapegrad import nn

close = partial(helpers.close, atol=1e-9)


X = [0.3, -0.7, 1.2]


# ---- a rule that is not the true derivative: it must be the one every transform uses ----------


@tg.custom_jvp
def three_cos(x):
    """sin(x), but with the declared derivative 3 cos(x)."""
    return tg.sin(x)


@three_cos.defjvp
def _three_cos_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return three_cos(x), 3.0 * tg.cos(x) * t


def test_value_is_the_function():
    close(three_cos(t64(X)), np.sin(X))


def test_jvp_uses_the_rule():
    x, t = t64(X), t64([1.0, 2.0, -1.0])
    y, ty = tg.jvp(three_cos, x, t)
    close(y, np.sin(X))
    close(ty, 3 * np.cos(X) * np.array([1.0, 2.0, -1.0]))


def test_grad_and_vjp_use_the_rule():
    x = t64(X)
    close(tg.grad(lambda v: three_cos(v).sum())(x), 3 * np.cos(X))
    u = t64([1.0, -2.0, 0.5])
    y, back = tg.vjp(three_cos, x)
    close(y, np.sin(X))
    close(back(u)[0], 3 * np.cos(X) * np.array([1.0, -2.0, 0.5]))
    v, g = tg.value_and_grad(lambda v: three_cos(v).sum())(x)
    close(v, np.sin(X).sum())
    close(g, 3 * np.cos(X))


@pytest.mark.parametrize("jac", ["jacrev", "jacfwd"])
def test_jacobians_use_the_rule(jac):
    close(getattr(tg, jac)(three_cos)(t64(X)), np.diag(3 * np.cos(X)))


def test_second_order_differentiates_the_rule():
    # d/dx (3 cos x) = -3 sin x, in every order of composition.
    x = t64(X)
    want = -3 * np.sin(X)
    g = lambda v: tg.grad(lambda w: three_cos(w).sum())(v)
    close(tg.grad(lambda v: g(v).sum())(x), want)
    close(tg.jvp(g, x, tg.ones_like(x))[1], want)
    close(tg.grad(lambda v: tg.jvp(three_cos, v, tg.ones_like(v))[1].sum())(x), want)
    close(tg.jvp(lambda v: tg.jvp(three_cos, v, tg.ones_like(v))[1], x, tg.ones_like(x))[1], want)
    close(tg.hessian(lambda v: three_cos(v).sum())(x), np.diag(want))
    close(tg.jacrev(tg.jacrev(lambda v: three_cos(v).sum()))(x), np.diag(want))


def test_third_order():
    x = t64(X)
    f1 = tg.grad(lambda v: three_cos(v).sum())
    f2 = tg.grad(lambda v: f1(v).sum())
    close(tg.grad(lambda v: f2(v).sum())(x), -3 * np.cos(X))


# ---- vmap -----------------------------------------------------------------------------------


def test_vmap_matches_a_loop():
    xs = t64(np.arange(12.0).reshape(4, 3) / 7)
    close(tg.vmap(three_cos)(xs), np.sin(xs.asnumpy()))
    close(tg.vmap(tg.grad(lambda v: three_cos(v).sum()))(xs), 3 * np.cos(xs.asnumpy()))
    close(tg.grad(lambda v: tg.vmap(three_cos)(v).sum())(xs), 3 * np.cos(xs.asnumpy()))
    _, t = tg.jvp(tg.vmap(three_cos), xs, tg.ones_like(xs))
    close(t, 3 * np.cos(xs.asnumpy()))
    _, t = tg.vmap(lambda v: tg.jvp(three_cos, v, tg.ones_like(v)))(xs)
    close(t, 3 * np.cos(xs.asnumpy()))
    close(tg.vmap(three_cos, in_axes=1, out_axes=1)(xs), np.sin(xs.asnumpy()))


def test_vmap_of_vmap_and_unbatched_arguments():
    @tg.custom_jvp
    def scale(x, s):
        return x * s

    @scale.defjvp
    def _(primals, tangents):
        (x, s), (tx, ts) = primals, tangents
        return scale(x, s), 10.0 * tx * s + ts * x  # the x-part is 10x the truth

    xs = t64(np.arange(6.0).reshape(2, 3))
    s = t64(2.0)
    close(tg.vmap(tg.vmap(scale, in_axes=(0, None)), in_axes=(0, None))(xs, s), xs.asnumpy() * 2)
    g = tg.vmap(tg.grad(lambda x, s: scale(x, s).sum(), (0, 1)), in_axes=(0, None))(xs, s)
    close(g[0], np.full((2, 3), 20.0))
    close(g[1], xs.asnumpy().sum(axis=1))
    gs = tg.grad(lambda s: tg.vmap(scale, in_axes=(0, None))(xs, s).sum())(s)
    close(gs, xs.asnumpy().sum())


# ---- numerically stable rule ----------------------------------------------------------------


def _log1pexp_naive(x):
    return tg.where(x > 0, x + tg.log1p(tg.exp(-x)), tg.log1p(tg.exp(x)))


@tg.custom_jvp
def log1pexp(x):
    return _log1pexp_naive(x)


@log1pexp.defjvp
def _log1pexp_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return log1pexp(x), t * tg.sigmoid(x)


def test_log1pexp_rule_is_stable_where_autodiff_is_not():
    x = tg.tensor([-100.0, 0.0, 100.0])  # float32: exp(100) overflows
    naive = tg.grad(lambda v: _log1pexp_naive(v).sum())(x).asnumpy()
    assert np.isnan(naive[2])  # inf * 0 in the branch where() does not take
    g = tg.grad(lambda v: log1pexp(v).sum())(x)
    close(g, [0.0, 0.5, 1.0], atol=1e-6)
    close(tg.jvp(log1pexp, x, tg.ones_like(x))[1], [0.0, 0.5, 1.0], atol=1e-6)
    close(tg.vmap(tg.grad(log1pexp))(x), [0.0, 0.5, 1.0], atol=1e-6)
    # second derivative: sigmoid'(x) = s (1 - s), finite everywhere
    h = tg.grad(lambda v: tg.grad(lambda w: log1pexp(w).sum())(v).sum())(x)
    close(h, [0.0, 0.25, 0.0], atol=1e-6)


def test_check_grads_true_rule():
    x = t64([-2.0, -0.3, 0.4, 3.0])
    tg.testing.check_grads(log1pexp, (x,), order=2, modes=("fwd", "rev"))
    tg.testing.check_grads(lambda v: log1pexp(v * v).sum(), (x,), order=2, modes=("fwd", "rev"))


@tg.custom_jvp
def hypot(x, y):
    return tg.sqrt(x * x + y * y)


@hypot.defjvp
def _hypot_jvp(primals, tangents):
    (x, y), (tx, ty) = primals, tangents
    r = hypot(x, y)
    return r, (x * tx + y * ty) / r


def test_check_grads_two_arguments():
    x, y = t64([1.0, -2.0, 0.5]), t64([0.3, 1.5, -2.0])
    tg.testing.check_grads(hypot, (x, y), order=2, modes=("fwd", "rev"))
    gx, gy = tg.grad(lambda a, b: hypot(a, b).sum(), (0, 1))(x, y)
    r = np.hypot(x.asnumpy(), y.asnumpy())
    close(gx, x.asnumpy() / r)
    close(gy, y.asnumpy() / r)


# ---- arguments: pytrees, nondiff, None tangents, Python scalars, methods ---------------------


def test_pytree_inputs_and_outputs():
    @tg.custom_jvp
    def f(d):
        a, (b, c) = d["a"], d["bc"]
        return {"s": a * b, "t": (c * 2.0,)}

    @f.defjvp
    def _(primals, tangents):
        (d,), (td,) = primals, tangents
        a, (b, _) = d["a"], d["bc"]
        ta, (tb, tc) = td["a"], td["bc"]
        out = f(d)
        return out, {"s": ta * b + a * tb, "t": (tc * 5.0,)}  # c's derivative declared 5, not 2

    d = {"a": t64([1.0, 2.0]), "bc": (t64([3.0, 4.0]), t64([5.0, 6.0]))}
    out = f(d)
    close(out["s"], [3.0, 8.0])
    close(out["t"][0], [10.0, 12.0])
    td = {"a": t64([1.0, 0.0]), "bc": (t64([0.0, 1.0]), t64([1.0, 1.0]))}
    o, t = tg.jvp(f, (d,), (td,))
    close(o["t"][0], [10.0, 12.0])
    close(t["s"], [3.0, 2.0])
    close(t["t"][0], [5.0, 5.0])
    g = tg.grad(lambda d: f(d)["s"].sum() + f(d)["t"][0].sum())(d)
    close(g["a"], [3.0, 4.0])
    close(g["bc"][0], [1.0, 2.0])
    close(g["bc"][1], [5.0, 5.0])


def test_nondiff_argnums():
    @tg.custom_jvp
    def power(n, x):
        return x**n

    power_jvp_calls = []

    def power_jvp(n, primals, tangents):
        power_jvp_calls.append(n)
        (x,), (t,) = primals, tangents
        return power(n, x), n * x ** (n - 1) * t

    power.nondiff_argnums = (0,)
    power.defjvp(power_jvp)
    x = t64([1.0, 2.0])
    close(tg.grad(lambda v: power(3, v).sum())(x), [3.0, 12.0])
    close(tg.jvp(lambda v: power(3, v), x, tg.ones_like(x))[1], [3.0, 12.0])
    assert power_jvp_calls and all(n == 3 for n in power_jvp_calls)

    @tg.custom_jvp
    def shift(x, k):
        return x + k

    shift.nondiff_argnums = (1,)
    shift.defjvp(lambda k, primals, tangents: (shift(primals[0], k), tangents[0] * 2.0))
    close(tg.grad(lambda v: shift(v, t64([1.0, 1.0])).sum())(x), [2.0, 2.0])
    with pytest.raises(TypeError, match="nondiff_argnums"):
        tg.grad(lambda k: shift(x, k).sum())(t64([1.0, 1.0]))


def test_nondiff_argnums_in_constructor():
    def clip_jvp(lo, hi, primals, tangents):
        (x,), (t,) = primals, tangents
        return clip(x, lo, hi), t  # straight-through

    def clip_fun(x, lo, hi):
        return tg.clip(x, lo, hi)

    clip = tg.custom_jvp(clip_fun, nondiff_argnums=(1, 2))
    clip.defjvp(clip_jvp)
    x = t64([-3.0, 0.5, 3.0])
    close(clip(x, -1.0, 1.0), [-1.0, 0.5, 1.0])
    close(tg.grad(lambda v: clip(v, -1.0, 1.0).sum())(x), [1.0, 1.0, 1.0])


def test_none_tangent_output_is_zero():
    @tg.custom_jvp
    def two(x):
        return x * 2.0, tg.floor(x)

    @two.defjvp
    def _(primals, tangents):
        (x,), (t,) = primals, tangents
        return two(x), (t * 2.0, None)

    x = t64([0.5, 1.5])
    _, (ta, tb) = tg.jvp(two, x, tg.ones_like(x))
    close(ta, [2.0, 2.0])
    close(tb, [0.0, 0.0])
    close(tg.grad(lambda v: two(v)[0].sum() + two(v)[1].sum())(x), [2.0, 2.0])
    close(tg.jacrev(lambda v: two(v)[1])(x), np.zeros((2, 2)))


def test_integer_and_scalar_arguments():
    @tg.custom_jvp
    def f(x, idx, c):
        return x[idx] * c

    seen = {}

    @f.defjvp
    def _(primals, tangents):
        (x, idx, c), (tx, tidx, tc) = primals, tangents
        seen["tidx"], seen["tc"] = tidx, tc
        return f(x, idx, c), tx[idx] * c

    x = t64([1.0, 2.0, 3.0])
    idx = tg.tensor([2, 0], tg.int32)
    close(tg.grad(lambda v: f(v, idx, 4.0).sum())(x), [4.0, 0.0, 4.0])
    close(tg.jvp(lambda v: f(v, idx, 4.0), x, tg.ones_like(x))[1], [4.0, 4.0])
    assert seen["tc"] == 0.0
    assert not np.asarray(seen["tidx"]).any()


def test_keyword_arguments():
    @tg.custom_jvp
    def f(x, scale=2.0):
        return x * scale

    f.defjvp(lambda p, t: (f(*p), t[0] * p[1] * 10.0))
    x = t64([1.0, 2.0])
    close(f(x, scale=3.0), [3.0, 6.0])
    close(tg.grad(lambda v: f(v, scale=3.0).sum())(x), [30.0, 30.0])
    close(tg.grad(lambda v: f(v).sum())(x), [20.0, 20.0])


def test_defjvps():
    @tg.custom_jvp
    def mul(x, y):
        return x * y

    mul.defjvps(lambda tx, out, x, y: tx * y * 2.0, None)  # y declared non-differentiable
    x, y = t64([1.0, 2.0]), t64([3.0, 5.0])
    gx, gy = tg.grad(lambda a, b: mul(a, b).sum(), (0, 1))(x, y)
    close(gx, [6.0, 10.0])
    close(gy, [0.0, 0.0])
    _, t = tg.jvp(mul, (x, y), (tg.ones_like(x), tg.ones_like(y)))
    close(t, [6.0, 10.0])


def test_method_decorator():
    class Model:
        def __init__(self, k):
            self.k = k

        @tg.custom_jvp
        def apply(self, x):
            return tg.sin(x) * self.k

        @apply.defjvp
        def _apply_jvp(primals, tangents):
            (self, x), (_, t) = primals, tangents
            return self.apply(x), t * 100.0

    m = Model(2.0)
    x = t64([0.1, 0.2])
    close(m.apply(x), 2.0 * np.sin([0.1, 0.2]))
    close(tg.grad(lambda v: m.apply(v).sum())(x), [100.0, 100.0])
    close(tg.jvp(m.apply, x, tg.ones_like(x))[1], [100.0, 100.0])
    close(tg.vmap(m.apply)(x), 2.0 * np.sin([0.1, 0.2]))


def test_method_with_nondiff_self_on_a_cell():
    class Sq(nn.Cell):
        def construct(self, x):
            return self.square(x)

        def _square(self, x):
            return x * x

        square = tg.custom_jvp(_square, nondiff_argnums=(0,))

        @square.defjvp
        def _square_jvp(self, primals, tangents):
            (x,), (t,) = primals, tangents
            return self.square(x), 7.0 * t

    net = Sq()
    x = t64([1.0, 3.0])
    close(net(x), [1.0, 9.0])
    close(tg.grad(lambda v: net(v).sum())(x), [7.0, 7.0])


def test_called_outside_transforms_and_inside_custom_vjp():
    calls = []

    @tg.custom_jvp
    def f(x):
        return x * 2.0

    def rule(p, t):
        calls.append(1)
        return f(p[0]), t[0] * 2.0

    f.defjvp(rule)
    close(f(t64([1.0])), [2.0])
    assert not calls  # no transform: the rule is not run

    @tg.custom_vjp
    def g(x):
        return f(x)

    g.defvjp(lambda x: (f(x), None), lambda res, ct: (ct * 5.0,))
    close(tg.grad(lambda v: g(v).sum())(t64([1.0])), [5.0])


def test_custom_vjp_still_refuses_forward_mode():
    @tg.custom_vjp
    def f(x):
        return x * 2.0

    f.defvjp(lambda x: (x * 2.0, None), lambda r, g: (g * 2.0,))
    with pytest.raises(TypeError, match="custom_vjp"):
        tg.jvp(f, t64([1.0]), t64([1.0]))
    with pytest.raises(TypeError, match="custom_vjp"):
        tg.jacfwd(f)(t64([1.0]))


# ---- errors ---------------------------------------------------------------------------------


def test_call_without_rule_is_typeerror():
    @tg.custom_jvp
    def f(x):
        return x

    with pytest.raises(TypeError, match="defjvp"):
        f(t64([1.0]))


def test_wrong_tangent_shape_is_valueerror():
    @tg.custom_jvp
    def f(x):
        return x * 2.0

    f.defjvp(lambda p, t: (f(p[0]), t[0].sum()))
    x = t64([1.0, 2.0])
    with pytest.raises(ValueError, match=r"custom_jvp.*\(2,\)"):
        tg.jvp(f, x, tg.ones_like(x))
    with pytest.raises(ValueError, match="custom_jvp"):
        tg.grad(lambda v: f(v).sum())(x)
    with pytest.raises(ValueError, match="custom_jvp"):
        tg.jacfwd(f)(x)


def test_rule_returning_wrong_structure():
    @tg.custom_jvp
    def f(x):
        return x * 2.0, x * 3.0

    f.defjvp(lambda p, t: (f(p[0]), t[0]))  # one tangent for two outputs
    x = t64([1.0])
    with pytest.raises(ValueError, match="custom_jvp f"):
        tg.jvp(f, x, x)

    @tg.custom_jvp
    def g(x):
        return x

    g.defjvp(lambda p, t: p[0])  # not a pair
    with pytest.raises(TypeError, match="custom_jvp g.*pair"):
        tg.jvp(g, x, x)


def test_closure_over_a_differentiated_value_is_an_error():
    def outer(v, how):
        @tg.custom_jvp
        def f(x):
            return x * v  # closes over v, which grad/jvp/vmap is transforming

        f.defjvp(lambda p, t: (f(p[0]), t[0] * v))
        return f(v).sum() if how != "vmap" else f(v)

    w = t64([2.0, 3.0])
    with pytest.raises(TypeError, match="custom_jvp.*argument"):
        tg.grad(lambda v: outer(v, "grad"))(w)
    with pytest.raises(TypeError, match="custom_jvp.*argument"):
        tg.jvp(lambda v: outer(v, "jvp"), w, w)
    with pytest.raises(TypeError, match="custom_jvp.*argument"):
        tg.vmap(lambda v: outer(v, "vmap"))(w)

    # a closure over a constant is fine
    @tg.custom_jvp
    def g(x):
        return x * w

    g.defjvp(lambda p, t: (g(p[0]), t[0] * w))
    close(tg.grad(lambda v: g(v).sum())(t64([1.0, 1.0])), [2.0, 3.0])


def test_rule_exception_propagates_and_levels_recover():
    @tg.custom_jvp
    def f(x):
        return x

    def bad(p, t):
        raise RuntimeError("boom in rule")

    f.defjvp(bad)
    with pytest.raises(RuntimeError, match="boom"):
        tg.jvp(f, t64([1.0]), t64([1.0]))
    with pytest.raises(RuntimeError, match="boom"):
        tg.grad(lambda v: f(v).sum())(t64([1.0]))
    # the level stack is clean afterwards
    close(tg.grad(lambda v: (v * v).sum())(t64([3.0])), [6.0])


def test_vmap_runs_the_function_once_per_batch_not_per_element():
    calls = {"fun": 0, "rule": 0}

    @tg.custom_jvp
    def f(x):
        calls["fun"] += 1
        return tg.sin(x)

    @f.defjvp
    def _(p, t):
        calls["rule"] += 1
        return tg.sin(p[0]), tg.cos(p[0]) * t[0]

    xs = t64(np.arange(20.0).reshape(10, 2))
    close(tg.vmap(f)(xs), np.sin(xs.asnumpy()))
    assert calls["fun"] == 1
    close(tg.vmap(tg.grad(lambda v: f(v).sum()))(xs), np.cos(xs.asnumpy()))
    assert calls["fun"] == 2 and calls["rule"] == 1
    close(tg.jacfwd(f)(xs[0]), np.diag(np.cos(xs.asnumpy()[0])))
    assert calls["rule"] == 2


def test_many_inputs():
    # more inputs than the 32 bits of the reverse sweep's `need` mask
    @tg.custom_jvp
    def total(xs):
        return sum(xs[1:], xs[0])

    total.defjvp(lambda p, t: (total(p[0]), sum(ti * float(i) for i, ti in enumerate(t[0]))))
    xs = [t64([float(i)]) for i in range(40)]
    gs = tg.grad(lambda xs: total(xs).sum())(xs)
    close(np.concatenate([g.asnumpy() for g in gs]), np.arange(40.0))
