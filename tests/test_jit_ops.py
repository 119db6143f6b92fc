"""tg.jit over every op family: each case of tests/test_vmap_rules.py (every prim, reached through
the public API) is recorded once and replayed on fresh inputs, and must give what running it
eagerly gives; for the differentiable ones, jit(grad) and grad(jit) too."""

import numpy as np
import pytest

import tapegrad as tg
from helpers import as_list
from test_vmap_rules import CASES, DIFF, NAMES


def make_args(specs, rng):
    return [tg.tensor(s.make(rng, (), np.float64)) for s in specs]


def same(got, want):
    got, want = as_list(got), as_list(want)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape and g.dtype == w.dtype, (g.shape, w.shape, g.dtype, w.dtype)
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_replay_matches_eager(name):
    f, specs, _ = CASES[name]
    j = tg.jit(f)
    rng = np.random.default_rng(1)
    for _ in range(3):
        args = make_args(specs, rng)
        same(j(*args), f(*args))
    info = j.cache_info()
    # Recorded once and replayed twice, unless its recording could not be replayed (a write into
    # a tensor it does not own): then it runs eagerly, with the same values.
    assert (info["records"], info["replays"]) == (1, 2) or info["eager_signatures"] == 1, info


@pytest.mark.parametrize("name", DIFF)
def test_jit_of_grad_and_grad_of_jit_match_grad(name):
    f, specs, diff = CASES[name]
    loss = lambda *a: sum(o.sum() for o in as_list(f(*a)) if o.dtype.is_floating_point)
    g = tg.grad(loss, grad_position=diff)
    jg = tg.jit(g)
    gj = tg.grad(tg.jit(loss), grad_position=diff)
    rng = np.random.default_rng(2)
    for _ in range(3):
        args = make_args(specs, rng)
        want = g(*args)
        same(jg(*args), want)
        same(gj(*args), want)
