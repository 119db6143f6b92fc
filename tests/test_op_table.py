"""The op table (Note [Op table]): `_core._prims()` lists every prim once, under the Python name a
user calls; every row of the elementwise table (csrc/core/elementwise_ops.def) is bound with its
docstring; error messages name ops by their Python names."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import _core

TABLE = Path(__file__).resolve().parent.parent / "csrc" / "core" / "elementwise_ops.def"

KEYS = {"name", "differentiable", "jvp", "batch", "vjp_reads", "doc", "public", "kind"}

# Prims no Python function of their own name reaches: pieces of indexing, the adjoints other prims'
# rules use, and the norms' building blocks. Each is reached through the functions in its `public`.
INTERNAL = {
    "basic_index",
    "basic_put",
    "write_basic",
    "index_gather",
    "index_add",
    "index_last_writer",
    "index_put",
    "index_pack",
    "diag_embed",
    "norm2",
    "norm_max",
    "repeat_transpose",
    "permute_along",
}


def _rows():
    """(kind, Id, name, bind, diff, reads, doc) of each row of the elementwise table."""
    text = TABLE.read_text(encoding="utf-8")
    rows = re.findall(
        r'^TG_(UNARY|BINARY|COMPARE|PREDICATE)_OP\((\w+), (\w+), (\w+), (\w+), (\w+),\nR"doc\((.*?)\)doc"\)',
        text,
        flags=re.M | re.S,
    )
    assert rows, "no rows parsed from the op table"
    assert len(rows) == text.count("\nTG_"), "a row of the op table does not have the expected form"
    return rows


def _resolve(path):
    obj = tg
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _reachable(name):
    return any(hasattr(m, name) for m in (tg, tg.numpy, tg.linalg))


PRIMS = _core._prims()
BY_NAME = {p["name"]: p for p in PRIMS}


def test_registry_has_the_interface_keys_and_unique_names():
    assert len(PRIMS) > 80
    for p in PRIMS:
        assert set(p) == KEYS, p["name"]
        assert isinstance(p["name"], str) and isinstance(p["doc"], str)
        assert isinstance(p["public"], list) and all(isinstance(n, str) for n in p["public"])
        assert p["kind"] in (None, "unary", "binary", "compare", "predicate"), p["name"]
        for k in ("differentiable", "jvp", "batch"):
            assert isinstance(p[k], bool), (p["name"], k)
        assert p["vjp_reads"] in ("inputs", "outputs", "both", "none"), p["name"]
        if not p["differentiable"]:
            assert p["vjp_reads"] == "none", p["name"]
    names = [p["name"] for p in PRIMS]
    dupes = sorted({n for n in names if names.count(n) > 1})
    assert not dupes, f"prim names used twice: {dupes}"


def test_registry_holds_every_family():
    # one or more prims of each ops file, and the two of user-defined rules
    for n in (
        "add",
        "tanh",
        "greater",
        "isnan",
        "where",
        "clip",
        "astype",
        "stop_gradient",
        "sum",
        "argmax",
        "reshape",
        "concatenate",
        "basic_index",
        "index_put",
        "matmul",
        "solve",
        "uniform",
        "argsort",
        "custom_vjp",
        "custom_jvp",
    ):
        assert n in BY_NAME, n


def test_every_prim_name_is_a_python_name():
    for p in PRIMS:
        name = p["name"]
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name), f"{name}: not a Python function name"
        if name in INTERNAL:
            assert not _reachable(name), f"{name} is public now: take it off INTERNAL"
            continue
        assert _reachable(name), (
            f"prim {name!r} is no function of tapegrad, tapegrad.numpy or tapegrad.linalg"
        )


def test_every_public_name_resolves_and_documented_prims_have_docs():
    for p in PRIMS:
        for path in p["public"]:
            assert callable(_resolve(path)), f"{p['name']}: public name {path!r} does not resolve"
        if p["public"] and p["name"] not in INTERNAL:
            assert p["doc"].strip(), f"{p['name']}: no docstring"


def test_every_table_row_is_a_prim_with_its_columns():
    for kind, _id, name, _bind, diff, reads, doc in _rows():
        p = BY_NAME[name]
        assert p["doc"] == doc, name
        assert p["differentiable"] == p["jvp"] == (diff == "Diff"), name
        assert p["batch"], name
        want = {"Inputs": "inputs", "Outputs": "outputs", "InOut": "both", "None": "none"}[reads]
        assert p["vjp_reads"] == (want if diff == "Diff" else "none"), name
        if kind in ("COMPARE", "PREDICATE"):
            assert diff == "NoDiff", name


def test_every_table_row_is_bound_with_its_docstring():
    for _kind, _id, name, bind, _diff, _reads, doc in _rows():
        first = doc.strip().splitlines()[0]
        if bind == "Operator":
            f = getattr(tg.numpy, name)
            assert callable(f) and BY_NAME[name]["public"] == [f"numpy.{name}"], name
            continue
        f = getattr(tg, name)
        assert first in f.__doc__, f"{name}: the function's docstring is not the table's"
        assert BY_NAME[name]["public"] == [name], name
        if bind == "Both":
            m = getattr(tg.Tensor, name)
            assert first in m.__doc__, f"{name}: the method's docstring is not the table's"
        else:
            assert bind == "Function", name


def test_table_bindings_compute():
    x = tg.tensor([0.25, 0.5])
    for kind, _id, name, bind, _diff, _reads, _doc in _rows():
        if bind == "Operator":
            continue
        f = getattr(tg, name)
        out = f(x) if kind in ("UNARY", "PREDICATE") else f(x, x)
        assert isinstance(out, tg.Tensor) and out.shape == (2,), name
        if bind == "Both":
            np.testing.assert_array_equal(np.asarray(getattr(x, name)()), np.asarray(out))


@pytest.mark.parametrize(
    "fn, msg",
    [
        (lambda: tg.add(tg.ones(2), tg.ones(3)), r"^add: operands could not be broadcast"),
        (lambda: tg.ones(2) - tg.ones(3), r"^sub: operands could not be broadcast"),
        (lambda: tg.greater(tg.ones(2), tg.ones(3)), r"^greater: operands could not be broadcast"),
        (lambda: tg.ones(2) <= tg.ones(3), r"^less_equal: operands could not be broadcast"),
        (lambda: tg.ones(2) & tg.ones(2), r"^bitwise_and: bitwise operations need Bool or integer"),
        (lambda: ~tg.ones(2), r"^bitwise_invert: bitwise not needs a Bool or integer"),
        (
            lambda: tg.grad(lambda x: (x * tg.ones(3)).sum())(tg.ones(2)),
            r"^mul: operands could not be broadcast",
        ),
        (lambda: tg.neg(tg.tensor([True])), r"^neg: numpy boolean negative"),
    ],
)
def test_errors_name_the_python_function(fn, msg):
    with pytest.raises(Exception, match=msg):
        fn()


def test_inplace_error_names_the_python_function():
    x = tg.tensor([1, 2])
    with pytest.raises(TypeError, match=r"^add \(in place\): cannot cast"):
        x += 1.5


def test_bool_operators_are_the_logical_ops():
    a, b = tg.tensor([True, True, False]), tg.tensor([True, False, False])
    np.testing.assert_array_equal(np.asarray(a & b), [True, False, False])
    np.testing.assert_array_equal(np.asarray(a | b), [True, True, False])
    np.testing.assert_array_equal(np.asarray(a ^ b), [False, True, False])
    np.testing.assert_array_equal(np.asarray(~a), [False, False, True])
    np.testing.assert_array_equal(np.asarray(tg.logical_xor(tg.tensor([2, 0]), 1)), [False, True])
    np.testing.assert_array_equal(np.asarray(tg.tensor([12, 10]) ^ tg.tensor([10, 6])), [6, 12])
