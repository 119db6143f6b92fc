"""The Tensor object: construction, attributes, conversions, DLPack, pickling, dtypes, repr."""

import copy
import gc
import operator
import pickle

import numpy as np
import pytest

import tapegrad as tg

NP_DTYPES = [np.bool_, np.int32, np.int64, np.float16, np.float32, np.float64]
TG_OF_NP = {
    np.bool_: tg.bool_,
    np.int32: tg.int32,
    np.int64: tg.int64,
    np.float16: tg.float16,
    np.float32: tg.float32,
    np.float64: tg.float64,
}


def sample(shape, dtype, seed=0):
    r = np.random.default_rng(seed)
    if dtype is np.bool_:
        return r.random(shape) > 0.5
    if np.issubdtype(dtype, np.integer):
        return r.integers(-50, 50, shape).astype(dtype)
    return (r.standard_normal(shape) * 10).astype(dtype)


# Value layouts the protocols must handle: 0-d, empty, contiguous, transposed, strided, reversed.
LAYOUTS = {
    "0d": lambda a: a[1, 2, ...],
    "empty": lambda a: a[:0],
    "contig": lambda a: a,
    "T": lambda a: a.T,
    "step": lambda a: a[::2, 1:],
    "neg": lambda a: a[::-1, ::-2],
}


def layout_pair(name, dtype):
    """(numpy value, tensor with the same value and layout made by tensor ops)."""
    base = sample((4, 5), dtype)
    t = tg.tensor(base.copy())
    view = {
        "0d": lambda x: x[1, 2],
        "empty": lambda x: x[:0],
        "contig": lambda x: x,
        "T": lambda x: x.T,
        "step": lambda x: x[::2, 1:],
        "neg": lambda x: x[::-1, ::-2],
    }[name]
    return view(base), view(t)


# ---- construction --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, dtype, pytype",
    [
        (1.5, tg.float32, float),
        (3, tg.int64, int),
        (True, tg.bool_, bool),
        (False, tg.bool_, bool),
        (-0.0, tg.float32, float),
        (2**62, tg.int64, int),
    ],
)
def test_python_scalars(value, dtype, pytype):
    for make in (tg.tensor, tg.Tensor):
        t = make(value)
        assert t.dtype == dtype and t.shape == () and t.ndim == 0 and t.size == 1
        assert t.item() == value and type(t.item()) is pytype


@pytest.mark.parametrize(
    "data, dtype, expected",
    [
        ([1.0, 2.0], tg.float32, np.array([1.0, 2.0], np.float32)),
        ([1, 2.5], tg.float32, np.array([1, 2.5], np.float32)),
        ([[1, 2], [3, 4]], tg.int64, np.array([[1, 2], [3, 4]])),
        ([True, False], tg.bool_, np.array([True, False])),
        ((1, 2, 3), tg.int64, np.array([1, 2, 3])),
        ([], tg.float32, np.zeros(0, np.float32)),
        ([[]], tg.float32, np.zeros((1, 0), np.float32)),
        ([np.float32(1), np.float32(2)], tg.float32, np.array([1, 2], np.float32)),
        ([np.float64(1), 2.0], tg.float64, np.array([1, 2], np.float64)),
        ([np.int32(1), np.int32(2)], tg.int32, np.array([1, 2], np.int32)),
        ([tg.tensor(1.0), tg.tensor(2.0)], tg.float32, np.array([1, 2], np.float32)),
        ([tg.tensor([1, 2]), tg.tensor([3, 4])], tg.int64, np.array([[1, 2], [3, 4]])),
        ([tg.tensor(1.0, tg.float64), 2.0], tg.float64, np.array([1, 2], np.float64)),
        ([np.array([1.5]), np.array([2.5])], tg.float64, np.array([[1.5], [2.5]])),
    ],
)
def test_nested_lists(data, dtype, expected):
    t = tg.tensor(data)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.asnumpy(), expected)
    assert t.asnumpy().dtype == expected.dtype


@pytest.mark.parametrize("np_dtype", NP_DTYPES)
def test_numpy_arrays_keep_dtype_and_share_memory(np_dtype):
    a = sample((3, 4), np_dtype)
    t = tg.tensor(a)
    assert t.dtype == TG_OF_NP[np_dtype] and t.shape == (3, 4)
    np.testing.assert_array_equal(t.asnumpy(), a)
    assert np.shares_memory(np.asarray(t), a)  # zero-copy


@pytest.mark.parametrize(
    "np_dtype, tg_dtype",
    [
        (np.int8, tg.int8),
        (np.int16, tg.int16),
        (np.uint8, tg.uint8),
        (np.uint16, tg.uint16),
        (np.uint32, tg.uint32),
        (np.uint64, tg.uint64),
    ],
)
def test_numpy_narrow_ints_keep_their_dtype(np_dtype, tg_dtype):
    a = np.array([0, 1, np.iinfo(np_dtype).max], np_dtype)
    t = tg.tensor(a)
    assert t.dtype == tg_dtype
    assert t.asnumpy().dtype == a.dtype
    np.testing.assert_array_equal(t.asnumpy(), a)


@pytest.mark.parametrize(
    "view", [lambda a: a.T, lambda a: a[::2, ::-1], lambda a: a[1:, 2], lambda a: a[::-1]]
)
def test_numpy_views_zero_copy(view):
    a = np.arange(24.0).reshape(4, 6)
    v = view(a)
    t = tg.tensor(v)
    np.testing.assert_array_equal(t.asnumpy(), v)
    assert np.shares_memory(np.asarray(t), a)


def test_numpy_layouts_that_need_a_copy():
    big_endian = np.arange(5, dtype=">f4")
    t = tg.tensor(big_endian)
    assert t.dtype == tg.float32
    np.testing.assert_array_equal(t.asnumpy(), np.arange(5, dtype=np.float32))
    buf = np.zeros(4 * 5 + 1, np.uint8)
    misaligned = buf[1:].view(np.float32)
    misaligned[:] = [1, 2, 3, 4, 5]
    np.testing.assert_array_equal(tg.tensor(misaligned).asnumpy(), [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(tg.tensor(np.float32(2.5)).asnumpy(), 2.5)


def test_writes_into_tensor_do_not_reach_numpy():
    # Storage borrowed from numpy is copy-on-write: the array is left alone, and numpy views of
    # the tensor taken before the write stay valid even after the array itself is gone.
    a = np.arange(6.0).reshape(2, 3)
    t = tg.tensor(a)
    before = np.asarray(t)
    t[0, 0] = 100.0
    assert a[0, 0] == 0.0 and t.asnumpy()[0, 0] == 100.0
    assert not np.shares_memory(np.asarray(t), a)
    del a
    gc.collect()
    np.testing.assert_array_equal(before, np.arange(6.0).reshape(2, 3))
    # Read-only arrays can be wrapped and written through the tensor too.
    ro = np.arange(3.0)
    ro.flags.writeable = False
    t2 = tg.tensor(ro)
    t2[1] = -1.0
    np.testing.assert_array_equal(ro, [0, 1, 2])
    np.testing.assert_array_equal(t2.asnumpy(), [0, -1, 2])


def test_view_outlives_tensor_and_array():
    a = np.arange(4.0)
    v = np.asarray(tg.tensor(a)[1:])
    del a
    gc.collect()
    np.testing.assert_array_equal(v, [1, 2, 3])
    t = tg.arange(5.0)
    w = np.asarray(t)
    del t
    gc.collect()
    np.testing.assert_array_equal(w, np.arange(5.0))


def test_from_tensor_copies():
    x = tg.tensor([1.0, 2.0, 3.0])
    for make in (tg.tensor, tg.Tensor):
        y = make(x)
        assert y.dtype == tg.float32 and not y._shares_memory(x)
        y[0] = 9.0
        assert x.asnumpy()[0] == 1.0
    np.testing.assert_array_equal(tg.tensor(x.T[::2]).asnumpy(), [1.0, 3.0])


@pytest.mark.parametrize(
    "data", [1.7, -3, True, [1.5, -2.5], np.array([1.25, 2.0]), [[1, 0], [3, 4]]]
)
@pytest.mark.parametrize(
    "dtype", [tg.float16, tg.float32, tg.float64, tg.int32, tg.int64, tg.bool_, "float64", np.int32]
)
def test_dtype_argument(data, dtype):
    t = tg.tensor(data, dtype=dtype)
    want = np.dtype(dtype.name if isinstance(dtype, tg.dtype) else dtype)
    assert t.dtype == want
    np.testing.assert_array_equal(t.asnumpy(), np.asarray(data).astype(want))
    assert tg.Tensor(data, dtype).dtype == want
    assert tg.tensor(tg.tensor(data), dtype=dtype).dtype == want


@pytest.mark.parametrize(
    "bad, exc, match",
    [
        ("abc", TypeError, "string"),
        (b"abc", TypeError, "string"),
        (None, TypeError, "None"),
        (np.array([1 + 2j], np.clongdouble), TypeError, "complex256"),
        (np.array(["a", "b"]), TypeError, "<U1"),
        (np.array([1, "a"], dtype=object), TypeError, "object"),
        ([1, None], TypeError, "object"),
        (["a", 1], TypeError, "tensor"),
        ({"a": 1}, TypeError, "dict"),
        (object(), TypeError, "object"),
        (np.array([1], np.longdouble), TypeError, "float128"),
        ([[1, 2], [3]], ValueError, "inhomogeneous"),
        (2**70, OverflowError, "out of bounds for int64"),
    ],
)
def test_unsupported_data(bad, exc, match):
    with pytest.raises(exc, match=match):
        tg.tensor(bad)
    with pytest.raises(exc):
        tg.Tensor(bad)


def test_bad_dtype_argument():
    with pytest.raises(TypeError, match="dtype"):
        tg.tensor([1.0], dtype="complex256")
    with pytest.raises(TypeError, match="dtype"):
        tg.tensor([1.0], dtype="nope")
    with pytest.raises(OverflowError, match="out of bounds for int32"):  # as numpy
        tg.tensor(2**40, dtype=tg.int32)


# ---- attributes ----------------------------------------------------------------------------------


def test_attributes():
    a = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    t = tg.tensor(a)
    assert t.shape == (2, 3, 4) and isinstance(t.shape, tuple)
    assert t.dtype == tg.float64 and t.ndim == 3 and t.size == 24 and t.device == "CPU"
    assert t.T.shape == (4, 3, 2)
    np.testing.assert_array_equal(t.T.asnumpy(), a.T)
    assert tg.tensor(5.0).T.shape == ()
    z = tg.zeros((0, 3))
    assert z.size == 0 and z.shape == (0, 3) and len(z) == 0


# ---- conversions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("np_dtype", NP_DTYPES)
def test_numpy_conversions(layout, np_dtype):
    ref, t = layout_pair(layout, np_dtype)
    for out in (t.asnumpy(), t.numpy(), np.asarray(t), np.array(t)):
        assert out.dtype == ref.dtype and out.shape == ref.shape
        np.testing.assert_array_equal(out, ref)
    assert t.tolist() == ref.tolist()
    # asnumpy/numpy give independent writable copies; np.asarray a read-only view.
    c = t.asnumpy()
    assert c.flags.writeable and not np.shares_memory(c, np.asarray(t))
    assert not np.asarray(t).flags.writeable
    assert np.array(t).flags.writeable


def test_array_protocol_arguments():
    t = tg.tensor([1.5, 2.5])
    f64 = np.asarray(t, dtype=np.float64)
    assert f64.dtype == np.float64
    np.testing.assert_array_equal(f64, [1.5, 2.5])
    np.testing.assert_array_equal(np.asarray(t, dtype=np.int32), [1, 2])
    assert np.asarray(t, dtype=np.float32).dtype == np.float32
    c = t.__array__(copy=True)
    assert c.flags.writeable
    with pytest.raises(ValueError, match="copy=False"):
        t.__array__(np.float64, copy=False)
    assert t.__array__(np.float32, copy=False).dtype == np.float32
    # numpy functions that convert their arguments accept tensors
    np.testing.assert_array_equal(np.stack([t, t]), [[1.5, 2.5], [1.5, 2.5]])
    np.testing.assert_array_equal(np.concatenate([tg.tensor([1, 2]), np.array([3])]), [1, 2, 3])


@pytest.mark.parametrize("np_dtype", NP_DTYPES)
def test_scalar_conversions(np_dtype):
    a = sample((), np_dtype, seed=3)
    t = tg.tensor(a)
    assert t.item() == a.item() and type(t.item()) is type(a.item())
    assert float(t) == float(a)
    assert int(t) == int(a)
    assert bool(t) == bool(a)
    assert t.tolist() == a.tolist()
    one = tg.tensor(np.reshape(a, (1, 1)))
    assert one.item() == a.item() and float(one) == float(a) and bool(one) == bool(a)


def test_scalar_conversion_errors():
    v = tg.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match="only tensors with one element"):
        v.item()
    with pytest.raises(TypeError, match="only tensors with one element"):
        float(v)
    with pytest.raises(TypeError, match="only tensors with one element"):
        int(v)
    with pytest.raises(ValueError, match="truth value .* ambiguous"):
        bool(v)
    with pytest.raises(ValueError, match="truth value .* no elements"):
        bool(tg.zeros(0))
    with pytest.raises(ValueError):
        tg.zeros(0).item()


def test_index_protocol():
    assert operator.index(tg.tensor(3)) == 3
    assert operator.index(tg.tensor(np.int32(-2))) == -2
    assert [10, 20, 30][tg.tensor(1)] == 20
    assert list(range(10))[tg.tensor(1) : tg.tensor(7) : tg.tensor(2)] == [1, 3, 5]
    for bad in (tg.tensor(1.0), tg.tensor(True), tg.tensor([1])):
        with pytest.raises(TypeError, match="0-d integer"):
            operator.index(bad)


def test_len_and_iteration():
    a = np.arange(12).reshape(3, 4)
    t = tg.tensor(a)
    assert len(t) == 3
    rows = list(t)
    assert len(rows) == 3 and all(isinstance(r, tg.Tensor) for r in rows)
    for r, ref in zip(rows, a):
        np.testing.assert_array_equal(r.asnumpy(), ref)
    assert [x.item() for x in t[0]] == [0, 1, 2, 3]
    assert [float(x) for x in tg.tensor([1.5, 2.5])] == [1.5, 2.5]
    assert list(tg.zeros((0, 2))) == []
    assert list(t.T)[1].tolist() == [1, 5, 9]
    with pytest.raises(TypeError, match="0-d"):
        len(tg.tensor(1.0))
    with pytest.raises(TypeError, match="0-d"):
        iter(tg.tensor(1.0)).__next__()


def test_conversions_of_tracked_values():
    seen = {}

    def f(x):
        seen["np"] = np.asarray(x).copy()
        seen["list"] = x.tolist()
        seen["float"] = float(x.sum())
        return (x * x).sum()

    g = tg.grad(f)(tg.tensor([1.0, 2.0]))
    np.testing.assert_array_equal(g.asnumpy(), [2.0, 4.0])
    np.testing.assert_array_equal(seen["np"], [1.0, 2.0])
    assert seen["list"] == [1.0, 2.0] and seen["float"] == 3.0


# ---- DLPack --------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("np_dtype", NP_DTYPES)
def test_dlpack_export_to_numpy(layout, np_dtype):
    ref, t = layout_pair(layout, np_dtype)
    out = np.from_dlpack(t)
    assert out.dtype == ref.dtype and out.shape == ref.shape
    np.testing.assert_array_equal(out, ref)
    if ref.size:
        assert np.shares_memory(out, np.asarray(t))  # zero-copy
        assert not out.flags.writeable  # a tensor is a value: consumers get a read-only view
    assert t.__dlpack_device__() == (1, 0)


@pytest.mark.parametrize("view", list(LAYOUTS.values()), ids=list(LAYOUTS))
@pytest.mark.parametrize("np_dtype", NP_DTYPES)
def test_dlpack_import_from_numpy(view, np_dtype):
    a = view(sample((4, 5), np_dtype))
    t = tg.from_dlpack(a)
    assert t.dtype == TG_OF_NP[np_dtype] and t.shape == a.shape
    np.testing.assert_array_equal(t.asnumpy(), a)
    if a.size:
        assert np.shares_memory(np.asarray(t), a)


def test_dlpack_round_trip_and_lifetime():
    a = np.arange(10.0)[::3]
    t = tg.from_dlpack(a)
    del a
    gc.collect()
    np.testing.assert_array_equal(t.asnumpy(), [0, 3, 6, 9])
    # Writes into an imported tensor do not reach the producer (copy on write).
    b = np.arange(4, dtype=np.int32)
    tb = tg.from_dlpack(b)
    tb[0] = 42
    assert b[0] == 0 and tb.asnumpy()[0] == 42
    # tensor -> numpy -> tensor, and a numpy view outliving the tensor.
    x = tg.arange(6.0).reshape((2, 3))
    back = tg.from_dlpack(np.from_dlpack(x))
    np.testing.assert_array_equal(back.asnumpy(), x.asnumpy())
    y = np.from_dlpack(tg.arange(3.0) * 2)
    gc.collect()
    np.testing.assert_array_equal(y, [0, 2, 4])


def test_dlpack_protocol_details():
    t = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
    legacy = t.__dlpack__()
    assert "dltensor" in repr(legacy) and "versioned" not in repr(legacy)
    np.testing.assert_array_equal(tg.from_dlpack(legacy).asnumpy(), t.asnumpy())
    with pytest.raises(TypeError, match="consumed"):
        tg.from_dlpack(legacy)  # a capsule is used once
    versioned = t.__dlpack__(max_version=(1, 0))
    assert "dltensor_versioned" in repr(versioned)
    np.testing.assert_array_equal(tg.from_dlpack(versioned).asnumpy(), t.asnumpy())
    # Unconsumed capsules free what they hold.
    gc.collect()
    base = tg._core.bytes_in_use()
    for _ in range(3):
        big = tg.zeros(1 << 20)
        caps = [big.__dlpack__(), big.__dlpack__(max_version=(1, 1))]
        del big, caps
    gc.collect()
    assert tg._core.bytes_in_use() == base
    copied = np.from_dlpack(t, copy=True)
    assert copied.flags.writeable and not np.shares_memory(copied, np.asarray(t))
    assert tg.from_dlpack(t) is t
    c = tg.from_dlpack(t, copy=True)
    assert not c._shares_memory(t)
    assert tg.from_dlpack(np.arange(3), device="CPU").shape == (3,)
    with pytest.raises(BufferError):
        t.__dlpack__(dl_device=(2, 0))
    with pytest.raises(TypeError, match="does not support the DLPack protocol"):
        tg.from_dlpack([1, 2])
    with pytest.raises(TypeError, match="device"):
        tg.from_dlpack(np.arange(3), device="GPU")


@pytest.mark.parametrize(
    "np_dtype, tg_dtype",
    [
        (np.int8, tg.int8),
        (np.uint8, tg.uint8),
        (np.int16, tg.int16),
        (np.uint16, tg.uint16),
        (np.uint32, tg.uint32),
        (np.uint64, tg.uint64),
    ],
)
def test_dlpack_import_keeps_narrow_ints(np_dtype, tg_dtype):
    a = np.array([[0, 1, 2], [3, 4, np.iinfo(np_dtype).max]], np_dtype)[:, ::-1]
    t = tg.from_dlpack(a)
    assert t.dtype == tg_dtype
    np.testing.assert_array_equal(t.asnumpy(), a)


def test_dlpack_unsupported_dtype():
    # A hand-made DLPack capsule of bfloat16 (type code 4), which tapegrad has no dtype for.
    import ctypes

    class DLTensor(ctypes.Structure):
        _fields_ = [
            ("data", ctypes.c_void_p),
            ("device_type", ctypes.c_int32),
            ("device_id", ctypes.c_int32),
            ("ndim", ctypes.c_int32),
            ("code", ctypes.c_uint8),
            ("bits", ctypes.c_uint8),
            ("lanes", ctypes.c_uint16),
            ("shape", ctypes.POINTER(ctypes.c_int64)),
            ("strides", ctypes.c_void_p),
            ("byte_offset", ctypes.c_uint64),
            ("manager_ctx", ctypes.c_void_p),
            ("deleter", ctypes.c_void_p),
        ]

    buf = (ctypes.c_uint16 * 2)()
    shape = (ctypes.c_int64 * 1)(2)
    m = DLTensor(ctypes.cast(buf, ctypes.c_void_p), 1, 0, 1, 4, 16, 1, shape, None, 0, None, None)
    new = ctypes.pythonapi.PyCapsule_New
    new.restype, new.argtypes = (
        ctypes.py_object,
        [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p],
    )
    capsule = new(ctypes.addressof(m), b"dltensor", None)

    class Producer:
        def __dlpack__(self, **kwargs):
            return capsule

        def __dlpack_device__(self):
            return (1, 0)

    with pytest.raises(TypeError, match="DLPack dtype"):
        tg.from_dlpack(Producer())


# ---- pickling and copying ------------------------------------------------------------------------


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("np_dtype", NP_DTYPES)
def test_pickle_round_trip(layout, np_dtype):
    ref, t = layout_pair(layout, np_dtype)
    for proto in (2, pickle.HIGHEST_PROTOCOL):
        u = pickle.loads(pickle.dumps(t, protocol=proto))
        assert isinstance(u, tg.Tensor) and u.dtype == t.dtype and u.shape == t.shape
        np.testing.assert_array_equal(u.asnumpy(), ref)
        assert u.asnumpy().dtype == ref.dtype


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_copy_and_deepcopy(layout):
    ref, t = layout_pair(layout, np.float32)
    for c in (copy.copy(t), copy.deepcopy(t)):
        assert isinstance(c, tg.Tensor) and c.dtype == t.dtype
        np.testing.assert_array_equal(c.asnumpy(), ref)
        assert not c._shares_memory(t)
    nested = copy.deepcopy({"w": t, "l": [t]})
    np.testing.assert_array_equal(nested["l"][0].asnumpy(), ref)


# ---- dtype objects -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dt, name, np_dt",
    [
        (tg.float32, "Float32", np.float32),
        (tg.float64, "Float64", np.float64),
        (tg.float16, "Float16", np.float16),
        (tg.int32, "Int32", np.int32),
        (tg.int64, "Int64", np.int64),
        (tg.bool_, "Bool", np.bool_),
    ],
)
def test_dtype_objects(dt, name, np_dt):
    assert str(dt) == name and repr(dt) == name
    assert dt == np_dt and dt == np.dtype(np_dt) and np.dtype(np_dt) == dt
    assert dt == np.dtype(np_dt).name and dt == name
    assert (dt != np_dt) is False
    assert np.dtype(dt) == np.dtype(np_dt)
    assert np.zeros(2, dtype=dt).dtype == np.dtype(np_dt)
    assert pickle.loads(pickle.dumps(dt)) is dt
    assert copy.deepcopy(dt) is dt
    assert hash(dt) == hash(np.dtype(np_dt).name)
    assert {dt: 1}[dt] == 1 and {np.dtype(np_dt).name: 1}[dt] == 1
    assert dt.itemsize == np.dtype(np_dt).itemsize
    assert dt.name == np.dtype(np_dt).name


def test_dtype_inequalities():
    assert tg.float32 != tg.float64 and tg.float32 != np.float64 and tg.int32 != "int64"
    assert tg.float64 != None  # noqa: E711  (numpy reads None as float64; we do not)
    assert tg.float32 != "nonsense" and tg.float32 != 3 and tg.float32 != object()
    assert len({tg.float32, tg.float64, tg.float32}) == 2
    assert tg.float32 in (tg.float64, tg.float32)
    assert (
        tg.bool is tg.bool_
        and tg.float is tg.float32
        and tg.double is tg.float64
        and tg.half is tg.float16
    )


# ---- repr / str ----------------------------------------------------------------------------------


def test_repr_mindspore_format():
    assert repr(tg.arange(4.0)) == (
        "Tensor(shape=[4], dtype=Float32, value= "
        "[ 0.00000000e+00,  1.00000000e+00,  2.00000000e+00,  3.00000000e+00])"
    )
    assert repr(tg.tensor(28.0)) == "Tensor(shape=[], dtype=Float32, value= 28)"
    assert (
        repr(tg.ones(4, tg.bool_))
        == "Tensor(shape=[4], dtype=Bool, value= [ True,  True,  True,  True])"
    )
    assert repr(tg.tensor(True)) == "Tensor(shape=[], dtype=Bool, value= True)"
    assert repr(tg.arange(3)) == "Tensor(shape=[3], dtype=Int64, value= [0, 1, 2])"
    assert repr(tg.zeros((2, 2)).T) == (
        "Tensor(shape=[2, 2], dtype=Float32, value=\n"
        "[[ 0.00000000e+00,  0.00000000e+00],\n"
        " [ 0.00000000e+00,  0.00000000e+00]])"
    )


def test_str_is_numpy_str():
    assert str(tg.full(3, 6.0)) == "[6. 6. 6.]"
    assert str(tg.tensor(2.5)) == "2.5"
    assert str(tg.tensor([[1, 2], [3, 4]]).T) == str(np.array([[1, 3], [2, 4]]))
    assert f"{tg.tensor(2.5):.2f}" == "2.50"
