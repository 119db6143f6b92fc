"""numpy's own functions on Tensors (Tensor.__array_function__ / __array_ufunc__): Tensors back,
differentiable; numpy's default keywords accepted; unsupported ones and unimplemented functions
inside a transform are TypeErrors."""

from __future__ import annotations

import numpy as np
import pytest

import tapegrad as tg

X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])


def t64():
    return tg.tensor(X, tg.float64)


CALLS = [
    ("sum", lambda m, x: m.sum(x)),
    ("sum_axis_keepdims", lambda m, x: m.sum(x, axis=1, keepdims=True)),
    ("sum_positional_axis", lambda m, x: m.sum(x, 0)),
    ("mean", lambda m, x: m.mean(x, axis=0)),
    ("var_ddof", lambda m, x: m.var(x, ddof=1)),
    ("std_correction", lambda m, x: m.std(x, axis=1, correction=1)),
    ("max", lambda m, x: m.max(x, axis=1)),
    ("prod", lambda m, x: m.prod(x, axis=0)),
    ("concatenate", lambda m, x: m.concatenate([x, x], axis=1)),
    ("stack", lambda m, x: m.stack([x, x])),
    ("reshape", lambda m, x: m.reshape(x, (3, 2))),
    ("transpose", lambda m, x: m.transpose(x)),
    ("where", lambda m, x: m.where(x > 0, x, 0.0)),
    ("exp", lambda m, x: m.exp(x)),
    ("tanh", lambda m, x: m.tanh(x)),
    ("maximum", lambda m, x: m.maximum(x, 0.3)),
    ("multiply", lambda m, x: m.multiply(x, x)),
    ("power", lambda m, x: m.power(m.abs(x), 1.5)),
    ("dot", lambda m, x: m.dot(x, m.transpose(x))),
    ("matmul", lambda m, x: m.matmul(x, m.transpose(x))),
    ("clip", lambda m, x: m.clip(x, -0.5, 1.0)),
    ("cumsum", lambda m, x: m.cumsum(x, axis=1)),
    ("tensordot", lambda m, x: m.tensordot(x, x, axes=([1], [1]))),
    ("hypot", lambda m, x: m.hypot(x, 1.0)),
    ("logaddexp", lambda m, x: m.logaddexp(x, 0.5 * x)),
    ("moveaxis", lambda m, x: m.moveaxis(x, 0, 1)),
    ("tril", lambda m, x: m.tril(x)),
    ("linalg.norm", lambda m, x: m.linalg.norm(x)),
    ("add.reduce", lambda m, x: m.add.reduce(x)),
    ("multiply.accumulate", lambda m, x: m.multiply.accumulate(x, axis=1)),
    ("subtract.outer", lambda m, x: m.subtract.outer(x[0], x[1])),
    ("ndarray_times_tensor", lambda m, x: X * x),
]


@pytest.mark.parametrize("name,call", CALLS, ids=[c[0] for c in CALLS])
def test_numpy_function_on_tensor_gives_tensor_equal_to_numpy(name, call):
    out = call(np, t64())
    assert isinstance(out, tg.Tensor), type(out)
    np.testing.assert_allclose(out.numpy(), np.asarray(call(np, X)), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,call", CALLS, ids=[c[0] for c in CALLS])
def test_numpy_function_on_tensor_is_differentiable(name, call):
    tg.testing.check_grads(lambda x: call(np, x), (t64(),), order=1)


def test_np_sum_accepts_numpys_default_keywords():
    # np.sum(t) used to fail: numpy called t.sum(axis=None, dtype=None, out=None).
    t = t64()
    assert float(np.sum(t)) == pytest.approx(X.sum())
    assert float(
        np.sum(t, axis=None, dtype=None, out=None, keepdims=False, where=True)
    ) == pytest.approx(X.sum())
    s = np.sum(tg.tensor([1, 2, 3], tg.int32), dtype=np.float64)
    assert s.dtype == tg.float64 and float(s) == 6.0
    assert np.mean(tg.tensor(X, tg.float32), dtype=np.float64).dtype == tg.float64


@pytest.mark.parametrize(
    "kwargs", [{"out": np.zeros(())}, {"where": np.ones(X.shape, bool)}, {"initial": 1.0}]
)
def test_np_sum_non_default_keywords_are_type_errors(kwargs):
    with pytest.raises(TypeError, match=r"numpy\.sum on Tensors: (out|where|initial)="):
        np.sum(t64(), **kwargs)


def test_ufunc_non_default_keywords_are_type_errors():
    with pytest.raises(TypeError, match="numpy.exp on Tensors: where="):
        np.exp(t64(), where=X > 0)
    with pytest.raises(TypeError, match="out= Tensors are not supported"):
        np.exp(t64(), out=t64())


def test_ufunc_out_ndarray_is_written():
    a = np.zeros(3)
    a += tg.tensor([1.0, 2.0, 3.0], tg.float64)
    assert isinstance(a, np.ndarray)
    np.testing.assert_array_equal(a, [1.0, 2.0, 3.0])


def test_unimplemented_function_falls_back_to_numpy_outside_transforms():
    t = tg.tensor([3.0, 1.0, 2.0])
    m = np.median(t)
    assert not isinstance(m, tg.Tensor) and float(m) == 2.0
    assert np.cbrt(tg.tensor([8.0], tg.float64)).tolist() == [2.0]  # a ufunc tapegrad lacks


def test_unimplemented_function_inside_a_transform_is_a_type_error():
    with pytest.raises(TypeError, match="numpy.median is not implemented by tapegrad"):
        tg.grad(lambda x: np.median(x))(tg.tensor([3.0, 1.0, 2.0]))
    with pytest.raises(TypeError, match="numpy.cbrt is not implemented by tapegrad"):
        tg.grad(lambda x: np.cbrt(x).sum())(tg.tensor([3.0, 1.0, 2.0]))


def test_numpy_functions_compose_with_every_transform():
    f = lambda x: np.sum(np.exp(np.concatenate([x, x])) * np.maximum(x, 0.0).sum())
    x = tg.tensor([0.5, -1.0, 2.0], tg.float64)
    tg.testing.check_grads(f, (x,), order=2)
    batched = tg.vmap(f)(tg.tensor(X, tg.float64))
    np.testing.assert_allclose(
        batched.numpy(), [float(f(tg.tensor(r, tg.float64))) for r in X], rtol=1e-12
    )
    np.testing.assert_allclose(tg.jit(f)(x).numpy(), f(x).numpy(), rtol=1e-12)


def test_np_where_one_argument_is_nonzero():
    (i,) = np.where(tg.tensor([0, 3, 0, 4]))
    assert isinstance(i, tg.Tensor) and i.tolist() == [1, 3]


def test_np_round_decimals():
    out = np.round(tg.tensor([1.2345, 2.5], tg.float64), 2)
    assert isinstance(out, tg.Tensor)
    np.testing.assert_allclose(out.numpy(), [1.23, 2.5])


def test_foreign_array_types_are_not_handled():
    class Other:
        def __array_function__(self, func, types, args, kwargs):
            return "other"

    # numpy asks Tensor first; it declines (NotImplemented) so Other answers.
    assert np.concatenate([tg.tensor([1.0]), Other()]) == "other"


def test_dtype_argument_passes_to_functions_that_take_one():
    v = tg.tensor([1.5, 2.5])
    assert np.astype(v, np.float64).dtype == tg.float64
    assert np.zeros_like(v, dtype=np.int32).dtype == tg.int32
    assert np.full_like(v, 3, dtype=np.int64).tolist() == [3, 3]
    assert np.cumsum(tg.tensor([1, 2], tg.int32), dtype=np.float64).dtype == tg.float64


def test_more_numpy_functions_give_tensors():
    t = tg.tensor(np.arange(1.0, 7.0).reshape(2, 3), tg.float64)
    v = tg.tensor([1.0, 2.0, 3.0], tg.float64)
    for out in (
        np.linspace(v[0], v[2], 3),
        np.pad(t, 1),
        np.einsum(t, [0, 1], v, [1], [0]),
        np.diff(v),
        np.kron(v, v),
        np.linalg.det(t[:, :2]),
        np.linalg.solve(t[:, :2], v[:2]),
        np.roll(v, 1),
        np.isin(v, v),
        np.sort(v, kind="stable"),
        np.clip(v, min=1.5),
        np.round(v / 3, 2),
    ):
        assert isinstance(out, tg.Tensor)
    assert np.allclose(t, t) is True
    g = tg.grad(lambda a, b: np.linspace(a, b, 4).sum(), grad_position=(0, 1))(v[0], v[2])
    assert [float(x) for x in g] == [2.0, 2.0]


def test_numpy_argument_errors_stay_numpys():
    with pytest.raises(TypeError, match="multiple values for argument 'axis'"):
        np.sum(t64(), 0, axis=0)
    with pytest.raises(TypeError):
        np.sum(t64(), bogus=1)


def test_in_place_numpy_functions_on_tensors_are_type_errors():
    # on the converted copy the write would be silently lost
    t = tg.tensor([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match=r"numpy\.add\.at writes into its argument"):
        np.add.at(t, [0], 1.0)
    with pytest.raises(TypeError, match="numpy.copyto writes into its argument"):
        np.copyto(t, np.zeros(3, np.float32))
    with pytest.raises(TypeError, match="numpy.fill_diagonal writes into its argument"):
        np.fill_diagonal(tg.zeros((2, 2)), 1.0)
    with pytest.raises(TypeError, match="numpy.median writes into its argument"):
        np.median(t, out=tg.zeros(()))
    assert t.tolist() == [1.0, 2.0, 3.0]
