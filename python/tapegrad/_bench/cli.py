"""``python -m tapegrad bench``: tapegrad against the installed peer libraries, side by side.

    python -m tapegrad bench [--suite ops|grad|jacobian|jit|growth|scipy|sparse|all] [--libs a,b]
                             [--json FILE] [--plot FILE.png] [--quick] [--markdown]

Every library runs in its own fresh process (the growth suite: one per library and size).
Tables give the median over repeated timings, the spread (half the interquartile range,
relative to the median) and the ratio to tapegrad's median (>1: tapegrad is faster). Peers
that are not installed are skipped and named. ``--plot`` needs matplotlib; a progress bar uses
tqdm when it is installed (both in ``pip install "tapegrad[bench]"``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from . import harness, suites
from .harness import fmt_bytes, render
from .worker import TRACED

SUITE_CHOICES = (*suites.NAMES, *suites.EXTRA, "sparse", "all")


def parse(argv):
    ap = argparse.ArgumentParser(
        prog="python -m tapegrad bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "--suite",
        default="grad",
        choices=SUITE_CHOICES,
        help="which suite (default: grad); all = ops, grad, jacobian, jit, growth; "
        "scipy: SciPy solvers with each library's derivatives (needs SciPy); "
        "sparse: sparse Jacobians and Hessians (its own table: tapegrad/_bench/sparse.py)",
    )
    ap.add_argument(
        "--libs",
        help="comma-separated subset of: "
        + ", ".join(harness.ORDER)
        + " ('jax' selects both jax columns)",
    )
    ap.add_argument("--json", metavar="FILE", help="write every measurement to FILE")
    ap.add_argument(
        "--plot", metavar="FILE.png", help="write a figure (several suites: FILE-<suite>.png)"
    )
    ap.add_argument(
        "--quick",
        action="store_true",
        help="fewer repeats and sizes; the growth suite uses one process per library",
    )
    ap.add_argument("--markdown", action="store_true", help="print the tables as markdown")
    ap.add_argument(
        "--tapegrad-simd",
        metavar="PATH",
        help="run tapegrad's kernels on this ISA path (avx512, avx2, sse2) instead of "
        "the best one the CPU has, e.g. to see a machine without AVX-512",
    )
    ap.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="kernel threads per library (tapegrad, torch, OpenMP, OpenBLAS, MKL; "
        "XLA with N=1); default: each library's own default",
    )
    ap.add_argument(
        "--from-json",
        metavar="FILE",
        help="measure nothing: print the tables (and --plot the figures) of a JSON "
        "file written by --json",
    )
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    return ap.parse_args(argv)


def plot_path(base, name, several):
    if not several:
        return base
    root, ext = os.path.splitext(base)
    return f"{root}-{name}{ext or '.png'}"


def wrap_join(parts, width=85):
    lines, cur = [], ""
    for p in parts:
        if cur and len(cur) + len(p) + 2 > width:
            lines.append(cur)
            cur = p
        else:
            cur = f"{cur}; {p}" if cur else p
    return "\n".join([*lines, cur])


def memory_table(suite, libs, run, markdown, only_memory=False):
    rows = [["case"] + [f"{lib} [{'tm' if lib in TRACED else 'rss'}]" for lib in libs]]
    for case in suite.cases:
        if only_memory and not case.memory:
            continue
        row = [case.name]
        for lib in libs:
            r = run["results"].get(lib, {}).get(case.name) or {}
            if not suite.applies(lib, case):
                row.append("")
                continue
            v = r.get("peak_traced") if lib in TRACED else r.get("peak_rss")
            row.append(fmt_bytes(v) if v is not None else ("error" if "error" in r else "n/a"))
        rows.append(row)
    return render(rows, markdown)


def rate_table(suite, libs, run, markdown):
    rows = [["case"] + libs]
    for case in suite.cases:
        if not case.work:
            continue
        row = [f"{case.name} [{case.work[1]}]"]
        for lib in libs:
            r = run["results"].get(lib, {}).get(case.name) or {}
            row.append(f"{r['rate']:.3g}" if "rate" in r else "n/a")
        rows.append(row)
    return render(rows, markdown)


def report(suite, libs, run, markdown, out=print):
    out("")
    head = f"== {suite.name}: {suite.title} =="
    out(head)
    out(suite.doc)
    if suite.name == "growth":
        out("\nTime per call, median (ratio to tapegrad):")
        out(harness.time_table(suite, libs, run, markdown, show_spread=False))
        out("\nPeak memory of one call above the memory held before it:")
        out(memory_table(suite, libs, run, markdown))
        out(
            "[tm] tracemalloc peak (Python objects and numpy buffers). [rss] increase of the "
            "process's peak resident set\nover the resident set before the call (Linux: VmHWM "
            "reset via /proc/self/clear_refs; elsewhere ru_maxrss),\nafter one warm-up call "
            "at the same size, with glibc's mmap threshold fixed at 128 KiB so freed buffers\n"
            "go back to the OS; tapegrad's allocator cache is emptied first. "
            + (
                "One fresh process per (library, size)."
                if suite.fresh_per_case
                else "One process per library (--quick), sizes in ascending order."
            )
        )
    else:
        out(harness.time_table(suite, libs, run, markdown))
        out(
            "median ±spread (half the interquartile range of the repeats) (library time / "
            "tapegrad time: >1 means tapegrad is faster)"
        )
        if suite.extra is not None:
            out("")
            out(suite.extra(suite, libs, run, markdown))
        if any(c.memory for c in suite.cases):
            out(
                "\nPeak memory of one call above the memory held before it (increase of the "
                "process's peak resident set; tracemalloc [tm] for numpy-based libraries):"
            )
            out(memory_table(suite, libs, run, markdown, only_memory=True))
        if any(c.work for c in suite.cases):
            out("\nThroughput from the medians:")
            out(rate_table(suite, libs, run, markdown))
    for note in suite.notes:
        out("note: " + note)
    skipped = sorted(
        {
            r["skipped"]
            for lib in libs
            for r in run["results"].get(lib, {}).values()
            if "skipped" in r
        }
    )
    for s in skipped:
        out("n/a: " + s)
    for lib in libs:
        errs = {r["error"] for r in run["results"].get(lib, {}).values() if "error" in r}
        if lib in run["errors"]:
            errs.add(run["errors"][lib])
        for e in sorted(errs):
            out(f"{lib} failed: {e}")


def versions_line(versions):
    # "1 threads" in files written before harness.threads() existed
    return [
        f"{k} {v['version']}".replace("(1 threads)", "(1 thread)").replace(
            ", 1 threads)", ", 1 thread)"
        )
        for k, v in versions.items()
    ]


def figure(suite, libs, run, path, versions):
    from . import plot

    sub = wrap_join(versions_line(versions))
    if suite.name == "growth":
        sub += (
            "\nmemory: tracemalloc peak for numpy, autograd, micrograd; "
            "peak-RSS increase for the others"
        )
    return plot.plot_suite(suite, libs, run, path, subtitle=sub)


def replay(a, names):
    """Tables and figures from a saved --json file; nothing is measured."""
    with open(a.from_json) as f:
        doc = json.load(f)
    quick = "--quick" in doc.get("argv", [])
    print(f"from {a.from_json}: {harness.describe_machine(doc['machine'])}")
    for name in names:
        saved = doc["suites"].get(name)
        if saved is None:
            continue
        if "skipped" in saved:
            print(f"\n== {name}: skipped ==\n{saved['skipped']}")
            continue
        suite = suites.get(name, quick)
        run = {"results": saved["results"], "errors": saved["errors"]}
        report(suite, saved["libs"], run, a.markdown)
        if a.plot:
            path = plot_path(a.plot, name, len(names) > 1)
            vers = {k: v for k, v in doc.get("versions", {}).items() if k in saved["libs"]}
            if figure(suite, saved["libs"], run, path, vers):
                print(f"figure: {path}")
    print("\nversions: " + "; ".join(versions_line(doc.get("versions", {}))))
    return 0


def _suite_arg(argv):
    for i, v in enumerate(argv):
        if v == "--suite" and i + 1 < len(argv):
            return argv[i + 1]
        if v.startswith("--suite="):
            return v.split("=", 1)[1]
    return None


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if (
        _suite_arg(argv) == "sparse"
    ):  # its own runner, options and table (tapegrad/_bench/sparse.py)
        from . import sparse

        return sparse.main(argv)
    a = parse(argv)
    names = list(suites.NAMES) if a.suite == "all" else [a.suite]
    if a.plot:
        from . import plot

        if not plot.available():
            print(plot.MISSING, file=sys.stderr)
            return 2
    if a.from_json:
        return replay(a, names)
    if a.threads:
        harness.set_threads(a.threads)
    if a.tapegrad_simd:
        os.environ["TAPEGRAD_BENCH_SIMD"] = a.tapegrad_simd  # inherited by the workers
    info = harness.machine_info()
    info["busy_cpus_at_start"] = busy = harness.busy_cpus()
    print(f"machine: {harness.describe_machine(info)}")
    if busy is not None:
        print(f"CPUs busy with other processes at start: {busy:.2f} of {info.get('cpus')}")
        if busy > 0.25:
            print(
                "warning: other processes are using the CPU, so the timings will be noisy "
                "(PyTorch's and OpenBLAS's thread pools suffer most)"
            )
    t_start = time.perf_counter()
    doc = {"machine": info, "argv": sys.argv[1:] if argv is None else list(argv), "suites": {}}
    versions = {}
    not_installed = set()
    for name in names:
        suite = suites.get(name, a.quick)
        chosen = harness.select_libs(a.libs, suite.libs)
        libs = [lib for lib in chosen if harness.have(lib)]
        absent = [lib for lib in chosen if lib not in libs]
        not_installed.update(absent)
        run = harness.run_suite(suite, libs, a.quick, progress=not a.no_progress)
        versions.update(run["versions"])
        report(suite, libs, run, a.markdown)
        if absent:
            print("not installed (skipped): " + ", ".join(absent))
        doc["suites"][name] = {
            "title": suite.title,
            "libs": libs,
            "not_installed": absent,
            "cases": [
                {"name": c.name, "group": c.group, "size": c.size, "libs": c.libs}
                for c in suite.cases
            ],
            "results": run["results"],
            "errors": run["errors"],
        }
        if a.plot:
            path = plot_path(a.plot, name, len(names) > 1)
            if figure(suite, libs, run, path, run["versions"]):
                print(f"figure: {path}")
                doc["suites"][name]["figure"] = path
    if versions:
        print("\nversions: " + "; ".join(versions_line(versions)))
    if not_installed:
        print("not installed: " + ", ".join(sorted(not_installed)))
    busy_end = harness.busy_cpus()
    print(
        f"total {time.perf_counter() - t_start:.0f} s"
        + (
            f"; CPUs busy with other processes at end: {busy_end:.2f}"
            if busy_end is not None
            else ""
        )
    )
    doc["versions"] = versions
    doc["busy_cpus_at_end"] = busy_end
    if a.json:
        with open(a.json, "w") as f:
            json.dump(doc, f, indent=1)
        print(f"json: {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
