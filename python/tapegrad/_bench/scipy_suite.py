"""The ``scipy`` suite: SciPy solvers fed with derivatives from each library.

Cases (float64 throughout, SciPy's working type):

- ``L-BFGS-B Rosenbrock-100``: ``minimize(method="L-BFGS-B")`` from x0 = 0, value and gradient
  in one call;
- ``Newton-CG Rosenbrock-100``: ``minimize(method="Newton-CG")`` with a Hessian-vector product
  (forward over reverse; numpy: ``rosen_hess_prod``; SciPy: finite differences of the gradient);
- ``least_squares 2 exponentials, 1e4 points``: fit ``a exp(-b t) + c exp(-d t)`` to 10^4
  points, with the 10^4 x 4 Jacobian;
- ``Robertson BDF``: the stiff Robertson kinetics on t in [0, 1e3] with ``solve_ivp(method="BDF")``
  and the 3x3 Jacobian of the right-hand side.

Each library's workload object has one method per case, returning a ``Workload``: calling it runs
the whole solve once; ``per_call`` runs the derivative that SciPy calls most (fun and gradient,
the Hessian-vector product, the Jacobian) once; ``counts`` gives the evaluation counts of the last
solve and its error against the known answer, so that the table shows that every library solved
the same problem. "numpy" is the derivatives written by hand; "scipy (FD)" is SciPy's own finite
differences (no derivatives given).
"""

from __future__ import annotations

import os

import numpy as np

from .harness import Case, Suite, fmt_time, render
from .impl import NotApplicable

LIBS = ["tapegrad", "tapegrad (jit)", "numpy", "scipy (FD)", "autograd", "jax (jit)", "torch"]
N_ROSEN = 100
N_POINTS = 10_000
P_TRUE = np.array([2.0, 1.3, 0.5, 0.2])
P0 = np.array([1.0, 1.0, 1.0, 0.1])
T_END = 1e3
Y0 = np.array([1.0, 0.0, 0.0])
ODE_TOL = {"rtol": 1e-6, "atol": [1e-8, 1e-12, 1e-8]}
NEWTON_OPTS = {"xtol": 1e-10}  # SciPy's default (1e-5) stops 4e-2 away from the optimum


def lsq_data():
    t = np.linspace(0.0, 10.0, N_POINTS)
    y = P_TRUE[0] * np.exp(-P_TRUE[1] * t) + P_TRUE[2] * np.exp(-P_TRUE[3] * t)
    return t, y


class Workload:
    def __init__(self, run, per_call, counts):
        self.run, self.per_call, self._counts = run, per_call, counts
        self.last = None

    def __call__(self):
        self.last = self.run()
        return self.last

    def counts(self):
        return self._counts(self.last)


def _min_counts(res):
    return {
        "nfev": int(res.nfev),
        "njev": int(getattr(res, "njev", 0)),
        "nhev": int(getattr(res, "nhev", 0)),
        "err": float(np.abs(res.x - 1.0).max()),
    }


def _lsq_counts(res):
    return {
        "nfev": int(res.nfev),
        "njev": int(res.njev or 0),
        "err": float(np.abs(res.x - P_TRUE).max() / P_TRUE.max()),
    }


_ODE_REF = {}


def _ode_counts(sol):
    # y1(1e3) of the Robertson problem (reference: SciPy's BDF at rtol 1e-10, computed once here).
    if "y" not in _ODE_REF:
        from scipy.integrate import solve_ivp

        ref = solve_ivp(
            Numpy.rob_f,
            (0.0, T_END),
            Y0,
            method="BDF",
            jac=Numpy.rob_jac,
            rtol=1e-10,
            atol=[1e-12, 1e-16, 1e-12],
        )
        _ODE_REF["y"] = ref.y[:, -1]
    ref = _ODE_REF["y"]
    return {
        "nfev": int(sol.nfev),
        "njev": int(sol.njev),
        "err": float(np.abs(sol.y[:, -1] - ref).max() / np.abs(ref).max()),
    }


def _solvers():
    from scipy import optimize
    from scipy.integrate import solve_ivp

    return optimize, solve_ivp


class ScipyBase:
    """Builds the four cases from a library's fg (value, gradient), hvp, lsq_jac and ode pieces."""

    name = "?"
    X_PROBE = np.linspace(-0.5, 1.5, N_ROSEN)

    def init(self):
        pass

    def release(self):
        pass

    # Pieces each library provides; a missing one is NotApplicable.
    def fg(self):
        raise NotApplicable(f"{self.name}: no gradient")

    def hvp(self):
        raise NotApplicable(f"{self.name}: no Hessian-vector product")

    def lsq(self, t, y):
        raise NotApplicable(f"{self.name}: no least-squares Jacobian")

    def ode(self):
        raise NotApplicable(f"{self.name}: no ODE Jacobian")

    def lbfgsb(self):
        optimize, _ = _solvers()
        fg = self.fg()
        x0 = np.zeros(N_ROSEN)
        run = lambda: optimize.minimize(fg, x0, method="L-BFGS-B", jac=True)
        return Workload(run, lambda: fg(self.X_PROBE), _min_counts)

    def newton_cg(self):
        optimize, _ = _solvers()
        fg, hvp = self.fg(), self.hvp()
        x0 = np.zeros(N_ROSEN)
        p = np.ones(N_ROSEN)
        run = lambda: optimize.minimize(
            fg, x0, method="Newton-CG", jac=True, hessp=hvp, options=NEWTON_OPTS
        )
        return Workload(run, lambda: hvp(self.X_PROBE, p), _min_counts)

    def least_squares(self):
        optimize, _ = _solvers()
        t, y = lsq_data()
        r, jac = self.lsq(t, y)
        run = lambda: optimize.least_squares(r, P0, jac=jac)
        return Workload(run, lambda: jac(P0), _lsq_counts)

    def robertson(self):
        _, solve_ivp = _solvers()
        f, jac = self.ode()
        run = lambda: solve_ivp(f, (0.0, T_END), Y0, method="BDF", jac=jac, **ODE_TOL)
        y = np.array([0.9, 3e-5, 0.1])
        return Workload(run, lambda: jac(1.0, y), _ode_counts)


# ---------------------------------------------------------------------------------------------


class Tapegrad(ScipyBase):
    """tapegrad.scipy's own helpers: exactly what a user of minimize/least_squares/... runs."""

    jit = False

    def __init__(self):
        import tapegrad as tg
        import tapegrad.scipy as tgs

        self.tg, self.tgs = tg, tgs
        self.name = "tapegrad (jit)" if self.jit else "tapegrad"
        threads = os.environ.get("TAPEGRAD_BENCH_THREADS")
        if threads:
            tg.set_num_threads(int(threads))

    @staticmethod
    def rosen(x):
        return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()

    def lbfgsb(self):
        optimize, _ = _solvers()
        f_scipy, kw = self.tgs._minimize_parts(self.rosen, "L-BFGS-B", self.jit, {})
        x0 = np.zeros(N_ROSEN)
        run = lambda: optimize.minimize(f_scipy, x0, method="L-BFGS-B", **kw)
        return Workload(run, lambda: f_scipy(self.X_PROBE), _min_counts)

    def newton_cg(self):
        optimize, _ = _solvers()
        f_scipy, kw = self.tgs._minimize_parts(self.rosen, "Newton-CG", self.jit, {})
        x0, p = np.zeros(N_ROSEN), np.ones(N_ROSEN)
        run = lambda: optimize.minimize(f_scipy, x0, method="Newton-CG", options=NEWTON_OPTS, **kw)
        return Workload(run, lambda: kw["hessp"](self.X_PROBE, p), _min_counts)

    def least_squares(self):
        optimize, _ = _solvers()
        tg = self.tg
        t, y = lsq_data()

        def residuals(p, t, y):
            return p[0] * tg.exp(-p[1] * t) + p[2] * tg.exp(-p[3] * t) - y

        r, kw = self.tgs._least_squares_parts(residuals, P0, self.jit, "auto", {"args": (t, y)})
        run = lambda: optimize.least_squares(r, P0, **kw)
        return Workload(run, lambda: kw["jac"](P0), _lsq_counts)

    def ode(self):
        tg = self.tg

        def f(t, y):
            return tg.stack(
                [
                    -0.04 * y[0] + 1e4 * y[1] * y[2],
                    0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] ** 2,
                    3e7 * y[1] ** 2,
                ]
            )

        return self.tgs.ode_fun(f, jit=self.jit), self.tgs.ode_jacobian(f, jit=self.jit)


class TapegradJit(Tapegrad):
    jit = True


class Numpy(ScipyBase):
    """Derivatives written by hand (SciPy's rosen_der and rosen_hess_prod for Rosenbrock)."""

    name = "numpy"

    def fg(self):
        from scipy.optimize import rosen, rosen_der

        return lambda x: (rosen(x), rosen_der(x))

    def hvp(self):
        from scipy.optimize import rosen_hess_prod

        return rosen_hess_prod

    def lsq(self, t, y):
        def r(p):
            return p[0] * np.exp(-p[1] * t) + p[2] * np.exp(-p[3] * t) - y

        def jac(p):
            e1, e2 = np.exp(-p[1] * t), np.exp(-p[3] * t)
            return np.stack([e1, -p[0] * t * e1, e2, -p[2] * t * e2], axis=1)

        return r, jac

    @staticmethod
    def rob_f(t, y):
        return np.array(
            [
                -0.04 * y[0] + 1e4 * y[1] * y[2],
                0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] ** 2,
                3e7 * y[1] ** 2,
            ]
        )

    @staticmethod
    def rob_jac(t, y):
        return np.array(
            [
                [-0.04, 1e4 * y[2], 1e4 * y[1]],
                [0.04, -1e4 * y[2] - 6e7 * y[1], -1e4 * y[1]],
                [0.0, 6e7 * y[1], 0.0],
            ]
        )

    def ode(self):
        return self.rob_f, self.rob_jac


class ScipyFD(Numpy):
    """SciPy's finite differences: no derivative is given."""

    name = "scipy (FD)"

    def lbfgsb(self):
        from scipy.optimize import minimize, rosen

        x0 = np.zeros(N_ROSEN)
        run = lambda: minimize(rosen, x0, method="L-BFGS-B")
        return Workload(run, lambda: self._fd_grad(self.X_PROBE), _min_counts)

    @staticmethod
    def _fd_grad(x):
        from scipy.optimize import approx_fprime, rosen

        return rosen(x), approx_fprime(x, rosen)

    def newton_cg(self):
        # A finite-difference gradient and Hessian products from differences of it: about 12000
        # gradients of 101 evaluations each, ~50 s per solve here. Not timed.
        raise NotApplicable(
            "scipy (FD): Newton-CG with finite-difference gradients and Hessian "
            "products takes ~50 s per solve (about 12000 gradients); not timed"
        )

    def least_squares(self):
        from scipy.optimize import least_squares
        from scipy.optimize._numdiff import approx_derivative

        t, y = lsq_data()
        r, _ = self.lsq(t, y)
        run = lambda: least_squares(r, P0)  # jac="2-point"
        return Workload(run, lambda: approx_derivative(r, P0), _lsq_counts)

    def robertson(self):
        from scipy.integrate import solve_ivp
        from scipy.optimize._numdiff import approx_derivative

        run = lambda: solve_ivp(self.rob_f, (0.0, T_END), Y0, method="BDF", **ODE_TOL)
        y = np.array([0.9, 3e-5, 0.1])
        return Workload(
            run, lambda: approx_derivative(lambda z: self.rob_f(1.0, z), y), _ode_counts
        )


class Autograd(ScipyBase):
    name = "autograd"

    def __init__(self):
        import autograd
        import autograd.numpy as anp

        self.ag, self.anp = autograd, anp

    def _rosen(self, x):
        return self.anp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    def fg(self):
        vg = self.ag.value_and_grad(self._rosen)
        return vg

    def hvp(self):
        return self.ag.hessian_vector_product(self._rosen)

    def lsq(self, t, y):
        anp = self.anp
        from autograd.differential_operators import make_jvp

        def r(p):
            return p[0] * anp.exp(-p[1] * t) + p[2] * anp.exp(-p[3] * t) - y

        eye = np.eye(4)

        def jac(p):  # four forward products (autograd's jvp), one per column
            jvp = make_jvp(r)(p)
            return np.stack([jvp(e)[1] for e in eye], axis=1)

        return r, jac

    def ode(self):
        anp = self.anp

        def f(t, y):
            return anp.stack(
                [
                    -0.04 * y[0] + 1e4 * y[1] * y[2],
                    0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] ** 2,
                    3e7 * y[1] ** 2,
                ]
            )

        return f, self.ag.jacobian(f, 1)


class Jax(ScipyBase):
    name = "jax (jit)"

    def __init__(self):
        import jax

        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp

        self.jax, self.jnp = jax, jnp

    def _rosen(self, x):
        return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()

    def fg(self):
        vg = self.jax.jit(self.jax.value_and_grad(self._rosen))

        def fg(x):
            v, g = vg(x)
            return float(v), np.asarray(g)

        return fg

    def hvp(self):
        jax = self.jax
        g = jax.grad(self._rosen)
        h = jax.jit(lambda x, p: jax.jvp(g, (x,), (p,))[1])
        return lambda x, p: np.asarray(h(x, p))

    def lsq(self, t, y):
        jax, jnp = self.jax, self.jnp
        tj, yj = jnp.asarray(t), jnp.asarray(y)

        def res(p):
            return p[0] * jnp.exp(-p[1] * tj) + p[2] * jnp.exp(-p[3] * tj) - yj

        rj, jj = jax.jit(res), jax.jit(jax.jacfwd(res))
        return (lambda p: np.asarray(rj(p))), (lambda p: np.asarray(jj(p)))

    def ode(self):
        jax, jnp = self.jax, self.jnp

        def f(t, y):
            return jnp.stack(
                [
                    -0.04 * y[0] + 1e4 * y[1] * y[2],
                    0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] ** 2,
                    3e7 * y[1] ** 2,
                ]
            )

        fj, jj = jax.jit(f), jax.jit(jax.jacfwd(f, argnums=1))
        return (lambda t, y: np.asarray(fj(t, y))), (lambda t, y: np.asarray(jj(t, y)))


class Torch(ScipyBase):
    """torch.func (eager), float64 tensors sharing memory with SciPy's arrays."""

    name = "torch"

    def __init__(self):
        import torch

        self.torch = torch
        threads = os.environ.get("TAPEGRAD_BENCH_THREADS")
        if threads:
            torch.set_num_threads(int(threads))

    @staticmethod
    def _rosen(x):
        return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()

    def fg(self):
        torch = self.torch
        gv = torch.func.grad_and_value(self._rosen)

        def fg(x):
            g, v = gv(torch.from_numpy(np.asarray(x, np.float64)))
            return float(v), g.numpy()

        return fg

    def hvp(self):
        torch = self.torch
        g = torch.func.grad(self._rosen)

        def hvp(x, p):
            xt, pt = (
                torch.from_numpy(np.asarray(x, np.float64)),
                torch.from_numpy(np.asarray(p, np.float64)),
            )
            return torch.func.jvp(g, (xt,), (pt,))[1].numpy()

        return hvp

    def lsq(self, t, y):
        torch = self.torch
        tt, yt = torch.from_numpy(t), torch.from_numpy(y)

        def res(p):
            return p[0] * torch.exp(-p[1] * tt) + p[2] * torch.exp(-p[3] * tt) - yt

        jf = torch.func.jacfwd(res)
        as_t = lambda p: torch.from_numpy(np.asarray(p, np.float64))
        return (lambda p: res(as_t(p)).numpy()), (lambda p: jf(as_t(p)).numpy())

    def ode(self):
        torch = self.torch

        def f(t, y):
            return torch.stack(
                [
                    -0.04 * y[0] + 1e4 * y[1] * y[2],
                    0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] ** 2,
                    3e7 * y[1] ** 2,
                ]
            )

        jf = torch.func.jacfwd(f, argnums=1)
        as_t = lambda y: torch.from_numpy(np.asarray(y, np.float64))
        return (lambda t, y: f(t, as_t(y)).numpy()), (lambda t, y: jf(t, as_t(y)).numpy())


def make(lib):
    return {
        "tapegrad": Tapegrad,
        "tapegrad (jit)": TapegradJit,
        "numpy": Numpy,
        "scipy (FD)": ScipyFD,
        "autograd": Autograd,
        "jax (jit)": Jax,
        "torch": Torch,
    }[lib]()


# ---------------------------------------------------------------------------------------------


def extra_table(suite, libs, run, markdown=False):
    """Evaluation counts, time per derivative call and error of each solve."""
    rows = [["case"] + libs]
    for case in suite.cases:
        row = [case.name]
        for lib in libs:
            r = run["results"].get(lib, {}).get(case.name) or {}
            c = r.get("counts")
            if not c:
                row.append("error" if "error" in r else "n/a")
                continue
            evals = f"{c['nfev']} f"
            if c.get("njev"):
                evals += f", {c['njev']} J"
            if c.get("nhev"):
                evals += f", {c['nhev']} Hp"
            row.append(f"{evals}; {fmt_time(r.get('per_call'))}/call; err {c['err']:.0e}")
        rows.append(row)
    return render(rows, markdown)


EXTRA_DOC = (
    "Per solve: evaluations SciPy asked for (f: function, J: gradient or Jacobian, Hp: Hessian-"
    "vector products; with jac=True the value and\ngradient come from one call, counted as f); "
    "time of one call of the derivative SciPy calls most (L-BFGS-B: value and gradient;\n"
    "Newton-CG: the Hessian-vector product; least_squares and BDF: the Jacobian); err: the "
    "solution's distance to the known answer\n(relative for least_squares and the ODE)."
)


def scipy_suite(quick):
    libs = list(LIBS)
    cases = [
        Case(f"L-BFGS-B Rosenbrock-{N_ROSEN}", "lbfgsb", N_ROSEN, build=lambda m: m.lbfgsb()),
        Case(
            f"Newton-CG hessp Rosenbrock-{N_ROSEN}",
            "newton-cg",
            N_ROSEN,
            build=lambda m: m.newton_cg(),
        ),
        Case(
            "least_squares 2 exponentials, 1e4 points",
            "least_squares",
            N_POINTS,
            build=lambda m: m.least_squares(),
        ),
        Case(f"Robertson BDF, t <= {T_END:g}", "robertson", 3, build=lambda m: m.robertson()),
    ]
    return Suite(
        "scipy",
        "SciPy solvers with derivatives from each library",
        "Wall time of one whole solve (float64); numpy: derivatives by hand; scipy (FD): SciPy's "
        "own finite differences.",
        libs,
        cases,
        make=make,
        extra=extra_table,
        notes=[
            "tapegrad runs through tapegrad.scipy (minimize, least_squares, ode_fun/"
            "ode_jacobian); 'tapegrad (jit)' with jit=True.",
            "jax (jit) and torch return arrays that are converted to numpy for SciPy in each "
            "call, as a user would.",
            EXTRA_DOC,
        ],
    )
