"""Pickling of Tensors, Parameters and jitted functions: every protocol 0-5, protocol 5's
out-of-band buffers, every dtype and layout, copy/deepcopy, and malformed states (a clear
TypeError/ValueError, never a crash: issue 10 item 3)."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import tapegrad as tg
from tapegrad._parameter import _rebuild_parameter
from tapegrad._pickle import _rebuild_tensor

PROTOCOLS = list(range(pickle.HIGHEST_PROTOCOL + 1))
DTYPES = ["float16", "float32", "float64", "int32", "int64", "bool"]


def _example(dtype, shape=(3, 4)):
    a = (np.arange(int(np.prod(shape))).reshape(shape) % 5 - 2).astype(dtype)
    return a


def _same(t, a):
    assert isinstance(t, tg.Tensor)
    assert str(t.dtype.name) == np.dtype(a.dtype).name
    assert tuple(t.shape) == a.shape
    np.testing.assert_array_equal(t.asnumpy(), a)


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_tensor_pickles_with_every_protocol_and_dtype(protocol, dtype):
    a = _example(dtype)
    t = tg.tensor(a)
    back = pickle.loads(pickle.dumps(t, protocol=protocol))
    _same(back, a)
    assert type(back) is tg.Tensor


@pytest.mark.parametrize("protocol", [0, 1])
def test_protocols_0_and_1_do_not_abort(protocol):
    # Issue 10 item 3: these aborted the process (pybind11 could not allocate the instance).
    t = tg.arange(6.0).reshape(2, 3)
    _same(
        pickle.loads(pickle.dumps(t, protocol=protocol)),
        np.arange(6.0, dtype=np.float32).reshape(2, 3),
    )
    assert t.__reduce_ex__(protocol)[0] is not None
    rebuild, args = t.__reduce__()
    _same(rebuild(*args), t.asnumpy())


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize(
    "make",
    [
        lambda: tg.tensor(2.5),  # 0-d
        lambda: tg.zeros((0,)),  # empty
        lambda: tg.zeros((3, 0, 2), dtype=tg.int64),
        lambda: tg.arange(24.0).reshape(4, 6)[:, ::2],  # non-contiguous
        lambda: tg.arange(24.0).reshape(4, 6).T,  # transposed
        lambda: tg.broadcast_to(tg.tensor([1.0, 2.0]), (3, 2)),  # zero strides
        lambda: tg.arange(10, dtype=tg.int32)[::-3],  # negative step
    ],
    ids=["0d", "empty", "empty3d", "strided", "transposed", "broadcast", "reversed"],
)
def test_layouts_round_trip(protocol, make):
    t = make()
    _same(pickle.loads(pickle.dumps(t, protocol=protocol)), np.asarray(t))


def test_protocol5_sends_the_values_out_of_band():
    t = tg.arange(250_000.0)  # 1 MB of float32
    bufs = []
    stream = pickle.dumps(t, protocol=5, buffer_callback=bufs.append)
    assert len(stream) < 500  # the values are not in the stream
    assert len(bufs) == 1
    raw = bufs[0].raw()
    assert raw.nbytes == 1_000_000
    np.testing.assert_array_equal(np.frombuffer(raw, np.float32), t.asnumpy())
    # No copy either: the buffer is the tensor's own memory.
    assert np.shares_memory(np.frombuffer(raw, np.float32), np.asarray(t))
    back = pickle.loads(stream, buffers=bufs)
    _same(back, t.asnumpy())
    # Loading without the buffers is an error of pickle's, not a crash.
    with pytest.raises(pickle.UnpicklingError):
        pickle.loads(stream)


def test_protocol5_non_contiguous_tensor_sends_one_contiguous_buffer():
    t = tg.arange(100.0).reshape(10, 10)[:, 1::3]
    bufs = []
    stream = pickle.dumps(t, protocol=5, buffer_callback=bufs.append)
    assert len(bufs) == 1 and bufs[0].raw().nbytes == t.size * 4
    _same(pickle.loads(stream, buffers=bufs), np.asarray(t))


def test_loaded_tensor_never_writes_into_a_read_only_buffer():
    t = tg.arange(4.0)
    bufs = []
    stream = pickle.dumps(t, protocol=5, buffer_callback=bufs.append)
    frozen = bytes(bufs[0].raw())  # what a transport hands over: read-only bytes
    back = pickle.loads(stream, buffers=[frozen])
    back[0] = 42.0
    assert np.frombuffer(frozen, np.float32)[0] == 0.0
    assert float(t[0]) == 0.0
    # In-band protocol 5 (no buffer_callback) loads from bytes in the stream: also a private copy.
    back = pickle.loads(pickle.dumps(t, protocol=5))
    back[1] = 7.0
    assert back.tolist() == [0.0, 7.0, 2.0, 3.0]


def test_loaded_tensor_does_not_alias_the_pickled_one():
    # The out-of-band buffer is a read-only view of t's memory (pickle marks it so): a tensor loaded
    # from it in the same process gets its own copy rather than silently sharing t's storage.
    t = tg.arange(4.0)
    bufs = []
    stream = pickle.dumps(t, protocol=5, buffer_callback=bufs.append)
    assert bufs[0].raw().readonly
    back = pickle.loads(stream, buffers=bufs)
    back[0] = 42.0
    assert float(t[0]) == 0.0


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_parameter_keeps_name_and_requires_grad(protocol):
    for rg in (True, False):
        w = tg.Parameter(
            tg.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=tg.float64), name="layer.w", requires_grad=rg
        )
        back = pickle.loads(pickle.dumps(w, protocol=protocol))
        assert type(back) is tg.Parameter
        assert back.name == "layer.w" and back.requires_grad is rg
        _same(back, w.asnumpy())
    anon = pickle.loads(pickle.dumps(tg.Parameter(tg.ones(2)), protocol=protocol))
    assert anon.name is None


def test_parameter_protocol5_is_out_of_band():
    w = tg.Parameter(tg.zeros(100_000), name="w")
    bufs = []
    stream = pickle.dumps(w, protocol=5, buffer_callback=bufs.append)
    assert len(stream) < 500 and len(bufs) == 1
    back = pickle.loads(stream, buffers=bufs)
    assert back.name == "w" and back.shape == (100_000,)


def test_containers_of_tensors_pickle():
    w = tg.Parameter(tg.ones(3), name="w")
    obj = {"w": w, "xs": [tg.arange(3.0), tg.tensor(True)], "same": (w, w)}
    back = pickle.loads(pickle.dumps(obj, protocol=5))
    assert back["w"].name == "w" and back["same"][0] is back["same"][1]
    assert back["xs"][1].item() is True


def test_copy_and_deepcopy():
    t = tg.arange(3.0)
    for c in (copy.copy(t), copy.deepcopy(t)):
        c[0] = 9.0
        assert t.tolist() == [0.0, 1.0, 2.0]
    w = tg.Parameter(tg.ones(2), name="w", requires_grad=False)
    for c in (copy.copy(w), copy.deepcopy(w)):
        assert type(c) is tg.Parameter and c.name == "w" and c.requires_grad is False
        c[0] = 5.0
        assert w.tolist() == [1.0, 1.0]
    a, b = copy.deepcopy([w, w])
    assert a is b


def test_tensor_in_a_gradient_pickles_its_value():
    seen = []

    def f(x):
        seen.append(pickle.loads(pickle.dumps(x * 2)))
        return (x * x).sum()

    g = tg.grad(f)(tg.tensor([1.0, 2.0]))
    assert g.tolist() == [2.0, 4.0]
    assert seen[0].tolist() == [2.0, 4.0]


# ---- malformed state: a clear error, never a crash -------------------------------------------------


@pytest.mark.parametrize(
    ("args", "exc", "match"),
    [
        ((np.ones(2, np.float32), "float99"), ValueError, "unknown dtype 'float99'"),
        ((np.ones(2, np.float32), 7), TypeError, "dtype must be a str"),
        ((np.ones(2, np.float32), None), TypeError, "dtype must be a str"),
        (
            (np.ones(2, np.float32), "float64"),
            ValueError,
            "has dtype float32 but the state says float64",
        ),
        ((b"\x00" * 8, "float32"), TypeError, "must be a numpy.ndarray, got bytes"),
        (([1.0, 2.0], "float32"), TypeError, "must be a numpy.ndarray, got list"),
        ((np.array(["a"]), "float32"), ValueError, "has dtype <U1"),
        ((np.array([1, 2], dtype=object), "int64"), ValueError, "has dtype object"),
        ((np.ones(2, np.complex64), "float32"), ValueError, "has dtype complex64"),
    ],
)
def test_rebuild_with_bad_parts_raises(args, exc, match):
    with pytest.raises(exc, match=match):
        _rebuild_tensor(*args)


@pytest.mark.parametrize(
    "state",
    [
        5,
        None,
        (),
        (np.ones(2),),
        (np.ones(2), "float64", 3),
        "float32",
        [np.ones(2), "float64"],
        (np.ones(2), "bogus"),
        (np.ones(2), b"float64"),
        ("abc", "float32"),
        (np.ones(2, np.int8), "int32"),
    ],
)
def test_setstate_with_bad_state_raises(state):
    t = tg.Tensor.__new__(tg.Tensor)
    with pytest.raises((TypeError, ValueError), match="Tensor.__setstate__"):
        t.__setstate__(state)


def test_setstate_reads_the_state_older_versions_wrote():
    # protocols 2-5 of earlier tapegrads: copyreg.__newobj__(Tensor) then __setstate__((array, name)).
    t = tg.Tensor.__new__(tg.Tensor)
    t.__setstate__((np.arange(3, dtype=np.int32), "int32"))
    assert t.tolist() == [0, 1, 2] and t.dtype == tg.int32
    frozen = np.arange(3.0)
    frozen.flags.writeable = False
    t = tg.Tensor.__new__(tg.Tensor)
    t.__setstate__((frozen, "float64"))
    t[0] = 5.0
    assert frozen[0] == 0.0


def test_hostile_streams_raise_not_crash():
    # A stream whose reduce args are not what Tensor.__reduce_ex__ writes.
    class Evil:
        def __init__(self, args):
            self.args = args

        def __reduce__(self):
            return (_rebuild_tensor, self.args)

    for args in [(np.ones(3), "int64"), ("x" * 10, "float32"), (np.ones(3, np.float32),), ()]:
        stream = pickle.dumps(Evil(args))
        with pytest.raises((TypeError, ValueError)):
            pickle.loads(stream)
    # numpy's own checks catch a buffer whose size does not match its shape.
    t = tg.arange(6.0)
    bufs = []
    stream = pickle.dumps(t, protocol=5, buffer_callback=bufs.append)
    with pytest.raises(ValueError):
        pickle.loads(stream, buffers=[bytearray(5)])


@pytest.mark.parametrize(
    ("args", "exc"),
    [
        ((np.ones(2, np.float32), "float32", 3, True), TypeError),
        ((np.ones(2, np.float32), "float32", "w", "yes"), TypeError),
        ((np.ones(2, np.float32), "nope", "w", True), ValueError),
        (("data", "float32", "w", True), TypeError),
    ],
)
def test_parameter_rebuild_with_bad_parts_raises(args, exc):
    with pytest.raises(exc, match="Parameter pickle"):
        _rebuild_parameter(*args)


# ---- jitted functions --------------------------------------------------------------------------------


@tg.jit
def _module_level_jitted(x):
    return (x * x).sum()


def test_module_level_jit_pickles_by_reference():
    assert pickle.loads(pickle.dumps(_module_level_jitted)) is _module_level_jitted


def test_jit_of_a_module_function_pickles_its_function():
    j = tg.jit(_plain)
    back = pickle.loads(pickle.dumps(j))
    assert isinstance(back, type(j)) and back is not j
    assert back(tg.tensor([1.0, 2.0])).item() == 3.0
    assert back.cache_info()["records"] == 1  # recorded again where it was loaded


def _plain(x):
    return x.sum()


def test_jit_closure_pickles_by_value_with_cloudpickle_and_records_again():
    cloudpickle = pytest.importorskip("cloudpickle")
    k = tg.tensor(3.0)
    j = tg.jit(lambda x: (x * k).sum())
    assert j(tg.ones(2)).item() == 6.0
    back = cloudpickle.loads(cloudpickle.dumps(j))
    assert back.cache_info()["records"] == 0
    assert back(tg.ones(2)).item() == 6.0
    assert back(tg.ones(2) * 2).item() == 12.0
    info = back.cache_info()
    assert (info["records"], info["replays"]) == (1, 1)
    # plain pickle cannot find a lambda by name: pickle's own error, no crash
    with pytest.raises((pickle.PicklingError, AttributeError)):
        pickle.dumps(j)
