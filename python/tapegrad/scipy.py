"""SciPy with derivatives from tapegrad: ``minimize``, ``least_squares``, ``root`` and the
Jacobian (and right-hand side) of an ODE for ``solve_ivp``'s implicit methods.

Each helper takes a function written with tapegrad ops and hands SciPy what it asks for,
computed by tapegrad:

- ``minimize(fun, x0, method=None, jit=False, **kw)``: the value and the gradient in one call
  (SciPy's ``jac=True`` form); for the methods that use second derivatives, the Hessian-vector
  product ``hessp`` by forward-over-reverse (Newton-CG, trust-ncg, trust-krylov, trust-constr)
  or the dense Hessian ``hess`` (dogleg, trust-exact, which take no ``hessp``).
- ``least_squares(residuals, x0, jit=False, **kw)``: the Jacobian of the residuals, by forward
  mode when there are at least as many residuals as unknowns, else by reverse mode.
- ``root(fun, x0, jit=False, **kw)``: the value and the Jacobian in one call (``jac=True`` form)
  for the methods that use a Jacobian (``hybr``, the default, and ``lm``).
- ``ode_jacobian(f)`` and ``ode_fun(f)``: ``jac(t, y)`` and ``fun(t, y)`` for ``solve_ivp``
  (``BDF``, ``Radau`` and ``LSODA`` use ``jac``).

Conventions:

- SciPy works in float64, and so do these helpers: ``x0`` (a numpy array of any real dtype,
  float32 included, a list or a scalar) is converted to float64, ``fun`` is called with a
  float64 Tensor, and every array handed back (``res.x``, ``res.jac``, ...) is float64. To
  compute in float32, cast inside ``fun`` (``x.astype(tg.float32)``); the derivatives are then
  those of the float32 computation, returned as float64.
- numpy arrays in ``args=`` reach ``fun`` as Tensors (wrapped once, without a copy); other
  extra arguments reach it unchanged.
- ``jit=True`` runs ``fun`` and its derivatives under ``tg.jit``: recorded on the first call,
  replayed in C++ afterwards (``fun``'s Python control flow is guarded, as ``tg.jit`` says).
- A ``jac``, ``hess`` or ``hessp`` you pass yourself is used as given, and the helper then does
  not compute that derivative (pass ``jac="2-point"`` to get SciPy's finite differences);
  ``None``, SciPy's default, counts as not given.
- The results are SciPy's own objects (``OptimizeResult``), unchanged.

Needs SciPy: ``pip install tapegrad[scipy]``.
"""

from __future__ import annotations

import numpy as _np

try:
    import scipy.optimize as _optimize
except ImportError as _e:  # pragma: no cover - exercised by the test that hides SciPy
    raise ImportError(
        "tapegrad.scipy needs SciPy, which is not installed: pip install tapegrad[scipy] "
        "(or pip install scipy)"
    ) from _e

from . import _args
from ._autodiff import grad as _grad
from ._autodiff import jvp as _jvp
from ._autodiff import value_and_grad as _value_and_grad
from ._core import Tensor as _Tensor
from ._jit import jit as _tg_jit
from ._vmap import hessian as _hessian
from ._vmap import jacfwd as _jacfwd
from ._vmap import jacrev as _jacrev

__all__ = ["least_squares", "minimize", "ode_fun", "ode_jacobian", "root"]

# Which minimize methods take which derivatives (scipy.optimize.minimize's documentation).
_NO_JAC = {"nelder-mead", "powell", "cobyla", "cobyqa"}
_HESSP = {"newton-cg", "trust-ncg", "trust-krylov", "trust-constr"}
_HESS_ONLY = {"dogleg", "trust-exact"}
_ROOT_JAC = {"hybr", "lm"}


def _x64(x, what, name="x0"):
    """`x` as a float64 numpy array (SciPy's working type). Complex values are refused: a float64
    copy would drop their imaginary parts without a word."""
    a = _np.asarray(x)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{what}: {name} must be real numbers, got an array of dtype {a.dtype}")
    if name == "x0" and a.size == 0:
        # SciPy fails later on an empty start with an unrelated message (a reduction's).
        raise ValueError(f"{what}: x0 is empty (shape {a.shape}); there is nothing to solve for")
    return _np.asarray(a, dtype=_np.float64)


def _check_method(method, what):
    """SciPy takes a method name or a callable; anything else failed inside SciPy with an
    AttributeError ("'int' object has no attribute 'lower'")."""
    if method is not None and not isinstance(method, str) and not callable(method):
        raise TypeError(
            f"{what}: method must be a name (str) or a callable, got {type(method).__name__} "
            f"{method!r}"[:200]
        )


def _check_out_shape(shape, y, what):
    """`f(t, y)` of an ODE gives one derivative per state: the same number of values as `y`."""
    if int(_np.prod(shape)) != y.size:
        raise ValueError(
            f"{what}: f(t, y) must return an array of y's shape {y.shape}, got shape {tuple(shape)}"
        )


def _tensor64(x):
    """SciPy's current point as a float64 Tensor (no copy where the layout allows)."""
    return _Tensor(_np.asarray(x, dtype=_np.float64))


def _t_tensor(t):
    """The time of an ODE as a 0-d float64 Tensor: traced by tg.jit, not a static argument."""
    return _Tensor(_np.float64(t))


def _np64(t):
    return _np.asarray(t.asnumpy() if isinstance(t, _Tensor) else t, dtype=_np.float64)


def _tensor_args(args):
    """numpy arrays and number lists among the extra arguments, wrapped once as Tensors."""
    args = args if isinstance(args, tuple) else (args,)
    return tuple(
        _Tensor(a) if isinstance(a, _np.ndarray) or _args.is_number_list(a) else a for a in args
    )


def _with_kwargs(fn, kwargs, what):
    """`fn` with SciPy's ``kwargs`` dict bound (numpy arrays and number lists as Tensors)."""
    if kwargs is None or (isinstance(kwargs, dict) and not kwargs):
        return fn
    if not isinstance(kwargs, dict):
        raise TypeError(f"{what}: kwargs must be a dict, got {type(kwargs).__name__}")
    bound = dict(zip(kwargs, _tensor_args(tuple(kwargs.values()))))

    def with_kwargs(x, *args):
        return fn(x, *args, **bound)

    return with_kwargs


def _given(kw, *names):
    """Drop derivative keywords set to None (SciPy's default: "not given"); whether any is left."""
    for k in names:
        if k in kw and kw[k] is None:
            del kw[k]
    return any(k in kw for k in names)


def _maybe_jit(fn, jit):
    if not isinstance(jit, (bool, _np.bool_)):  # jit="no" would otherwise mean True
        raise TypeError(
            f"tapegrad.scipy: jit must be True or False, got {type(jit).__name__} {jit!r}"
        )
    return _tg_jit(fn) if jit else fn


def _method_name(method):
    return method.lower() if isinstance(method, str) else method


def _scalar(v, what):
    if not isinstance(v, _Tensor):
        raise TypeError(
            f"{what}: fun must return a Tensor (write it with tapegrad ops), got {type(v).__name__}"
        )
    if v.size != 1:
        raise ValueError(
            f"{what}: fun must return a scalar, got a tensor of shape {tuple(v.shape)}"
        )
    return float(v)


def _minimize_parts(fun, method, jit, kw):
    """What minimize hands SciPy: the objective (value, or value and gradient) and the keywords
    with jac/hess/hessp filled in. Also used by the scipy benchmark suite."""
    kw = dict(kw)
    m = _method_name(method)
    targs = _tensor_args(kw.pop("args", ()))
    user_jac = _given(kw, "jac")
    user_hess = _given(kw, "hess", "hessp")

    if m in _NO_JAC or user_jac:
        f_val = _maybe_jit(fun, jit)

        def f_scipy(x):
            return _scalar(f_val(_tensor64(x), *targs), "minimize")
    else:
        vg = _maybe_jit(_value_and_grad(fun), jit)

        def f_scipy(x):
            v, g = vg(_tensor64(x), *targs)
            return _scalar(v, "minimize"), _np64(g)

        kw["jac"] = True

    if not user_hess and m in _HESSP:
        g_fn = _grad(fun)

        def hvp(x, p, *a):  # forward over reverse: the tangent of the gradient along p
            return _jvp(lambda x: g_fn(x, *a), (x,), (p,))[1]

        hvp_fn = _maybe_jit(hvp, jit)

        def hessp(x, p):
            return _np64(hvp_fn(_tensor64(x), _tensor64(p), *targs))

        kw["hessp"] = hessp
    elif not user_hess and m in _HESS_ONLY:
        h_fn = _maybe_jit(_hessian(fun), jit)

        def hess(x):
            return _np64(h_fn(_tensor64(x), *targs))

        kw["hess"] = hess
    return f_scipy, kw


def minimize(fun, x0, method=None, jit=False, **kw):
    """``scipy.optimize.minimize`` with the gradient (and Hessian products) from tapegrad.

    ``fun(x, *args)`` returns a scalar Tensor, written with tapegrad ops. The gradient comes
    with the value from one ``tg.value_and_grad`` call (SciPy's ``jac=True``); Newton-CG,
    trust-ncg, trust-krylov and trust-constr also get ``hessp`` (a Hessian-vector product by
    forward over reverse mode, never the full Hessian), dogleg and trust-exact the dense
    ``hess``. Methods that use no derivatives (Nelder-Mead, Powell, COBYLA, COBYQA) get ``fun``
    only. ``args``, ``bounds``, ``constraints``, ``tol``, ``callback`` and ``options`` go to
    SciPy unchanged (numpy arrays in ``args`` reach ``fun`` as Tensors); a ``jac``, ``hess`` or
    ``hessp`` you pass is used instead of tapegrad's. Returns SciPy's ``OptimizeResult``;
    ``res.x`` is float64.

    >>> import tapegrad.scipy as tgs
    >>> rosen = lambda x: (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()
    >>> res = tgs.minimize(rosen, np.zeros(5), method="L-BFGS-B")
    >>> res.success, np.allclose(res.x, 1.0, atol=1e-4)
    (True, True)
    >>> res = tgs.minimize(rosen, [-1.0, 2.0], method="trust-ncg", jit=True)
    >>> np.round(res.x, 4), res.x.dtype
    (array([1., 1.]), dtype('float64'))
    """
    if not callable(fun):
        raise TypeError(f"minimize: fun must be callable, got {type(fun).__name__}")
    _check_method(method, "minimize")
    x0 = _x64(x0, "minimize")
    f_scipy, kw = _minimize_parts(fun, method, jit, kw)
    return _optimize.minimize(f_scipy, x0, method=method, **kw)


def _jacobian_fn(fn, n, m, mode, what):
    if mode == "auto":
        mode = "fwd" if n <= m else "rev"
    if mode not in ("fwd", "rev"):
        raise ValueError(f"{what}: mode must be 'auto', 'fwd' or 'rev', got {mode!r}")
    return (_jacfwd if mode == "fwd" else _jacrev)(fn)


def _vector(v, what):
    if not isinstance(v, _Tensor):
        raise TypeError(
            f"{what}: fun must return a Tensor (write it with tapegrad ops), got {type(v).__name__}"
        )
    return v


def _least_squares_parts(residuals, x0, jit, mode, kw):
    """What least_squares hands SciPy: the residual function and the keywords with jac filled in."""
    kw = dict(kw)
    targs = _tensor_args(kw.pop("args", ()))
    # SciPy's `kwargs` go to the residuals and their Jacobian alike (SciPy would pass them to our
    # wrappers, which take none): bound here, numpy arrays among them wrapped once as Tensors.
    residuals = _with_kwargs(residuals, kw.pop("kwargs", None), "least_squares")
    r_fn = _maybe_jit(residuals, jit)
    n = x0.size
    if mode not in ("auto", "fwd", "rev"):
        raise ValueError(f"least_squares: mode must be 'auto', 'fwd' or 'rev', got {mode!r}")
    sizes = []  # the number of residuals, known from SciPy's first call (it evaluates x0 first)

    def r_scipy(x):
        r = _np64(_vector(r_fn(_tensor64(x), *targs), "least_squares")).reshape(-1)
        if not sizes:
            sizes.append(r.size)
        return r

    if not _given(kw, "jac"):
        j_fns = {}

        def jac(x):
            if not sizes:
                r_scipy(x)
            m = sizes[0]
            if not j_fns:
                j_fns["j"] = _maybe_jit(_jacobian_fn(residuals, n, m, mode, "least_squares"), jit)
            return _np64(j_fns["j"](_tensor64(x), *targs)).reshape(m, n)

        kw["jac"] = jac
    return r_scipy, kw


def least_squares(residuals, x0, jit=False, mode="auto", **kw):
    """``scipy.optimize.least_squares`` with the Jacobian of the residuals from tapegrad.

    ``residuals(x, *args)`` returns a Tensor of residuals (flattened to 1-D for SciPy). The
    Jacobian is ``tg.jacfwd`` when there are at least as many residuals as unknowns (one batched
    forward sweep over the columns) and ``tg.jacrev`` otherwise; ``mode="fwd"`` or ``"rev"``
    chooses. Every other keyword (``bounds``, ``method``, ``loss``, ``args``, ...) goes to SciPy;
    a ``jac`` you pass is used instead. Returns SciPy's ``OptimizeResult`` (float64 ``x``,
    ``fun``, ``jac``).

    >>> import tapegrad.scipy as tgs
    >>> t = np.linspace(0.0, 1.0, 20)
    >>> y = 2.0 * np.exp(-1.5 * t)
    >>> res = tgs.least_squares(lambda p, t, y: p[0] * tg.exp(-p[1] * t) - y, [1.0, 1.0], args=(t, y))
    >>> np.round(res.x, 6)
    array([2. , 1.5])
    """
    if not callable(residuals):
        raise TypeError(
            f"least_squares: residuals must be callable, got {type(residuals).__name__}"
        )
    _check_method(kw.get("method"), "least_squares")
    x0 = _x64(x0, "least_squares")
    r_scipy, kw = _least_squares_parts(residuals, x0, jit, mode, kw)
    return _optimize.least_squares(r_scipy, x0, **kw)


def root(fun, x0, jit=False, mode="auto", **kw):
    """``scipy.optimize.root`` with the Jacobian from tapegrad.

    ``fun(x, *args)`` returns a Tensor of the shape of ``x``. For the methods that use a
    Jacobian (``hybr``, the default, and ``lm``) the value and the Jacobian come from one
    ``tg.jacfwd`` call (SciPy's ``jac=True`` form; ``mode="rev"`` uses ``tg.jacrev``); the
    other methods get ``fun`` only. A ``jac`` you pass is used instead. Returns SciPy's
    ``OptimizeResult``.

    >>> import tapegrad.scipy as tgs
    >>> f = lambda v: tg.stack([v[0] ** 2 + v[1] ** 2 - 4.0, v[0] - v[1]])
    >>> sol = tgs.root(f, [1.0, 0.5])
    >>> sol.success, np.round(sol.x, 6)
    (True, array([1.414214, 1.414214]))
    """
    if not callable(fun):
        raise TypeError(f"root: fun must be callable, got {type(fun).__name__}")
    _check_method(kw.get("method"), "root")
    x0 = _x64(x0, "root")
    m = _method_name(kw.get("method", "hybr"))
    targs = _tensor_args(kw.pop("args", ()))
    if _given(kw, "jac") or m not in _ROOT_JAC:
        f_fn = _maybe_jit(fun, jit)

        def f_scipy(x):
            return _np64(_vector(f_fn(_tensor64(x), *targs), "root")).reshape(-1)

        return _optimize.root(f_scipy, x0, **kw)

    def with_value(x, *a):
        y = _vector(fun(x, *a), "root")
        return y, y

    if mode not in ("auto", "fwd", "rev"):
        raise ValueError(f"root: mode must be 'auto', 'fwd' or 'rev', got {mode!r}")
    n = x0.size
    # A square system: forward mode unless asked otherwise. The value rides along as aux.
    j_fn = _maybe_jit((_jacrev if mode == "rev" else _jacfwd)(with_value, has_aux=True), jit)

    def f_and_jac(x):
        j, y = j_fn(_tensor64(x), *targs)
        y = _np64(y).reshape(-1)
        return y, _np64(j).reshape(y.size, n)

    kw["jac"] = True
    return _optimize.root(f_and_jac, x0, **kw)


def ode_jacobian(f, jit=False, mode="fwd"):
    """``jac(t, y)`` for ``scipy.integrate.solve_ivp``: the Jacobian ``df/dy`` of ``f(t, y)``,
    a float64 numpy array of shape ``(n, n)``, by ``tg.jacfwd`` (``mode="rev"``: ``tg.jacrev``).

    ``f(t, y)`` is written with tapegrad ops and returns a Tensor of ``y``'s shape; ``y`` reaches
    it as a float64 Tensor, ``t`` as a Python float (with ``jit=True``: as a 0-d float64 Tensor,
    so that one recording serves every ``t``). Pass it as ``jac=`` to the implicit methods
    (``BDF``, ``Radau``, ``LSODA``), together with ``ode_fun(f)``.

    >>> import tapegrad.scipy as tgs
    >>> f = lambda t, y: tg.stack([-2.0 * y[0] + y[1], y[0] * y[1]])
    >>> tgs.ode_jacobian(f)(0.0, np.array([1.0, 3.0]))
    array([[-2.,  1.],
           [ 3.,  1.]])
    """
    if not callable(f):
        raise TypeError(f"ode_jacobian: f must be callable, got {type(f).__name__}")
    if mode not in ("fwd", "rev"):
        raise ValueError(f"ode_jacobian: mode must be 'fwd' or 'rev', got {mode!r}")
    j_fn = _maybe_jit((_jacfwd if mode == "fwd" else _jacrev)(f, grad_position=1), jit)
    as_t = _t_tensor if jit else float

    def jac(t, y, *args):
        y = _x64(y, "ode_jacobian", "y")
        n = y.size
        j = _np64(j_fn(as_t(t), _tensor64(y), *args))
        _check_out_shape(j.shape[: j.ndim - y.ndim], y, "ode_jacobian")  # out.shape + y.shape
        return j.reshape(n, n)

    return jac


def ode_fun(f, jit=False):
    """``fun(t, y)`` for ``scipy.integrate.solve_ivp`` from ``f(t, y)`` written with tapegrad
    ops: ``y`` reaches ``f`` as a float64 Tensor, the result goes back as a float64 numpy array.
    ``jit=True`` records ``f`` once and replays it (``t`` then reaches ``f`` as a 0-d Tensor).

    >>> import tapegrad.scipy as tgs
    >>> from scipy.integrate import solve_ivp
    >>> f = lambda t, y: -0.5 * y
    >>> sol = solve_ivp(tgs.ode_fun(f), (0.0, 2.0), [1.0], method="BDF", jac=tgs.ode_jacobian(f),
    ...                 rtol=1e-8, atol=1e-10)
    >>> round(float(sol.y[0, -1]), 6), round(float(np.exp(-1.0)), 6)
    (0.367879, 0.367879)
    """
    if not callable(f):
        raise TypeError(f"ode_fun: f must be callable, got {type(f).__name__}")
    f_fn = _maybe_jit(f, jit)
    as_t = _t_tensor if jit else float

    def fun(t, y, *args):
        y = _x64(y, "ode_fun", "y")
        out = _np64(_vector(f_fn(as_t(t), _tensor64(y), *args), "ode_fun"))
        _check_out_shape(out.shape, y, "ode_fun")
        return out.reshape(y.shape)

    return fun
