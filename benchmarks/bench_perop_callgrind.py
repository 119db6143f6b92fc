"""The per-op path as instruction counts: the before/after measure of structural changes.

    python benchmarks/bench_perop_callgrind.py [CASE ...]      # runs each case under callgrind
    python benchmarks/bench_perop_callgrind.py --run CASE N    # one case N times (what callgrind runs)

Instruction counts do not depend on what else the machine runs (wall times on a shared machine
do), so two builds compare exactly: run this script from each checkout in turn (benchmarks/_path.py
picks the checkout's in-place build, else the installed tapegrad). Each case runs N times and 3N times
(the same imports and set-up); the difference divided by 2N is the count per call (start-up and first-call work cancel). One
kernel thread, OpenBLAS on one thread, a fixed hash seed.

Cases: tg.add, the `*` operator, tg.tanh, tg.sum on 16 float32 elements; a 16x16 @ 16 matmul;
tg.grad and tg.jit(tg.grad) of sum(tanh(x * y + 1) ** 2) on 16 elements; tg.add, tg.exp and tg.sum
on 10^6 float32 elements; the replay of tg.jit(tg.grad) of sum(sin(x) * x) on 10^6 float32
elements (jit_sin_1e6).
"""

import os
import re
import subprocess
import sys

CASES = {  # name: the statement timed
    "add": "tg.add(x, y)",
    "mul_op": "x * y",
    "tanh": "tg.tanh(x)",
    "sum": "tg.sum(x)",
    "matmul": "w @ x",
    "grad": "g(x)",
    "jit": "jf(x)",
    "add_1e6": "tg.add(big_x, big_y)",
    "exp_1e6": "tg.exp(big_x)",
    "sum_1e6": "tg.sum(big_x)",
    "jit_sin_1e6": "jsin(big_x)",
}
N = {
    "add_1e6": 20,
    "exp_1e6": 20,
    "sum_1e6": 20,
    "jit_sin_1e6": 10,
    "grad": 200,
    "jit": 200,
    "matmul": 500,
}


def run(case, n):
    import _path  # noqa: F401  (finds tapegrad in ../python when it is built there)
    import numpy as np

    import tapegrad as tg

    tg.set_num_threads(1)
    x = tg.tensor(np.linspace(-1, 1, 16).astype(np.float32))
    y = tg.tensor(np.linspace(0.5, 2, 16).astype(np.float32))
    w = tg.tensor(np.ones((16, 16), np.float32))
    big_x = tg.tensor(np.random.default_rng(0).random(10**6).astype(np.float32))
    big_y = tg.tensor(np.random.default_rng(1).random(10**6).astype(np.float32))

    def f(t):
        return tg.sum(tg.tanh(t * y + 1.0) ** 2)

    g = tg.grad(f)
    jf = tg.jit(tg.grad(f))
    jf(x)
    jsin = tg.jit(tg.grad(lambda t: (tg.sin(t) * t).sum()))  # the fused replay (issue 14)
    jsin(big_x)
    jsin(big_x)
    scope = {
        "tg": tg,
        "x": x,
        "y": y,
        "w": w,
        "g": g,
        "jf": jf,
        "big_x": big_x,
        "big_y": big_y,
        "jsin": jsin,
    }
    code = compile(CASES[case], case, "eval")
    for _ in range(n):
        eval(code, scope)  # noqa: S307  (a fixed statement of this file)


def callgrind_count(script, *args):
    """Instructions callgrind counts for `python script --run *args` (one thread, fixed hash seed);
    the other callgrind harnesses of this folder use it too."""
    env = dict(os.environ, PYTHONHASHSEED="0", OPENBLAS_NUM_THREADS="1")
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable]
    out = subprocess.run(
        [*cmd, os.path.abspath(script), "--run", *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        cwd=os.path.dirname(os.path.abspath(script)),
    )
    m = re.search(r"Collected : (\d+)", out.stderr)
    if not m:
        sys.exit(f"callgrind gave no count for {args}:\n{out.stderr[-2000:]}")
    return int(m.group(1))


def per_call(script, case, n):
    """Instructions of one call of `case` of the harness `script`: (count(3n) - count(n)) / 2n.
    Two counts that both ran the case, not n against 0: a run of 0 calls skips the first call's
    one-time work (lazy imports, caches, allocator growth), which put a few thousand instructions
    of noise into `grad` and `jit` between builds. The other callgrind harnesses use it too."""
    return (callgrind_count(script, case, 3 * n) - callgrind_count(script, case, n)) / (2 * n)


def run_or_cases(argv, run, cases):
    """The harnesses' command line: `--run CASE N` runs one case (what callgrind measures) and
    gives []; otherwise the cases asked for (all when none)."""
    if argv[:1] == ["--run"]:
        run(argv[1], int(argv[2]))
        return []
    return argv or list(cases)


def main(argv):
    cases = run_or_cases(argv, run, CASES)
    if cases:
        print("case        instructions per call")
    for case in cases:
        print(f"{case:<11} {per_call(__file__, case, N.get(case, 2000)):>12,.0f}")


if __name__ == "__main__":
    main(sys.argv[1:])
