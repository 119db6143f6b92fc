"""Helpers shared by the test files: `import helpers` / `from helpers import close, t64`.

pytest puts tests/ on sys.path (the default "prepend" import mode, tests/ has no __init__.py), so
test files import this module by its bare name, as they import fuzz_cases and prim_cases.
A file that wants other defaults binds them once, e.g. `close = partial(helpers.close, atol=1e-9)`.
"""

from __future__ import annotations

import numpy as np

import tapegrad as tg

# ---- making values -------------------------------------------------------------------------------


def make(shape, dtype="float64", *, rng=None, seed=0, kind="normal", ints=(-9, 10)):
    """A numpy array of `shape` and `dtype` drawn from `rng` (None: a fresh generator of `seed`):
    Bool fair coins, integers uniform in [ints[0], ints[1]), floats standard normal, or with
    kind="prod" magnitudes in [0.6, 1.4) with random signs (products neither overflow nor vanish).
    Always an array, a 0-d one for shape () (never a numpy scalar)."""
    rng = np.random.default_rng(seed) if rng is None else rng
    dt = np.dtype(dtype)
    if dt == np.bool_:
        x = rng.random(shape) > 0.5
    elif dt.kind in "iu":
        x = rng.integers(ints[0], ints[1], size=shape)
    elif kind == "prod":
        x = rng.uniform(0.6, 1.4, size=shape) * rng.choice([-1, 1], size=shape)
    else:
        x = rng.standard_normal(shape)
    return np.asarray(x).astype(dt)


def f64(shape, seed=0, *, kind="normal", rng=None):
    """A float64 Tensor of `shape` from make()."""
    return tg.tensor(make(shape, "float64", rng=rng, seed=seed, kind=kind))


def t64(v):
    """A float64 Tensor of the values `v` (a scalar, nested lists, an array)."""
    return tg.tensor(np.asarray(v, dtype=np.float64))


def arr(t):
    """A numpy array of a Tensor's value, or of anything else np.asarray takes."""
    return np.asarray(t.asnumpy() if isinstance(t, tg.Tensor) else t)


def setitem(y, idx, v):
    """`y` with y[idx] = v, written into a copy (a functional update)."""
    y = y.copy()
    y[idx] = v
    return y


def as_list(out):
    """The outputs of a function as a list: a tuple or list as it is, anything else as one item."""
    return list(out) if isinstance(out, (tuple, list)) else [out]


def rosen(x):
    """The Rosenbrock function of a 1-d x (Tensor or array)."""
    return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()


# ---- comparing -----------------------------------------------------------------------------------


def close(a, b, **kw):
    """np.testing.assert_allclose of two values (Tensors, arrays, scalars)."""
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), **kw)


def assert_same(got, want, rtol=None, atol=None, *, exact=False):
    """`got` (a Tensor) equals `want` (numpy): dtype, shape and values. Integers and Bools exactly;
    floats within rtol/atol (default 2e-5 for float32, 1e-11 otherwise; NaN where numpy has NaN), or
    exactly with exact=True."""
    want = np.asarray(want)
    assert isinstance(got, tg.Tensor), type(got)
    g = np.asarray(got)
    assert g.dtype == want.dtype, f"dtype {g.dtype} != numpy {want.dtype}"
    assert g.shape == want.shape, f"shape {g.shape} != numpy {want.shape}"
    if exact or want.dtype.kind in "biu":
        np.testing.assert_array_equal(g, want)
    else:
        if rtol is None:
            rtol = 2e-5 if want.dtype == np.float32 else 1e-11
        if atol is None:
            atol = 2e-5 if want.dtype == np.float32 else 1e-11
        np.testing.assert_allclose(g, want, rtol=rtol, atol=atol, equal_nan=True)
