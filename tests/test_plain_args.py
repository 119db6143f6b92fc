"""Plain arguments in every transform (API.md section 11): numpy arrays of any dtype, order and
strides, numpy scalars, Python scalars and (nested) lists of numbers give what the same transform
gives on `tg.tensor(x)`, and the results are Tensors. Tuples, dicts and lists of anything but
numbers stay pytrees (python/tapegrad/_args.py has the rule)."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import ops


def f(x):  # scalar output
    return (tg.sin(x) * x + x * x).sum()


def g(x):  # same shape as x
    return tg.sin(x) * x


def f2(x, y):
    return (tg.sin(x) * y).sum()


PLAIN = {
    "ndarray_f32": lambda: np.array([0.5, 1.0, -2.0], np.float32),
    "ndarray_f64": lambda: np.array([0.5, 1.0, -2.0, 0.25]),
    "ndarray_int": lambda: np.array([1, 2, 3], np.int32),
    "ndarray_non_contiguous": lambda: np.linspace(-1.0, 2.0, 12)[::3],
    "ndarray_transposed": lambda: np.arange(6.0).reshape(2, 3).T * 0.3,
    "ndarray_fortran": lambda: np.asfortranarray(np.linspace(0.1, 1.2, 6).reshape(2, 3)),
    "ndarray_0d": lambda: np.array(0.3),
    "numpy_scalar_f64": lambda: np.float64(0.7),
    "numpy_scalar_f32": lambda: np.float32(-1.25),
    "python_float": lambda: 0.7,
    "python_int": lambda: 3,
    "list": lambda: [0.5, 1.0, -2.0],
    "nested_list": lambda: [[0.5, 1.0], [-2.0, 3.0], [0.1, 0.2]],
    "list_of_numpy_scalars": lambda: [np.float64(0.5), np.float64(1.5)],
    "list_of_ints": lambda: [1, 2, 3],
}


def _leaves(r):
    if isinstance(r, (tuple, list)):
        return [v for x in r for v in _leaves(x)]
    return [r]


def outcome(call):
    """("ok", [(value, dtype), ...]) with every result leaf a Tensor, or ("error", type)."""
    try:
        r = call()
    except (TypeError, ValueError) as e:
        return ("error", type(e))
    leaves = _leaves(r)
    for v in leaves:
        assert isinstance(v, tg.Tensor), f"a result is a {type(v).__name__}, not a Tensor"
    return ("ok", [(v.asnumpy(), v.dtype) for v in leaves])


def assert_same(plain_call, tensor_call):
    got, want = outcome(plain_call), outcome(tensor_call)
    assert got[0] == want[0], (got, want)
    if got[0] == "error":
        assert got[1] is want[1]
        return
    assert len(got[1]) == len(want[1])
    for (a, da), (b, db) in zip(got[1], want[1]):
        assert da == db
        np.testing.assert_array_equal(a, b)


def _vjp(x):
    out, fn = tg.vjp(g, x)
    return out, fn(tg.ones_like(out))


TRANSFORMS = {
    "grad": lambda x: tg.grad(f)(x),
    "value_and_grad": lambda x: tg.value_and_grad(f)(x),
    "grad_position_1": lambda x: tg.grad(f2, grad_position=1)(tg.tensor(0.5), x),
    "grad_positions_tuple": lambda x: tg.grad(f2, grad_position=(0, 1))(x, x),
    "vjp": _vjp,
    "jvp": lambda x: tg.jvp(g, x, x),
    "jacrev": lambda x: tg.jacrev(g)(x),
    "jacfwd": lambda x: tg.jacfwd(g)(x),
    "hessian": lambda x: tg.hessian(f)(x),
    "GradOperation": lambda x: ops.GradOperation()(f)(x),
    "GradOperation_get_all": lambda x: ops.GradOperation(get_all=True)(f2)(x, x),
    "GradOperation_sens": lambda x: ops.GradOperation(sens_param=True)(g)(
        x, tg.ones_like(tg.tensor(x))
    ),
    "vmap": lambda x: tg.vmap(g)(x),
    "vmap_grad": lambda x: tg.vmap(tg.grad(f))(x),
    "jit": lambda x: tg.jit(g)(x),
    "jit_grad": lambda x: tg.jit(tg.grad(f))(x),
    "jit_value_and_grad": lambda x: tg.jit(tg.value_and_grad(f))(x),
}


@pytest.mark.parametrize("kind", sorted(PLAIN))
@pytest.mark.parametrize("transform", sorted(TRANSFORMS))
def test_plain_argument_gives_the_tensor_result(transform, kind):
    run = TRANSFORMS[transform]
    assert_same(lambda: run(PLAIN[kind]()), lambda: run(tg.tensor(PLAIN[kind]())))


def test_plain_float_arguments_are_differentiated_with_real_values():
    # Not only "same as the Tensor call": the numbers are right. d/dx (sin(x) x + x^2).
    x = np.array([0.5, 1.0, -2.0])
    want = np.cos(x) * x + np.sin(x) + 2 * x
    for arg in (x, np.asfortranarray(x), list(x), x.tolist(), x[::-1][::-1]):
        gr = tg.grad(f)(arg)
        assert isinstance(gr, tg.Tensor)
        np.testing.assert_allclose(
            gr.asnumpy(), want, rtol=1e-6 if gr.dtype == tg.float64 else 1e-5
        )
    v, gr = tg.value_and_grad(f)(x)
    assert v.dtype == tg.float64 and abs(float(v) - (np.sin(x) * x + x * x).sum()) < 1e-12


def test_float64_ndarray_stays_float64_and_list_becomes_float32():
    assert tg.grad(f)(np.ones(3)).dtype == tg.float64
    assert tg.grad(f)(np.ones(3, np.float32)).dtype == tg.float32
    assert tg.grad(f)([1.0, 2.0]).dtype == tg.float32  # as tg.tensor([1.0, 2.0])
    assert tg.grad(f)([np.float64(1.0), 2.0]).dtype == tg.float64  # as tg.tensor of the same


def test_int_array_at_a_differentiated_position_is_a_type_error():
    with pytest.raises(TypeError, match="floating-point"):
        tg.grad(f)(np.array([1, 2, 3]))
    with pytest.raises(TypeError, match="floating-point"):
        tg.grad(f)([1, 2, 3])


def test_plain_argument_at_a_non_differentiated_position_is_passed_unchanged():
    seen = []

    def h(x, idx):
        seen.append(type(idx))
        return (x[idx] * x[idx]).sum()

    x = tg.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(tg.grad(h)(x, [0, 2]).asnumpy(), [2.0, 0.0, 6.0])
    assert seen == [list]


def test_list_of_tensors_is_a_pytree():
    a, b = tg.tensor([1.0, 2.0]), tg.tensor([3.0, 4.0])
    gr = tg.grad(lambda xs: (xs[0] * xs[1]).sum())([a, b])
    assert isinstance(gr, list) and len(gr) == 2
    np.testing.assert_array_equal(gr[0].asnumpy(), [3.0, 4.0])
    np.testing.assert_array_equal(gr[1].asnumpy(), [1.0, 2.0])


def test_tuple_of_numbers_is_a_pytree_of_scalars():
    gr = tg.grad(lambda p: p[0] * p[1])((2.0, 3.0))
    assert isinstance(gr, tuple) and [float(v) for v in gr] == [3.0, 2.0]


def test_mixed_list_is_a_pytree():
    # A list holding a Tensor is a container, whatever else it holds.
    gr = tg.grad(lambda xs: xs[0] * xs[1])([tg.tensor(2.0), 3.0])
    assert isinstance(gr, list) and [float(v) for v in gr] == [3.0, 2.0]
    # A list of arrays is a list of arguments too (only numbers make one array).
    gr = tg.grad(lambda xs: (xs[0] * xs[1]).sum())([np.ones(2), np.full(2, 5.0)])
    assert isinstance(gr, list)
    np.testing.assert_array_equal(gr[0].asnumpy(), [5.0, 5.0])


def test_dict_of_plain_values_is_a_pytree():
    gr = tg.grad(lambda d: (d["a"] * d["b"]).sum())({"a": np.array([1.0, 2.0]), "b": [3.0, 4.0]})
    assert set(gr) == {"a", "b"}
    np.testing.assert_array_equal(gr["a"].asnumpy(), [3.0, 4.0])
    np.testing.assert_array_equal(gr["b"].asnumpy(), [1.0, 2.0])


def test_ragged_list_is_a_value_error():
    with pytest.raises(ValueError, match="tensor"):
        tg.grad(f)([[1.0, 2.0], [3.0]])


def test_non_numeric_argument_is_a_type_error():
    with pytest.raises(TypeError, match="grad"):
        tg.grad(f)("abc")
    with pytest.raises(TypeError, match="jacrev"):
        tg.jacrev(g)(["a", "b"])


def test_jvp_list_inputs_are_one_array():
    out, tan = tg.jvp(g, [0.5, 1.0], [1.0, 0.0])
    x = np.array([0.5, 1.0], np.float32)
    np.testing.assert_allclose(out.asnumpy(), np.sin(x) * x, rtol=1e-6)
    np.testing.assert_allclose(tan.asnumpy(), [np.cos(0.5) * 0.5 + np.sin(0.5), 0.0], rtol=1e-6)


def test_vjp_takes_a_plain_cotangent():
    _out, fn = tg.vjp(g, np.array([0.5, 1.0]))
    (ct,) = fn([1.0, 2.0])
    x = np.array([0.5, 1.0])
    np.testing.assert_allclose(ct.asnumpy(), (np.cos(x) * x + np.sin(x)) * [1.0, 2.0], rtol=1e-6)


def test_jit_traces_arrays_numpy_scalars_and_lists():
    h = tg.jit(lambda x: (x * x).sum())
    assert float(h(np.array([1.0, 2.0]))) == 5.0
    assert float(h(np.array([3.0, 4.0]))) == 25.0  # a replay, not a new recording
    assert h.cache_info()["records"] == 1
    k = tg.jit(lambda x: x * 2)
    assert float(k(np.float64(1.5))) == 3.0 and float(k(np.float64(2.5))) == 5.0
    assert k.cache_info()["records"] == 1
    m = tg.jit(lambda x: x.sum())
    assert float(m([1.0, 2.0])) == 3.0 and float(m([4.0, 5.0])) == 9.0
    assert m.cache_info()["records"] == 1


def test_jit_keeps_python_scalars_static():
    h = tg.jit(lambda x, n: x * n)
    x = tg.tensor([1.0, 2.0])
    np.testing.assert_array_equal(h(x, 2.0).asnumpy(), [2.0, 4.0])
    np.testing.assert_array_equal(h(x, 3.0).asnumpy(), [3.0, 6.0])
    assert h.cache_info()["records"] == 2  # each value of a static argument is its own recording


def test_ndarray_argument_is_not_modified_and_not_kept_alive_by_the_result():
    x = np.array([0.5, 1.0, -2.0])
    before = x.copy()
    gr = tg.grad(f)(x)
    np.testing.assert_array_equal(x, before)
    x[:] = 0.0  # the gradient is its own memory
    np.testing.assert_allclose(gr.asnumpy(), np.cos(before) * before + np.sin(before) + 2 * before)
