"""Op-level benchmark of tapegrad against numpy, measured in the same run.

Rows: latency of one tiny op (x * y on 4 float32 elements); throughput of add, exp and tanh on
1e6 and 1e7 float32 elements (GB/s counts the bytes read and written once); float32 matmul
1024x1024 (GFLOP/s), when tg.matmul exists. Each timing is the median over repeats after a
warm-up; tapegrad and numpy are timed alternately so that machine load affects both alike.

    python benchmarks/bench_ops.py [--json results.json] [--repeats 15] [--threads N]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import tapegrad as tg  # noqa: E402


def per_call(fn, number):
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def calibrate(fn, target=0.02):
    """Calls per sample so that one sample takes ~target seconds."""
    number = 1
    while True:
        t = per_call(fn, number) * number
        if t >= target / 4 or number >= 1 << 20:
            return max(1, int(number * target / max(t, 1e-9)))
        number *= 4


def compare(tg_fn, np_fn, repeats):
    """Median seconds per call of each, sampled alternately after a warm-up."""
    for f in (tg_fn, np_fn):
        for _ in range(3):
            f()
    n_tg, n_np = calibrate(tg_fn), calibrate(np_fn)
    t_tg, t_np = [], []
    for _ in range(repeats):
        t_tg.append(per_call(tg_fn, n_tg))
        t_np.append(per_call(np_fn, n_np))
    return statistics.median(t_tg), statistics.median(t_np)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", metavar="FILE", help="also write the results to FILE as JSON")
    ap.add_argument("--repeats", type=int, default=15, help="samples per timing (median taken)")
    ap.add_argument("--threads", type=int, default=None, help="tapegrad kernel threads (default: all)")
    ap.add_argument("--sizes", default="1e6,1e7", help="element counts for the throughput rows")
    args = ap.parse_args(argv)

    if args.threads:
        tg.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    rows = []

    def row(name, unit, tg_value, np_value, ratio, target=None, note=""):
        ok = None if target is None else ratio >= target
        rows.append({"name": name, "unit": unit, "tapegrad": tg_value, "numpy": np_value, "ratio": ratio,
                     "target": target, "meets_target": ok, "note": note})

    # One tiny op: latency (ratio = numpy time / tapegrad time; target: tapegrad <= 1.5x numpy).
    a = np.arange(1, 5, dtype=np.float32)
    b = a[::-1].copy()
    x, y = tg.tensor(a), tg.tensor(b)
    t_tg, t_np = compare(lambda: x * y, lambda: a * b, args.repeats)
    row("x * y, 4 float32 (latency)", "us", t_tg * 1e6, t_np * 1e6, t_np / t_tg, 1 / 1.5)

    # Throughput rows.
    for n in (int(float(s)) for s in args.sizes.split(",")):
        a = rng.standard_normal(n).astype(np.float32)
        b = rng.standard_normal(n).astype(np.float32)
        x, y = tg.tensor(a), tg.tensor(b)
        for name, tgf, npf, nbytes, target in (
            ("add", lambda: x + y, lambda: a + b, 12 * n, 0.9 if n >= 10 ** 7 else None),
            ("exp", lambda: tg.exp(x), lambda: np.exp(a), 8 * n, 2.0 if n == 10 ** 6 else None),
            ("tanh", lambda: tg.tanh(x), lambda: np.tanh(a), 8 * n, 2.0 if n == 10 ** 6 else None),
        ):
            t_tg, t_np = compare(tgf, npf, args.repeats)
            row(f"{name}, {n:.0e} float32", "GB/s", nbytes / t_tg / 1e9, nbytes / t_np / 1e9, t_np / t_tg, target)

    # Matmul (another part of tapegrad; skipped when it is not there yet).
    n = 1024
    if hasattr(tg, "matmul"):
        a = rng.standard_normal((n, n)).astype(np.float32)
        b = rng.standard_normal((n, n)).astype(np.float32)
        x, y = tg.tensor(a), tg.tensor(b)
        try:
            t_tg, t_np = compare(lambda: tg.matmul(x, y), lambda: a @ b, max(3, args.repeats // 3))
            flops = 2 * n ** 3
            row(f"matmul {n}x{n} float32", "GFLOP/s", flops / t_tg / 1e9, flops / t_np / 1e9, t_np / t_tg)
        except Exception as e:  # noqa: BLE001  (report, do not fail the whole run)
            row(f"matmul {n}x{n} float32", "GFLOP/s", float("nan"), float("nan"), float("nan"),
                note=f"skipped: {type(e).__name__}: {e}")
    else:
        row(f"matmul {n}x{n} float32", "GFLOP/s", float("nan"), float("nan"), float("nan"),
            note="skipped: tg.matmul is not available in this build")

    info = {
        "tapegrad_simd": tg.get_simd_path(), "tapegrad_threads": tg.get_num_threads(),
        "numpy": np.__version__, "python": platform.python_version(), "machine": platform.machine(),
        "cpus": os.cpu_count(), "repeats": args.repeats,
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }
    print(f"tapegrad ({info['tapegrad_simd']}, {info['tapegrad_threads']} threads) vs numpy {np.__version__}; "
          f"median of {args.repeats}; ratio = tapegrad speed / numpy speed")
    head = f"{'benchmark':32s} {'unit':>7s} {'tapegrad':>10s} {'numpy':>10s} {'ratio':>7s}  target"
    print(head)
    print("-" * len(head))
    for r in rows:
        if r["note"]:
            print(f"{r['name']:32s} {r['unit']:>7s} {'-':>10s} {'-':>10s} {'-':>7s}  {r['note']}")
            continue
        tgt = ""
        if r["target"] is not None:
            tgt = f">= {r['target']:.2f}  {'ok' if r['meets_target'] else 'MISSED'}"
        print(f"{r['name']:32s} {r['unit']:>7s} {r['tapegrad']:10.3f} {r['numpy']:10.3f} {r['ratio']:7.2f}  {tgt}")
    if info["load_average"]:
        print(f"(load average {info['load_average'][0]:.1f} on {info['cpus']} CPUs)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"info": info, "rows": rows}, f, indent=2, default=float)
    return rows


if __name__ == "__main__":
    main()
