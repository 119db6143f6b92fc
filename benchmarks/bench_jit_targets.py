"""Issue 14's wall-time targets in one quick run (run it on an otherwise idle machine):

    python benchmarks/bench_jit_targets.py

1. grad of (sin(x)*x).sum() at 1e6 float32 under tg.jit (median of 300 replays), against the time
   to compute one sin and one cos per element on the same threads (tapegrad's eager sin and cos);
2. the expression 2*a + 3*b**2 - exp(-a) at 1e7 float32 under tg.jit against numexpr with the same
   number of threads (skipped when numexpr is not installed).
The full comparison with jax.jit and torch.compile, each in its own process, is
`python -m tapegrad bench --suite jit`.
"""

from __future__ import annotations

import time

import _path  # noqa: F401  (this checkout's build)
import numpy as np

import tapegrad as tg


def median_ms(fn, n, warm=5):
    for _ in range(warm):
        fn()
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    ts.sort()
    return ts[len(ts) // 2] * 1e3


def main():
    threads = tg.get_num_threads()
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.standard_normal(10**6).astype(np.float32))
    g = tg.jit(tg.grad(lambda x: (tg.sin(x) * x).sum()))
    t_grad = median_ms(lambda: g(x), 300, warm=20)
    t_sc = median_ms(lambda: (tg.sin(x), tg.cos(x)), 300, warm=20)
    print(f"threads: {threads}")
    print(f"jit grad of (sin(x)*x).sum(), 1e6 float32: {t_grad:.3f} ms (target <= 0.4 ms)")
    print(f"eager sin(x) and cos(x), 1e6 float32:     {t_sc:.3f} ms")
    print(f"ratio: {t_grad / t_sc:.2f} (target <= 1.5)")
    try:
        import numexpr as ne
    except ImportError:
        print("numexpr not installed: the expression case is skipped")
        return
    ne.set_num_threads(threads)
    a = rng.standard_normal(10**7).astype(np.float32)
    b = rng.standard_normal(10**7).astype(np.float32)
    ta, tb = tg.tensor(a), tg.tensor(b)
    f = tg.jit(lambda a, b: 2 * a + 3 * b**2 - tg.exp(-a))
    t_tg = median_ms(lambda: f(ta, tb), 30)
    env = {"a": a, "b": b}
    t_ne = median_ms(lambda: ne.evaluate("2*a + 3*b**2 - exp(-a)", local_dict=env), 30)
    print(f"2*a + 3*b**2 - exp(-a), 1e7 float32: tg.jit {t_tg:.2f} ms, numexpr {t_ne:.2f} ms")


if __name__ == "__main__":
    main()
