"""Timing, memory measurement and the process-per-library runner shared by every suite.

Each library runs in a fresh interpreter (``python -m tapegrad._bench.worker``): importing JAX
starts thread pools and loads XLA, which would slow whatever else shares the process. A worker
prints one JSON line per finished case, so the parent can show progress and keeps the cases that
finished even when a worker dies.
"""

from __future__ import annotations

import gc
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Case:
    """One measured thing. Cases with the same ``group`` and a ``size`` form a line in the plot."""

    name: str
    group: str
    size: int | None = None
    memory: bool = False  # growth cases also measure peak memory
    libs: tuple[str, ...] | None = None  # None: every library of the suite
    build: Callable | None = None  # build(impl) -> zero-argument callable; see impl.py
    work: tuple[float, str] | None = None  # (amount, unit) per call, e.g. (8e6, "GB/s")


@dataclass
class Suite:
    name: str
    title: str
    doc: str
    libs: list[str]
    cases: list[Case]
    notes: list[str] = field(default_factory=list)
    fresh_per_case: bool = False  # one process per (library, case) instead of per library
    # Cases that measure memory each in a process of their own (the others share one per
    # library): a peak-RSS rise is then not hidden by pages that earlier cases left resident.
    fresh_memory_cases: bool = False
    xlabel: str = "problem size (elements)"
    make: Callable | None = None  # lib -> workload object (default: impl.make)
    extra: Callable | None = None  # extra(suite, libs, run, markdown) -> a second table

    def applies(self, lib, case):
        return case.libs is None or lib in case.libs


# Library label -> module to import. "jax (eager)" and "jax (jit)" are the same module.
MODULE = {
    "tapegrad": "tapegrad",
    "numpy": "numpy",
    "torch": "torch",
    "jax (eager)": "jax",
    "jax (jit)": "jax",
    "autograd": "autograd",
    "micrograd": "micrograd",
    "numexpr": "numexpr",
    "torch.compile": "torch",
    "tapegrad (fuse=False)": "tapegrad",
    # the scipy suite's extra columns
    "tapegrad (jit)": "tapegrad",
    "scipy (FD)": "scipy",
}
ORDER = list(MODULE)


def have(lib):
    return importlib.util.find_spec(MODULE.get(lib, lib)) is not None


def select_libs(spec, suite_libs):
    """Libraries of a suite chosen by ``--libs`` (labels or module names, comma-separated)."""
    if not spec:
        return list(suite_libs)
    wanted = [w.strip() for w in spec.split(",") if w.strip()]
    unknown = [w for w in wanted if w not in MODULE and w not in MODULE.values()]
    if unknown:
        raise SystemExit(f"unknown library {', '.join(unknown)}; choose from {', '.join(ORDER)}")
    return [lib for lib in suite_libs if lib in wanted or MODULE[lib] in wanted]


# ---------------------------------------------------------------------------------------------
# Timing


def timeit(fn, min_time=0.3, repeats=7, warmup=2):
    """Median and spread of one call of ``fn`` in seconds. Each of ``repeats`` samples times a
    loop of ``number`` calls, sized so that all samples together last about ``min_time``."""
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
    q1, _, q3 = statistics.quantiles(samples, n=4) if len(samples) > 1 else samples * 3
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "q1": q1,
        "q3": q3,
        "repeats": repeats,
        "number": number,
        "samples": samples,
    }


def timing_budget(quick):
    return {"min_time": 0.05, "repeats": 5} if quick else {"min_time": 0.3, "repeats": 7}


# ---------------------------------------------------------------------------------------------
# Memory


def _status_kib(key):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_hwm():
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS; Linux >= 4.0."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class _Malloc:
    """glibc's malloc tunables, through ctypes (None elsewhere).

    glibc raises its mmap threshold after a large buffer is freed (up to 32 MiB), after which
    buffers of that size come from the heap and stay resident when freed; a later call then
    reuses those pages and its peak RSS does not show them. During a memory measurement the
    threshold is held at 128 KiB, so every large buffer is a fresh mapping returned to the OS
    when freed; for timing it is set to 32 MiB, the state the dynamic rule settles in.
    """

    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3

    def __init__(self):
        self.lib = None
        try:
            import ctypes

            lib = ctypes.CDLL("libc.so.6")
            lib.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
            lib.malloc_trim.argtypes = [ctypes.c_size_t]
            self.lib = lib
        except (OSError, AttributeError):
            pass

    def measuring(self):
        if self.lib:
            self.lib.mallopt(self.M_MMAP_THRESHOLD, 128 * 1024)
            self.lib.mallopt(self.M_TRIM_THRESHOLD, 128 * 1024)
            self.lib.malloc_trim(0)
        return self.lib is not None

    def timing(self):
        if self.lib:
            self.lib.mallopt(self.M_MMAP_THRESHOLD, 32 << 20)
            self.lib.mallopt(self.M_TRIM_THRESHOLD, 64 << 20)


MALLOC = _Malloc()


def peak_rss_delta(fn, before=None):
    """Peak resident memory of one call of ``fn`` above the resident memory just before it, in
    bytes, and the method used. ``fn`` should have run once already (at the same size) under
    MALLOC.measuring(). On Linux the peak mark is reset first (/proc/self/clear_refs) and read
    back from VmHWM; elsewhere ru_maxrss is used, which only sees peaks above the process's
    earlier high-water mark (so small calls may read 0)."""
    gc.collect()
    if before is not None:
        before()
    if MALLOC.lib:
        MALLOC.lib.malloc_trim(0)
    if _status_kib("VmRSS") is not None and _reset_hwm():
        base = _status_kib("VmRSS")
        out = fn()
        peak = _status_kib("VmHWM")
        del out
        return max(0, peak - base) * 1024, "rss-hwm"
    import resource

    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss is bytes on macOS, KiB on Linux
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = fn()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    del out
    return max(0, peak - base) * scale, "ru_maxrss"


def traced_peak(fn):
    """Peak of the allocations tracemalloc sees during one call of ``fn`` (Python objects and
    numpy's data buffers; not memory that C++ libraries allocate themselves), in bytes."""
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        out = fn()
        peak = tracemalloc.get_traced_memory()[1]
        del out
    finally:
        tracemalloc.stop()
    return max(0, peak - base)


# ---------------------------------------------------------------------------------------------
# Machine and versions


def machine_info():
    info = {
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "cpus": os.cpu_count(),
        "cpu": platform.processor() or platform.machine(),
    }
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
        fields = {}
        for line in text.split("\n\n")[0].splitlines():
            if ":" in line:
                k, v = line.split(":", 1)
                fields[k.strip()] = v.strip()
        flags = set(fields.get("flags", "").split())
        info["cpu"] = fields.get("model name", info["cpu"])
        info["cpu_family_model"] = f"{fields.get('cpu family', '?')}/{fields.get('model', '?')}"
        info["isa"] = [f for f in ("sse2", "avx", "avx2", "fma", "avx512f") if f in flags]
    except OSError:
        pass
    if hasattr(os, "getloadavg"):
        info["load_average"] = [round(v, 2) for v in os.getloadavg()]
    return info


def busy_cpus(interval=0.3):
    """CPUs kept busy by other processes right now (from /proc/stat over ``interval`` seconds),
    or None where /proc/stat does not exist. The load average would count our own last run."""

    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        idle = v[3] + (v[4] if len(v) > 4 else 0)
        return sum(v[:8]), idle

    try:
        t0, i0 = sample()
        time.sleep(interval)
        t1, i1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    total = max(t1 - t0, 1)
    return round((1 - (i1 - i0) / total) * (os.cpu_count() or 1), 2)


def describe_machine(info):
    isa = info.get("isa")
    isa_s = "+".join(s.upper() for s in isa if s != "sse2") if isa else "?"
    if isa and "avx512f" not in isa:
        isa_s += ", no AVX-512"
    fm = f" (family/model {info['cpu_family_model']})" if "cpu_family_model" in info else ""
    return f"{info.get('cpu')}{fm}, {info.get('cpus')} CPUs, {isa_s}, Python {info.get('python')}"


def lib_version(lib):
    from importlib import metadata

    mod = MODULE[lib]
    try:
        v = metadata.version(mod)
    except metadata.PackageNotFoundError:
        v = getattr(__import__(mod), "__version__", "?")
    if mod == "tapegrad":
        import tapegrad

        v += f" (SIMD {tapegrad.get_simd_path()}, {threads(tapegrad.get_num_threads())})"
    elif mod == "torch":
        import torch

        v += f" ({threads(torch.get_num_threads())})"
    return v


def threads(n):
    return f"{n} thread" + ("" if n == 1 else "s")


def set_threads(n):
    """Limit every library's kernel threads to ``n`` in the workers started after this call."""
    n = str(int(n))
    os.environ["TAPEGRAD_BENCH_THREADS"] = n  # tapegrad and torch: set_num_threads in impl.py
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[k] = n
    if n == "1":  # XLA's CPU client: one thread for Eigen and for its intra-op pool
        flags = os.environ.get("XLA_FLAGS", "")
        os.environ["XLA_FLAGS"] = (
            flags + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        ).strip()


# ---------------------------------------------------------------------------------------------
# Running workers


def _package_parent():
    # .../<root>/tapegrad/_bench/harness.py -> <root>, so that a worker imports this same tapegrad
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def worker_env():
    env = dict(os.environ)
    root = _package_parent()
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("JAX_PLATFORMS", "cpu")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def run_job(suite, libs, cases, quick, on_result, timeout=900):
    """Run ``libs`` (labels of one module) on ``cases`` in one fresh worker process. Calls
    ``on_result(lib, case, result)`` as each case finishes; returns (info per lib, error or None)."""
    cmd = [
        sys.executable,
        "-m",
        "tapegrad._bench.worker",
        "--suite",
        suite,
        "--libs",
        ",".join(libs),
        "--cases",
        json.dumps(cases),
    ]
    if quick:
        cmd.append("--quick")
    infos, error = {}, None
    with (
        tempfile.TemporaryFile(mode="w+") as errf,
        subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=errf, text=True, env=worker_env()
        ) as p,
    ):
        timer = threading.Timer(timeout, p.kill)  # a hung worker must not hang the whole run
        timer.start()
        try:
            for line in p.stdout:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                msg = json.loads(line)
                if "info" in msg:
                    infos[msg["lib"]] = msg["info"]
                else:
                    on_result(msg["lib"], msg["case"], msg["result"])
            rc = p.wait()
        finally:
            timer.cancel()
        errf.seek(0)
        err = errf.read()
    if rc != 0:
        lines = [ln for ln in err.strip().splitlines() if ln.strip()]
        error = lines[-1] if lines else f"exit code {rc}"
        if rc < 0:
            error += f" (killed by signal {-rc}; time limit {timeout} s)"
    return infos, error


class Progress:
    """tqdm when it is installed, otherwise one plain status line on stderr."""

    def __init__(self, total, desc):
        self.total, self.done, self.desc = total, 0, desc
        try:
            from tqdm import tqdm

            self.bar = tqdm(
                total=total,
                desc=desc,
                unit="case",
                file=sys.stderr,
                leave=False,
                dynamic_ncols=True,
            )
        except ImportError:
            self.bar = None
        self.tty = sys.stderr.isatty()

    def status(self, text):
        if self.bar is not None:
            self.bar.set_postfix_str(text, refresh=True)
        elif self.tty:
            sys.stderr.write(f"\r{self.desc}: {self.done}/{self.total} {text[:60]:60s}")
            sys.stderr.flush()
        else:
            sys.stderr.write(f"{self.desc}: {self.done}/{self.total} {text}\n")

    def step(self, n=1):
        self.done += n
        if self.bar is not None:
            self.bar.update(n)

    def close(self):
        if self.bar is not None:
            self.bar.close()
        elif self.tty:
            sys.stderr.write("\r" + " " * 80 + "\r")
            sys.stderr.flush()


def jobs_for(suite, libs, share_module=False):
    """Processes to start: a list of (libraries sharing the process, case names). By default one
    process per library (the growth suite: per library and case; suites with
    ``fresh_memory_cases``: each memory case in its own process); ``share_module`` puts the
    labels of one module (jax eager and jit) into one process."""
    jobs = []
    for lib in libs:
        names = [c.name for c in suite.cases if suite.applies(lib, c)]
        if not names:
            continue
        if share_module and jobs and MODULE[jobs[-1][0][0]] == MODULE[lib]:
            prev_libs, prev_names = jobs[-1]
            jobs[-1] = ([*prev_libs, lib], prev_names + [n for n in names if n not in prev_names])
        elif suite.fresh_per_case and not share_module:
            jobs.extend(([lib], [n]) for n in names)
        elif suite.fresh_memory_cases and not share_module:
            memory = {c.name for c in suite.cases if c.memory}
            rest = [n for n in names if n not in memory]
            if rest:
                jobs.append(([lib], rest))
            jobs.extend(([lib], [n]) for n in names if n in memory)
        else:
            jobs.append(([lib], names))
    return jobs


def run_suite(suite, libs, quick, progress=True, jobs=None):
    """Run every job of ``suite``; returns {"results": {lib: {case: result}}, "errors", "info"}."""
    jobs = jobs_for(suite, libs) if jobs is None else jobs
    by_name = {c.name: c for c in suite.cases}
    total = sum(suite.applies(lib, by_name[n]) for ls, ns in jobs for lib in ls for n in ns)
    bar = Progress(total, suite.name) if progress else None
    results = {lib: {} for lib in libs}
    errors, infos = {}, {}
    for job_libs, names in jobs:
        if bar:
            bar.status(" + ".join(job_libs) + (f" {names[0]}" if len(names) == 1 else ""))

        def on_result(lib, case, result, bar=bar):
            results[lib][case] = result
            if bar:
                bar.step()

        info, err = run_job(suite.name, job_libs, names, quick, on_result)
        infos.update(info)
        if err:
            for lib in job_libs:
                errors.setdefault(lib, err)
                missing = [
                    n for n in names if n not in results[lib] and suite.applies(lib, by_name[n])
                ]
                if bar:
                    bar.step(len(missing))
    if bar:
        bar.close()
    return {"results": results, "errors": errors, "versions": infos}


# ---------------------------------------------------------------------------------------------
# Formatting


def fmt_time(s):
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.3g} us"
    if s < 1:
        return f"{s * 1e3:.3g} ms"
    return f"{s:.3g} s"


def fmt_ratio(r):
    if r >= 100:
        return f"{r:.0f}x"
    return f"{r:.2g}x" if r >= 0.1 else f"{r:.1g}x"


def fmt_bytes(b):
    if b is None:
        return "-"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if b >= scale:
            return f"{b / scale:.3g} {unit}"
    return f"{b:.0f} B"


def spread(r):
    """Half the interquartile range of the samples, relative to the median, in percent (robust to
    one sample hit by another process; min and max are in the JSON)."""
    if not r.get("median"):
        return 0.0
    lo, hi = r.get("q1", r["min"]), r.get("q3", r["max"])
    return 50.0 * (hi - lo) / r["median"]


def render(rows, markdown=False):
    if markdown:
        out = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
        out += ["| " + " | ".join(r) + " |" for r in rows[1:]]
        return "\n".join(out)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(rows[0], widths)).rstrip()]
    lines.append("-" * len(lines[0]))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows[1:]]
    return "\n".join(lines)


def time_table(suite, libs, run, markdown=False, ref="tapegrad", show_spread=True):
    """One row per case: each library's median time, its spread and its ratio to tapegrad's."""
    results, errors = run["results"], run["errors"]
    rows = [["case"] + libs]
    for case in suite.cases:
        base = results.get(ref, {}).get(case.name, {}).get("median")
        row = [case.name]
        for lib in libs:
            r = results.get(lib, {}).get(case.name)
            if not suite.applies(lib, case):
                row.append("")
            elif not r or r.get("median") is None:
                row.append("error" if lib in errors or "error" in (r or {}) else "n/a")
            else:
                cell = fmt_time(r["median"])
                if show_spread:
                    cell += f" ±{spread(r):.0f}%"
                if lib != ref and base:
                    cell += f" ({fmt_ratio(r['median'] / base)})"
                row.append(cell)
        rows.append(row)
    return render(rows, markdown)
