"""The differentiation API (API.md section 4) on the reverse and forward tape levels."""

import gc
import threading

import numpy as np
import pytest

import tapegrad as tg
from helpers import close, t64
from tapegrad import nn, ops

# ---- grad and its options ------------------------------------------------------------------


def test_grad_positions_int_and_tuple():
    f = lambda x, y: (x * y * y).sum()
    x, y = tg.tensor([1.0, 2.0]), tg.tensor([3.0, 4.0])
    close(tg.grad(f)(x, y), [9.0, 16.0])
    close(tg.grad(f, 1)(x, y), [6.0, 16.0])
    gx, gy = tg.grad(f, (0, 1))(x, y)
    close(gx, [9.0, 16.0])
    close(gy, [6.0, 16.0])
    close(tg.grad(f, -1)(x, y), [6.0, 16.0])


def test_grad_has_aux_and_value_and_grad():
    def f(x):
        return (x * x).sum(), x * 3

    x = tg.tensor([1.0, 2.0])
    g, aux = tg.grad(f, has_aux=True)(x)
    close(g, [2.0, 4.0])
    close(aux, [3.0, 6.0])
    (v, aux2), g2 = tg.value_and_grad(f, has_aux=True)(x)
    assert float(v) == 5.0
    close(aux2, [3.0, 6.0])
    close(g2, [2.0, 4.0])
    v3, g3 = tg.value_and_grad(lambda x: (x * x).sum())(x)
    assert float(v3) == 5.0 and not v3._is_tracked()
    close(g3, [2.0, 4.0])


def test_grad_several_aux():
    def f(x):
        return x.sum(), x * 2, x * 3

    _g, aux = tg.grad(f, has_aux=True)(tg.tensor([1.0]))
    assert isinstance(aux, tuple) and len(aux) == 2


def test_grad_return_ids():
    f = lambda x, y: (x * y).sum()
    (p0, g0), (p1, g1) = tg.grad(f, (0, 1), return_ids=True)(tg.tensor([1.0]), tg.tensor([2.0]))
    assert (p0, p1) == (0, 1)
    close(g0, [2.0])
    close(g1, [1.0])


def test_tuple_and_nonscalar_outputs_get_ones_cotangent():
    x = tg.tensor([1.0, 2.0, 3.0])
    close(tg.grad(lambda x: x * x)(x), [2.0, 4.0, 6.0])
    close(tg.grad(lambda x: (x * 2, x * x))(x), [4.0, 6.0, 8.0])


def test_pytree_arguments():
    def f(p, scale):
        return ((p["w"] * p["b"][0]).sum() + p["b"][1].sum()) * scale

    p = {"w": tg.tensor([1.0, 2.0]), "b": [tg.tensor(3.0), tg.tensor([4.0, 5.0])]}
    g = tg.grad(f)(p, 2.0)
    close(g["w"], [6.0, 6.0])
    close(g["b"][0], 6.0)
    close(g["b"][1], [2.0, 2.0])


def test_python_scalar_argument_is_differentiated_as_float32():
    g = tg.grad(lambda x: x * x)(3.0)
    assert g.dtype == tg.float32 and float(g) == 6.0


def test_unused_input_gradient_is_zero():
    g = tg.grad(lambda x, y: (x * 2).sum(), 1)(tg.tensor([1.0]), tg.tensor([5.0, 6.0]))
    close(g, [0.0, 0.0])


def test_weights_and_positions():
    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.w = tg.Parameter(tg.tensor([2.0, 3.0]), name="w")

        def construct(self, x):
            return (self.w * x * x).sum()

    net = Net()
    x = tg.tensor([1.0, 4.0])
    gw = tg.grad(net, None, net.trainable_params())(x)
    close(gw[0], [1.0, 16.0])
    gx, gw2 = tg.grad(net, 0, net.trainable_params())(x)
    close(gx, [4.0, 24.0])
    close(gw2[0], [1.0, 16.0])
    # the Parameter is untouched afterwards
    assert not net.w._is_tracked()
    close(net.w, [2.0, 3.0])


# ---- GradOperation (MindSpore) ---------------------------------------------------------------


def test_gradoperation_modes():
    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.w = tg.Parameter(tg.tensor([2.0]), name="w")

        def construct(self, x, y):
            return (self.w * x * y).sum()

    net = Net()
    x, y = tg.tensor([3.0]), tg.tensor([5.0])
    close(ops.GradOperation()(net)(x, y), [10.0])
    gx, gy = ops.GradOperation(get_all=True)(net)(x, y)
    close(gx, [10.0])
    close(gy, [6.0])
    (gw,) = ops.GradOperation(get_by_list=True)(net, net.trainable_params())(x, y)
    close(gw, [15.0])
    (_ga, _gb), (gw2,) = ops.GradOperation(get_all=True, get_by_list=True)(
        net, net.trainable_params()
    )(x, y)
    close(gw2, [15.0])
    g = ops.GradOperation(sens_param=True)(net)(x, y, tg.tensor(2.0))
    close(g, [20.0])


# ---- stop_gradient, vjp, jvp ---------------------------------------------------------------


def test_stop_gradient():
    def f(x):
        y = x * x
        return (tg.stop_gradient(y) * x).sum()

    x = tg.tensor([1.0, 2.0])
    close(tg.grad(f)(x), [1.0, 4.0])
    close(tg.grad(lambda x: tg.stop_gradient(x * x).sum())(x), [0.0, 0.0])


def test_vjp_and_jvp():
    x = t64([0.5, 1.5])
    out, back = tg.vjp(lambda x: tg.sin(x) * x, x)
    close(out, np.sin([0.5, 1.5]) * [0.5, 1.5])
    (g,) = back(t64([1.0, 2.0]))
    close(g, (np.cos([0.5, 1.5]) * [0.5, 1.5] + np.sin([0.5, 1.5])) * [1.0, 2.0])
    _y, t = tg.jvp(lambda x: tg.sin(x) * x, (x,), (t64([1.0, 0.0]),))
    close(t, [np.cos(0.5) * 0.5 + np.sin(0.5), 0.0])
    with pytest.raises(RuntimeError):
        back(t64([1.0, 2.0]))
    # Tangents must have the inputs' structure, not just as many leaves.
    with pytest.raises(ValueError, match="structure"):
        tg.jvp(lambda p: p["a"] * p["b"], ({"a": x, "b": x},), ({"a": x, "c": x},))
    with pytest.raises(ValueError, match="structure"):
        tg.jvp(lambda p: p[0] * p[1][0], ((x, [x]),), (([x], x),))


def test_higher_order_mixed():
    f = lambda x: (tg.exp(x) * x).sum()
    x = t64([0.3, -0.2])
    # d2/dx2 (e^x x) = e^x (x + 2)
    close(tg.grad(tg.grad(f))(x), np.exp([0.3, -0.2]) * ([0.3, -0.2] + np.array(2.0)))
    # forward over reverse
    _, t = tg.jvp(tg.grad(f), (x,), (t64([1.0, 1.0]),))
    close(t, np.exp([0.3, -0.2]) * ([0.3, -0.2] + np.array(2.0)))
    # reverse over forward
    g = tg.grad(lambda x: tg.jvp(f, (x,), (t64([1.0, 1.0]),))[1])(x)
    close(g, np.exp([0.3, -0.2]) * ([0.3, -0.2] + np.array(2.0)))
    # third order: d3/dx3 x^4 = 24 x
    g3 = tg.grad(tg.grad(tg.grad(lambda x: (x * x * x * x).sum())))(t64([2.0]))
    close(g3, [48.0])


def test_control_flow_and_recursion():
    def f(x, n):
        if n == 0:
            return x
        return f(x * x, n - 1) if float(x.sum()) < 100 else x

    close(tg.grad(lambda x: f(x, 3).sum())(tg.tensor([1.5])), [8 * 1.5**7])


def test_custom_vjp_and_checkpoint():
    @tg.custom_vjp
    def clip_grad(x):
        return x * 1.0

    clip_grad.defvjp(lambda x: (x * 1.0, None), lambda res, g: (tg.minimum(g, tg.tensor(0.5)),))
    close(tg.grad(lambda x: (clip_grad(x) * 3).sum())(tg.tensor([1.0, 2.0])), [0.5, 0.5])
    f = lambda x: (tg.sin(x) * tg.exp(x)).sum()
    x = t64([0.1, 0.7])
    close(tg.grad(tg.checkpoint(f))(x), tg.grad(f)(x))


def test_cell_bprop():
    class Twice(nn.Cell):
        def construct(self, x):
            return x * x

        def bprop(self, x, out, dout):
            return (dout * 100.0,)

    close(tg.grad(lambda x: Twice()(x).sum())(tg.tensor([1.0, 2.0])), [100.0, 100.0])


# ---- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["string", None, object()])
def test_non_tensor_argument_is_typeerror(bad):
    with pytest.raises(TypeError):
        tg.grad(lambda x: x)(bad)


def test_integer_input_is_typeerror():
    with pytest.raises(TypeError, match="floating"):
        tg.grad(lambda x: x * 2)(tg.tensor([1, 2]))


def test_bad_grad_position():
    f = lambda x: x.sum()
    with pytest.raises(IndexError):
        tg.grad(f, 3)(tg.tensor([1.0]))
    with pytest.raises(TypeError):
        tg.grad(f, "0")(tg.tensor([1.0]))
    with pytest.raises(TypeError):
        tg.grad(3)


def test_inplace_write_to_saved_value_raises():
    c = tg.tensor([1.0, 2.0])

    def f(x):
        y = (x * c).sum()
        c[0] = 10.0  # c was saved for the gradient of x * c
        return y

    with pytest.raises(ValueError, match="modified in place"):
        tg.grad(f)(tg.tensor([3.0, 4.0]))


# ---- safety ----------------------------------------------------------------------------------


def test_threads_take_gradients_concurrently():
    errors = []

    def work(k):
        try:
            x = t64(np.arange(1, 50, dtype=np.float64) * (k + 1))
            for _ in range(200):
                g = tg.grad(lambda x: (x * x * x).sum())(x)
                np.testing.assert_allclose(np.asarray(g), 3 * np.asarray(x) ** 2)
        except Exception as e:
            errors.append(e)

    ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors


def test_no_memory_growth_over_many_grad_calls():
    f = tg.grad(lambda x: (tg.sin(x) * x).sum())
    x = tg.tensor(np.ones(64, np.float32))
    for _ in range(2000):
        f(x)
    gc.collect()
    base = tg._core.bytes_in_use()
    for _ in range(100_000):
        f(x)
    gc.collect()
    assert tg._core.bytes_in_use() - base < 64 * 1024
