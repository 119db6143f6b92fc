"""Jacobian, Hessian and per-example-gradient benchmarks, side by side (one process per library).

  python benchmarks/bench_jacobian.py [--json FILE]

Cases: jac n=4/100/1000 - Jacobian of sin(x)*x (jacrev)
       hess rosen100    - Hessian of the 100-dimensional Rosenbrock function
       per-example      - vmap(grad) of an MLP loss (784-64-10, tanh) over 256 examples
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

NS = (4, 100, 1000)
CASES = [f"jac n={n}" for n in NS] + ["hess rosen100", "per-example"]
LIBS = ["tapegrad", "torch", "jax (eager)", "jax (jit)", "autograd"]
MODULE = {"tapegrad": "tapegrad", "torch": "torch", "jax (eager)": "jax", "jax (jit)": "jax", "autograd": "autograd"}


def data():
    import numpy as np

    rng = np.random.default_rng(0)
    d = {f"x{n}": rng.standard_normal(n).astype(np.float32) for n in NS}
    d["r"] = rng.standard_normal(100).astype(np.float32)
    d["X"] = rng.standard_normal((256, 784)).astype(np.float32)
    d["Y"] = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 256)]
    d["W1"] = (rng.standard_normal((784, 64)) * 0.05).astype(np.float32)
    d["W2"] = (rng.standard_normal((64, 10)) * 0.05).astype(np.float32)
    return d


def bench_tapegrad(d):
    import tapegrad as tg

    out = {}
    for n in NS:
        x = tg.tensor(d[f"x{n}"])
        j = tg.jacrev(lambda x: tg.sin(x) * x)
        out[f"jac n={n}"] = harness.timeit(lambda: j(x))
    r = tg.tensor(d["r"])
    h = tg.hessian(lambda x: (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum())
    out["hess rosen100"] = harness.timeit(lambda: h(r))
    X, Y, W1, W2 = (tg.tensor(d[k]) for k in ("X", "Y", "W1", "W2"))

    def loss(W1, W2, x, y):
        h = tg.tanh(tg.matmul(x, W1))
        return -(tg.log_softmax(tg.matmul(h, W2), axis=-1) * y).sum()

    pe = tg.vmap(tg.grad(loss, (0, 1)), in_axes=(None, None, 0, 0))
    out["per-example"] = harness.timeit(lambda: pe(W1, W2, X, Y))
    return out


def bench_torch(d):
    import torch
    from torch.func import grad, hessian, jacrev, vmap

    out = {}
    for n in NS:
        x = torch.tensor(d[f"x{n}"])
        j = jacrev(lambda x: torch.sin(x) * x)
        out[f"jac n={n}"] = harness.timeit(lambda: j(x))
    r = torch.tensor(d["r"])
    h = hessian(lambda x: (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum())
    out["hess rosen100"] = harness.timeit(lambda: h(r))
    X, Y, W1, W2 = (torch.tensor(d[k]) for k in ("X", "Y", "W1", "W2"))

    def loss(W1, W2, x, y):
        h = torch.tanh(x @ W1)
        return -(torch.log_softmax(h @ W2, -1) * y).sum()

    pe = vmap(grad(loss, (0, 1)), in_dims=(None, None, 0, 0))
    out["per-example"] = harness.timeit(lambda: pe(W1, W2, X, Y))
    return out


def bench_jax(d, jit):
    import jax
    import jax.numpy as jnp

    wrap = jax.jit if jit else (lambda f: f)

    def block(v):
        return jax.tree_util.tree_map(lambda a: a.block_until_ready(), v)

    out = {}
    for n in NS:
        x = jnp.asarray(d[f"x{n}"])
        j = wrap(jax.jacrev(lambda x: jnp.sin(x) * x))
        out[f"jac n={n}"] = harness.timeit(lambda: block(j(x)))
    r = jnp.asarray(d["r"])
    h = wrap(jax.hessian(lambda x: (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()))
    out["hess rosen100"] = harness.timeit(lambda: block(h(r)))
    X, Y, W1, W2 = (jnp.asarray(d[k]) for k in ("X", "Y", "W1", "W2"))

    def loss(W1, W2, x, y):
        h = jnp.tanh(x @ W1)
        return -(jax.nn.log_softmax(h @ W2, -1) * y).sum()

    pe = wrap(jax.vmap(jax.grad(loss, (0, 1)), in_axes=(None, None, 0, 0)))
    out["per-example"] = harness.timeit(lambda: block(pe(W1, W2, X, Y)))
    return out


def bench_autograd(d):
    import autograd
    import autograd.numpy as anp

    out = {}
    for n in NS:
        x = d[f"x{n}"]
        j = autograd.jacobian(lambda x: anp.sin(x) * x)
        out[f"jac n={n}"] = harness.timeit(lambda: j(x), repeats=3)
    h = autograd.hessian(lambda x: anp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))
    out["hess rosen100"] = harness.timeit(lambda: h(d["r"]), repeats=3)
    return out  # HIPS autograd has no vmap: per-example gradients do not apply


def main():
    workers = {
        "tapegrad": lambda: bench_tapegrad(data()),
        "torch": lambda: bench_torch(data()),
        "jax (eager)": lambda: bench_jax(data(), False),
        "jax (jit)": lambda: bench_jax(data(), True),
        "autograd": lambda: bench_autograd(data()),
    }
    harness.main(__doc__, os.path.abspath(__file__), CASES, LIBS, MODULE, workers)


if __name__ == "__main__":
    main()
