"""`python -m tapegrad`: a short tour of what tapegrad does, with a small benchmark table."""
from __future__ import annotations

import sys
import time


def _section(title):
    print()
    print(title)
    print("-" * len(title))


def _timeit(fn, n=None):
    fn()
    if n is None:
        t0 = time.perf_counter()
        fn()
        one = max(time.perf_counter() - t0, 1e-7)
        n = max(3, min(20000, int(0.05 / one)))
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def tour():
    import numpy as np

    import tapegrad as tg
    from tapegrad import ops

    print(f"tapegrad {tg.__version__}: SIMD path {tg.get_simd_path()}, {tg.get_num_threads()} kernel thread(s), "
          f"BLAS/LAPACK from scipy-openblas32")

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
    f = lambda x: tg.sin(x) * x  # noqa: E731
    d3 = tg.grad(tg.grad(tg.grad(f)))(tg.tensor(1.0, tg.float64))
    print(f">>> tg.grad(tg.grad(tg.grad(f)))(1.0) = {float(d3):.6f}   (exact: {-3 * np.sin(1) - np.cos(1):.6f})")

    _section("Speed: gradient of (x*x).sum() on 4 float32 elements, this process")
    rows = []
    x4 = tg.tensor(np.arange(4, dtype=np.float32))
    g = grad_all(lambda x: (x * x).sum())
    rows.append(("tapegrad GradOperation", _timeit(lambda: g(x4))))
    a = np.arange(4, dtype=np.float32)
    rows.append(("numpy, derivative by hand (2*x)", _timeit(lambda: 2 * a)))
    try:
        import autograd
        import autograd.numpy as anp  # noqa: F401

        ga = autograd.grad(lambda x: (x * x).sum())
        a64 = a.astype(np.float64)
        rows.append(("HIPS autograd", _timeit(lambda: ga(a64))))
    except ImportError:
        rows.append(("HIPS autograd", None))
    try:
        from micrograd.engine import Value

        def mg():
            vs = [Value(float(v)) for v in a]
            s = vs[0] * vs[0]
            for v in vs[1:]:
                s = s + v * v
            s.backward()

        rows.append(("micrograd (4 scalar Values)", _timeit(mg)))
    except ImportError:
        rows.append(("micrograd", None))
    base = rows[0][1]
    for name, t in rows:
        if t is None:
            print(f"  {name:36s} not installed (pip install \"tapegrad[bench]\")")
        else:
            print(f"  {name:36s} {t * 1e6:9.2f} us   {t / base:6.1f}x tapegrad")
    print("PyTorch and JAX are compared in separate processes by `python benchmarks/bench_grad.py`.")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    tour()
    return 0


if __name__ == "__main__":
    sys.exit(main())
