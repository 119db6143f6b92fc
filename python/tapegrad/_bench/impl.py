"""The measured workloads, written once per library.

``make(lib)`` gives an object whose methods take numpy inputs and return a zero-argument callable
that runs the workload once and returns its result (so that a memory measurement holds on to the
output). Every input is float32. A method a library cannot do raises ``NotApplicable``.

Workloads: ``grad_sq`` gradient of (x*x).sum(); ``grad_sin`` gradient of (sin(x)*x).sum();
``jac_sin`` Jacobian of sin(x)*x; ``mlp`` gradient of a tanh MLP's softmax cross-entropy with
respect to its four weights; ``hess_rosen`` Hessian of the Rosenbrock function; ``per_example``
per-example gradients (vmap of grad) of a small MLP; ``op`` one elementwise op or a matmul;
``jit_*`` the gradient workloads under the library's compiler. "numpy" means derivatives written
by hand: the floor that an autodiff library's overhead is measured against.
"""

from __future__ import annotations

import math
import os

import numpy as np


class NotApplicable(Exception):
    pass


def rng_data(n, seed=0):
    return np.random.default_rng(seed).standard_normal(n).astype(np.float32)


def mlp_data(batch=64, n_in=784, hidden=256, n_out=10, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "X": rng.standard_normal((batch, n_in)).astype(np.float32),
        "Y": np.eye(n_out, dtype=np.float32)[rng.integers(0, n_out, batch)],
        "W1": (rng.standard_normal((n_in, hidden)) * 0.05).astype(np.float32),
        "b1": np.zeros(hidden, np.float32),
        "W2": (rng.standard_normal((hidden, n_out)) * 0.05).astype(np.float32),
        "b2": np.zeros(n_out, np.float32),
    }


class Base:
    name = "?"

    def __getattr__(self, what):
        if what.startswith("_"):
            raise AttributeError(what)

        def na(*args, **kwargs):
            raise NotApplicable(f"{self.name} has no {what} workload")

        return na

    def release(self):
        """Give cached memory back before a memory measurement (caching allocators)."""

    def init(self):
        """Touch lazily initialised machinery (thread pools, dispatch caches) before measuring."""
        x = rng_data(4)
        self.grad_sq(x)()


# ---------------------------------------------------------------------------------------------


class Tapegrad(Base):
    name = "tapegrad"

    def __init__(self, fuse=True):
        import tapegrad as tg

        self.tg = tg
        self.fuse = fuse
        if not fuse:
            self.name = "tapegrad (fuse=False)"
        threads = os.environ.get("TAPEGRAD_BENCH_THREADS")  # set by the CLI's --threads
        if threads:
            tg.set_num_threads(int(threads))
        simd = os.environ.get("TAPEGRAD_BENCH_SIMD")  # set by the CLI's --tapegrad-simd
        if simd and not tg._core._set_simd_path(simd):
            raise SystemExit(f"this CPU or build has no {simd} path (it uses {tg.get_simd_path()})")

    def release(self):
        self.tg._core.empty_cache()  # the caching allocator would otherwise hide a peak

    def grad_sq(self, x):
        from tapegrad import ops

        g = ops.GradOperation(get_all=True)(lambda x: (x * x).sum())
        t = self.tg.tensor(x)
        return lambda: g(t)

    def grad_sin(self, x):
        tg = self.tg
        g = tg.grad(lambda x: (tg.sin(x) * x).sum())
        t = tg.tensor(x)
        return lambda: g(t)

    def jac_sin(self, x):
        tg = self.tg
        j = tg.jacrev(lambda x: tg.sin(x) * x)
        t = tg.tensor(x)
        return lambda: j(t)

    def jacfwd_sin(self, x):
        tg = self.tg
        j = tg.jacfwd(lambda x: tg.sin(x) * x)
        t = tg.tensor(x)
        return lambda: j(t)

    def _mlp_loss(self, d):
        tg = self.tg
        X, Y = tg.tensor(d["X"]), tg.tensor(d["Y"])
        ps = [tg.tensor(d[k]) for k in ("W1", "b1", "W2", "b2")]
        batch = float(d["X"].shape[0])

        def loss(W1, b1, W2, b2):
            h = tg.tanh(tg.matmul(X, W1) + b1)
            logits = tg.matmul(h, W2) + b2
            return -(tg.log_softmax(logits, axis=-1) * Y).sum() / batch

        return loss, ps

    def mlp(self, d):
        loss, ps = self._mlp_loss(d)
        g = self.tg.grad(loss, (0, 1, 2, 3))
        return lambda: g(*ps)

    def hess_rosen(self, x):
        tg = self.tg
        h = tg.hessian(lambda x: (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum())
        t = tg.tensor(x)
        return lambda: h(t)

    def per_example(self, d):
        tg = self.tg
        X, Y, W1, W2 = (tg.tensor(d[k]) for k in ("X", "Y", "W1", "W2"))

        def loss(W1, W2, x, y):
            h = tg.tanh(tg.matmul(x, W1))
            return -(tg.log_softmax(tg.matmul(h, W2), axis=-1) * y).sum()

        pe = tg.vmap(tg.grad(loss, (0, 1)), in_axes=(None, None, 0, 0))
        return lambda: pe(W1, W2, X, Y)

    def op(self, kind, a, b):
        tg = self.tg
        x, y = tg.tensor(a), tg.tensor(b)
        f = {
            "mul": lambda: x * y,
            "add": lambda: x + y,
            "exp": lambda: tg.exp(x),
            "tanh": lambda: tg.tanh(x),
            "matmul": lambda: tg.matmul(x, y),
        }
        return f[kind]

    def _jit(self, fn):
        if not hasattr(self.tg, "jit"):
            raise NotApplicable("tg.jit is not in this build of tapegrad")
        return self.tg.jit(fn) if self.fuse else self.tg.jit(fn, fuse=False)

    def jit_expr(self, a, b):
        tg = self.tg
        f = self._jit(lambda a, b: 2 * a + 3 * b**2 - tg.exp(-a))
        x, y = tg.tensor(a), tg.tensor(b)
        return lambda: f(x, y)

    def jit_grad_sq(self, x):
        tg = self.tg
        g = self._jit(tg.grad(lambda x: (x * x).sum()))
        t = tg.tensor(x)
        return lambda: g(t)

    def jit_grad_sin(self, x):
        tg = self.tg
        g = self._jit(tg.grad(lambda x: (tg.sin(x) * x).sum()))
        t = tg.tensor(x)
        return lambda: g(t)

    def jit_mlp(self, d):
        loss, ps = self._mlp_loss(d)
        g = self._jit(self.tg.grad(loss, (0, 1, 2, 3)))
        return lambda: g(*ps)

    def jit_jac_sin(self, x):
        tg = self.tg
        j = self._jit(tg.jacrev(lambda x: tg.sin(x) * x))
        t = tg.tensor(x)
        return lambda: j(t)

    def jit_hess_rosen(self, x):
        tg = self.tg
        h = self._jit(
            tg.hessian(lambda x: (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum())
        )
        t = tg.tensor(x)
        return lambda: h(t)


class Numpy(Base):
    """Derivatives written by hand."""

    name = "numpy"

    def grad_sq(self, x):
        return lambda: 2 * x

    def grad_sin(self, x):
        return lambda: np.cos(x) * x + np.sin(x)

    def jac_sin(self, x):
        return lambda: np.diag(np.cos(x) * x + np.sin(x))

    def mlp(self, d):
        X, Y, W1, b1, W2, b2 = (d[k] for k in ("X", "Y", "W1", "b1", "W2", "b2"))
        batch = X.shape[0]

        def run():
            h = np.tanh(X @ W1 + b1)
            z = h @ W2 + b2
            z = z - z.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            dz = (p - Y) / batch
            dh = (dz @ W2.T) * (1 - h * h)
            return X.T @ dh, dh.sum(0), h.T @ dz, dz.sum(0)

        return run

    def op(self, kind, a, b):
        f = {
            "mul": lambda: a * b,
            "add": lambda: a + b,
            "exp": lambda: np.exp(a),
            "tanh": lambda: np.tanh(a),
            "matmul": lambda: a @ b,
        }
        return f[kind]


class Torch(Base):
    name = "torch"

    def __init__(self):
        import torch

        self.torch = torch
        threads = os.environ.get("TAPEGRAD_BENCH_THREADS")
        if threads:
            torch.set_num_threads(int(threads))

    def grad_sq(self, x):
        torch = self.torch
        t = torch.tensor(x, requires_grad=True)
        return lambda: torch.autograd.grad((t * t).sum(), t)

    def grad_sin(self, x):
        torch = self.torch
        t = torch.tensor(x, requires_grad=True)
        return lambda: torch.autograd.grad((torch.sin(t) * t).sum(), t)

    def jac_sin(self, x):
        torch = self.torch
        j = torch.func.jacrev(lambda x: torch.sin(x) * x)
        t = torch.tensor(x)
        return lambda: j(t)

    def jacfwd_sin(self, x):
        torch = self.torch
        j = torch.func.jacfwd(lambda x: torch.sin(x) * x)
        t = torch.tensor(x)
        return lambda: j(t)

    def mlp(self, d):
        torch = self.torch
        X, Y = torch.tensor(d["X"]), torch.tensor(d["Y"])
        ps = [torch.tensor(d[k], requires_grad=True) for k in ("W1", "b1", "W2", "b2")]
        batch = float(d["X"].shape[0])

        def run():
            W1, b1, W2, b2 = ps
            h = torch.tanh(X @ W1 + b1)
            logits = h @ W2 + b2
            loss = -(torch.log_softmax(logits, -1) * Y).sum() / batch
            return torch.autograd.grad(loss, ps)

        return run

    def hess_rosen(self, x):
        torch = self.torch
        h = torch.func.hessian(
            lambda x: (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()
        )
        t = torch.tensor(x)
        return lambda: h(t)

    def per_example(self, d):
        torch = self.torch
        from torch.func import grad, vmap

        X, Y, W1, W2 = (torch.tensor(d[k]) for k in ("X", "Y", "W1", "W2"))

        def loss(W1, W2, x, y):
            h = torch.tanh(x @ W1)
            return -(torch.log_softmax(h @ W2, -1) * y).sum()

        pe = vmap(grad(loss, (0, 1)), in_dims=(None, None, 0, 0))
        return lambda: pe(W1, W2, X, Y)

    def op(self, kind, a, b):
        torch = self.torch
        x, y = torch.from_numpy(a), torch.from_numpy(b)
        f = {
            "mul": lambda: x * y,
            "add": lambda: x + y,
            "exp": lambda: torch.exp(x),
            "tanh": lambda: torch.tanh(x),
            "matmul": lambda: x @ y,
        }
        return f[kind]


class Jax(Base):
    def __init__(self, jit):
        import jax
        import jax.numpy as jnp

        self.jax, self.jnp, self.jit = jax, jnp, jit
        self.name = "jax (jit)" if jit else "jax (eager)"
        self.wrap = jax.jit if jit else (lambda f: f)

    def _run(self, f, *args):
        block = self.jax.block_until_ready  # JAX dispatches asynchronously: wait for the value
        return lambda: block(f(*args))

    def grad_sq(self, x):
        return self._run(self.wrap(self.jax.grad(lambda x: (x * x).sum())), self.jnp.asarray(x))

    def grad_sin(self, x):
        jnp = self.jnp
        g = self.wrap(self.jax.grad(lambda x: (jnp.sin(x) * x).sum()))
        return self._run(g, jnp.asarray(x))

    def jac_sin(self, x):
        jnp = self.jnp
        return self._run(self.wrap(self.jax.jacrev(lambda x: jnp.sin(x) * x)), jnp.asarray(x))

    def jacfwd_sin(self, x):
        jnp = self.jnp
        return self._run(self.wrap(self.jax.jacfwd(lambda x: jnp.sin(x) * x)), jnp.asarray(x))

    def mlp(self, d):
        jax, jnp = self.jax, self.jnp
        X, Y = jnp.asarray(d["X"]), jnp.asarray(d["Y"])
        ps = [jnp.asarray(d[k]) for k in ("W1", "b1", "W2", "b2")]
        batch = float(d["X"].shape[0])

        def loss(W1, b1, W2, b2):
            h = jnp.tanh(X @ W1 + b1)
            logits = h @ W2 + b2
            return -(jax.nn.log_softmax(logits, -1) * Y).sum() / batch

        return self._run(self.wrap(jax.grad(loss, (0, 1, 2, 3))), *ps)

    def hess_rosen(self, x):
        h = self.wrap(
            self.jax.hessian(
                lambda x: (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()
            )
        )
        return self._run(h, self.jnp.asarray(x))

    def per_example(self, d):
        jax, jnp = self.jax, self.jnp
        X, Y, W1, W2 = (jnp.asarray(d[k]) for k in ("X", "Y", "W1", "W2"))

        def loss(W1, W2, x, y):
            h = jnp.tanh(x @ W1)
            return -(jax.nn.log_softmax(h @ W2, -1) * y).sum()

        pe = self.wrap(jax.vmap(jax.grad(loss, (0, 1)), in_axes=(None, None, 0, 0)))
        return self._run(pe, W1, W2, X, Y)

    def op(self, kind, a, b):
        jnp = self.jnp
        f = {
            "mul": lambda x, y: x * y,
            "add": lambda x, y: x + y,
            "exp": lambda x, y: jnp.exp(x),
            "tanh": lambda x, y: jnp.tanh(x),
            "matmul": lambda x, y: x @ y,
        }[kind]
        return self._run(self.wrap(f), jnp.asarray(a), jnp.asarray(b))

    def jit_grad_sq(self, x):
        if not self.jit:
            raise NotApplicable("eager")
        return self.grad_sq(x)

    def jit_grad_sin(self, x):
        if not self.jit:
            raise NotApplicable("eager")
        return self.grad_sin(x)

    def jit_expr(self, a, b):
        if not self.jit:
            raise NotApplicable("eager")
        jnp = self.jnp
        return self._run(
            self.wrap(lambda a, b: 2 * a + 3 * b**2 - jnp.exp(-a)), jnp.asarray(a), jnp.asarray(b)
        )

    def jit_mlp(self, d):
        if not self.jit:
            raise NotApplicable("eager")
        return self.mlp(d)

    def jit_jac_sin(self, x):
        if not self.jit:
            raise NotApplicable("eager")
        return self.jac_sin(x)

    def jit_hess_rosen(self, x):
        if not self.jit:
            raise NotApplicable("eager")
        return self.hess_rosen(x)


class Autograd(Base):
    name = "autograd"

    def __init__(self):
        import autograd
        import autograd.numpy as anp

        self.ag, self.anp = autograd, anp

    def grad_sq(self, x):
        g = self.ag.grad(lambda x: (x * x).sum())
        return lambda: g(x)

    def grad_sin(self, x):
        anp = self.anp
        g = self.ag.grad(lambda x: anp.sum(anp.sin(x) * x))
        return lambda: g(x)

    def jac_sin(self, x):
        anp = self.anp
        j = self.ag.jacobian(lambda x: anp.sin(x) * x)
        return lambda: j(x)

    def mlp(self, d):
        anp = self.anp
        X, Y = d["X"], d["Y"]
        batch = float(X.shape[0])

        def loss(ps):
            W1, b1, W2, b2 = ps
            h = anp.tanh(anp.dot(X, W1) + b1)
            z = anp.dot(h, W2) + b2
            z = z - anp.max(z, axis=1, keepdims=True)
            logp = z - anp.log(anp.sum(anp.exp(z), axis=1, keepdims=True))
            return -anp.sum(logp * Y) / batch

        g = self.ag.grad(loss)
        ps = [d[k] for k in ("W1", "b1", "W2", "b2")]
        return lambda: g(ps)

    def hess_rosen(self, x):
        anp = self.anp
        h = self.ag.hessian(
            lambda x: anp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
        )
        return lambda: h(x)


class Micrograd(Base):
    """Scalar ``Value`` objects: one graph node per element and operation. micrograd has no sin;
    it is added the way micrograd's own operations are written (a node with a _backward)."""

    name = "micrograd"

    def __init__(self):
        from micrograd.engine import Value

        self.Value = Value

    def _sin(self, v):
        out = self.Value(math.sin(v.data), (v,), "sin")

        def _backward():
            v.grad += math.cos(v.data) * out.grad

        out._backward = _backward
        return out

    @staticmethod
    def _sum(vs):
        # a balanced tree: micrograd's recursive topological sort would overflow on a long chain
        while len(vs) > 1:
            vs = [vs[i] + vs[i + 1] if i + 1 < len(vs) else vs[i] for i in range(0, len(vs), 2)]
        return vs[0]

    def grad_sq(self, x):
        vals = [float(v) for v in x]

        def run():
            xs = [self.Value(v) for v in vals]
            self._sum([v * v for v in xs]).backward()
            return [v.grad for v in xs]

        return run

    def grad_sin(self, x):
        vals = [float(v) for v in x]

        def run():
            xs = [self.Value(v) for v in vals]
            self._sum([self._sin(v) * v for v in xs]).backward()
            return [v.grad for v in xs]

        return run

    def jac_sin(self, x):
        vals = [float(v) for v in x]

        def run():
            xs = [self.Value(v) for v in vals]
            ys = [self._sin(v) * v for v in xs]
            rows = []
            for y in ys:  # one reverse sweep per output, as a generic reverse-mode Jacobian
                for v in xs:
                    v.grad = 0
                y.backward()
                rows.append([v.grad for v in xs])
            return rows

        return run


class TorchCompile(Torch):
    """torch.compile (the inductor backend, which generates and compiles C++ loops on the CPU):
    each workload is one function compiled whole, gradient included (torch.func.grad inside the
    compiled function, so forward and backward are one graph). The first call compiles."""

    name = "torch.compile"

    def __init__(self):
        super().__init__()
        import torch._dynamo

        # Every case compiles its own functions: raise the recompilation limit so no case falls
        # back to eager because earlier cases used the slots.
        torch._dynamo.config.cache_size_limit = 64

    def _compile(self, fn):
        return self.torch.compile(fn, backend="inductor", fullgraph=True)

    def init(self):
        x = rng_data(4)
        self.jit_grad_sq(x)()

    def jit_grad_sq(self, x):
        torch = self.torch
        g = self._compile(torch.func.grad(lambda x: (x * x).sum()))
        t = torch.tensor(x)
        return lambda: g(t)

    def jit_grad_sin(self, x):
        torch = self.torch
        g = self._compile(torch.func.grad(lambda x: (torch.sin(x) * x).sum()))
        t = torch.tensor(x)
        return lambda: g(t)

    def jit_expr(self, a, b):
        torch = self.torch
        f = self._compile(lambda a, b: 2 * a + 3 * b**2 - torch.exp(-a))
        x, y = torch.from_numpy(a), torch.from_numpy(b)
        return lambda: f(x, y)

    def jit_mlp(self, d):
        torch = self.torch
        X, Y = torch.tensor(d["X"]), torch.tensor(d["Y"])
        ps = [torch.tensor(d[k]) for k in ("W1", "b1", "W2", "b2")]
        batch = float(d["X"].shape[0])

        def loss(W1, b1, W2, b2):
            h = torch.tanh(X @ W1 + b1)
            logits = h @ W2 + b2
            return -(torch.log_softmax(logits, -1) * Y).sum() / batch

        g = self._compile(torch.func.grad(loss, (0, 1, 2, 3)))
        return lambda: g(*ps)


class Numexpr(Base):
    """numexpr: expressions compiled to a register program evaluated in cache-sized blocks (the
    approach of tg.jit's fused replay), with the same number of threads as the others."""

    name = "numexpr"

    def __init__(self):
        import numexpr

        self.ne = numexpr
        threads = os.environ.get("TAPEGRAD_BENCH_THREADS")
        if threads:
            numexpr.set_num_threads(int(threads))

    def init(self):
        a = rng_data(4)
        self.jit_expr(a, a)()

    def jit_expr(self, a, b):
        ne = self.ne
        return lambda: ne.evaluate("2*a + 3*b**2 - exp(-a)", local_dict={"a": a, "b": b})


def make(lib):
    return {
        "tapegrad": Tapegrad,
        "tapegrad (fuse=False)": lambda: Tapegrad(fuse=False),
        "numexpr": Numexpr,
        "numpy": Numpy,
        "torch": Torch,
        "torch.compile": TorchCompile,
        "jax (eager)": lambda: Jax(False),
        "jax (jit)": lambda: Jax(True),
        "autograd": Autograd,
        "micrograd": Micrograd,
    }[lib]()
