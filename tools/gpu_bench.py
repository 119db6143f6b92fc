#!/usr/bin/env python3
"""GPU micro-benchmarks of the CUDA backend (issue 13), run by tools/gpu_check.sh on a GPU machine.

Each library runs in its own process (tapegrad, and PyTorch when it is installed), on the same GPU:
elementwise add and exp of float32 (GB/s moved), the per-op latency of a 4-element add, and grad of
(sin(x) * x).sum() at 10^7. Not measured yet (no kernels): matmul/TF32 (cuBLAS), the MLP training
step eager and jitted (CUDA Graphs). Prints one table; exit status 1 when a tapegrad case fails.

Usage: PYTHONPATH=python python tools/gpu_bench.py [--n 100000000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

CHILD = r"""
import json, sys, time
lib, n, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
res = {}
if lib == "tapegrad":
    import tapegrad as tg
    assert tg.cuda.is_available(), "no GPU"
    sync = tg.cuda.synchronize
    x = tg.rand(n).to("GPU"); y = tg.rand(n).to("GPU")
    small = tg.ones(4, device="GPU")
    add, exp = (lambda: x + y), (lambda: tg.exp(x))
    xs = tg.rand(10**7).to("GPU")
    grad = tg.grad(lambda v: (tg.sin(v) * v).sum())
    g = lambda: grad(xs)
    tiny = lambda: small + small
else:
    import torch
    assert torch.cuda.is_available(), "no GPU"
    sync = torch.cuda.synchronize
    x = torch.rand(n, device="cuda"); y = torch.rand(n, device="cuda")
    small = torch.ones(4, device="cuda")
    add, exp = (lambda: x + y), (lambda: torch.exp(x))
    xs = torch.rand(10**7, device="cuda")
    def g():
        v = xs.detach().requires_grad_(True)
        (torch.sin(v) * v).sum().backward()
        return v.grad
    tiny = lambda: small + small

def best(f, k):
    f(); sync()
    ts = []
    for _ in range(k):
        t0 = time.perf_counter(); f(); sync(); ts.append(time.perf_counter() - t0)
    return min(ts)

res["add GB/s"] = 3 * 4 * n / best(add, repeat) / 1e9
res["exp GB/s"] = 2 * 4 * n / best(exp, repeat) / 1e9
res["grad sin*x 1e7 ms"] = best(g, repeat) * 1e3
tiny(); sync()
t0 = time.perf_counter()
for _ in range(10000):
    tiny()
sync()
res["4-element add us"] = (time.perf_counter() - t0) / 10000 * 1e6
print(json.dumps(res))
"""


def run(lib: str, n: int, repeat: int) -> dict | str:
    p = subprocess.run(
        [sys.executable, "-c", CHILD, lib, str(n), str(repeat)], capture_output=True, text=True
    )
    if p.returncode != 0:
        return (p.stderr.strip().splitlines() or ["failed"])[-1]
    return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10**8)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    try:
        from tapegrad import _cuda

        print("device:", json.dumps(_cuda.info()))
    except ImportError as e:
        print("tapegrad._cuda:", e)
    results = {lib: run(lib, args.n, args.repeat) for lib in ("tapegrad", "torch")}
    keys = ["add GB/s", "exp GB/s", "4-element add us", "grad sin*x 1e7 ms"]
    print(f"{'case':24s}" + "".join(f"{lib:>14s}" for lib in results))
    for k in keys:
        row = f"{k:24s}"
        for r in results.values():
            row += f"{r[k]:14.2f}" if isinstance(r, dict) else f"{'-':>14s}"
        print(row)
    for lib, r in results.items():
        if not isinstance(r, dict):
            print(f"{lib}: {r}")
    print("time:", time.strftime("%Y-%m-%d %H:%M:%S"))
    return 0 if isinstance(results["tapegrad"], dict) else 1


if __name__ == "__main__":
    sys.exit(main())
