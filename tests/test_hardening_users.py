"""Robustness round 'what users actually write': numpy idioms on Tensors (formatting, `in`,
item(index), dtype spellings), MindSpore nn arguments (initializers, padding, labels given as
lists or numpy arrays) and the jit's treatment of Python numbers read from outside."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import nn

# ---- Section 2: Tensor conversions ---------------------------------------------------------------


def test_format_spec_of_a_0d_tensor_formats_its_value():
    assert format(tg.tensor(3.14159), ".3f") == "3.142"
    assert f"{tg.tensor(7):05d}" == "00007"
    assert format(tg.tensor([1.5, 2.0]), "") == str(tg.tensor([1.5, 2.0]))


@pytest.mark.parametrize("shape", [(1,), (2,), (2, 2), (0,)])
def test_format_spec_of_an_nd_tensor_is_a_type_error_like_numpy(shape):
    t = tg.ones(shape)
    with pytest.raises(TypeError) as np_err:
        format(np.ones(shape), ".3f")
    assert "unsupported format string" in str(np_err.value)
    with pytest.raises(
        TypeError,
        match=r"unsupported format string.*shape "
        + repr(shape).replace("(", r"\(").replace(")", r"\)"),
    ):
        format(t, ".3f")


@pytest.mark.parametrize(
    "value, data",
    [
        ([1, 2], [[1, 2], [3, 4]]),
        ([3, 4], [[1, 2], [3, 4]]),
        ([2, 1], [[1, 2], [3, 4]]),
        (5, [[1, 2], [3, 4]]),
        (3, [[1, 2], [3, 4]]),
        (2.0, [1.0, 2.0]),
        (np.float32(7), [1.0, 2.0]),
        ([1, 2], np.zeros((0, 2))),
    ],
)
def test_in_operator_is_any_of_equal_like_numpy(value, data):
    t = tg.tensor(np.asarray(data))
    assert (value in t) is (value in np.asarray(data))
    assert (tg.tensor(value) in t) is (value in np.asarray(data))


def test_in_operator_with_a_non_number_is_false():
    assert ("a" in tg.tensor([1, 2])) is False
    assert (None in tg.tensor([1, 2])) is False


@pytest.mark.parametrize("args", [(0,), (2,), (-1,), (3,), (0, 1), (1, 0), ((1, 1),), ((-1, -2),)])
def test_item_with_an_index_follows_numpy(args):
    a = np.array([[1, 2], [3, 4]])
    assert tg.tensor(a).item(*args) == a.item(*args)
    assert type(tg.tensor(a).item(*args)) is int


@pytest.mark.parametrize(
    "args, exc, fragment",
    [
        ((4,), IndexError, "index 4 is out of bounds for a tensor of size 4"),
        ((-5,), IndexError, "index -5 is out of bounds"),
        ((0, 2), IndexError, "out of bounds"),
        ((1.5,), TypeError, "item: indices must be integers"),
        (("a",), TypeError, "item: indices must be integers"),
        ((0, 0, 0), ValueError, "takes 1 or 2 indices, got 3"),
    ],
)
def test_item_with_a_bad_index_names_item(args, exc, fragment):
    with pytest.raises(exc, match=fragment):
        tg.tensor([[1, 2], [3, 4]]).item(*args)


def test_item_with_an_index_of_0d_and_float_tensors():
    assert tg.tensor(5.0).item(0) == 5.0
    assert tg.tensor([1.5, 2.5]).item(1) == 2.5
    with pytest.raises(IndexError):
        tg.tensor(5.0).item(1)


def test_item_with_an_index_is_a_jit_decision():
    f = tg.jit(lambda x: x * x.item(1))
    np.testing.assert_allclose(f(tg.tensor([1.0, 2.0])).asnumpy(), [2.0, 4.0])
    np.testing.assert_allclose(f(tg.tensor([1.0, 3.0])).asnumpy(), [3.0, 9.0])


# ---- Section 3: dtype spellings ------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    [
        "f4",
        "<f4",
        ">f4",
        "f8",
        "=f8",
        "f2",
        "e",
        "d",
        "i1",
        "i2",
        "i4",
        "i8",
        "u1",
        "u2",
        "u4",
        "u8",
        "b",
        "B",
        "h",
        "l",
        "q",
        "?",
        "b1",
        "F",
        "D",
        "c8",
        "c16",
        "single",
        "longlong",
        "ubyte",
    ],
)
def test_numpy_dtype_codes_are_accepted(spelling):
    want = np.dtype(spelling).newbyteorder("=")
    for make in (
        lambda: tg.zeros(2, dtype=spelling),
        lambda: tg.tensor([0, 1], dtype=spelling),
        lambda: tg.ones(2).astype(spelling),
    ):
        t = make()
        assert t.asnumpy().dtype == want


def test_named_dtype_spellings_keep_their_meaning():
    # The names tapegrad read before (case-insensitive, MindSpore's print names too) are unchanged.
    assert tg.zeros(1, dtype="float").dtype == tg.float32
    assert tg.zeros(1, dtype="Float32").dtype == tg.float32
    assert tg.zeros(1, dtype="complex").dtype == tg.complex128
    assert tg.zeros(1, dtype="int").dtype == tg.int64


@pytest.mark.parametrize(
    "spelling, fragment",
    [
        ("x", "'x' is not a supported dtype"),
        ("U3", r"'U3' \(<U3\) is not a supported dtype"),
        ("f16", r"'f16' \(float128\) is not a supported dtype"),
        ("O", "is not a supported dtype"),
        ("cuda:0", "is not a supported dtype"),
    ],
)
def test_unsupported_dtype_strings_are_a_type_error(spelling, fragment):
    with pytest.raises(TypeError, match=fragment):
        tg.zeros(2, dtype=spelling)


# ---- Section 5: nn -------------------------------------------------------------------------------


@pytest.mark.parametrize("x", [tg.tensor(1.0), 1.0])
def test_dense_of_a_0d_input_names_the_shapes(x):
    with pytest.raises(
        ValueError, match=r"Dense: expected input with last dimension 3, got shape \(\)"
    ):
        nn.Dense(3, 4)(x)


def test_dense_takes_numpy_and_list_inputs():
    d = nn.Dense(3, 2, weight_init="ones", bias_init="zeros")
    np.testing.assert_allclose(d(np.ones((1, 3))).asnumpy(), [[3.0, 3.0]])
    np.testing.assert_allclose(d([[1.0, 1.0, 1.0]]).asnumpy(), [[3.0, 3.0]])


@pytest.mark.parametrize(
    "name, std",
    [
        ("he_normal", np.sqrt(2.0 / 300)),
        ("HeNormal", np.sqrt(2.0 / 300)),
        ("xavier_normal", np.sqrt(2.0 / 700)),
        ("XavierNormal", np.sqrt(2.0 / 700)),
        ("xavier_uniform", np.sqrt(6.0 / 700) / np.sqrt(3.0)),
        ("XavierUniform", np.sqrt(6.0 / 700) / np.sqrt(3.0)),
        ("Normal", 0.01),
    ],
)
def test_mindspore_initializer_names(name, std):
    tg.set_seed(0)
    w = nn.Dense(300, 400, weight_init=name).weight.asnumpy()
    assert w.shape == (400, 300)
    assert abs(w.mean()) < 0.1 * std
    assert abs(w.std() - std) < 0.05 * std


@pytest.mark.parametrize("name", ["truncatednormal", "TruncatedNormal", "truncated_normal"])
def test_truncated_normal_initializer_stays_within_two_sigma(name):
    tg.set_seed(0)
    w = nn.Dense(200, 100, weight_init=name).weight.asnumpy()
    assert np.abs(w).max() <= 0.02
    # N(0, 0.01) cut at two sigma has a standard deviation of 0.0088.
    assert abs(w.std() - 0.0088) < 0.0005


def test_truncated_normal_initializer_is_reproducible():
    tg.set_seed(3)
    a = nn.Dense(20, 10, weight_init="truncatednormal").weight.asnumpy()
    tg.set_seed(3)
    b = nn.Dense(20, 10, weight_init="truncatednormal").weight.asnumpy()
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name, value", [("Zero", 0.0), ("zero", 0.0), ("One", 1.0), ("ONES", 1.0)])
def test_constant_initializer_names(name, value):
    d = nn.Dense(3, 2, weight_init=name, bias_init=name)
    np.testing.assert_array_equal(d.weight.asnumpy(), np.full((2, 3), value, np.float32))
    np.testing.assert_array_equal(d.bias.asnumpy(), np.full((2,), value, np.float32))


def test_number_and_numpy_initializers():
    d = nn.Dense(3, 2, weight_init=0.5, bias_init=np.array([1.0, 2.0]))
    np.testing.assert_array_equal(d.weight.asnumpy(), np.full((2, 3), 0.5, np.float32))
    np.testing.assert_array_equal(d.bias.asnumpy(), [1.0, 2.0])
    assert d.bias.dtype == tg.float32
    with pytest.raises(
        ValueError,
        match=r"a Tensor of shape \(3, 2\) cannot initialise a parameter of shape \(2, 3\)",
    ):
        nn.Dense(3, 2, weight_init=np.ones((3, 2)))


@pytest.mark.parametrize("bad", ["bogus", True, None.__class__, [1.0]])
def test_unknown_initializer_names_the_choices(bad):
    with pytest.raises(ValueError, match="unknown initializer .*he_normal"):
        nn.Dense(3, 2, weight_init=bad)


def test_conv_xavier_fan_out_counts_the_kernel_window():
    tg.set_seed(0)
    w = nn.Conv2d(16, 32, 3, weight_init="xavier_uniform").weight.asnumpy()
    bound = np.sqrt(6.0 / (16 * 9 + 32 * 9))
    assert np.abs(w).max() <= bound
    assert np.abs(w).max() > 0.95 * bound


@pytest.mark.parametrize("padding", [-1, (1, -1), (0, 0, -2, 0)])
@pytest.mark.parametrize("pad_mode", ["pad", "same", "valid"])
def test_conv_negative_padding_fails_at_construction(padding, pad_mode):
    with pytest.raises(ValueError, match=r"Conv2d: padding must be >= 0"):
        nn.Conv2d(3, 2, 3, pad_mode=pad_mode, padding=padding)


@pytest.mark.parametrize(
    "labels",
    [
        np.array([0, 1, 3]),
        [0, 1, 3],
        np.array([0, 1, 3], np.int32),
        (np.array([0, 1, 3], np.uint8)),
    ],
)
def test_sparse_cross_entropy_takes_numpy_and_list_labels(labels):
    loss = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")
    logits = np.log(np.array([[0.5, 0.25, 0.125, 0.125]] * 3))
    want = -np.mean(logits[np.arange(3), [0, 1, 3]])
    np.testing.assert_allclose(float(loss(tg.tensor(logits), labels)), want, rtol=1e-6)
    np.testing.assert_allclose(float(loss(logits, labels)), want, rtol=1e-6)


@pytest.mark.parametrize(
    "labels, exc, fragment",
    [
        (np.array([0, 1, 4]), ValueError, r"class indices in \[0, 4\)"),
        ([0, -1, 2], ValueError, r"class indices in \[0, 4\)"),
        ([0, 1], ValueError, r"labels of shape \(2,\) must have the shape of the logits"),
        (np.array([0.0, 1.0, 2.0]), TypeError, r"labels must be integers, got dtype Float64"),
        (tg.tensor([True, False, True]), TypeError, r"labels must be integers, got dtype Bool"),
        ((0, 1, 2), TypeError, r"labels must be a Tensor, got tuple"),
    ],
)
def test_sparse_cross_entropy_bad_labels_name_the_loss(labels, exc, fragment):
    loss = nn.SoftmaxCrossEntropyWithLogits(sparse=True)
    with pytest.raises(exc, match=r"SoftmaxCrossEntropyWithLogits.*" + fragment):
        loss(tg.ones((3, 4)), labels)


# ---- Section 5: optimizers -----------------------------------------------------------------------


def _param(v=1.0, name="w"):
    return tg.Parameter(tg.tensor([v]), name=name)


@pytest.mark.parametrize(
    "lr",
    [
        [0.5, 0.25],
        (0.5, 0.25),
        np.array([0.5, 0.25]),
        tg.tensor([0.5, 0.25]),
        tg.tensor([0.5, 0.25], dtype=tg.float64),
    ],
)
def test_learning_rate_sequence_gives_each_step_its_rate(lr):
    w = _param()
    opt = nn.SGD([w], learning_rate=lr)
    seen = []
    for _ in range(4):
        seen.append(float(opt.get_lr()))
        opt((tg.tensor([1.0]),))
    assert seen == [0.5, 0.25, 0.25, 0.25]
    np.testing.assert_allclose(w.asnumpy(), [1.0 - 0.5 - 0.25 * 3])


def test_learning_rate_schedule_is_called_with_the_step():
    class Halving(nn.Cell):
        def construct(self, step):
            return 0.5 ** step.astype(tg.float32)

    w = _param()
    opt = nn.Adam([w], learning_rate=Halving())
    steps = []
    opt2 = nn.SGD([_param()], learning_rate=lambda step: (steps.append(int(step)), 0.1)[1])
    for _ in range(3):
        opt((tg.tensor([1.0]),))
        opt2((tg.tensor([1.0]),))
    assert steps == [0, 1, 2]
    # Adam's first steps move by about the rate: 1 + 0.5 + 0.25.
    np.testing.assert_allclose(w.asnumpy(), [1.0 - 1.75], rtol=1e-4)


@pytest.mark.parametrize("mode", ["PYNATIVE_MODE", "GRAPH_MODE"])
def test_learning_rate_sequence_under_graph_mode_follows_the_step(mode):
    net = nn.Dense(2, 1, weight_init="zeros", bias_init="zeros")

    class NegSum(nn.Cell):
        def __init__(self):
            super().__init__()
            self.net = net

        def construct(self, x):
            return -self.net(x).sum()

    step = nn.TrainOneStepCell(
        NegSum(), nn.SGD(net.trainable_params(), tg.tensor([1.0, 0.5, 0.25]))
    )
    tg.set_context(mode=getattr(tg, mode))
    try:
        for _ in range(5):
            step(tg.zeros((1, 2)))
    finally:
        tg.set_context(mode=tg.PYNATIVE_MODE)
    np.testing.assert_allclose(net.bias.asnumpy(), [1.0 + 0.5 + 0.25 * 3])


@pytest.mark.parametrize(
    "lr, exc, fragment",
    [
        ([], ValueError, r"learning_rate sequence must be 1-d and not empty, got shape \(0,\)"),
        ([[0.1]], ValueError, r"must be 1-d and not empty, got shape \(1, 1\)"),
        ([0.1, -1.0], ValueError, r"learning_rate must be in \[0.0, inf\], got -1.0"),
        ([0.1, float("nan")], ValueError, "learning_rate must be a finite number"),
        (["a"], TypeError, "learning_rate must be a real number, got str"),
        (tg.tensor([[0.1, 0.2]]), TypeError, "one-element numeric Tensor"),
    ],
)
def test_bad_learning_rate_sequences_are_refused(lr, exc, fragment):
    with pytest.raises(exc, match="SGD: .*" + fragment):
        nn.SGD([_param()], learning_rate=lr)


def test_schedule_returning_a_bad_rate_names_it():
    opt = nn.SGD([_param()], learning_rate=lambda step: "fast")
    with pytest.raises(
        TypeError, match="SGD: the learning rate of the schedule must be a real number"
    ):
        opt((tg.tensor([1.0]),))


def test_parameter_groups_have_their_own_rate_and_weight_decay():
    a, b, c = _param(1.0, "a"), _param(1.0, "b"), _param(1.0, "c")
    opt = nn.SGD(
        [
            {"params": [a], "lr": 0.5},
            {"params": [b], "weight_decay": 1.0},
            {"params": [c], "lr": [0.25, 0.0]},
        ],
        learning_rate=0.1,
    )
    assert opt.parameters == (a, b, c)
    for _ in range(2):
        opt((tg.tensor([1.0]),) * 3)
    np.testing.assert_allclose(a.asnumpy(), [0.0])
    # b: 1 - 0.1 * (1 + 1) = 0.8, then 0.8 - 0.1 * (1 + 0.8) = 0.62
    np.testing.assert_allclose(b.asnumpy(), [0.62], rtol=1e-6)
    np.testing.assert_allclose(c.asnumpy(), [0.75])


def test_parameter_groups_of_adamw_decay_by_their_own_rate():
    a, b = _param(1.0, "a"), _param(1.0, "b")
    nn.AdamW(
        [{"params": [a], "weight_decay": 0.0}, {"params": [b]}], learning_rate=0.1, weight_decay=0.5
    )((tg.tensor([0.0]), tg.tensor([0.0])))
    np.testing.assert_allclose(a.asnumpy(), [1.0])
    np.testing.assert_allclose(b.asnumpy(), [1.0 - 0.1 * 0.5])


@pytest.mark.parametrize(
    "groups, exc, fragment",
    [
        (
            lambda w: [{"params": [w], "momentum": 0.9}],
            ValueError,
            r"group 0 must have 'params'.*got keys \['momentum', 'params'\]",
        ),
        (lambda w: [{"lr": 0.1}], ValueError, r"group 0 must have 'params'"),
        (
            lambda w: [{"params": [w]}, w],
            TypeError,
            r"parameter groups must all be dicts, got a Parameter among them \(item 1\)",
        ),
        (
            lambda w: [{"params": w}],
            TypeError,
            r"the 'params' of group 0 must be an iterable of Parameters, got Parameter",
        ),
        (lambda w: [{"params": []}], ValueError, "the parameter groups hold no parameters"),
        (
            lambda w: [{"params": [w]}, {"params": [w]}],
            ValueError,
            r"parameter 'w' appears more than once",
        ),
        (
            lambda w: [{"params": [w], "lr": -1.0}],
            ValueError,
            r"learning_rate must be in \[0.0, inf\]",
        ),
        (
            lambda w: [{"params": [w], "weight_decay": "x"}],
            TypeError,
            "weight_decay must be a real number",
        ),
        (
            lambda w: [{"params": [tg.ones(1)]}],
            TypeError,
            "parameters must be Parameters, got Tensor",
        ),
    ],
)
def test_bad_parameter_groups_are_refused(groups, exc, fragment):
    with pytest.raises(exc, match="Momentum: .*" + fragment):
        nn.Momentum(groups(_param()), 0.1, 0.9)


def _adam_reference(
    grads, lr, nesterov, loss_scale=1.0, weight_decay=0.0, b1=0.9, b2=0.999, eps=1e-8
):
    p, m, v = np.array([1.0, 2.0]), np.zeros(2), np.zeros(2)
    for t, g in enumerate(grads, 1):
        g = np.asarray(g) / loss_scale + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mt = b1 * m + (1 - b1) * g if nesterov else m
        p = p - lr * (mt / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    return p


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("loss_scale, weight_decay", [(1.0, 0.0), (1024.0, 0.0), (1024.0, 0.1)])
def test_adam_nesterov_and_loss_scale_follow_mindspore(nesterov, loss_scale, weight_decay):
    grads = [np.array([0.5, -1.0]) * t * loss_scale for t in range(1, 4)]
    w = tg.Parameter(tg.tensor([1.0, 2.0], dtype=tg.float64), name="w")
    opt = nn.Adam([w], 0.1, use_nesterov=nesterov, loss_scale=loss_scale, weight_decay=weight_decay)
    for g in grads:
        opt((tg.tensor(g),))
    np.testing.assert_allclose(
        w.asnumpy(), _adam_reference(grads, 0.1, nesterov, loss_scale, weight_decay), rtol=1e-12
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: nn.SGD(ps, 0.1, weight_decay=0.1, loss_scale=8.0),
        lambda ps: nn.Momentum(ps, 0.1, 0.0, weight_decay=0.1, loss_scale=8.0),
    ],
)
def test_loss_scale_does_not_scale_the_weight_decay(make):
    w = tg.Parameter(tg.tensor([1.0], dtype=tg.float64), name="w")
    make([w])((tg.tensor([8.0], dtype=tg.float64),))
    # the gradient 8 / 8 = 1, plus 0.1 * w = 0.1
    np.testing.assert_allclose(w.asnumpy(), [1.0 - 0.1 * 1.1])


@pytest.mark.parametrize("momentum", [0.0, 0])
def test_sgd_nesterov_without_momentum_is_refused(momentum):
    with pytest.raises(
        ValueError, match=r"SGD: nesterov=True needs momentum > 0, got momentum=0.0"
    ):
        nn.SGD([_param()], 0.1, momentum=momentum, nesterov=True)


# ---- Section 6: jit and Python numbers from outside (documented in docs/autodiff.md) -------------

SCALE = 2.0


def _scaled(x):
    return x * SCALE


def test_jit_python_number_global_is_a_constant_of_the_record():
    global SCALE
    f = tg.jit(_scaled)
    x = tg.tensor([1.0, 2.0])
    try:
        np.testing.assert_allclose(f(x).asnumpy(), [2.0, 4.0])
        SCALE = 3.0
        # As documented: the number is part of the record (JAX does the same) ...
        np.testing.assert_allclose(f(x).asnumpy(), [2.0, 4.0])
        # ... and passing it as an argument is the way to vary it.
        g = tg.jit(lambda x, s: x * s)
        np.testing.assert_allclose(g(x, 2.0).asnumpy(), [2.0, 4.0])
        np.testing.assert_allclose(g(x, SCALE).asnumpy(), [3.0, 6.0])
    finally:
        SCALE = 2.0


def test_jit_tensor_global_changed_in_place_is_seen():
    w = tg.tensor([2.0])
    f = tg.jit(lambda x: x * w)
    x = tg.tensor([1.0, 2.0])
    np.testing.assert_allclose(f(x).asnumpy(), [2.0, 4.0])
    w[0] = 3.0
    np.testing.assert_allclose(f(x).asnumpy(), [3.0, 6.0])


# ---- Section 5: cells and checkpoints ------------------------------------------------------------


@pytest.mark.parametrize("dst", [tg.float16, "float16", np.float16, tg.float64])
def test_to_float_casts_the_inputs_of_the_cell_and_its_sub_cells(dst):
    net = nn.SequentialCell([nn.Dense(2, 3), nn.ReLU(), nn.Dense(3, 1)]).to_float(dst)
    want = tg.zeros(1, dtype=dst).dtype
    assert net[0].weight.dtype == want and net[2].bias.dtype == want
    assert net(tg.ones((1, 2))).dtype == want
    assert net[2](tg.ones((1, 3), dtype=tg.float32)).dtype == want
    # integer inputs are left alone (an index, a label)
    assert nn.ReLU().to_float(dst)(tg.tensor([1, -1])).dtype == tg.int64


def test_to_float_refuses_a_non_float_dtype():
    with pytest.raises(
        TypeError, match="Dense.to_float: dst_type must be a float dtype, got Int32"
    ):
        nn.Dense(2, 1).to_float(tg.int32)
    with pytest.raises(TypeError, match="is not a supported dtype"):
        nn.Dense(2, 1).to_float("x")


def test_save_checkpoint_os_errors_name_the_checkpoint(tmp_path):
    (tmp_path / "taken.ckpt").mkdir()
    with pytest.raises(
        IsADirectoryError, match=r"save_checkpoint: cannot write '.*taken.ckpt' \(Is a directory\)"
    ):
        tg.save_checkpoint(nn.Dense(1, 1), str(tmp_path / "taken"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.ckpt"]  # no temporary file left
    with pytest.raises(FileNotFoundError, match="save_checkpoint: the directory .* does not exist"):
        tg.save_checkpoint(nn.Dense(1, 1), str(tmp_path / "no" / "x.ckpt"))


# ---- Section 7: writes through DLPack views into values a reverse sweep saved --------------------
# PyTorch writes through the views it takes (it ignores DLPack's read-only flag) and bumps none
# of tapegrad's version counters: these gave wrong gradients (Note [Exported buffers]).


def test_dlpack_write_into_an_intermediate_inside_grad_keeps_the_gradient():
    torch = pytest.importorskip("torch")
    seen = {}

    def f(x):
        y = x * 2.0
        z = (y * y).sum()
        v = torch.from_dlpack(y)  # a traced value goes out as a copy
        v[0] = 100.0
        seen["y"] = y.asnumpy().copy()
        return z

    np.testing.assert_allclose(tg.grad(f)(tg.tensor([1.0, 2.0, 3.0])).asnumpy(), [8.0, 16.0, 24.0])
    np.testing.assert_allclose(seen["y"], [2.0, 4.0, 6.0])


def test_dlpack_export_after_vjp_then_write_raises_naming_dlpack():
    torch = pytest.importorskip("torch")
    x = tg.tensor([1.0, 2.0, 3.0])
    _, fn = tg.vjp(lambda x: (x * x).sum(), x)
    torch.from_dlpack(x).mul_(10.0)
    np.testing.assert_allclose(x.asnumpy(), [10.0, 20.0, 30.0])  # still zero-copy
    with pytest.raises(
        ValueError,
        match=r"mul: an input saved for the gradient was modified.*exported through DLPack",
    ):
        fn(tg.tensor(1.0))


def test_dlpack_view_taken_before_vjp_then_written_keeps_the_gradient():
    torch = pytest.importorskip("torch")
    x = tg.tensor([1.0, 2.0, 3.0])
    view = torch.from_dlpack(x)
    _, fn = tg.vjp(lambda x: (tg.sin(x) * x).sum(), x)
    view.zero_()
    (g,) = fn(tg.tensor(1.0))
    a = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(g.asnumpy(), np.cos(a) * a + np.sin(a), rtol=1e-6)
    np.testing.assert_allclose(x.asnumpy(), [0.0, 0.0, 0.0])


def test_dlpack_copy_export_after_vjp_does_not_raise():
    torch = pytest.importorskip("torch")
    x = tg.tensor([1.0, 2.0, 3.0])
    _, fn = tg.vjp(lambda x: (x * x).sum(), x)
    torch.from_dlpack(x.__dlpack__(copy=True)).mul_(10.0)
    np.testing.assert_allclose(fn(tg.tensor(1.0))[0].asnumpy(), [2.0, 4.0, 6.0])
    np.testing.assert_allclose(x.asnumpy(), [1.0, 2.0, 3.0])


def test_dlpack_view_still_sees_in_place_updates_of_tapegrad():
    torch = pytest.importorskip("torch")
    w = tg.Parameter(tg.tensor([1.0, 2.0]), name="w")
    view = torch.from_dlpack(w)
    nn.SGD([w], 1.0)((tg.ones(2),))
    assert view.tolist() == [0.0, 1.0]
    # gradients through the exported parameter stay right while the view lives
    g = tg.grad(lambda x: (x * w * w).sum(), None, [w])(tg.ones(2))
    np.testing.assert_allclose(g[0].asnumpy(), [0.0, 2.0])


def test_numpy_dlpack_view_is_read_only_and_does_not_break_a_pending_sweep():
    x = tg.tensor([1.0, 2.0, 3.0])
    a = np.from_dlpack(x)
    assert not a.flags.writeable
    _, fn = tg.vjp(lambda x: (x * x).sum(), x)
    np.testing.assert_allclose(fn(tg.tensor(1.0))[0].asnumpy(), [2.0, 4.0, 6.0])


# ---- Section 2: MindSpore's Tensor keywords ------------------------------------------------------


def test_tensor_takes_mindspore_input_data_keyword():
    t = tg.Tensor(input_data=[1, 2], dtype=tg.float32)
    assert t.dtype == tg.float32 and t.tolist() == [1.0, 2.0]
    assert tg.Tensor(input_data=np.arange(3)).dtype == tg.int64


@pytest.mark.parametrize(
    "init, want",
    [(None, 0.0), ("zeros", 0.0), ("ones", 1.0), ("One", 1.0), (2.5, 2.5)],
)
def test_tensor_with_shape_and_init_is_filled_by_the_initializer(init, want):
    t = tg.Tensor(shape=(2, 3), dtype=tg.float64, init=init)
    assert t.shape == (2, 3) and t.dtype == tg.float64
    np.testing.assert_array_equal(t.asnumpy(), np.full((2, 3), want))


def test_tensor_with_shape_and_a_random_initializer():
    tg.set_seed(0)
    t = tg.Tensor(shape=(200, 300), dtype=tg.float32, init="normal")
    assert abs(float(t.asnumpy().std()) - 0.01) < 0.001


@pytest.mark.parametrize(
    "args, kwargs, exc, fragment",
    [
        ((), {}, TypeError, r"got no data and no shape \(0 positional argument\(s\)\)"),
        ((), {"input_data": [1.0], "shape": (1,)}, TypeError, "give either the data or a shape"),
        ((), {"shape": (2,), "init": "bogus"}, ValueError, "unknown initializer 'bogus'"),
        ((), {"shape": (-1,)}, ValueError, "negative dimensions"),
        ((), {"shape": (2,), "dtype": "x"}, TypeError, "'x' is not a supported dtype"),
        ((), {"data": [1.0], "shape": (1,)}, TypeError, r"keyword\(s\) \['data', 'shape'\]"),
        (([1.0], None, (1,)), {}, TypeError, r"got 3 positional argument\(s\)"),
        (([1.0],), {"input_data": [2.0]}, TypeError, "Tensor\\(data, dtype=None\\)"),
    ],
)
def test_tensor_bad_keyword_forms_are_clear(args, kwargs, exc, fragment):
    with pytest.raises(exc, match=fragment):
        tg.Tensor(*args, **kwargs)


def test_dlpack_of_a_tracked_value_with_copy_false_is_a_buffer_error():
    def f(x):
        y = x * 2.0
        y.__dlpack__(copy=False)
        return y.sum()

    with pytest.raises(BufferError, match="exported only as a copy, and copy=False was given"):
        tg.grad(f)(tg.tensor([1.0]))
    # without a transform, copy=False is a view as before

    class NoCopy:
        def __init__(self, t):
            self.t = t

        def __dlpack__(self, **kw):
            return self.t.__dlpack__(copy=False)

        def __dlpack_device__(self):
            return self.t.__dlpack_device__()

    x = tg.tensor([1.0, 2.0])
    assert np.from_dlpack(NoCopy(x)).ctypes.data == np.from_dlpack(x).ctypes.data
