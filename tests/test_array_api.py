"""Array API (2024.12) spellings of tapegrad.numpy (python/tapegrad/_array_api.py); the whole
namespace against the standard's list: tests/test_array_api_signatures.py."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tapegrad as tg

tnp = tg.numpy


def test_constants():
    assert (tnp.e, tnp.pi, tnp.inf) == (math.e, math.pi, math.inf)
    assert math.isnan(tnp.nan) and tnp.newaxis is None
    assert tg.ones(2)[tnp.newaxis].shape == (1, 2)


@pytest.mark.parametrize(
    "dt,np_dt", [(tg.float16, np.float16), (tg.float32, np.float32), (tg.float64, np.float64)]
)
def test_finfo(dt, np_dt):
    fi, ref = tnp.finfo(dt), np.finfo(np_dt)
    assert (fi.bits, fi.eps, fi.max, fi.min, fi.smallest_normal) == (
        ref.bits,
        float(ref.eps),
        float(ref.max),
        float(ref.min),
        float(ref.smallest_normal),
    )
    assert fi.dtype == dt and tnp.finfo(tg.ones(1, dt)).dtype == dt
    with pytest.raises(TypeError, match="finfo: Int32 is not a floating dtype"):
        tnp.finfo(tg.int32)


@pytest.mark.parametrize("dt,np_dt", [(tg.int32, np.int32), (tg.int64, np.int64)])
def test_iinfo(dt, np_dt):
    ii, ref = tnp.iinfo(dt), np.iinfo(np_dt)
    assert (ii.bits, ii.max, ii.min, ii.dtype) == (ref.bits, ref.max, ref.min, dt)
    with pytest.raises(TypeError, match="iinfo: Float32 is not an integer dtype"):
        tnp.iinfo(tg.float32)


def test_isdtype():
    assert tnp.isdtype(tg.bool_, "bool") and not tnp.isdtype(tg.bool_, "numeric")
    assert tnp.isdtype(tg.int64, "signed integer") and tnp.isdtype(tg.int64, "integral")
    assert not tnp.isdtype(tg.int64, "unsigned integer") and not tnp.isdtype(
        tg.float32, "complex floating"
    )
    assert tnp.isdtype(tg.float16, ("integral", "real floating")) and tnp.isdtype(
        tg.float32, tg.float32
    )
    with pytest.raises(ValueError, match="isdtype: unknown kind 'float'"):
        tnp.isdtype(tg.float32, "float")


def test_result_type_is_what_arithmetic_gives():
    dts = [tg.bool_, tg.int32, tg.int64, tg.float16, tg.float32, tg.float64]
    for a in dts:
        for b in dts:
            want = (tg.ones(2, a) * tg.ones(2, b)).dtype if not (a == b == tg.bool_) else tg.bool_
            assert tnp.result_type(a, b) == want, (a, b)
    assert tnp.result_type(tg.ones(2, tg.float16), 1.0) == tg.float16
    assert tnp.result_type(tg.int32, 1) == tg.int32
    with pytest.raises(ValueError, match="result_type"):
        tnp.result_type(1.0)


def test_can_cast():
    assert tnp.can_cast(tg.int32, tg.int64) and tnp.can_cast(tg.bool_, tg.float16)
    assert not tnp.can_cast(tg.int64, tg.int32) and not tnp.can_cast(tg.float32, tg.int64)
    assert tnp.can_cast(tg.ones(2, tg.float32), tg.float64)


def test_asarray_copy():
    x = tg.tensor([1.0, 2.0])
    assert tnp.asarray(x) is x and tnp.asarray(x, copy=False) is x
    y = tnp.asarray(x, copy=True)
    y[0] = 5.0
    assert x.tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="asarray: copy=False, but converting Float32 to Float64"):
        tnp.asarray(x, tg.float64, copy=False)
    with pytest.raises(ValueError, match="asarray: copy=False, but a list has to be copied"):
        tnp.asarray([1.0], copy=False)
    a = np.arange(3.0)
    shared = tnp.asarray(a, copy=False)
    a[0] = 7.0
    assert shared.tolist()[0] == 7.0
    copied = tnp.asarray(a, copy=True)
    a[1] = 9.0
    assert copied.tolist() == [7.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="asarray: device 'gpu' is not available"):
        tnp.asarray(a, device="gpu")


def test_astype_copy():
    x = tg.tensor([1.5, 2.5])
    assert tnp.astype(x, tg.float32, copy=False) is x
    assert tnp.astype(x, tg.float32) is not x
    assert tnp.astype(x, "int64").tolist() == [1, 2]
    g = tg.grad(lambda x: tnp.astype(x, tg.float64, copy=False).sum())(x)
    assert g.tolist() == [1.0, 1.0]


def test_sum_prod_dtype():
    x = tg.tensor([1, 2, 3], tg.int32)
    assert tnp.sum(x).dtype == tg.int64 and tnp.prod(x).dtype == tg.int64
    assert tnp.sum(tg.tensor([True, True])).tolist() == 2
    s = tnp.sum(tg.tensor([[1.0, 2.0]]), axis=1, dtype=tg.float64, keepdims=True)
    assert s.dtype == tg.float64 and s.shape == (1, 1)
    g = tg.grad(lambda x: tnp.sum(x, dtype=tg.float64))(tg.tensor([1.0, 2.0]))
    assert g.dtype == tg.float32 and g.tolist() == [1.0, 1.0]


def test_var_std_correction():
    a = np.array([[1.0, 2.0, 4.0], [0.5, 3.0, -1.0]])
    x = tg.tensor(a, tg.float64)
    for c in (0, 1, 2.0, 0.5, 1.25):  # the standard allows fractional corrections
        np.testing.assert_allclose(
            tnp.var(x, axis=1, correction=c).numpy(), np.var(a, axis=1, ddof=c)
        )
        np.testing.assert_allclose(
            tnp.std(x, axis=(0, 1), correction=c, keepdims=True).numpy(),
            np.std(a, axis=(0, 1), ddof=c, keepdims=True),
        )
        np.testing.assert_allclose(tnp.std(x, correction=c).numpy(), np.std(a, ddof=c))
    np.testing.assert_allclose(tnp.var(x, ddof=1).numpy(), np.var(a, ddof=1))
    with pytest.raises(ValueError, match="var: ddof=1 and correction=2 disagree"):
        tnp.var(x, ddof=1, correction=2)
    tg.testing.check_grads(lambda x: tnp.std(x, axis=0, correction=1), (x,), order=2)
    tg.testing.check_grads(lambda x: tnp.var(x, axis=1, correction=0.5), (x,), order=2)


def test_take_along_axis_defaults_to_last_axis():
    a = np.array([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    idx = np.argsort(a, axis=-1)
    np.testing.assert_array_equal(
        tnp.take_along_axis(tg.tensor(a), tg.tensor(idx)).numpy(),
        np.take_along_axis(a, idx, axis=-1),
    )


def test_sort_argsort_stable_descending():
    a = np.array([2.0, 1.0, 2.0, 0.0, 1.0])
    assert tnp.sort(tg.tensor(a), descending=True, stable=True).tolist() == sorted(
        a.tolist(), reverse=True
    )
    assert tnp.argsort(tg.tensor(a), stable=True).tolist() == np.argsort(a, kind="stable").tolist()


def test_unique_functions():
    a = np.array([[3, 1, 3], [2, 1, 3]])
    x = tg.tensor(a)
    v = tnp.unique_values(x)
    assert v.tolist() == [1, 2, 3] and v.dtype == tg.int64
    r = tnp.unique_counts(x)
    assert r.values.tolist() == [1, 2, 3] and r.counts.tolist() == [2, 1, 3]
    r = tnp.unique_inverse(x)
    np.testing.assert_array_equal(r.values.numpy()[r.inverse_indices.numpy()], a)
    r = tnp.unique_all(x)
    assert r.indices.tolist() == [1, 3, 0] and r.counts.tolist() == [2, 1, 3]
    assert r.inverse_indices.shape == a.shape
    n = tnp.unique_values(tg.tensor([np.nan, 1.0, np.nan]))
    assert n.shape == (3,)  # each NaN distinct, as the standard says
    with pytest.raises(TypeError, match="unique_values: the result's shape depends on the values"):
        tg.grad(lambda x: tnp.unique_values(x).sum())(tg.tensor([1.0, 1.0]))


def test_tensor_mT_and_to_device():
    x = tg.tensor(np.arange(24.0).reshape(2, 3, 4))
    assert x.mT.shape == (2, 4, 3)
    np.testing.assert_array_equal(
        x.mT.numpy(), np.swapaxes(np.arange(24.0).reshape(2, 3, 4), -1, -2)
    )
    assert tg.grad(lambda x: (x.mT * tg.arange(3.0)).sum())(x).shape == x.shape
    with pytest.raises(ValueError, match="matrix_transpose: needs at least 2 dimensions"):
        _ = tg.ones(3).mT
    assert x.to_device("cpu") is x and x.to_device("CPU") is x and x.to_device(x.device) is x
    if not tg.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA backend is (not built|built but)"):
            x.to_device("gpu")


def test_shift_operators():
    x = np.array([1, -8, 5], np.int64)
    assert (tg.tensor(x) << 3).tolist() == (x << 3).tolist()
    assert (tg.tensor(x) >> 1).tolist() == (x >> 1).tolist()
    assert (2 << tg.tensor([1, 2])).tolist() == [4, 8]
    assert (64 >> tg.tensor([1, 2])).tolist() == [32, 16]
    with pytest.raises(TypeError):
        tg.tensor([1.0]) << 1
    with pytest.raises(TypeError):
        tg.tensor([1]) << 1.5


def test_array_namespace_info():
    info = tnp.__array_namespace_info__()
    assert info.devices() == ["CPU"] and info.default_device() == "CPU"
    assert info.capabilities()["boolean indexing"] is True
    assert info.default_dtypes() == {
        "real floating": tg.float32,
        "complex floating": tg.complex64,
        "integral": tg.int64,
        "indexing": tg.int64,
    }
    assert info.dtypes() == {
        "bool": tg.bool_,
        "int8": tg.int8,
        "int16": tg.int16,
        "int32": tg.int32,
        "int64": tg.int64,
        "uint8": tg.uint8,
        "uint16": tg.uint16,
        "uint32": tg.uint32,
        "uint64": tg.uint64,
        "float32": tg.float32,
        "float64": tg.float64,
        "complex64": tg.complex64,
        "complex128": tg.complex128,
    }
    assert info.dtypes(kind="numeric") == {
        "int8": tg.int8,
        "int16": tg.int16,
        "int32": tg.int32,
        "int64": tg.int64,
        "uint8": tg.uint8,
        "uint16": tg.uint16,
        "uint32": tg.uint32,
        "uint64": tg.uint64,
        "float32": tg.float32,
        "float64": tg.float64,
        "complex64": tg.complex64,
        "complex128": tg.complex128,
    }
    assert info.dtypes(kind=("bool", "real floating")).keys() == {"bool", "float32", "float64"}
    with pytest.raises(ValueError, match="dtypes: device 'gpu' is not available"):
        info.dtypes(device="gpu")


# ---- linalg extension functions composed from ops ---------------------------------------------------

M = np.random.default_rng(3).normal(size=(2, 3, 3))


@pytest.mark.parametrize("ord_", [2, 1, np.inf, -np.inf, 3, 0.5])
@pytest.mark.parametrize("axis", [None, 1, (0, 2), -1])
def test_vector_norm_matches_numpy(ord_, axis):
    want = np.linalg.vector_norm(M, axis=axis, ord=ord_, keepdims=True)
    got = tg.linalg.vector_norm(tg.tensor(M, tg.float64), axis=axis, ord=ord_, keepdims=True)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    if ord_ in (2, 3):
        tg.testing.check_grads(
            lambda x: tg.linalg.vector_norm(x, axis=axis, ord=ord_),
            (tg.tensor(M, tg.float64),),
            order=2,
        )


@pytest.mark.parametrize("ord_", ["fro", 1, -1, np.inf, -np.inf])
def test_matrix_norm_matches_numpy(ord_):
    got = tg.linalg.matrix_norm(tg.tensor(M, tg.float64), ord=ord_, keepdims=True)
    np.testing.assert_allclose(
        got.numpy(), np.linalg.matrix_norm(M, ord=ord_, keepdims=True), rtol=1e-12
    )


@pytest.mark.parametrize("ord", ["nuc", 2, -2])
def test_matrix_norm_of_singular_values_matches_numpy(ord):
    np.testing.assert_allclose(
        np.asarray(tg.linalg.matrix_norm(tg.tensor(M), ord=ord)),
        np.linalg.matrix_norm(M, ord=ord),
        rtol=1e-12,
    )


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, -1, -2])
def test_matrix_power_matches_numpy(n):
    a = M + 3 * np.eye(3)
    got = tg.linalg.matrix_power(tg.tensor(a, tg.float64), n)
    np.testing.assert_allclose(got.numpy(), np.linalg.matrix_power(a, n), rtol=1e-10, atol=1e-12)
    if n:
        tg.testing.check_grads(
            lambda x: tg.linalg.matrix_power(x, n), (tg.tensor(a, tg.float64),), order=1
        )


def test_linalg_diagonal_cross_vecdot_tensordot_transpose():
    x = tg.tensor(M, tg.float64)
    np.testing.assert_array_equal(
        tg.linalg.diagonal(x, offset=1).numpy(), np.linalg.diagonal(M, offset=1)
    )
    np.testing.assert_allclose(tg.linalg.cross(x, x[::-1]).numpy(), np.linalg.cross(M, M[::-1]))
    np.testing.assert_allclose(tg.linalg.vecdot(x, x).numpy(), np.linalg.vecdot(M, M))
    np.testing.assert_allclose(
        tg.linalg.tensordot(x, x[0], axes=1).numpy(), np.linalg.tensordot(M, M[0], axes=1)
    )
    np.testing.assert_array_equal(
        tg.linalg.matrix_transpose(x).numpy(), np.linalg.matrix_transpose(M)
    )
    assert isinstance(
        np.linalg.matrix_power(x, 2), tg.Tensor
    )  # numpy's functions dispatch here too
    with pytest.raises(TypeError, match="matrix_power: exponent must be an integer"):
        tg.linalg.matrix_power(x, 1.5)


# ---- special-case values (the standard's nan/inf/-0.0 rules, which numpy follows) ----------------

SPECIAL = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.5, 1e-40, 3e38]
SPECIAL += [-3e38, 1e-310]
UNARY_SPECIAL = """abs acos acosh asin asinh atan atanh ceil cos cosh exp expm1 floor log log1p log2
log10 round sign sin sinh sqrt square tan tanh trunc reciprocal positive negative isfinite isinf
isnan signbit""".split()
BINARY_SPECIAL = """add subtract multiply divide pow atan2 hypot logaddexp maximum minimum copysign
remainder floor_divide nextafter equal not_equal less less_equal greater greater_equal""".split()
NUMPY_NAME = {
    "acos": "arccos",
    "acosh": "arccosh",
    "asin": "arcsin",
    "asinh": "arcsinh",
    "atan": "arctan",
    "atanh": "arctanh",
    "pow": "power",
    "atan2": "arctan2",
}


def assert_special_values_equal(got, want, dtype, where):
    """NaN where numpy has NaN, infinities and zeros exactly (the zero's sign too), other values
    within a few ulps (SIMD polynomials may differ from numpy's in the last place)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, where
    if want.dtype.kind != "f":
        np.testing.assert_array_equal(got, want, err_msg=where)
        return
    exact = ~np.isfinite(want) | (want == 0) | (np.abs(want) < np.finfo(want.dtype).tiny)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=f"{where}: NaNs")
    e = exact & ~np.isnan(want)
    np.testing.assert_array_equal(got[e], want[e], err_msg=f"{where}: special values")
    np.testing.assert_array_equal(
        np.signbit(got[e]), np.signbit(want[e]), err_msg=f"{where}: signs of zeros"
    )
    rtol = 4 * np.finfo(dtype).eps
    np.testing.assert_allclose(got[~exact], want[~exact], rtol=rtol, err_msg=where)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", UNARY_SPECIAL)
def test_unary_special_cases_match_numpy(name, dtype):
    with np.errstate(all="ignore"):
        x = np.array(SPECIAL, dtype)
        want = getattr(np, NUMPY_NAME.get(name, name))(x)
    got = getattr(tnp, name)(tg.tensor(x)).numpy()
    assert_special_values_equal(got, want, dtype, f"{name}({x})")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", BINARY_SPECIAL)
def test_binary_special_cases_match_numpy(name, dtype):
    # every pair of the special values (225 pairs)
    a, b = np.array([(p, q) for p in SPECIAL for q in SPECIAL], dtype).T
    with np.errstate(all="ignore"):
        want = getattr(np, NUMPY_NAME.get(name, name))(a, b)
    got = getattr(tnp, name)(tg.tensor(a), tg.tensor(b)).numpy()
    if name in ("copysign",):  # tapegrad cannot read the sign bit of a NaN (docs/numpy.md)
        keep = ~np.isnan(b)
        got, want = got[keep], want[keep]
    assert_special_values_equal(got, want, dtype, name)


# ---- nextafter ----------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64], ids=["f32", "f64"])
def test_nextafter_matches_numpy(dtype):
    npd = np.float32 if dtype == tg.float32 else np.float64
    tiny = np.finfo(npd).smallest_subnormal
    a = np.array(
        [1.0, 1.0, 0.0, 0.0, -0.0, np.inf, -np.inf, np.nan, 2.0, tiny, np.finfo(npd).max], npd
    )
    b = np.array([2.0, 0.0, 1.0, -1.0, 0.0, 0.0, 0.0, 1.0, np.nan, -1.0, np.inf], npd)
    got = tnp.nextafter(tg.tensor(a), tg.tensor(b)).numpy()
    with np.errstate(over="ignore"):  # max toward inf is inf
        want = np.nextafter(a, b)
    np.testing.assert_array_equal(got, want)  # exact, subnormals included
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
    assert got.dtype == npd
    # broadcast, a Python scalar (weak), 0-d, empty, non-contiguous
    x = np.linspace(-3, 3, 12, dtype=npd).reshape(3, 4)
    np.testing.assert_array_equal(tnp.nextafter(tg.tensor(x), 5.0).numpy(), np.nextafter(x, npd(5)))
    np.testing.assert_array_equal(
        tnp.nextafter(tg.tensor(x), tg.tensor(x[0])).numpy(), np.nextafter(x, x[0])
    )
    np.testing.assert_array_equal(
        tnp.nextafter(tg.tensor(x).T, tg.tensor(npd(0.0))).numpy(), np.nextafter(x.T, npd(0))
    )
    assert tnp.nextafter(tg.tensor(x[:0]), 1.0).shape == (0, 4)
    assert tnp.nextafter(tg.tensor(npd(1.0)), 2.0).shape == ()


def test_nextafter_dtypes_derivative_and_transforms():
    # integers give Float64 (numpy's), Float16 and Bool are refused rather than rounded wrong
    r = tnp.nextafter(tg.tensor([1, 2]), tg.tensor([3, 0]))
    assert r.dtype == tg.float64
    np.testing.assert_array_equal(r.numpy(), np.nextafter([1, 2], [3, 0]))
    with pytest.raises(TypeError, match="nextafter: .*Float16"):
        tnp.nextafter(tg.ones(2, tg.float16), 2.0)
    with pytest.raises(TypeError, match="nextafter: .*Float16"):
        tnp.nextafter(tg.ones(2, tg.uint8), tg.zeros(2, tg.uint8))
    r = tnp.nextafter(tg.tensor([1, 2], tg.int16), tg.tensor([3, 0], tg.int16))
    assert r.dtype == tg.float32
    np.testing.assert_array_equal(
        r.numpy(), np.nextafter(np.array([1, 2], np.int16), np.array([3, 0], np.int16))
    )
    with pytest.raises(TypeError, match="nextafter"):
        tnp.nextafter(tg.tensor([True]), tg.tensor([False]))
    # a step function: zero derivative, in both modes and under vmap/jit
    x = tg.tensor([0.5, -1.0], tg.float64)
    assert tg.grad(lambda x: tnp.nextafter(x, 2.0).sum())(x).tolist() == [0.0, 0.0]
    assert tg.jvp(lambda x: tnp.nextafter(x, 2.0), (x,), (tg.ones_like(x),))[1].tolist() == [0, 0]
    xs = tg.tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(
        tg.vmap(lambda r: tnp.nextafter(r, -1.0))(xs).numpy(), np.nextafter(xs.numpy(), -1.0)
    )
    np.testing.assert_array_equal(
        tg.jit(lambda r: tnp.nextafter(r, -1.0))(xs).numpy(), np.nextafter(xs.numpy(), -1.0)
    )


# ---- the standard's keyword spellings and in-place operators ------------------------------------


def test_expand_dims_reshape_copy_and_trace_cholesky():
    x = tg.arange(6.0)
    assert tnp.expand_dims(x).shape == (1, 6) and tnp.expand_dims(x, axis=-1).shape == (6, 1)
    assert tnp.reshape(x, (2, 3))._shares_memory(x)
    assert not tnp.reshape(x, (2, 3), copy=True)._shares_memory(x)
    assert tnp.reshape(x, (3, 2), copy=False)._shares_memory(x)
    with pytest.raises(ValueError, match="copy=False"):
        tnp.reshape(x.reshape(2, 3).T, (6,), copy=False)
    a = np.arange(12.0).reshape(3, 2, 2)
    np.testing.assert_allclose(tnp.linalg.trace(tg.tensor(a)).numpy(), np.linalg.trace(a))
    np.testing.assert_allclose(
        tnp.linalg.trace(tg.tensor(a), offset=1).numpy(), np.linalg.trace(a, offset=1)
    )
    assert tnp.linalg.trace(tg.tensor(a), dtype=tg.float32).dtype == tg.float32
    spd = np.array([[4.0, 2.0], [2.0, 3.0]])
    u = tnp.linalg.cholesky(tg.tensor(spd), upper=True).numpy()
    np.testing.assert_allclose(u, np.linalg.cholesky(spd, upper=True))
    np.testing.assert_allclose(u.T @ u, spd)
    tg.testing.check_grads(
        lambda m: tnp.linalg.cholesky(m @ m.mT + 2 * tg.eye(2, dtype=m.dtype), upper=True),
        (tg.tensor(spd),),
    )
    tg.testing.check_grads(lambda m: tnp.linalg.trace(m, offset=-1), (tg.tensor(a),))


def test_in_place_shifts_and_matmul_write_into_the_tensor():
    x = tg.tensor([1, 2, 3])
    view = x[:]
    x <<= 2
    assert view.tolist() == [4, 8, 12]
    x >>= tg.tensor([1, 2, 3])
    assert view.tolist() == [2, 2, 1]
    x <<= np.array(1)  # an ndarray operand: still in place, not numpy's out-of-place operator
    assert view.tolist() == [4, 4, 2] and isinstance(x, tg.Tensor)
    m = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
    alias = m[:]
    m @= [[0.0, 1.0], [1.0, 0.0]]
    assert alias.tolist() == [[2.0, 1.0], [4.0, 3.0]]
    with pytest.raises(ValueError, match="matmul \\(in place\\)"):
        m @= tg.ones((2, 3))
    b = tg.tensor([True, False])
    with pytest.raises(TypeError, match="lshift \\(in place\\)"):
        b <<= 1
    with pytest.raises(TypeError):
        x <<= 1.5
    assert complex(tg.tensor(2.5)) == 2.5 + 0j


@pytest.mark.parametrize(
    "d1", ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
)
def test_shifts_follow_numpy_for_every_integer_dtype_pair(d1):
    # numpy's result dtype of both operands, counts beyond the width and negative counts
    a = np.array([-3, 5, 100, 0, 1], d1) if d1[0] == "i" else np.array([3, 5, 200, 0, 1], d1)
    for d2 in ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]:
        b = np.array([1, 70, 3, 200, 0], d2) if d2[0] == "u" else np.array([1, -1, 3, 70, 0], d2)
        for ours, theirs in [
            (tnp.bitwise_left_shift, np.left_shift),
            (tnp.bitwise_right_shift, np.right_shift),
        ]:
            try:
                want = theirs(a, b)
            except TypeError:  # int64 with uint64: numpy has no common integer dtype
                with pytest.raises(TypeError):
                    ours(tg.tensor(a), tg.tensor(b))
                continue
            got = ours(tg.tensor(a), tg.tensor(b)).numpy()
            assert got.dtype == want.dtype and np.array_equal(got, want), (d1, d2, ours.__name__)
        for s in [1, 9] + ([-1] if d1[0] == "i" else []):  # a Python int keeps a's dtype
            for ours, theirs in [
                (tnp.bitwise_left_shift, np.left_shift),
                (tnp.bitwise_right_shift, np.right_shift),
            ]:
                got, want = ours(tg.tensor(a), s).numpy(), theirs(a, s)
                assert got.dtype == want.dtype and np.array_equal(got, want), (d1, s)


_INT_DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]


@pytest.mark.parametrize("d", _INT_DTYPES)
def test_python_int_first_operand_of_bitwise_functions_is_weak(d):
    # 2024.12 scalar arguments: a Python int on either side takes the array's dtype (NEP 50), as
    # numpy 2 gives; it was an Int64 tensor when first (UInt64 then had no common integer dtype)
    a = np.array([3, 5, 12], d)
    for ours, theirs in [
        (tnp.bitwise_and, np.bitwise_and),
        (tnp.bitwise_or, np.bitwise_or),
        (tnp.bitwise_xor, np.bitwise_xor),
        (tnp.bitwise_left_shift, np.left_shift),
        (tnp.bitwise_right_shift, np.right_shift),
    ]:
        got, want = ours(6, tg.tensor(a)).numpy(), theirs(6, a)
        assert got.dtype == want.dtype and np.array_equal(got, want), (d, ours.__name__)
    got, want = (6 << tg.tensor(a)).numpy(), 6 << a
    assert got.dtype == want.dtype and np.array_equal(got, want)
    got, want = (100 >> tg.tensor(a)).numpy(), 100 >> a
    assert got.dtype == want.dtype and np.array_equal(got, want)
    got = tnp.bitwise_and(True, tg.tensor(np.array([True, False])))
    assert got.dtype == tg.bool_ and got.numpy().tolist() == [True, False]
    with pytest.raises(OverflowError):  # numpy: a Python int the dtype cannot hold
        tnp.bitwise_left_shift(2**70, tg.tensor(a))


def test_copysign_promotes_its_operands():
    # the result dtype is the promoted one (a Python scalar weak): float32 with float64 gives
    # float64 (it was float32), and a Python float magnitude keeps the tensor's dtype
    f32 = np.array([1.0, -2.0, 0.0], np.float32)
    f64 = np.array([-1.0, 1.0, -0.0])
    for a, b in [(f32, f64), (f64, f32), (2.5, f32), (2.5, f64), (f32, -1.0), (2, f32)]:
        ta = tg.tensor(a) if isinstance(a, np.ndarray) else a
        tb = tg.tensor(b) if isinstance(b, np.ndarray) else b
        got, want = tnp.copysign(ta, tb).numpy(), np.copysign(a, b)
        assert got.dtype == want.dtype, (a, b)
        np.testing.assert_array_equal(got, want)
        assert np.array_equal(np.signbit(got), np.signbit(want))
    # integer magnitudes become floats as in numpy
    got = tnp.copysign(tg.tensor(np.array([1, 2])), -1.0).numpy()
    assert got.dtype == np.float64 and got.tolist() == [-1.0, -2.0]


@pytest.mark.parametrize("d", _INT_DTYPES + ["bool"])
def test_vecdot_keeps_the_promoted_integer_dtype(d):
    # Array API vecdot: the operands' promoted dtype (the sum inside must not widen to Int64)
    a = np.array([[1, 2, 3], [4, 5, 6]], d) if d != "bool" else np.array([[True, False]] * 2)
    got = tnp.vecdot(tg.tensor(a), tg.tensor(a)).numpy()
    want = np.vecdot(a, a)
    assert got.dtype == want.dtype and np.array_equal(got, want)
    x = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    assert tnp.vecdot(tg.tensor(x), tg.tensor(x)).dtype == tg.float32


def test_capabilities_max_dimensions_is_what_every_function_supports():
    # 2024.12: None only for an unlimited number of dimensions; tapegrad's limit is finite
    md = tnp.__array_namespace_info__().capabilities()["max dimensions"]
    assert isinstance(md, int) and not isinstance(md, bool)
    x = tnp.ones((1,) * md)
    assert x.ndim == md
    assert tnp.sum(x).item() == 1.0 and tnp.max(x, axis=md - 1).ndim == md - 1
    assert tnp.flip(x).shape == x.shape and tnp.all(x).item()
    # one more is refused with a clear error, not a crash
    with pytest.raises(ValueError, match="too many dimensions"):
        tnp.sum(tnp.ones((1,) * (md + 1)))


@pytest.mark.parametrize(
    "shape,axis", [((0, 2, 2), -1), ((0, 0), -1), ((2, 0, 0), (1, 2)), ((3, 0), -1), ((3, 0), 0)]
)
@pytest.mark.parametrize("ord_", [2, 1, 0, -1])
def test_vector_norm_with_zero_length_axes(shape, axis, ord_):
    # a zero-length axis, kept or reduced: the flattened vectors were a reshape with -1, which
    # cannot be inferred next to a zero-length axis (a ValueError for shape (0, 2, 2))
    x = np.arange(math.prod(shape), dtype=np.float64).reshape(shape) + 1.0
    got = tnp.linalg.vector_norm(tg.tensor(x), axis=axis, ord=ord_).numpy()
    ax = (axis,) if isinstance(axis, int) else axis
    moved = np.moveaxis(x, ax, tuple(range(x.ndim - len(ax), x.ndim)))
    n = math.prod(x.shape[a] for a in ax)
    flat = moved.reshape(moved.shape[: x.ndim - len(ax)] + (n,))
    with np.errstate(divide="ignore"):
        want = np.linalg.norm(flat, ord=ord_, axis=-1)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want)


@pytest.mark.parametrize(
    "sa,sb,axes",
    [
        ((2, 0, 3), (2, 0, 3), ((1, 2), (1, 2))),
        ((2, 3, 0), (2, 3, 0), ((1, 2), (1, 2))),
        ((0, 3, 0), (0, 3, 0), ((1, 2), (1, 2))),
        ((2, 0), (0, 4), 1),
        ((0, 3), (3, 0), 1),
    ],
)
def test_tensordot_over_zero_length_axes(sa, sb, axes):
    # contracting over a length-0 axis is an empty sum: zeros of the free shape, as numpy gives
    # (the matrix views were reshapes with -1, which cannot be inferred next to a 0)
    a = np.arange(math.prod(sa), dtype=np.float64).reshape(sa)
    b = np.ones(sb)
    got = tnp.tensordot(tg.tensor(a), tg.tensor(b), axes=axes).numpy()
    want = np.tensordot(a, b, axes=axes)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)
