"""The benchmark suites: which cases, which libraries, and how each case is built from impl.py.

``get(name, quick)`` gives a Suite; the parent and the worker processes both build it from here,
so a case is passed between them by its name only.
"""

from __future__ import annotations

import math

from . import impl
from .harness import Case, Suite

NAMES = ("ops", "grad", "jacobian", "jit", "growth")
EXTRA = ("scipy",)  # suites that `--suite all` leaves out (scipy needs SciPy)
ALL_LIBS = ["tapegrad", "numpy", "torch", "jax (eager)", "jax (jit)", "autograd", "micrograd"]


def size_label(n):
    if n >= 10_000 and 10 ** round(math.log10(n)) == n:
        return f"1e{round(math.log10(n))}"
    return str(n)


def _op(kind, a_shape, b_shape):
    def build(m):
        rng = impl.np.random.default_rng(0)
        a = rng.standard_normal(a_shape).astype(impl.np.float32)
        b = rng.standard_normal(b_shape).astype(impl.np.float32)
        return m.op(kind, a, b)

    return build


def ops_suite(quick):
    cases = [Case("x*y, n=4", "x*y", 4, build=_op("mul", 4, 4))]
    for kind in ("add", "exp", "tanh"):
        for n in (10**5, 10**6, 10**7):
            nbytes = (12 if kind == "add" else 8) * n  # float32 read and written once
            cases.append(
                Case(
                    f"{kind}, n={size_label(n)}",
                    kind,
                    n,
                    build=_op(kind, n, n),
                    work=(nbytes, "GB/s"),
                )
            )
    for n in (256, 512, 1024):
        cases.append(
            Case(
                f"matmul {n}x{n}",
                "matmul (n x n)",
                n,
                build=_op("matmul", (n, n), (n, n)),
                work=(2 * n**3, "GFLOP/s"),
            )
        )
    return Suite(
        "ops",
        "Single ops, float32",
        "Latency of one tiny op, throughput of elementwise ops and float32 matmul (no autodiff).",
        ["tapegrad", "numpy", "torch", "jax (eager)"],
        cases,
        notes=["GB/s counts each float32 read and written once; matmul counts 2n^3 FLOP."],
    )


def grad_suite(quick):
    mg = ("tapegrad", "numpy", "torch", "jax (eager)", "jax (jit)", "autograd", "micrograd")
    no_mg = mg[:-1]
    cases = [
        Case(
            "grad (x*x).sum(), n=4",
            "grad (x*x).sum()",
            4,
            libs=mg,
            build=lambda m: m.grad_sq(impl.rng_data(4)),
        )
    ]
    for n in (10**3, 10**6):
        cases.append(
            Case(
                f"grad (sin(x)*x).sum(), n={size_label(n)}",
                "grad (sin(x)*x).sum()",
                n,
                libs=mg if n <= 10**3 else no_mg,
                build=lambda m, n=n: m.grad_sin(impl.rng_data(n)),
            )
        )
    cases.append(
        Case(
            "grad MLP 784-256-10, batch 64",
            "mlp",
            None,
            libs=no_mg,
            build=lambda m: m.mlp(impl.mlp_data()),
        )
    )
    return Suite(
        "grad",
        "Gradients",
        "Reverse-mode gradients; numpy: the derivative written by hand (the floor).",
        list(mg),
        cases,
        notes=[
            "micrograd is scalar-only (one Python object per element): small cases only.",
            "MLP: tanh hidden layer, softmax cross-entropy, gradient w.r.t. all 4 weights.",
        ],
    )


def jacobian_suite(quick):
    libs = ["tapegrad", "numpy", "torch", "jax (eager)", "jax (jit)", "autograd", "micrograd"]
    cases = []
    for n in (4, 100, 1000):
        use = tuple(lib for lib in libs if lib != "micrograd" or n <= 100)
        cases.append(
            Case(
                f"jacobian sin(x)*x, n={n}",
                "jacobian sin(x)*x",
                n,
                libs=use,
                build=lambda m, n=n: m.jac_sin(impl.rng_data(n)),
            )
        )
    for n in (4, 1000):
        cases.append(
            Case(
                f"jacfwd sin(x)*x, n={n}",
                "jacfwd sin(x)*x",
                n,
                libs=("tapegrad", "torch", "jax (eager)", "jax (jit)"),
                build=lambda m, n=n: m.jacfwd_sin(impl.rng_data(n)),
            )
        )
    cases.append(
        Case(
            "hessian Rosenbrock, n=100",
            "hessian",
            None,
            libs=("tapegrad", "torch", "jax (eager)", "jax (jit)", "autograd"),
            build=lambda m: m.hess_rosen(impl.rng_data(100)),
        )
    )
    cases.append(
        Case(
            "per-example grads, MLP 784-64-10 x256",
            "per-example",
            None,
            libs=("tapegrad", "torch", "jax (eager)", "jax (jit)"),
            build=lambda m: m.per_example(impl.mlp_data(256, 784, 64, 10)),
        )
    )
    return Suite(
        "jacobian",
        "Jacobians, Hessians, per-example gradients",
        "Full Jacobians (reverse mode), a Hessian and vmap(grad); numpy: the Jacobian by hand.",
        libs,
        cases,
        notes=["torch: torch.func (jacrev, hessian, vmap); micrograd: one reverse sweep per row."],
    )


def _expr_data(n):
    rng = impl.np.random.default_rng(0)
    return rng.standard_normal(n).astype(impl.np.float32), rng.standard_normal(n).astype(
        impl.np.float32
    )


def jit_suite(quick):
    libs = ["tapegrad", "tapegrad (fuse=False)", "torch.compile", "jax (jit)", "numexpr"]
    tg_jax = ("tapegrad", "tapegrad (fuse=False)", "jax (jit)")
    compilers = (*tg_jax, "torch.compile")
    cases = [
        Case(
            "jit grad (x*x).sum(), n=4",
            "jit grad (x*x).sum()",
            4,
            libs=compilers,
            build=lambda m: m.jit_grad_sq(impl.rng_data(4)),
        ),
    ]
    for n in (10**4, 10**6) if quick else (10**4, 10**6, 10**7):
        cases.append(
            Case(
                f"jit grad (sin(x)*x).sum(), n={size_label(n)}",
                "jit grad (sin(x)*x).sum()",
                n,
                libs=compilers,
                memory=n >= 10**7,
                build=lambda m, n=n: m.jit_grad_sin(impl.rng_data(n)),
            )
        )
    n = 10**6 if quick else 10**7
    cases.append(
        Case(
            f"jit 2*a + 3*b**2 - exp(-a), n={size_label(n)}",
            "jit expression",
            n,
            memory=True,
            build=lambda m, n=n: m.jit_expr(*_expr_data(n)),
        )
    )
    cases += [
        Case(
            "jit grad MLP 784-256-10, batch 64",
            "jit mlp",
            None,
            libs=compilers,
            build=lambda m: m.jit_mlp(impl.mlp_data()),
        ),
        Case(
            "jit jacobian sin(x)*x, n=4",
            "jit jacobian sin(x)*x",
            4,
            libs=tg_jax,
            build=lambda m: m.jit_jac_sin(impl.rng_data(4)),
        ),
        Case(
            "jit hessian Rosenbrock, n=100",
            "jit hessian",
            None,
            libs=tg_jax,
            build=lambda m: m.jit_hess_rosen(impl.rng_data(100)),
        ),
    ]
    return Suite(
        "jit",
        "Compiled replay (tg.jit against torch.compile, jax.jit and numexpr)",
        "Gradients and an expression under each library's compiler, after the first "
        "(compiling) call; peak memory (rise of peak RSS) at 1e7, each such case in a fresh "
        "process.",
        libs,
        cases,
        fresh_memory_cases=True,
        notes=[
            "tapegrad fuses elementwise chains and a trailing sum by default; "
            "'tapegrad (fuse=False)' replays op by op.",
            "numexpr evaluates the expression only (it has no gradients).",
            "torch.compile: the inductor backend (C++ code generated and compiled on the first "
            "call), the gradient taken by torch.func.grad inside the compiled function.",
        ],
    )


GRAD_SIZES = [10**k for k in range(1, 8)]  # 10 .. 1e7 elements
JAC_SIZES = [4, 10, 30, 100, 300, 1000]
GRAD_SIZES_QUICK = [100, 10**4, 10**6]
JAC_SIZES_QUICK = [4, 30, 300]
MICROGRAD_MAX = {"grad": 10**4, "jac": 300}


def growth_suite(quick):
    libs = list(ALL_LIBS)
    cases = []
    for n in GRAD_SIZES_QUICK if quick else GRAD_SIZES:
        use = tuple(lib for lib in libs if lib != "micrograd" or n <= MICROGRAD_MAX["grad"])
        cases.append(
            Case(
                f"grad n={size_label(n)}",
                "gradient of (sin(x)*x).sum()",
                n,
                memory=True,
                libs=use,
                build=lambda m, n=n: m.grad_sin(impl.rng_data(n)),
            )
        )
    for n in JAC_SIZES_QUICK if quick else JAC_SIZES:
        use = tuple(lib for lib in libs if lib != "micrograd" or n <= MICROGRAD_MAX["jac"])
        cases.append(
            Case(
                f"jacobian n={n}",
                "Jacobian of sin(x)*x",
                n,
                memory=True,
                libs=use,
                build=lambda m, n=n: m.jac_sin(impl.rng_data(n)),
            )
        )
    return Suite(
        "growth",
        "Cost growth: time and peak memory against problem size",
        "Gradient of (sin(x)*x).sum() for 10..1e7 float32 elements and the Jacobian of sin(x)*x "
        "for n = 4..1000, each library in its own process.",
        libs,
        cases,
        fresh_per_case=not quick,
        notes=[
            (
                f"micrograd only up to n={MICROGRAD_MAX['grad']} (gradient) and "
                f"n={MICROGRAD_MAX['jac']} (Jacobian): one Python object per element and op."
            )
        ],
    )


def get(name, quick=False):
    if name == "scipy":
        from .scipy_suite import scipy_suite

        return scipy_suite(quick)
    return {
        "ops": ops_suite,
        "grad": grad_suite,
        "jacobian": jacobian_suite,
        "jit": jit_suite,
        "growth": growth_suite,
    }[name](quick)
