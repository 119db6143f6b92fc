"""vmap of every kind of op against a Python loop over the batch (batching rules and the C++
loop fallback must agree with the unbatched op), and grad through vmap against grad of the loop."""

import numpy as np
import pytest

import tapegrad as tg

rng = np.random.default_rng(0)
A = rng.standard_normal((3, 4, 5))
B = rng.standard_normal((3, 5))
M = rng.standard_normal((3, 5, 5)) + 5 * np.eye(5)

CASES = {
    "sin": (lambda x: tg.sin(x), [A]),
    "exp*tanh": (lambda x: tg.exp(x) * tg.tanh(x), [A]),
    "add-broadcast": (lambda x, y: x + y, [A, B]),
    "where": (lambda x: tg.where(x > 0, x, x * 0.1), [A]),
    "clip": (lambda x: tg.clip(x, -0.5, 0.5), [A]),
    "sum-axis": (lambda x: x.sum(axis=1), [A]),
    "mean": (lambda x: x.mean(), [A]),
    "max": (lambda x: x.max(axis=0), [A]),
    "min-keepdims": (lambda x: x.min(axis=(0, 1), keepdims=True), [A]),
    "prod": (lambda x: x.prod(axis=-1), [A]),
    "logsumexp": (lambda x: tg.logsumexp(x, axis=-1), [A]),
    "softmax": (lambda x: tg.softmax(x, axis=-1), [A]),
    "log_softmax": (lambda x: tg.log_softmax(x, axis=0), [A]),
    "cumsum": (lambda x: tg.cumsum(x, axis=1), [A]),
    "reshape": (lambda x: x.reshape((5, 4)), [A]),
    "transpose": (lambda x: x.T, [A]),
    "concat": (lambda x: tg.concatenate([x, x * 2], axis=1), [A]),
    "stack": (lambda x: tg.stack([x, x], axis=0), [A]),
    "flip": (lambda x: tg.flip(x, axis=1), [A]),
    "sort": (lambda x: tg.sort(x, axis=-1), [A]),
    "slice": (lambda x: x[1:, ::2], [A]),
    "gather": (lambda x: x[tg.tensor([2, 0, 2])], [A]),
    "matmul": (lambda x, y: tg.matmul(x, y), [A, B]),
    "dot": (lambda y: tg.dot(y, y), [B]),
    "einsum": (lambda x: tg.einsum("ij,kj->ik", x, x), [A]),
    "inv": (lambda m: tg.linalg.inv(m), [M]),
    "det": (lambda m: tg.linalg.det(m), [M]),
    "norm": (lambda x: tg.norm(x), [A]),
}


def loop(f, args):
    return np.stack(
        [np.asarray(f(*[tg.tensor(a[i]) for a in args])) for i in range(args[0].shape[0])]
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_vmap_matches_loop(name):
    f, args = CASES[name]
    got = tg.vmap(f)(*[tg.tensor(a) for a in args])
    np.testing.assert_allclose(np.asarray(got), loop(f, args), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "name",
    [
        "sin",
        "add-broadcast",
        "sum-axis",
        "softmax",
        "log_softmax",
        "prod",
        "matmul",
        "slice",
        "gather",
        "inv",
    ],
)
def test_grad_through_vmap_matches_loop(name):
    f, args = CASES[name]
    ts = [tg.tensor(a) for a in args]
    g = tg.grad(lambda x: tg.vmap(f)(x, *ts[1:]).sum())(ts[0])
    want = np.stack(
        [
            np.asarray(
                tg.grad(lambda x, i=i: f(x, *[tg.tensor(a[i]) for a in args[1:]]).sum())(
                    tg.tensor(args[0][i])
                )
            )
            for i in range(args[0].shape[0])
        ]
    )
    np.testing.assert_allclose(np.asarray(g), want, rtol=1e-9, atol=1e-12)
