"""Later calls of SparseJacobian / SparseHessian as instruction counts (before/after comparisons
of two builds on a shared machine, where wall times mean little).

    python benchmarks/bench_sparse_callgrind.py [CASE ...]        # each case under callgrind
    python benchmarks/bench_sparse_callgrind.py --run CASE N      # one case N times (what it runs)

Cases (the functions of the sparse bench suite, tapegrad/_bench/sparse.py, float64): tri1e4,
tri1e5, lap300 (the 5-point Laplacian on 300 x 300), arrow1e4 (the arrow Hessian). Each case runs
N and 3N later calls (each after the same set-up: detection, coloring, the first call); the
difference divided by 2N is the count of one later call. One kernel thread, OpenBLAS on one thread,
a fixed hash seed. Run it from each checkout in turn (benchmarks/_path.py picks the checkout's
in-place build).
"""

import sys

from bench_perop_callgrind import per_call, run_or_cases

CASES = {
    "tri1e4": ("tridiagonal", 10**4),
    "tri1e5": ("tridiagonal", 10**5),
    "lap300": ("laplacian 2-d", 300 * 300),
    "arrow1e4": ("arrow hessian", 10**4),
}
N = 20


def run(case, n):
    import _path  # noqa: F401  (finds tapegrad in ../python when it is built there)
    import numpy as np

    import tapegrad as tg
    from tapegrad._bench.sparse import _tg_funcs

    tg.set_num_threads(1)
    kind, size = CASES[case]
    x = tg.tensor(np.random.default_rng(0).random(size))
    f = _tg_funcs(tg, kind)
    obj = tg.SparseHessian(f, x) if kind == "arrow hessian" else tg.SparseJacobian(f, x)
    obj(x)
    for _ in range(n):
        obj(x)


def main(argv):
    for case in run_or_cases(argv, run, CASES):
        per = per_call(__file__, case, N)
        print(f"{case:10s} {per / 1e6:10.3f} M instructions per later call", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
