"""The numpy functions composed from tapegrad's differentiable ops (python/tapegrad/_numpy_extra.py):
values against numpy, derivatives against finite differences (check_grads, first and second order)."""

from __future__ import annotations

import numpy as np
import pytest

import tapegrad as tg


def test_pow_zero_exponent_second_derivative_at_zero_is_zero():
    # grad(grad(x ** 0)) at 0 was nan: the unused branch b * x^(b-1) of the pow rule is inf at 0.
    f = lambda x: tg.pow(x, 0.0)
    for dt in (tg.float32, tg.float64):
        x = tg.tensor(0.0, dt)
        assert float(tg.grad(f)(x)) == 0.0
        assert float(tg.grad(tg.grad(f))(x)) == 0.0
        assert float(tg.hessian(f)(x)) == 0.0
    # the rule away from b == 0 is unchanged
    assert np.isclose(float(tg.grad(tg.grad(lambda x: x**3.0))(tg.tensor(2.0))), 12.0)


tnp = tg.numpy
RNG = np.random.default_rng(0)
A = RNG.uniform(-2.0, 2.0, (3, 4))
B = RNG.uniform(-2.0, 2.0, (3, 4))
POS = RNG.uniform(1.2, 3.0, (3, 4))  # > 1 (arccosh)
UNIT = RNG.uniform(-0.8, 0.8, (3, 4))  # in (-1, 1) (arctanh)
SQ = RNG.uniform(-2.0, 2.0, (4, 4))
V3 = RNG.uniform(-2.0, 2.0, (2, 3))

# name, function of tapegrad.numpy, numpy function (same call), inputs; all differentiable
UNARY_BINARY = [
    ("divide", lambda m, a, b: m.divide(a, b + 5.0), (A, B)),
    ("multiply", lambda m, a, b: m.multiply(a, b), (A, B)),
    ("subtract", lambda m, a, b: m.subtract(a, b), (A, B)),
    ("negative", lambda m, a: m.negative(a), (A,)),
    ("positive", lambda m, a: m.positive(a), (A,)),
    ("remainder", lambda m, a: m.remainder(a, 0.7), (A,)),
    ("fmod", lambda m, a: m.fmod(a, 0.7), (A,)),
    ("hypot", lambda m, a, b: m.hypot(a, b), (A, B)),
    ("logaddexp", lambda m, a, b: m.logaddexp(a, b), (A, B)),
    ("logaddexp2", lambda m, a, b: m.logaddexp2(a, b), (A, B)),
    ("copysign", lambda m, a, b: m.copysign(a, b), (A, B)),
    ("fmin", lambda m, a, b: m.fmin(a, b), (A, B)),
    ("fmax", lambda m, a, b: m.fmax(a, b), (A, B)),
    ("sinc", lambda m, a: m.sinc(a), (A,)),
    ("log10", lambda m, a: m.log10(a), (POS,)),
    ("degrees", lambda m, a: m.degrees(a), (A,)),
    ("radians", lambda m, a: m.radians(a), (A,)),
    ("deg2rad", lambda m, a: m.deg2rad(a), (A,)),
    ("rad2deg", lambda m, a: m.rad2deg(a), (A,)),
    ("arcsinh", lambda m, a: m.arcsinh(a), (A,)),
    ("arccosh", lambda m, a: m.arccosh(a), (POS,)),
    ("arctanh", lambda m, a: m.arctanh(a), (UNIT,)),
    ("asin", lambda m, a: m.asin(a) if m is tnp else m.arcsin(a), (UNIT,)),
    ("acos", lambda m, a: m.acos(a) if m is tnp else m.arccos(a), (UNIT,)),
    ("atan", lambda m, a: m.atan(a) if m is tnp else m.arctan(a), (A,)),
    ("atan2", lambda m, a, b: m.atan2(a, b) if m is tnp else m.arctan2(a, b), (A, POS)),
    ("asinh", lambda m, a: m.asinh(a) if m is tnp else m.arcsinh(a), (A,)),
    ("acosh", lambda m, a: m.acosh(a) if m is tnp else m.arccosh(a), (POS,)),
    ("atanh", lambda m, a: m.atanh(a) if m is tnp else m.arctanh(a), (UNIT,)),
    ("pow", lambda m, a, b: m.pow(a, b) if m is tnp else m.power(a, b), (POS, B)),
    ("moveaxis", lambda m, a: m.moveaxis(a.reshape(3, 2, 2), 0, -1), (A,)),
    (
        "permute_dims",
        lambda m, a: m.permute_dims(a, (1, 0)) if m is tnp else m.transpose(a, (1, 0)),
        (A,),
    ),
    ("roll", lambda m, a: m.roll(a, 2, axis=1), (A,)),
    ("roll_flat", lambda m, a: m.roll(a, -5), (A,)),
    ("roll_tuple", lambda m, a: m.roll(a, (1, -1), axis=(0, 1)), (A,)),
    ("tril", lambda m, a: m.tril(a, -1), (A,)),
    ("triu", lambda m, a: m.triu(a, 1), (A,)),
    ("diag_vector", lambda m, a: m.diag(a[0], 1), (A,)),
    ("diag_matrix", lambda m, a: m.diag(a, -1), (SQ,)),
    ("diagonal", lambda m, a: m.diagonal(a.reshape(2, 2, 3), 1, 1, 2), (A,)),
    (
        "matrix_transpose",
        lambda m, a: m.matrix_transpose(a) if m is tnp else m.swapaxes(a, -1, -2),
        (A,),
    ),
    ("tensordot", lambda m, a, b: m.tensordot(a, b, axes=([0], [0])), (A, B)),
    ("tensordot_int", lambda m, a, b: m.tensordot(a, b.reshape(4, 3), 1), (A, B)),
    ("vecdot", lambda m, a, b: m.vecdot(a, b) if m is tnp else (a * b).sum(-1), (A, B)),
    ("inner", lambda m, a, b: m.inner(a, b), (A, B)),
    ("kron", lambda m, a, b: m.kron(a[:2, :2], b[:2, :3]), (A, B)),
    ("cross", lambda m, a, b: m.cross(a, b), (V3, V3[::-1])),
    ("diff", lambda m, a: m.diff(a, n=2, axis=1), (A,)),
    ("diff_prepend", lambda m, a, b: m.diff(a, axis=0, prepend=b[:1], append=1.0), (A, B)),
    ("vstack", lambda m, a, b: m.vstack([a, b[0]]), (A, B)),
    ("hstack", lambda m, a, b: m.hstack([a, b]), (A, B)),
    ("dstack", lambda m, a, b: m.dstack([a, b]), (A, B)),
    ("column_stack", lambda m, a, b: m.column_stack([a[0], b[0]]), (A, B)),
    ("atleast_3d", lambda m, a: m.atleast_3d(a), (A,)),
    ("rot90", lambda m, a: m.rot90(a), (A,)),
    ("rot90_k3", lambda m, a: m.rot90(a, 3, axes=(1, 0)), (A,)),
    ("rot90_k2", lambda m, a: m.rot90(a, 2), (A,)),
    (
        "pad_constant",
        lambda m, a: m.pad(a, ((1, 0), (2, 1)), constant_values=((1.5, 2.5), (3.5, 4.5))),
        (A,),
    ),
    ("pad_edge", lambda m, a: m.pad(a, 2, mode="edge"), (A,)),
    ("pad_reflect", lambda m, a: m.pad(a, ((2, 1), (3, 3)), mode="reflect"), (A,)),
    ("pad_symmetric", lambda m, a: m.pad(a, ((2, 1), (3, 5)), mode="symmetric"), (A,)),
    ("pad_wrap", lambda m, a: m.pad(a, ((2, 4), (1, 0)), mode="wrap"), (A,)),
    ("select", lambda m, a, b: m.select([a < -1, a > 1], [a * b, a + b], -2.0), (A, B)),
    ("nan_to_num", lambda m, a: m.nan_to_num(a), (A,)),
    (
        "cumulative_sum",
        lambda m, a: (
            m.cumulative_sum(a, axis=1, include_initial=True)
            if m is tnp
            else np.concatenate([np.zeros((3, 1)), np.cumsum(a, axis=1)], 1)
        ),
        (A,),
    ),
    (
        "cumulative_prod",
        lambda m, a: m.cumulative_prod(a, axis=0) if m is tnp else np.cumprod(a, axis=0),
        (A,),
    ),
    ("einsum_sublist", lambda m, a, b: m.einsum(a, [0, 1], b, [0, 2], [1, 2]), (A, B)),
    ("einsum_sublist_ellipsis", lambda m, a: m.einsum(a, [Ellipsis, 0], [Ellipsis]), (A,)),
]


@pytest.mark.parametrize("name,fn,args", UNARY_BINARY, ids=[c[0] for c in UNARY_BINARY])
@pytest.mark.parametrize("dtype", [tg.float32, tg.float64], ids=["f32", "f64"])
def test_values_match_numpy(name, fn, args, dtype):
    got = fn(tnp, *[tg.tensor(a, dtype) for a in args])
    np_dt = np.float32 if dtype == tg.float32 else np.float64
    want = fn(np, *[a.astype(np_dt) for a in args])
    if isinstance(got, (tuple, list)):
        got, want = got[0], want[0]
    assert isinstance(got, tg.Tensor)
    tol = 1e-5 if dtype == tg.float32 else 1e-12
    np.testing.assert_allclose(got.numpy(), np.asarray(want), rtol=tol, atol=tol)


@pytest.mark.parametrize("name,fn,args", UNARY_BINARY, ids=[c[0] for c in UNARY_BINARY])
@pytest.mark.parametrize("dtype", [tg.float32, tg.float64], ids=["f32", "f64"])
def test_gradients_first_and_second_order(name, fn, args, dtype):
    xs = tuple(tg.tensor(a, dtype) for a in args)
    tg.testing.check_grads(lambda *xs: fn(tnp, *xs), xs, order=2)


@pytest.mark.parametrize("name,fn,args", UNARY_BINARY[:30], ids=[c[0] for c in UNARY_BINARY[:30]])
def test_elementwise_functions_vmap(name, fn, args):
    xs = tuple(tg.tensor(a, tg.float64) for a in args)
    got = tg.vmap(lambda *r: fn(tnp, *r))(*xs)
    want = np.stack([fn(tnp, *[x[i] for x in xs]).numpy() for i in range(3)])
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)


SPECIAL = np.array([0.0, -0.0, 1.5, -2.5, np.inf, -np.inf, np.nan, 3.0])


@pytest.mark.parametrize("name", ["isinf", "isposinf", "isneginf", "signbit", "trunc"])
def test_special_values_match_numpy(name):
    got = getattr(tnp, name)(tg.tensor(SPECIAL, tg.float64)).numpy()
    np.testing.assert_array_equal(got, getattr(np, name)(SPECIAL))


@pytest.mark.parametrize(
    "name", ["hypot", "logaddexp", "logaddexp2", "fmin", "fmax", "copysign", "fmod"]
)
def test_binary_special_values_match_numpy(name):
    a, b = np.meshgrid(SPECIAL, SPECIAL)
    with np.errstate(all="ignore"):
        want = getattr(np, name)(a, b)
    got = getattr(tnp, name)(tg.tensor(a, tg.float64), tg.tensor(b, tg.float64)).numpy()
    if name == "copysign":  # the sign of a NaN is not read (documented)
        keep = ~np.isnan(b)
        got, want = got[keep], want[keep]
    np.testing.assert_allclose(got, want, rtol=1e-14, equal_nan=True)


def test_big_and_small_values_keep_precision():
    x = np.array([1e-20, 1e-5, 1e10, 1e30, -1e30])
    np.testing.assert_allclose(
        tnp.arcsinh(tg.tensor(x, tg.float64)).numpy(), np.arcsinh(x), rtol=1e-14
    )
    y = np.array([1.0 + 1e-10, 1e10, 1e30])
    np.testing.assert_allclose(
        tnp.arccosh(tg.tensor(y, tg.float64)).numpy(), np.arccosh(y), rtol=1e-9
    )
    h = [1e-200, 1e200]
    np.testing.assert_allclose(
        tnp.hypot(tg.tensor(h, tg.float64), tg.tensor(h, tg.float64)).numpy(),
        np.hypot(h, h),
        rtol=1e-15,
    )
    h32 = np.array([1e-30, 3e38], np.float32)
    np.testing.assert_allclose(
        tnp.hypot(tg.tensor(h32), tg.tensor(h32 / 2)).numpy(), np.hypot(h32, h32 / 2), rtol=1e-6
    )
    z = np.array([1e-8, 1e-3, 0.5, 0.99])
    np.testing.assert_allclose(tnp.sinc(tg.tensor(z, tg.float64)).numpy(), np.sinc(z), rtol=1e-14)


def test_derivatives_at_the_awkward_points():
    # sinc at 0: f' = 0 and f'' = -pi^2/3; hypot and logaddexp at ties / zeros.
    x0 = tg.tensor(0.0, tg.float64)
    assert float(tg.grad(tnp.sinc)(x0)) == 0.0
    assert float(tg.grad(tg.grad(tnp.sinc))(x0)) == pytest.approx(-(np.pi**2) / 3, rel=1e-12)
    assert float(tg.grad(tnp.arcsinh)(x0)) == 1.0
    assert tg.grad(lambda a, b: tnp.hypot(a, b), grad_position=(0, 1))(x0, x0) == (0.0, 0.0)
    ga, gb = tg.grad(tnp.logaddexp, grad_position=(0, 1))(
        tg.tensor(1.0, tg.float64), tg.tensor(1.0, tg.float64)
    )
    assert (float(ga), float(gb)) == (0.5, 0.5)
    tg.testing.check_grads(tnp.sinc, (tg.tensor([0.0, 5e-4, -2e-3], tg.float64),), order=2)


def test_integer_functions():
    a = np.array([-7, -4, 0, 5, 9])
    b = np.array([3, -3, 2, 2, -4])
    np.testing.assert_array_equal(tnp.fmod(tg.tensor(a), tg.tensor(b)).numpy(), np.fmod(a, b))
    np.testing.assert_array_equal(
        tnp.remainder(tg.tensor(a), tg.tensor(b)).numpy(), np.remainder(a, b)
    )
    s = np.array([0, 1, 3, 62, 63, 64, 70])
    x = np.array([5, -5, 7, 1, -1, 3, -9])
    np.testing.assert_array_equal(
        tnp.bitwise_left_shift(tg.tensor(x), tg.tensor(s)).numpy(), np.left_shift(x, s)
    )
    np.testing.assert_array_equal(
        tnp.bitwise_right_shift(tg.tensor(x), tg.tensor(s)).numpy(), np.right_shift(x, s)
    )
    np.testing.assert_array_equal((tg.tensor(x) << 2).numpy(), x << 2)
    np.testing.assert_array_equal((tg.tensor(x) >> 1).numpy(), x >> 1)
    x32 = x.astype(np.int32)
    s32 = np.array([0, 1, 3, 30, 31, 32, 33], np.int32)
    np.testing.assert_array_equal(
        tnp.right_shift(tg.tensor(x32), tg.tensor(s32)).numpy(), np.right_shift(x32, s32)
    )
    np.testing.assert_array_equal(
        tnp.bitwise_xor(tg.tensor(x), tg.tensor(b.tolist() + [1, 2])).numpy(),
        np.bitwise_xor(x, b.tolist() + [1, 2]),
    )
    np.testing.assert_array_equal(tnp.bitwise_invert(tg.tensor(x)).numpy(), ~x)
    with pytest.raises(TypeError, match="bitwise_and: needs integer or Bool tensors, got Float32"):
        tnp.bitwise_and(tg.tensor([1.0]), tg.tensor([1.0]))
    np.testing.assert_array_equal(tnp.trunc(tg.tensor(a)).numpy(), a)


def test_shape_functions_match_numpy():
    x = tg.tensor(A)
    assert [u.tolist() for u in tnp.unstack(x, axis=1)] == [A[:, i].tolist() for i in range(4)]
    a, b = tnp.broadcast_arrays(tg.zeros((2, 1)), tg.ones(3))
    assert a.shape == b.shape == (2, 3)
    for indexing in ("xy", "ij"):
        got = tnp.meshgrid(tg.arange(3), tg.arange(2), tg.arange(4), indexing=indexing)
        want = np.meshgrid(np.arange(3), np.arange(2), np.arange(4), indexing=indexing)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g.numpy(), w)
        sparse = tnp.meshgrid(tg.arange(3), tg.arange(2), indexing=indexing, sparse=True)
        assert [s.shape for s in sparse] == [
            s.shape for s in np.meshgrid(np.arange(3), np.arange(2), indexing=indexing, sparse=True)
        ]
    for n in (1, 3, 5):
        got = tnp.array_split(tg.arange(7), n)
        assert [p.tolist() for p in got] == [p.tolist() for p in np.array_split(np.arange(7), n)]
    assert [p.shape for p in tnp.hsplit(tg.ones((2, 4)), [1, 3])] == [(2, 1), (2, 2), (2, 1)]
    with pytest.raises(ValueError, match="does not result in an equal division"):
        tnp.vsplit(tg.ones((3, 2)), 2)
    assert tnp.atleast_1d(tg.tensor(1.0), tg.ones(2))[0].shape == (1,)
    assert tnp.atleast_2d(tg.tensor(1.0)).shape == (1, 1)
    for k in range(-2, 3):
        np.testing.assert_array_equal(tnp.diag(tg.tensor(SQ), k).numpy(), np.diag(SQ, k))
        np.testing.assert_array_equal(
            tnp.diag(tg.tensor([1, 2, 3]), k).numpy(), np.diag([1, 2, 3], k)
        )
    np.testing.assert_array_equal(tnp.diagonal(tg.tensor(A), 2).numpy(), np.diagonal(A, 2))
    assert tnp.diagonal(tg.tensor(A), 9).shape == (0,)
    for mode in ("edge", "wrap", "reflect", "symmetric"):
        x1 = np.arange(1, 4)
        for w in (1, 2, 5, 7):
            np.testing.assert_array_equal(
                tnp.pad(tg.tensor(x1), (w, w // 2), mode=mode).numpy(),
                np.pad(x1, (w, w // 2), mode=mode),
            )
    with pytest.raises(ValueError, match="pad: mode 'mean' is not supported"):
        tnp.pad(tg.ones(2), 1, mode="mean")


def test_search_and_count():
    sorted_ = np.array([1.0, 2.0, 2.0, 3.0, np.nan])
    v = np.array([[0.0, 2.0, 2.5], [3.0, 9.0, np.nan]])
    for side in ("left", "right"):
        got = tnp.searchsorted(tg.tensor(sorted_, tg.float64), tg.tensor(v, tg.float64), side=side)
        assert got.dtype == tg.int64
        np.testing.assert_array_equal(got.numpy(), np.searchsorted(sorted_, v, side=side))
    unsorted = np.array([3.0, 1.0, 2.0])
    got = tnp.searchsorted(
        tg.tensor(unsorted), tg.tensor([2.5]), sorter=tg.tensor(np.argsort(unsorted))
    )
    assert got.tolist() == np.searchsorted(unsorted, [2.5], sorter=np.argsort(unsorted)).tolist()
    x = np.array([[1, 0, 2], [0, 0, 3]])
    assert int(tnp.count_nonzero(tg.tensor(x))) == 3
    np.testing.assert_array_equal(
        tnp.count_nonzero(tg.tensor(x), axis=0, keepdims=True).numpy(),
        np.count_nonzero(x, axis=0, keepdims=True),
    )
    nz = tnp.nonzero(tg.tensor(x))
    for g, w in zip(nz, np.nonzero(x)):
        np.testing.assert_array_equal(g.numpy(), w)
    with pytest.raises(TypeError, match="nonzero: the result's shape depends on the values"):
        tg.grad(lambda x: tnp.nonzero(x)[0].sum() * x.sum())(tg.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="cumulative_sum: axis is required"):
        tnp.cumulative_sum(tg.ones((2, 2)))
    assert tnp.cumulative_sum(tg.tensor([True, True])).tolist() == [1, 2]


def test_isclose_allclose():
    a = np.array([1.0, 1.0, np.inf, -np.inf, np.nan, 0.0, 1e10])
    b = np.array([1.0 + 1e-9, 1.1, np.inf, np.inf, np.nan, 1e-9, 1.00001e10])
    for equal_nan in (False, True):
        np.testing.assert_array_equal(
            tnp.isclose(
                tg.tensor(a, tg.float64), tg.tensor(b, tg.float64), equal_nan=equal_nan
            ).numpy(),
            np.isclose(a, b, equal_nan=equal_nan),
        )
    assert tnp.allclose(tg.tensor([1.0, 2.0]), tg.tensor([1.0, 2.0])) is True
    assert tnp.allclose(tg.tensor([1.0, 2.0]), tg.tensor([1.0, 2.1])) is False


def test_round_decimals():
    x = np.array([1.2345, -2.5, 2.5, 0.125, 123.456])
    for d in (0, 1, 2, -1):
        np.testing.assert_allclose(
            tnp.round(tg.tensor(x, tg.float64), d).numpy(), np.round(x, d), rtol=1e-15
        )
    assert float(tg.grad(lambda x: tnp.round(x, 2) + x)(tg.tensor(1.2345))) == 1.0


def test_clip_min_max_keywords():
    x = tg.tensor(A, tg.float64)
    np.testing.assert_array_equal(tnp.clip(x, min=-1.0, max=1.0).numpy(), np.clip(A, -1.0, 1.0))
    np.testing.assert_array_equal(tnp.clip(x, max=0.5).numpy(), np.clip(A, None, 0.5))


def test_einsum_sublist_form_matches_string_form():
    a, b = tg.tensor(A), tg.tensor(B)
    np.testing.assert_allclose(
        tnp.einsum(a, [0, 1], b, [0, 1]).numpy(), tnp.einsum("ij,ij", a, b).numpy()
    )
    with pytest.raises(ValueError, match="einsum: subscript"):
        tnp.einsum(a, ["i", "j"])


# ---- linspace -------------------------------------------------------------------------------------


def test_linspace_is_differentiable_in_start_and_stop():
    # the derivative was silently zero: d/dstart sum = sum(1 - t), d/dstop = sum(t)
    for endpoint in (True, False):
        t = np.linspace(0.0, 1.0, 5, endpoint=endpoint)
        ga, gb = tg.grad(
            lambda a, b, endpoint=endpoint: (
                tg.linspace(a, b, 5, endpoint=endpoint) * tg.arange(5.0)
            ).sum(),
            grad_position=(0, 1),
        )(tg.tensor(0.5), tg.tensor(2.0))
        assert float(ga) == pytest.approx(((1 - t) * np.arange(5)).sum(), rel=1e-6)
        assert float(gb) == pytest.approx((t * np.arange(5)).sum(), rel=1e-6)
    tg.testing.check_grads(
        lambda a, b: tnp.linspace(a, b, 7) ** 2,
        (tg.tensor(0.5, tg.float64), tg.tensor(2.0, tg.float64)),
        order=2,
    )


def test_linspace_with_array_endpoints_matches_numpy():
    start, stop = np.array([0.0, 1.0]), np.array([[2.0, 3.0], [4.0, 5.0]])
    for axis in (0, 1, -1):
        got = tnp.linspace(tg.tensor(start, tg.float64), tg.tensor(stop, tg.float64), 4, axis=axis)
        np.testing.assert_allclose(got.numpy(), np.linspace(start, stop, 4, axis=axis), rtol=1e-15)
    got = tnp.linspace(tg.tensor(1.0), tg.tensor(3.0), 3, dtype=tg.int32)
    assert got.dtype == tg.int32 and got.tolist() == [1, 2, 3]
    assert tnp.linspace(tg.tensor(1.0, tg.float64), 2.0, 1).tolist() == [1.0]
    assert tnp.linspace(tg.tensor(1.0), 2.0, 0).shape == (0,)


def test_numpy_namespace_reexports_every_extra_function():
    from tapegrad import _numpy_extra

    for name in _numpy_extra.__all__:
        assert getattr(tnp, name) is getattr(_numpy_extra, name), name


def test_isin_matches_numpy():
    a = np.array([[1.0, np.nan], [2.0, 3.0]])
    b = np.array([np.nan, 3.0, 7.0])
    for invert in (False, True):
        np.testing.assert_array_equal(
            tnp.isin(tg.tensor(a), tg.tensor(b), invert=invert).numpy(),
            np.isin(a, b, invert=invert),
        )
    assert tnp.isin(tg.tensor([1, 2]), tg.tensor(np.zeros(0, np.int64))).tolist() == [False, False]


def test_real_conj_imag_of_real_tensors():
    x = tg.tensor([1.5, -2.0], tg.float64)
    assert tnp.real(x).tolist() == tnp.conj(x).tolist() == [1.5, -2.0]
    assert tnp.imag(x).tolist() == [0.0, 0.0]
    assert tnp.imag(tg.tensor([1, 2])).tolist() == [0, 0]
    tg.testing.check_grads(lambda x: tnp.real(x) * tnp.conj(x) + tnp.imag(x), (x,), order=2)
    assert tnp.bool is tg.bool_


X3 = RNG.normal(size=(4, 3, 3))
COMPOSITES = {
    "tril": lambda x: tnp.tril(x),
    "diag_vector": lambda x: tnp.diag(x[0], 1),
    "diag_matrix": lambda x: tnp.diag(x),
    "pad_reflect": lambda x: tnp.pad(x, 1, mode="reflect"),
    "pad_constant": lambda x: tnp.pad(x, ((1, 0), (0, 2)), constant_values=2.0),
    "roll": lambda x: tnp.roll(x, 1),
    "diff": lambda x: tnp.diff(x, axis=0),
    "tensordot": lambda x: tnp.tensordot(x, x, 1),
    "cross": lambda x: tnp.cross(x[0], x[1]),
    "kron": lambda x: tnp.kron(x, x[:2, :2]),
    "diagonal": lambda x: tnp.diagonal(x, 1),
    "searchsorted": lambda x: tnp.searchsorted(tg.tensor([-1.0, 0.0, 1.0], tg.float64), x),
    "linspace": lambda x: tnp.linspace(x[0, 0], x[1, 1], 4),
    "rot90": lambda x: tnp.rot90(x),
    "hypot": lambda x: tnp.hypot(x, x.mT),
    "select": lambda x: tnp.select([x > 0], [x * 2], 0.5),
    "cumulative_sum": lambda x: tnp.cumulative_sum(x, axis=1, include_initial=True),
    "count_nonzero": lambda x: tnp.count_nonzero(x > 0, axis=0),
    "isclose": lambda x: tnp.isclose(x, x.mT),
    "einsum_sublist": lambda x: tnp.einsum(x, [0, 1], x, [1, 2], [0, 2]),
    "vstack": lambda x: tnp.vstack([x, x[0]]),
    "meshgrid": lambda x: tnp.meshgrid(x[0], x[1])[0],
    "sinc": lambda x: tnp.sinc(x),
}


@pytest.mark.parametrize("name", sorted(COMPOSITES))
def test_composites_under_vmap_and_jit(name):
    f = COMPOSITES[name]
    xs = [tg.tensor(x, tg.float64) for x in X3]
    want = np.stack([f(x).numpy() for x in xs])
    np.testing.assert_allclose(tg.vmap(f)(tg.tensor(X3, tg.float64)).numpy(), want, rtol=1e-12)
    jf = tg.jit(f)
    jf(xs[0])
    np.testing.assert_allclose(jf(xs[1]).numpy(), want[1], rtol=1e-12)  # replayed


def test_linspace_and_einsum_are_one_object_in_every_namespace():
    assert tg.linspace is tg.ops.linspace is tnp.linspace
    assert tg.einsum is tg.ops.einsum is tnp.einsum is tg.linalg.einsum
    assert tg.einsum(tg.ones((2, 3)), [0, 1], [1]).tolist() == [2.0, 2.0, 2.0]


# ---- the numpy functions of autograd's suite (issue 17): values and derivatives to order 2 --------

_R = np.random.default_rng(17).standard_normal
AUTOGRAD_LIST = {
    "tensordot_axes": (
        lambda a, b: tnp.tensordot(a, b, axes=[(0, 1), (1, 2)]),
        lambda a, b: np.tensordot(a, b, axes=[(0, 1), (1, 2)]),
        [_R((2, 3)), _R((1, 2, 3))],
    ),
    "vstack": (
        lambda a, b: tnp.vstack([a, b]),
        lambda a, b: np.vstack([a, b]),
        [_R(3), _R((2, 3))],
    ),
    "hstack": (
        lambda a, b: tnp.hstack((a, b)),
        lambda a, b: np.hstack((a, b)),
        [_R((2, 3)), _R((2, 1))],
    ),
    "column_stack": (
        lambda a, b: tnp.column_stack([a, b]),
        lambda a, b: np.column_stack([a, b]),
        [_R(3), _R((3, 2))],
    ),
    "dstack": (
        lambda a, b: tnp.dstack([a, b]),
        lambda a, b: np.dstack([a, b]),
        [_R((2, 3)), _R((2, 3))],
    ),
    "cross_axes": (
        lambda a, b: tnp.cross(a, b, axisa=0, axisb=-1, axisc=0),
        lambda a, b: np.cross(a, b, axisa=0, axisb=-1, axisc=0),
        [_R((3, 2)), _R((2, 3))],
    ),
    "cross_axis": (
        lambda a, b: tnp.cross(a, b, axis=0),
        lambda a, b: np.cross(a, b, axis=0),
        [_R((3, 2)), _R((3, 2))],
    ),
    "atleast_1d": (tnp.atleast_1d, np.atleast_1d, [_R(())]),
    "atleast_2d": (tnp.atleast_2d, np.atleast_2d, [_R(3)]),
    "atleast_3d": (tnp.atleast_3d, np.atleast_3d, [_R((2, 3))]),
    "split": (
        lambda a: tnp.split(a, 3, axis=1)[1],
        lambda a: np.split(a, 3, axis=1)[1],
        [_R((2, 6))],
    ),
    "split_indices": (lambda a: tnp.split(a, [1, 3])[2], lambda a: np.split(a, [1, 3])[2], [_R(5)]),
    "array_split": (lambda a: tnp.array_split(a, 3)[0], lambda a: np.array_split(a, 3)[0], [_R(7)]),
    "hsplit": (lambda a: tnp.hsplit(a, 2)[1], lambda a: np.hsplit(a, 2)[1], [_R((2, 4))]),
    "vsplit": (lambda a: tnp.vsplit(a, [1])[1], lambda a: np.vsplit(a, [1])[1], [_R((3, 2))]),
    "dsplit": (lambda a: tnp.dsplit(a, 2)[0], lambda a: np.dsplit(a, 2)[0], [_R((2, 2, 4))]),
    "power": (lambda a, b: tnp.power(a, b), np.power, [np.abs(_R(4)) + 0.5, _R(4)]),
    "absolute": (tnp.absolute, np.absolute, [_R(4)]),
    "true_divide": (tnp.true_divide, np.true_divide, [_R(4), np.abs(_R(4)) + 0.5]),
    "around": (lambda a: tnp.around(a * 3.0) * a, lambda a: np.around(a * 3.0) * a, [_R(4)]),
}


@pytest.mark.parametrize("name", sorted(AUTOGRAD_LIST))
def test_autograd_suite_functions_match_numpy_and_differentiate(name):
    f, ref, args = AUTOGRAD_LIST[name]
    targs = [tg.tensor(a) for a in args]
    np.testing.assert_allclose(f(*targs).numpy(), ref(*args), rtol=1e-12, atol=1e-12)
    tg.testing.check_grads(f, targs, order=2)


def test_linalg_cross_is_the_standards():
    a, b = _R((4, 3)), _R(3)
    np.testing.assert_allclose(tg.linalg.cross(tg.tensor(a), tg.tensor(b)).numpy(), np.cross(a, b))
    a, b = _R((2, 3, 5)), _R((3, 5))
    np.testing.assert_allclose(
        tg.linalg.cross(tg.tensor(a), tg.tensor(b), axis=-2).numpy(), np.cross(a, b, axis=-2)
    )
    with pytest.raises(ValueError, match="cross"):
        tg.linalg.cross(tg.ones((2, 3)), tg.ones((2, 2)))


@pytest.mark.parametrize("name", ["fliplr", "diff", "sinc", "tril", "triu", "fabs", "rot90"])
@pytest.mark.parametrize("bad", [None, "abc"])
def test_conversion_errors_name_the_function(name, bad):
    # The constructor's "tensor: cannot make a tensor from ..." is reported under the function called.
    with pytest.raises(TypeError, match=rf"^{name}: cannot make a tensor"):
        getattr(tnp, name)(bad)
