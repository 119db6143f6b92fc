"""Robustness of tapegrad.numpy as a namespace (dtypes, the Array API, the sparse Jacobians and
what numpy users write) and of the custom rules' corner cases: each test guards one behaviour that
a probe found wrong (a refused numpy idiom, a silently accepted mistake, a wrong number)."""

import pickle

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.numpy as tnp

# ---- dtypes as numpy's scalar constructors -----------------------------------------------------


@pytest.mark.parametrize(
    "dt, arg, expected",
    [
        (tnp.float32, 3, np.float32(3)),
        (tnp.float64, np.float64(2), np.float64(2)),
        (tnp.float64, 0.1, np.float64(0.1)),  # a Python float straight to float64, not via float32
        (tnp.int64, 2.7, np.int64(2)),
        (tnp.int8, -1.9, np.int8(-1)),
        (tnp.uint8, 255, np.uint8(255)),
        (tnp.bool_, 2, np.bool_(True)),
        (tnp.complex64, 1 + 2j, np.complex64(1 + 2j)),
        (tnp.float16, True, np.float16(1)),
    ],
)
def test_dtype_called_on_a_scalar_is_a_0d_tensor_of_that_dtype(dt, arg, expected):
    # numpy code calls its dtypes as conversion functions; they were not callable at all.
    r = dt(arg)
    assert isinstance(r, tg.Tensor) and r.shape == () and r.dtype == dt
    assert np.asarray(r).dtype == np.asarray(expected).dtype
    assert np.asarray(r) == expected


def test_dtype_called_on_tensors_and_lists():
    x = tg.tensor([1.7, -1.7, 0.2])
    assert tnp.int64(x).tolist() == [1, -1, 0]  # truncation, as np.int64(array)
    assert tnp.float32(x) is x  # already float32: asarray's rule, no copy
    assert tnp.float64([1, 2]).dtype == tg.float64 and tnp.float64([1, 2]).shape == (2,)
    a = np.array([[1, 2], [3, 4]], np.int32)
    np.testing.assert_array_equal(np.asarray(tnp.float64(a)), a.astype(np.float64))
    assert tnp.float64(tg.tensor(1.5, tg.float16)).dtype == tg.float64


def test_dtype_called_inside_transforms_keeps_derivatives():
    x = tg.tensor([1.0, 2.0, 3.0], tg.float32)
    g = tg.grad(lambda v: (tnp.float64(v) ** 2).sum())(x)
    assert g.dtype == tg.float32 and g.tolist() == [2.0, 4.0, 6.0]
    # a list of tracked Tensors is stacked, not copied (its derivatives flow)
    g = tg.grad(lambda v: (tnp.float64([v[0], v[1]]) ** 2).sum())(x)
    assert g.tolist() == [2.0, 4.0, 0.0]
    assert tg.jit(lambda v: tnp.int32(v) * 2)(x).tolist() == [2, 4, 6]
    assert tg.vmap(tnp.float16)(x).dtype == tg.float16
    _, t = tg.jvp(lambda v: tnp.float64(v) * 3, (x,), (tg.ones(3),))
    assert t.dtype == tg.float64 and t.tolist() == [3.0, 3.0, 3.0]


def test_dtype_call_the_autograd_cast_to_int_idiom():
    # autograd's test_cast_to_int: W's last column cast to int64 indexes W's other columns
    W = tg.tensor(np.arange(20.0).reshape(5, 4) % 4)

    def f(W):
        inds = tnp.int64(W[:, -1])
        assert inds.dtype == tnp.int64
        return W[:, :-1][inds].sum()

    g = tg.grad(f)(W)
    expected = np.zeros((5, 4))
    for i in np.asarray(W)[:, -1].astype(int):
        expected[i, :-1] += 1
    np.testing.assert_array_equal(np.asarray(g), expected)


@pytest.mark.parametrize(
    "dt, arg, exc, match",
    [
        (tnp.int8, 300, OverflowError, r"int8: Python integer 300 out of bounds for int8"),
        (tnp.uint8, -1, OverflowError, r"uint8: Python integer -1 out of bounds"),
        (tnp.int64, 2**70, OverflowError, r"int64: Python integer \d+ out of bounds"),
        (tnp.int64, float("nan"), ValueError, r"int64: cannot convert float NaN to integer"),
        (tnp.float32, "1.5", TypeError, r"float32: cannot convert a string"),
        (tnp.float32, None, TypeError, r"float32: cannot make a tensor from None"),
        (tnp.float32, 1 + 2j, TypeError, r"float32: .*complex"),
        (tnp.float32, object(), TypeError, r"float32: .*object"),
    ],
)
def test_dtype_call_refuses_what_numpy_refuses_naming_the_dtype(dt, arg, exc, match):
    with pytest.raises(exc, match=match):
        dt(arg)


def test_dtype_call_argument_errors():
    with pytest.raises(TypeError, match=r"float32\(\) missing 1 required positional argument: 'x'"):
        tnp.float32()
    with pytest.raises(TypeError, match=r"int8\(\) takes 1 positional argument but 2 were given"):
        tnp.int8(1, 2)
    with pytest.raises(TypeError, match=r"uint8\(\) got an unexpected keyword argument 'copy'"):
        tnp.uint8(1, copy=True)


def test_callable_dtypes_are_still_dtypes():
    assert tnp.float32 is tg.float32
    assert repr(tg.float32) == "Float32" and str(tg.int64) == "Int64"
    assert tg.float32 == np.float32 and tg.float32 == "float32" and tg.float32 == np.dtype("f4")
    assert hash(tg.float32) == hash("float32") and {"float32": 1}[tg.float32] == 1
    assert pickle.loads(pickle.dumps(tg.float32)) is tg.float32
    assert tg.zeros(2, dtype=tnp.float64).dtype == tg.float64
    assert np.zeros(2, dtype=tg.float64).dtype == np.float64
    assert np.issubdtype(tg.float32, np.floating) and not np.issubdtype(tg.int32, np.floating)
    assert np.issubdtype(tg.tensor([1]).dtype, np.integer)
    assert tnp.isdtype(tnp.float32, "real floating")
    # callable, but neither an op nor a numpy function tapegrad dispatches to
    assert "float32" not in tg._public_functions()
    # an operand of no operator (it used to be a TypeError too)
    with pytest.raises(TypeError):
        tg.ones(2) + tg.float32


@pytest.mark.parametrize(
    "arg, expected",
    [
        ("float32", tg.float32),
        ("f4", tg.float32),
        ("<f8", tg.float64),
        ("int", tg.int64),
        (np.int16, tg.int16),
        (np.dtype("uint8"), tg.uint8),
        (bool, tg.bool_),
        (complex, tg.complex128),
        (None, tg.float64),  # numpy's default
        (tg.int8, tg.int8),
    ],
)
def test_numpy_dtype_function(arg, expected):
    r = tnp.dtype(arg)
    assert r is expected  # tapegrad's own dtype objects, so `is` works as with numpy's builtins
    assert isinstance(r, tnp.dtype)


def test_numpy_dtype_function_refusals():
    with pytest.raises(TypeError, match="dtype: data type 'foo' not understood"):
        tnp.dtype("foo")
    with pytest.raises(TypeError, match=r"dtype: numpy's dtype\('S3'\) has no tapegrad dtype"):
        tnp.dtype("S3")
    with pytest.raises(TypeError, match=r"dtype: numpy's dtype\('O'\) has no tapegrad dtype"):
        tnp.dtype(object)
    with pytest.raises(TypeError, match=r"dtype: cannot make a dtype from an array \(Tensor\)"):
        tnp.dtype(tg.ones(2))
    assert not isinstance(np.float32, tnp.dtype) and not isinstance("float32", tnp.dtype)
    assert issubclass(tg.dtype, tnp.dtype) and not issubclass(int, tnp.dtype)


# ---- custom rules ------------------------------------------------------------------------------


def _custom_vjp_sin_sum():
    @tg.custom_vjp
    def f(x):
        return tg.sin(x).sum()

    def fwd(x):
        return f(x), x

    def bwd(x, g):
        return (g * tg.cos(x),)

    f.defvjp(fwd, bwd)
    return f


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_vmap_of_a_custom_vjp_function_over_an_empty_batch(dtype):
    # It raised "vmap over an empty batch needs a batching rule"; JAX returns the empty result.
    f = _custom_vjp_sin_sum()
    x0 = tg.ones((0, 2), dtype=dtype)
    r = tg.vmap(tg.grad(f))(x0)
    assert r.shape == (0, 2) and r.dtype == dtype
    assert tg.vmap(f)(x0).shape == (0,)
    assert tg.vmap(tg.grad(f), in_axes=1)(tg.ones((2, 0), dtype=dtype)).shape == (0, 2)
    assert tg.vmap(tg.grad(f), out_axes=1)(x0).shape == (2, 0)
    assert tg.vmap(tg.vmap(tg.grad(f)))(tg.ones((3, 0, 2), dtype=dtype)).shape == (3, 0, 2)
    assert tg.vmap(tg.vmap(tg.grad(f)))(tg.ones((0, 3, 2), dtype=dtype)).shape == (0, 3, 2)
    assert tg.grad(lambda v: tg.vmap(f)(v).sum())(x0).shape == (0, 2)
    assert tg.jit(tg.vmap(tg.grad(f)))(x0).shape == (0, 2)
    _, t = tg.jvp(tg.vmap(f), (x0,), (x0,))
    assert t.shape == (0,)
    # a batch of one still gives the values
    np.testing.assert_allclose(
        np.asarray(tg.vmap(tg.grad(f))(tg.ones((1, 2), dtype=dtype))),
        np.cos(np.ones((1, 2))),
        rtol=1e-6,
    )


def test_vmap_of_a_custom_vjp_function_with_several_outputs_over_an_empty_batch():
    @tg.custom_vjp
    def f(x, y):
        return x * y, (x + y).sum()

    f.defvjp(lambda x, y: (f(x, y), (x, y)), lambda r, g: (g[0] * r[1] + g[1], g[0] * r[0] + g[1]))
    a, s = tg.vmap(f, in_axes=(0, None))(tg.ones((0, 3)), tg.ones(3))
    assert a.shape == (0, 3) and s.shape == (0,)


def _custom_jvp_with_rule(rule_out):
    @tg.custom_jvp
    def f(x):
        return tg.sin(x)

    @f.defjvp
    def _(primals, tangents):
        (x,), (t,) = primals, tangents
        return rule_out(x, t)

    return f


@pytest.mark.parametrize(
    "rule, match",
    [
        (
            lambda x, t: (tg.sin(x).sum(), (tg.cos(x) * t).sum()),
            r"primal output 0 has shape \(\) and dtype float32, but the function's output 0 has shape \(3,\)",
        ),
        (
            lambda x, t: (tg.sin(x).astype(tg.float64), (tg.cos(x) * t).astype(tg.float64)),
            r"dtype float64, but the function's output 0 has shape \(3,\) and dtype float32",
        ),
        (
            lambda x, t: ((tg.sin(x), x), (t, t)),
            "does not have the structure of the function's output",
        ),
    ],
    ids=["shape", "dtype", "structure"],
)
def test_custom_jvp_rule_primal_output_must_match_the_function(rule, match):
    # jvp used to return the rule's primal output as the function's value, whatever its shape.
    x = tg.ones(3)
    for run in (
        lambda f: tg.jvp(f, (x,), (x,)),
        lambda f: tg.jacfwd(f)(x),
        lambda f: tg.vmap(lambda v: tg.jvp(f, (v,), (v,)))(tg.ones((2, 3))),
    ):
        with pytest.raises((ValueError, TypeError), match=match):
            run(_custom_jvp_with_rule(rule))


def test_custom_jvp_rule_check_runs_the_function_once_per_input_signature():
    calls = []

    @tg.custom_jvp
    def f(x, n):
        calls.append(x.shape)
        return tg.sin(x) * n

    @f.defjvp
    def _(primals, tangents):
        (x, n), (t, _) = primals, tangents
        return tg.sin(x) * n, tg.cos(x) * t * n

    for _ in range(3):
        _, t = tg.jvp(lambda v: f(v, 2.0), (tg.ones(3),), (tg.ones(3),))
    np.testing.assert_allclose(np.asarray(t), 2 * np.cos(np.ones(3)), rtol=1e-6)
    assert calls == [(3,)]
    tg.jvp(lambda v: f(v, 2.0), (tg.ones(4),), (tg.ones(4),))  # a new shape: checked again
    assert calls == [(3,), (4,)]


# ---- sparse Jacobians and Hessians ---------------------------------------------------------------


def _bidiagonal(v):
    return v[1:] * v[:-1]


def test_sparse_jacobian_of_float16_x_is_refused_clearly():
    # scipy.sparse has no float16: the result used to be a csr_array SciPy could not read
    # ("Output dtype not compatible with inputs" from toarray()).
    for make in (tg.sparse_jacobian, tg.SparseJacobian):
        with pytest.raises(
            TypeError, match=r"x must be floating point \(Float32 or Float64\), got Float16"
        ):
            make(_bidiagonal, tg.ones(4, dtype=tg.float16))
    with pytest.raises(TypeError, match="SparseHessian: x must be floating point"):
        tg.sparse_hessian(lambda v: (v * v).sum(), tg.ones(4, dtype=tg.float16))


@pytest.mark.parametrize("mode", ["auto", "fwd", "rev"])
@pytest.mark.parametrize("out_dtype", [tg.float16, tg.float32, tg.float64])
def test_sparse_jacobian_result_has_x_dtype_whatever_the_output_dtype(mode, out_dtype):
    # The forward sweep gave the output's dtype (a float16 one SciPy cannot read), the reverse
    # sweep x's, so "auto" picked the dtype by the coloring; dense jacrev gives x's.
    x = tg.tensor(np.arange(1.0, 6.0))
    f = lambda v: _bidiagonal(v).astype(out_dtype)
    J = tg.sparse_jacobian(f, x, mode=mode)
    dense = np.asarray(tg.jacrev(f)(x))
    assert J.dtype == np.float64 and dense.dtype == np.float64
    np.testing.assert_allclose(J.toarray(), dense, rtol=1e-3)
    S = tg.SparseJacobian(f, x, mode=mode)
    assert S(x * 2).dtype == np.float64


def test_sparse_jacobian_of_a_complex_output_is_refused_clearly():
    # used to be "ValueError: sparse: no gather for elements of 16 bytes"
    with pytest.raises(TypeError, match=r"the function must return a real Tensor, got Complex128"):
        tg.sparse_jacobian(lambda v: v * (1 + 1j), tg.ones(3, dtype=tg.float64))
    # its real and imaginary parts separately work
    J = tg.sparse_jacobian(lambda v: tnp.imag(v * (1 + 2j)), tg.ones(3, dtype=tg.float64))
    np.testing.assert_array_equal(J.toarray(), 2 * np.eye(3))


def test_sparse_pattern_explicit_zeros_are_zeros():
    # A zero stored in a scipy sparse pattern counted as a dependency (a dense pattern's zero did
    # not): the same matrix gave two patterns.
    sp = pytest.importorskip("scipy.sparse")
    x = tg.tensor(np.arange(1.0, 5.0))
    rows = np.r_[0, 1, 2, 0, 1, 2, 2]
    cols = np.r_[0, 1, 2, 1, 2, 3, 0]
    vals = np.r_[np.ones(6), 0.0]  # (2, 0) stored, but zero
    dense = np.zeros((3, 4))
    dense[rows, cols] = vals
    for pat in (
        sp.csr_array((vals, (rows, cols)), shape=(3, 4)),
        sp.coo_matrix((vals, (rows, cols)), shape=(3, 4)),
        dense,
    ):
        S = tg.SparseJacobian(_bidiagonal, x, pattern=pat)
        assert S.pattern.nnz == 6
        np.testing.assert_array_equal(S(x).toarray(), np.asarray(tg.jacrev(_bidiagonal)(x)))
    # duplicates that sum to zero are a zero too (by value, as the matrix they make)
    dup = sp.coo_array(
        (np.r_[np.ones(6), 1.0, -1.0], (np.r_[rows[:6], 2, 2], np.r_[cols[:6], 0, 0])), shape=(3, 4)
    )
    assert tg.SparseJacobian(_bidiagonal, x, pattern=dup).pattern.nnz == 6
    H = tg.SparseHessian(
        lambda v: (v[1:] * v[:-1]).sum(),
        x,
        pattern=sp.csr_array(
            (np.r_[1.0, 1.0, 1.0, 0.0], (np.r_[0, 1, 2, 3], np.r_[1, 2, 3, 0])), shape=(4, 4)
        ),
    )
    assert H.pattern.nnz == 6


# ---- functions of the namespace ------------------------------------------------------------------


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 8, 9, 33])
def test_searchsorted_against_numpy(side, n):
    rng = np.random.default_rng(n)
    a = np.sort(rng.integers(0, 10, n).astype(np.float64))
    if n > 2:
        a[-1] = np.nan  # NaNs sort last
    q = np.r_[rng.integers(-1, 11, 40).astype(np.float64), np.nan, -np.inf, np.inf, -0.0]
    got = tnp.searchsorted(tg.tensor(a), tg.tensor(q.reshape(4, 11)), side=side)
    assert got.dtype == tg.int64
    np.testing.assert_array_equal(np.asarray(got), np.searchsorted(a, q, side=side).reshape(4, 11))


def test_searchsorted_memory_is_linear():
    # It compared every pair (len(x1) * x2.size Int64s: 8 TB here) and died; a binary search
    # takes log2(len(x1)) passes over x2.
    a = tg.arange(0.0, 10.0**6, dtype=tg.float64)
    q = tg.tensor([-1.0, 0.5, 999999.5, 2e6], dtype=tg.float64)
    q = tg.broadcast_to(q, (250_000, 4)).reshape(-1)
    got = np.asarray(tnp.searchsorted(a, q))
    np.testing.assert_array_equal(got[:4], [0, 1, 10**6, 10**6])


def test_searchsorted_sorter_and_transforms():
    a = tg.tensor([5.0, 1.0, 3.0])
    assert tnp.searchsorted(a, tg.tensor([2.0, 4.0]), sorter=tg.tensor([1, 2, 0])).tolist() == [
        1,
        2,
    ]
    # a sorter of another length was silently used as given
    with pytest.raises(
        ValueError, match=r"searchsorted: sorter must have the shape of x1 \(3,\), got \(2,\)"
    ):
        tnp.searchsorted(a, tg.tensor([2.0]), sorter=tg.tensor([1, 2]))
    with pytest.raises(TypeError, match="searchsorted: not supported for complex64"):
        tnp.searchsorted(tg.tensor([1 + 0j, 2 + 1j]), tg.tensor([1.5 + 0j]))
    x = tg.arange(10.0)
    assert tg.vmap(lambda q: tnp.searchsorted(x, q))(tg.tensor([[1.5], [3.0]])).tolist() == [
        [2],
        [3],
    ]
    assert tg.vmap(lambda b: tnp.searchsorted(b, tg.tensor([2.5])))(
        tg.tensor([[1.0, 2.0, 3.0], [3.0, 4.0, 5.0]])
    ).tolist() == [[2], [0]]
    assert tg.jit(lambda q: tnp.searchsorted(x, q))(tg.tensor([1.5, 20.0])).tolist() == [2, 10]


def test_count_nonzero_axis_errors_name_it():
    with pytest.raises(np.exceptions.AxisError, match="count_nonzero: axis 2 is out of bounds"):
        tnp.count_nonzero(tg.ones((2, 3)), axis=2)
    with pytest.raises(np.exceptions.AxisError, match="count_nonzero: axis -3"):
        tnp.count_nonzero(tg.ones((2, 3)), axis=(0, -3))
    assert tnp.count_nonzero(tg.tensor([[1.0, 0.0], [0.0, -0.0]]), axis=(0, 1)).tolist() == 1


def test_sinc_of_complex_values():
    # numpy's sinc takes complex input; it raised "astype: cannot cast complex128 to float64"
    z = np.array([0.0, 1e-4 + 1e-4j, 0.5 + 0.25j, -1.5j, 2.0])
    np.testing.assert_allclose(
        np.asarray(tnp.sinc(tg.tensor(z))), np.sinc(z), rtol=1e-12, atol=1e-15
    )
    # and its derivative is holomorphic: JAX's convention, d/dz at a point off the axis
    w = tg.tensor(0.5 + 0.25j)
    h = 1e-6
    fd = (np.sinc(0.5 + 0.25j + h) - np.sinc(0.5 + 0.25j - h)) / (2 * h)
    np.testing.assert_allclose(complex(np.asarray(tg.grad(tnp.sinc)(w))), fd, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_gradients_through_gathers_of_complex_values(dtype):
    # The VJP of a gather sums the cotangents of repeated rows, and that sum refused complex
    # values ("index_scatter: not supported for complex128"): take, roll, fancy indexing.
    jax_like = {  # JAX's convention: the VJP of a linear map is its transpose (no conjugation)
        "take": (
            lambda z: tnp.take(z, tg.tensor([2, 0, 0])),
            np.array([[0, 0, 1], [1, 0, 0], [1, 0, 0]]),
        ),
        "roll": (lambda z: tnp.roll(tnp.flip(z), 1), np.array([[1, 0, 0], [0, 0, 1], [0, 1, 0]])),
        "getitem": (lambda z: z[tg.tensor([1, 1, 2])], np.array([[0, 1, 0], [0, 1, 0], [0, 0, 1]])),
    }
    z = np.array([1 + 2j, -0.5 + 1j, 3 - 1j], dtype)
    c = np.array([0.5 - 1j, 2 + 0.25j, -1 + 1j], dtype)
    for name, (f, m) in jax_like.items():
        y, back = tg.vjp(f, tg.tensor(z))
        np.testing.assert_allclose(np.asarray(y), m @ z, rtol=1e-6, err_msg=name)
        (g,) = back(tg.tensor(c))
        g = np.asarray(g)
        assert g.dtype == dtype
        np.testing.assert_allclose(g, m.T @ c, rtol=1e-6, err_msg=name)
        _, t = tg.jvp(f, (tg.tensor(z),), (tg.tensor(c),))
        np.testing.assert_allclose(np.asarray(t), m @ c, rtol=1e-6, err_msg=name)
    # a real loss of them: grad is dL/dx - i dL/dy
    g = tg.grad(lambda v: (tnp.abs(tnp.take(v, tg.tensor([0, 0]))) ** 2).sum())(tg.tensor(z))
    np.testing.assert_allclose(np.asarray(g), [4 * np.conj(z[0]), 0, 0], rtol=1e-6)


def test_grad_holomorphic_as_jax():
    # jax.grad(f, holomorphic=True) was a TypeError (unexpected keyword) here
    z = tg.tensor(1.0 + 2.0j, tg.complex128)
    np.testing.assert_allclose(
        complex(np.asarray(tg.grad(lambda v: v * v, holomorphic=True)(z))), 2 + 4j
    )
    v, g = tg.value_and_grad(tnp.sin, holomorphic=True)(z)
    np.testing.assert_allclose(complex(np.asarray(v)), np.sin(1 + 2j))
    np.testing.assert_allclose(complex(np.asarray(g)), np.cos(1 + 2j))
    g3 = tg.grad(tg.grad(lambda v: v**3, holomorphic=True), holomorphic=True)(z)
    np.testing.assert_allclose(complex(np.asarray(g3)), 6 * (1 + 2j))
    gz, gw = tg.grad(lambda a, b: a * b, grad_position=(0, 1), holomorphic=True)(z, tg.tensor(3j))
    assert complex(np.asarray(gz)) == 3j and complex(np.asarray(gw)) == 1 + 2j
    g, aux = tg.grad(lambda v: (v * v, v), has_aux=True, holomorphic=True)(z)
    np.testing.assert_allclose(complex(np.asarray(g)), 2 + 4j)
    assert complex(np.asarray(aux)) == 1 + 2j
    vg = tg.vmap(tg.grad(tnp.exp, holomorphic=True))(tg.tensor([1j, 2j], tg.complex128))
    np.testing.assert_allclose(np.asarray(vg), np.exp([1j, 2j]))
    # JAX's checks: complex inputs and outputs
    with pytest.raises(
        TypeError,
        match="grad with holomorphic=True requires inputs with complex dtype, but got Float32",
    ):
        tg.grad(lambda v: v * v, holomorphic=True)(tg.tensor(1.0))
    with pytest.raises(TypeError, match="requires outputs with complex dtype, but got Float64"):
        tg.grad(tnp.abs, holomorphic=True)(z)
    with pytest.raises(TypeError, match="value_and_grad with holomorphic=True requires inputs"):
        tg.value_and_grad(lambda v: v * v, holomorphic=True)(2.0)
    # without it, unchanged: a real loss's gradient is dL/dx - i dL/dy
    np.testing.assert_allclose(complex(np.asarray(tg.grad(lambda v: tnp.abs(v) ** 2)(z))), 2 - 4j)


def test_python_complex_arguments_to_transforms():
    # A Python complex (or a list of them) was refused by every transform ("got complex"), and a
    # list of complex numbers was a pytree of 0-d leaves where a list of floats is one array.
    assert complex(np.asarray(tg.grad(lambda v: v * v, holomorphic=True)(1 + 2j))) == 2 + 4j
    g = tg.grad(lambda v: (tnp.abs(v) ** 2).sum())([1 + 2j, 3j])
    assert isinstance(g, tg.Tensor) and g.dtype == tg.complex64
    np.testing.assert_allclose(np.asarray(g), [2 - 4j, -6j])
    assert tg.vmap(lambda v: v * v)([1 + 2j, 1j]).tolist() == [(-3 + 4j), (-1 + 0j)]
    p, t = tg.jvp(lambda v: v * v, (1 + 2j,), (1.0 + 0j,))
    assert complex(np.asarray(p)) == -3 + 4j and complex(np.asarray(t)) == 2 + 4j
    np.testing.assert_allclose(
        np.asarray(tg.jacrev(lambda v: v * v, holomorphic=True)(1 + 2j)), 2 + 4j
    )


def test_custom_jvp_rule_check_with_array_arguments_not_differentiated():
    # The check's cache keys on the other arguments: a Tensor given to nondiff_argnums must not be
    # compared elementwise (or by a reused id) against an earlier one.
    calls = []

    @tg.custom_jvp
    def f(scale, x):
        calls.append(1)
        return tg.sin(x) * scale

    f = tg.custom_jvp(f.fun, nondiff_argnums=(0,))

    @f.defjvp
    def _(scale, primals, tangents):
        return tg.sin(primals[0]) * scale, tg.cos(primals[0]) * tangents[0] * scale

    for k in range(4):
        s = tg.tensor([1.0, 2.0, float(k)])
        _, t = tg.jvp(lambda v, s=s: f(s, v), (tg.ones(3),), (tg.ones(3),))
        np.testing.assert_allclose(np.asarray(t), np.cos(1.0) * np.array([1.0, 2.0, k]), rtol=1e-6)
    assert len(calls) == 1  # same shapes and dtypes: checked once
