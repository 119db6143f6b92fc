"""tg.jit (API.md section 6): record once per signature, replay in C++, guards on Python-visible
decisions, composition with every transform, and MindSpore's GRAPH_MODE."""

import threading
from functools import partial

import numpy as np
import pytest

import helpers
import tapegrad as tg

rng = np.random.default_rng(3)
close = partial(helpers.close, rtol=1e-6, atol=1e-7)


def counted(fn):
    calls = []

    def run(*a, **k):
        calls.append(1)
        return fn(*a, **k)

    run.calls = calls
    return run


@pytest.fixture(autouse=True)
def _pynative():
    yield
    tg.set_context(mode=tg.PYNATIVE_MODE)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_replay_matches_eager_and_skips_python(dtype):
    def f(x, y):
        h = tg.tanh(tg.matmul(x, y)) + tg.exp(-x.sum(axis=1, keepdims=True))
        return tg.softmax(h, axis=-1).sum(axis=0) * 2

    body = counted(f)
    j = tg.jit(body)
    for _ in range(4):
        x, y = (tg.tensor(rng.standard_normal(s).astype(dtype)) for s in ((3, 4), (4, 5)))
        close(j(x, y), f(x, y), rtol=1e-5 if dtype == np.float32 else 1e-12)
    assert len(body.calls) == 1
    assert j.cache_info()["replays"] == 3


def test_new_shape_or_dtype_records_again():
    body = counted(lambda x: (x * x).sum())
    j = tg.jit(body)
    j(tg.ones(3))
    j(tg.ones(3))
    assert len(body.calls) == 1
    close(j(tg.ones(4)), 4.0)
    close(j(tg.ones(3, dtype=tg.float64)), 3.0)
    assert len(body.calls) == 3
    j(tg.ones(4))
    assert len(body.calls) == 3


def seed_001(a):
    b = a * 2
    while tg.norm(b) < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


def test_guards_keep_data_dependent_control_flow_correct():
    j = tg.jit(seed_001)
    for v in [0.3, 0.31, -0.5, 0.3, 2.0, -0.5, 7.0, -0.02, 0.3]:
        a = tg.tensor(v)
        close(j(a), seed_001(a))
    # Seed 001's check, through the recorded function and its gradient.
    a = tg.randn(shape=())
    d = j(a)
    g = tg.grad(j)(a)
    assert bool(g == d / a)


def test_item_float_and_numpy_reads_are_guards():
    def f(x):
        k = int(x.sum().item()) % 3
        s = float(x[0])
        return x * k + s + tg.tensor(np.asarray(x) * 0 + 1.0)

    j = tg.jit(f)
    for v in ([1.0, 2.0], [1.0, 2.0], [2.0, 2.0], [0.5, 0.5], [1.0, 2.0]):
        x = tg.tensor(v)
        close(j(x), f(x))


def test_data_dependent_shapes_are_checked():
    j = tg.jit(lambda x: (x[x > 0] * 2).sum() + tg.ones_like(x[x > 0]).sum())
    for v in ([1.0, -1.0, 2.0], [1.0, 1.0, 1.0], [-1.0, -1.0, -1.0], [3.0, -2.0, 1.0]):
        x = tg.tensor(v)
        xn = np.asarray(v)
        close(j(x), (xn[xn > 0] * 2).sum() + (xn > 0).sum())


def test_jit_of_grad_and_grad_of_jit():
    f = lambda x: (tg.sin(x) * x * x).sum()
    df = lambda x: np.cos(x) * x * x + 2 * x * np.sin(x)
    jg = tg.jit(tg.grad(f))
    gj = tg.grad(tg.jit(f))
    for _ in range(3):
        x = rng.standard_normal(5)
        close(jg(tg.tensor(x)), df(x), rtol=1e-5)
        close(gj(tg.tensor(x)), df(x), rtol=1e-5)
    assert jg.cache_info()["replays"] == 2
    # Second order through a replayed function.
    close(tg.grad(tg.grad(tg.jit(lambda x: x**3)))(tg.tensor(2.0)), 12.0)
    hj = tg.jit(tg.hessian(lambda x: (x**3).sum()))
    for _ in range(2):
        x = rng.standard_normal(3)
        close(hj(tg.tensor(x)), np.diag(6 * x), rtol=1e-5)


def test_stop_gradient_is_recorded():
    def f(x):
        u = tg.stop_gradient(x * x)
        return (u * x).sum()

    g = tg.grad(tg.jit(f))
    for _ in range(3):
        x = rng.standard_normal(4)
        close(g(tg.tensor(x)), x * x)
    jg = tg.jit(tg.grad(f))
    for _ in range(3):
        x = rng.standard_normal(4)
        close(jg(tg.tensor(x)), x * x)


def test_composition_with_vmap_jvp_and_jacobians():
    f = lambda x: tg.sin(x) * x.sum()
    X = rng.standard_normal((4, 3))
    want = np.stack([np.sin(x) * x.sum() for x in X])
    close(tg.vmap(tg.jit(f))(tg.tensor(X)), want)
    jv = tg.jit(tg.vmap(f))
    close(jv(tg.tensor(X)), want)
    close(jv(tg.tensor(X * 2)), np.stack([np.sin(x) * x.sum() for x in X * 2]))
    x = rng.standard_normal(3)
    _, t = tg.jvp(tg.jit(f), tg.tensor(x), tg.tensor(np.ones(3)))
    close(t, np.cos(x) * x.sum() + np.sin(x) * 3)
    jr = tg.jit(tg.jacrev(f))
    for _ in range(2):
        x = rng.standard_normal(3)
        close(jr(tg.tensor(x)), tg.jacfwd(f)(tg.tensor(x)))
    close(tg.jacrev(tg.jit(f))(tg.tensor(x)), tg.jacfwd(f)(tg.tensor(x)))


def test_nested_jit_and_pytrees_and_static_arguments():
    inner = tg.jit(lambda x, p: x * p)
    outer = tg.jit(lambda d, scale: {"y": inner(d["x"], scale) + d["b"][0], "n": 3})
    body = counted(outer._fn)
    outer = tg.jit(body)
    for s in (2.0, 2.0, 3.0, 2.0):
        x = tg.tensor(rng.standard_normal(3))
        b = tg.tensor(rng.standard_normal(3))
        r = outer({"x": x, "b": [b]}, s)
        assert r["n"] == 3
        close(r["y"], np.asarray(x) * s + np.asarray(b))
    assert len(body.calls) == 2  # one recording per static value of `scale`
    close(tg.jit(lambda x, *, k=1.0: x * k)(tg.ones(2), k=4.0), [4.0, 4.0])
    close(tg.jit(lambda x: x + 1)(np.ones(2)), [2.0, 2.0])  # numpy arrays are traced


def test_constants_are_read_when_replayed():
    w = tg.tensor([1.0, 2.0])
    j = tg.jit(lambda x: x * w)
    close(j(tg.ones(2)), [1.0, 2.0])
    w[0] = 5.0  # written in place: the replay sees the new value, as eager code would
    close(j(tg.ones(2)), [5.0, 2.0])
    p = tg.Parameter(tg.tensor([1.0, 1.0]), name="p")
    jp = tg.jit(lambda x: x + p)
    close(jp(tg.ones(2)), [2.0, 2.0])
    p.set_data(tg.tensor([3.0, 4.0]))
    close(jp(tg.ones(2)), [4.0, 5.0])


def test_random_draws_are_replayed_fresh_and_in_eager_order():
    def f(x):
        return (
            x + tg.randn(3) * tg.uniform(0.0, 1.0, (3,)) + tg.randint(0, 5, (3,)).astype(tg.float32)
        )

    j = tg.jit(f)
    tg.set_seed(11)
    want = [np.asarray(f(tg.zeros(3))) for _ in range(4)]
    tg.set_seed(11)
    got = [np.asarray(j(tg.zeros(3))) for _ in range(4)]
    info = j.cache_info()
    assert info["records"] == 1 and info["replays"] == 3 and info["eager_signatures"] == 0
    close(got, want)  # the replays draw the same numbers eager calls would, in the same order
    assert not np.array_equal(got[1], got[2])  # fresh numbers on every call
    # Dropout in training mode under GRAPH_MODE: a fresh mask on each replayed call.
    drop = tg.nn.Dropout(p=0.5)
    drop.set_train(True)
    tg.set_context(mode=tg.GRAPH_MODE)
    masks = [np.asarray(drop(tg.ones(64))) != 0 for _ in range(3)]
    tg.set_context(mode=tg.PYNATIVE_MODE)
    assert not np.array_equal(masks[1], masks[2])


def test_ops_on_closed_over_tensors_are_replayed_too():
    w = tg.tensor([1.0, 2.0])
    j = tg.jit(lambda x: x + tg.exp(w * 0) * w * 2)  # w alone, then combined with x
    close(j(tg.zeros(2)), [2.0, 4.0])
    w[0] = 10.0  # written between calls: every op reading w sees it on the next replay
    close(j(tg.zeros(2)), [20.0, 4.0])
    assert j.cache_info()["replays"] == 1


def test_impure_functions_run_eagerly():
    def reseeds(x):
        tg.set_seed(5)
        return x + tg.randn(2)

    j = tg.jit(reseeds)
    a, b = np.asarray(j(tg.zeros(2))), np.asarray(j(tg.zeros(2)))
    assert np.array_equal(a, b)  # set_seed inside: the function runs eagerly, each call reseeds
    assert j.cache_info()["eager_signatures"] == 1
    assert "seed" in j.cache_info()["eager_reasons"][0]
    buf = tg.zeros(2)

    def writes(x):
        buf[0] = x.sum()  # an in-place write into a tensor that is not an argument
        return x * 2

    jw = tg.jit(writes)
    for v in (1.0, 2.0, 3.0):
        close(jw(tg.tensor([v, v])), [2 * v, 2 * v])
        close(buf, [2 * v, 0.0])

    # A value another transform tracks, closed over: its derivative must not be lost.
    def outer(w):
        return tg.jit(lambda x: (x * w).sum())(tg.ones(2))

    close(tg.grad(outer)(tg.tensor([1.0, 2.0])), [1.0, 1.0])


def test_errors_and_recovery():
    with pytest.raises(TypeError):
        tg.jit(3)
    calls = []

    def f(x):
        calls.append(1)
        if len(calls) == 1:
            raise ZeroDivisionError("boom")
        return x + 1

    j = tg.jit(f)
    with pytest.raises(ZeroDivisionError):
        j(tg.ones(2))
    close(j(tg.ones(2)), [2.0, 2.0])  # the level stack is intact and recording works again
    close(tg.grad(lambda x: (x * x).sum())(tg.ones(2)), [2.0, 2.0])
    with pytest.raises(ValueError):
        tg.jit(lambda x, y: x + y)(tg.ones(2), tg.ones(3))


def test_decorator_forms_and_methods():
    @tg.jit
    def f(x):
        return x * 3

    @tg.jit(jit_config=None)
    def g(x):
        return x * 4

    close(f(tg.ones(1)), [3.0])
    close(g(tg.ones(1)), [4.0])

    class Net(tg.nn.Cell):
        def __init__(self):
            super().__init__()
            self.w = tg.Parameter(tg.tensor([2.0, 3.0]), name="w")

        @tg.jit
        def construct(self, x):
            return self.w * x

    net = Net()
    close(net(tg.ones(2)), [2.0, 3.0])
    close(net(tg.tensor([2.0, 2.0])), [4.0, 6.0])


def test_threads_share_a_jitted_function():
    j = tg.jit(lambda x: tg.sin(x) * 2)
    errors = []

    def work(seed):
        r = np.random.default_rng(seed)
        try:
            for _ in range(50):
                x = r.standard_normal(8)
                close(j(tg.tensor(x)), np.sin(x) * 2, rtol=1e-5)
        except Exception as e:  # any failure in a thread is reported below
            errors.append(e)

    ts = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors


class MLP(tg.nn.Cell):
    def __init__(self):
        super().__init__()
        self.fc1 = tg.nn.Dense(4, 8, weight_init="normal")
        self.fc2 = tg.nn.Dense(8, 2, weight_init="normal")
        self.act = tg.nn.Tanh()
        self.drop = tg.nn.Dropout(p=0.5)

    def construct(self, x):
        return self.fc2(self.drop(self.act(self.fc1(x))))


def train(mode, steps=5):
    tg.set_seed(0)
    net = MLP()
    loss = tg.nn.WithLossCell(net, tg.nn.MSELoss())
    step = tg.nn.TrainOneStepCell(loss, tg.nn.SGD(net.trainable_params(), learning_rate=0.1))
    tg.set_context(mode=mode)
    x = tg.tensor(np.linspace(-1, 1, 20, dtype=np.float32).reshape(5, 4))
    y = tg.tensor(np.linspace(0, 1, 10, dtype=np.float32).reshape(5, 2))
    losses = [float(step(x, y)) for _ in range(steps)]
    net.set_train(False)
    out = net(x)
    tg.set_context(mode=tg.PYNATIVE_MODE)
    return losses, np.asarray(out)


def test_graph_mode_gives_pynative_values():
    lp, op = train(tg.PYNATIVE_MODE)
    lg, og = train(tg.GRAPH_MODE)
    close(lg, lp, rtol=1e-6)
    close(og, op, rtol=1e-6)
    assert lp[-1] < lp[0]


def test_graph_mode_runs_transforms_and_cells_under_jit():
    tg.set_context(mode=tg.GRAPH_MODE)
    body = counted(lambda x: (x * x).sum())
    g = tg.grad(body)
    for v in (1.0, 2.0, 3.0):
        close(g(tg.tensor([v])), [2 * v])
    assert len(body.calls) == 1
    grad_all = tg.ops.GradOperation(get_all=True)
    close(grad_all(lambda x: 2 * tg.dot(x, x))(tg.arange(4.0))[0], [0, 4, 8, 12])
    close(tg.vmap(lambda x: x * 2)(tg.ones((2, 3))), np.full((2, 3), 2.0))
    close(tg.jacrev(lambda x: x * 2)(tg.ones(2)), 2 * np.eye(2))

    class Scale(tg.nn.Cell):
        def __init__(self):
            super().__init__()
            self.k = 2.0

        def construct(self, x):
            return x * self.k

    c = Scale()
    close(c(tg.ones(2)), [2.0, 2.0])
    c.k = 5.0  # a changed attribute: recorded again
    close(c(tg.ones(2)), [5.0, 5.0])
    # Seed 001 in GRAPH_MODE.
    a = tg.randn(shape=())
    assert bool(grad_all(seed_001)(a)[0] == seed_001(a) / a)


def test_jit_of_a_transform_of_a_jitted_function():
    f = tg.jit(lambda x: (tg.sin(x) * x).sum())
    f(tg.tensor([1.0, 2.0]))
    x = rng.standard_normal(2)
    close(tg.jit(tg.grad(f))(tg.tensor(x)), np.cos(x) * x + np.sin(x))
    close(tg.jit(tg.jit(f))(tg.tensor(x)), (np.sin(x) * x).sum())


def test_user_rules_are_replayed():
    @tg.custom_jvp
    def f(x):
        return tg.sin(x)

    @f.defjvp
    def f_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return tg.sin(x), 2 * t  # deliberately not cos(x) * t: the rule must be the one used

    @tg.custom_vjp
    def h(x):
        return x * x

    h.defvjp(lambda x: (x * x, (x,)), lambda res, g: (3 * g,))
    jg = tg.jit(tg.grad(lambda x: (f(x) + h(x)).sum()))
    for v in ([1.0, 2.0], [0.5, -1.0]):
        close(jg(tg.tensor(v)), [5.0, 5.0])
    assert jg.cache_info()["replays"] == 1
    _, t = tg.jvp(tg.jit(f), (tg.tensor([1.0]),), (tg.tensor([1.0]),))
    close(t, [2.0])


def test_writes_into_an_argument_reach_the_caller():
    def f(x):
        x[0] = x.sum()
        x[1:][tg.tensor([0])] = -1.0  # through a view, with an index array
        return x * 2

    j = tg.jit(f)
    for _ in range(3):
        a, b = tg.tensor([1.0, 2.0, 3.0]), tg.tensor([1.0, 2.0, 3.0])
        close(j(a), f(b))
        close(a, b)  # the caller's tensor was written, as eagerly: [6, -1, 3]
    assert j.cache_info()["eager_signatures"] == 1
    assert "argument" in j.cache_info()["eager_reasons"][0]


def test_writes_into_tensors_it_does_not_own_are_replayed():
    w = tg.Parameter(tg.tensor([1.0, 2.0]), name="w")

    @tg.jit
    def sgd(g):
        w[...] = w - 0.5 * g  # an optimizer's in-place update: repeated by every replay
        return w * 1

    outs = [np.asarray(sgd(tg.tensor([1.0, 1.0]))) for _ in range(3)]
    info = sgd.cache_info()
    assert info["records"] == 1 and info["replays"] == 2 and info["eager_signatures"] == 0
    close(w, [-0.5, 0.5])
    close(outs, [[0.5, 1.5], [0.0, 1.0], [-0.5, 0.5]])


@pytest.mark.parametrize("opt", ["SGD", "Momentum", "Adam"])
def test_graph_mode_training_steps_are_replayed(opt):
    def run(mode):
        tg.set_seed(0)
        net = MLP()
        params = net.trainable_params()
        optim = {
            "SGD": lambda: tg.nn.SGD(params, learning_rate=0.1),
            "Momentum": lambda: tg.nn.Momentum(params, learning_rate=0.1, momentum=0.9),
            "Adam": lambda: tg.nn.Adam(params, learning_rate=0.01),
        }[opt]()
        step = tg.nn.TrainOneStepCell(tg.nn.WithLossCell(net, tg.nn.MSELoss()), optim)
        tg.set_context(mode=mode)
        x = tg.tensor(np.linspace(-1, 1, 20, dtype=np.float32).reshape(5, 4))
        y = tg.tensor(np.linspace(0, 1, 10, dtype=np.float32).reshape(5, 2))
        losses = [float(step(x, y)) for _ in range(6)]
        tg.set_context(mode=tg.PYNATIVE_MODE)
        return losses, [np.asarray(p) for p in params], step

    lp, pp, _ = run(tg.PYNATIVE_MODE)
    lg, pg, step = run(tg.GRAPH_MODE)
    close(lg, lp, rtol=1e-5)
    for a, b in zip(pg, pp):
        close(a, b, rtol=1e-5, atol=1e-6)
    info = step.__dict__["_tg_graph"][1].cache_info()
    assert info["eager_signatures"] == 0 and info["replays"] == 5, info


def test_large_replays_release_the_gil_and_user_rules_take_it_back():
    @tg.custom_vjp
    def double(x):
        return x * 2

    double.defvjp(lambda x: (x * 2, None), lambda res, g: (g * 2,))
    j = tg.jit(lambda x: tg.sin(double(x)) + 1)  # 2e5 elements: replayed without the GIL
    x = tg.tensor(np.linspace(-1, 1, 200_000))
    want = np.sin(2 * np.linspace(-1, 1, 200_000)) + 1
    errors = []

    def work():
        try:
            for _ in range(5):
                close(j(x), want, rtol=1e-12)
        except Exception as e:
            errors.append(e)

    ts = [threading.Thread(target=work) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors
    assert j.cache_info()["replays"] >= 10
