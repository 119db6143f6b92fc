"""Eager dense Jacobians and Hessians as instruction counts (before/after comparisons of two
builds on a shared machine, where wall times mean little).

    python benchmarks/bench_jacobian_callgrind.py [CASE ...]      # each case under callgrind
    python benchmarks/bench_jacobian_callgrind.py --run CASE N    # one case N times (what it runs)

Cases (the functions of the jacobian bench suite, float32): jacrev and jacfwd of sin(x) * x at
n = 4, 30, 64, 100, 128, 300 and 1000 (jacrev4 ... jacfwd1000) and the Hessian of the Rosenbrock function at
n = 100 (hess100). Each case runs N and 3N calls after a first one; the difference divided by 2N
is the count of one call. One kernel thread, OpenBLAS on one thread, a
fixed hash seed. Run it from each checkout in turn (benchmarks/_path.py picks the checkout's
in-place build).
"""

import sys

from bench_perop_callgrind import per_call, run_or_cases

CASES = {
    **{f"jacrev{n}": ("jacrev", n) for n in (4, 30, 64, 100, 128, 300, 1000)},
    **{f"jacfwd{n}": ("jacfwd", n) for n in (4, 30, 64, 100, 128, 300, 1000)},
    "hess100": ("hessian", 100),
}
N = {
    "jacrev4": 500,
    "jacfwd4": 500,
    "jacrev30": 500,
    "jacfwd30": 500,
    "jacrev64": 200,
    "jacfwd64": 200,
    "hess100": 100,
}


def run(case, n):
    import _path  # noqa: F401  (finds tapegrad in ../python when it is built there)
    import numpy as np

    import tapegrad as tg

    tg.set_num_threads(1)
    kind, size = CASES[case]
    x = tg.tensor(np.random.default_rng(0).random(size).astype(np.float32))
    if kind == "hessian":
        f = tg.hessian(lambda x: (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum())
    else:
        f = getattr(tg, kind)(lambda x: tg.sin(x) * x)
    f(x)
    for _ in range(n):
        f(x)


def main(argv):
    cases = run_or_cases(argv, run, CASES)
    if cases:
        print("case        instructions per call")
    for case in cases:
        print(f"{case:<11} {per_call(__file__, case, N.get(case, 20)):>14,.0f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
