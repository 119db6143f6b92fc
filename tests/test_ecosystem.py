"""Other libraries' code running on Tensors through the Python Array API (issue 17, item 4):
SciPy with ``SCIPY_ARRAY_API=1`` and scikit-learn with ``array_api_dispatch=True``.

SciPy reads ``SCIPY_ARRAY_API`` once, when it is first imported, and this test process may have
imported it already: each check runs in a fresh interpreter with the variable set, and hands back
its numbers as JSON; the references (the same functions on numpy arrays) are computed here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import tapegrad as tg

pytest.importorskip("scipy")
pytest.importorskip("sklearn")
pytest.importorskip("array_api_compat")

from scipy import special, stats


def run_fresh(code):
    """Runs `code` in a new interpreter with SCIPY_ARRAY_API=1; returns what it printed as JSON."""
    env = dict(os.environ, SCIPY_ARRAY_API="1")
    root = str(Path(tg.__file__).resolve().parent.parent)  # this tapegrad, in-place or installed
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")])
    prelude = "import json, numpy as np, tapegrad as tg\nfrom tapegrad.testing import check_grads\n"
    p = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr[-4000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


X = np.random.default_rng(0).standard_normal((3, 4))


def test_scipy_logsumexp_on_tensors_is_a_differentiable_tensor():
    got = run_fresh(
        f"""
        from scipy.special import logsumexp
        x = tg.tensor(np.array({X.tolist()}))
        out = {{}}
        for axis in (None, 0, 1):
            r = logsumexp(x, axis=axis)
            assert isinstance(r, tg.Tensor), type(r)
            out[str(axis)] = np.asarray(r).tolist()
            check_grads(lambda x: logsumexp(x, axis=axis), (x,), order=2)
        out["grad"] = tg.grad(lambda x: logsumexp(x))(x).tolist()
        w = tg.tensor(np.array([[1.0, 2.0, 0.5, 1.0]] * 3))
        out["b"] = np.asarray(logsumexp(x, axis=1, b=w)).tolist()
        check_grads(lambda x, w: logsumexp(x, axis=1, b=w), (x, w), order=2)
        print(json.dumps(out))
        """
    )
    for axis in (None, 0, 1):
        np.testing.assert_allclose(got[str(axis)], special.logsumexp(X, axis=axis), rtol=1e-12)
    # the gradient of logsumexp is the softmax
    np.testing.assert_allclose(got["grad"], special.softmax(X), rtol=1e-12)
    w = np.array([[1.0, 2.0, 0.5, 1.0]] * 3)
    np.testing.assert_allclose(got["b"], special.logsumexp(X, axis=1, b=w), rtol=1e-12)


def test_scipy_stats_on_tensors_are_differentiable_tensors():
    got = run_fresh(
        f"""
        from scipy import stats
        x = tg.tensor(np.array({X.tolist()}))
        fns = {{
            "zscore": lambda a: stats.zscore(a, axis=0),
            "skew": lambda a: stats.skew(a, axis=1),
            "moment": lambda a: stats.moment(a, order=3, axis=0),
            "variation": lambda a: stats.variation(a, axis=1),
        }}
        out = {{}}
        for name, f in fns.items():
            r = f(x)
            assert isinstance(r, tg.Tensor), (name, type(r))
            out[name] = np.asarray(r).tolist()
            check_grads(f, (x,), order=2)
        print(json.dumps(out))
        """
    )
    np.testing.assert_allclose(got["zscore"], stats.zscore(X, axis=0), rtol=1e-12)
    np.testing.assert_allclose(got["skew"], stats.skew(X, axis=1), rtol=1e-12)
    np.testing.assert_allclose(got["moment"], stats.moment(X, order=3, axis=0), rtol=1e-12)
    np.testing.assert_allclose(got["variation"], stats.variation(X, axis=1), rtol=1e-12)


_SKLEARN = """
    import sklearn
    from sklearn.linear_model import Ridge
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.naive_bayes import GaussianNB
    from sklearn.preprocessing import StandardScaler
    X = np.array({X})
    y = np.array({y})
    sklearn.set_config(array_api_dispatch=True)
    est = {make}
    m = est.fit(tg.tensor(X), tg.tensor(y)) if {supervised} else est.fit(tg.tensor(X))
    out = {{}}
    for attr in {attrs}:
        v = getattr(m, attr)
        assert isinstance(v, tg.Tensor), (attr, type(v))
        out[attr] = np.asarray(v).tolist()
    for method in {methods}:
        v = getattr(m, method)(tg.tensor(X))
        assert isinstance(v, tg.Tensor), (method, type(v))
        out[method] = np.asarray(v).tolist()
    print(json.dumps(out))
"""

_rng = np.random.default_rng(1)
XS = _rng.standard_normal((40, 3))
YS = XS @ [1.0, -2.0, 0.5] + 0.1 * _rng.standard_normal(40)
YC = (YS > 0).astype(np.int64)

# Ridge and LinearDiscriminantAnalysis call xp.linalg.svd under array_api_dispatch (both solvers
# scikit-learn allows there).
ESTIMATORS = {
    "Ridge": (
        "Ridge(alpha=1.0, solver='svd')",
        YS,
        ["coef_", "intercept_"],
        ["predict"],
        None,
    ),
    "LinearDiscriminantAnalysis": (
        "LinearDiscriminantAnalysis()",
        YC,
        ["coef_", "intercept_", "means_"],
        ["predict_proba", "decision_function"],
        None,
    ),
    "GaussianNB": ("GaussianNB()", YC, ["theta_", "var_", "class_prior_"], ["predict_proba"], None),
    "StandardScaler": ("StandardScaler()", None, ["mean_", "scale_"], ["transform"], None),
}


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=e[4]) if e[4] else n for n, e in ESTIMATORS.items()],
)
def test_sklearn_estimator_fitted_on_tensors_gives_numpys_fit(name):
    import sklearn
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis  # noqa: F401
    from sklearn.linear_model import Ridge  # noqa: F401
    from sklearn.naive_bayes import GaussianNB  # noqa: F401
    from sklearn.preprocessing import StandardScaler  # noqa: F401

    make, y, attrs, methods, _ = ESTIMATORS[name]
    got = run_fresh(
        _SKLEARN.format(
            X=XS.tolist(),
            y=(y if y is not None else np.zeros(len(XS))).tolist(),
            make=make,
            supervised=y is not None,
            attrs=attrs,
            methods=methods,
        )
    )
    with sklearn.config_context(array_api_dispatch=False):
        est = eval(make)  # noqa: S307  (one of the constructors above)
        ref = est.fit(XS, y) if y is not None else est.fit(XS)
    for attr in attrs:
        np.testing.assert_allclose(got[attr], getattr(ref, attr), rtol=1e-9, atol=1e-12)
    for method in methods:
        np.testing.assert_allclose(got[method], getattr(ref, method)(XS), rtol=1e-9, atol=1e-12)
