"""The sparse suite: sparse Jacobians and Hessians against dense Jacobians, SciPy's sparse finite
differences and JAX + sparsejac.

    python -m tapegrad bench --suite sparse [--quick] [--json FILE] [--markdown] [--libs a,b]

Cases: a tridiagonal residual at n = 1e4, 1e5, 1e6; the 5-point 2-D Laplacian residual (zero
Dirichlet boundary) on a 300 x 300 grid; an arrow-shaped Hessian at n = 1e4. Methods:

- ``tapegrad``: ``tg.SparseJacobian`` / ``tg.SparseHessian`` (pattern detected from a recording,
  colored, compressed sweeps replayed by tg.jit);
- ``tapegrad dense``: ``tg.jacfwd`` / ``tg.hessian``, only where the dense matrix is at most 10^4 x 10^4;
- ``scipy fd``: ``scipy.optimize._numdiff.approx_derivative`` with ``sparsity=`` (the exact
  structure; its own column grouping on the first call, the groups passed in afterwards), on a
  numpy version of the function (for the Hessian: the numpy gradient written by hand);
- ``jax + sparsejac``: ``sparsejac.jacfwd`` under ``jax.jit`` (float64), given the exact structure.

Reported per case: the first call (detection + coloring + compilation + evaluation; every
library, SciPy included, imported before the clock starts), the median of later calls, colors
used, and the extra peak memory of the process (resident set high-water mark after the call minus
before it). Every (method, case) runs in its own fresh process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

METHODS = ("tapegrad", "tapegrad dense", "scipy fd", "jax + sparsejac")
GRID = 300


def cases(quick):
    out = [("tridiagonal", 10**4), ("tridiagonal", 10**5)]
    if not quick:
        out.append(("tridiagonal", 10**6))
    out += [("laplacian 2-d", GRID * GRID), ("arrow hessian", 10**4)]
    return out


def case_name(kind, n):
    if kind == "laplacian 2-d":
        return f"laplacian 2-d {GRID}x{GRID} (n={n})"
    k = round(np.log10(n))
    return f"{kind} n=1e{k}" if 10**k == n else f"{kind} n={n}"


# ---- the functions, in each library -------------------------------------------------------------


def _tg_funcs(tg, kind):
    if kind == "tridiagonal":

        def f(x):
            z = tg.zeros(1, dtype=x.dtype)
            up = tg.concatenate([z, x, z])
            return up[:-2] - 2 * x + up[2:] - x**3

        return f
    if kind == "laplacian 2-d":

        def f(x):
            u = x.reshape(GRID, GRID)
            zr = tg.zeros((1, GRID), dtype=x.dtype)
            zc = tg.zeros((GRID + 2, 1), dtype=x.dtype)
            p = tg.concatenate([zc, tg.concatenate([zr, u, zr], axis=0), zc], axis=1)
            r = p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4 * u - u**3
            return r.reshape(-1)

        return f

    def energy(x):  # arrow: x[0] meets every x[i]
        return x[0] * x[1:].sum() + (x**4).sum()

    return energy


def _np_funcs(kind):
    if kind == "tridiagonal":

        def f(x):
            up = np.concatenate([[0.0], x, [0.0]])
            return up[:-2] - 2 * x + up[2:] - x**3

        return f
    if kind == "laplacian 2-d":

        def f(x):
            u = x.reshape(GRID, GRID)
            p = np.pad(u, 1)
            return (p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4 * u - u**3).reshape(
                -1
            )

        return f

    def grad(x):
        g = 4 * x**3
        g[0] += x[1:].sum()
        g[1:] += x[0]
        return g

    return grad


def _jax_funcs(jnp, jax, kind):
    if kind == "tridiagonal":

        def f(x):
            up = jnp.concatenate([jnp.zeros(1), x, jnp.zeros(1)])
            return up[:-2] - 2 * x + up[2:] - x**3

        return f
    if kind == "laplacian 2-d":

        def f(x):
            u = x.reshape(GRID, GRID)
            p = jnp.pad(u, 1)
            return (p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4 * u - u**3).reshape(
                -1
            )

        return f
    return jax.grad(lambda x: x[0] * x[1:].sum() + (x**4).sum())


def structure(kind, n):
    """The exact sparsity structure (scipy csr) for the baselines that need it given."""
    import scipy.sparse as sp

    if kind == "tridiagonal":
        return sp.diags_array(
            [np.ones(n - 1), np.ones(n), np.ones(n - 1)], offsets=[-1, 0, 1], format="csr"
        )
    if kind == "laplacian 2-d":
        d = sp.diags_array(
            [np.ones(GRID - 1), np.ones(GRID), np.ones(GRID - 1)], offsets=[-1, 0, 1]
        )
        return sp.kronsum(d, d, format="csr")
    a = sp.lil_array((n, n))
    a.setdiag(1)
    a[0, :] = 1
    a[:, 0] = 1
    return a.tocsr()


# ---- one measurement (in a worker process) ---------------------------------------------------------


def _peak_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _later(fn, budget=0.5, lo=3, hi=20):
    ts = []
    t_end = time.perf_counter() + budget
    while len(ts) < lo or (len(ts) < hi and time.perf_counter() < t_end):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts), len(ts)


def measure(method, kind, n):
    rng = np.random.default_rng(0)
    x = rng.random(n)
    res = {"method": method, "case": case_name(kind, n)}
    if method.startswith("tapegrad"):
        import scipy.sparse  # noqa: F401 - imported before the clock, as the other methods' libraries

        import tapegrad as tg

        xt = tg.tensor(x)
        f = _tg_funcs(tg, kind)
        base = _peak_kb()
        t0 = time.perf_counter()
        if method == "tapegrad":
            obj = tg.SparseHessian(f, xt) if kind == "arrow hessian" else tg.SparseJacobian(f, xt)
            t_detect = time.perf_counter() - t0
            out = obj(xt)
            res["first"] = time.perf_counter() - t0
            res["detect_color"] = t_detect
            res["colors"] = obj.num_colors
            res["nnz"] = int(out.nnz)
            call = lambda: obj(xt)
        else:
            if n > 10**4:
                return {**res, "skipped": "dense matrix too large"}
            d = tg.hessian(f) if kind == "arrow hessian" else tg.jacfwd(f)
            out = d(xt)
            res["first"] = time.perf_counter() - t0
            res["colors"] = n  # one tangent per column
            call = lambda: d(xt)
        res["later"], res["repeats"] = _later(call)
    elif method == "scipy fd":
        from scipy.optimize._numdiff import approx_derivative, group_columns

        f = _np_funcs(kind)
        s = structure(kind, n)
        base = _peak_kb()
        t0 = time.perf_counter()
        out = approx_derivative(f, x, method="2-point", sparsity=s)
        res["first"] = time.perf_counter() - t0
        groups = group_columns(s)
        res["colors"] = int(groups.max()) + 1
        res["nnz"] = int(out.nnz)
        res["later"], res["repeats"] = _later(
            lambda: approx_derivative(f, x, method="2-point", sparsity=(s, groups))
        )
    else:
        if kind == "arrow hessian":
            # sparsejac colors columns (no star coloring): an arrow needs n colors, and its networkx
            # conflict graph of ~n^2/2 edges passed 11 GB at n = 1e4 before it was stopped.
            return {**res, "skipped": "column coloring of an arrow: n colors, > 11 GB (not run)"}
        import jax

        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        import sparsejac
        from jax.experimental import sparse as jsparse

        f = _jax_funcs(jnp, jax, kind)
        s = structure(kind, n)
        xj = jnp.asarray(x)
        base = _peak_kb()
        t0 = time.perf_counter()
        sparsity = jsparse.BCOO.from_scipy_sparse(s)
        jf = jax.jit(sparsejac.jacfwd(f, sparsity))
        out = jf(xj)
        out.data.block_until_ready()
        res["first"] = time.perf_counter() - t0
        res["nnz"] = int(out.nse)
        res["later"], res["repeats"] = _later(lambda: jf(xj).data.block_until_ready())
    res["peak_mb"] = (_peak_kb() - base) / 1024
    return res


def worker(argv):
    method, kind, n = argv[0], argv[1], int(argv[2])
    try:
        res = measure(method, kind, n)
    except ImportError as e:
        res = {"method": method, "case": case_name(kind, n), "skipped": f"not installed ({e.name})"}
    print(json.dumps(res), flush=True)


# ---- the parent: one process per (method, case), a table ---------------------------------------------


def _run_one(method, kind, n, timeout):
    cmd = [sys.executable, "-m", "tapegrad._bench.sparse", "--worker", method, kind, str(n)]
    try:
        p = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, env=dict(os.environ)
        )
    except subprocess.TimeoutExpired:
        return {"method": method, "case": case_name(kind, n), "skipped": f"over {timeout} s"}
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        tail = (p.stderr.strip().splitlines() or ["no output"])[-1]
        return {"method": method, "case": case_name(kind, n), "skipped": f"failed: {tail[:120]}"}
    return json.loads(lines[-1])


def _fmt_t(t):
    return f"{t * 1e3:.3g} ms" if t < 1 else f"{t:.3g} s"


def table(results, methods, markdown):
    head = ["case", "method", "first call", "later call", "colors", "peak MB", "later vs tapegrad"]
    rows = []
    by_case = {}
    for r in results:
        by_case.setdefault(r["case"], {})[r["method"]] = r
    for case, rs in by_case.items():
        ref = rs.get("tapegrad", {}).get("later")
        for m in methods:
            r = rs.get(m)
            if r is None:
                continue
            if "skipped" in r:
                rows.append([case, m, r["skipped"], "", "", "", ""])
                continue
            ratio = f"{r['later'] / ref:.3g}x" if ref else ""
            rows.append(
                [
                    case,
                    m,
                    _fmt_t(r["first"]),
                    _fmt_t(r["later"]),
                    str(r.get("colors", "")),
                    f"{r['peak_mb']:.0f}",
                    ratio,
                ]
            )
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*head)] + [fmt.format(*row) for row in rows])


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tapegrad bench --suite sparse")
    ap.add_argument("--quick", action="store_true", help="skip n = 1e6")
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--libs", default="", help="methods, comma-separated: " + ", ".join(METHODS))
    ap.add_argument("--timeout", type=float, default=600, help="seconds per (method, case)")
    ap.add_argument("--no-progress", action="store_true")
    a, _ = ap.parse_known_args(argv)
    methods = [m.strip() for m in a.libs.split(",") if m.strip()] or list(METHODS)
    bad = [m for m in methods if m not in METHODS]
    if bad:
        raise SystemExit(f"unknown method {', '.join(bad)}; choose from {', '.join(METHODS)}")
    results = []
    for kind, n in cases(a.quick):
        for m in methods:
            if not a.no_progress:
                print(f"  {case_name(kind, n)}: {m} ...", file=sys.stderr, flush=True)
            results.append(_run_one(m, kind, n, a.timeout))
    print("== sparse: sparse Jacobians and Hessians ==")
    print(table(results, methods, a.markdown))
    print(
        "first call: detection + coloring (+ compilation) + one evaluation; later call: median of "
        "later calls; peak MB: the process's extra resident-set high-water mark."
    )
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"suite": "sparse", "results": results}, fh, indent=1)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2:])
    else:
        raise SystemExit(main())
