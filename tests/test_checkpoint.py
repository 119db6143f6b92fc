"""save_checkpoint / load_checkpoint / load_param_into_net (API.md section 5, MindSpore semantics):
round trips keep values and dtypes exactly, loading into a net works in place, the file format never
unpickles, and misuse gives clear errors."""

import os
import pickle

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import nn


def make_net(seed):
    tg.set_seed(seed)
    return nn.SequentialCell([nn.Dense(3, 4), nn.ReLU(), nn.Dense(4, 2)])


def values(net):
    return {n: p.asnumpy().copy() for n, p in net.parameters_and_names()}


def test_cell_round_trip_and_load_into_net_in_place(tmp_path):
    src = make_net(1)
    path = str(tmp_path / "net.ckpt")
    tg.save_checkpoint(src, path)
    assert os.path.isfile(path)

    pd = tg.load_checkpoint(path)
    assert list(pd) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    for name, arr in values(src).items():
        assert isinstance(pd[name], tg.Parameter)
        assert pd[name].name == name
        assert pd[name].dtype == tg.float32
        np.testing.assert_array_equal(pd[name].asnumpy(), arr)

    dst = make_net(2)
    before = {n: p for n, p in dst.parameters_and_names()}
    assert any(not np.array_equal(values(dst)[n], a) for n, a in values(src).items())
    tg.load_checkpoint(path, net=dst)
    for name, arr in values(src).items():
        np.testing.assert_array_equal(values(dst)[name], arr)
    # in place: the very same Parameter objects (an optimizer holding them sees the new values)
    assert all(before[n] is p for n, p in dst.parameters_and_names())
    x = tg.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3))
    np.testing.assert_array_equal(dst(x).asnumpy(), src(x).asnumpy())


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int32", "int64", "bool"])
def test_dtypes_are_kept_exactly(tmp_path, dtype):
    rng = np.random.default_rng(0)
    if dtype == "bool":
        arr = rng.random((3, 4)) > 0.5
    elif dtype.startswith("int"):
        arr = rng.integers(-1000, 1000, size=(3, 4)).astype(dtype)
    else:
        arr = (rng.standard_normal((3, 4)) * 1e3).astype(dtype)
    path = tmp_path / "d.ckpt"
    tg.save_checkpoint(
        [{"name": "x", "data": tg.tensor(arr)}, {"name": "s", "data": tg.tensor(arr[0, 0])}],
        str(path),
    )
    pd = tg.load_checkpoint(str(path))
    got = pd["x"].asnumpy()
    assert got.dtype == arr.dtype
    np.testing.assert_array_equal(got, arr)
    assert pd["s"].shape == ()
    assert pd["s"].asnumpy().dtype == arr.dtype


def test_non_contiguous_values_and_dict_save_obj(tmp_path):
    base = tg.tensor(np.arange(12.0).reshape(3, 4))
    path = str(tmp_path / "v.ckpt")
    tg.save_checkpoint({"t": base.T, "s": base[:, ::2]}, path)
    pd = tg.load_checkpoint(path)
    np.testing.assert_array_equal(pd["t"].asnumpy(), np.arange(12.0).reshape(3, 4).T)
    np.testing.assert_array_equal(pd["s"].asnumpy(), np.arange(12.0).reshape(3, 4)[:, ::2])


def test_suffix_append_dict_and_filters(tmp_path):
    net = make_net(3)
    stem = str(tmp_path / "model")
    tg.save_checkpoint(net, stem, append_dict={"epoch": 7, "lr": 0.5, "note": "hi", "done": True})
    assert os.path.isfile(stem + ".ckpt")  # MindSpore appends .ckpt
    pd = tg.load_checkpoint(stem)  # and the stem finds it
    assert int(pd["epoch"]) == 7 and pd["epoch"].dtype == tg.int64
    assert float(pd["lr"]) == 0.5
    assert pd["note"] == "hi"
    assert bool(pd["done"])
    assert list(tg.load_checkpoint(stem + ".ckpt", filter_prefix="0.")) == [
        "2.weight",
        "2.bias",
        "epoch",
        "lr",
        "note",
        "done",
    ]
    assert list(tg.load_checkpoint(stem, specify_prefix=["0.", "2.bias"])) == [
        "0.weight",
        "0.bias",
        "2.bias",
    ]
    assert list(tg.load_checkpoint(stem, choice_func=lambda n: n.endswith("weight"))) == [
        "0.weight",
        "2.weight",
    ]
    tg.save_checkpoint(net, stem + "_w.ckpt", choice_func=lambda n: "weight" in n)
    assert list(tg.load_checkpoint(stem + "_w.ckpt")) == ["0.weight", "2.weight"]


def test_param_not_load_and_ckpt_not_load(tmp_path):
    net = make_net(4)
    pd = {"0.weight": tg.ones((4, 3)), "extra": tg.ones((1,))}
    not_loaded, unused = tg.load_param_into_net(net, pd)
    assert not_loaded == ["0.bias", "2.weight", "2.bias"]
    assert unused == ["extra"]
    np.testing.assert_array_equal(net[0].weight.asnumpy(), np.ones((4, 3), np.float32))


def test_suffix_matching_unless_strict():
    net = make_net(5)
    pd = {"backbone.0.weight": tg.full((4, 3), 2.0)}
    assert tg.load_param_into_net(net, pd, strict_load=True)[0][0] == "0.weight"
    assert not np.all(net[0].weight.asnumpy() == 2.0)
    tg.load_param_into_net(net, pd)
    np.testing.assert_array_equal(net[0].weight.asnumpy(), np.full((4, 3), 2.0, np.float32))


def test_precision_conversion_unless_strict():
    net = nn.Dense(2, 1, has_bias=False)
    pd = {"weight": tg.tensor(np.array([[1.5, 2.5]]))}  # float64 into a float32 net
    tg.load_param_into_net(net, pd)
    assert net.weight.dtype == tg.float32
    np.testing.assert_array_equal(net.weight.asnumpy(), [[1.5, 2.5]])
    with pytest.raises(TypeError, match="weight.*Float32.*Float64"):
        tg.load_param_into_net(net, pd, strict_load=True)
    with pytest.raises(TypeError, match="weight"):
        tg.load_param_into_net(net, {"weight": tg.tensor([[1, 2]], tg.int32)})


def test_shape_mismatch_names_parameter_and_shapes_and_leaves_net_untouched(tmp_path):
    net = make_net(6)
    before = values(net)
    path = str(tmp_path / "bad.ckpt")
    tg.save_checkpoint(
        [
            {"name": "0.bias", "data": tg.zeros((4,))},
            {"name": "2.weight", "data": tg.zeros((3, 3))},
        ],
        path,
    )
    with pytest.raises(ValueError, match=r"2\.weight.*\(2, 4\).*\(3, 3\)"):
        tg.load_checkpoint(path, net=net)
    for n, a in values(net).items():
        np.testing.assert_array_equal(a, before[n])


def test_missing_file_names_the_path(tmp_path):
    missing = str(tmp_path / "nope.ckpt")
    with pytest.raises(FileNotFoundError, match="nope.ckpt"):
        tg.load_checkpoint(missing)
    with pytest.raises(FileNotFoundError, match="no_such_dir"):
        tg.save_checkpoint(make_net(0), str(tmp_path / "no_such_dir" / "x.ckpt"))


def test_not_a_checkpoint_is_valueerror_with_path(tmp_path):
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"this is not a zip file at all")
    with pytest.raises(ValueError, match="junk.ckpt"):
        tg.load_checkpoint(str(junk))
    other = tmp_path / "other.ckpt"
    with open(other, "wb") as f:
        np.savez(f, a=np.zeros(3))
    with pytest.raises(ValueError, match="other.ckpt.*not a readable tapegrad checkpoint"):
        tg.load_checkpoint(str(other))


class _Evil:
    ran = False

    def __reduce__(self):
        return (_set_ran, ())


def _set_ran():
    _Evil.ran = True
    return 0


def test_loading_never_unpickles(tmp_path):
    path = tmp_path / "evil.ckpt"
    obj = np.empty((1,), dtype=object)
    obj[0] = _Evil()
    with open(path, "wb") as f:
        np.savez(
            f,
            __tapegrad_checkpoint__=np.array(1),
            __names__=np.array(["x"]),
            __kinds__=np.array(["t"]),
            v0=obj,
        )
    assert (
        pickle.loads(pickle.dumps(_Evil())) == 0 and _Evil.ran
    )  # the payload does work when unpickled
    _Evil.ran = False
    with pytest.raises(ValueError, match="evil.ckpt"):
        tg.load_checkpoint(str(path))
    assert not _Evil.ran


def test_bad_arguments():
    with pytest.raises(TypeError, match="save_obj"):
        tg.save_checkpoint(42, "x.ckpt")
    with pytest.raises(TypeError, match="'name' and 'data'"):
        tg.save_checkpoint([{"data": tg.ones(1)}], "x.ckpt")
    with pytest.raises(TypeError, match="must be a Tensor"):
        tg.save_checkpoint([{"name": "a", "data": object()}], "x.ckpt")
    with pytest.raises(ValueError, match="twice"):
        tg.save_checkpoint(
            [{"name": "a", "data": tg.ones(1)}, {"name": "a", "data": tg.ones(1)}], "x.ckpt"
        )
    with pytest.raises(TypeError, match="nn.Cell"):
        tg.load_param_into_net({"a": 1}, {})
    with pytest.raises(TypeError, match="dict"):
        tg.load_param_into_net(make_net(0), [("0.weight", tg.ones((4, 3)))])


def test_training_resumes_from_a_checkpoint(tmp_path):
    # Save mid-training, restore into a fresh net and optimizer: the next step gives the same loss.
    def build(seed):
        net = make_net(seed)
        loss_net = nn.WithLossCell(net, nn.MSELoss())
        step = nn.TrainOneStepCell(loss_net, nn.SGD(net.trainable_params(), learning_rate=0.05))
        return net, step

    x = tg.tensor(np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3))
    y = tg.tensor(np.linspace(0, 1, 10, dtype=np.float32).reshape(5, 2))
    net, step = build(10)
    for _ in range(3):
        step(x, y)
    path = str(tmp_path / "mid.ckpt")
    tg.save_checkpoint(net, path)
    want = float(step(x, y))
    net2, step2 = build(11)
    tg.load_checkpoint(path, net=net2)
    assert float(step2(x, y)) == pytest.approx(want, rel=1e-6)
