"""Workflow probes (nn.Cell trees, optimizers, checkpoints, GRAPH_MODE, weights written inside a
differentiated function): each test guards one behaviour that gave a silently wrong answer or an
unclear error the way MindSpore, PyTorch and JAX users write code."""

from __future__ import annotations

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import nn, ops


@pytest.fixture
def graph_mode():
    tg.set_context(mode=tg.GRAPH_MODE)
    try:
        yield
    finally:
        tg.set_context(mode=tg.PYNATIVE_MODE)


# ---- Cell registration -------------------------------------------------------------------------


class _ListNet(nn.Cell):
    def __init__(self, kind):
        super().__init__()
        ps = [tg.Parameter(tg.ones(3), name="a"), tg.Parameter(tg.ones(3) * 2)]
        self.ws = {"list": ps, "tuple": tuple(ps), "ParameterTuple": tg.ParameterTuple(ps)}[kind]

    def construct(self, x):
        return (x * self.ws[0] * self.ws[1]).sum()


@pytest.mark.parametrize("kind", ["list", "tuple", "ParameterTuple"])
def test_parameters_in_a_list_attribute_are_registered_and_trained(kind):
    # MindSpore registers them; they were left out of trainable_params(), so never trained.
    net = _ListNet(kind)
    assert [n for n, _ in net.parameters_and_names()] == ["ws.0", "ws.1"]
    assert [p.name for p in net.trainable_params()] == ["a", "ws.1"]
    x = tg.tensor([1.0, 2.0, 3.0])
    opt = nn.SGD(net.trainable_params(), 0.1)
    opt(tg.grad(net, None, weights=opt.parameters)(x))
    np.testing.assert_allclose(net.ws[0].asnumpy(), 1 - 0.1 * 2 * np.array([1, 2, 3]), rtol=1e-6)
    np.testing.assert_allclose(net.ws[1].asnumpy(), 2 - 0.1 * np.array([1, 2, 3]), rtol=1e-6)


def test_rebinding_a_parameter_list_attribute_drops_its_parameters():
    net = _ListNet("list")
    net.ws = [tg.Parameter(tg.zeros(3), name="c")]
    assert [p.name for p in net.trainable_params()] == ["c"]
    net.ws = "plain"
    assert list(net.trainable_params()) == []
    net.ws = _ListNet("list").ws
    del net.ws
    assert list(net.trainable_params()) == []


def test_parameter_list_survives_a_checkpoint_round_trip(tmp_path):
    src, dst = _ListNet("list"), _ListNet("list")
    src.ws[1][...] = 7.0
    path = str(tmp_path / "net.ckpt")
    tg.save_checkpoint(src, path)
    assert tg.load_param_into_net(dst, tg.load_checkpoint(path)) == ([], [])
    assert dst.ws[1].tolist() == [7.0, 7.0, 7.0]


@pytest.mark.parametrize("value", [np.ones((2, 3)), 3, "w"], ids=["ndarray", "int", "str"])
def test_non_tensor_over_a_registered_parameter_is_a_type_error(value):
    # The attribute used to shadow the Parameter while trainable_params() kept the old one.
    d = nn.Dense(3, 2)
    with pytest.raises(TypeError, match="attribute 'weight' is a Parameter"):
        d.weight = value
    assert isinstance(d.weight, tg.Parameter)


def test_replacing_a_parameter_keeps_its_place():
    d = nn.Dense(3, 2)
    d.weight = tg.Parameter(tg.zeros((2, 3)), name="w2")
    assert [n for n, _ in d.parameters_and_names()] == ["weight", "bias"]
    d.weight = tg.ones((2, 3))  # a Tensor sets the value in place, as MindSpore
    assert d.weight.name == "w2" and d.weight.tolist() == [[1.0] * 3] * 2


def test_cell_without_super_init_names_the_mistake():
    class Net(nn.Cell):
        def __init__(self):
            self.k = 3

        def construct(self, x):
            return x * self.k

    net = Net()
    for call in (net.trainable_params, net.parameters_dict, lambda: list(net.cells_and_names())):
        with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\)"):
            call()


@pytest.mark.parametrize("cls", [nn.SequentialCell, nn.CellList])
def test_cell_containers_index_and_slice(cls):
    seq = cls([nn.Dense(3, 4), nn.ReLU(), nn.Dense(4, 1)])
    part = seq[1:]
    assert type(part) is cls and len(part) == 2 and part[0] is seq[1]
    assert seq[-1] is seq[2]
    with pytest.raises(IndexError, match=f"{cls.__name__}: index 3 is out of range for 3"):
        seq[3]
    with pytest.raises(TypeError, match="indices must be integers or slices"):
        seq["0"]
    with pytest.raises(TypeError, match=f"{cls.__name__}: elements must be Cells, got int"):
        seq.append(5)


def test_cell_list_refuses_non_cells():
    with pytest.raises(TypeError, match="CellList: elements must be Cells, got function"):
        nn.CellList([lambda x: x])


def test_sequential_slice_keeps_names_and_runs():
    seq = nn.SequentialCell({"fc": nn.Dense(3, 4), "act": nn.ReLU(), "out": nn.Dense(4, 1)})
    head = seq[:2]
    assert list(head.name_cells()) == ["fc", "act"]
    assert head(tg.ones((2, 3))).shape == (2, 4)


# ---- Dropout, set_train and GRAPH_MODE -----------------------------------------------------------


class _DropNet(nn.Cell):
    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(p=0.5)

    def construct(self, x):
        return self.drop(x)


def test_graph_mode_dropout_follows_set_train(graph_mode):
    # The recording made in inference mode was replayed after set_train(): no dropout at all.
    net = _DropNet()
    x = tg.ones(2000)
    assert net(x).tolist() == x.tolist()
    net.set_train()
    zeros = float((net(x) == 0).mean())
    assert 0.4 < zeros < 0.6
    net.set_train(False)
    assert net(x).tolist() == x.tolist()


@pytest.mark.parametrize(
    "kw, exc, frag",
    [
        (dict(p="0.5"), TypeError, "Dropout: p must be a number, got str"),
        (dict(keep_prob=None, p=True), TypeError, "Dropout: p must be a number, got bool"),
        (dict(keep_prob=0.0), ValueError, r"Dropout: keep_prob must be in \(0, 1\], got 0.0"),
        (dict(keep_prob=1.5), ValueError, r"keep_prob must be in \(0, 1\]"),
        (dict(p=1.0), ValueError, r"p must be in \[0, 1\)"),
    ],
)
def test_dropout_arguments_are_checked(kw, exc, frag):
    with pytest.raises(exc, match=frag):
        nn.Dropout(**kw)


def test_dropout_keep_prob_one_is_the_identity():
    d = nn.Dropout(keep_prob=1.0).set_train()
    assert d(tg.ones(5)).tolist() == [1.0] * 5


# ---- losses and layers at the edges --------------------------------------------------------------


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_norm_cell_gradient_of_a_zero_row_is_zero_not_nan(dtype):
    x = tg.tensor([[3.0, 4.0], [0.0, 0.0]], dtype=dtype)
    assert nn.Norm(axis=1)(x).tolist() == [5.0, 0.0]
    g = tg.grad(lambda v: nn.Norm(axis=1)(v).sum())(x).asnumpy()
    np.testing.assert_allclose(g, [[0.6, 0.8], [0.0, 0.0]], rtol=1e-6)
    assert (
        tg.grad(lambda v: nn.Norm()(v))(tg.zeros((2, 2), dtype=dtype)).tolist() == [[0.0] * 2] * 2
    )


def test_norm_cell_gradients_match_finite_differences():
    x = tg.tensor(np.random.default_rng(0).standard_normal((3, 4)))
    tg.testing.check_grads(lambda v: nn.Norm(axis=(0, 1), keep_dims=True)(v), (x,), order=2)


@pytest.mark.parametrize(
    "p, t, grad",
    [([0.0, 1.0], [0.0, 1.0], [0.5, -0.5]), ([0.0, 0.5], [1.0, 1.0], [0.0, -1.0])],
)
def test_bce_loss_gradient_at_zero_and_one_is_finite(p, t, grad):
    # max(log p, -100) gave a NaN gradient (inf * 0) where the clamp is active.
    loss = nn.BCELoss(reduction="mean")
    g = tg.grad(lambda q: loss(q, tg.tensor(t)))(tg.tensor(p))
    np.testing.assert_allclose(g.asnumpy(), grad, rtol=1e-6)


def test_bce_loss_values_unchanged_and_match_torch():
    torch = pytest.importorskip("torch")
    p = np.array([1e-3, 0.3, 0.9, 0.0, 1.0], np.float32)
    t = np.array([0.0, 1.0, 1.0, 1.0, 0.0], np.float32)
    ours = float(nn.BCELoss(reduction="sum")(tg.tensor(p), tg.tensor(t)))
    ref = float(
        torch.nn.functional.binary_cross_entropy(torch.tensor(p), torch.tensor(t), reduction="sum")
    )
    assert ours == pytest.approx(ref, rel=1e-6)


# ---- optimizers --------------------------------------------------------------------------------


@pytest.mark.parametrize("params", [None, 5, "w", tg.ones(2)], ids=["none", "int", "str", "tensor"])
def test_optimizer_parameters_not_an_iterable_of_parameters(params):
    with pytest.raises(TypeError, match="SGD: parameters must be an iterable of Parameters"):
        nn.SGD(params, 0.1)


@pytest.mark.parametrize("opt", ["SGD", "Momentum", "Adam", "AdamW"])
@pytest.mark.parametrize("dtype", [tg.bool_, tg.complex64])
def test_optimizer_gradient_dtype_is_checked(opt, dtype):
    w = tg.Parameter(tg.ones(2), name="w")
    make = {
        "SGD": lambda: nn.SGD([w], 0.1),
        "Momentum": lambda: nn.Momentum([w], 0.1, 0.9),
        "Adam": lambda: nn.Adam([w], 0.1),
        "AdamW": lambda: nn.AdamW([w], 0.1),
    }[opt]()
    with pytest.raises(TypeError, match=f"{opt}: the gradient of parameter 'w' has dtype"):
        make((tg.ones(2).astype(dtype),))
    assert w.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("gdtype", [tg.float64, tg.float16, tg.int32])
def test_optimizer_takes_other_real_gradient_dtypes(gdtype):
    w = tg.Parameter(tg.ones(2), name="w")
    nn.SGD([w], 0.5)((tg.ones(2).astype(gdtype),))
    assert w.dtype == tg.float32 and w.tolist() == [0.5, 0.5]


# ---- checkpoints -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [123, None, 1.5], ids=["int", "none", "float"])
def test_checkpoint_file_name_type_names_the_function(tmp_path, name):
    with pytest.raises(TypeError, match="save_checkpoint: the checkpoint file name must be a str"):
        tg.save_checkpoint(nn.Dense(2, 2), name)
    with pytest.raises(TypeError, match="load_checkpoint: the checkpoint file name must be a str"):
        tg.load_checkpoint(name)


# ---- weights written inside a differentiated function --------------------------------------------


def _written_inside(kind):
    w = tg.Parameter(tg.ones(3), name="w")
    opt = nn.SGD([w], 0.1)

    def f(x):
        y = (w * x * w).sum()
        if kind == "setitem":
            w[0] = 5.0
        elif kind == "ellipsis":
            w[...] = w * 5.0
        else:
            opt((tg.ones(3),))
        return y

    return w, f


_AFTER = {"setitem": [5.0, 1.0, 1.0], "ellipsis": [5.0, 5.0, 5.0], "optimizer": [0.9, 0.9, 0.9]}


@pytest.mark.parametrize("kind", list(_AFTER))
@pytest.mark.parametrize("how", ["grad", "value_and_grad", "GradOperation"])
def test_weight_written_inside_the_function_keeps_the_write_and_its_gradient(kind, how):
    # The weight's gradient came back as zeros (that of the value written last) and the write
    # itself was lost when the transform put the weight back.
    w, f = _written_inside(kind)
    x = tg.tensor([1.0, 2.0, 3.0])
    if how == "grad":
        gx, (gw,) = tg.grad(f, 0, weights=[w])(x)
    elif how == "value_and_grad":
        value, (gx, (gw,)) = tg.value_and_grad(f, 0, weights=[w])(x)
        assert float(value) == 6.0
    else:
        (gx,), (gw,) = ops.GradOperation(get_all=True, get_by_list=True)(f, tg.ParameterTuple([w]))(
            x
        )
    assert gx.tolist() == [1.0, 1.0, 1.0]  # w * w at the time of use
    assert gw.tolist() == [2.0, 4.0, 6.0]  # 2 * w * x with w = 1
    np.testing.assert_allclose(w.asnumpy(), _AFTER[kind], rtol=1e-6)
    assert isinstance(w, tg.Parameter) and w.name == "w"
    assert not tg._core._any_tracked([w])


def test_weight_not_written_keeps_its_object_value():
    w = tg.Parameter(tg.ones(3), name="w")
    before = tg._core._alias(w)
    tg.grad(lambda x: (w * x).sum(), 0, weights=[w])(tg.ones(3))
    assert tg._core._same_value(w, before)


# ---- cells with a bprop, losses fed a network's tuple --------------------------------------------


class _ScaleWithBprop(nn.Cell):
    def construct(self, x, scale=2.0):
        return x * scale

    def bprop(self, x, scale, out, dout):
        return (dout * scale * 10, None)


@pytest.mark.parametrize(
    "call, value",
    [
        (lambda c, x: c(x, scale=5.0), 5.0),
        (lambda c, x: c(x, 5.0), 5.0),
        (lambda c, x: c(scale=3.0, x=x), 3.0),
    ],
    ids=["keyword", "positional", "all_keywords"],
)
def test_bprop_cell_keyword_inputs_reach_construct_and_bprop(call, value):
    # Keyword inputs were dropped: construct ran with its default and bprop never saw them.
    c, x = _ScaleWithBprop(), tg.tensor([1.0, 2.0])
    assert call(c, x).tolist() == [value, 2 * value]
    assert tg.grad(lambda x: call(c, x).sum())(x).tolist() == [10 * value] * 2


def test_bprop_cell_bad_keyword_names_the_cell():
    with pytest.raises(TypeError, match="_ScaleWithBprop.construct: .*unexpected keyword"):
        _ScaleWithBprop()(tg.ones(2), factor=2.0)


@pytest.mark.parametrize("loss", [nn.MSELoss(), nn.L1Loss(), nn.BCELoss()], ids=type)
def test_loss_of_a_tuple_output_names_the_loss(loss):
    out = (tg.full((2, 1), 0.5), tg.ones((2, 3)))
    with pytest.raises(
        TypeError, match=f"{type(loss).__name__}: logits must be a Tensor, got tuple"
    ):
        loss(out, tg.zeros((2, 1)))
    with pytest.raises(TypeError, match="labels must be a Tensor, got NoneType"):
        loss(tg.full((2, 1), 0.5), None)


# ---- Python numbers taken from traced values ------------------------------------------------------

_CONVERT = {
    "float": lambda t: float(t),
    "item": lambda t: t.item(),
    "int": lambda t: int(t),
    "numpy": lambda t: float(np.asarray(t)),
}


@pytest.mark.parametrize("conv", list(_CONVERT))
def test_python_number_of_a_traced_value_is_a_constant_to_every_transform(conv):
    c = _CONVERT[conv]
    x = tg.tensor([1.0, 2.0, 3.0])

    def f(x):
        return x * c(x.sum())  # d/dx with the factor held constant: 6 everywhere

    assert tg.grad(lambda x: f(x).sum())(x).tolist() == [6.0] * 3
    assert tg.jvp(f, (x,), (tg.ones(3),))[1].tolist() == [6.0] * 3
    np.testing.assert_array_equal(tg.jacrev(f)(x).asnumpy(), 6 * np.eye(3))
    g = tg.jit(tg.grad(lambda x: f(x).sum()))
    assert g(x).tolist() == [6.0] * 3
    assert g(2 * x).tolist() == [12.0] * 3  # a recorded decision: recorded again, not replayed
    with pytest.raises(ValueError, match="batched by vmap"):
        tg.vmap(f)(tg.ones((2, 3)))


def test_weights_tuple_attribute_renames_no_parameter():
    # MindSpore's custom training cells keep `self.weights = optimizer.parameters`: the
    # Parameters keep the names their layers give them (checkpoints stay loadable).
    net = nn.SequentialCell([nn.Dense(3, 4), nn.Dense(4, 1)])

    class Step(nn.Cell):
        def __init__(self):
            super().__init__()
            self.weights = net.trainable_params()
            self.network = net

        def construct(self, x):
            return self.network(x)

    names = [n for n, _ in Step().parameters_and_names()]
    assert names == ["network.0.weight", "network.0.bias", "network.1.weight", "network.1.bias"]


def test_weight_written_inside_grad_is_seen_by_a_graph_mode_replay(graph_mode):
    # The write lands in the weight's own storage, which recordings read afresh on replay.
    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.w = tg.Parameter(tg.ones(3), name="w")

        def construct(self, x):
            return self.w * x

    net, x = Net(), tg.ones(3)
    assert net(x).tolist() == [1.0] * 3 and net(x).tolist() == [1.0] * 3  # recorded, replayed
    before = tg._core._alias(net.w)

    def f(a):
        net.w[...] = net.w * 3
        return (a * net.w).sum()

    tg.set_context(mode=tg.PYNATIVE_MODE)
    gx, (gw,) = tg.grad(f, 0, weights=[net.w])(x)
    tg.set_context(mode=tg.GRAPH_MODE)
    assert gx.tolist() == [3.0] * 3 and gw.tolist() == [3.0] * 3
    assert tg._core._same_value(net.w, before)
    assert net(x).tolist() == [3.0] * 3


@pytest.mark.parametrize("stage", ["function", "has_aux", "sens"])
def test_weight_write_kept_when_the_transform_raises(stage):
    w = tg.Parameter(tg.ones(3), name="w")

    def f(a):
        w[0] = 2.0
        if stage == "function":
            raise KeyError("boom")
        return (a * w).sum()  # not a tuple: has_aux refuses it

    x = tg.ones(3)
    if stage == "function":
        with pytest.raises(KeyError):
            tg.grad(f, 0, weights=[w])(x)
    elif stage == "has_aux":
        with pytest.raises(TypeError, match="has_aux=True"):
            tg.grad(f, 0, weights=[w], has_aux=True)(x)
    else:
        g = ops.GradOperation(get_by_list=True, sens_param=True)(f, tg.ParameterTuple([w]))
        with pytest.raises(ValueError, match="sens of shape"):
            g(x, tg.ones(5))
    assert w.tolist() == [2.0, 1.0, 1.0]
    assert not tg._core._any_tracked([w])


def test_weight_written_inside_vjp():
    w = tg.Parameter(tg.ones(3), name="w")

    def f(a):
        w[0] = 2.0
        y = a * w
        w[1] = 4.0
        return y

    out, vjp_fn = tg.vjp(f, tg.tensor([1.0, 2.0, 3.0]), weights=[w])
    assert w.tolist() == [2.0, 4.0, 1.0] and out.tolist() == [2.0, 2.0, 3.0]
    (ga,), (gw,) = vjp_fn(tg.ones(3))
    assert ga.tolist() == [2.0, 1.0, 1.0] and gw.tolist() == [0.0, 2.0, 3.0]


def test_random_draws_under_vmap_are_the_same_for_every_example():
    # The documented rule (docs/autodiff.md): one draw for one example's shape.
    drop = nn.Dropout(p=0.5).set_train()
    tg.set_seed(0)
    out = tg.vmap(lambda r: drop(r) + tg.rand(()))(tg.ones((4, 8))).asnumpy()
    assert (out == out[0]).all()
    assert len(np.unique(out[0])) == 2  # dropped and kept, each shifted by the same draw
