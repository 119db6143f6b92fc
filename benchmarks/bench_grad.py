"""Gradient benchmarks, side by side in one run (each library in its own process).

  python benchmarks/bench_grad.py [--json FILE] [--quick]

Cases: tiny  - grad of (x*x).sum() on 4 float32 elements
       large - grad of (sin(x)*x).sum() on 1e6 float32 elements
       mlp   - grad of a 784-256-10 tanh MLP softmax-cross-entropy loss (batch 64) w.r.t. its weights
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

CASES = ["tiny", "large", "mlp"]
LIBS = ["tapegrad", "numpy (by hand)", "torch", "jax (eager)", "jax (jit)", "autograd", "micrograd"]
MODULE = {"tapegrad": "tapegrad", "numpy (by hand)": "numpy", "torch": "torch", "jax (eager)": "jax",
          "jax (jit)": "jax", "autograd": "autograd", "micrograd": "micrograd"}


def data():
    import numpy as np

    rng = np.random.default_rng(0)
    return {
        "x4": np.arange(4, dtype=np.float32),
        "x1e6": rng.standard_normal(1_000_000).astype(np.float32),
        "X": rng.standard_normal((64, 784)).astype(np.float32),
        "Y": np.eye(10, dtype=np.float32)[rng.integers(0, 10, 64)],
        "W1": (rng.standard_normal((784, 256)) * 0.05).astype(np.float32),
        "b1": np.zeros(256, np.float32),
        "W2": (rng.standard_normal((256, 10)) * 0.05).astype(np.float32),
        "b2": np.zeros(10, np.float32),
    }


def bench_tapegrad(d, quick):
    import tapegrad as tg
    from tapegrad import ops

    out = {}
    x4 = tg.tensor(d["x4"])
    g = ops.GradOperation(get_all=True)(lambda x: (x * x).sum())
    out["tiny"] = harness.timeit(lambda: g(x4))
    x = tg.tensor(d["x1e6"])
    gl = tg.grad(lambda x: (tg.sin(x) * x).sum())
    out["large"] = harness.timeit(lambda: gl(x))
    X, Y = tg.tensor(d["X"]), tg.tensor(d["Y"])
    params = [tg.tensor(d[k]) for k in ("W1", "b1", "W2", "b2")]

    def loss(W1, b1, W2, b2):
        h = tg.tanh(tg.matmul(X, W1) + b1)
        logits = tg.matmul(h, W2) + b2
        return -(tg.log_softmax(logits, axis=-1) * Y).sum() / 64.0

    gm = tg.grad(loss, (0, 1, 2, 3))
    out["mlp"] = harness.timeit(lambda: gm(*params))
    return out


def bench_numpy(d, quick):
    import numpy as np

    out = {}
    x4 = d["x4"]
    out["tiny"] = harness.timeit(lambda: 2 * x4)
    x = d["x1e6"]

    def large():
        return np.cos(x) * x + np.sin(x)

    out["large"] = harness.timeit(large)
    X, Y, W1, b1, W2, b2 = (d[k] for k in ("X", "Y", "W1", "b1", "W2", "b2"))

    def mlp():
        h = np.tanh(X @ W1 + b1)
        z = h @ W2 + b2
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        dz = (p - Y) / 64.0
        dW2 = h.T @ dz
        db2 = dz.sum(0)
        dh = (dz @ W2.T) * (1 - h * h)
        return X.T @ dh, dh.sum(0), dW2, db2

    out["mlp"] = harness.timeit(mlp)
    return out


def bench_torch(d, quick):
    import torch

    out = {}
    x4 = torch.tensor(d["x4"], requires_grad=True)
    out["tiny"] = harness.timeit(lambda: torch.autograd.grad((x4 * x4).sum(), x4))
    x = torch.tensor(d["x1e6"], requires_grad=True)
    out["large"] = harness.timeit(lambda: torch.autograd.grad((torch.sin(x) * x).sum(), x))
    X, Y = torch.tensor(d["X"]), torch.tensor(d["Y"])
    ps = [torch.tensor(d[k], requires_grad=True) for k in ("W1", "b1", "W2", "b2")]

    def mlp():
        W1, b1, W2, b2 = ps
        h = torch.tanh(X @ W1 + b1)
        logits = h @ W2 + b2
        loss = -(torch.log_softmax(logits, -1) * Y).sum() / 64.0
        return torch.autograd.grad(loss, ps)

    out["mlp"] = harness.timeit(mlp)
    return out


def bench_jax(d, quick, jit):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_platform_name", "cpu")
    wrap = jax.jit if jit else (lambda f: f)
    out = {}
    x4 = jnp.asarray(d["x4"])
    g = wrap(jax.grad(lambda x: (x * x).sum()))
    out["tiny"] = harness.timeit(lambda: g(x4).block_until_ready())
    x = jnp.asarray(d["x1e6"])
    gl = wrap(jax.grad(lambda x: (jnp.sin(x) * x).sum()))
    out["large"] = harness.timeit(lambda: gl(x).block_until_ready())
    X, Y = jnp.asarray(d["X"]), jnp.asarray(d["Y"])
    ps = [jnp.asarray(d[k]) for k in ("W1", "b1", "W2", "b2")]

    def loss(W1, b1, W2, b2):
        h = jnp.tanh(X @ W1 + b1)
        logits = h @ W2 + b2
        return -(jax.nn.log_softmax(logits, -1) * Y).sum() / 64.0

    gm = wrap(jax.grad(loss, (0, 1, 2, 3)))
    out["mlp"] = harness.timeit(lambda: [a.block_until_ready() for a in gm(*ps)])
    return out


def bench_autograd(d, quick):
    import autograd
    import autograd.numpy as anp

    out = {}
    g = autograd.grad(lambda x: (x * x).sum())
    x4 = d["x4"].astype("float64")
    out["tiny"] = harness.timeit(lambda: g(x4))
    gl = autograd.grad(lambda x: (anp.sin(x) * x).sum())
    x = d["x1e6"]
    out["large"] = harness.timeit(lambda: gl(x))
    X, Y = d["X"], d["Y"]

    def loss(ps):
        W1, b1, W2, b2 = ps
        h = anp.tanh(anp.dot(X, W1) + b1)
        z = anp.dot(h, W2) + b2
        z = z - anp.max(z, axis=1, keepdims=True)
        logp = z - anp.log(anp.sum(anp.exp(z), axis=1, keepdims=True))
        return -anp.sum(logp * Y) / 64.0

    gm = autograd.grad(loss)
    ps = [d[k] for k in ("W1", "b1", "W2", "b2")]
    out["mlp"] = harness.timeit(lambda: gm(ps))
    return out


def bench_micrograd(d, quick):
    from micrograd.engine import Value

    out = {}
    vals = [float(v) for v in d["x4"]]

    def tiny():
        xs = [Value(v) for v in vals]
        s = xs[0] * xs[0]
        for v in xs[1:]:
            s = s + v * v
        s.backward()
        return [v.grad for v in xs]

    out["tiny"] = harness.timeit(tiny)
    return out  # micrograd is scalar-only: the large and MLP cases do not apply


def main():
    workers = {
        "tapegrad": lambda: bench_tapegrad(data(), False),
        "numpy (by hand)": lambda: bench_numpy(data(), False),
        "torch": lambda: bench_torch(data(), False),
        "jax (eager)": lambda: bench_jax(data(), False, False),
        "jax (jit)": lambda: bench_jax(data(), False, True),
        "autograd": lambda: bench_autograd(data(), False),
        "micrograd": lambda: bench_micrograd(data(), False),
    }
    harness.main(__doc__, os.path.abspath(__file__), CASES, LIBS, MODULE, workers)


if __name__ == "__main__":
    main()
