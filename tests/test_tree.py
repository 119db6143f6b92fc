"""The C++ pytree flatten/unflatten (Note [Pytrees in C]) against the Python reference in _tree."""

import collections

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tapegrad as tg
from tapegrad import _tree

NT = collections.namedtuple("NT", "a b")


def _is_leaf(x):
    return isinstance(x, (tg.Tensor, np.ndarray))


leaves = st.one_of(
    st.integers(-5, 5),
    st.floats(allow_nan=False),
    st.none(),
    st.text(max_size=2),
    st.builds(lambda v: tg.tensor([v]), st.floats(-1, 1)),
    st.builds(lambda v: np.array([v]), st.floats(-1, 1)),
)
trees = st.recursive(
    leaves,
    lambda c: st.one_of(
        st.lists(c, max_size=3),
        st.tuples(c, c),
        st.builds(NT, c, c),
        st.dictionaries(st.one_of(st.text(max_size=2), st.integers(-3, 3)), c, max_size=3),
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(trees)
def test_flatten_matches_python(tree):
    l1, d1 = _tree.flatten(tree, _is_leaf)
    l2, d2 = _tree.py_flatten(tree, _is_leaf)
    assert d1 == d2
    assert len(l1) == len(l2) and all(a is b for a, b in zip(l1, l2))
    assert repr(_tree.unflatten(d1, l1)) == repr(_tree.py_unflatten(d2, l2))
    # the round trip gives the same tree up to dict order (keys come back sorted)
    l3, d3 = _tree.flatten(_tree.unflatten(d2, list(l2)), _is_leaf)
    assert d3 == d2 and all(a is b for a, b in zip(l3, l2))


def test_is_leaf_decides_first():
    # a list of numbers taken as one leaf, as the transforms' plain-argument rule does
    l, d = _tree.flatten({"x": [1.0, 2.0], "y": (3,)}, lambda x: isinstance(x, list))
    assert (
        l == [[1.0, 2.0], 3]
        and d == _tree.py_flatten({"x": [1.0, 2.0], "y": (3,)}, lambda x: isinstance(x, list))[1]
    )


def test_dict_keys_sorted_by_repr_and_subclasses():
    od = collections.OrderedDict([("b", 1), ("a", 2)])
    l, d = _tree.flatten(od, _is_leaf)
    assert l == [2, 1] and d[1] == ("a", "b")
    assert _tree.unflatten(d, l) == {"a": 2, "b": 1}


def test_errors():
    a = []
    a.append(a)
    with pytest.raises(RecursionError):
        _tree.flatten(a, _is_leaf)
    with pytest.raises(ZeroDivisionError):
        _tree.flatten([1], lambda x: 1 / 0)
    _, d = _tree.flatten((1, 2), _is_leaf)
    with pytest.raises(ValueError, match="fewer leaves"):
        _tree.unflatten(d, [1])
    with pytest.raises(TypeError, match="tree definition"):
        _tree.unflatten("leaf", [1])
    with pytest.raises(TypeError, match="unknown tree node"):
        _tree.unflatten(("set", ()), [])


def test_transforms_take_pytrees_through_it():
    params = {"w": tg.tensor([1.0, 2.0]), "b": (tg.tensor(3.0), [tg.tensor([4.0])])}

    def loss(p):
        return (p["w"] ** 2).sum() + p["b"][0] * p["b"][1][0].sum()

    g = tg.grad(loss)(params)
    np.testing.assert_allclose(g["w"].numpy(), [2.0, 4.0])
    np.testing.assert_allclose(g["b"][0].numpy(), 4.0)
    np.testing.assert_allclose(g["b"][1][0].numpy(), [3.0])
