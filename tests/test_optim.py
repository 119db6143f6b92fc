"""Optimizers against their formulas written in numpy (float64), over several steps, eagerly and
replayed by tg.jit (their state lives in tensors updated in place)."""

import numpy as np
import pytest

import tapegrad as tg

GRADS = [np.array([0.5, -1.0, 2.0]), np.array([0.1, 0.3, -0.2]), np.array([-1.0, 0.0, 1.0])]
P0 = np.array([1.0, -2.0, 0.5])


def reference(name):
    p = P0.copy()
    buf, m, v = np.zeros(3), np.zeros(3), np.zeros(3)
    out = []
    for t, g in enumerate(GRADS, 1):
        if name == "sgd":
            buf = g if t == 1 else 0.9 * buf + (1 - 0.1) * g
            p = p - 0.1 * (g + 0.9 * buf)  # nesterov
        elif name == "momentum":
            buf = 0.9 * buf + g
            p = p - 0.1 * buf
        else:
            wd = 0.01 if name == "adamw" else 0.0
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            step = 0.1 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
            p = p - step - 0.1 * wd * p
        out.append(p.copy())
    return out


def make(name, params):
    return {
        "sgd": lambda: tg.nn.SGD(params, 0.1, momentum=0.9, dampening=0.1, nesterov=True),
        "momentum": lambda: tg.nn.Momentum(params, 0.1, 0.9),
        "adam": lambda: tg.nn.Adam(params, 0.1),
        "adamw": lambda: tg.nn.AdamW(params, 0.1, weight_decay=0.01),
    }[name]()


@pytest.mark.parametrize("jitted", [False, True])
@pytest.mark.parametrize("name", ["sgd", "momentum", "adam", "adamw"])
def test_optimizer_matches_its_formula(name, jitted):
    w = tg.Parameter(tg.tensor(P0), name="w")
    opt = make(name, [w])
    step = tg.jit(lambda g: opt((g,))) if jitted else (lambda g: opt((g,)))
    for g, want in zip(GRADS, reference(name)):
        step(tg.tensor(g))
        np.testing.assert_allclose(np.asarray(w), want, rtol=1e-12, atol=1e-12)
    assert int(opt.global_step) == len(GRADS)
    if jitted:
        assert step.cache_info()["eager_signatures"] == 0
