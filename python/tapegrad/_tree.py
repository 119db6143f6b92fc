"""Minimal pytrees: tuples, lists and dicts of leaves (JAX-style flatten/unflatten).

`flatten` and `unflatten` are the C++ functions of Note [Pytrees in C] (csrc/bindings/tree.cpp);
the Python functions here define them (same tree definitions) and are what tests compare with."""

from __future__ import annotations


def py_flatten(tree, is_leaf):
    """Return (leaves, treedef). `is_leaf(x)` decides what stops the recursion."""
    leaves = []

    def go(x):
        if is_leaf(x):
            leaves.append(x)
            return ("leaf",)
        if isinstance(x, tuple) and not hasattr(x, "_fields"):
            return ("tuple", tuple(go(v) for v in x))
        if isinstance(x, tuple):  # namedtuple
            return ("namedtuple", type(x), tuple(go(v) for v in x))
        if isinstance(x, list):
            return ("list", tuple(go(v) for v in x))
        if isinstance(x, dict):
            keys = sorted(x.keys(), key=repr)
            return ("dict", tuple(keys), tuple(go(x[k]) for k in keys))
        leaves.append(x)
        return ("leaf",)

    return leaves, go(tree)


def py_unflatten(treedef, leaves):
    it = iter(leaves)

    def go(d):
        kind = d[0]
        if kind == "leaf":
            return next(it)
        if kind == "tuple":
            return tuple(go(c) for c in d[1])
        if kind == "namedtuple":
            return d[1](*[go(c) for c in d[2]])
        if kind == "list":
            return [go(c) for c in d[1]]
        if kind == "dict":
            return {k: go(c) for k, c in zip(d[1], d[2])}
        raise AssertionError(kind)

    return go(treedef)


from . import _core  # noqa: E402 - after the reference functions it mirrors

flatten = _core._tree_flatten
unflatten = _core._tree_unflatten


def tree_map(fn, tree, is_leaf):
    leaves, td = flatten(tree, is_leaf)
    return unflatten(td, [fn(x) for x in leaves])
