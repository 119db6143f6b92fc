"""float32 matmul GFLOP/s of tapegrad against numpy in the same run (both on OpenBLAS).

    PYTHONPATH=python python benchmarks/bench_matmul.py [n] [reps]

Runs alternate (numpy, tapegrad, numpy, ...) so that load from other processes hits both alike;
reports the best and the median of each and their ratio.
"""

import sys
import time

import numpy as np

import tapegrad as tg


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(np.float32)
    b = rng.standard_normal((n, n)).astype(np.float32)
    ta, tb = tg.tensor(a), tg.tensor(b)
    assert np.allclose((ta @ tb).numpy(), a @ b, rtol=1e-3, atol=1e-3)
    fns = {"numpy": lambda: a @ b, "tapegrad": lambda: ta @ tb}
    times = {k: [] for k in fns}
    for f in fns.values():
        f()
    for _ in range(reps):
        for k, f in fns.items():
            t0 = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t0)
    flop = 2.0 * n**3
    res = {}
    for k, ts in times.items():
        res[k] = (flop / min(ts) / 1e9, flop / float(np.median(ts)) / 1e9)
        print(f"{k:9s} best {res[k][0]:6.1f} GFLOP/s  median {res[k][1]:6.1f} GFLOP/s")
    print(
        f"ratio tapegrad/numpy: best {res['tapegrad'][0] / res['numpy'][0]:.3f}, "
        f"median {res['tapegrad'][1] / res['numpy'][1]:.3f}  "
        f"(n={n}, float32, {tg.get_num_threads()} threads)"
    )


if __name__ == "__main__":
    main()
