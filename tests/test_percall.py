"""Per-call path of the transforms (issue 15): numpy arrays straight into the C++ fast paths, and
transforms made per call leave no garbage behind (Note [Self-reference by weakref])."""

import gc
import pickle
import weakref

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import ops


def rosen(x):
    return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()


X = np.linspace(-1.0, 1.5, 10)


def test_value_and_grad_ndarray_matches_tensor():
    vg = tg.value_and_grad(rosen)
    v1, g1 = vg(X)
    v2, g2 = vg(tg.tensor(X))
    assert g1.dtype == tg.float64 and v1.dtype == tg.float64
    np.testing.assert_array_equal(np.asarray(g1), np.asarray(g2))
    assert float(v1) == float(v2)
    # strided and non-native-order arrays take the same path (copied where they cannot be borrowed)
    v3, g3 = vg(np.ascontiguousarray(X[::-1])[::-1])
    np.testing.assert_array_equal(np.asarray(g3), np.asarray(g2))
    assert float(v3) == float(v2)
    v4, g4 = vg(X.astype(">f8"))
    np.testing.assert_array_equal(np.asarray(g4), np.asarray(g2))
    assert float(v4) == float(v2)


def test_ndarray_at_other_positions_is_passed_on_unchanged():
    seen = []

    def f(x, c):
        seen.append(type(c))
        return (x * tg.tensor(c)).sum()

    g = tg.grad(f)(X, np.ones(10))
    np.testing.assert_array_equal(np.asarray(g), np.ones(10))
    assert seen == [np.ndarray]


def test_integer_ndarray_is_still_refused():
    with pytest.raises(TypeError, match="floating-point"):
        tg.grad(lambda x: (x * x).sum())(np.arange(3))
    with pytest.raises(TypeError, match="floating-point"):
        tg.value_and_grad(lambda x: (x * x).sum())(np.arange(3))


def test_jit_ndarray_arguments_replay():
    j = tg.jit(tg.value_and_grad(rosen))
    v1, g1 = j(X)
    v2, g2 = j(X + 1.0)
    assert float(v1) == float(rosen(tg.tensor(X)))
    np.testing.assert_allclose(np.asarray(g1), np.asarray(tg.grad(rosen)(X)), rtol=1e-12)
    info = j.cache_info()
    assert info["records"] == 1 and info["replays"] == 1
    v3, g3 = tg.value_and_grad(rosen)(tg.tensor(X + 1.0))
    np.testing.assert_allclose(np.asarray(g2), np.asarray(g3), rtol=1e-12)
    assert float(v2) == pytest.approx(float(v3), rel=1e-12)
    # mixed Tensor and ndarray arguments, and the object dtype refused as tg.tensor refuses it
    h = tg.jit(lambda a, b: a * b)
    np.testing.assert_array_equal(np.asarray(h(tg.tensor(X), X)), X * X)
    with pytest.raises(TypeError, match="numpy dtype object"):
        h(X, np.array([None, 1], dtype=object))


@pytest.mark.parametrize(
    "make",
    [
        lambda f: tg.grad(f),
        lambda f: tg.value_and_grad(f),
        lambda f: ops.GradOperation(get_all=True)(f),
        lambda f: tg.jacrev(f),
        lambda f: tg.jacfwd(f),
        lambda f: tg.vmap(f),
    ],
)
def test_transform_functions_are_freed_without_the_collector(make):
    was = gc.isenabled()
    gc.disable()
    try:
        g = make(lambda x: (x * x).sum())
        g(tg.tensor([1.0, 2.0]))
        r = weakref.ref(g)
        del g
        assert r() is None
    finally:
        if was:
            gc.enable()


def test_transform_functions_still_pickle_by_value():
    cloudpickle = pytest.importorskip("cloudpickle")

    def square(x):
        return x * x

    def total(x):
        return (x * x).sum()

    for make, f in (
        (tg.grad, total),
        (tg.value_and_grad, total),
        (tg.jacrev, square),
        (tg.vmap, square),
    ):
        g = make(f)
        back = pickle.loads(cloudpickle.dumps(g))
        x = tg.tensor([1.0, 2.0])
        a, b = g(x), back(x)
        if isinstance(a, tuple):
            a, b = a[1], b[1]
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_graph_mode_still_reaches_the_function_itself():
    g = tg.grad(lambda x: (x * x).sum())
    old = tg.get_context("mode")
    tg.set_context(mode=tg.GRAPH_MODE)
    try:
        r1 = g(tg.tensor([1.0, 2.0]))
        r2 = g(tg.tensor([3.0, 4.0]))
    finally:
        tg.set_context(mode=old)
    np.testing.assert_array_equal(np.asarray(r1), [2.0, 4.0])
    np.testing.assert_array_equal(np.asarray(r2), [6.0, 8.0])
    assert "_tg_graph" in g.__dict__


def test_jit_tuple_outputs_keep_their_type_on_replay():
    import collections

    Pair = collections.namedtuple("Pair", "a b")
    x = tg.tensor([1.0, 2.0])
    for make, kind in (
        (lambda a: (a, a * 2), tuple),
        (lambda a: [a, a * 2], list),
        (lambda a: Pair(a, a * 2), Pair),
        (lambda a: (a, 3), tuple),
        (lambda a: (a,), tuple),
    ):
        j = tg.jit(make)
        first, again = j(x), j(x + 1)
        assert type(first) is kind and type(again) is kind
        assert j.cache_info()["replays"] == 1
        np.testing.assert_array_equal(np.asarray(again[0]), [2.0, 3.0])
        if kind is Pair:
            np.testing.assert_array_equal(np.asarray(again.b), [4.0, 6.0])
        elif len(again) == 1:
            continue
        elif not isinstance(again[1], int):
            np.testing.assert_array_equal(np.asarray(again[1]), [4.0, 6.0])
        else:
            assert again[1] == 3


# ---- one call per gradient (Note [One call per gradient] in csrc/bindings/autodiff.cpp) ----------

X4 = np.array([0.1, 0.2, 0.3, 0.4], np.float32)


def square_sum(x):
    return (x * x).sum()


FAST_CASES = {
    "grad": (lambda f: tg.grad(f), lambda v, g: g),
    "value_and_grad": (lambda f: tg.value_and_grad(f), lambda v, g: (v, g)),
    "GradOperation": (lambda f: ops.GradOperation()(f), lambda v, g: g),
    "GradOperation_get_all": (lambda f: ops.GradOperation(get_all=True)(f), lambda v, g: (g,)),
}


def _assert_tree_close(got, want):
    """`got` has the structure of `want`, whose leaves are numbers or lists of numbers (the value of
    a Tensor leaf of `got`)."""
    if isinstance(got, tg.Tensor):
        np.testing.assert_allclose(got.asnumpy(), np.asarray(want), rtol=1e-6)
    elif isinstance(want, (tuple, list)):
        assert type(got) is type(want) and len(got) == len(want)
        for a, b in zip(got, want):
            _assert_tree_close(a, b)
    elif isinstance(want, dict):
        assert isinstance(got, dict) and sorted(got) == sorted(want)
        for k in want:
            _assert_tree_close(got[k], want[k])
    else:
        raise AssertionError(f"expected a Tensor, got {type(got).__name__}")


@pytest.mark.parametrize("case", sorted(FAST_CASES))
@pytest.mark.parametrize(
    "arg",
    [lambda: tg.tensor(X4), lambda: X4.copy(), lambda: X4.tolist()],
    ids=["tensor", "ndarray", "list"],
)
def test_fast_path_results_and_one_run_of_fn_per_call(case, arg):
    make, expect = FAST_CASES[case]
    calls = []

    def f(x):
        calls.append(1)
        return (x * x).sum()

    fn = make(f)
    for _ in range(3):
        r = fn(arg())
        _assert_tree_close(r, expect(float((X4.astype(np.float64) ** 2).sum()), 2 * X4))
    # A declined argument (a list) is converted before fn runs: fn never runs twice for one call.
    assert len(calls) == 3


@pytest.mark.parametrize("case", sorted(FAST_CASES))
def test_fast_path_nested_outputs_finish_in_python(case):
    make, _ = FAST_CASES[case]

    def f(x):
        return ((x * x).sum(), [x.sum()])

    r = make(f)(tg.tensor(X4))
    g = 2 * X4 + 1
    if case == "value_and_grad":
        v, gr = r
        _assert_tree_close(v, (float((X4.astype(np.float64) ** 2).sum()), [float(X4.sum())]))
        _assert_tree_close(gr, g)
    elif case == "GradOperation_get_all":
        _assert_tree_close(r, (g,))
    else:
        _assert_tree_close(r, g)


def test_fast_path_tuple_and_list_outputs_keep_their_type():
    v, _ = tg.value_and_grad(lambda x: ((x * x).sum(), x.sum()))(tg.tensor(X4))
    assert type(v) is tuple
    v, _ = tg.value_and_grad(lambda x: [(x * x).sum(), x.sum()])(tg.tensor(X4))
    assert type(v) is list


def test_fast_path_several_inputs_and_scalars():
    f = lambda x, y, s: (x * y * s).sum()
    x, y = tg.tensor([1.0, 2.0]), np.array([3.0, 4.0], np.float32)
    gx, gy, gs = ops.GradOperation(get_all=True)(f)(x, y, tg.tensor(2.0))
    _assert_tree_close((gx, gy, gs), ([6.0, 8.0], [2.0, 4.0], 11.0))
    # A Python scalar at a differentiated position is converted (Float32), then differentiated.
    _assert_tree_close(tg.grad(f, grad_position=2)(x, y, 2.0), 11.0)
    _assert_tree_close(tg.grad(lambda x: x * x)(3.0), 6.0)
    # At other positions it is passed on as it is.
    _assert_tree_close(tg.grad(f)(x, y, 2), [6.0, 8.0])


def test_fast_path_errors_are_the_general_paths():
    with pytest.raises(TypeError, match="floating-point"):
        tg.grad(lambda x: x.sum())(np.array([1, 2], np.int32))
    with pytest.raises(TypeError, match="floating-point"):
        tg.grad(lambda x: x)(True)
    with pytest.raises(IndexError, match="grad_position 3"):
        tg.grad(lambda x: x.sum(), grad_position=3)(tg.tensor([1.0]))
    with pytest.raises(TypeError, match="at least one input"):
        ops.GradOperation()(lambda: tg.tensor(1.0))()
    assert ops.GradOperation(get_all=True)(lambda: tg.tensor(1.0))() == ()


def test_exception_in_fn_propagates_and_leaves_no_level_behind():
    def bad(x):
        raise ValueError("boom")

    for fn in (tg.grad(bad), tg.value_and_grad(bad), ops.GradOperation(get_all=True)(bad)):
        with pytest.raises(ValueError, match="boom"):
            fn(tg.tensor(X4))
        assert not tg._core._levels_active()
    # A later gradient works.
    _assert_tree_close(tg.grad(square_sum)(X4), 2 * X4)


def test_negative_positions_take_the_same_result():
    f = lambda x, y: (x * x * y).sum()
    x, y = tg.tensor([1.0, 2.0]), tg.tensor([3.0, 4.0])
    _assert_tree_close(tg.grad(f, grad_position=-1)(x, y), [1.0, 4.0])
    _assert_tree_close(tg.grad(f, grad_position=(1, -2))(x, y), ([1.0, 4.0], [6.0, 16.0]))


def test_gradients_in_new_threads_and_after_they_end():
    # The per-thread caches (Note [Per-thread caches]) are made on a thread's first use.
    import threading

    out = [None] * 4

    def work(i):
        out[i] = ops.GradOperation(get_all=True)(square_sum)(X4 * (i + 1))[0].asnumpy()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, g in enumerate(out):
        np.testing.assert_allclose(g, 2 * X4 * (i + 1), rtol=1e-6)
    _assert_tree_close(tg.grad(square_sum)(X4), 2 * X4)


# ---- pytrees with mixed leaves, has_aux and weights (the general path) -----------------------------


def tree_fn(p):
    return (p["a"] * p["a"]).sum() + (p["b"][0] * p["b"][1]).sum() * p["c"]


def _tree_arg():
    return {
        "a": np.array([1.0, 2.0], np.float32),
        "b": ([0.5, 1.5], tg.tensor([2.0, 3.0])),
        "c": np.float32(2.0),
    }


def test_mixed_leaf_pytree_in_grad_and_value_and_grad():
    want = {"a": [2.0, 4.0], "b": ([4.0, 6.0], [1.0, 3.0]), "c": 5.5}
    _assert_tree_close(tg.grad(tree_fn)(_tree_arg()), want)
    v, g = tg.value_and_grad(tree_fn)(_tree_arg())
    _assert_tree_close(v, 16.0)
    _assert_tree_close(g, want)
    _assert_tree_close(ops.GradOperation(get_all=True)(tree_fn)(_tree_arg()), (want,))


def test_mixed_leaf_pytree_with_has_aux_and_weights():
    w = tg.Parameter(tg.tensor([2.0, 1.0]), name="w")

    def f(p):
        y = tree_fn(p) + (w * p["a"]).sum()
        return y, {"n": p["c"], "a": p["a"]}

    (g, wg), aux = tg.grad(f, weights=[w], has_aux=True)(_tree_arg())
    _assert_tree_close(g["a"], [4.0, 5.0])
    _assert_tree_close(wg, ([1.0, 2.0],))
    _assert_tree_close(aux, {"n": 2.0, "a": [1.0, 2.0]})
    ((v, aux2), (g2, wg2)) = tg.value_and_grad(f, weights=[w], has_aux=True)(_tree_arg())
    _assert_tree_close(v, 20.0)
    _assert_tree_close(aux2["n"], 2.0)
    _assert_tree_close(g2["c"], 5.5)
    _assert_tree_close(wg2, ([1.0, 2.0],))


def test_mixed_leaf_pytree_in_vjp_jvp_and_jacobians():
    p = _tree_arg()
    out, vjp_fn = tg.vjp(tree_fn, p)
    _assert_tree_close(out, 16.0)
    (ct,) = vjp_fn(tg.tensor(1.0))
    _assert_tree_close(ct["b"], ([4.0, 6.0], [1.0, 3.0]))
    jr = tg.jacrev(tree_fn)(_tree_arg())
    _assert_tree_close(jr["a"], [2.0, 4.0])
    jf = tg.jacfwd(tree_fn)(_tree_arg())
    _assert_tree_close(jf["c"], 5.5)
    x, t = [1.0, 2.0], np.array([1.0, 0.0], np.float32)
    prim, tan = tg.jvp(lambda x: (x * x).sum(), x, t)
    _assert_tree_close((prim, tan), (5.0, 2.0))


# ---- Note [Unregistered tensor objects] and Note [Fast Tensor methods] ----------------------------


def test_result_objects_are_plain_owned_tensors():
    x = tg.tensor([1.0, 2.0, 3.0])
    y = x * x  # a result object made without pybind11's instance registry
    r = weakref.ref(y)
    assert r() is y
    np.testing.assert_array_equal(np.asarray(y), [1.0, 4.0, 9.0])
    # a view of its memory keeps the value alive after the object is gone
    a = np.asarray(y)
    del y
    gc.collect()
    assert r() is None
    np.testing.assert_array_equal(a, [1.0, 4.0, 9.0])
    # many results made and dropped (the registry is not involved in either direction)
    for _ in range(1000):
        z = (x * 2.0).sum()
    assert float(z) == 12.0
    # every kind of result works as before: lists of tensors, copies, pickles, subclass instances
    parts = tg.split(tg.arange(6.0), 3)
    assert [p.shape for p in parts] == [(2,), (2,), (2,)]
    assert pickle.loads(pickle.dumps(x + 1.0)).tolist() == [2.0, 3.0, 4.0]
    w = tg.Parameter(tg.tensor([2.0]), name="w")
    assert isinstance(w, tg.Tensor) and float((w * w).sum()) == 4.0
    g = tg.grad(lambda v: (v * v).sum())(x)
    assert weakref.ref(g)() is g and g.tolist() == [2.0, 4.0, 6.0]


@pytest.mark.parametrize("name", ["sum", "mean"])
def test_fast_sum_and_mean_methods_match_the_functions(name):
    x = tg.tensor(np.arange(24.0).reshape(2, 3, 4))
    meth, fn = getattr(tg.Tensor, name), getattr(tg, name)
    assert type(vars(tg.Tensor)[name]).__name__ == "instancemethod"
    assert meth.__doc__.startswith(
        f"{name}(self: object, axis: object = None, keepdims: object = False)"
    )
    for args, kw in [
        ((), {}),
        ((1,), {}),
        (((0, 2),), {}),
        ((-1, True), {}),
        ((), {"axis": 1}),
        ((None,), {"keepdims": True}),
        ((), {"keepdims": True, "axis": (0, 1)}),
    ]:
        got = getattr(x, name)(*args, **kw)
        want = fn(x, *args, **kw)
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    # called on the class with a non-Tensor self: converted as the function converts it
    assert float(meth([1.0, 2.0, 3.0])) == float(fn(tg.tensor([1.0, 2.0, 3.0])))
    # differentiable as before
    g = tg.grad(lambda v: getattr(v, name)(axis=0).sum())(x)
    np.testing.assert_allclose(np.asarray(g), np.full((2, 3, 4), 1.0 if name == "sum" else 0.5))
    errors = [
        (lambda: getattr(x, name)(foo=1), TypeError, "unexpected keyword argument 'foo'"),
        (lambda: getattr(x, name)(0, axis=1), TypeError, "multiple values for argument 'axis'"),
        (lambda: getattr(x, name)(0, False, keepdims=True), TypeError, "multiple values"),
        (lambda: getattr(x, name)(0, False, 3), TypeError, "positional"),
        (lambda: meth(), TypeError, "positional"),
        (lambda: getattr(x, name)(keepdims="a"), TypeError, "keepdims"),
        (lambda: getattr(x, name)(axis=5), IndexError, name),
        (lambda: getattr(x, name)(axis=1.5), TypeError, "axis"),
        (lambda: meth("abc"), TypeError, name),
    ]
    for f, exc, msg in errors:
        with pytest.raises(exc, match=msg):
            f()
    # an integer tensor keeps the function's result dtype
    xi = tg.tensor([[1, 2], [3, 4]])
    assert getattr(xi, name)().dtype == fn(xi).dtype


# ---- Note [Gradient functions in C] ----------------------------------------------------------------


@pytest.mark.parametrize(
    "make, expect, kwargs",
    [
        (lambda f: tg.grad(f), lambda x: 2 * x, True),
        (lambda f: tg.value_and_grad(f), lambda x: ((x * x).sum(), 2 * x), True),
        (lambda f: ops.GradOperation(get_all=True)(f), lambda x: (2 * x,), False),
        (lambda f: ops.GradOperation()(f), lambda x: 2 * x, False),
    ],
)
def test_c_gradient_functions_behave_as_the_python_ones(make, expect, kwargs):
    runs = []

    def total(x, scale=1.0):
        """Sum of squares."""
        runs.append(1)
        return (x * x).sum() * scale

    total.tag = "kept"
    g = make(total)
    assert isinstance(g, tg._core._GradFn)
    # the wrapped function's metadata, its attributes and signature
    assert g.__name__ == "total" and g.__doc__ == "Sum of squares." and g.__wrapped__ is total
    assert g.__module__ == total.__module__ and g.tag == "kept"
    import inspect

    assert list(inspect.signature(g).parameters) == ["x", "scale"]
    x = np.array([1.0, 2.0, 3.0])

    def check(got):
        want = expect(np.asarray(x))
        for a, b in zip(
            got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)
        ):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b))

    # Tensor, ndarray and list arguments (lists are declined by C and converted in Python): fn
    # runs once per call on every path
    for arg in (tg.tensor(x), x, x.tolist()):
        runs.clear()
        check(g(arg))
        assert len(runs) == 1
    # keyword arguments take the Python path (GradOperation's function takes none, as before)
    runs.clear()
    if not kwargs:
        with pytest.raises(TypeError, match="keyword"):
            g(tg.tensor(x), scale=1.0)
    else:
        check(g(tg.tensor(x), scale=1.0))
        assert len(runs) == 1
    # errors: no arguments, a non-float argument; the level stack is left empty
    with pytest.raises((TypeError, IndexError)):
        g()
    with pytest.raises(TypeError):
        g(tg.tensor([1, 2]))
    assert not tg._core._levels_active()

    # an exception inside fn propagates and leaves no level behind
    def bad_fn(v):
        raise ZeroDivisionError("inside fn")

    with pytest.raises(ZeroDivisionError, match="inside fn"):
        make(bad_fn)(tg.tensor([1.0, 2.0]))
    assert not tg._core._levels_active()
    # weak references; pickled, it is the Python closure with the same results
    r = weakref.ref(g)
    assert r() is g
    cloudpickle = pytest.importorskip("cloudpickle")
    back = pickle.loads(cloudpickle.dumps(g))
    check(back(tg.tensor(x)))


def test_c_gradient_function_nested_output_and_method_binding():
    runs = []

    def f(x):
        runs.append(1)
        return {"a": x * x, "b": (x.sum(),)}

    g = ops.GradOperation(get_all=True)(f)
    (gx,) = g(tg.tensor([1.0, 2.0]))
    np.testing.assert_allclose(np.asarray(gx), [3.0, 5.0])
    assert len(runs) == 1

    class Model:
        # stored on a class it binds as a function does (the instance becomes the first argument)
        loss = tg.grad(lambda self, x: (x * x).sum(), grad_position=1)

    m = Model()
    assert isinstance(Model.__dict__["loss"], tg._core._GradFn)
    assert m.loss.__self__ is m and m.loss.__func__ is Model.__dict__["loss"]
    assert Model.loss is Model.__dict__["loss"]
    # (a non-Tensor argument such as the instance is refused, as it was by the Python function)
    with pytest.raises(TypeError, match="contains a Model"):
        m.loss(tg.tensor([1.0, 2.0]))


def test_c_gradient_function_in_graph_mode_and_nested():
    g = ops.GradOperation(get_all=True)(lambda x: (x * x * x).sum())
    old = tg.get_context("mode")
    tg.set_context(mode=tg.GRAPH_MODE)
    try:
        (r,) = g(tg.tensor([1.0, 2.0]))
    finally:
        tg.set_context(mode=old)
    np.testing.assert_allclose(np.asarray(r), [3.0, 12.0])
    # second order through the C object
    gg = tg.grad(lambda x: tg.grad(lambda y: (y * y * y).sum())(x).sum())
    np.testing.assert_allclose(np.asarray(gg(tg.tensor([1.0, 2.0]))), [6.0, 12.0])


@pytest.mark.parametrize("jac", [tg.jacrev, tg.jacfwd])
def test_c_jacobian_functions_behave_as_the_python_ones(jac):
    runs = []

    def f(x):
        """Elementwise."""
        runs.append(1)
        return tg.sin(x) * x

    j = jac(f)
    assert isinstance(j, tg._core._GradFn) and j.__name__ == "f" and j.__wrapped__ is f
    x = np.array([0.5, 1.0, 2.0])
    want = np.diag(np.cos(x) * x + np.sin(x))
    # a Tensor (C), an ndarray, a list and a Parameter (the Python function): fn runs once each
    for arg in (tg.tensor(x), x, x.tolist(), tg.Parameter(tg.tensor(x), name="p")):
        runs.clear()
        got = j(arg)
        assert len(runs) == 1
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6)
    # pytree outputs and aux come back in the Python function's structure
    jt = jac(lambda v: {"a": v * v, "b": (v.sum(),)})(tg.tensor([1.0, 2.0]))
    np.testing.assert_allclose(np.asarray(jt["a"]), [[2.0, 0.0], [0.0, 4.0]])
    np.testing.assert_allclose(np.asarray(jt["b"][0]), [1.0, 1.0])
    ja, aux = jac(lambda v: (v * v, {"s": v.sum()}), has_aux=True)(tg.tensor([1.0, 2.0]))
    np.testing.assert_allclose(np.asarray(ja), [[2.0, 0.0], [0.0, 4.0]])
    assert float(aux["s"]) == 3.0
    # errors as before; no level left behind
    with pytest.raises(TypeError):
        j(tg.tensor([1, 2]))
    with pytest.raises((TypeError, IndexError)):
        j()
    assert not tg._core._levels_active()
    cloudpickle = pytest.importorskip("cloudpickle")
    back = pickle.loads(cloudpickle.dumps(j))
    np.testing.assert_allclose(np.asarray(back(tg.tensor(x))), want, rtol=1e-6)
    # graph mode and nesting (hessian = jacfwd(jacrev))
    old = tg.get_context("mode")
    tg.set_context(mode=tg.GRAPH_MODE)
    try:
        np.testing.assert_allclose(np.asarray(j(tg.tensor(x))), want, rtol=1e-6)
    finally:
        tg.set_context(mode=old)
    h = tg.hessian(lambda v: (v * v * v).sum())(tg.tensor([1.0, 2.0]))
    np.testing.assert_allclose(np.asarray(h), [[6.0, 0.0], [0.0, 12.0]])


def test_c_gradient_function_with_a_tuple_of_positions():
    runs = []

    def f(x, y, k):
        runs.append(1)
        return (x * y * y).sum() * k

    x, y = tg.tensor([1.0, 2.0]), tg.tensor([3.0, 4.0])
    g = tg.grad(f, grad_position=(0, 1))
    assert isinstance(g, tg._core._GradFn)
    gx, gy = g(x, y, 2.0)
    np.testing.assert_allclose(np.asarray(gx), [18.0, 32.0])
    np.testing.assert_allclose(np.asarray(gy), [12.0, 32.0])
    # negative and repeated positions, ndarray and list arguments (declined by C: the Python path)
    for args in ((x, y, 2.0), (np.array([1.0, 2.0]), y, 2.0), (x, [3.0, 4.0], 2.0)):
        runs.clear()
        r = tg.grad(f, grad_position=(1, -2, 0))(*args)
        assert len(runs) == 1 and len(r) == 3
        np.testing.assert_allclose(np.asarray(r[0]), [12.0, 32.0])
        np.testing.assert_allclose(np.asarray(r[1]), [12.0, 32.0])
        np.testing.assert_allclose(np.asarray(r[2]), [18.0, 32.0])
    v, (gx2,) = tg.value_and_grad(f, grad_position=(0,))(x, y, 2.0)
    assert float(v) == 2.0 * (9.0 + 32.0)
    np.testing.assert_allclose(np.asarray(gx2), [18.0, 32.0])
    # a nested output is finished in Python on the same run
    runs.clear()
    h = tg.grad(lambda a, b: (runs.append(1), {"p": a * b})[1], grad_position=(0, 1))
    ha, hb = h(x, y)
    assert len(runs) == 1
    np.testing.assert_allclose(np.asarray(ha), [3.0, 4.0])
    np.testing.assert_allclose(np.asarray(hb), [1.0, 2.0])
    # errors are the Python function's
    with pytest.raises(IndexError, match="grad_position 5 is out of range"):
        tg.grad(f, grad_position=(0, 5))(x, y, 2.0)
    with pytest.raises(TypeError, match="floating-point"):
        tg.grad(f, grad_position=(0, 2))(x, y, tg.tensor(2))
    assert not tg._core._levels_active()


def test_c_gradient_function_with_has_aux():
    x = tg.tensor([1.0, 2.0])
    runs = []

    def f(v):
        runs.append(1)
        return (v * v).sum(), v.sum()

    g = tg.grad(f, has_aux=True)
    assert isinstance(g, tg._core._GradFn)
    gx, aux = g(x)
    np.testing.assert_allclose(np.asarray(gx), [2.0, 4.0])
    assert float(aux) == 3.0 and not tg._core._any_tracked([aux])
    (value, aux2), gx2 = tg.value_and_grad(f, has_aux=True)(x)
    assert float(value) == 5.0 and float(aux2) == 3.0
    np.testing.assert_allclose(np.asarray(gx2), [2.0, 4.0])
    # several aux values, nested tuples, plain leaves (C); dicts and lists (the Python pytree)
    for aux_of, check in [
        (lambda v: (v * 2, (v, 3.0, None)), lambda a: a[1][1] == 3.0 and a[1][2] is None),
        (lambda v: ({"a": v, "b": [v]},), lambda a: sorted(a) == ["a", "b"] and len(a["b"]) == 1),
        (lambda v: ([v, 1],), lambda a: isinstance(a, list) and a[1] == 1),
    ]:
        runs.clear()
        h = tg.grad(
            lambda v, aux_of=aux_of: (runs.append(1), ((v * v).sum(), *aux_of(v)))[1], has_aux=True
        )
        gh, a = h(x)
        assert len(runs) == 1 and check(a)
        np.testing.assert_allclose(np.asarray(gh), [2.0, 4.0])
        leaves = [
            t for t in tg._tree.flatten(a, lambda z: not isinstance(z, (tuple, list, dict)))[0]
        ]
        assert not tg._core._any_tracked([t for t in leaves if isinstance(t, tg.Tensor)])
    # a pytree primary output is finished in Python on the same run
    runs.clear()
    gp, ap = tg.grad(lambda v: (runs.append(1), ({"p": (v * v).sum()}, v))[1], has_aux=True)(x)
    assert len(runs) == 1
    np.testing.assert_allclose(np.asarray(gp), [2.0, 4.0])
    np.testing.assert_allclose(np.asarray(ap), [1.0, 2.0])
    # tuple positions with aux
    (ga, gb), a = tg.grad(lambda u, w: ((u * w).sum(), w), grad_position=(0, 1), has_aux=True)(x, x)
    np.testing.assert_allclose(np.asarray(ga), [1.0, 2.0])
    np.testing.assert_allclose(np.asarray(gb), [1.0, 2.0])
    np.testing.assert_allclose(np.asarray(a), [1.0, 2.0])
    # errors as the Python function's, no level left behind
    with pytest.raises(TypeError, match="must return a tuple"):
        tg.grad(lambda v: (v * v).sum(), has_aux=True)(x)
    with pytest.raises(TypeError, match=r"must return a Tensor \(or a tuple of them\), got \(\)"):
        tg.grad(lambda v: ((), v), has_aux=True)(x)
    with pytest.raises(TypeError, match="NoneType"):
        tg.grad(lambda v: (None, v), has_aux=True)(x)
    assert not tg._core._levels_active()


@pytest.mark.parametrize(
    "make",
    [
        lambda f: tg.grad(f, 2**63),
        lambda f: tg.grad(f, 2**63, has_aux=True),
        lambda f: tg.value_and_grad(f, 2**63),
        lambda f: tg.grad(f, (0, 2**63)),
        lambda f: tg.jacrev(f, 2**63),
        lambda f: tg.jacfwd(f, 2**63),
    ],
)
def test_huge_position_is_an_index_error_at_call(make):
    # beyond a C int the gradient function stays in Python, whose call names the position
    g = make(lambda x: (x.sum(), x))
    with pytest.raises(IndexError, match="9223372036854775808 is out of range"):
        g(tg.ones(2))
