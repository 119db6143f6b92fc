"""Medium-size elementwise ops on the kernel thread pool, call by call (Note [Kernel thread pool]):

    python benchmarks/bench_pool.py [--ops add,exp] [--sizes 1e5] [--threads 2] [--calls N]
                                    [--rounds R] [--other PYTHONPATH] [--torch]

Each case runs in a fresh process that times N single calls (`x + y`, `tg.exp(x)`, ... on float32
vectors of n elements) and reads, after each, how many of the region's chunks the pool's workers
ran (tg._core._pool_stats()["worker_chunks"]). It prints the median and 10th percentile of the
calls the workers took part in ("with workers": the two-thread time on a quiet machine) apart from
those the caller ran alone (a worker without a core: a busy machine), the share of each, and the
mean of all calls. On a machine that other work loads the workers take part in few calls, and the
mean says little; the "with workers" columns still compare builds. --other runs the same cases
with another tapegrad (its python/ folder, e.g. a build of main) in alternation, R rounds;
--torch adds torch's time for the same call (its percentiles over all calls: it has no such
statistics; its pool waits for its workers, so its slow calls land in the mean).
"""

import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

CHILD = r"""
import sys, time
import numpy as np
path, lib, op, n, threads, calls = sys.argv[1], sys.argv[2], sys.argv[3], int(float(sys.argv[4])), int(sys.argv[5]), int(sys.argv[6])
sys.path.insert(0, path)
if lib == "torch":
    import torch
    torch.set_num_threads(threads)
    a, b = torch.randn(n), torch.randn(n)
    fns = {"add": lambda: a + b, "mul": lambda: a * b, "exp": lambda: torch.exp(a), "tanh": lambda: torch.tanh(a)}
    stats = None
else:
    if path == "-":
        sys.path.insert(0, %(here)r)
        import _path  # noqa: F401
    import tapegrad as tg
    tg.set_num_threads(threads)
    rng = np.random.default_rng(0)
    a = tg.tensor(rng.standard_normal(n).astype(np.float32))
    b = tg.tensor(rng.standard_normal(n).astype(np.float32))
    fns = {"add": lambda: a + b, "mul": lambda: a * b, "exp": lambda: tg.exp(a), "tanh": lambda: tg.tanh(a)}
    stats = getattr(tg._core, "_pool_stats", None)
    if stats is not None and "worker_chunks" not in stats():
        stats = None
f = fns[op]
for _ in range(200):
    f()
pc = time.perf_counter_ns
ts = np.empty(calls)
w = np.zeros(calls)
last = stats()["worker_chunks"] if stats else 0
for i in range(calls):
    t = pc()
    f()
    ts[i] = pc() - t
    if stats:
        now = stats()["worker_chunks"]
        w[i], last = now - last, now
print(" ".join(map(repr, ts.tolist())))
print(" ".join(map(repr, w.tolist())))
print(int(stats is not None))
"""


def run(path, lib, op, n, threads, calls):
    code = CHILD % {"here": HERE}
    out = subprocess.run(
        [sys.executable, "-c", code, path, lib, op, str(n), str(threads), str(calls)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    ts = [float(v) / 1e3 for v in out[0].split()]
    w = [float(v) for v in out[1].split()]
    return ts, w, out[2] == "1"


def pct(v, p):
    if not v:
        return float("nan")
    v = sorted(v)
    return v[min(len(v) - 1, int(p * len(v)))]


def line(label, ts, w, has_stats):
    mean = sum(ts) / len(ts)
    if not has_stats:
        return (
            f"  {label:>10}: all calls p10 {pct(ts, 0.1):8.2f} p50 {pct(ts, 0.5):8.2f}"
            f"{'':32} mean {mean:9.2f} us"
        )
    withw = [t for t, k in zip(ts, w) if k > 0]
    alone = [t for t, k in zip(ts, w) if k <= 0]
    share = 100.0 * len(withw) / len(ts)
    return (
        f"  {label:>10}: with workers ({share:5.1f}%) p10 {pct(withw, 0.1):8.2f} p50 {pct(withw, 0.5):8.2f}"
        f" | alone p10 {pct(alone, 0.1):8.2f} p50 {pct(alone, 0.5):8.2f} | mean {mean:9.2f} us"
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ops", default="add,exp")
    ap.add_argument("--sizes", default="1e5")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--calls", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--other", help="the python/ folder of another tapegrad build to compare")
    ap.add_argument("--torch", action="store_true")
    args = ap.parse_args()
    libs = [("this", "-", "tapegrad")]
    if args.other:
        libs.append(("other", os.path.abspath(args.other), "tapegrad"))
    if args.torch:
        libs.append(("torch", "-", "torch"))
    for op in args.ops.split(","):
        for size in args.sizes.split(","):
            n = int(float(size))
            print(f"{op}, n={n}, float32, {args.threads} threads, {args.calls} calls per process:")
            for _ in range(args.rounds):
                for label, path, lib in libs:
                    ts, w, has_stats = run(path, lib, op, n, args.threads, args.calls)
                    print(line(label, ts, w, has_stats), flush=True)
    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
