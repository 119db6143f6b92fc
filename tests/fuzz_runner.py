"""Runs fuzz cases in forked children, so that a crash is a failing case and not a dead runner.

A case is a few lines of Python source (see fuzz_cases.Case): `code` makes the tapegrad result
`out`, `ref` (optional) the numpy result `ref` from the same inputs. The runner forks a child
after tapegrad is imported, the child runs a batch of cases and writes one line per case to a
pipe; the parent reads them with a per-case timeout. A child that dies (a signal, an ASan or
UBSan report, an unexpected exit) or stops answering is a crash or a hang of the case after the
last one it reported. That case is then re-run alone in a fresh child: if it crashes alone it is
the culprit; if not, the cases of the batch before it are re-run one per child, and when none of
them crashes alone the whole sequence is reported as the reproducer. The remaining cases of the
batch continue in a new child.

Outcome of a case: "ok", or a failure kind:
  crash     the child died (signal or a sanitizer exit)
  hang      no answer within the time limit
  error     an exception other than the clear ones (see ALLOWED), or a clear one whose message
            is pybind11's internals ("Unable to cast", "incompatible function arguments")
  wrong     tapegrad's value differs from numpy's on a case numpy accepts
  accepted  numpy rejects the input with an exception and tapegrad silently returns a value
            (checked only for cases marked strict: conversions, indices, in-place dtypes)
"""

from __future__ import annotations

import json
import math
import os
import resource
import select
import signal
import sys
import tempfile
import time
import traceback
import warnings

import numpy as np

PRELUDE = "import numpy as np, tapegrad as tg, math, pickle, copy, os; nan, inf = float('nan'), float('inf')"

ALLOWED = (
    ValueError,
    TypeError,
    IndexError,
    OverflowError,
    MemoryError,
    ZeroDivisionError,
    NotImplementedError,
    RuntimeError,
)
BAD_MESSAGES = (
    "Unable to cast",
    "PYBIND11_DETAILED_ERROR_MESSAGES",
    "incompatible function arguments",
    "incompatible constructor arguments",
)

SANITIZED = bool(os.environ.get("TAPEGRAD_FUZZ_SANITIZED")) or "libasan" in os.environ.get(
    "LD_PRELOAD", ""
)
CASE_TIMEOUT = float(os.environ.get("TAPEGRAD_FUZZ_TIMEOUT", "60" if SANITIZED else "20"))
# Address space a child may add to what it inherits (a huge allocation is a MemoryError then, not
# a machine out of memory). Not under ASan, which reserves terabytes of shadow memory; there
# ASAN_OPTIONS=max_allocation_size_mb does the same (see .ci/sanitize).
CHILD_EXTRA_AS = int(os.environ.get("TAPEGRAD_FUZZ_MEM_MB", "2048")) << 20


def reproducer(case_or_cases) -> str:
    """The case(s) as one `python -c` line."""
    cases = case_or_cases if isinstance(case_or_cases, list | tuple) else [case_or_cases]
    body = "; ".join(c.code for c in cases)
    return f'python -c "{PRELUDE}; {body}"'


# ---- the child side ---------------------------------------------------------------------------


def _namespace():
    import copy
    import pickle

    import tapegrad as tg
    from fuzz_cases import R

    return {
        "np": np,
        "tg": tg,
        "math": math,
        "pickle": pickle,
        "copy": copy,
        "os": os,
        "nan": math.nan,
        "inf": math.inf,
        "R": R,
    }


def _leaves(x, depth=0):
    """Flattens tuples/lists/dicts of results (NamedTuples too) into a list."""
    if depth > 6:
        return [x]
    if isinstance(x, dict):
        out = []
        for k in sorted(x, key=repr):
            out += _leaves(x[k], depth + 1)
        return out
    if isinstance(x, list | tuple):
        out = []
        for v in x:
            out += _leaves(v, depth + 1)
        return out
    return [x]


def _as_array(x):
    import tapegrad as tg

    if isinstance(x, tg.Tensor):
        # Reads every element (a tensor with a bad storage shows here), and the repr path too.
        if x.size * max(x.itemsize, 1) > (64 << 20):
            return ("big", tuple(x.shape), str(x.dtype))
        a = np.array(x.numpy(), copy=True)
        if a.shape != tuple(x.shape):
            raise AssertionError(
                f"numpy() gave shape {a.shape} for a tensor of shape {tuple(x.shape)}"
            )
        if x.size <= 64:
            repr(x)
            str(x)
        return a
    if isinstance(x, np.ndarray | np.generic | bool | int | float):
        return np.asarray(x)
    return x


def _tol(dt):
    if dt == np.float16:
        return 4e-3
    if dt == np.float32:
        return 1e-4
    return 1e-8


def _compare(out, ref, rtol_scale=1.0):
    """None when `out` (tapegrad) equals `ref` (numpy), else a description of the difference."""
    lo, lr = _leaves(out), _leaves(ref)
    if len(lo) != len(lr):
        return f"{len(lo)} results, numpy gives {len(lr)}"
    for k, (o, r) in enumerate(zip(lo, lr)):
        o = _as_array(o)
        if isinstance(o, tuple) and o and o[0] == "big":
            if tuple(np.shape(r)) != o[1]:
                return f"result {k}: shape {o[1]}, numpy {np.shape(r)}"
            continue
        if not isinstance(r, np.ndarray | np.generic | bool | int | float):
            if o != r and not (
                isinstance(r, float) and isinstance(o, float) and math.isnan(r) and math.isnan(o)
            ):
                return f"result {k}: {o!r}, numpy {r!r}"
            continue
        r = np.asarray(r)
        o = np.asarray(o)
        if o.shape != r.shape:
            return f"result {k}: shape {o.shape}, numpy {r.shape}"
        if o.size == 0:
            continue
        if o.dtype.kind in "iub" and r.dtype.kind in "iub":
            if not np.array_equal(o.astype(object), r.astype(object)):
                bad = np.argwhere(o.astype(object) != r.astype(object))[0]
                return f"result {k}: {o[tuple(bad)]!r} at {tuple(bad)}, numpy {r[tuple(bad)]!r}"
            continue
        if o.dtype.kind == "c" or r.dtype.kind == "c":
            # complex: the same dtype as numpy's, then the real and the imaginary parts as floats
            if o.dtype != r.dtype:
                return f"result {k}: dtype {o.dtype}, numpy {r.dtype}"
            bad = _compare([o.real, o.imag], [r.real, r.imag], rtol_scale)
            if bad is not None:
                return f"result {k} (complex parts): {bad}"
            continue
        if o.dtype.kind not in "iubf" or r.dtype.kind not in "iubf":
            return f"result {k}: dtype {o.dtype}, numpy {r.dtype}"
        precision = [d for d in (o.dtype, r.dtype) if d.kind == "f"]
        rtol = max(_tol(d) for d in precision) if precision else 0.0
        rtol *= rtol_scale
        of, rf = o.astype(np.float64), r.astype(np.float64)
        with np.errstate(all="ignore"):
            same = (
                (of == rf)
                | (np.isnan(of) & np.isnan(rf))
                | (np.abs(of - rf) <= rtol * (1 + np.abs(rf)))
            )
        if not same.all():
            bad = tuple(np.argwhere(~same)[0])
            return (
                f"result {k}: {o[bad]!r} at {bad}, numpy {r[bad]!r} ({o.dtype} vs numpy {r.dtype})"
            )
    return None


def _exc_text(e):
    return f"{type(e).__name__}: {str(e)[:300]}"


def run_case(case, ns_base):
    """Runs one case in this process: (kind, detail)."""
    ns = dict(ns_base)
    try:
        exec(compile(case.code, "<fuzz case>", "exec"), ns)  # noqa: S102  (the case is our generated source)
        out = ns.get("out")
        got = _leaves(out)
        arrays = [_as_array(x) for x in got]  # reads every result
    except ALLOWED as e:
        msg = str(e)
        if isinstance(e, RuntimeError) and type(e) is not RecursionError and not msg.strip():
            return "error", _exc_text(e) + " (RuntimeError without a message)"
        if any(b in msg for b in BAD_MESSAGES):
            return "error", _exc_text(e)
        return "ok", _exc_text(e)
    except AssertionError as e:
        return "wrong", str(e)[:400]
    except (AttributeError, KeyError) as e:
        # The case's own Python (a user function calling .sum() on a tuple it was given) is not
        # tapegrad's doing; an AttributeError about a tapegrad object is.
        if str(e).startswith(("'Tensor'", "'Parameter'", "'JitFunction'", "'tapegrad")):
            return "error", _exc_text(e)
        return "ok", _exc_text(e)
    except BaseException as e:
        tb = traceback.format_exception(e)
        return "error", _exc_text(e) + " | " + tb[-2].strip().replace("\n", " ")[:200] if len(
            tb
        ) > 1 else _exc_text(e)
    del arrays
    if case.check:  # a property of `out` checked in tapegrad terms (e.g. dtype kept)
        try:
            ok = eval(compile(case.check, "<fuzz check>", "eval"), ns)  # noqa: S307  (our generated source)
        except BaseException as e:
            return "wrong", f"check {case.check!r} raised {_exc_text(e)}"
        if not ok:
            return "wrong", f"check failed: {case.check}"
    if case.ref is None:
        return "ok", ""
    rns = dict(ns_base)
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile(case.ref, "<fuzz ref>", "exec"), rns)  # noqa: S102  (our generated source)
        ref = rns["ref"]
    except BaseException as e:
        if case.strict:
            return "accepted", f"numpy raises {_exc_text(e)}; tapegrad returned {_short(out)}"
        return "ok", ""
    try:
        diff = _compare(out, ref, case.rtol)
    except BaseException as e:
        return "error", "comparing: " + _exc_text(e)
    if diff:
        return "wrong", diff
    return "ok", ""


def _short(x):
    try:
        return repr(x)[:120]
    except BaseException as e:
        return f"<repr raised {type(e).__name__}>"


def _child(cases, wfd):
    """The forked child: runs the cases and reports each as one line."""
    try:
        import faulthandler

        faulthandler.disable()  # pytest's: it would print the whole runner's stack for each crash
        if not SANITIZED:
            vm = _vm_size()
            if vm:
                lim = vm + CHILD_EXTRA_AS
                resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
        warnings.simplefilter("ignore")
        np.seterr(all="ignore")
        sys.stdout.flush()
        ns = _namespace()
        for i, case in enumerate(cases):
            kind, detail = run_case(case, ns)
            os.write(wfd, (json.dumps([i, kind, detail]) + "\n").encode())
        os.write(wfd, b'["end"]\n')
    except BaseException:
        traceback.print_exc()
        os._exit(3)
    os._exit(0)


def _vm_size():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * resource.getpagesize()
    except OSError:
        return 0


# ---- the parent side ----------------------------------------------------------------------------


class _Child:
    def __init__(self, cases, offset):
        self.cases, self.offset = cases, offset
        r, w = os.pipe()
        # The child's stderr (a sanitizer report, a C++ terminate message) goes to a file that the
        # parent reads when the child dies, to name the report in the failure.
        self.err = tempfile.TemporaryFile()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            os.dup2(self.err.fileno(), 2)
            _child(cases, w)
        os.close(w)
        self.pid, self.fd = pid, r
        self.buf = b""
        self.done = 0  # cases reported
        self.results = []  # (index in batch, kind, detail)
        self.ended = False
        self.last = time.monotonic()

    def feed(self):
        data = os.read(self.fd, 1 << 16)
        if not data:
            return False
        self.last = time.monotonic()
        self.buf += data
        *lines, self.buf = self.buf.split(b"\n")
        for line in lines:
            msg = json.loads(line)
            if msg == ["end"]:
                self.ended = True
            else:
                self.results.append(tuple(msg))
                self.done = msg[0] + 1
        return True

    def kill(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def reap(self):
        os.close(self.fd)
        _, status = os.waitpid(self.pid, 0)
        return status

    def stderr_summary(self):
        """The telling lines of what the child wrote to stderr (sanitizer reports first)."""
        self.err.seek(0, 2)
        size = self.err.tell()
        self.err.seek(max(0, size - (1 << 16)))
        text = self.err.read().decode(errors="replace")
        self.err.close()
        keys = [
            ln.strip()
            for ln in text.splitlines()
            if "runtime error:" in ln
            or "ERROR: AddressSanitizer" in ln
            or "what():" in ln
            or ln.startswith("SUMMARY:")
        ]
        return " | ".join(dict.fromkeys(keys))[:400]


def _status_text(status):
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = str(sig)
        return f"killed by {name}"
    code = os.WEXITSTATUS(status)
    extra = {86: " (AddressSanitizer report)", 87: " (UndefinedBehaviorSanitizer report)"}.get(
        code, ""
    )
    return f"exit status {code}{extra}"


def _warm_up():
    """Imports and first-use costs paid once here, so that every forked child starts warm."""
    ns = _namespace()
    tg = ns["tg"]
    x = tg.ones((3, 3))
    (x @ x + 1).sum().numpy()
    tg.grad(lambda v: (v * v).sum())(x)
    repr(x)


class Runner:
    """Runs batches in up to `jobs` children at once; `results` collects (case, kind, detail)."""

    def __init__(self, jobs=1):
        _warm_up()
        self.jobs = max(1, jobs)
        self.active = []
        self.results = []  # failures only: (case, kind, detail)
        self.ncases = 0
        self.counts = {}

    def submit(self, cases):
        self.ncases += len(cases)
        while len(self.active) >= self.jobs:
            self._poll()
        self.active.append(_Child(list(cases), 0))

    def finish(self):
        while self.active:
            self._poll()
        return self.results

    def run(self, cases):
        """Runs a batch to completion here (no other child running): list of (case, kind, detail)."""
        start = len(self.results)
        self.submit(cases)
        self.finish()
        return self.results[start:]

    def _poll(self):
        fds = [c.fd for c in self.active]
        ready, _, _ = select.select(fds, [], [], 1.0)
        now = time.monotonic()
        for c in list(self.active):
            alive = True
            if c.fd in ready:
                alive = c.feed()
            elif now - c.last > CASE_TIMEOUT:
                c.kill()
                self._close(c, hung=True)
                continue
            if not alive:
                self._close(c, hung=False)

    def _close(self, c, hung):
        self.active.remove(c)
        status = c.reap()
        for i, kind, detail in c.results:
            self._add(c.cases[i], kind, detail)
        err = c.stderr_summary()
        if c.ended and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
            return
        # The child died or hung at case `c.done`.
        bad = c.done
        if bad >= len(c.cases):  # died after its last case (at exit)
            self._add(c.cases[-1], "crash", f"after the batch: {_status_text(status)}")
            return
        kind = "hang" if hung else "crash"
        detail = f"no answer in {CASE_TIMEOUT:g} s" if hung else _status_text(status)
        if err:
            detail += ": " + err
        self._isolate(c.cases[:bad], c.cases[bad], kind, detail)
        rest = c.cases[bad + 1 :]
        if rest:
            self.active.append(_Child(rest, 0))

    def _alone(self, case):
        """Runs one case in its own child: (kind, detail)."""
        c = _Child([case], 0)
        hung = False
        while True:
            ready, _, _ = select.select([c.fd], [], [], 1.0)
            if ready:
                if not c.feed():
                    break
            elif time.monotonic() - c.last > CASE_TIMEOUT:
                c.kill()
                hung = True
                break
        status = c.reap()
        err = c.stderr_summary()
        if c.results:
            _, kind, detail = c.results[0]
            if c.ended and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
                return kind, detail
        if hung:
            return "hang", f"no answer in {CASE_TIMEOUT:g} s"
        return "crash", _status_text(status) + (": " + err if err else "")

    def _isolate(self, before, case, kind, detail):
        k, d = self._alone(case)
        if k in ("crash", "hang"):
            self._add(case, k, d)
            return
        for prev in reversed(before):  # did an earlier case leave something broken?
            k2, d2 = self._alone(prev)
            if k2 in ("crash", "hang"):
                self._add(prev, k2, d2 + " (found by re-running its batch one case per child)")
                return
        seq = before + [case]
        self._add(Sequence(seq), kind, detail + " (only after the cases before it in one process)")

    def _add(self, case, kind, detail):
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if kind != "ok" and len(self.results) < 100000:
            self.results.append((case, kind, detail))


class Sequence:
    """Several cases that crash only together (reported as one reproducer)."""

    def __init__(self, cases):
        self.cases = cases
        self.code = "; ".join(c.code for c in cases)
        self.target = cases[-1].target
        self.ref = None


def _limit_memory():
    lim = (4 << 30) + CHILD_EXTRA_AS
    resource.setrlimit(resource.RLIMIT_AS, (lim, lim))


def spawn_run(cases):
    """Runs cases in a fresh interpreter (for calls that a forked child cannot make safely, such as
    resizing the thread pool whose threads a fork does not copy): list of (case, kind, detail)."""
    import pickle
    import subprocess

    out = []
    for case in cases:
        here = os.path.dirname(os.path.abspath(__file__))
        prog = (
            "import pickle, sys, json\n"
            f"sys.path.insert(0, {here!r})\n"
            "import fuzz_runner\n"
            "case = pickle.loads(sys.stdin.buffer.read())\n"
            "k, d = fuzz_runner.run_case(case, fuzz_runner._namespace())\n"
            "print('@@' + json.dumps([k, d]))\n"
        )
        try:
            p = subprocess.run(
                [sys.executable, "-c", prog],
                input=pickle.dumps(case),
                capture_output=True,
                timeout=CASE_TIMEOUT + 30,
                preexec_fn=None if SANITIZED else _limit_memory,
            )
        except subprocess.TimeoutExpired:
            out.append((case, "hang", f"no answer in {CASE_TIMEOUT + 30:g} s"))
            continue
        line = [ln for ln in p.stdout.decode(errors="replace").splitlines() if ln.startswith("@@")]
        if p.returncode != 0 or not line:
            st = (
                f"killed by {signal.Signals(-p.returncode).name}"
                if p.returncode < 0
                else f"exit status {p.returncode}"
            )
            err = p.stderr.decode(errors="replace")
            keys = [
                ln.strip()
                for ln in err.splitlines()
                if "runtime error:" in ln
                or "ERROR: AddressSanitizer" in ln
                or "what():" in ln
                or ln.startswith("SUMMARY:")
            ]
            out.append(
                (case, "crash", st + ": " + (" | ".join(dict.fromkeys(keys)) or err[-300:])[:400])
            )
        else:
            k, d = json.loads(line[0][2:])
            out.append((case, k, d))
    return out
