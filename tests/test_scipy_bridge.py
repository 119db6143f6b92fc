"""tapegrad.scipy: the derivatives it hands SciPy equal SciPy's own (hand-written Rosenbrock
derivatives, finite differences), and the solvers reach the known answers, for float32 and float64
x0, with and without jit."""

import importlib
import sys
import warnings

import numpy as np
import pytest

import tapegrad as tg
from helpers import rosen

scipy = pytest.importorskip("scipy")
from scipy import optimize  # noqa: E402
from scipy.integrate import solve_ivp  # noqa: E402

import tapegrad.scipy as tgs  # noqa: E402

DTYPES = [np.float32, np.float64]
JIT = [False, True]


class Spy:
    """Wraps a scipy.optimize solver: records the callables tapegrad.scipy hands it."""

    def __init__(self, monkeypatch, name):
        self.real = getattr(optimize, name)
        self.calls = []
        monkeypatch.setattr(optimize, name, self)

    def __call__(self, fun, x0, **kw):
        self.calls.append((fun, x0, kw))
        return self.real(fun, x0, **kw)


def central_differences(f, x, h):
    """The Jacobian of f at x by central differences (exact for quadratics up to rounding)."""
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        cols.append((f(x + e) - f(x - e)) / (2 * h))
    return np.stack(cols, axis=-1)


def rng_points(n, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1.5, 1.5, n) for _ in range(k)]


# ---- minimize -----------------------------------------------------------------------------------


@pytest.mark.parametrize("jit", JIT)
@pytest.mark.parametrize("dtype", DTYPES)
def test_minimize_lbfgsb_rosenbrock_gradient_and_optimum(monkeypatch, dtype, jit):
    spy = Spy(monkeypatch, "minimize")
    n = 20
    res = tgs.minimize(
        rosen,
        np.zeros(n, dtype),
        method="L-BFGS-B",
        jit=jit,
        options={"gtol": 1e-10, "ftol": 1e-14},
    )
    assert isinstance(res, optimize.OptimizeResult)
    assert res.success and res.x.dtype == np.float64
    np.testing.assert_allclose(res.x, np.ones(n), atol=1e-5)
    fun, x0, kw = spy.calls[0]
    assert kw["jac"] is True and x0.dtype == np.float64
    for x in rng_points(n):
        v, g = fun(x)
        assert v == pytest.approx(optimize.rosen(x), rel=1e-13)
        np.testing.assert_allclose(g, optimize.rosen_der(x), rtol=1e-12, atol=1e-10)
        fd = optimize.approx_fprime(x, optimize.rosen, 1e-7)
        np.testing.assert_allclose(g, fd, rtol=1e-4, atol=1e-3)
    # Same gradients as the hand-written ones: SciPy's own run takes the same path.
    ref = optimize.minimize(
        optimize.rosen,
        np.zeros(n),
        jac=optimize.rosen_der,
        method="L-BFGS-B",
        options={"gtol": 1e-10, "ftol": 1e-14},
    )
    np.testing.assert_allclose(res.x, ref.x, atol=1e-7)


@pytest.mark.parametrize("jit", JIT)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("method", ["Newton-CG", "trust-ncg", "trust-krylov", "trust-constr"])
def test_minimize_hessp_methods_get_a_hessian_vector_product(monkeypatch, method, dtype, jit):
    spy = Spy(monkeypatch, "minimize")
    n = 6
    x0 = np.full(n, 0.5, dtype)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*does not use.*")
        res = tgs.minimize(rosen, x0, method=method, jit=jit)
    np.testing.assert_allclose(res.x, np.ones(n), atol=1e-4)
    _, _, kw = spy.calls[0]
    assert "hess" not in kw
    for x in rng_points(n):
        for p in rng_points(n, 2, seed=1):
            np.testing.assert_allclose(
                kw["hessp"](x, p), optimize.rosen_hess_prod(x, p), rtol=1e-12, atol=1e-9
            )


@pytest.mark.parametrize("jit", JIT)
@pytest.mark.parametrize("method", ["dogleg", "trust-exact"])
def test_minimize_hess_only_methods_get_the_dense_hessian(monkeypatch, method, jit):
    spy = Spy(monkeypatch, "minimize")
    n = 5
    res = tgs.minimize(rosen, np.full(n, 1.05), method=method, jit=jit)  # dogleg: PD Hessian
    np.testing.assert_allclose(res.x, np.ones(n), atol=1e-4)
    _, _, kw = spy.calls[0]
    assert "hessp" not in kw
    for x in rng_points(n):
        h = kw["hess"](x)
        assert h.shape == (n, n) and h.dtype == np.float64
        np.testing.assert_allclose(h, optimize.rosen_hess(x), rtol=1e-12, atol=1e-9)
        fd = optimize.approx_fprime(x, optimize.rosen_der, 1e-7)
        np.testing.assert_allclose(h, fd, rtol=1e-4, atol=1e-2)


@pytest.mark.parametrize("method", ["BFGS", "CG", "SLSQP", "TNC", None])
def test_minimize_first_order_methods(monkeypatch, method):
    spy = Spy(monkeypatch, "minimize")
    res = tgs.minimize(rosen, [-1.2, 1.0], method=method)
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=2e-3)
    _, _, kw = spy.calls[0]
    assert kw["jac"] is True and "hess" not in kw and "hessp" not in kw


@pytest.mark.parametrize("method", ["Nelder-Mead", "Powell", "COBYLA"])
def test_minimize_derivative_free_methods_get_no_jac(monkeypatch, method):
    spy = Spy(monkeypatch, "minimize")
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*does not use.*")
        res = tgs.minimize(lambda x: ((x - 2.0) ** 2).sum(), [0.0, 1.0], method=method)
    np.testing.assert_allclose(res.x, [2.0, 2.0], atol=1e-3)
    _, _, kw = spy.calls[0]
    assert "jac" not in kw and "hess" not in kw and "hessp" not in kw


def test_minimize_passes_args_bounds_and_constraints_through():
    data = np.array([3.0, -1.0, 0.5])
    seen = []

    def fun(x, d, scale):
        seen.append((type(d), scale))
        return (scale * (x - d) ** 2).sum()

    res = tgs.minimize(
        fun, np.zeros(3), args=(data, 2.0), method="L-BFGS-B", bounds=[(0.0, 1.0)] * 3
    )
    np.testing.assert_allclose(res.x, [1.0, 0.0, 0.5], atol=1e-6)
    assert seen[0] == (tg.Tensor, 2.0)  # the array is handed over as a Tensor, the float unchanged
    cons = [{"type": "ineq", "fun": lambda x: 1.0 - x[0] - x[1]}]  # x0 + x1 <= 1
    res = tgs.minimize(
        lambda x: ((x - 2.0) ** 2).sum(), [0.0, 0.0], method="SLSQP", constraints=cons
    )
    np.testing.assert_allclose(res.x, [0.5, 0.5], atol=1e-6)


def test_minimize_respects_a_jac_the_user_gives(monkeypatch):
    spy = Spy(monkeypatch, "minimize")
    res = tgs.minimize(rosen, [-1.2, 1.0], method="BFGS", jac="2-point")
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-3)
    fun, _, kw = spy.calls[0]
    assert kw["jac"] == "2-point"
    assert fun(np.array([1.0, 1.0])) == 0.0  # the value only
    hp = lambda x, p: optimize.rosen_hess_prod(x, p)
    tgs.minimize(rosen, [-1.2, 1.0], method="Newton-CG", hessp=hp)
    assert spy.calls[1][2]["hessp"] is hp and spy.calls[1][2]["jac"] is True


def test_minimize_jit_replays_instead_of_recording_again():
    calls = []

    def fun(x):
        calls.append(1)
        return rosen(x)

    res = tgs.minimize(fun, np.zeros(8), method="L-BFGS-B", jit=True)
    assert res.nfev > 10 and len(calls) <= 2  # recorded once (the value under jit: never re-run)


def test_minimize_bad_functions_are_clear_errors():
    with pytest.raises(ValueError, match="minimize: fun must return a scalar"):
        tgs.minimize(lambda x: x * 2, np.ones(3), method="BFGS")
    with pytest.raises(TypeError, match="minimize: fun must be callable"):
        tgs.minimize(3, np.ones(3))
    with pytest.raises(TypeError, match="x0 must be real"):
        tgs.minimize(rosen, np.array(["a", "b"]))


# ---- least_squares ------------------------------------------------------------------------------


T = np.linspace(0.0, 4.0, 200)
P_TRUE = np.array([2.0, 1.3, 0.5, 0.2])


def expfit(p, t):
    return p[0] * tg.exp(-p[1] * t) + p[2] * tg.exp(-p[3] * t)


def expfit_np(p, t):
    return p[0] * np.exp(-p[1] * t) + p[2] * np.exp(-p[3] * t)


Y = expfit_np(P_TRUE, T)


@pytest.mark.parametrize("jit", JIT)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["auto", "fwd", "rev"])
def test_least_squares_exponential_fit(monkeypatch, mode, dtype, jit):
    spy = Spy(monkeypatch, "least_squares")
    x0 = np.array([1.0, 1.0, 1.0, 0.1], dtype)
    res = tgs.least_squares(
        lambda p, t, y: expfit(p, t) - y,
        x0,
        args=(T, Y),
        jit=jit,
        mode=mode,
        xtol=1e-14,
        ftol=1e-14,
        gtol=1e-14,
    )
    assert isinstance(res, optimize.OptimizeResult) and res.x.dtype == np.float64
    np.testing.assert_allclose(res.x, P_TRUE, rtol=1e-6)
    ref = optimize.least_squares(
        lambda p: expfit_np(p, T) - Y, x0.astype(np.float64), xtol=1e-14, ftol=1e-14, gtol=1e-14
    )  # SciPy's finite differences
    np.testing.assert_allclose(res.x, ref.x, rtol=1e-6)
    _, _, kw = spy.calls[0]
    for p in (np.array([1.0, 1.0, 1.0, 0.1]), P_TRUE * 1.1):
        j = kw["jac"](p)
        assert j.shape == (T.size, 4)
        fd = optimize.approx_fprime(p, lambda q: expfit_np(q, T) - Y, 1e-7)
        np.testing.assert_allclose(j, fd, rtol=1e-5, atol=1e-6)


def test_least_squares_more_unknowns_than_residuals_and_bounds():
    # 1 residual, 3 unknowns (reverse mode under "auto"), bounded
    res = tgs.least_squares(
        lambda x: (x * x).sum(keepdims=True) - 1.0, [0.5, 0.5, 0.5], bounds=([0.0] * 3, [2.0] * 3)
    )
    assert res.fun.shape == (1,) and abs(res.fun[0]) < 1e-8
    assert res.jac.shape == (1, 3)
    np.testing.assert_allclose(res.jac, 2 * res.x[None, :], rtol=1e-6)


def test_least_squares_respects_a_user_jac(monkeypatch):
    spy = Spy(monkeypatch, "least_squares")
    res = tgs.least_squares(lambda p: expfit(p, T) - Y, [1.0, 1.0, 1.0, 0.1], jac="3-point")
    assert spy.calls[0][2]["jac"] == "3-point"
    np.testing.assert_allclose(res.x, P_TRUE, rtol=1e-4)


# ---- root ---------------------------------------------------------------------------------------


def system(v):
    return tg.stack([v[0] ** 2 + v[1] ** 2 - 4.0, tg.exp(v[0]) + v[1] - 1.0])


def system_np(v):
    return np.array([v[0] ** 2 + v[1] ** 2 - 4.0, np.exp(v[0]) + v[1] - 1.0])


@pytest.mark.parametrize("jit", JIT)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("method", ["hybr", "lm"])
def test_root_nonlinear_system(monkeypatch, method, dtype, jit):
    spy = Spy(monkeypatch, "root")
    x0 = np.array([1.0, -1.0], dtype)
    sol = tgs.root(system, x0, method=method, jit=jit)
    assert sol.success and sol.x.dtype == np.float64
    np.testing.assert_allclose(system_np(sol.x), 0.0, atol=1e-9)
    ref = optimize.root(system_np, x0.astype(np.float64), method=method)  # finite differences
    np.testing.assert_allclose(sol.x, ref.x, atol=1e-7)
    fun, _, kw = spy.calls[0]
    assert kw["jac"] is True
    for x in (np.array([1.0, -1.0]), np.array([0.3, 2.0])):
        f, j = fun(x)
        np.testing.assert_allclose(f, system_np(x), rtol=1e-14)
        np.testing.assert_allclose(
            j, optimize.approx_fprime(x, system_np, 1e-7), rtol=1e-5, atol=1e-6
        )
        np.testing.assert_allclose(j, [[2 * x[0], 2 * x[1]], [np.exp(x[0]), 1.0]], rtol=1e-14)


def test_root_methods_without_a_jacobian_get_fun_only(monkeypatch):
    spy = Spy(monkeypatch, "root")
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*does not use.*")
        sol = tgs.root(lambda x: x - 0.5 * tg.cos(x), [1.0, 0.0], method="broyden1")
    assert "jac" not in spy.calls[0][2]
    ref = optimize.root(lambda x: x - 0.5 * np.cos(x), [1.0, 0.0], method="broyden1")
    np.testing.assert_allclose(sol.x, ref.x, rtol=1e-10)
    np.testing.assert_allclose(sol.x - 0.5 * np.cos(sol.x), 0.0, atol=1e-5)


# ---- ODEs ---------------------------------------------------------------------------------------


def robertson(t, y):
    return tg.stack(
        [
            -0.04 * y[0] + 1e4 * y[1] * y[2],
            0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] ** 2,
            3e7 * y[1] ** 2,
        ]
    )


def robertson_np(t, y):
    return np.array(
        [
            -0.04 * y[0] + 1e4 * y[1] * y[2],
            0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] ** 2,
            3e7 * y[1] ** 2,
        ]
    )


@pytest.mark.parametrize("jit", JIT)
def test_ode_jacobian_robertson_matches_finite_differences(jit):
    jac = tgs.ode_jacobian(robertson, jit=jit)
    for y in (np.array([1.0, 0.0, 0.0]), np.array([0.9, 3e-5, 0.1]), np.array([0.5, 1e-5, 0.5])):
        j = jac(0.3, y)
        assert j.shape == (3, 3) and j.dtype == np.float64
        fd = central_differences(lambda z: robertson_np(0.3, z), y, 1e-7)
        np.testing.assert_allclose(j, fd, rtol=1e-6, atol=1e-6)
        exact = [
            [-0.04, 1e4 * y[2], 1e4 * y[1]],
            [0.04, -1e4 * y[2] - 6e7 * y[1], -1e4 * y[1]],
            [0.0, 6e7 * y[1], 0.0],
        ]
        np.testing.assert_allclose(j, exact, rtol=1e-14, atol=1e-12)


@pytest.mark.parametrize("jit", JIT)
@pytest.mark.parametrize("method", ["BDF", "Radau", "LSODA"])
def test_solve_ivp_robertson_with_tapegrad_jacobian(method, jit):
    y0 = [1.0, 0.0, 0.0]
    opts = {"rtol": 1e-6, "atol": [1e-8, 1e-12, 1e-8]}
    sol = solve_ivp(
        tgs.ode_fun(robertson, jit=jit),
        (0.0, 40.0),
        y0,
        method=method,
        jac=tgs.ode_jacobian(robertson, jit=jit),
        **opts,
    )
    ref = solve_ivp(robertson_np, (0.0, 40.0), y0, method=method, **opts)  # SciPy's own Jacobian
    assert sol.success and ref.success
    assert sol.njev > 0
    np.testing.assert_allclose(sol.y[:, -1], ref.y[:, -1], rtol=1e-4, atol=1e-10)
    np.testing.assert_allclose(sol.y[:, -1].sum(), 1.0, rtol=1e-5)  # mass is conserved
    # the known value at t = 40 (Hairer & Wanner): y1 = 0.7158
    assert sol.y[0, -1] == pytest.approx(0.7158, abs=2e-4)


def test_ode_time_dependent_rhs_under_jit():
    f = lambda t, y: -y * t
    fun, jac = tgs.ode_fun(f, jit=True), tgs.ode_jacobian(f, jit=True)
    np.testing.assert_allclose(fun(2.0, np.array([1.0, 3.0])), [-2.0, -6.0])
    np.testing.assert_allclose(fun(0.5, np.array([1.0, 3.0])), [-0.5, -1.5])  # t is traced
    np.testing.assert_allclose(jac(3.0, np.array([1.0, 3.0])), -3.0 * np.eye(2))


# ---- packaging ----------------------------------------------------------------------------------


def test_import_without_scipy_names_the_extra(monkeypatch):
    for name in [m for m in sys.modules if m == "scipy" or m.startswith("scipy.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "scipy", None)  # import scipy now fails
    monkeypatch.delitem(sys.modules, "tapegrad.scipy")
    with pytest.raises(ImportError, match=r"pip install tapegrad\[scipy\]"):
        importlib.import_module("tapegrad.scipy")


# ---- the benchmark suite's workloads (run once each, in this process; no timing) -----------------


@pytest.mark.parametrize("lib", ["tapegrad", "tapegrad (jit)", "numpy"])
def test_bench_scipy_suite_workloads_solve_the_problems(lib, monkeypatch):
    from tapegrad._bench import scipy_suite, suites

    # Rosenbrock-10 instead of -100: the wiring is what is tested (OpenBLAS's threads make
    # L-BFGS-B slow on a loaded machine)
    monkeypatch.setattr(scipy_suite, "N_ROSEN", 10)
    monkeypatch.setattr(scipy_suite.ScipyBase, "X_PROBE", np.linspace(-0.5, 1.5, 10))
    suite = suites.get("scipy", quick=True)
    m = scipy_suite.make(lib)
    results = {}
    for case in suite.cases:
        w = case.build(m)
        w()
        c = w.counts()
        assert c["nfev"] > 0
        assert c["err"] < 1e-4, (case.name, c)
        assert w.per_call() is not None
        results[case.name] = {"median": 1.0, "per_call": 1e-5, "counts": c}
    table = scipy_suite.extra_table(suite, [lib], {"results": {lib: results}, "errors": {}})
    assert "/call" in table and "Robertson" in table


def test_least_squares_calls_residuals_only_as_scipy_asks():
    calls = []

    def residuals(p):
        calls.append(1)
        return p * p - 4.0

    res = tgs.least_squares(residuals, [1.0, 3.0])
    np.testing.assert_allclose(res.x, [2.0, 2.0], rtol=1e-8)
    # SciPy's evaluations plus one traced call per Jacobian (forward mode runs fun once)
    assert len(calls) == res.nfev + res.njev


def test_least_squares_bad_mode_is_a_value_error():
    with pytest.raises(ValueError, match="mode must be"):
        tgs.least_squares(lambda p: p, [1.0], mode="sideways")


def test_ode_fun_and_jacobian_pass_solve_ivp_args():
    f = lambda t, y, k: -k * y
    sol = solve_ivp(
        tgs.ode_fun(f),
        (0.0, 1.0),
        [1.0, 2.0],
        method="Radau",
        jac=tgs.ode_jacobian(f),
        args=(3.0,),
        rtol=1e-9,
        atol=1e-12,
    )
    np.testing.assert_allclose(sol.y[:, -1], np.array([1.0, 2.0]) * np.exp(-3.0), rtol=1e-6)
    np.testing.assert_allclose(tgs.ode_jacobian(f)(0.0, np.ones(2), 3.0), -3.0 * np.eye(2))


def test_derivative_keywords_set_to_none_count_as_not_given(monkeypatch):
    spy = Spy(monkeypatch, "minimize")
    res = tgs.minimize(rosen, [-1.2, 1.0], method="Newton-CG", jac=None, hess=None, hessp=None)
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-4)
    kw = spy.calls[0][2]
    assert kw["jac"] is True and callable(kw["hessp"]) and "hess" not in kw
    lsq = Spy(monkeypatch, "least_squares")
    tgs.least_squares(lambda p: p - 1.0, [0.0], jac=None)
    assert callable(lsq.calls[0][2]["jac"])
    rt = Spy(monkeypatch, "root")
    tgs.root(lambda v: v - 1.0, [0.0], jac=None)
    assert rt.calls[0][2]["jac"] is True
