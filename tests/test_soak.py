"""Soak tests (the slow suite: `pytest -m slow` or `TAPEGRAD_SLOW=1 pytest`; deselected otherwise).

- threads x gradients x jit x in-place writes: several threads take gradients (eager and jitted)
  of a function of a shared parameter while another thread overwrites that parameter in place
  with one of two values. No crash; every gradient is the gradient at the old value or at the new
  one (never a mix of both); a clear exception counts as a refusal, not a failure, and is reported.
- memory: 10**5 calls of each transform; resident memory (from /proc/self/statm) after a warm-up
  must stay within MEMORY_BOUND_MB.

Each soak runs in its own interpreter, so a crash fails the test instead of killing pytest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.slow

MEMORY_BOUND_MB = 20
HERE = os.path.dirname(os.path.abspath(__file__))


def _run(body, timeout):
    prog = f"import sys; sys.path.insert(0, {HERE!r})\n" + textwrap.dedent(body)
    p = subprocess.run(
        [sys.executable, "-c", prog], capture_output=True, text=True, timeout=timeout
    )
    if p.returncode != 0:
        how = f"signal {-p.returncode}" if p.returncode < 0 else f"exit status {p.returncode}"
        pytest.fail(f"soak process ended with {how}:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("@@")]
    assert lines, p.stdout[-2000:] + p.stderr[-2000:]
    return json.loads(lines[-1][2:])


THREADS_BODY = """
import json, threading
import numpy as np
import tapegrad as tg

# 2**17 elements: above the size at which kernels release the GIL, so a write and a gradient
# can really overlap (small tensors are written under the GIL, atomically for other threads).
N, READERS, ITERS = 1 << 17, 3, int(sys.argv[1]) if len(sys.argv) > 1 else 400
A, B = np.full(N, 0.5), np.full(N, 2.0)
w = tg.tensor(A.copy())
x = tg.tensor(np.linspace(-1.0, 1.0, N))
f = lambda x: (tg.sin(w) * x * x).sum()            # d/dx = 2 x sin(w)
h = lambda v: (v * v * x).sum()                      # d/dv = 2 v x (w itself as the argument)
xn = x.numpy()
good_x = [2 * xn * np.sin(A), 2 * xn * np.sin(B)]
good_w = [2 * A * xn, 2 * B * xn]
stop = threading.Event()
stats = {"gradients": 0, "mixed": 0, "refused": 0, "bad_errors": []}
lock = threading.Lock()

def writer():
    k = 0
    while not stop.is_set():
        w[:] = tg.tensor(B if k % 2 == 0 else A)
        k += 1

def reader(seed):
    gx, gj = tg.grad(f), tg.jit(tg.grad(f))
    gw = tg.grad(h)
    for i in range(ITERS):
        for fn, arg, good in ((gx, x, good_x), (gj, x, good_x), (gw, w, good_w)):
            try:
                g = fn(arg).numpy()
            except (ValueError, RuntimeError) as e:
                with lock:
                    stats["refused"] += 1
                    if not str(e):
                        stats["bad_errors"].append(repr(e))
                continue
            except BaseException as e:
                with lock:
                    stats["bad_errors"].append(repr(e)[:200])
                continue
            ok = any(np.allclose(g, ref, rtol=1e-6, atol=1e-9) for ref in good)
            with lock:
                stats["gradients"] += 1
                stats["mixed"] += 0 if ok else 1

t = threading.Thread(target=writer)
t.start()
rs = [threading.Thread(target=reader, args=(i,)) for i in range(READERS)]
for r in rs: r.start()
for r in rs: r.join()
stop.set(); t.join()
print("@@" + json.dumps(stats))
"""


def test_soak_threads_gradients_jit_inplace_writes():
    stats = _run(THREADS_BODY, timeout=900)
    print(f"\nthreads soak: {stats}")
    assert not stats["bad_errors"], stats["bad_errors"][:5]
    assert stats["gradients"] > 0
    assert stats["mixed"] == 0, (
        f"{stats['mixed']} of {stats['gradients']} gradients mixed the old and the new value of a parameter "
        "written in place by another thread"
    )


MEMORY_BODY = """
import json
import numpy as np
import tapegrad as tg

CALLS = 10**5
x = tg.tensor(np.linspace(-1.0, 1.0, 8))
m = tg.tensor(np.linspace(-1.0, 1.0, 12).reshape(4, 3))
f = lambda v: (tg.sin(v) * v).sum()
e = lambda v: tg.sin(v) * v
jf = tg.jit(f)
jg = tg.jit(tg.grad(f))
ck = lambda v: tg.checkpoint(f)(v)

def vjp_call():
    out, fn = tg.vjp(e, x)
    return fn(tg.ones_like(out))

cases = {
    "grad": lambda: tg.grad(f)(x),
    "value_and_grad": lambda: tg.value_and_grad(f)(x),
    "vjp": vjp_call,
    "jvp": lambda: tg.jvp(e, (x,), (x,)),
    "vmap": lambda: tg.vmap(f)(m),
    "jacrev": lambda: tg.jacrev(e)(x),
    "jacfwd": lambda: tg.jacfwd(e)(x),
    "hessian": lambda: tg.hessian(f)(x),
    "jit": lambda: jf(x),
    "jit(grad)": lambda: jg(x),
    "checkpoint": lambda: tg.grad(ck)(x),
}

def rss_mb():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

import os
calls = CALLS if len(sys.argv) < 2 else int(sys.argv[1])
growth = {}
for name, fn in cases.items():
    for _ in range(2000):
        fn()
    r0 = rss_mb()
    for _ in range(calls):
        fn()
    growth[name] = round(rss_mb() - r0, 2)
print("@@" + json.dumps(growth))
"""


def test_soak_memory_each_transform():
    growth = _run(MEMORY_BODY, timeout=1800)
    print(f"\nRSS growth over 10**5 calls, MB: {growth}")
    over = {k: v for k, v in growth.items() if v > MEMORY_BOUND_MB}
    assert not over, (
        f"resident memory grew by more than {MEMORY_BOUND_MB} MB over 10**5 calls: {over}"
    )
