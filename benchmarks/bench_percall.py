"""Per-call cost of the transforms (issue 15's targets), one thread.

    python benchmarks/bench_percall.py wall [REPEATS]   # medians of wall time and the target ratios
    python benchmarks/bench_percall.py callgrind [CASE ...]  # instructions per call, and the ratios
    python benchmarks/bench_percall.py CASE N           # run CASE N times (for callgrind)

Instruction counts do not depend on the load of the machine, wall times do: for a count per call,
run one case under callgrind with N = 0 and N = 1000 and divide the difference by 1000:

    valgrind --tool=callgrind --callgrind-out-file=/dev/null python benchmarks/bench_percall.py vg_ndarray 1000

Cases: Rosenbrock-100 value_and_grad with a Tensor or a float64 ndarray argument, eager and under
tg.jit; numpy's hand-written rosen + rosen_der (SciPy); the 4-element GradOperation(get_all=True)
gradient of (x * x).sum(), made once or per call; jacrev(sin(x) * x) at n = 4; a jitted tiny
gradient; HIPS autograd's grad and jacobian of the same functions when autograd is installed.
"""

import sys
import time

import _path  # noqa: F401  (finds tapegrad in ../python when it is built there)
import numpy as np

import tapegrad as tg
from tapegrad import ops

tg.set_num_threads(1)


def rosen(x):
    return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()


XR = np.linspace(-1.0, 1.5, 100)
TR = tg.tensor(XR)
X4 = tg.tensor(np.array([0.1, 0.2, 0.3, 0.4], np.float32))


def square_sum(x):
    return (x * x).sum()


def tapegrad_cases():
    vg = tg.value_and_grad(rosen)
    jvg = tg.jit(tg.value_and_grad(rosen))
    jvg(XR)
    go = ops.GradOperation(get_all=True)(square_sum)
    jr = tg.jacrev(lambda x: tg.sin(x) * x)
    jg = tg.jit(tg.grad(square_sum))
    jg(X4)
    return {
        "vg_tensor": lambda: vg(TR),
        "vg_ndarray": lambda: vg(XR),
        "jit_vg_ndarray": lambda: jvg(XR),
        "jit_vg_tensor": lambda: jvg(TR),
        "gradop4": lambda: go(X4),
        "gradop4_percall": lambda: ops.GradOperation(get_all=True)(lambda x: (x * x).sum())(X4),
        "jacrev4": lambda: jr(X4),
        "jit_grad4": lambda: jg(X4),
    }


def numpy_cases():
    try:
        from scipy.optimize import rosen as np_rosen
        from scipy.optimize import rosen_der
    except ImportError:
        return {}
    return {"np_rosen": lambda: (np_rosen(XR), rosen_der(XR))}


def autograd_cases():
    try:
        import autograd
        import autograd.numpy as anp
    except ImportError:
        return {}
    a4 = np.array([0.1, 0.2, 0.3, 0.4], np.float32)
    g = autograd.grad(lambda x: (x * x).sum())
    j = autograd.jacobian(lambda x: anp.sin(x) * x)
    return {"ag_grad4": lambda: g(a4), "ag_jac4": lambda: j(a4)}


def ratio(med, a, b):
    return med[a] / med[b] if a in med and b in med else float("nan")


def wall(repeats):
    cases = {**tapegrad_cases(), **numpy_cases(), **autograd_cases()}
    times = {}
    for _ in range(repeats):
        for k, f in cases.items():  # interleaved, so that a change of load hits every case
            f()
            t0 = time.perf_counter()
            for _ in range(200):
                f()
            times.setdefault(k, []).append((time.perf_counter() - t0) / 200 * 1e6)
    med = {k: float(np.median(v)) for k, v in times.items()}
    for k, v in med.items():
        print(f"{k:18s} {v:8.2f} us")
    print(
        f"ndarray / Tensor in (eager):   {ratio(med, 'vg_ndarray', 'vg_tensor'):.3f} (target <= 1.1)"
    )
    print(
        f"eager ndarray / numpy:         {ratio(med, 'vg_ndarray', 'np_rosen'):.3f} (target <= 1.1)"
    )
    print(
        f"jitted ndarray / numpy:        {ratio(med, 'jit_vg_ndarray', 'np_rosen'):.3f} (target <= 0.6)"
    )
    print(
        f"GradOperation / autograd grad: {ratio(med, 'gradop4', 'ag_grad4'):.3f} (target <= 0.05)"
    )
    print(f"  made per call:               {ratio(med, 'gradop4_percall', 'ag_grad4'):.3f}")
    print(f"jacrev / autograd jacobian:    {ratio(med, 'jacrev4', 'ag_jac4'):.3f} (target <= 0.05)")
    print(f"jitted tiny gradient:          {med['jit_grad4']:.2f} us (target < 1.5)")


def instructions(cases):
    """Instructions per call of each case under callgrind, (count(N) - count(0)) / N, independent
    of the machine's load; with the two tiny-input ratios to HIPS autograd counted the same way."""
    from bench_perop_callgrind import callgrind_count

    n = 300
    per = {}
    for case in cases:
        per[case] = (callgrind_count(__file__, case, n) - callgrind_count(__file__, case, 0)) / n
        print(f"{case:18s} {per[case] / 1000:8.1f}k instructions per call", flush=True)
    for a, b in (("gradop4", "ag_grad4"), ("jacrev4", "ag_jac4")):
        if a in per and b in per:
            print(f"{a} / {b}: {per[a] / per[b]:.3f} (instructions)")


def main(argv):
    if not argv or argv[0] == "wall":
        wall(int(argv[1]) if len(argv) > 1 else 15)
        return 0
    if argv[0] == "callgrind":
        default = ["gradop4", "gradop4_percall", "jacrev4", "ag_grad4", "ag_jac4", "vg_tensor"]
        instructions(argv[1:] or default)
        return 0
    if argv[0] == "--run":  # what callgrind_count runs
        argv = argv[1:]
    case, n = argv[0], int(argv[1])
    f = {**tapegrad_cases(), **numpy_cases(), **autograd_cases()}[case]
    f()
    for _ in range(n):
        f()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
