"""The 2-thread fused replay with one core busy (Note [Kernel thread pool]):

    python benchmarks/bench_jit_busy.py [--rounds R] [--replays N] [--pin]

Times the replay of tg.jit(tg.grad) of (sin(x) * x).sum() at 10^6 float32 elements and tapegrad's
eager sin(x) and cos(x) on the same threads, each in a fresh process, with the machine as it is
("quiet") and with a process burning one core ("busy", `python -c "while True: pass"`), in
alternation, R rounds. --pin puts the calling thread on CPU 0 and the kernel worker and the burner
on CPU 1: the worker then shares its core with the burner, the case this measures. Prints, per
case and round, the median, 90th percentile and mean of N calls in ms, and what the thread pool did
during the replays (tg._core._pool_stats(): the caller's wait for workers per replay, stalls,
regions run alone after a stall). The busy core should cost at most about the serial time (about
2x the quiet time on two cores), never a scheduler time slice per replay. On a machine that other
work loads, compare cases of one run only.
"""

import argparse
import os
import subprocess
import sys
import time

CHILD = r"""
import os, sys, threading, time
sys.path.insert(0, sys.argv[1])
import _path  # noqa: F401
import numpy as np
import tapegrad as tg

tg.set_num_threads(2)
x = tg.tensor(np.random.default_rng(0).standard_normal(10**6).astype(np.float32))
tg.sin(x)  # the pool's worker exists
if sys.argv[3] == "1":
    me = threading.get_native_id()
    for t in os.listdir("/proc/self/task"):
        os.sched_setaffinity(int(t), {0} if int(t) == me else {1})
g = tg.jit(tg.grad(lambda x: (tg.sin(x) * x).sum()))
n = int(sys.argv[2])


def stats(fn):
    for _ in range(20):
        fn()
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    mean = sum(ts) / n
    ts.sort()
    return ts[n // 2] * 1e3, ts[int(n * 0.9)] * 1e3, mean * 1e3


pool = getattr(tg._core, "_pool_stats", None)  # (absent from builds before it: compare them too)
s0 = pool() if pool else None
a = stats(lambda: g(x))
s1 = pool() if pool else None
b = stats(lambda: (tg.sin(x), tg.cos(x)))
line = f"grad med {a[0]:.3f} p90 {a[1]:.3f} mean {a[2]:.3f} | sin+cos med {b[0]:.3f} p90 {b[1]:.3f} mean {b[2]:.3f}"
if pool:
    d = {k: s1[k] - s0[k] for k in s0}
    line += (
        f" | pool: wait {d['wait_ns'] / 1e3 / (n + 20):.0f} us/replay, {d['stalls']} stalls, "
        f"{d['alone']}/{d['alone'] + d['shared']} regions alone"
    )
print(line)
"""


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--replays", type=int, default=300)
    ap.add_argument("--pin", action="store_true")
    args = ap.parse_args()
    if args.pin and (os.cpu_count() or 1) < 2:
        sys.exit("--pin needs 2 CPUs")
    here = os.path.dirname(os.path.abspath(__file__))
    child = [sys.executable, "-c", CHILD, here, str(args.replays), "1" if args.pin else "0"]
    burn = [sys.executable, "-c", "while True: pass"]
    if args.pin:
        burn = ["taskset", "-c", "1", *burn]
    for r in range(args.rounds):
        for case in ("quiet", "busy"):
            burner = subprocess.Popen(burn) if case == "busy" else None
            try:
                time.sleep(0.2)
                out = subprocess.run(
                    child, capture_output=True, text=True, check=True
                ).stdout.strip()
            finally:
                if burner:
                    burner.kill()
                    burner.wait()
            print(f"round {r} {case:5s}: {out}", flush=True)


if __name__ == "__main__":
    main()
