"""The CUDA backend (issue 13): the plugin tapegrad._cuda, the caching allocator, device errors, and
the GPU kernels.

The first part runs everywhere: without a GPU, is_available() is False and every GPU request is a
clear error; the caching allocator's logic runs against a fake raw allocator
(_core._CachingAllocatorTest). The second part is parametrised over devices: "CPU" always runs (it
checks the test itself and the CPU reference), "GPU" skips with the reason "no CUDA GPU" unless
one is present (tools/gpu_check.sh runs it on a GPU machine).
"""

import ctypes
import importlib.util
import shutil
import subprocess
import sys

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import _core

HAS_GPU = tg.cuda.is_available()
PLUGIN_BUILT = importlib.util.find_spec("tapegrad._cuda") is not None
needs_no_gpu = pytest.mark.skipif(
    HAS_GPU, reason="a GPU is present: the CPU-only behaviour does not apply"
)
DEVICES = ["CPU", pytest.param("GPU", marks=pytest.mark.skipif(not HAS_GPU, reason="no CUDA GPU"))]


# ---- without a GPU ------------------------------------------------------------------------------


@needs_no_gpu
def test_no_gpu_is_not_an_error():
    assert tg.cuda.is_available() is False
    assert tg.cuda.device_count() == 0
    assert tg.cuda.memory_allocated() == 0 and tg.cuda.max_memory_allocated() == 0
    assert tg.cuda.memory_reserved() == 0
    assert tg.cuda.synchronize() is None and tg.cuda.empty_cache() is None
    assert tg.cuda.reset_peak_memory_stats() is None
    from tapegrad import _config

    assert _config.config_dict()["cuda"]["available"] is False


@needs_no_gpu
@pytest.mark.parametrize(
    "make",
    [
        lambda: tg.ones(2).to("GPU"),
        lambda: tg.ones(2).to("cuda"),
        lambda: tg.zeros(3, device="GPU"),
        lambda: tg.tensor([1.0, 2.0], device="GPU"),
        lambda: tg.rand(2, device="GPU"),
        lambda: tg.zeros_like(tg.ones(2), device="GPU"),
        lambda: tg.linspace(0, 1, 3, device="GPU"),
    ],
)
def test_gpu_requests_without_gpu_raise_clearly(make):
    with pytest.raises(
        RuntimeError,
        match=r"CUDA backend is (not built|built but).*tg.cuda.is_available\(\) is False",
    ):
        make()


def test_device_target_sets_the_default_device():
    if not HAS_GPU:
        with pytest.raises(
            RuntimeError,
            match=r"set_context\(device_target='GPU'\).*tg.cuda.is_available\(\) is False",
        ):
            tg.set_context(device_target="GPU")
        assert tg.get_context("device_target") == "CPU" and tg.zeros(2).device == "CPU"
        return
    try:
        tg.set_context(device_target="GPU")
        assert (
            tg.zeros(2).device == "GPU"
            and tg.tensor([1.0]).device == "GPU"
            and tg.rand(3).device == "GPU"
        )
        assert tg.linspace(0, 1, 3).device == "GPU" and tg.zeros(2, device="CPU").device == "CPU"
        c = tg.ones(2, device="CPU")
        assert (
            tg.zeros_like(c).device == "CPU" and tg.tensor(c).device == "CPU"
        )  # they keep their argument's
    finally:
        tg.set_context(device_target="CPU")
    assert tg.zeros(2).device == "CPU"


def test_bad_device_names():
    for make in (
        lambda: tg.ones(2).to("TPU"),
        lambda: tg.zeros(2, device="x"),
        lambda: tg.tensor(1.0, device=3),
    ):
        with pytest.raises((ValueError, TypeError)):
            make()
    with pytest.raises(ValueError, match="unknown device 'TPU'"):
        _core._to_device(tg.ones(2), "TPU")


def test_cpu_device_arguments_are_no_ops():
    t = tg.arange(3.0)
    assert t.to("CPU") is t and t.to("cpu") is t
    assert tg.zeros(2, device="CPU").device == "CPU" and tg.ones(2, device="cpu").tolist() == [
        1.0,
        1.0,
    ]
    assert tg.tensor([1, 2], device="CPU").tolist() == [1, 2]
    assert _core._to_device(t, "CPU") is not None


def test_array_api_devices():
    x = tg.ones(2)
    info = tg.numpy.__array_namespace_info__()
    assert info.devices() == (["CPU", "GPU"] if HAS_GPU else ["CPU"])
    assert tg.numpy.asarray(x, device="cpu") is x
    if HAS_GPU:
        g = tg.numpy.asarray([1.0, 2.0], device="gpu")
        assert (
            g.device == "GPU"
            and tg.numpy.asarray(g) is g
            and tg.numpy.asarray(g, device="CPU").device == "CPU"
        )
        with pytest.raises(ValueError, match="copy=False"):
            tg.numpy.asarray(x, device="GPU", copy=False)
    else:
        with pytest.raises(ValueError, match="not available"):
            tg.numpy.asarray(x, device="gpu")


def test_random_draw_follows_the_device_check():
    """A bad device is refused before a random function draws (the stream stays where it was)."""
    tg.set_seed(7)
    with pytest.raises(ValueError):
        tg.rand(3, device="nope")
    a = tg.rand(3).tolist()
    tg.set_seed(7)
    assert tg.rand(3).tolist() == a


@needs_no_gpu
def test_core_without_a_registered_gpu():
    with pytest.raises(RuntimeError, match="no GPU is available"):
        _core._to_device(tg.ones(2), "GPU")


def test_plugin_capsule():
    cap = _core._device_plugin_api
    get = ctypes.pythonapi.PyCapsule_IsValid
    get.restype, get.argtypes = ctypes.c_int, [ctypes.py_object, ctypes.c_char_p]
    assert get(cap, b"tapegrad._core._device_plugin_api") == 1


def test_import_does_not_load_the_plugin():
    code = "import sys, tapegrad; print('tapegrad._cuda' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"


@pytest.mark.skipif(not PLUGIN_BUILT, reason="the CUDA plugin is not built (no nvcc at build time)")
def test_plugin_module():
    from tapegrad import _cuda

    info = _cuda.info()
    assert info["runtime_version"] >= 12000
    assert info["device_count"] == _cuda.device_count() == tg.cuda.device_count()
    if _cuda.device_count() == 0:
        assert _cuda.no_device_reason() != "" and not HAS_GPU
    from tapegrad import _config

    assert _config.config_dict()["cuda"]["built"] is True  # show_config reports the plugin


@pytest.mark.skipif(
    not PLUGIN_BUILT or shutil.which("nm") is None, reason="needs the CUDA plugin and nm"
)
def test_plugin_needs_no_core_symbols():
    """Note [Device plugins]: the plugin may not call out-of-line functions of _core (hidden, and
    not loaded globally): none of its undefined symbols is tapegrad's, and it links no libcudart.so."""
    spec = importlib.util.find_spec("tapegrad._cuda")
    und = subprocess.run(
        ["nm", "-D", "--undefined-only", spec.origin], capture_output=True, text=True, check=True
    )
    assert "tapegrad" not in und.stdout
    assert "8tapegrad" not in und.stdout
    if shutil.which("ldd"):
        deps = subprocess.run(["ldd", spec.origin], capture_output=True, text=True).stdout
        assert "libcudart" not in deps and "libcuda.so" not in deps


def test_cublas_is_looked_up_in_the_nvidia_wheels(tmp_path, monkeypatch):
    from tapegrad import cuda

    lib = tmp_path / "nvidia" / "cu13" / "lib"
    lib.mkdir(parents=True)
    (lib / "libcublas.so.13").write_bytes(b"")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m == "nvidia" or m.startswith("nvidia.")]:
        monkeypatch.delitem(sys.modules, name)
    found = cuda._cublas_dir()
    assert found is not None and found.endswith("lib")


# ---- the caching allocator (Note [Caching allocator]) with a fake raw allocator ------------------


def test_allocator_size_classes():
    r = _core._CachingAllocatorTest.round_size
    assert [r(n) for n in (0, 1, 512, 513, 1000, 1 << 20)] == [512, 512, 512, 1024, 1024, 1 << 20]
    assert r((1 << 20) + 1) == (1 << 20) + (1 << 18)
    assert r(1 << 21) == 1 << 21 and r((1 << 21) + 1) == (1 << 21) + (1 << 19)
    for n in [1, 777, 4096, 999_999, 1_048_577, 3_000_000, 123_456_789, 10**10]:
        assert n <= r(n) <= max(n + 511, n * 1.25), (
            n
        )  # 512-byte steps up to 1 MiB, then <= 25% waste
        assert r(r(n)) == r(n)  # a class size is its own class


def test_allocator_reuses_freed_blocks():
    a = _core._CachingAllocatorTest(10**8)
    p = a.allocate(1000)
    assert p != 0
    s = a.stats()
    assert (s["allocated"], s["cached"], s["reserved"], s["raw_allocs"]) == (1024, 0, 1024, 1)
    a.free(p, 1000)
    s = a.stats()
    assert (s["allocated"], s["cached"], s["reserved"]) == (0, 1024, 1024)
    q = a.allocate(600)  # the same class: the cached block, no raw call
    assert q == p and a.stats()["raw_allocs"] == 1 and a.stats()["reuses"] == 1
    r2 = a.allocate(600)  # the class is empty again: a new block
    assert r2 not in (0, p) and a.stats()["raw_allocs"] == 2
    big = a.allocate(3_000_000)
    a.free(big, 3_000_000)
    assert a.allocate(2_700_000) == big  # same class (2.75 MiB .. 3 MiB rounds to 3 MiB)
    assert a.stats()["peak"] >= a.stats()["allocated"]
    assert a.raw_in_use() == a.stats()["reserved"] and a.bad_frees() == 0


def test_allocator_other_classes_are_not_reused():
    a = _core._CachingAllocatorTest(10**8)
    p = a.allocate(512)
    a.free(p, 512)
    q = a.allocate(2048)
    assert q != p and a.stats()["cached"] == 512


def test_allocator_empty_cache_and_peak():
    a = _core._CachingAllocatorTest(10**8)
    ps = [a.allocate(5000) for _ in range(4)]
    keep = a.allocate(100_000)
    for p in ps:
        a.free(p, 5000)
    s = a.stats()
    assert s["peak"] == 4 * 5120 + 100_352 and s["allocated"] == 100_352 and s["cached"] == 4 * 5120
    a.empty_cache()
    s = a.stats()
    assert s["cached"] == 0 and s["reserved"] == 100_352 and s["raw_frees"] == 4
    assert a.raw_in_use() == 100_352
    a.reset_peak()
    assert a.stats()["peak"] == 100_352
    a.free(keep, 100_000)
    del a  # its destructor returns the cache to the raw allocator


def test_allocator_out_of_memory_releases_the_cache_and_retries():
    a = _core._CachingAllocatorTest(10_000)
    p = a.allocate(4000)  # 4096
    q = a.allocate(4000)
    a.free(p, 4000)
    a.free(q, 4000)
    # 6000 needs a 6144 block: the raw allocator has 10000 - 8192 left; the cache is released first.
    r = a.allocate(6000)
    assert r != 0
    s = a.stats()
    assert s["raw_frees"] == 2 and s["cached"] == 0 and s["allocated"] == 6144
    assert a.allocate(6000) == 0  # really out of memory: None, and nothing changed
    assert a.stats()["allocated"] == 6144 and a.bad_frees() == 0


# ---- per device (GPU: skipped without one) ------------------------------------------------------


def on(dev, x, dtype=None):
    return tg.tensor(np.asarray(x), dtype).to(dev)


def host(t):
    return np.asarray(t.to("CPU").asnumpy())


F32 = np.linspace(-2.5, 2.5, 24, dtype=np.float32).reshape(2, 3, 4)
POS = np.linspace(0.1, 3.0, 24, dtype=np.float64).reshape(2, 3, 4)


@pytest.mark.parametrize("dev", DEVICES)
def test_round_trip_all_dtypes(dev):
    for dt in ("bool", "int32", "int64", "float16", "float32", "float64"):
        a = (np.arange(12) % 5).astype(dt).reshape(3, 4)
        t = on(dev, a)
        assert t.device == dev and str(t.dtype).lower() == dt
        np.testing.assert_array_equal(host(t), a)
        np.testing.assert_array_equal(
            host(on(dev, a).T), a.T
        )  # a strided view copies back in order
        np.testing.assert_array_equal(np.asarray(t), a)  # numpy conversion copies to the host
    assert on(dev, [2.5]).item() == 2.5 and on(dev, [7], "int64").item() == 7
    assert on(dev, 2**60, "int64").item() == 2**60  # int64 items exact
    assert "Tensor(shape=[2]" in repr(on(dev, [1.0, 2.0]))


UNARY = [
    "sin",
    "cos",
    "tan",
    "exp",
    "exp2",
    "log1p",
    "expm1",
    "tanh",
    "sinh",
    "cosh",
    "arctan",
    "sigmoid",
    "relu",
    "softplus",
    "gelu",
    "erf",
    "floor",
    "ceil",
    "round",
    "abs",
    "sign",
    "neg",
    "square",
]


@pytest.mark.parametrize("dev", DEVICES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unary_against_numpy(dev, dtype):
    x = F32.astype(dtype)
    ref = {
        "sin": np.sin,
        "cos": np.cos,
        "tan": np.tan,
        "exp": np.exp,
        "exp2": np.exp2,
        "log1p": lambda v: np.log1p(np.abs(v)),
        "expm1": np.expm1,
        "tanh": np.tanh,
        "sinh": np.sinh,
        "cosh": np.cosh,
        "arctan": np.arctan,
        "floor": np.floor,
        "ceil": np.ceil,
        "round": np.round,
        "abs": np.abs,
        "sign": np.sign,
        "neg": np.negative,
        "square": np.square,
        "relu": lambda v: np.maximum(v, 0),
    }
    tol = 2e-6 if dtype == "float32" else 1e-13
    for name in UNARY:
        arg = np.abs(x) if name == "log1p" else x
        got = host(getattr(tg, name)(on(dev, arg)))
        want = host(getattr(tg, name)(tg.tensor(arg)))  # the CPU kernels (numpy-checked elsewhere)
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=name)
        if name in ref:
            np.testing.assert_allclose(
                got, ref[name](arg), rtol=max(tol, 1e-5), atol=max(tol, 1e-6), err_msg=name
            )
    for name, f in [
        ("sqrt", np.sqrt),
        ("log", np.log),
        ("log2", np.log2),
        ("rsqrt", lambda v: 1 / np.sqrt(v)),
        ("reciprocal", np.reciprocal),
    ]:
        np.testing.assert_allclose(
            host(getattr(tg, name)(on(dev, POS.astype(dtype)))),
            f(POS.astype(dtype)),
            rtol=max(tol, 1e-6),
            err_msg=name,
        )


@pytest.mark.parametrize("dev", DEVICES)
def test_binary_broadcasting_strides_and_scalars(dev):
    a = F32
    b = np.array([1.5, -2.0, 0.5, 3.0], np.float32)
    ta, tb = on(dev, a), on(dev, b)
    for f, g in [
        (tg.add, np.add),
        (tg.sub, np.subtract),
        (tg.mul, np.multiply),
        (tg.div, np.divide),
        (tg.maximum, np.maximum),
        (tg.minimum, np.minimum),
        (tg.arctan2, np.arctan2),
        (tg.floor_divide, np.floor_divide),
        (tg.mod, np.mod),
        (tg.pow, lambda x, y: np.abs(x) ** y),
    ]:
        x = tg.abs(ta) if g is not np.add and f is tg.pow else ta
        np.testing.assert_allclose(
            host(f(x, tb)), g(a, b), rtol=1e-5, atol=1e-6, err_msg=f.__name__
        )
    np.testing.assert_allclose(
        host(ta.transpose(2, 0, 1) * 2.0), a.transpose(2, 0, 1) * 2
    )  # strided input
    np.testing.assert_allclose(host(1.0 - ta), 1 - a)  # a Python scalar first
    np.testing.assert_allclose(host(ta[:, 1:, ::2] + tb[::2]), a[:, 1:, ::2] + b[::2])
    np.testing.assert_allclose(host(ta**2), a**2, rtol=1e-6)


@pytest.mark.parametrize("dev", DEVICES)
def test_integer_and_bool_semantics(dev):
    a = np.array([-7, -3, 0, 3, 7, np.iinfo(np.int64).min], np.int64)
    b = np.array([2, -2, 3, 0, -1, -1], np.int64)
    ta, tb = on(dev, a), on(dev, b)
    assert host(ta // tb).tolist() == host(tg.tensor(a) // tg.tensor(b)).tolist()
    assert host(ta % tb).tolist() == host(tg.tensor(a) % tg.tensor(b)).tolist()
    assert host(ta + ta).tolist() == (a + a).tolist()  # wraps
    assert host(ta & 6).tolist() == (a & 6).tolist() and host(~ta).tolist() == (~a).tolist()
    assert host(on(dev, [2, 3], "int32") ** on(dev, [10, 3], "int32")).tolist() == [1024, 27]
    p = on(dev, [True, False, True])
    assert host(p & on(dev, [True, True, False])).tolist() == [True, False, False]
    assert host(tg.logical_not(p)).tolist() == [False, True, False]


@pytest.mark.parametrize("dev", DEVICES)
def test_compare_predicate_where_clip(dev):
    x = np.array([1.0, np.nan, -np.inf, 2.0, 0.0], np.float32)
    t = on(dev, x)
    assert host(tg.isnan(t)).tolist() == np.isnan(x).tolist()
    assert host(tg.isfinite(t)).tolist() == np.isfinite(x).tolist()
    assert host(t > 0.5).tolist() == (x > 0.5).tolist()
    assert host(tg.equal(t, t)).tolist() == (x == x).tolist()
    w = tg.where(t > 0.5, t, on(dev, -1.0 * np.ones(5, np.float32)))
    np.testing.assert_array_equal(host(w), np.where(x > 0.5, x, -1.0))
    np.testing.assert_array_equal(host(tg.clip(t, -1.0, 1.5)), np.clip(x, -1.0, 1.5))
    h = on(dev, x.astype(np.float16))
    np.testing.assert_array_equal(host(tg.where(tg.isnan(h), h, h)), x.astype(np.float16))


@pytest.mark.parametrize("dev", DEVICES)
def test_casts_and_fills(dev):
    x = np.array([-1.5, 0.0, 2.7, np.nan, 1e10, -1e10], np.float64)
    t = on(dev, x)
    for dt in (
        "bool",
        "int32",
        "int64",
        "float16",
        "float32",
    ):  # float -> int saturates, NaN -> min
        np.testing.assert_array_equal(host(t.astype(dt)), host(tg.tensor(x).astype(dt)), err_msg=dt)
    with np.errstate(over="ignore"):  # 1e10 is inf in float16
        np.testing.assert_array_equal(host(t.astype("float16")), x.astype(np.float16))
    z = tg.zeros_like(t)
    assert z.device == dev and host(z).tolist() == [0.0] * 6
    assert host(tg.full_like(t, 3.0)).tolist() == [3.0] * 6
    assert host(tg.ones(3, device=dev)).tolist() == [1.0] * 3


@pytest.mark.parametrize("dev", DEVICES)
def test_reductions_over_axes(dev):
    a = F32
    t = on(dev, a)
    for axis in (None, 0, 1, 2, (0, 2), (1, 2), (0, 1, 2)):
        np.testing.assert_allclose(host(tg.sum(t, axis)), a.sum(axis), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(host(tg.mean(t, axis)), a.mean(axis), rtol=1e-6, atol=1e-6)
        np.testing.assert_array_equal(host(tg.amax(t, axis)), a.max(axis))
        np.testing.assert_array_equal(host(tg.amin(t, axis)), a.min(axis))
        np.testing.assert_allclose(host(tg.prod(t, axis)), a.prod(axis), rtol=1e-5)
    tt = t.transpose(2, 0, 1)  # strided
    np.testing.assert_allclose(
        host(tg.sum(tt, (1, 2))), a.transpose(2, 0, 1).sum((1, 2)), rtol=1e-6
    )
    for axis in (0, 1, 2):
        assert host(tg.argmax(t, axis)).tolist() == a.argmax(axis).tolist()
        assert host(tg.argmin(t, axis)).tolist() == a.argmin(axis).tolist()
    ties = np.array([[1.0, 3.0, 3.0, np.nan, np.nan], [0.0, 0.0, -1.0, -1.0, 2.0]], np.float32)
    assert host(tg.argmax(on(dev, ties), 1)).tolist() == np.argmax(ties, 1).tolist()
    assert host(tg.argmin(on(dev, ties), 1)).tolist() == np.argmin(ties, 1).tolist()
    assert np.isnan(host(tg.amax(on(dev, ties), 1))[0])
    big = np.arange(100_000, dtype=np.int64)
    assert host(tg.sum(on(dev, big))).item() == big.sum()
    b = a > 0
    assert host(tg.any(on(dev, b), 1)).tolist() == b.any(1).tolist()
    assert host(tg.all(on(dev, b), (0, 2))).tolist() == b.all((0, 2)).tolist()
    assert host(tg.sum(on(dev, np.zeros((0, 3), np.float32)), 0)).tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("dev", DEVICES)
def test_axis_kernels(dev):
    a = F32.astype(np.float64)
    t = on(dev, a)
    for axis in (0, 1, 2):
        np.testing.assert_allclose(host(tg.cumsum(t, axis)), np.cumsum(a, axis), rtol=1e-12)
        np.testing.assert_allclose(host(tg.cumprod(t, axis)), np.cumprod(a, axis), rtol=1e-12)
        e = np.exp(a - a.max(axis, keepdims=True))
        np.testing.assert_allclose(
            host(tg.softmax(t, axis)), e / e.sum(axis, keepdims=True), rtol=1e-12
        )
        np.testing.assert_allclose(
            host(tg.log_softmax(t.astype("float32"), axis)),
            np.log(e / e.sum(axis, keepdims=True)),
            rtol=1e-5,
            atol=1e-6,
        )
    i = on(dev, np.array([3, 0, 2, 1, 3, 3]), "int64")
    assert host(tg.cumsum(i, 0)).tolist() == [3, 3, 5, 6, 9, 12]
    nan_row = on(dev, np.array([[1.0, np.nan], [0.0, 1.0]], np.float32))
    assert np.isnan(host(tg.softmax(nan_row, 1))[0]).all()
    idx = np.argsort(a, axis=-1)
    np.testing.assert_array_equal(
        host(tg.numpy.take_along_axis(t, on(dev, idx), -1)), np.take_along_axis(a, idx, -1)
    )
    with pytest.raises(IndexError, match="out of bounds"):
        host(tg.numpy.take_along_axis(t, on(dev, idx + 10), -1))


@pytest.mark.parametrize("dev", DEVICES)
def test_indexing_and_its_gradients(dev):
    a = F32
    t = on(dev, a)
    np.testing.assert_array_equal(host(t[1, :, ::2]), a[1, :, ::2])  # basic: a view
    np.testing.assert_array_equal(host(t[[0, 1, 1], :, [3, 0, 2]]), a[[0, 1, 1], :, [3, 0, 2]])
    np.testing.assert_array_equal(host(t[:, [2, 0]]), a[:, [2, 0]])
    w = np.arange(4, dtype=np.float32)

    def f(v, wt):  # gather with a repeated row (scatter-add VJP), basic slices (zero-filled VJP)
        return (v[[0, 0, 1]] * wt).sum() + (v[1:, ::2] ** 2).sum() + v[0, 1, 2]

    g = tg.grad(f)(t, on(dev, w))
    assert g.device == dev
    np.testing.assert_allclose(host(g), tg.grad(f)(tg.tensor(a), tg.tensor(w)).asnumpy(), rtol=1e-6)


def _cublas_or_skip(dev):
    """GPU float matmul needs the nvidia-cublas wheel; without it, the error names the extra."""
    if dev == "GPU" and tg.cuda._cublas_dir() is None:
        with pytest.raises(RuntimeError, match=r"pip install tapegrad\[cuda\]"):
            tg.ones((2, 2), device="GPU") @ tg.ones((2, 2), device="GPU")
        pytest.skip("no nvidia-cublas wheel: float matmul on the GPU is not available")


@pytest.mark.parametrize("dev", DEVICES)
def test_matmul(dev):
    rng = np.random.default_rng(0)
    ai = rng.integers(-5, 5, (3, 4, 5))
    bi = rng.integers(-5, 5, (5, 2))
    assert host(on(dev, ai) @ on(dev, bi)).tolist() == (ai @ bi).tolist()  # integers: no cuBLAS
    _cublas_or_skip(dev)
    for dtype, tol in (("float32", 1e-5), ("float64", 1e-12)):
        a = rng.standard_normal((2, 3, 4, 5)).astype(dtype)
        b = rng.standard_normal((3, 5, 6)).astype(dtype)
        ta, tb = on(dev, a), on(dev, b)
        np.testing.assert_allclose(host(ta @ tb), a @ b, rtol=tol, atol=tol)  # broadcast batch
        np.testing.assert_allclose(
            host(ta.mT @ ta), a.swapaxes(-1, -2) @ a, rtol=tol, atol=tol
        )  # transposed
        np.testing.assert_allclose(
            host(ta[..., ::2, :] @ tb[0, :, ::3]), a[..., ::2, :] @ b[0, :, ::3], rtol=tol, atol=tol
        )  # strided: copied first
        np.testing.assert_allclose(
            host(tg.matmul(on(dev, a[0, 0]), on(dev, b[0]))), a[0, 0] @ b[0], rtol=tol, atol=tol
        )
    x = rng.standard_normal((4, 3)).astype("float32")
    w = rng.standard_normal((3, 2)).astype("float32")
    g_dev = tg.grad(lambda w: tg.tanh(on(dev, x) @ w).sum())(on(dev, w))
    g_cpu = tg.grad(lambda w: tg.tanh(tg.tensor(x) @ w).sum())(tg.tensor(w))
    np.testing.assert_allclose(host(g_dev), g_cpu.asnumpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dev", DEVICES)
def test_gradients_match_the_cpu(dev):
    x = np.linspace(-1.0, 1.0, 12, dtype=np.float32).reshape(3, 4)

    def f(v):
        return (
            (tg.sin(v) * v + tg.exp(v) / (1.0 + v * v)).sum()
            + tg.amax(v, 1).sum()
            + tg.mean(tg.tanh(v))
            + (tg.log_softmax(v, 1) * v).sum()
            + tg.cumsum(v, 0).sum()
        )

    g_dev = tg.grad(f)(on(dev, x))
    assert g_dev.device == dev
    np.testing.assert_allclose(
        host(g_dev), tg.grad(f)(tg.tensor(x)).asnumpy(), rtol=1e-5, atol=1e-6
    )
    h = tg.grad(lambda v: tg.grad(lambda u: (u * u * u).sum())(v).sum())(on(dev, x))  # second order
    np.testing.assert_allclose(host(h), 6 * x, rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(not HAS_GPU, reason="no CUDA GPU")
def test_gpu_errors_and_memory():
    g = tg.ones((2, 3), device="GPU")
    with pytest.raises(ValueError, match="different devices"):
        g + tg.ones((2, 3))
    with pytest.raises(ValueError, match="different devices"):
        tg.ones((2, 3)) * g
    with pytest.raises(
        NotImplementedError,
        match=r"sort/argsort: not implemented on the GPU yet; move the tensors to the CPU",
    ):
        tg.sort(g, 1)
    with pytest.raises(ValueError, match="tracks"):
        tg.grad(lambda v: v.to("GPU").sum())(tg.ones(2))
    tg.cuda.synchronize()
    tg.cuda.empty_cache()
    before = tg.cuda.memory_allocated()
    x = tg.zeros(1 << 20, device="GPU")  # 4 MiB
    assert tg.cuda.memory_allocated() >= before + (4 << 20)
    assert tg.cuda.max_memory_allocated() >= tg.cuda.memory_allocated()
    del x
    assert tg.cuda.memory_allocated() == before
    assert tg.cuda.memory_reserved() >= 4 << 20  # cached for reuse
    tg.cuda.empty_cache()
    assert tg.cuda.memory_reserved() == tg.cuda.memory_allocated()
    info = __import__("tapegrad._cuda", fromlist=["info"]).info()
    assert info["device_count"] >= 1 and info["name"]
