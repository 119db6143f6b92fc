"""`python -m tapegrad`: a short tour of what tapegrad does, with a small benchmark table.

python -m tapegrad                 the tour (seed computations, a higher-order derivative,
                                   a small gradient benchmark against the installed peers)
python -m tapegrad bench --help    the benchmark suites
python -m tapegrad --version       the version
python -m tapegrad config          tapegrad.show_config(): build, SIMD path, BLAS, CUDA
"""

from __future__ import annotations

import os
import sys


def _section(title):
    print()
    print(title)
    print("-" * len(title))


def tour():
    import numpy as np

    import tapegrad as tg
    from tapegrad import ops

    print(
        f"tapegrad {tg.__version__}: SIMD path {tg.get_simd_path()}, {tg.get_num_threads()} kernel thread(s), "
        f"BLAS/LAPACK from scipy-openblas32"
    )

    _section("Tensors (MindSpore repr, numpy str)")
    x = tg.arange(4.0)
    print(">>> x = tg.arange(4.0); x")
    print(repr(x))
    print(">>> print(x * 2 + 1)")
    print(x * 2 + 1)

    _section("Seed 001: gradients with GradOperation")
    grad_all = ops.GradOperation(get_all=True)

    def forward(x):
        return 2 * tg.dot(x, x)

    print(">>> grad_all(lambda x: 2 * dot(x, x))(x)[0]")
    print(repr(grad_all(forward)(x)[0]))

    def stopped(x):
        y = x * x
        u = ops.stop_gradient(y)
        return u * x, u

    print(">>> gradient of (stop_gradient(x*x) * x, u) == x*x")
    print(repr(grad_all(stopped)(x)[0] == x * x))

    _section("Seed 000: gradient of an indexed function, and its Jacobian without a mask")
    xs = tg.tensor(np.array([1, 2, 3], np.float32))
    y = tg.tensor(np.array([[1], [2], [3]], np.float32))
    index = tg.tensor(np.array([0, 2, 1], np.int32))
    print(">>> tg.grad(lambda x: y[index] * x)(x)      # MindSpore: column sums")
    print(tg.grad(lambda x: y[index] * x)(xs))
    if hasattr(tg, "jacrev"):
        print(">>> tg.jacrev(lambda x: y[index][:, 0] * x[index])(x)")
        print(tg.jacrev(lambda x: y[index][:, 0] * x[index])(xs))
        print(">>> tg.jacfwd(lambda x: y[index][:, 0] * x[index])(x)")
        print(tg.jacfwd(lambda x: y[index][:, 0] * x[index])(xs))

    _section("Higher order: d3/dx3 of sin(x) * x at x = 1")
    f = lambda x: tg.sin(x) * x
    d3 = tg.grad(tg.grad(tg.grad(f)))(tg.tensor(1.0, tg.float64))
    print(
        f">>> tg.grad(tg.grad(tg.grad(f)))(1.0) = {float(d3):.6f}   (exact: {-3 * np.sin(1) - np.cos(1):.6f})"
    )

    _section("Tape replay: tg.jit records once per signature, then replays in C++")
    import timeit

    calls = []

    def loss(x):
        calls.append(1)
        return (tg.sin(x) * x).sum()

    g = tg.grad(loss)
    jg = tg.jit(g)
    x4 = tg.tensor([0.5, 1.0, 1.5, 2.0])
    print(
        f">>> jg = tg.jit(tg.grad(loss)); jg(x) == tg.grad(loss)(x): {bool((jg(x4) == g(x4)).all())}"
    )
    calls.clear()
    n = 2000
    t_jit = min(timeit.repeat(lambda: jg(x4), number=n, repeat=3)) / n
    ran = len(calls)
    t_eager = min(timeit.repeat(lambda: g(x4), number=n, repeat=3)) / n
    print(
        f"    {n * 3} replays ran the Python body {ran} times; "
        f"{t_jit * 1e6:.2f} us per call replayed, {t_eager * 1e6:.2f} us eager"
    )

    _speed_table()


def _speed_table():
    """Two gradient cases of the grad suite, each library in its own process (JAX's and PyTorch's
    thread pools and import cost stay out of the others' timings)."""
    import dataclasses

    from ._bench import harness, suites

    names = ["grad (x*x).sum(), n=4", "grad (sin(x)*x).sum(), n=1e6"]
    full = suites.get("grad", quick=True)
    suite = dataclasses.replace(full, cases=[c for c in full.cases if c.name in names])
    libs = [lib for lib in suite.libs if harness.have(lib)]
    absent = [lib for lib in suite.libs if lib not in libs]
    _section("Speed: gradients, each library in its own process (median of short runs)")
    # the two jax columns share one process here: the tour saves an import of JAX
    jobs = harness.jobs_for(suite, libs, share_module=True)
    run = harness.run_suite(suite, libs, quick=True, jobs=jobs)
    print(harness.time_table(suite, libs, run, show_spread=False))
    print(
        "(ratio: the library's time / tapegrad's; numpy: the derivative written by hand; "
        "blank: the library cannot do it)"
    )
    for lib, err in run["errors"].items():
        print(f"{lib} failed: {err}")
    if absent:
        print(
            "not installed, skipped: "
            + ", ".join(absent)
            + '  (pip install "tapegrad[bench]" brings HIPS autograd and micrograd)'
        )
    busy = harness.busy_cpus()
    if busy is not None and busy > 0.25:
        print(f"(other processes kept {busy:.1f} of {os.cpu_count()} CPUs busy: timings are noisy)")
    print("More: python -m tapegrad bench --suite all [--plot bench.png]")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "bench":
        from ._bench.cli import main as bench_main

        return bench_main(argv[1:])
    if argv and argv[0] in ("-V", "--version"):
        import tapegrad

        print(f"tapegrad {tapegrad.__version__}")
        return 0
    if argv and argv[0] in ("config", "--show-config"):
        import tapegrad

        tapegrad.show_config()
        return 0
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    if argv:
        print(f"unknown arguments {' '.join(argv)}\n{__doc__}", file=sys.stderr)
        return 2
    tour()
    return 0


if __name__ == "__main__":
    sys.exit(main())
