"""Robustness of the API of sections 8-13 (devices and memory, sparse Jacobians, tapegrad.scipy, the
standard array namespace): each test guards one behaviour that an adversarial probe found giving a
silently wrong answer or an unhelpful error, or pins a clean error for misuse."""

from __future__ import annotations

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import numpy as tnp

scipy = pytest.importorskip("scipy")


def _dense(fn, x):
    x = tg.tensor(np.asarray(x))
    out = fn(x)
    return tg.jacrev(fn)(x).numpy().reshape(out.size, x.size)


# ---- sparse Jacobians: detection through complex values ---------------------------------------


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: tnp.real(x.astype(tnp.complex128) * x[::-1].astype(tnp.complex128)),
        lambda x: tnp.abs(x.astype(tnp.complex128) * 1j + x[::-1]),
        lambda x: tnp.imag(tnp.conj(x[1:].astype(tnp.complex128) * (1 + 2j)) * x[:-1]),
        lambda x: tnp.real(tnp.flip(x.astype(tnp.complex128), 0)[1:] * x[:-1]),
    ],
    ids=["real_of_product", "abs", "imag_conj", "complex_flip"],
)
def test_sparse_pattern_follows_dependencies_through_complex_values(fn):
    # The pattern used to drop every dependency that went through a complex intermediate: the
    # sparse Jacobian came back all zeros where the dense one is not.
    x = np.random.default_rng(0).random(5) + 0.5
    d = _dense(fn, x)
    p = tg.jacobian_pattern(fn, x).toarray()
    assert not ((d != 0) & ~p).any()
    for mode in ("fwd", "rev", "auto"):
        np.testing.assert_allclose(tg.sparse_jacobian(fn, x, mode=mode).toarray(), d, atol=1e-12)


# ---- sparse Jacobians and Hessians: decisions that depend on x --------------------------------


def _branchy(x):
    return x * 2 if float(x[0]) > 0 else x[::-1] * 3


def _branchy_energy(x):
    if float(x[0]) > 0:
        return (x[1:] * x[:-1]).sum()
    return (x[0] * x).sum() + (x**3).sum()


@pytest.mark.parametrize("mode", ["auto", "fwd", "rev"])
def test_sparse_jacobian_reused_where_a_python_decision_changes(mode):
    # The pattern of the branch taken at x_example was used to read the sweep of the other
    # branch: a silently wrong (diagonal) Jacobian for an anti-diagonal one.
    J = tg.SparseJacobian(_branchy, np.ones(4), mode=mode)
    for x in (-np.ones(4), np.ones(4), np.array([-1.0, 2.0, 3.0, 4.0])):
        np.testing.assert_array_equal(J(x).toarray(), _dense(_branchy, x))


def test_sparse_jacobian_pattern_of_index_computed_from_x():
    def f(x):
        return x[tg.argsort(x)] * x[0]

    J = tg.SparseJacobian(f, np.array([0.1, 0.5, 0.3, 0.9]))
    for x in (np.array([0.9, 0.1, 0.5, 0.3]), np.array([0.2, 0.4, 0.6, 0.8])):
        np.testing.assert_allclose(J(x).toarray(), _dense(f, x))


def test_sparse_hessian_reused_where_a_python_decision_changes():
    H = tg.SparseHessian(_branchy_energy, np.ones(5))
    for x in (-np.ones(5), np.ones(5) * 2):
        want = tg.hessian(_branchy_energy)(tg.tensor(x)).numpy()
        np.testing.assert_allclose(H(x).toarray(), want)


def test_sparse_jacobian_without_decisions_keeps_one_detection():
    J = tg.SparseJacobian(lambda x: x[1:] * x[:-1], np.ones(4))
    assert J._decisions is None
    np.testing.assert_allclose(J(np.arange(4.0)).toarray()[0, :2], [1.0, 0.0])


# ---- sparse Jacobians: functions without a forward-mode rule ----------------------------------


def _custom_square():
    @tg.custom_vjp
    def sq(x):
        return x * x

    sq.defvjp(lambda x: (x * x, x), lambda res, g: (2 * res * g,))
    return sq


def test_sparse_jacobian_auto_mode_takes_reverse_for_custom_vjp():
    # auto picked forward mode and raised, where the dense jacrev works.
    sq = _custom_square()

    def f(x):
        return sq(x)[::-1]

    x = np.random.default_rng(1).random(4)
    J = tg.SparseJacobian(f, x)
    assert J.mode == "rev"
    np.testing.assert_allclose(J(x).toarray(), _dense(f, x))
    np.testing.assert_allclose(tg.sparse_jacobian(f, x).toarray(), _dense(f, x))


def test_sparse_jacobian_forced_forward_mode_still_names_the_missing_rule():
    sq = _custom_square()
    with pytest.raises(TypeError, match="forward-mode rule"):
        tg.sparse_jacobian(lambda x: sq(x), np.ones(3), mode="fwd")


# ---- sparse Jacobians: misuse ------------------------------------------------------------------


def _tri(x):
    return x[2:] - 2 * x[1:-1] + x[:-2] + tg.sin(x[1:-1])


@pytest.mark.parametrize(
    "kw, exc, frag",
    [
        (dict(mode="forward"), ValueError, "mode"),
        (dict(mode=None), ValueError, "mode"),
        (dict(pattern=np.ones((3, 4))), ValueError, "pattern"),
        (dict(pattern=np.ones(15)), ValueError, "pattern"),
        (dict(pattern=np.ones((3, 5, 1))), ValueError, "pattern"),
    ],
    ids=["mode_spelling", "mode_none", "pattern_shape", "pattern_1d", "pattern_3d"],
)
def test_sparse_jacobian_bad_arguments(kw, exc, frag):
    with pytest.raises(exc, match=frag):
        tg.sparse_jacobian(_tri, np.ones(5), **kw)


@pytest.mark.parametrize(
    "x, exc",
    [
        (np.ones(7), ValueError),
        (np.ones((2, 3)), ValueError),
        (None, TypeError),
        ("abcdef", TypeError),
        ([[1.0], [1.0, 2.0]], TypeError),
    ],
    ids=["other_size", "other_ndim", "none", "str", "ragged"],
)
def test_sparse_jacobian_object_called_with_another_signature(x, exc):
    J = tg.SparseJacobian(_tri, np.ones(6))
    with pytest.raises(exc, match="SparseJacobian"):
        J(x)


@pytest.mark.parametrize("ret", [None, "s", 1.0], ids=["none", "str", "python_float"])
def test_sparse_jacobian_function_returning_no_tensor(ret):
    with pytest.raises(TypeError, match="must return one Tensor"):
        tg.sparse_jacobian(lambda x: ret, tg.ones(3))


# ---- tapegrad.scipy ------------------------------------------------------------------------------


def test_least_squares_passes_scipy_kwargs_to_residuals_and_jacobian():
    import tapegrad.scipy as tgs

    c = np.array([1.0, 2.0])
    for jit in (False, True):
        res = tgs.least_squares(
            lambda x, c=0.0: (x - c) ** 3 + (x - c), [0.0, 0.0], kwargs={"c": c}, jit=jit
        )
        np.testing.assert_allclose(res.x, c, atol=1e-8)
        np.testing.assert_allclose(res.jac, np.eye(2), atol=1e-6)


def test_least_squares_kwargs_must_be_a_dict():
    import tapegrad.scipy as tgs

    with pytest.raises(TypeError, match="kwargs must be a dict"):
        tgs.least_squares(lambda x, c=0.0: x - c, [0.0], kwargs=[("c", 1.0)])


@pytest.mark.parametrize("jit", ["yes", "no", 1, None], ids=["yes", "no", "one", "none"])
def test_scipy_helpers_jit_must_be_a_bool(jit):
    import tapegrad.scipy as tgs

    f = lambda x: ((x - 1) ** 2).sum()
    with pytest.raises(TypeError, match="jit must be True or False"):
        tgs.minimize(f, np.zeros(2), method="BFGS", jit=jit)
    with pytest.raises(TypeError, match="jit must be True or False"):
        tgs.least_squares(lambda x: x - 1, np.zeros(2), jit=jit)
    with pytest.raises(TypeError, match="jit must be True or False"):
        tgs.ode_jacobian(lambda t, y: -y, jit=jit)


# ---- standard array namespace: asarray --------------------------------------------------------


class _DLPackOnly:
    """A producer with nothing but the DLPack protocol (as a cupy or jax array looks from here)."""

    def __init__(self, a):
        self.a = a

    def __dlpack__(self, **kw):
        return self.a.__dlpack__(**kw)

    def __dlpack_device__(self):
        return self.a.__dlpack_device__()


@pytest.mark.parametrize("copy", [None, True, False], ids=["copy_none", "copy_true", "copy_false"])
def test_asarray_takes_any_dlpack_producer(copy):
    a = np.arange(4.0)
    t = tnp.asarray(_DLPackOnly(a), copy=copy)
    assert t.tolist() == [0.0, 1.0, 2.0, 3.0] and t.dtype == tg.float64
    a[0] = 9.0
    assert float(t[0]) == (0.0 if copy else 9.0)


def test_asarray_dlpack_producer_with_dtype():
    t = tnp.asarray(_DLPackOnly(np.arange(3.0)), dtype=tnp.float32)
    assert t.dtype == tg.float32 and t.tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="copy=False"):
        tnp.asarray(_DLPackOnly(np.arange(3.0)), dtype=tnp.float32, copy=False)


@pytest.mark.parametrize("copy", ["yes", "False", 2, 0.5, [True]], ids=str)
def test_asarray_copy_must_be_bool_or_none(copy):
    with pytest.raises(ValueError, match="copy must be True, False or None"):
        tnp.asarray([1.0, 2.0], copy=copy)


@pytest.mark.parametrize("copy", [True, False, None, 1, 0, np.True_], ids=str)
def test_asarray_copy_accepts_what_numpy_accepts(copy):
    t = tg.ones(2)
    out = tnp.asarray(t, copy=copy)
    assert (out is t) == (not copy)


# ---- DLPack arguments ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw, frag",
    [
        (dict(stream="x"), "stream must be None or an integer"),
        (dict(stream=1.5), "stream must be None or an integer"),
        (dict(max_version=("a", 0)), "max_version must be a tuple of two integers"),
        (dict(max_version=(1,)), "max_version must be a tuple of two integers"),
        (dict(max_version=(2**70, 0)), "max_version must be a tuple of two integers"),
        (dict(max_version="x"), "max_version must be a tuple of two integers"),
        (dict(dl_device=(1.5, 0)), "dl_device must be a tuple of two integers"),
        (dict(dl_device="cpu"), "dl_device must be a tuple of two integers"),
        (dict(copy="x"), "copy must be True, False or None"),
        (dict(copy=np.array([1, 2])), "copy must be True, False or None"),
    ],
    ids=lambda v: repr(v) if isinstance(v, dict) else "",
)
def test_dlpack_export_arguments_are_checked_by_name(kw, frag):
    # These were generic cast errors ("an argument of type str is not supported here") or, for a
    # string stream, silently accepted.
    with pytest.raises(TypeError, match=frag):
        tg.ones(2).__dlpack__(**kw)


@pytest.mark.parametrize(
    "kw",
    [
        dict(stream=None),
        dict(stream=-1),
        dict(max_version=(1, 0)),
        dict(max_version=[1, 0]),
        dict(dl_device=(1, 0)),
        dict(copy=True),
        dict(copy=np.False_),
    ],
    ids=repr,
)
def test_dlpack_export_accepts_valid_arguments(kw):
    cap = tg.arange(3.0).__dlpack__(**kw)
    assert type(cap).__name__ == "PyCapsule"


@pytest.mark.parametrize("device", ["cpu", "CPU", (1, 0), None], ids=repr)
def test_from_dlpack_device_spellings(device):
    # "cpu" (numpy's and the Array API's spelling, accepted by tg.tensor) was refused.
    a = np.arange(3.0)
    assert tg.from_dlpack(a, device=device).tolist() == [0.0, 1.0, 2.0]
    assert tg.from_dlpack(a, device=tg.ones(1).device).tolist() == [0.0, 1.0, 2.0]


@pytest.mark.parametrize(
    "kw, frag",
    [
        (dict(device="gpu"), "device must be None, 'CPU'"),
        (dict(device=("a", 0)), "device must be a tuple of two integers"),
        (dict(copy="yes"), "copy must be True, False or None"),
        (dict(copy=2), "copy must be True, False or None"),
    ],
    ids=lambda v: repr(v) if isinstance(v, dict) else "",
)
def test_from_dlpack_bad_arguments(kw, frag):
    with pytest.raises(TypeError, match=frag):
        tg.from_dlpack(np.ones(2), **kw)


# ---- plain arguments: lists that no array can hold ----------------------------------------------


def _self_referential():
    x = [1.0]
    x.append(x)
    return x


def _deep(depth):
    y = 1.0
    for _ in range(depth):
        y = [y]
    return y


@pytest.mark.parametrize(
    "make",
    [_self_referential, lambda: _deep(70), lambda: _deep(100_000)],
    ids=["self_referential", "deeper_than_64", "deeper_than_the_stack"],
)
@pytest.mark.parametrize(
    "call",
    [
        tg.tensor,
        tg.grad(lambda x: (x * x).sum()),
        tg.jacrev(lambda x: x * 2),
        tg.vmap(lambda x: x * 2),
        tg.jit(lambda x: x * 2),
    ],
    ids=["tensor", "grad", "jacrev", "vmap", "jit"],
)
def test_unholdable_lists_are_a_value_error(make, call):
    # These recursed until Python's stack gave out (RecursionError), in the check that tells a
    # number list from a pytree and then in repr() for the error message.
    with pytest.raises(ValueError, match="cannot make a tensor from"):
        call(make())


def test_tensor_error_message_of_a_huge_list_is_cut():
    with pytest.raises(ValueError) as info:
        tg.tensor([list(range(10**5)), [1]])
    assert len(str(info.value)) < 1000 and "..." in str(info.value)


# ---- pickling the reusable sparse objects -------------------------------------------------------


def _tridiagonal_residual(x):  # module level: picklable by reference
    return x[2:] - 2 * x[1:-1] + x[:-2] + tg.sin(x[1:-1]) * x[1:-1]


def _arrow_energy(x):
    return (x[0] * x).sum() + (x**4).sum()


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
@pytest.mark.parametrize("mode", ["auto", "rev"])
def test_sparse_jacobian_pickles(how, mode):
    # It raised AttributeError (a local function inside) or TypeError (the recorded sweep).
    import copy
    import pickle

    J = tg.SparseJacobian(_tridiagonal_residual, np.ones(8), mode=mode)
    J2 = pickle.loads(pickle.dumps(J)) if how == "pickle" else copy.deepcopy(J)
    x = np.random.default_rng(2).random(8)
    assert (J2.mode, J2.num_colors) == (J.mode, J.num_colors)
    np.testing.assert_array_equal(J2(x).toarray(), J(x).toarray())


def test_sparse_jacobian_with_a_given_pattern_pickles_it():
    import pickle

    p = np.ones((6, 8))
    J = tg.SparseJacobian(_tridiagonal_residual, np.ones(8), pattern=p)
    J2 = pickle.loads(pickle.dumps(J))
    assert J2.pattern.nnz == 48
    x = np.random.default_rng(3).random(8)
    np.testing.assert_allclose(J2(x).toarray(), J(x).toarray())


def test_sparse_hessian_pickles():
    import pickle

    H = tg.SparseHessian(_arrow_energy, np.ones(6))
    H2 = pickle.loads(pickle.dumps(H))
    x = np.random.default_rng(4).random(6)
    assert H2.num_colors == H.num_colors == 2
    np.testing.assert_array_equal(H2(x).toarray(), H(x).toarray())


def test_sparse_jacobian_of_a_lambda_is_a_pickling_error():
    import pickle

    with pytest.raises((pickle.PicklingError, AttributeError)):
        pickle.dumps(tg.SparseJacobian(lambda x: x * 2, np.ones(3)))


# ---- numpy functions on Tensors: options tapegrad's function takes itself ----------------------


@pytest.mark.parametrize(
    "kw",
    [
        dict(mode="constant"),
        dict(mode="constant", constant_values=7),
        dict(constant_values=((1, 2), (3, 4))),
        dict(mode="reflect"),
        dict(mode="edge"),
        dict(mode="symmetric"),
        dict(mode="wrap"),
    ],
    ids=repr,
)
def test_numpy_pad_on_tensors_takes_its_modes(kw):
    # np.pad's mode was checked against np.take's only default ('raise'): even the default
    # mode='constant', spelled out, was refused, and so was constant_values.
    a = np.arange(6.0).reshape(2, 3) - 2
    out = np.pad(tg.tensor(a), 1, **kw)
    assert isinstance(out, tg.Tensor)
    np.testing.assert_array_equal(out.numpy(), np.pad(a, 1, **kw))


def test_numpy_pad_on_tensors_is_differentiable():
    g = tg.grad(lambda x: np.pad(x, 1, mode="reflect").sum())(tg.tensor([1.0, 2.0, 3.0]))
    assert g.tolist() == [1.0, 3.0, 1.0]


def test_numpy_pad_unsupported_mode_names_the_modes():
    with pytest.raises(ValueError, match="linear_ramp"):
        np.pad(tg.ones(3), 1, mode="linear_ramp")


@pytest.mark.parametrize("copy", [None, True, False], ids=repr)
def test_numpy_reshape_on_tensors_passes_copy(copy):
    # copy= was passed positionally to tapegrad's reshape (a TypeError) or, for True, dropped.
    t = tg.arange(6.0)
    out = np.reshape(t, (3, 2), copy=copy)
    assert isinstance(out, tg.Tensor) and out.shape == (3, 2)
    out[0, 0] = 99.0
    assert float(t[0]) == (0.0 if copy else 99.0)


def test_numpy_take_other_modes_still_refused_clearly():
    with pytest.raises(TypeError, match="mode='wrap' is not supported"):
        np.take(tg.ones(3), [0], mode="wrap")


# ---- standard namespace: empty operands ---------------------------------------------------------


@pytest.mark.parametrize(
    "sa, sb, axes",
    [((2, 0), (0, 2), 1), ((2, 0, 3), (0, 3, 4), 2), ((0, 3), (3, 0), 1), ((3, 0), (0,), 1)],
    ids=str,
)
def test_tensordot_over_an_empty_axis_is_zeros(sa, sb, axes):
    # A contracted axis of length 0 made reshape(-1, 0) ambiguous: a ValueError where numpy
    # gives zeros.
    a, b = np.ones(sa), np.ones(sb)
    out = tnp.tensordot(tnp.asarray(a), tnp.asarray(b), axes=axes)
    np.testing.assert_array_equal(out.numpy(), np.tensordot(a, b, axes=axes))


def test_tensordot_over_an_empty_axis_has_a_gradient():
    g = tg.grad(lambda a: tnp.tensordot(a, tnp.asarray(np.ones((0, 2))), axes=1).sum())(
        tnp.asarray(np.ones((2, 0)))
    )
    assert g.shape == (2, 0)


@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (0, 0), (4, 3, 0), (2, 0, 5)], ids=str)
def test_matrix_rank_of_empty_matrices_is_zero(shape):
    # amax over no singular values raised ValueError; numpy gives rank 0.
    out = tnp.linalg.matrix_rank(tnp.asarray(np.zeros(shape)))
    assert out.dtype == tg.int64
    np.testing.assert_array_equal(out.numpy(), np.linalg.matrix_rank(np.zeros(shape)))


# ---- devices: a GPU asked for where none can be used ---------------------------------------------

_NO_GPU = not tg.cuda.is_available()


@pytest.mark.skipif(not _NO_GPU, reason="a GPU is available here")
@pytest.mark.parametrize(
    "call",
    [
        lambda: tg.ones(2).to("GPU"),
        lambda: tg.ones(2).to("cuda"),
        lambda: tg.tensor([1.0], device="cuda"),
        lambda: tg.zeros(2, device="GPU"),
        lambda: tg.arange(3, device="GPU"),
        lambda: tg.set_context(device_target="GPU"),
        lambda: tg.ones(2).to_device("gpu"),
    ],
    ids=["to_GPU", "to_cuda", "tensor", "zeros", "arange", "set_context", "to_device"],
)
def test_unavailable_gpu_is_a_value_error_and_a_runtime_error(call):
    # It was a bare RuntimeError, where the Array API functions (asarray(device="GPU")) raise
    # ValueError for the same request: now both, so that either kind of handler catches it.
    with pytest.raises(tg.cuda.DeviceUnavailableError, match="only the CPU is available") as info:
        call()
    assert isinstance(info.value, ValueError) and isinstance(info.value, RuntimeError)
    assert tg.get_context("device_target") == "CPU"


def test_unavailable_gpu_message_says_what_is_missing():
    from tapegrad import cuda

    if cuda.is_available():
        pytest.skip("a GPU is available here")
    with pytest.raises(cuda.DeviceUnavailableError) as info:
        tg.ones(2).to("GPU")
    if not cuda._built():  # it said "built but its plugin does not load" for a CPU-only build
        assert "not built" in str(info.value)
    else:
        assert "is built" in str(info.value)


# ---- finfo / iinfo / can_cast of things that are no dtype ------------------------------------


@pytest.mark.parametrize("fn", ["finfo", "iinfo", "can_cast"])
@pytest.mark.parametrize("arg", [None, "abc", 3, object()], ids=["none", "str", "int", "object"])
def test_dtype_inspection_of_no_dtype_names_the_function(fn, arg):
    # finfo(None) gave float64's limits (numpy's deprecated reading); the others raised numpy's
    # message, which names no function.
    f = getattr(tnp, fn)
    with pytest.raises(TypeError, match=f"{fn}: expected a dtype or a Tensor"):
        f(arg, tnp.float64) if fn == "can_cast" else f(arg)


# ---- tapegrad.dask arguments (local scheduler, no cluster) ---------------------------------------


def _dask_rows():
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(5)
    X = da.from_array(rng.random((20, 3)), chunks=(7, 3))
    y = da.from_array(rng.random(20), chunks=(7,))
    return X, y


def _lsq_loss(w, X, y):
    return ((X @ w - y) ** 2).sum()


@pytest.mark.parametrize("split_every", [np.int64(3), np.int32(2), 4], ids=repr)
def test_dask_split_every_takes_numpy_ints(split_every):
    # numpy integers were refused ("must be an int >= 2, got np.int64(3)").
    import tapegrad.dask as tgd

    X, y = _dask_rows()
    v, g = tgd.value_and_grad(_lsq_loss, np.zeros(3), X, y, split_every=split_every)
    vr, gr = tg.value_and_grad(_lsq_loss)(
        tg.tensor(np.zeros(3)), tg.tensor(X.compute()), tg.tensor(y.compute())
    )
    np.testing.assert_allclose(float(v), float(vr))
    np.testing.assert_allclose(np.asarray(g), gr.numpy())


@pytest.mark.parametrize("split_every", [True, 2.0, 1, np.bool_(True), "3"], ids=repr)
def test_dask_split_every_refuses_non_ints(split_every):
    import tapegrad.dask as tgd

    X, y = _dask_rows()
    with pytest.raises(ValueError, match="split_every must be an int >= 2"):
        tgd.value_and_grad(_lsq_loss, np.zeros(3), X, y, split_every=split_every)


def test_dask_dict_params_name_the_function():
    import tapegrad.dask as tgd

    X, y = _dask_rows()
    with pytest.raises(TypeError, match=r"value_and_grad: params\[0\] must be a Tensor"):
        tgd.value_and_grad(lambda p, X, y: _lsq_loss(p["w"], X, y), {"w": np.zeros(3)}, X, y)


@pytest.mark.parametrize("helper", ["ode_fun", "ode_jacobian"])
def test_ode_helpers_refuse_complex_states(helper):
    # A complex y (solve_ivp integrates complex systems) was cast to float64, dropping the
    # imaginary parts with only numpy's ComplexWarning: a silently wrong right-hand side.
    import tapegrad.scipy as tgs

    f = getattr(tgs, helper)(lambda t, y: -y * y)
    with pytest.raises(TypeError, match=f"{helper}: y must be real numbers"):
        f(0.0, np.ones(2) + 1j)
    assert np.asarray(f(0.0, [1, 2])).dtype == np.float64


@pytest.mark.parametrize("kind", ["tensor", "numpy"])
def test_sparse_jacobian_sees_a_closed_over_index_array_changed_in_place(kind):
    # The index array is a recorded decision: changed in place, the pattern of the old indices
    # decompressed the new sweep (identity instead of the permutation).
    idx = tg.tensor([0, 1, 2]) if kind == "tensor" else np.array([0, 1, 2])

    def f(x):
        return x[idx] * 2

    J = tg.SparseJacobian(f, np.ones(3))
    np.testing.assert_array_equal(J(np.ones(3)).toarray(), 2 * np.eye(3))
    idx[0], idx[2] = 2, 0
    np.testing.assert_array_equal(J(np.ones(3)).toarray(), 2 * np.eye(3)[[2, 1, 0]])


def test_sparse_hessian_sees_a_closed_over_index_array_changed_in_place():
    idx = np.array([0, 1, 2, 3])

    def f(x):
        return (x[idx[:2]] * x[idx[2:]]).sum()

    H = tg.SparseHessian(f, np.ones(4))
    idx[:] = [0, 2, 1, 3]
    x = np.arange(1.0, 5.0)
    np.testing.assert_array_equal(H(x).toarray(), tg.hessian(f)(tg.tensor(x)).numpy())
