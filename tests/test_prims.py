"""Every prim, one by one: its value against numpy, its derivative rules (check_grads of first and
second order, reverse and -- where the prim has one -- forward) and its batching rule (tg.vmap
against stacking per-example results), on float32 and float64 where it takes floats.

The cases are in tests/prim_cases.py. `test_every_prim_has_cases` holds the table to the registry
`tapegrad._core._prims()`: a prim without a value case, a check_grads case of each rule it has, or
a vmap case fails it by name, and so does a case for a prim the registry no longer has.
"""

from __future__ import annotations

import zlib
from collections import defaultdict

import numpy as np
import pytest

import tapegrad as tg
from helpers import as_list
from prim_cases import CASES, NO_VMAP
from tapegrad import _core
from tapegrad.testing import check_grads

FLOATS = ["float32", "float64"]
BATCH = 3


def _params(select):
    out = []
    for c in CASES:
        if select(c):
            for dt in FLOATS if c.floats else [None]:
                out.append(pytest.param(c, dt, id=f"{c.id}-{dt or 'fixed'}"))
    return out


def draw(c, dtype, lead=()):
    """The arguments of case `c` as numpy arrays, `lead` batch axes in front; floats in `dtype`."""
    rng = np.random.default_rng(zlib.crc32(c.id.encode()))
    out = []
    for s in c.specs:
        a = np.asarray(s.draw(rng, tuple(lead) + s.shape))
        if s.kind == "f":
            a = a.astype(dtype or np.float64)
        out.append(a)
    return out


def tol(dtype):
    return {"rtol": 2e-5, "atol": 2e-6} if dtype == np.float32 else {"rtol": 1e-11, "atol": 1e-12}


def assert_matches(got, want, what):
    got, want = as_list(got), as_list(want)
    assert len(got) == len(want), f"{what}: {len(got)} outputs, expected {len(want)}"
    for k, (g, w) in enumerate(zip(got, want)):
        assert isinstance(g, tg.Tensor), f"{what}: output {k} is {type(g).__name__}, not a Tensor"
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype, f"{what}: output {k} dtype {g.dtype}, expected {w.dtype}"
        assert g.shape == w.shape, f"{what}: output {k} shape {g.shape}, expected {w.shape}"
        if w.dtype.kind in "biu":
            np.testing.assert_array_equal(g, w, err_msg=f"{what}: output {k}")
        else:
            np.testing.assert_allclose(
                g, w, err_msg=f"{what}: output {k}", equal_nan=True, **tol(w.dtype)
            )


@pytest.fixture(autouse=True)
def _keep_rng_state():
    """The random prims' cases seed the global generator: the tests after them see it unchanged."""
    state = _core._rng_state()
    yield
    _core._set_rng_state(*state)


# ---- the table covers the registry ----------------------------------------------------------------


def test_every_prim_has_cases():
    assert hasattr(_core, "_prims"), (
        "tapegrad._core._prims() is missing: the prim registry (issue 12, item 2) must list every "
        "prim for this test to hold the case table to it"
    )
    prims = _core._prims()
    names = [p["name"] for p in prims]
    assert len(names) == len(set(names)), f"prim names repeat: {sorted(names)}"
    by_prim = defaultdict(list)
    for c in CASES:
        by_prim[c.prim].append(c)

    problems = []
    for p in prims:
        n, cs = p["name"], by_prim.get(p["name"], [])
        if not any(c.ref is not None or c.check is not None for c in cs):
            problems.append(f"{n}: no value case (a numpy reference or a value check)")
        grads = [c for c in cs if c.diff]
        if p["differentiable"]:
            if not any("rev" in c.modes for c in grads):
                problems.append(f"{n}: differentiable, but no check_grads case of its VJP")
            if p["jvp"] and not any("fwd" in c.modes for c in grads):
                problems.append(f"{n}: has a JVP, but no check_grads case of it")
        elif grads:
            problems.append(
                f"{n}: not differentiable, yet the table has derivative cases "
                f"{[c.id for c in grads]}"
            )
        if not p["jvp"] and any("fwd" in c.modes for c in grads):
            problems.append(f"{n}: has no JVP, yet the table checks one")
        if not any(c.vmap for c in cs):
            if n not in NO_VMAP:
                problems.append(f"{n}: no vmap case")
            elif p["batch"]:
                problems.append(
                    f"{n}: has a batching rule, so NO_VMAP may not excuse it: add a vmap case"
                )
    for n in sorted(set(by_prim) - set(names)):
        problems.append(
            f"{n}: the table has cases for it, but _prims() has no prim of that name "
            "(renamed or removed?)"
        )
    for n in sorted(set(NO_VMAP) - set(names)):
        problems.append(f"{n}: NO_VMAP names it, but _prims() has no prim of that name")
    assert not problems, "prims without their cases:\n  " + "\n  ".join(problems)


# ---- the cases --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("c", "dtype"), _params(lambda c: c.ref is not None or c.check is not None)
)
def test_value(c, dtype):
    if c.check is not None:
        c.check(np.dtype(dtype) if dtype else None)
        return
    arrs = draw(c, dtype)
    got = c.fn(*[tg.tensor(a) for a in arrs])
    with np.errstate(all="ignore"):
        want = c.ref(*[a.copy() for a in arrs])
    assert_matches(got, want, f"{c.id} ({dtype}) against numpy")


@pytest.mark.parametrize(("c", "dtype"), _params(lambda c: bool(c.diff)))
def test_grads(c, dtype):
    ts = [tg.tensor(a) for a in draw(c, dtype)]

    def f(*d):
        full = list(ts)
        for pos, v in zip(c.diff, d):
            full[pos] = v
        return c.fn(*full)

    check_grads(f, [ts[p] for p in c.diff], order=2, modes=c.modes)


@pytest.mark.parametrize(("c", "dtype"), _params(lambda c: c.vmap))
def test_vmap(c, dtype):
    arrs = draw(c, dtype, lead=(BATCH,))
    before = _core._vmap_fallback_count()
    got = tg.vmap(c.fn)(*[tg.tensor(a) for a in arrs])
    loops = _core._vmap_fallback_count() - before
    per_example = [as_list(c.fn(*[tg.tensor(a[b]) for a in arrs])) for b in range(BATCH)]
    want = [np.stack([np.asarray(o[k]) for o in per_example]) for k in range(len(per_example[0]))]
    assert_matches(
        got,
        want if isinstance(got, (tuple, list)) else want[0],
        f"{c.id} ({dtype}): vmap against stacked examples",
    )
    # user-defined rules have no batching rule: the batch level runs them once per example
    if not c.prim.startswith("custom_"):
        assert loops == 0, f"{c.id}: an op fell back to the batch level's per-example loop"
