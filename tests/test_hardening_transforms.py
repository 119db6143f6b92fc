"""Robustness of the transforms (vmap, custom rules), devices and tapegrad.scipy against misuse:
each test guards one behaviour that a probe found wrong (a misleading message, a silent
misreading of an argument, an error from deep inside SciPy)."""

import numpy as np
import pytest

import tapegrad as tg

# ---- vmap ---------------------------------------------------------------------------------------


def test_vmap_dict_in_axes_keys_must_match_the_argument():
    d = {"a": tg.ones((2, 3)), "b": tg.ones(3)}
    f = lambda d: d["a"] + d["b"]
    # A misspelt key used to be ignored and the missing key mapped on axis 0 ("mapped axes have
    # different sizes: 2 and 3"); JAX refuses the mismatch.
    with pytest.raises(ValueError, match=r"vmap: axes specification has keys \['a', 'c'\] but"):
        tg.vmap(f, in_axes=({"a": 0, "c": None},))(d)
    with pytest.raises(ValueError, match=r"vmap: axes specification has keys \['a'\]"):
        tg.vmap(f, in_axes=({"a": 0},))(d)
    assert tg.vmap(f, in_axes=({"a": 0, "b": None},))(d).shape == (2, 3)


def test_vmap_dict_out_axes_keys_must_match_the_output():
    f = lambda x: {"s": x.sum(), "x": x}
    with pytest.raises(ValueError, match="outputs"):
        tg.vmap(f, out_axes={"s": 0, "y": 0})(tg.ones((2, 3)))
    r = tg.vmap(f, out_axes={"s": 0, "x": 1})(tg.ones((2, 3)))
    assert (r["s"].shape, r["x"].shape) == ((2,), (3, 2))


@pytest.mark.parametrize(
    "kw, expected",
    [
        (dict(b=tg.tensor([1.0, 2.0])), [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]),
        (dict(b=np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])), [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
    ],
    ids=["tensor", "numpy"],
)
def test_vmap_keyword_arguments_are_mapped_over_axis_0(kw, expected):
    # JAX maps keyword arguments over their leading axis; the wrapper refused them before with
    # "<lambda>() got an unexpected keyword argument 'b'" although the function takes b.
    f = tg.vmap(lambda a, b=1.0: a * b)
    assert f(tg.ones((2, 3)), **kw).tolist() == expected


def test_vmap_keyword_arguments_with_unmapped_positionals():
    f = tg.vmap(lambda a, b: a + b, in_axes=(None,))
    assert f(tg.ones(3), b=tg.tensor([0.0, 1.0])).tolist() == [[1.0] * 3, [2.0] * 3]
    with pytest.raises(ValueError, match="vmap: mapped axes have different sizes: 2 and 3"):
        tg.vmap(lambda a, b: a + b)(tg.ones((2, 3)), b=tg.ones((3, 3)))


def test_vmap_keyword_arguments_in_graph_mode():
    f = tg.vmap(lambda a, b: a * b)
    tg.set_context(mode=tg.GRAPH_MODE)
    try:
        r = f(tg.ones((2, 3)), b=tg.tensor([1.0, 2.0]).reshape(2, 1))
    finally:
        tg.set_context(mode=tg.PYNATIVE_MODE)
    assert r.tolist() == [[1.0] * 3, [2.0] * 3]


def test_vmap_none_outputs_come_back_as_none():
    # None is an empty output in JAX; it was "tensor: cannot make a tensor from None".
    assert tg.vmap(lambda a: None)(tg.ones((2, 3))) is None
    r = tg.vmap(lambda a: (a * 2, None))(tg.ones((2, 3)))
    assert r[0].shape == (2, 3) and r[1] is None


@pytest.mark.parametrize("ret", ["x", object(), {1, 2}], ids=["str", "object", "set"])
def test_vmap_unconvertible_output_names_vmap(ret):
    with pytest.raises(TypeError, match="vmap: the function must return tensors, numbers"):
        tg.vmap(lambda a: ret)(tg.ones((2, 3)))


# ---- custom_vjp -----------------------------------------------------------------------------------


def _mul_vjp():
    @tg.custom_vjp
    def f(x, y=2.0):
        return x * y

    f.defvjp(lambda x, y=2.0: (f(x, y), (x, y)), lambda r, g: (g * r[1], g * r[0]))
    return f


@pytest.mark.parametrize(
    "call, expected",
    [
        (lambda f, x: f(x, y=tg.tensor([3.0, 4.0])), [3.0, 4.0]),
        (lambda f, x: f(x=x, y=tg.tensor([3.0, 4.0])), [3.0, 4.0]),
    ],
    ids=["keyword", "all_keywords"],
)
def test_custom_vjp_takes_keyword_arguments(call, expected):
    # JAX binds keyword arguments to their positions; custom_vjp.__call__ took none.
    f = _mul_vjp()
    x = tg.tensor([1.0, 2.0])
    assert tg.grad(lambda x: call(f, x).sum())(x).tolist() == expected


def test_custom_vjp_keywords_count_as_if_positional():
    # Defaults fill only the gaps before the last argument given: f(x, b=t) is f(x, 1.0, t), and
    # f(x) keeps its one cotangent (as before keywords were taken).
    @tg.custom_vjp
    def f(x, a=1.0, b=1.0):
        return x * a * b

    def bwd(xs, g):
        seen.append(len(xs))
        scale = 1.0
        for v in xs[1:]:
            scale = scale * v
        return (g * scale,) + (None,) * (len(xs) - 1)

    seen = []
    f.defvjp(lambda *xs: (f(*xs), xs), bwd)
    x = tg.tensor([1.0, 2.0])
    assert tg.grad(lambda x: f(x, b=tg.tensor(3.0)).sum())(x).tolist() == [3.0, 3.0]
    assert tg.grad(lambda x: f(x).sum())(x).tolist() == [1.0, 1.0]
    assert seen == [3, 1]

    @tg.custom_vjp
    def one(x, scale=2.0):
        return x * scale

    one.defvjp(lambda x, scale=2.0: (one(x, scale), scale), lambda s, g: (g * s,))
    assert tg.grad(lambda x: one(x).sum())(x).tolist() == [2.0, 2.0]


def test_custom_vjp_bad_keyword_names_the_function():
    f = _mul_vjp()
    with pytest.raises(TypeError, match="custom_vjp f: .*unexpected keyword argument 'z'"):
        f(tg.ones(2), z=1.0)


def test_custom_vjp_keyword_only_arguments_are_refused():
    @tg.custom_vjp
    def g(x, *, k):
        return x * k

    g.defvjp(lambda x, *, k: (g(x, k=k), k), lambda k, ct: (ct * k,))
    with pytest.raises(TypeError, match="custom_vjp g: keyword-only arguments are not supported"):
        tg.grad(lambda x: g(x, k=2.0).sum())(tg.ones(2))


@pytest.mark.parametrize(
    "fwd, bwd, which", [(1, lambda r, g: (g,), "fwd"), (lambda x: (x, ()), None, "bwd")]
)
def test_custom_vjp_rules_must_be_callable(fwd, bwd, which):
    # defvjp(1, 2) was accepted; the failure came at the first differentiated call.
    @tg.custom_vjp
    def f(x):
        return x

    with pytest.raises(TypeError, match=f"custom_vjp.defvjp: {which} must be callable"):
        f.defvjp(fwd, bwd)


def test_custom_vjp_of_a_non_callable_is_a_type_error():
    with pytest.raises(TypeError, match="custom_vjp: expected a function, got int"):
        tg.custom_vjp(3)


# ---- devices --------------------------------------------------------------------------------------


@pytest.mark.parametrize("device", ["cuda:0", "cpu:0", "CPU:1", "gpu:0", "Ascend"])
def test_to_with_an_indexed_or_unknown_device_is_a_device_error(device):
    # "cuda:0" was read as a dtype name ("dtype: 'cuda:0' is not a supported dtype"), where
    # tg.tensor(..., device="cuda:0") says what devices there are.
    with pytest.raises(ValueError, match=f"to: device must be 'CPU' or 'GPU', got '{device}'"):
        tg.ones(2).to(device)


@pytest.mark.parametrize("target", [None, 3, 2.5, True], ids=repr)
def test_to_with_neither_device_nor_dtype_names_both(target):
    with pytest.raises(TypeError, match=r"to: expected a device \('CPU' or 'GPU'\) or a dtype"):
        tg.ones(2).to(target)


@pytest.mark.parametrize("target", ["CPU", "cpu", tg.float64, np.float64, "float64"], ids=repr)
def test_to_valid_targets_still_work(target):
    t = tg.ones(2).to(target)
    assert t.tolist() == [1.0, 1.0] and t.device == "CPU"


# ---- tapegrad.scipy -----------------------------------------------------------------------------

scipy = pytest.importorskip("scipy")


def _tgs():
    import tapegrad.scipy as tgs

    return tgs


@pytest.mark.parametrize(
    "call",
    [
        lambda tgs, x0: tgs.minimize(lambda x: (x * x).sum(), x0),
        lambda tgs, x0: tgs.least_squares(lambda x: x - 1.0, x0),
        lambda tgs, x0: tgs.root(lambda x: x - 1.0, x0),
    ],
    ids=["minimize", "least_squares", "root"],
)
@pytest.mark.parametrize("x0", [[], np.ones(0), np.ones((0, 3))], ids=["list", "1d", "2d"])
def test_scipy_empty_x0_is_a_clear_value_error(call, x0):
    # minimize failed with "zero-size array to reduction operation maximum which has no identity".
    with pytest.raises(ValueError, match=r"x0 is empty \(shape \("):
        call(_tgs(), x0)


@pytest.mark.parametrize("method", [3, 2.5, ("BFGS",), b"BFGS"], ids=repr)
@pytest.mark.parametrize("which", ["minimize", "least_squares", "root"])
def test_scipy_method_must_be_a_name_or_callable(which, method):
    # An int method was an AttributeError ("'int' object has no attribute 'lower'") from SciPy.
    tgs = _tgs()
    fn = getattr(tgs, which)
    f = (lambda x: (x * x).sum()) if which == "minimize" else (lambda x: x - 1.0)
    with pytest.raises(TypeError, match=f"{which}: method must be a name"):
        fn(f, np.zeros(2), method=method)


def test_scipy_valid_methods_still_work():
    tgs = _tgs()
    r = tgs.minimize(lambda x: ((x - 1.0) ** 2).sum(), np.zeros(2), method="bfgs")
    np.testing.assert_allclose(r.x, 1.0, atol=1e-5)
    r = tgs.root(lambda x: x - 1.0, np.zeros(2), method="lm")
    np.testing.assert_allclose(r.x, 1.0)


@pytest.mark.parametrize(
    "f, shape",
    [
        (lambda t, y: y.sum(), "()"),
        (lambda t, y: tg.concat([y, y]), r"\(4,\)"),
        (lambda t, y: y[:1], r"\(1,\)"),
    ],
    ids=["scalar", "longer", "shorter"],
)
@pytest.mark.parametrize("helper", ["ode_jacobian", "ode_fun"])
def test_ode_helpers_name_a_wrong_output_shape(helper, f, shape):
    # It was numpy's "cannot reshape array of size 2 into shape (2,2)".
    h = getattr(_tgs(), helper)(f)
    with pytest.raises(
        ValueError,
        match=rf"{helper}: f\(t, y\) must return an array of y's shape \(2,\), got shape {shape}",
    ):
        h(0.0, np.ones(2))


@pytest.mark.parametrize("jit", [False, True])
def test_ode_helpers_right_shapes_still_work(jit):
    tgs = _tgs()
    f = lambda t, y: tg.stack([-2.0 * y[0] + y[1], y[0] * y[1]])
    np.testing.assert_array_equal(
        tgs.ode_jacobian(f, jit=jit)(0.0, np.array([1.0, 3.0])), [[-2.0, 1.0], [3.0, 1.0]]
    )
    np.testing.assert_array_equal(tgs.ode_fun(f, jit=jit)(0.0, np.array([1.0, 3.0])), [1.0, 3.0])
    assert tgs.ode_jacobian(lambda t, y: -y)(0.0, np.ones(0)).shape == (0, 0)


@pytest.mark.parametrize("axis", [3, -4, -5, 2**70], ids=repr)
def test_vmap_out_axes_out_of_range_names_the_axis_as_given(axis):
    # out_axes=-5 was reported as "out_axes -3" (the axis after adding the result's rank).
    with pytest.raises(IndexError, match=rf"vmap: out_axes {axis} is out of range .* axes -3\.\.2"):
        tg.vmap(lambda a: a * 2, out_axes=axis)(tg.ones((2, 3, 4)))
    assert tg.vmap(lambda a: a * 2, out_axes=-3)(tg.ones((2, 3, 4))).shape == (2, 3, 4)


# ---- custom_jvp under jit and vmap ---------------------------------------------------------------


def _sin_jvp():
    @tg.custom_jvp
    def h(x, y):
        return tg.sin(x) * y

    # The rule's derivative is 2x the true one, so a result that used f's own ops would show.
    h.defjvp(lambda p, t: (h(*p), 2.0 * (tg.cos(p[0]) * p[1] * t[0] + tg.sin(p[0]) * t[1])))
    return h


@pytest.mark.parametrize(
    "make",
    [
        lambda h: tg.vmap(lambda x: h(x, x)),
        lambda h: tg.vmap(tg.grad(lambda x: h(x, x).sum())),
        lambda h: tg.vmap(lambda x: tg.jvp(lambda x: h(x, x), (x,), (tg.ones_like(x),))[1]),
        lambda h: tg.vmap(tg.vmap(lambda x: h(x, x))),
        lambda h: tg.vmap(tg.jacrev(lambda x: h(x, x))),
    ],
    ids=["vmap", "vmap_grad", "vmap_jvp", "vmap_vmap", "vmap_jacrev"],
)
def test_custom_jvp_under_jit_of_vmap_matches_eager(make):
    # tg.jit(tg.vmap(f)) of a custom_jvp function raised "the function uses a value that the
    # enclosing transform ... maps without taking it as an argument": the vmap that runs the batched
    # function inside the trace's recording let the trace record its ops as well.
    h = _sin_jvp()
    eager, jitted = make(h), tg.jit(make(h))
    for s in (1.0, 2.0, 1.0):  # the later calls replay the recording
        x = tg.tensor(np.arange(6.0).reshape(2, 3) * s / 7.0, dtype=tg.float64)
        np.testing.assert_allclose(jitted(x).numpy(), eager(x).numpy(), rtol=1e-12)


def test_custom_jvp_under_jit_of_vmap_values():
    h = _sin_jvp()
    x = np.arange(6.0).reshape(2, 3) / 7.0
    g = tg.jit(tg.vmap(tg.grad(lambda x: h(x, x).sum())))
    v = tg.jit(tg.vmap(lambda x: h(x, x)))
    for s in (1.0, 2.0, 1.0):
        xs = tg.tensor(x * s, dtype=tg.float64)
        np.testing.assert_allclose(v(xs).numpy(), np.sin(x * s) * x * s, rtol=1e-12)
        np.testing.assert_allclose(
            g(xs).numpy(), 2.0 * (np.cos(x * s) * x * s + np.sin(x * s)), rtol=1e-12
        )


@pytest.mark.parametrize("bad", ["a", 1.5, True, (0, "1"), None], ids=repr)
def test_custom_jvp_nondiff_argnums_must_be_ints(bad):
    # "a" was a ValueError from int("a"); 1.5 was read as position 1.
    with pytest.raises(
        TypeError, match="custom_jvp: nondiff_argnums must be an int or a tuple of ints"
    ):
        tg.custom_jvp(lambda x, n: x * n, nondiff_argnums=bad)
