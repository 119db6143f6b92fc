"""complex64/complex128: conversion (zero copy both ways), Python scalars (NEP 50), promotion,
pickle, DLPack, astype, data movement, the elementwise ops with complex loops against numpy, and
the TypeErrors of everything else (never a silent cast to a real dtype)."""

import pickle

import numpy as np
import pytest

import tapegrad as tg

CPLX = ["complex64", "complex128"]
RTOL = {"complex64": 2e-6, "complex128": 1e-13}


def arr(t):
    return np.asarray(t)


def sample(name, shape=(3, 4), seed=0):
    rng = np.random.default_rng(seed)
    re = rng.uniform(-2, 2, size=shape)
    im = rng.uniform(-2, 2, size=shape)
    return (re + 1j * im).astype(name)


def close(got, want, name=None):
    assert isinstance(got, tg.Tensor)
    assert got.dtype.name == want.dtype.name, (got.dtype, want.dtype)
    rtol = RTOL.get(name or want.dtype.name, 1e-6)
    np.testing.assert_allclose(arr(got), want, rtol=rtol, atol=rtol)


# ---- dtype objects, conversion, scalars --------------------------------------------------------


@pytest.mark.parametrize("name", CPLX)
def test_dtype_objects(name):
    dt = getattr(tg, name)
    assert str(dt) == {"complex64": "Complex64", "complex128": "Complex128"}[name]
    assert dt.name == name and dt.itemsize == np.dtype(name).itemsize
    assert not dt.is_floating_point
    assert np.dtype(dt) == np.dtype(name)
    assert getattr(tg.numpy, name) is dt
    assert tg.tensor([1], name).dtype == dt
    assert tg.tensor([1], np.dtype(name)).dtype == dt
    assert dt == name and hash(dt) == hash(name)
    assert tg.numpy.isdtype(dt, "complex floating") and tg.numpy.isdtype(dt, "numeric")
    assert not tg.numpy.isdtype(dt, "real floating")
    assert name in tg.numpy.__array_namespace_info__().dtypes(kind="complex floating")


@pytest.mark.parametrize("name", CPLX)
def test_numpy_round_trip_zero_copy(name):
    a = sample(name)
    t = tg.tensor(a)
    assert t.dtype.name == name
    np.testing.assert_array_equal(arr(t), a)
    assert np.shares_memory(arr(t), a)  # numpy data is borrowed, not converted
    assert arr(t).dtype == np.dtype(name)
    v = a[:, ::2]  # strided
    tv = tg.tensor(v)
    np.testing.assert_array_equal(arr(tv), v)
    assert np.shares_memory(arr(tv), a)
    np.testing.assert_array_equal(arr(tg.tensor(a.T)), a.T)
    assert t.tolist() == a.tolist()


def test_python_complex_scalars():
    z = tg.tensor(1 + 2j)
    assert z.dtype == tg.complex64 and z.shape == ()
    assert z.item() == 1 + 2j and isinstance(z.item(), complex)
    assert tg.tensor(1 + 2j, tg.complex128).item() == 1 + 2j
    assert tg.tensor([1 + 2j, 3]).dtype == tg.complex64  # the default complex, as floats -> float32
    assert tg.tensor([np.complex128(1 + 2j), 3]).dtype == tg.complex128  # a strong complex128
    assert tg.tensor([[1 + 2j], [3 - 1j]]).tolist() == [[1 + 2j], [3 - 1j]]
    assert bool(tg.tensor(0j)) is False and bool(tg.tensor(1j)) is True
    with pytest.raises(TypeError, match="complex"):
        tg.tensor(1j, tg.float32)
    with pytest.raises(TypeError, match="imaginary"):
        tg.tensor(np.array([1j]), tg.float64)
    with pytest.raises(TypeError, match="real number"):
        float(tg.tensor(1 + 1j))


def test_nep50_promotion():
    f32 = tg.tensor([1.0, 2.0])
    assert (f32 + 1j).dtype == tg.complex64  # NEP 50: the Python complex is weak
    assert (f32.astype(tg.float64) * 1j).dtype == tg.complex128
    assert (tg.tensor([1, 2]) + 1j).dtype == tg.complex128
    assert (tg.tensor([1.0], tg.float16) + 1j).dtype == tg.complex64
    c64 = tg.tensor([1 + 1j], tg.complex64)
    assert (c64 + 2.5).dtype == tg.complex64 and (c64 + 2).dtype == tg.complex64
    assert (c64 + 1j).dtype == tg.complex64
    names = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
    names += ["float16", "float32", "float64"] + CPLX
    for a in names:
        for b in CPLX:
            want = np.result_type(np.dtype(a), np.dtype(b))
            got = tg.tensor(np.zeros(2, a)) + tg.tensor(np.zeros(2, b))
            assert got.dtype.name == want.name, (a, b)
            assert (
                tg.numpy.result_type(getattr(tg.numpy, a if a != "bool" else "bool_"), b).name
                == want.name
            )


@pytest.mark.parametrize("name", CPLX)
def test_repr_str(name):
    t = tg.tensor(np.array([1 + 2j, -0.5j], name))
    r = repr(t)
    assert r.startswith("Tensor(shape=[2], dtype=Complex") and "j" in r
    assert "j" in str(t)


@pytest.mark.parametrize("name", CPLX)
def test_pickle_and_dlpack(name):
    a = sample(name)
    t = tg.tensor(a)
    u = pickle.loads(pickle.dumps(t))
    assert u.dtype == t.dtype
    np.testing.assert_array_equal(arr(u), a)
    d = np.from_dlpack(t)
    assert d.dtype == np.dtype(name)
    np.testing.assert_array_equal(d, a)
    back = tg.from_dlpack(a)
    assert back.dtype.name == name and np.shares_memory(arr(back), a)
    np.testing.assert_array_equal(arr(back), a)


@pytest.mark.parametrize("name", CPLX)
def test_astype(name):
    x = np.array([1.5, -2, 0], "float32")
    for src in ["bool", "int8", "int32", "int64", "uint64", "float16", "float32", "float64"]:
        got = tg.tensor(x.astype(src)).astype(name)
        want = x.astype(src).astype(name)
        assert got.dtype.name == name
        np.testing.assert_array_equal(arr(got), want)
    z = sample(name)
    other = "complex128" if name == "complex64" else "complex64"
    close(tg.tensor(z).astype(other), z.astype(other))
    # complex -> real: refused (numpy drops the imaginary part with a warning; the Array API
    # leaves it undefined), never a silent loss.
    for dst in ["float32", "float64", "int64", "bool"]:
        with pytest.raises(TypeError, match=f"cannot cast {name} to {dst}"):
            tg.tensor(z).astype(dst)


# ---- data movement -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", CPLX)
def test_data_movement(name):
    a = sample(name, (3, 4))
    b = sample(name, (3, 4), seed=1)
    t, u = tg.tensor(a), tg.tensor(b)
    np.testing.assert_array_equal(arr(t.reshape(4, 3)), a.reshape(4, 3))
    np.testing.assert_array_equal(arr(t.T), a.T)
    np.testing.assert_array_equal(arr(tg.transpose(t, (1, 0)).reshape(-1)), a.T.reshape(-1))
    np.testing.assert_array_equal(arr(t[1]), a[1])
    np.testing.assert_array_equal(arr(t[:, ::2]), a[:, ::2])
    np.testing.assert_array_equal(arr(t[::-1, 1:3]), a[::-1, 1:3])
    np.testing.assert_array_equal(arr(t[tg.tensor([2, 0, 2])]), a[[2, 0, 2]])
    np.testing.assert_array_equal(arr(t[tg.tensor(a.real > 0)]), a[a.real > 0])
    np.testing.assert_array_equal(arr(t[[0, 2], [1, 3]]), a[[0, 2], [1, 3]])
    np.testing.assert_array_equal(arr(tg.concatenate([t, u], 1)), np.concatenate([a, b], 1))
    np.testing.assert_array_equal(arr(tg.stack([t, u])), np.stack([a, b]))
    np.testing.assert_array_equal(arr(tg.broadcast_to(t[0], (2, 4))), np.broadcast_to(a[0], (2, 4)))
    c = a.real > 0
    np.testing.assert_array_equal(arr(tg.where(tg.tensor(c), t, u)), np.where(c, a, b))
    np.testing.assert_array_equal(arr(tg.zeros((2, 3), name)), np.zeros((2, 3), name))
    np.testing.assert_array_equal(arr(tg.ones((2,), name)), np.ones((2,), name))
    np.testing.assert_array_equal(arr(tg.full((2,), 3.0, name)), np.full((2,), 3.0, name))
    np.testing.assert_array_equal(arr(tg.flip(t.reshape(-1), 0)), a.reshape(-1)[::-1])
    # empty and 0-d
    assert tg.tensor(np.zeros((0, 3), name)).reshape(3, 0).shape == (3, 0)
    assert tg.tensor(np.array(1 + 1j, name))[()].item() == 1 + 1j
    # index assignment
    w = tg.tensor(a.copy())
    w[1] = tg.tensor(b[1])
    want = a.copy()
    want[1] = b[1]
    np.testing.assert_array_equal(arr(w), want)
    # gather along an axis (take_along_axis) moves 16-byte elements whole
    idx = np.array([[3, 0], [1, 1], [2, 0]])
    np.testing.assert_array_equal(
        arr(tg.take_along_axis(t, tg.tensor(idx), 1)), np.take_along_axis(a, idx, 1)
    )


# ---- elementwise -------------------------------------------------------------------------------

BINARY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "pow": np.power}
UNARY = {
    "neg": np.negative,
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "square": np.square,
    "reciprocal": np.reciprocal,
    "sin": np.sin,
    "cos": np.cos,
    "tanh": np.tanh,
}


@pytest.mark.parametrize("name", CPLX)
@pytest.mark.parametrize("op", list(BINARY))
def test_binary(name, op):
    a = sample(name, (3, 4))
    b = sample(name, (3, 4), seed=1)
    f = getattr(tg, op)
    close(f(tg.tensor(a), tg.tensor(b)), BINARY[op](a, b), name)
    # broadcast, non-contiguous, 0-d and empty
    close(f(tg.tensor(a)[:, ::2], tg.tensor(b[0, :2])), BINARY[op](a[:, ::2], b[0, :2]), name)
    close(f(tg.tensor(a[0, 0]), tg.tensor(b[1, 1])), BINARY[op](a[0, 0], b[1, 1]), name)
    e = np.zeros((0, 4), name)
    close(f(tg.tensor(e), tg.tensor(b[0])), BINARY[op](e, b[0]), name)
    # with real tensors and Python scalars
    r = np.linspace(0.5, 2, 4).astype("float32" if name == "complex64" else "float64")
    close(f(tg.tensor(a), tg.tensor(r)), BINARY[op](a, r), name)
    close(f(tg.tensor(r), tg.tensor(a)), BINARY[op](r, a), name)


@pytest.mark.parametrize("name", CPLX)
def test_operators_and_powers(name):
    a = sample(name)
    t = tg.tensor(a)
    close(t + 1j, a + np.array(1j, name), name)
    close(2 * t - 1, 2 * a - 1, name)
    close(t / (1 + 2j), a / np.array(1 + 2j, name), name)
    close(-t, -a, name)
    for e in [0, 1, 2, 3, -1, -2, 0.5, 2 + 1j]:
        close(t**e, a ** np.array(e).astype(name), name)
    # Gaussian integers to integer powers are exact, as numpy's repeated multiplication
    g = np.array([1 + 1j, 2 - 3j, 0], name)
    np.testing.assert_array_equal(arr(tg.tensor(g) ** 3), g**3)
    np.testing.assert_array_equal(arr(tg.tensor(g) ** 2), g**2)
    # numpy's complex division of special values
    sp = np.array([1 + 0j, 0j, np.inf + 0j], name)
    with np.errstate(all="ignore"):
        want = sp / np.array([0j, 0j, 1 + 1j], name)
    got = arr(tg.tensor(sp) / tg.tensor(np.array([0j, 0j, 1 + 1j], name)))
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))


@pytest.mark.parametrize("name", CPLX)
@pytest.mark.parametrize("op", list(UNARY))
def test_unary(name, op):
    a = sample(name, (3, 4))
    f = getattr(tg, op)
    close(f(tg.tensor(a)), UNARY[op](a), name)
    close(f(tg.tensor(a)[::2, 1:]), UNARY[op](a[::2, 1:]), name)
    close(f(tg.tensor(a[1, 1])), UNARY[op](a[1, 1]), name)
    close(f(tg.tensor(np.zeros((0,), name))), UNARY[op](np.zeros((0,), name)), name)


@pytest.mark.parametrize("name", CPLX)
def test_compare_and_predicates(name):
    a = np.array([1 + 1j, np.nan + 0j, 1j * np.inf, 2, 0], name)
    b = np.array([1 + 1j, 0j, 1j * np.inf, 2 + 1e-3j, 0], name)
    t, u = tg.tensor(a), tg.tensor(b)
    np.testing.assert_array_equal(arr(t == u), a == b)
    np.testing.assert_array_equal(arr(t != u), a != b)
    np.testing.assert_array_equal(arr(tg.equal(t, 2)), a == 2)
    np.testing.assert_array_equal(arr(tg.isnan(t)), np.isnan(a))
    np.testing.assert_array_equal(arr(tg.isfinite(t)), np.isfinite(a))
    np.testing.assert_array_equal(arr(tg.logical_not(t)), np.logical_not(a))


@pytest.mark.parametrize("name", CPLX)
def test_refused_ops_name_op_and_dtype(name):
    t = tg.tensor(sample(name))
    for fn in [
        lambda: t < t,
        lambda: t <= 1,
        lambda: t > t,
        lambda: tg.maximum(t, t),
        lambda: tg.minimum(t, t),
        lambda: tg.floor(t),
        lambda: tg.relu(t),
        lambda: tg.sigmoid(t),
        lambda: t // t,
        lambda: t % t,
        lambda: tg.arctan2(t, t),
        lambda: tg.clip(t, 0, 1),
        lambda: tg.max(t),
        lambda: tg.argmin(t),
        lambda: tg.softmax(t, 0),
    ]:
        with pytest.raises(TypeError, match=name):
            fn()
    with pytest.raises(TypeError):
        tg.sort(t)


def test_differentiation_refusals():
    x = tg.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="imaginary part"):  # astype stays refused under grad
        tg.grad(lambda x: (x * 1j).astype(tg.float32).sum())(x)
    with pytest.raises(
        TypeError, match="holomorphic=True"
    ):  # as JAX (tests/test_complex_functions.py)
        tg.jacrev(lambda z: z)(tg.tensor([1j]))


# ---- parts, reductions, products ----------------------------------------------------------------


@pytest.mark.parametrize("name", CPLX)
def test_parts(name):
    a = sample(name)
    t = tg.tensor(a)
    tnp = tg.numpy
    part = "float32" if name == "complex64" else "float64"
    for got, want in [
        (tnp.real(t), np.real(a)),
        (tnp.imag(t), np.imag(a)),
        (tnp.conj(t), np.conj(a)),
        (tnp.conjugate(t), np.conjugate(a)),
        (tg.abs(t), np.abs(a)),
        (abs(t), np.abs(a)),
        (tnp.angle(t), np.angle(a)),
        (tnp.real(t[:, ::2]), np.real(a[:, ::2])),
        (tnp.imag(t.T), np.imag(a.T)),
        (tg.abs(t[::-1]), np.abs(a[::-1])),
    ]:
        close(got, want, name)
    assert tnp.real(t).dtype.name == part and tg.abs(t).dtype.name == part
    # the parts are copies: writing into one leaves z alone
    r = tnp.real(t)
    r[0, 0] = 100.0
    assert tnp.real(t)[0, 0].item() == a.real[0, 0].astype(part)
    close(tg.numpy.angle(t, deg=True), np.angle(a, deg=True), name)
    close(tg._core._complex(tg.tensor(a.real), tg.tensor(a.imag)), a, name)
    # special values of abs and angle as numpy (hypot, arctan2)
    sp = np.array([np.inf + 1j * np.nan, -0.0 + 0j, -1 + 0j, 3 + 4j], name)
    np.testing.assert_array_equal(arr(tg.abs(tg.tensor(sp))), np.abs(sp))
    np.testing.assert_array_equal(arr(tnp.angle(tg.tensor(sp[1:]))), np.angle(sp[1:]))
    # real inputs keep numpy's behaviour
    x = np.array([1.0, -2.0], "float32")
    close(tnp.angle(tg.tensor(x)), np.angle(x).astype("float32"))


@pytest.mark.parametrize("name", CPLX)
def test_sum_mean(name):
    a = sample(name, (3, 4, 5))
    t = tg.tensor(a)
    close(tg.sum(t), np.sum(a), name)
    close(tg.sum(t, 1), np.sum(a, 1), name)
    close(tg.sum(t, (0, 2), keepdims=True), np.sum(a, (0, 2), keepdims=True), name)
    close(tg.mean(t, -1), np.mean(a, -1), name)
    close(tg.mean(t[:, ::2]), np.mean(a[:, ::2]), name)
    close(tg.sum(tg.tensor(np.zeros((0, 2), name)), 0), np.sum(np.zeros((0, 2), name), 0), name)
    close(t.sum(), a.sum(), name)
    close(tg.numpy.sum(t, axis=0), a.sum(0), name)
    close(tg.cumsum(t, 1), np.cumsum(a, 1), name)
    close(tg.cumsum(t), np.cumsum(a), name)
    part = "float32" if name == "complex64" else "float64"
    close(tg.var(t, 1), np.var(a, 1).astype(part), name)
    close(tg.std(t), np.std(a).astype(part), name)
    close(tg.numpy.var(t, correction=1), np.var(a, ddof=1).astype(part), name)
    close(tg.prod(t, 1), np.prod(a, 1), name)  # more in tests/test_complex_functions.py


@pytest.mark.parametrize("name", CPLX)
def test_matmul_dot_vdot(name):
    a = sample(name, (3, 4))
    b = sample(name, (4, 2), seed=1)
    close(tg.matmul(tg.tensor(a), tg.tensor(b)), a @ b, name)
    close(tg.tensor(a) @ tg.tensor(b), a @ b, name)
    close(tg.tensor(a).T @ tg.tensor(a), a.T @ a, name)  # non-contiguous operand
    ba = sample(name, (2, 3, 4), seed=2)
    close(tg.tensor(ba) @ tg.tensor(b), ba @ b, name)  # batched
    v = sample(name, (4,), seed=3)
    close(tg.tensor(a) @ tg.tensor(v), a @ v, name)
    close(tg.dot(tg.tensor(v), tg.tensor(v)), np.dot(v, v), name)
    close(tg.vdot(tg.tensor(v), tg.tensor(v[::-1].copy())), np.vdot(v, v[::-1]), name)
    assert abs(tg.vdot(tg.tensor(v), tg.tensor(v)).item().imag) < 1e-5  # conjugates the first
    close(tg.numpy.vecdot(tg.tensor(a), tg.tensor(a)), np.vecdot(a, a), name)
    # mixed with a real matrix
    r = np.linspace(-1, 1, 8).reshape(4, 2).astype("float32" if name == "complex64" else "float64")
    close(tg.tensor(a) @ tg.tensor(r), a @ r, name)
    with pytest.raises(TypeError, match="floor"):  # complex numbers are not ordered
        tg.floor(tg.tensor(a[:3, :3]))


@pytest.mark.parametrize("name", CPLX)
def test_numpy_functions_on_complex(name):
    tnp = tg.numpy
    a = np.array([np.inf * 1j, 1 + 1j, np.nan + 0j, complex(-np.inf, 2), 0j], name)
    t = tg.tensor(a)
    np.testing.assert_array_equal(arr(tnp.isinf(t)), np.isinf(a))
    with np.errstate(invalid="ignore"):
        want = np.nan_to_num(a)
    np.testing.assert_array_equal(arr(tnp.nan_to_num(t)), want)
    assert tnp.nan_to_num(t).dtype.name == name
    np.testing.assert_array_equal(arr(tg.any(t)), np.any(a))
    np.testing.assert_array_equal(arr(tg.all(t)), np.all(a))
    np.testing.assert_array_equal(arr(tg.any(t[-1:])), np.any(a[-1:]))
    np.testing.assert_array_equal(arr(tnp.count_nonzero(t)), np.count_nonzero(a))
    part = "float32" if name == "complex64" else "float64"
    fi = tnp.finfo(getattr(tg, name))
    assert fi.dtype.name == part and fi.eps == np.finfo(name).eps
    z = sample(name, (3, 4))
    tz = tg.tensor(z)
    close(tg.linalg.norm(tz), np.linalg.norm(z), name)
    close(tg.linalg.norm(tz[0], ord=1), np.linalg.norm(z[0], ord=1), name)
    close(tg.linalg.norm(tz, ord=np.inf), np.linalg.norm(z, ord=np.inf), name)
    close(tg.linalg.norm(tz, axis=1), np.linalg.norm(z, axis=1), name)
    close(tg.linalg.norm(tz, ord=2), np.linalg.norm(z, ord=2).astype(z.real.dtype), name)
    with pytest.raises(TypeError, match="trunc"):
        tnp.trunc(tz)
    with pytest.raises(TypeError, match="int"):
        int(tg.tensor(1j))
    with pytest.raises(TypeError, match="not ordered"):
        _ = tz < tz
    with pytest.raises(TypeError, match=f"floor: not supported for {name}$"):
        tg.floor(tz)


# ---- differentiation (JAX's convention) ---------------------------------------------------------
# For an op T with T(dz) = a dz + b conj(dz) at z (a holomorphic op has b = 0), the JVP is T(v) and
# the VJP of a cotangent c is a c + conj(b c): for holomorphic ops the real formulas, for a real
# input the real part. Both satisfy, for every v and c, Re sum(c * T(v)) = Re sum(vjp(c) * v); the
# checks below test that against central differences along real and imaginary directions.

H = 1e-6


def _np_fn(f):
    """f on numpy values through tapegrad (complex128/float64)."""

    def g(*xs):
        return np.asarray(f(*[tg.tensor(np.asarray(x)) for x in xs]))

    return g


def _rand(shape, cplx, seed):
    rng = np.random.default_rng(seed)
    re = rng.uniform(0.3, 1.5, shape)
    if not cplx:
        return re
    return re + 1j * rng.uniform(-1.2, 1.2, shape)


def check_complex_grads(f, args, seed=0):
    """JVP and VJP of f against central differences, each input perturbed along a real and an
    imaginary direction (real inputs along a real one)."""
    args = [np.asarray(a) for a in args]
    fn = _np_fn(f)
    out = fn(*args)
    rng = np.random.default_rng(seed + 100)
    ct = rng.normal(size=out.shape)
    if np.iscomplexobj(out):
        ct = ct + 1j * rng.normal(size=out.shape)
    tens = [tg.tensor(a) for a in args]
    _, vjp_fn = tg.vjp(f, *tens)
    cts = vjp_fn(tg.tensor(np.asarray(ct, out.dtype)))
    for i, a in enumerate(args):
        dirs = [rng.normal(size=a.shape)]
        if np.iscomplexobj(a):
            dirs.append(1j * rng.normal(size=a.shape))
        for v in dirs:
            plus = [x + H * v if k == i else x for k, x in enumerate(args)]
            minus = [x - H * v if k == i else x for k, x in enumerate(args)]
            fd = (fn(*plus) - fn(*minus)) / (2 * H)
            tangents = [
                tg.tensor(np.asarray(v if k == i else np.zeros_like(x), x.dtype))
                for k, x in enumerate(args)
            ]
            _, t_out = tg.jvp(f, tuple(tens), tuple(tangents))
            np.testing.assert_allclose(np.asarray(t_out), fd, rtol=1e-5, atol=1e-6)
            # VJP, through the pairing Re sum(c * T(v)) = Re sum(vjp(c) * v)
            lhs = np.real(np.sum(ct * fd))
            rhs = np.real(np.sum(np.asarray(cts[i]) * v))
            np.testing.assert_allclose(rhs, lhs, rtol=1e-5, atol=1e-6)


tnp = tg.numpy
UNARY_GRAD = {
    "neg": tg.neg,
    "exp": tg.exp,
    "log": tg.log,
    "sqrt": tg.sqrt,
    "square": tg.square,
    "reciprocal": tg.reciprocal,
    "sin": tg.sin,
    "cos": tg.cos,
    "tanh": tg.tanh,
    "real": tnp.real,
    "imag": tnp.imag,
    "conj": tnp.conj,
    "abs": tg.abs,
    "angle": tnp.angle,
    "sum": lambda z: tg.sum(z, 0),
    "mean": tg.mean,
    "cumsum": lambda z: tg.cumsum(z, 1),
    "var": lambda z: tg.var(z, 1),
    "std": tg.std,
    "pow3": lambda z: z**3,
    "pow_half": lambda z: z**0.5,
    "pow_complex": lambda z: z ** (1.5 - 0.5j),
    "scalar_mul": lambda z: (2 - 1j) * z + 1j,
}


@pytest.mark.parametrize("op", list(UNARY_GRAD))
def test_unary_grads(op):
    check_complex_grads(UNARY_GRAD[op], [_rand((2, 3), True, 1)])
    # non-contiguous input
    check_complex_grads(lambda z: UNARY_GRAD[op](z[:, ::2]), [_rand((2, 4), True, 2)])


BINARY_GRAD = {
    "add": tg.add,
    "sub": tg.sub,
    "mul": tg.mul,
    "div": tg.div,
    "pow": tg.pow,
    "matmul": tg.matmul,
    "vdot": tg.vdot,
    "dot": tg.dot,
}


@pytest.mark.parametrize("op", list(BINARY_GRAD))
def test_binary_grads(op):
    f = BINARY_GRAD[op]
    if op in ("matmul", "dot"):
        shapes = [(2, 3), (3, 2)]
    elif op == "vdot":
        shapes = [(3,), (3,)]
    else:
        shapes = [(2, 3), (3,)]  # broadcast
    check_complex_grads(f, [_rand(shapes[0], True, 3), _rand(shapes[1], True, 4)])
    # a real operand with a complex one: its cotangent is the real part
    check_complex_grads(f, [_rand(shapes[0], False, 5), _rand(shapes[1], True, 6)])


def test_grads_real_valued_functions_match_jax():
    # Values JAX gives (jax.grad at z = 1.5 + 0.5j): grad |z|^2 = 2 conj(z), grad Re z = 1,
    # grad Im z = -1j, grad |z| = conj(z) / |z|, grad of z**2 (JAX's holomorphic=True) = 2 z.
    z = tg.tensor(1.5 + 0.5j, tg.complex128)
    zz = 1.5 + 0.5j
    assert np.allclose(tg.grad(lambda z: tg.abs(z) ** 2)(z).item(), 2 * np.conj(zz))
    assert np.allclose(tg.grad(lambda z: tnp.real(z * tnp.conj(z)))(z).item(), 2 * np.conj(zz))
    assert tg.grad(tnp.real)(z).item() == 1
    assert tg.grad(tnp.imag)(z).item() == -1j
    assert np.allclose(tg.grad(tg.abs)(z).item(), np.conj(zz) / abs(zz))
    assert np.allclose(tg.grad(lambda z: z**2)(z).item(), 2 * zz)
    x = tg.tensor([0.3, 0.5], tg.float64)  # real inputs through complex values
    g = tg.grad(lambda x: tnp.real(tg.sum(tg.exp(x * 1j))))(x)
    np.testing.assert_allclose(np.asarray(g), -np.sin([0.3, 0.5]))
    assert g.dtype == tg.float64


def test_complex64_grads_and_transforms():
    zs = np.array([1 + 2j, -0.5 + 1j])
    z = tg.tensor(zs.astype("complex64"))
    g = tg.grad(lambda z: tg.sum(tg.abs(z * z)))(z)
    assert g.dtype == tg.complex64
    np.testing.assert_allclose(np.asarray(g), 2 * np.conj(zs), rtol=1e-5)  # |z^2| = z conj(z)
    # vmap and jit carry complex values through the same prims
    np.testing.assert_array_equal(np.asarray(tg.vmap(tnp.real)(z)), np.real(zs.astype("complex64")))
    np.testing.assert_allclose(np.asarray(tg.jit(tg.abs)(z)), np.abs(zs), rtol=1e-6)


def test_second_order_and_numpy_protocol():
    x = tg.tensor([0.3, 0.5], tg.float64)
    h = tg.grad(lambda x: tg.sum(tg.grad(lambda x: tnp.real(tg.sum(tg.exp(x * 1j))))(x)))(x)
    np.testing.assert_allclose(np.asarray(h), -np.cos([0.3, 0.5]))
    # L(z) = Re sum(grad(|z|^2) conj z) = 2 (x^2 - y^2): grad = 4x + 4iy = 4z
    z = tg.tensor([1 + 1j, 0.5 - 2j], tg.complex128)
    g2 = tg.grad(
        lambda z: tnp.real(tg.sum(tg.grad(lambda z: tg.sum(tg.abs(z) ** 2))(z) * tnp.conj(z)))
    )(z)
    np.testing.assert_allclose(np.asarray(g2), 4 * np.asarray(z))
    # numpy's own functions on complex Tensors give Tensors (the array-function protocol)
    a = np.array([1 + 2j, -3 + 0.5j], "complex64")
    t = tg.tensor(a)
    for f in [np.conj, np.real, np.imag, np.abs, np.angle, np.sum, np.mean, np.exp]:
        r = f(t)
        assert isinstance(r, tg.Tensor), f
        np.testing.assert_allclose(np.asarray(r), f(a), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(np.vdot(t, t)), np.vdot(a, a), rtol=1e-6)


@pytest.mark.parametrize("name", CPLX)
def test_checkpoint_round_trip(name, tmp_path):
    a = sample(name)
    path = str(tmp_path / "c.ckpt")
    tg.save_checkpoint({"z": tg.tensor(a)}, path)
    z = tg.load_checkpoint(path)["z"]
    assert z.dtype.name == name
    np.testing.assert_array_equal(arr(z), a)


def test_custom_rules_carry_complex_values():
    z = tg.tensor([0.5 + 0.3j], tg.complex128)
    f = tg.custom_jvp(lambda z: tg.sin(z))
    f.defjvp(lambda p, t: (tg.sin(p[0]), tg.cos(p[0]) * t[0]))
    g = tg.custom_vjp(lambda z: tg.sin(z))
    g.defvjp(lambda z: (tg.sin(z), (z,)), lambda res, ct: (ct * tg.cos(res[0]),))
    want = np.cos(0.5 + 0.3j)  # grad of Re sin z (holomorphic: the derivative itself)
    for h in (f, g):
        np.testing.assert_allclose(
            np.asarray(tg.grad(lambda z, h=h: tnp.real(tg.sum(h(z))))(z)), [want]
        )
    _, t = tg.jvp(f, (z,), (tg.tensor([1j], tg.complex128),))
    np.testing.assert_allclose(np.asarray(t), [want * 1j])


def test_checkpointed_function_of_complex():
    z = tg.tensor([0.5 + 0.3j], tg.complex128)
    f = tg.checkpoint(lambda z: tg.sin(z))
    g = tg.grad(lambda z: tnp.real(tg.sum(f(z))))(z)
    np.testing.assert_allclose(np.asarray(g), [np.cos(0.5 + 0.3j)])


def test_jit_replays_complex_chains():
    a = (np.arange(40) * 0.1 + 0.3 + 1j * np.linspace(-1, 1, 40)).astype("complex64")
    z = tg.tensor(a)

    def f(z):
        return tg.sum(tg.exp(z * z + 1j) * tg.sin(z) - z / (z + 2))

    jf = tg.jit(f)
    gf = tg.jit(tg.grad(lambda z: tnp.real(f(z))))
    for _ in range(3):  # trace, then replays
        r, g = jf(z), gf(z)
    want = np.sum(np.exp(a * a + 1j) * np.sin(a) - a / (a + 2))
    np.testing.assert_allclose(r.item(), want, rtol=1e-5)
    np.testing.assert_array_equal(np.asarray(g), np.asarray(tg.grad(lambda z: tnp.real(f(z)))(z)))
