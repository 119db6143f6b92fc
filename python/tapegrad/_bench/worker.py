"""One benchmark process: ``python -m tapegrad._bench.worker --suite S --libs L --cases JSON``.

Runs the named cases of one suite for the given libraries (labels of the same module) and prints
one JSON line per case as it finishes, then nothing else on stdout. Run by harness.run_job.
"""

from __future__ import annotations

import argparse
import json
import sys

from . import harness, impl, suites

# Libraries whose allocations tracemalloc sees (Python objects and numpy's buffers).
TRACED = {"numpy", "autograd", "micrograd"}


def _emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def measure(lib, m, case, quick):
    fn = case.build(m)
    out = {}
    if case.memory:
        controlled = harness.MALLOC.measuring()
        fn()  # the first call at this size compiles (jax.jit) and fills lazy caches; not counted
        out["peak_rss"], out["rss_method"] = harness.peak_rss_delta(fn, before=m.release)
        if not controlled:
            out["rss_method"] += " (malloc thresholds not controlled)"
        if lib in TRACED:
            out["peak_traced"] = harness.traced_peak(fn)
        harness.MALLOC.timing()
        budget = {"min_time": 0.03, "repeats": 3} if quick else {"min_time": 0.2, "repeats": 5}
        out.update(harness.timeit(fn, warmup=1, **budget))
    else:
        out.update(harness.timeit(fn, **harness.timing_budget(quick)))
    if hasattr(fn, "per_call"):  # scipy suite: one derivative call and the solve's counts
        out["per_call"] = harness.timeit(fn.per_call, **harness.timing_budget(quick))["median"]
        out["counts"] = fn.counts()
    if case.work:
        amount, unit = case.work
        scale = 1e9  # GB/s and GFLOP/s
        out["rate"], out["rate_unit"] = amount / out["median"] / scale, unit
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--suite", required=True)
    ap.add_argument("--libs", required=True)
    ap.add_argument("--cases", required=True, help="JSON list of case names")
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args(argv)
    suite = suites.get(a.suite, a.quick)
    by_name = {c.name: c for c in suite.cases}
    names = json.loads(a.cases)
    for lib in a.libs.split(","):
        m = (suite.make or impl.make)(lib)
        try:
            m.init()
        except impl.NotApplicable:
            pass
        _emit({"lib": lib, "info": {"version": harness.lib_version(lib)}})
        for name in names:
            if not suite.applies(lib, by_name[name]):
                continue
            try:
                result = measure(lib, m, by_name[name], a.quick)
            except impl.NotApplicable as e:
                result = {"skipped": str(e)}
            except Exception as e:  # one failing case must not lose the others
                result = {"error": f"{type(e).__name__}: {e}"[:300]}
            _emit({"lib": lib, "case": name, "result": result})
    return 0


if __name__ == "__main__":
    sys.exit(main())
