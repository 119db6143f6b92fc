"""Shared benchmark harness: each library runs in its own process (loading JAX slows PyTorch),
the parent collects medians and prints ratios against tapegrad."""
from __future__ import annotations

import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time


def have(module):
    return importlib.util.find_spec(module) is not None


def timeit(fn, min_time=0.2, repeats=7, warmup=3):
    """Median and spread (min, max) of one call of fn, in seconds. Calls are batched so that each
    repeat lasts about min_time / repeats."""
    for _ in range(warmup):
        fn()
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-7)
    number = max(1, int(min_time / repeats / one))
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - t0) / number)
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples)}


def run_worker(script, lib, extra=()):
    """Run `script --worker lib` in a fresh interpreter and return its JSON results."""
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 1))
    p = subprocess.run([sys.executable, script, "--worker", lib, *extra], capture_output=True, text=True, env=env)
    if p.returncode != 0:
        return {"error": (p.stderr or p.stdout).strip().splitlines()[-1:] or ["failed"]}
    return json.loads(p.stdout.strip().splitlines()[-1])


def fmt_time(s):
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.2f} us"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def print_table(cases, libs, results, ref="tapegrad"):
    """One row per case: each library's median time and its ratio to tapegrad (>1: tapegrad faster)."""
    head = ["case"] + libs
    rows = []
    for case in cases:
        row = [case]
        base = results.get(ref, {}).get(case, {}).get("median")
        for lib in libs:
            r = results.get(lib, {}).get(case)
            if not r or "median" not in r:
                row.append("n/a" if lib in results else "not installed")
                continue
            cell = fmt_time(r["median"])
            if lib != ref and base:
                cell += f" ({r['median'] / base:.1f}x)"
            row.append(cell)
        rows.append(row)
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    line = "  ".join(h.ljust(w) for h, w in zip(head, widths))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    print("(median of repeats; in parentheses: the library's time / tapegrad's time)")


def main(doc, script, cases, libs_all, module_of, workers, extra_args=()):
    """Command line of a benchmark script: the parent runs one worker process per installed
    library and prints the table; `--worker LIB` runs one library and prints JSON."""
    import argparse
    import json

    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", help="write the figures to this file")
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--libs", help="comma-separated subset of: " + ", ".join(libs_all))
    a = ap.parse_args()
    if a.worker:
        print(json.dumps(workers[a.worker]()))
        return None
    wanted = a.libs.split(",") if a.libs else libs_all
    libs = [lib for lib in wanted if have(module_of[lib])]
    results = {}
    for lib in libs:
        print(f"running {lib} ...", file=sys.stderr)
        results[lib] = run_worker(script, lib, ["--quick"] if a.quick else [])
    print_table(cases, libs, results)
    missing = [lib for lib in wanted if lib not in libs]
    if missing:
        print("not installed (skipped): " + ", ".join(missing))
    for lib, r in results.items():
        if "error" in r:
            print(f"{lib} failed: {' '.join(r['error'])}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=2)
    return results
