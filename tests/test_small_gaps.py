"""Small numpy-compatibility gaps: Tensor .real/.imag/.conj(), tnp.identity, linspace(retstep=),
arange's keyword forms and the complex -> real setitem error."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import numpy as tnp
from tapegrad.testing import check_grads

REAL = ["float32", "float64"]
COMPLEX = ["complex64", "complex128"]
SHAPES = [(), (0,), (3,), (2, 3)]


def _data(shape, dt, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if "complex" in dt:
        a = a + 1j * rng.standard_normal(shape)
    return np.asarray(a, dtype=dt)


def _tol(dt):
    return 1e-6 if dt in ("float32", "complex64") else 1e-12


# ---- Tensor.real, .imag, .conj(), .conjugate() -------------------------------------------------


@pytest.mark.parametrize("dt", REAL + COMPLEX)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("transposed", [False, True])
def test_parts_values_match_numpy(dt, shape, transposed):
    a = _data(shape, dt)
    if transposed:
        a = a.T
    t = tg.tensor(a)
    if transposed and a.ndim == 2:
        t = tg.tensor(a.T).T  # a non-contiguous Tensor
        assert not t.is_contiguous()
    for name, got in [
        ("real", t.real),
        ("imag", t.imag),
        ("conj", t.conj()),
        ("conjugate", t.conjugate()),
    ]:
        want = getattr(a, name)() if name.startswith("conj") else getattr(a, name)
        g = got.numpy()
        assert g.dtype == want.dtype, (name, g.dtype, want.dtype)
        assert g.shape == want.shape, name
        np.testing.assert_array_equal(g, want, err_msg=name)


def test_real_of_real_tensor_is_itself_and_imag_is_zeros():
    x = tg.tensor([1.0, -2.0, np.inf, np.nan])
    assert x.real is x  # numpy's x.real is a view of x; here the tensor itself
    np.testing.assert_array_equal(x.imag.numpy(), np.zeros(4, np.float32))
    assert not np.signbit(x.imag.numpy()).any()  # no -0.0 (numpy's imag of -2.0 is +0.0)
    c = x.conj()
    assert c is not x  # numpy's conj of a real array is a new array
    np.testing.assert_array_equal(c.numpy(), x.numpy())


@pytest.mark.parametrize("dt", ["int32", "int64", "bool"])
def test_parts_of_integer_and_bool_tensors(dt):
    a = np.array([0, 1, 3], dtype=dt)
    t = tg.tensor(a)
    np.testing.assert_array_equal(t.real.numpy(), a.real)
    np.testing.assert_array_equal(t.imag.numpy(), a.imag)
    assert t.imag.numpy().dtype == a.imag.dtype
    np.testing.assert_array_equal(t.conj().numpy(), a.conj())


def test_complex_parts_are_new_tensors_and_not_assignable():
    z = tg.tensor([1 + 2j, 3 - 4j])
    r = z.real
    r[0] = 10.0  # tapegrad has no strided views of the parts: z keeps its value
    assert z.tolist() == [(1 + 2j), (3 - 4j)]
    with pytest.raises(AttributeError):
        z.real = tg.tensor([0.0, 0.0])
    with pytest.raises(AttributeError):
        z.imag = tg.tensor([0.0, 0.0])


@pytest.mark.parametrize("dt", REAL)
def test_real_parts_differentiable(dt):
    x = tg.tensor(_data((3,), "float64"), dt)
    check_grads(lambda v: v.real * v, (x,), order=2)
    check_grads(lambda v: v.conj() * v, (x,), order=2)
    check_grads(lambda v: v.imag + v * v, (x,), order=2)
    g = tg.grad(lambda v: (v.real + v.imag).sum())(x)
    np.testing.assert_array_equal(g.numpy(), np.ones(3, dt))


def test_complex_parts_follow_the_functions_gradients():
    # JAX's convention, the same as tnp.real / tnp.imag / tnp.conj
    z = tg.tensor(_data((3,), "complex128"))
    for attr, fn in [
        (lambda v: v.real, tnp.real),
        (lambda v: v.imag, tnp.imag),
        (lambda v: v.conj().real * 2.0, lambda v: tnp.conj(v).real * 2.0),
    ]:
        ga = tg.grad(lambda v, f=attr: (f(v) ** 2).sum())(z)
        gf = tg.grad(lambda v, f=fn: (tnp.real(f(v)) ** 2).sum())(z)
        np.testing.assert_allclose(ga.numpy(), gf.numpy(), rtol=1e-12)
    # d/dz of sum(real(z)^2) in JAX's convention: 2 real(z) (the conjugate of df/dz-bar * 2)
    g = tg.grad(lambda v: (v.real**2).sum())(z)
    np.testing.assert_allclose(g.numpy(), 2 * z.numpy().real, rtol=1e-12)
    g = tg.grad(lambda v: (v.imag**2).sum())(z)
    np.testing.assert_allclose(g.numpy(), -2j * z.numpy().imag, rtol=1e-12)


def test_parts_under_vmap_and_jit():
    z = tg.tensor(_data((4, 3), "complex64"))
    np.testing.assert_array_equal(tg.vmap(lambda v: v.imag)(z).numpy(), z.numpy().imag)
    np.testing.assert_array_equal(tg.jit(lambda v: v.conj())(z).numpy(), z.numpy().conj())


# ---- tnp.identity --------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 3, np.int32(2)])
@pytest.mark.parametrize("dt", [None, "float64", "int32", "complex64", "bool"])
def test_identity_matches_numpy(n, dt):
    got = tnp.identity(n, dtype=dt) if dt is not None else tnp.identity(n)
    want = np.identity(n, dtype=dt if dt is not None else np.float32)  # float32: tapegrad's default
    assert got.numpy().dtype == want.dtype
    np.testing.assert_array_equal(got.numpy(), want)


@pytest.mark.parametrize(
    "n, exc, frag",
    [
        (-1, ValueError, "negative dimensions"),
        (2.5, TypeError, "identity: n must be an integer"),
        (True, TypeError, "identity: n must be an integer"),
        ("3", TypeError, "identity: n must be an integer"),
    ],
)
def test_identity_errors(n, exc, frag):
    with pytest.raises(exc, match=frag):
        tnp.identity(n)
    with pytest.raises(exc):
        np.identity(n)  # numpy refuses the same with the same type


# ---- linspace(retstep=True) ------------------------------------------------------------------------


@pytest.mark.parametrize("num", [0, 1, 2, 5])
@pytest.mark.parametrize("endpoint", [True, False])
@pytest.mark.parametrize("dt", [None, "float64", "int64"])
def test_linspace_retstep_scalars(num, endpoint, dt):
    kw = {} if dt is None else {"dtype": dt}
    got, step = tnp.linspace(-1.5, 2.0, num, endpoint, retstep=True, **kw)
    want, wstep = np.linspace(-1.5, 2.0, num, endpoint, retstep=True, dtype=dt or np.float32)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    assert got.numpy().dtype == want.dtype
    assert isinstance(step, tg.Tensor) and step.shape == ()
    assert str(step.dtype) == ("Float64" if dt in ("float64", "int64") else "Float32")
    np.testing.assert_allclose(float(step), wstep, rtol=1e-6)  # NaN == NaN here
    # without retstep: the samples alone, as before
    alone = tnp.linspace(-1.5, 2.0, num, endpoint, **kw)
    np.testing.assert_array_equal(alone.numpy(), got.numpy())


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_linspace_retstep_arrays(axis):
    a, b = np.array([0.0, 1.0]), np.array([2.0, 5.0])
    got, step = tnp.linspace(
        tg.tensor(a, "float64"), tg.tensor(b, "float64"), 3, axis=axis, retstep=True
    )
    want, wstep = np.linspace(a, b, 3, axis=axis, retstep=True)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    np.testing.assert_allclose(step.numpy(), wstep, rtol=1e-12)


def test_linspace_retstep_complex_and_differentiable():
    got, step = tnp.linspace(0, 1 + 2j, 3, retstep=True)
    want, wstep = np.linspace(0, 1 + 2j, 3, retstep=True)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    assert complex(step) == pytest.approx(complex(wstep))
    a, b = tg.tensor(0.5, tg.float64), tg.tensor(2.0, tg.float64)
    check_grads(lambda s, e: tnp.linspace(s, e, 4, retstep=True)[1] * s, (a, b), order=2)
    gs, ge = tg.grad(lambda s, e: tnp.linspace(s, e, 5, retstep=True)[1], grad_position=(0, 1))(
        a, b
    )
    assert (float(gs), float(ge)) == (-0.25, 0.25)


def test_linspace_retstep_is_keyword_only():
    with pytest.raises(TypeError):
        tnp.linspace(0, 1, 5, True, True, None, 0, True)


# ---- arange's keyword forms ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, kw",
    [
        ((), {"stop": 5}),
        ((), {"stop": 5.0}),
        ((), {"stop": 7, "step": 2}),
        ((), {"start": 1, "stop": 5}),
        ((), {"start": 1, "stop": 5, "step": 2}),
        ((2,), {"stop": 6}),
        ((6,), {}),
        ((2, 6), {"step": 3, "dtype": "float64"}),
        ((5,), {"stop": None}),
    ],
)
def test_arange_keywords_match_numpy(args, kw):
    got = tg.arange(*args, **kw)
    want = np.arange(*args, **kw)
    np.testing.assert_array_equal(got.numpy(), want)
    if want.dtype.kind == "i":
        assert str(got.dtype) == "Int64"
    np.testing.assert_array_equal(tnp.arange(*args, **kw).numpy(), want)


@pytest.mark.parametrize(
    "args, kw, frag",
    [
        ((), {}, "requires stop to be specified"),
        ((), {"start": 5}, "requires stop to be specified"),
        ((), {"step": 2}, "requires stop to be specified"),
        ((1,), {"start": 1, "stop": 5}, "multiple values for argument 'start'"),
        ((), {"stop": 5, "begin": 1}, "unexpected keyword argument 'begin'"),
    ],
)
def test_arange_keyword_errors(args, kw, frag):
    with pytest.raises(TypeError, match=frag):
        tg.arange(*args, **kw)
    with pytest.raises(TypeError):
        np.arange(*args, **kw)


# ---- complex -> real setitem -----------------------------------------------------------------------


@pytest.mark.parametrize("dst", ["float32", "float64", "int64", "bool"])
@pytest.mark.parametrize(
    "value",
    [
        lambda: 1 + 2j,
        lambda: tg.tensor([1 + 2j, 3j]),
        lambda: tg.tensor(1 + 0j, tg.complex128),
        lambda: np.array([1 + 2j, 3j]),
    ],
)
@pytest.mark.parametrize("index", [0, slice(None), Ellipsis])
def test_setitem_complex_into_real_names_setitem(dst, value, index):
    x = tg.zeros(2, dtype=dst)
    with pytest.raises(
        TypeError,
        match=r"setitem: cannot write a complex\d+ value into .*imaginary part would be discarded",
    ):
        x[index] = value()
    assert x.tolist() == [0, 0]  # nothing was written


def test_setitem_complex_into_complex_still_works():
    z = tg.zeros(2, dtype=tg.complex64)
    z[0] = 1 + 2j
    z[1:] = tg.tensor([3j], tg.complex128)
    assert z.tolist() == [(1 + 2j), 3j]
    x = tg.zeros(2)
    x[:] = tg.tensor([1 + 2j, 3j]).real  # the documented way
    assert x.tolist() == [1.0, 0.0]


def test_astype_error_unchanged():
    with pytest.raises(TypeError, match="astype: cannot cast complex64 to float32"):
        tg.tensor([1j]).astype(tg.float32)
