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
