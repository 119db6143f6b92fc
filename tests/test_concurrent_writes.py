"""In-place writes from one thread never tear the reads of ops in another (Note [Concurrent writes]).

Each case runs in a subprocess so that a crash or a deadlock is a failing test, not a dead runner.
"""

import json
import subprocess
import sys
import textwrap

BODY = textwrap.dedent("""
    import json, sys, threading
    import numpy as np
    import tapegrad as tg

    # 2**17 elements: above the size at which kernels run without the GIL.
    N = 1 << 17
    A, B = np.full(N, 0.5), np.full(N, 2.0)
    w = tg.tensor(A.copy())
    x = tg.tensor(np.linspace(-1.0, 1.0, N))
    f = lambda x: (tg.sin(w) * x * x).sum()          # reads w in one op: d/dx = 2 x sin(w)
    xn = x.numpy()
    good = [2 * xn * np.sin(A), 2 * xn * np.sin(B)]
    stop = threading.Event()
    out = {"gradients": 0, "mixed": 0, "sums": 0, "torn": 0}
    lock = threading.Lock()

    def writer():
        global w
        k = 0
        while not stop.is_set():
            if k % 3 == 0:
                w[:] = tg.tensor(B if k % 2 == 0 else A)
            elif k % 3 == 1:
                w[...] = float(B[0] if k % 2 == 0 else A[0])
            else:
                w *= 1.0                                   # an in-place operator writes too
            k += 1
        out["writes"] = k

    def reader(jit):
        g = tg.jit(tg.grad(f)) if jit else tg.grad(f)
        for _ in range(int(sys.argv[1])):
            r = g(x).numpy()
            s = float(tg.sum(w))                           # one op: N*0.5 or N*2.0
            with lock:
                out["gradients"] += 1
                out["mixed"] += 0 if any(np.allclose(r, ref, rtol=1e-6, atol=1e-9) for ref in good) else 1
                out["sums"] += 1
                out["torn"] += 0 if s in (N * 0.5, N * 2.0) else 1

    t = threading.Thread(target=writer)
    t.start()
    rs = [threading.Thread(target=reader, args=(j,)) for j in (False, True)]
    for r in rs: r.start()
    for r in rs: r.join()
    stop.set(); t.join()
    print("@@" + json.dumps(out))
""")


def test_inplace_writes_never_tear_reads_in_other_threads():
    p = subprocess.run(
        [sys.executable, "-c", BODY, "40"], capture_output=True, text=True, timeout=600
    )
    assert p.returncode == 0, p.stderr[-3000:]
    out = json.loads([ln for ln in p.stdout.splitlines() if ln.startswith("@@")][-1][2:])
    assert out["gradients"] == 80 and out["sums"] == 80 and out["writes"] > 0
    assert out["mixed"] == 0, out
    assert out["torn"] == 0, out
