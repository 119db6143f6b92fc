"""The case table of tests/test_prims.py: for every prim of `tapegrad._core._prims()`, how it is
reached from Python and checked -- its value against numpy, its derivative rules (check_grads, first
and second order) and its batching rule (vmap against stacking per-example results).

A `Case` is one Python function that runs the prim, the arguments it takes (per-example shapes and
how their values are drawn) and what to check with it:
  ref      numpy reference of `fn` (a value case); `check` instead for values numpy cannot
           reproduce (random draws, a tg.jit side effect)
  diff     positions of the arguments check_grads differentiates (a derivative case); the other
           arguments stay fixed. `modes` says which rules ("rev" the VJP, "fwd" the JVP).
  vmap     whether tg.vmap(fn) over a batch of arguments is checked (a batching case)
  floats   the case runs on float32 and float64 (its float arguments in that dtype); False: the
           specs fix the dtypes (integer and Bool prims)

Arguments are drawn so that no derivative check sits on a kink at the finite-difference step of
float32 (eps 1e-2): `Grid` values keep a distance from each other and from clip bounds, `Distinct`
values have no ties (max, sort), `Away` values keep away from 0 (abs, relu, reciprocal).

A prim that users reach only indirectly (the VJP of getitem, of repeat, of diagonal) is run through
the public function whose derivative uses it, e.g. `transpose_of(...)`: the VJP of that function as
a function of the cotangent.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import tapegrad as tg
from helpers import setitem

# ==== argument specs: per-example shape + how values are drawn (float64, cast by the runner) ======


class Spec:
    shape: tuple = ()
    kind = "f"  # "f" float (cast to the case dtype), "i" int64, "b" Bool

    def draw(self, rng, shape):
        raise NotImplementedError

    def of(self, *shape):
        """The same values with another per-example shape."""
        s = copy.copy(self)
        s.shape = tuple(shape)
        return s


class F(Spec):
    """Uniform floats in [lo, hi)."""

    def __init__(self, shape=(), lo=-2.0, hi=2.0):
        self.shape, self.lo, self.hi = tuple(shape), lo, hi

    def draw(self, rng, shape):
        return rng.uniform(self.lo, self.hi, shape)


class Away(Spec):
    """Floats with lo <= |x| < hi and a random sign: away from 0 (abs, relu, 1/x)."""

    def __init__(self, shape=(), lo=0.3, hi=2.0):
        self.shape, self.lo, self.hi = tuple(shape), lo, hi

    def draw(self, rng, shape):
        return rng.uniform(self.lo, self.hi, shape) * rng.choice([-1.0, 1.0], shape)


class Grid(Spec):
    """Values offset + k * step in [lo, hi): two Grids with offsets apart never meet (kinks)."""

    def __init__(self, shape=(), lo=-2.0, hi=2.0, step=0.5, offset=0.0):
        self.shape = tuple(shape)
        k0, k1 = math.ceil((lo - offset) / step), math.floor((hi - offset) / step - 1e-9)
        self.points = offset + step * np.arange(k0, k1 + 1)

    def draw(self, rng, shape):
        return rng.choice(self.points, shape)


class Distinct(Spec):
    """Values with distinct magnitudes 0.2 + 0.3 k and random signs: no ties, in value or |value|."""

    def __init__(self, shape=()):
        self.shape = tuple(shape)

    def draw(self, rng, shape):
        n = int(np.prod(shape))
        mags = 0.2 + 0.3 * rng.permutation(n)
        return (mags * rng.choice([-1.0, 1.0], n)).reshape(shape) / max(1.0, n / 8)


class Special(Spec):
    """Floats with NaN, +-inf, 0 and ordinary values mixed in (isnan, isfinite)."""

    def __init__(self, shape=()):
        self.shape = tuple(shape)

    def draw(self, rng, shape):
        return rng.choice([np.nan, np.inf, -np.inf, 0.0, -1.5, 2.0, 0.25], shape)


class SignedSpecial(Special):
    """Special values with both signs of zero and of NaN (signbit reads the sign bit of each)."""

    def draw(self, rng, shape):
        return rng.choice([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, -1.5, 2.0], shape)


class SPD(Spec):
    """Symmetric positive definite n x n matrices (solve, inv, det, cholesky)."""

    def __init__(self, n):
        self.shape = (n, n)

    def draw(self, rng, shape):
        n = self.shape[0]
        a = rng.standard_normal(shape)
        return a @ np.swapaxes(a, -1, -2) / n + np.eye(n)


class General(Spec):
    """Well-conditioned n x n matrices, not symmetric, the determinant's sign random: 2 I plus
    small noise, the first row negated half the time."""

    def __init__(self, n):
        self.shape = (n, n)

    def draw(self, rng, shape):
        n = self.shape[0]
        a = 0.3 * rng.standard_normal(shape) + 2 * np.eye(n)
        a[..., 0, :] *= rng.choice([-1.0, 1.0], shape[:-2] + (1,))
        return a


class Spectral(Spec):
    """m x n matrices U diag(s) V^T with random orthonormal U, V and singular values spread apart
    (3 + 1.2 k, times 1 or 1.5): well conditioned, no repeated singular value (svd, qr, pinv)."""

    def __init__(self, m, n):
        self.shape = (m, n)

    def draw(self, rng, shape):
        m, n = self.shape
        k = min(m, n)
        lead = shape[:-2]
        u = np.linalg.qr(rng.standard_normal(lead + (m, k)))[0]
        v = np.linalg.qr(rng.standard_normal(lead + (n, k)))[0]
        s = (3.0 + 1.2 * np.arange(k)[::-1]) * rng.choice([1.0, 1.5], lead + (1,))
        return (u * s[..., None, :]) @ np.swapaxes(v, -1, -2)


class SymSpread(Spec):
    """n x n matrices whose lower and upper triangles each define a symmetric matrix with
    eigenvalues at least 0.9 apart (eigh reads one triangle): Q diag(w) Q^T plus a small
    antisymmetric part."""

    def __init__(self, n):
        self.shape = (n, n)

    def draw(self, rng, shape):
        n = self.shape[0]
        lead = shape[:-2]
        q = np.linalg.qr(rng.standard_normal(lead + (n, n)))[0]
        w = 1.5 * np.arange(n) - 1.0 + rng.uniform(-0.2, 0.2, lead + (n,))
        a = (q * w[..., None, :]) @ np.swapaxes(q, -1, -2)
        noise = 0.05 * rng.standard_normal(lead + (n, n))
        return a + noise - np.swapaxes(noise, -1, -2)


class EigSpread(Spec):
    """n x n real matrices S D S^-1 with S near the identity (well conditioned) and D block
    diagonal: eigenvalues -1 +- 0.9i (a rotation block), then 0.2, 1.4, ...: at least 0.9 apart,
    one conjugate pair (eig's output is complex)."""

    def __init__(self, n):
        self.shape = (n, n)

    def draw(self, rng, shape):
        n = self.shape[0]
        lead = shape[:-2]
        s = np.eye(n) + 0.2 * rng.standard_normal(lead + (n, n))
        d = np.zeros(lead + (n, n))
        d[..., range(n), range(n)] = 1.2 * np.arange(n) - 1.0
        d[..., 1, 1] = -1.0
        d[..., 0, 1], d[..., 1, 0] = 0.9, -0.9
        return s @ d @ np.linalg.inv(s)


class I(Spec):
    """int64 values in [lo, hi), with `nonzero` no zeros (divisors)."""

    kind = "i"

    def __init__(self, shape=(), lo=-9, hi=10, nonzero=False):
        self.shape, self.lo, self.hi, self.nonzero = tuple(shape), lo, hi, nonzero

    def draw(self, rng, shape):
        x = rng.integers(self.lo, self.hi, shape)
        if self.nonzero:
            x = np.where(x == 0, 1, x)
        return x.astype(np.int64)


class B(Spec):
    kind = "b"

    def __init__(self, shape=()):
        self.shape = tuple(shape)

    def draw(self, rng, shape):
        return rng.random(shape) > 0.5


# ==== cases ========================================================================================


@dataclass
class Case:
    prim: str
    fn: Callable
    specs: list
    ref: Callable | None = None  # numpy reference (arrays in, array or tuple of arrays out)
    check: Callable | None = (
        None  # check(dtype) asserts values numpy cannot give (dtype None: fixed)
    )
    diff: tuple = ()  # argument positions check_grads differentiates
    modes: tuple = ("fwd", "rev")
    vmap: bool = True
    floats: bool = True
    tag: str = ""

    @property
    def id(self):
        return f"{self.prim}-{self.tag}" if self.tag else self.prim


CASES: list[Case] = []


def case(prim, fn, specs, **kw):
    CASES.append(Case(prim, fn, list(specs), **kw))


# Prims without a batching rule whose vmap case cannot exist, with the reason (tests/test_prims.py
# accepts the exemption only for a prim whose `batch` is False).
NO_VMAP = {
    "write_basic": "runs only while tg.jit records a write into a tensor the trace does not own "
    "(a side effect replayed later); vmap never records it",
}


def transpose_of(f, shape):
    """u -> the VJP of f at zeros(shape) (in u's dtype) applied to u: runs the prims of f's reverse
    rule (f linear, so the point does not matter)."""

    def t(u):
        return tg.vjp(f, tg.zeros(shape, u.dtype))[1](u)[0]

    return t


def tracked(f):
    """f run under a reverse level (its inputs tracked): ops that write in place into untracked
    tensors (setitem) then take their functional prim, as they do under grad, jit and vmap."""

    def g(*args):
        return tg.vjp(f, *args)[0]

    return g


def np_setitem(y, idx, v):
    y = np.array(y, copy=True)
    y[idx] = v
    return y


_erf = np.vectorize(math.erf, otypes=[np.float64])


def _same_dtype(f):
    """A float64 reference computed from the inputs, cast back to the first input's dtype."""

    def g(x, *rest):
        return np.asarray(
            f(x.astype(np.float64), *[np.asarray(r, np.float64) for r in rest])
        ).astype(x.dtype)

    return g


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _gelu(x):
    return 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0)))


# ---- elementwise unary: (prim, tapegrad function, numpy reference, spec of the argument) ----------
UNARY = [
    ("neg", tg.neg, np.negative, F()),
    ("abs", tg.abs, np.abs, Away()),
    ("exp", tg.exp, np.exp, F()),
    ("exp2", tg.exp2, np.exp2, F()),
    ("log", tg.log, np.log, F(lo=0.3, hi=3.0)),
    ("log2", tg.log2, np.log2, F(lo=0.3, hi=3.0)),
    ("log1p", tg.log1p, np.log1p, F(lo=-0.7, hi=2.0)),
    ("expm1", tg.expm1, np.expm1, F()),
    ("sqrt", tg.sqrt, np.sqrt, F(lo=0.3, hi=3.0)),
    ("rsqrt", tg.rsqrt, lambda x: 1 / np.sqrt(x), F(lo=0.3, hi=3.0)),
    ("square", tg.square, np.square, F()),
    ("reciprocal", tg.reciprocal, np.reciprocal, Away(lo=0.4)),
    ("sin", tg.sin, np.sin, F(lo=-3.0, hi=3.0)),
    ("cos", tg.cos, np.cos, F(lo=-3.0, hi=3.0)),
    ("tan", tg.tan, np.tan, F(lo=-1.2, hi=1.2)),
    ("arcsin", tg.arcsin, np.arcsin, F(lo=-0.8, hi=0.8)),
    ("arccos", tg.arccos, np.arccos, F(lo=-0.8, hi=0.8)),
    ("arctan", tg.arctan, np.arctan, F(lo=-3.0, hi=3.0)),
    ("sinh", tg.sinh, np.sinh, F()),
    ("cosh", tg.cosh, np.cosh, F()),
    ("tanh", tg.tanh, np.tanh, F()),
    ("sigmoid", tg.sigmoid, _sigmoid, F(lo=-3.0, hi=3.0)),
    ("relu", tg.relu, lambda x: np.maximum(x, 0).astype(x.dtype), Away()),
    ("softplus", tg.softplus, lambda x: np.logaddexp(x.dtype.type(0), x), F(lo=-3.0, hi=3.0)),
    ("gelu", tg.gelu, _same_dtype(_gelu), F(lo=-3.0, hi=3.0)),
    ("erf", tg.erf, _same_dtype(_erf), F()),
]
for _name, _f, _ref, _spec in UNARY:
    case(_name, _f, [_spec.of(3, 4)], ref=_ref, diff=(0,), tag="3x4")
    case(_name, _f, [_spec.of()], ref=_ref, diff=(0,), tag="0d")
    if _name in ("neg", "abs", "square"):  # integers too (value and vmap)
        case(_name, _f, [I().of(3, 4)], ref=_ref, floats=False, tag="int")

# not differentiable: value and vmap only
for _name, _f, _ref, _spec in [
    ("sign", tg.sign, np.sign, Grid(step=1.0)),  # 0 included
    ("floor", tg.floor, np.floor, F(lo=-3.0, hi=3.0)),
    ("ceil", tg.ceil, np.ceil, F(lo=-3.0, hi=3.0)),
    ("round", tg.round, np.round, Grid(lo=-3.0, hi=3.0, step=0.25)),  # halves: to even, as numpy
]:
    case(_name, _f, [_spec.of(3, 4)], ref=_ref, tag="3x4")
    case(_name, _f, [_spec.of()], ref=_ref, tag="0d")
case("sign", tg.sign, [I(lo=-2, hi=3).of(3, 4)], ref=np.sign, floats=False, tag="int")
case("bitwise_invert", lambda x: ~x, [I().of(3, 4)], ref=np.invert, floats=False, tag="int64")
case("bitwise_invert", lambda x: ~x, [B().of(3, 4)], ref=np.invert, floats=False, tag="bool")
case("bitwise_invert", lambda x: ~x, [I().of()], ref=np.invert, floats=False, tag="0d")

# ---- elementwise binary: broadcast shapes and a 0-d operand --------------------------------------
BINARY_SHAPES = {"bcast": [(3, 4), (4,)], "bcast_both": [(3, 1), (1, 4)], "0d": [(), (2, 3)]}
BINARY = [
    ("add", tg.add, np.add, F(), F()),
    ("sub", tg.sub, np.subtract, F(), F()),
    ("mul", tg.mul, np.multiply, F(), F()),
    ("div", tg.div, np.divide, F(), Away(lo=0.5)),
    ("pow", tg.pow, np.power, F(lo=0.5, hi=2.0), F()),
    ("maximum", tg.maximum, np.maximum, Grid(step=0.3), Grid(step=0.3, offset=0.15)),
    ("minimum", tg.minimum, np.minimum, Grid(step=0.3), Grid(step=0.3, offset=0.15)),
    ("arctan2", tg.arctan2, np.arctan2, Away(), Away(lo=0.5)),  # y away from the branch cut
    ("hypot", tg.hypot, np.hypot, Away(), Away()),  # away from (0, 0), its kink
    ("logaddexp", tg.logaddexp, np.logaddexp, F(), F()),
]
for _name, _f, _ref, _s0, _s1 in BINARY:
    for _tag, (_a, _b) in BINARY_SHAPES.items():
        case(_name, _f, [_s0.of(*_a), _s1.of(*_b)], ref=_ref, diff=(0, 1), tag=_tag)
    if _name in ("add", "sub", "mul", "maximum", "minimum"):  # integers too (value and vmap)
        case(_name, _f, [I().of(3, 4), I().of(4)], ref=_ref, floats=False, tag="int")


# mod jumps where a / b is an integer: a = q b with q an integer plus a fraction in [0.3, 0.7], so a
# finite-difference step never crosses a jump.
def _mod_q(rng, shape):
    return rng.integers(-2, 3, shape) + rng.uniform(0.3, 0.7, shape)


class _Q(Spec):
    def draw(self, rng, shape):
        return _mod_q(rng, shape)


for _tag, (_a, _b) in BINARY_SHAPES.items():
    case(
        "mod",
        lambda q, b: tg.mod(q * b, b),
        [_Q().of(*_a), Away(lo=0.8, hi=1.5).of(*_b)],
        ref=lambda q, b: np.mod(q * b, b),
        diff=(0, 1),
        tag=_tag,
    )
    case(
        "mod",
        tg.mod,
        [I().of(*_a), I(nonzero=True).of(*_b)],
        ref=np.mod,
        floats=False,
        tag=f"int-{_tag}",
    )

# not differentiable
for _tag, (_a, _b) in BINARY_SHAPES.items():
    case("nextafter", tg.nextafter, [F().of(*_a), F().of(*_b)], ref=np.nextafter, tag=_tag)
    case(
        "floor_divide",
        tg.floor_divide,
        [F().of(*_a), Away(lo=0.5).of(*_b)],
        ref=np.floor_divide,
        tag=_tag,
    )
    case(
        "floor_divide",
        tg.floor_divide,
        [I().of(*_a), I(nonzero=True).of(*_b)],
        ref=np.floor_divide,
        floats=False,
        tag=f"int-{_tag}",
    )
    for _name, _np in [
        ("bitwise_and", np.bitwise_and),
        ("bitwise_or", np.bitwise_or),
        ("bitwise_xor", np.bitwise_xor),
    ]:
        _f = getattr(tg.numpy, _name)
        case(_name, _f, [I().of(*_a), I().of(*_b)], ref=_np, floats=False, tag=f"int-{_tag}")
        case(_name, _f, [B().of(*_a), B().of(*_b)], ref=_np, floats=False, tag=f"bool-{_tag}")

# comparisons (float inputs with ties: small integers as floats) and logical ops
for _tag, (_a, _b) in BINARY_SHAPES.items():
    for _name, _np in [
        ("equal", np.equal),
        ("not_equal", np.not_equal),
        ("less", np.less),
        ("less_equal", np.less_equal),
        ("greater", np.greater),
        ("greater_equal", np.greater_equal),
    ]:
        _f = getattr(tg, _name)
        case(_name, _f, [Grid(step=1.0).of(*_a), Grid(step=1.0).of(*_b)], ref=_np, tag=_tag)
        case(
            _name,
            _f,
            [I(lo=-2, hi=3).of(*_a), I(lo=-2, hi=3).of(*_b)],
            ref=_np,
            floats=False,
            tag=f"int-{_tag}",
        )
    for _name, _np in [("logical_and", np.logical_and), ("logical_or", np.logical_or)]:
        _f = getattr(tg, _name)
        case(_name, _f, [B().of(*_a), B().of(*_b)], ref=_np, floats=False, tag=f"bool-{_tag}")
        case(_name, _f, [Grid(step=1.0).of(*_a), Grid(step=1.0).of(*_b)], ref=_np, tag=_tag)

for _shape, _tag in [((3, 4), "3x4"), ((), "0d")]:
    case("isnan", tg.isnan, [Special().of(*_shape)], ref=np.isnan, tag=_tag)
    case("isfinite", tg.isfinite, [Special().of(*_shape)], ref=np.isfinite, tag=_tag)
    case("signbit", tg.signbit, [SignedSpecial().of(*_shape)], ref=np.signbit, tag=_tag)
    case(
        "logical_not",
        tg.logical_not,
        [B().of(*_shape)],
        ref=np.logical_not,
        floats=False,
        tag=f"bool-{_tag}",
    )
    case("logical_not", tg.logical_not, [Grid(step=1.0).of(*_shape)], ref=np.logical_not, tag=_tag)

# ---- where, clip, cast, stop_gradient ---------------------------------------------------------
case(
    "where",
    tg.where,
    [B().of(3, 4), F().of(3, 4), F().of(4)],
    ref=np.where,
    diff=(1, 2),
    tag="bcast",
)
case("where", tg.where, [B().of(), F().of(2, 3), F().of()], ref=np.where, diff=(1, 2), tag="0d")
# Bounds and values on grids a quarter step apart: no value sits on a bound.
_X, _LO, _HI = (
    Grid(step=0.5),
    Grid(lo=-1.3, hi=-0.2, offset=0.25),
    Grid(lo=0.2, hi=1.3, offset=0.25),
)
case(
    "clip",
    tg.clip,
    [_X.of(3, 4), _LO.of(4), _HI.of(3, 1)],
    ref=np.clip,
    diff=(0, 1, 2),
    tag="tensor_bounds",
)
case(
    "clip",
    lambda x: tg.clip(x, -1.25, 0.75),
    [_X.of(3, 4)],
    ref=lambda x: np.clip(x, -1.25, 0.75),
    diff=(0,),
    tag="scalar_bounds",
)
case("clip", tg.clip, [_X.of(), _LO.of(), _HI.of()], ref=np.clip, diff=(0, 1, 2), tag="0d")


def _other_float(x):
    return tg.float64 if x.dtype == tg.float32 else tg.float32


# float -> the other float dtype (values; derivatives only upwards: float64 -> float32 rounds, which
# finite differences at float64's step cannot see past)
case(
    "astype",
    lambda x: x.astype(_other_float(x)),
    [F().of(3, 4)],
    ref=lambda x: x.astype(np.float64 if x.dtype == np.float32 else np.float32),
    tag="float",
)
case(
    "astype",
    lambda x: x.astype(tg.float64) * 1.5,
    [F().of(3, 4)],
    ref=lambda x: x.astype(np.float64) * 1.5,
    diff=(0,),
    tag="up",
)
case(
    "astype",
    lambda x: x.astype(tg.float64),
    [F().of()],
    ref=lambda x: x.astype(np.float64),
    diff=(0,),
    tag="0d",
)
case(
    "astype",
    lambda i: i.astype(tg.float64),
    [I().of(5)],
    ref=lambda i: i.astype(np.float64),
    floats=False,
    tag="int",
)
case(
    "astype",
    lambda i: i.astype(tg.bool_),
    [I(lo=-2, hi=3).of(5)],
    ref=lambda i: i.astype(bool),
    floats=False,
    tag="int_to_bool",
)
case("stop_gradient", tg.stop_gradient, [F().of(3, 4)], ref=lambda x: x, tag="3x4")
case("stop_gradient", tg.stop_gradient, [F().of()], ref=lambda x: x, tag="0d")


# ---- random: numpy cannot reproduce Philox draws, so the value check is dtype, shape, range,
# reproducibility for a seed and rough moments. Under vmap a draw is made once (no batched input)
# and broadcast; the per-example loop draws again, so each call resets the seed first.
def _check_random(draw, dtype, shape, lo=None, hi=None, mean=None, std=None):
    tg.set_seed(7)
    a = draw()
    tg.set_seed(7)
    b = draw()
    x = np.asarray(a)
    assert x.dtype == dtype and x.shape == shape, (x.dtype, x.shape)
    np.testing.assert_array_equal(x, np.asarray(b))  # same seed, same draws
    if lo is not None:
        assert x.min() >= lo and x.max() < hi, (x.min(), x.max())
    if mean is not None:
        n = x.size
        assert abs(x.mean() - mean) < 5 * std / np.sqrt(n), x.mean()
        assert abs(x.std() - std) < 0.1 * std, x.std()


def _seeded(f):
    def g(x):
        tg.set_seed(3)
        return f(x)

    return g


case(
    "uniform",
    _seeded(lambda x: x + tg.uniform(-1.0, 2.0, shape=(4,), dtype=x.dtype)),
    [F().of(4)],
    check=lambda dt: _check_random(
        lambda: tg.uniform(-1.0, 2.0, shape=(4000,), dtype=dt),
        dt,
        (4000,),
        lo=-1.0,
        hi=2.0,
        mean=0.5,
        std=3 / np.sqrt(12),
    ),
)
case(
    "normal",
    _seeded(lambda x: x * tg.normal(1.0, 2.0, shape=(4,), dtype=x.dtype)),
    [F().of(4)],
    check=lambda dt: _check_random(
        lambda: tg.normal(1.0, 2.0, shape=(4000,), dtype=dt), dt, (4000,), mean=1.0, std=2.0
    ),
)
case(
    "randint",
    _seeded(lambda x: x + tg.randint(-3, 5, shape=(4,))),
    [I().of(4)],
    floats=False,
    check=lambda dt: _check_random(
        lambda: tg.randint(-3, 5, shape=(4000,)),
        np.dtype(np.int64),
        (4000,),
        lo=-3,
        hi=5,
        mean=0.5,
        std=np.sqrt((8**2 - 1) / 12),
    ),
)

# ---- reductions --------------------------------------------------------------------------------
case(
    "sum",
    lambda x: tg.sum(x, axis=1),
    [F().of(3, 4)],
    ref=lambda x: np.sum(x, axis=1),
    diff=(0,),
    tag="axis",
)
case(
    "sum",
    lambda x: tg.sum(x, axis=(0, 2), keepdims=True),
    [F().of(2, 3, 2)],
    ref=lambda x: np.sum(x, axis=(0, 2), keepdims=True),
    diff=(0,),
    tag="axes_keepdims",
)
case("sum", tg.sum, [F().of()], ref=np.sum, diff=(0,), tag="0d")
case(
    "sum",
    lambda i: tg.sum(i, axis=0),
    [I().of(3, 4)],
    ref=lambda i: np.sum(i, axis=0),
    floats=False,
    tag="int",
)
case(
    "prod",
    lambda x: tg.prod(x, axis=-1),
    [Away(lo=0.5, hi=1.5).of(3, 4)],
    ref=lambda x: np.prod(x, axis=-1),
    diff=(0,),
    tag="axis",
)
case("prod", tg.prod, [Away(lo=0.5, hi=1.5).of()], ref=np.prod, diff=(0,), tag="0d")
for _name, _f, _np in [("amax", tg.max, np.max), ("amin", tg.min, np.min)]:
    case(
        _name,
        lambda x, _f=_f: _f(x, axis=0),
        [Distinct().of(3, 4)],
        ref=lambda x, _np=_np: _np(x, axis=0),
        diff=(0,),
        tag="axis",
    )
    case(_name, _f, [Distinct().of(2, 3)], ref=_np, diff=(0,), tag="all")
    case(_name, _f, [Distinct().of()], ref=_np, diff=(0,), tag="0d")
    case(
        _name,
        lambda i, _f=_f: _f(i, axis=-1),
        [I().of(3, 4)],
        ref=lambda i, _np=_np: _np(i, axis=-1),
        floats=False,
        tag="int",
    )
for _name, _f, _np in [("argmax", tg.argmax, np.argmax), ("argmin", tg.argmin, np.argmin)]:
    case(
        _name,
        lambda x, _f=_f: _f(x, axis=1),
        [Distinct().of(3, 4)],
        ref=lambda x, _np=_np: _np(x, axis=1),
        tag="axis",
    )
    case(_name, _f, [Distinct().of(3, 4)], ref=_np, tag="flat")
    case(_name, _f, [Distinct().of()], ref=_np, tag="0d")
for _name, _f, _np in [("any", tg.any, np.any), ("all", tg.all, np.all)]:
    case(
        _name,
        lambda b, _f=_f: _f(b, axis=0),
        [B().of(3, 4)],
        ref=lambda b, _np=_np: _np(b, axis=0),
        floats=False,
        tag="bool",
    )
    case(_name, _f, [Grid(step=1.0).of(3, 4)], ref=_np, tag="float")
    case(_name, _f, [B().of()], ref=_np, floats=False, tag="0d")
case(
    "std",
    lambda x: tg.std(x, axis=1),
    [F().of(3, 4)],
    ref=lambda x: np.std(x, axis=1),
    diff=(0,),
    tag="axis",
)
case(
    "std",
    lambda x: tg.std(x, ddof=1),
    [F().of(2, 3)],
    ref=lambda x: np.std(x, ddof=1),
    diff=(0,),
    tag="ddof",
)
case(
    "softmax",
    lambda x: tg.softmax(x, axis=-1),
    [F().of(3, 4)],
    ref=lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True),
    diff=(0,),
    tag="last",
)
case(
    "softmax",
    lambda x: tg.softmax(x, axis=0),
    [F().of(3, 4)],
    ref=lambda x: np.exp(x) / np.exp(x).sum(0, keepdims=True),
    diff=(0,),
    tag="first",
)
case(
    "log_softmax",
    lambda x: tg.log_softmax(x, axis=-1),
    [F().of(3, 4)],
    ref=lambda x: x - np.log(np.exp(x).sum(-1, keepdims=True)),
    diff=(0,),
    tag="last",
)
case(
    "log_softmax",
    lambda x: tg.log_softmax(x, axis=0),
    [F().of(3, 4)],
    ref=lambda x: x - np.log(np.exp(x).sum(0, keepdims=True)),
    diff=(0,),
    tag="first",
)
case(
    "cumsum",
    lambda x: tg.cumsum(x, axis=1),
    [F().of(3, 4)],
    ref=lambda x: np.cumsum(x, axis=1),
    diff=(0,),
    tag="axis",
)
case("cumsum", tg.cumsum, [F().of(2, 3)], ref=np.cumsum, diff=(0,), tag="flat")
case(
    "cumsum",
    lambda i: tg.cumsum(i, axis=0),
    [I().of(3, 4)],
    ref=lambda i: np.cumsum(i, axis=0),
    floats=False,
    tag="int",
)
# The cumprod prim runs on values no derivative flows through (integers; untracked floats); a
# tracked float takes a differentiable composite of multiplies (reduce.cpp), so the batching case is
# integer and no derivative case exists.
case(
    "cumprod",
    lambda i: tg.cumprod(i, axis=1),
    [I(lo=-3, hi=4).of(3, 4)],
    ref=lambda i: np.cumprod(i, axis=1),
    floats=False,
    tag="int",
)
case(
    "cumprod",
    lambda x: tg.cumprod(x, axis=0),
    [F().of(3, 4)],
    ref=lambda x: np.cumprod(x, axis=0),
    vmap=False,
    tag="float",
)

# ---- linear algebra ----------------------------------------------------------------------------
for _tag, (_a, _b) in {
    "2d": [(3, 4), (4, 2)],
    "vec_mat": [(4,), (4, 3)],
    "mat_vec": [(3, 4), (4,)],
    "vec_vec": [(4,), (4,)],
    "batched": [(2, 3, 4), (4, 2)],
}.items():
    case("matmul", tg.matmul, [F().of(*_a), F().of(*_b)], ref=np.matmul, diff=(0, 1), tag=_tag)
case("matmul", tg.matmul, [I().of(2, 3), I().of(3, 2)], ref=np.matmul, floats=False, tag="int")
case(
    "diagonal",
    tg.linalg.diagonal,
    [F().of(3, 3)],
    ref=lambda a: np.diagonal(a, axis1=-2, axis2=-1),
    diff=(0,),
    tag="square",
)
case(
    "diagonal",
    lambda a: tg.linalg.diagonal(a, offset=1),
    [F().of(3, 4)],
    ref=lambda a: np.diagonal(a, offset=1, axis1=-2, axis2=-1),
    diff=(0,),
    tag="offset",
)
case("diagonal", tg.trace, [F().of(3, 3)], ref=np.trace, diff=(0,), tag="trace")


def _np_diag_embed(u, n, m, offset=0):
    out = np.zeros(u.shape[:-1] + (n, m), u.dtype)
    k = np.arange(u.shape[-1])
    out[..., k, k + offset] = u
    return out


# diag_embed is the VJP of diagonal: reached as the transpose of linalg.diagonal.
case(
    "diag_embed",
    transpose_of(lambda a: tg.linalg.diagonal(a, offset=1), (3, 4)),
    [F().of(3)],
    ref=lambda u: _np_diag_embed(u, 3, 4, 1),
    diff=(0,),
    tag="offset",
)
case("norm2", tg.norm, [F().of(3, 4)], ref=np.linalg.norm, diff=(0,), tag="flat")
case(
    "norm2",
    lambda x: tg.norm(x, axis=1),
    [F().of(3, 4)],
    ref=lambda x: np.linalg.norm(x, axis=1),
    diff=(0,),
    tag="axis",
)
case(
    "norm2",
    lambda x: tg.norm(x, "fro"),
    [F().of(2, 3)],
    ref=lambda x: np.linalg.norm(x, "fro"),
    diff=(0,),
    tag="fro",
)
case(
    "norm_max",
    lambda x: tg.norm(x, ord=np.inf),
    [Distinct().of(5)],
    ref=lambda x: np.linalg.norm(x, ord=np.inf),
    diff=(0,),
    tag="inf",
)
case(
    "norm_max",
    lambda x: tg.norm(x, ord=np.inf, axis=0),
    [Distinct().of(3, 4)],
    ref=lambda x: np.linalg.norm(x, ord=np.inf, axis=0),
    diff=(0,),
    tag="inf_axis",
)
case(
    "norm_max",
    lambda x: tg.norm(x, ord=-np.inf, axis=1),
    [Distinct().of(3, 4)],
    ref=lambda x: np.linalg.norm(x, ord=-np.inf, axis=1),
    diff=(0,),
    tag="neg_inf_axis",
)
case(
    "solve", tg.linalg.solve, [SPD(3), F().of(3, 2)], ref=np.linalg.solve, diff=(0, 1), tag="matrix"
)
case(
    "solve",
    tg.linalg.solve,
    [SPD(3), F().of(3)],
    ref=lambda a, b: np.linalg.solve(a, b[:, None])[:, 0],
    diff=(0, 1),
    tag="vector",
)
case("inv", tg.linalg.inv, [SPD(3)], ref=np.linalg.inv, diff=(0,))
case("det", tg.linalg.det, [SPD(3)], ref=np.linalg.det, diff=(0,))
case("det", tg.linalg.det, [General(3)], ref=np.linalg.det, diff=(0,), tag="general")
case(
    "slogdet",
    lambda a: tuple(tg.linalg.slogdet(a)),
    [SPD(3)],
    ref=lambda a: tuple(np.linalg.slogdet(a)),
    diff=(0,),
)
case(
    "slogdet",
    lambda a: tuple(tg.linalg.slogdet(a)),
    [General(3)],
    ref=lambda a: tuple(np.linalg.slogdet(a)),
    diff=(0,),
    tag="general",
)


def _sym(a):
    return 0.5 * (a + tg.swapaxes(a, -1, -2))


# cholesky reads one triangle: the argument is symmetrised first, so a finite-difference step in any
# direction stays on symmetric matrices, where the rule is defined.
case(
    "cholesky",
    lambda a: tg.linalg.cholesky(_sym(a)),
    [SPD(3)],
    ref=lambda a: np.linalg.cholesky(0.5 * (a + np.swapaxes(a, -1, -2))),
    diff=(0,),
)


# Decompositions: the factors' signs are LAPACK's pick (and differ from numpy's), so the cases fix
# them, the same way for tapegrad and numpy: each singular vector (eigenvector, column of Q) is
# flipped so that the sum of the cubes of its entries is positive. The flip is piecewise constant,
# so the derivative checks see the rules themselves.
def _flip(x):
    """Signs (+-1) of the sum of cubes of each column of x (..., m, k): shape (..., 1, k)."""
    if isinstance(x, tg.Tensor):
        return tg.sign(tg.sum(x**3, axis=-2, keepdims=True))
    return np.sign(np.sum(x**3, axis=-2, keepdims=True))


def _swap(x):
    return tg.swapaxes(x, -1, -2) if isinstance(x, tg.Tensor) else np.swapaxes(x, -1, -2)


def _svd_fixed(r):
    u, s, vh = r
    f = _flip(u)
    return u * f, s, vh * _swap(f)


def _eigh_fixed(r):
    w, v = r
    return w, v * _flip(v)


def _qr_fixed(r):
    q, r_ = r
    f = _flip(q)
    return q * f, r_ * _swap(f)


for _m, _n, _tag in ((4, 3, "tall"), (3, 3, "square"), (2, 4, "wide")):
    case(
        "svd",
        lambda a: _svd_fixed(tg.linalg.svd(a, full_matrices=False)),
        [Spectral(_m, _n)],
        ref=lambda a: _svd_fixed(np.linalg.svd(a, full_matrices=False)),
        diff=(0,),
        tag=_tag,
    )
    case(
        "svdvals",
        tg.linalg.svdvals,
        [Spectral(_m, _n)],
        ref=lambda a: np.linalg.svd(a, compute_uv=False),
        diff=(0,),
        tag=_tag,
    )
case(
    "svd",
    lambda a: _svd_fixed(tg.linalg.svd(a, full_matrices=True)),
    [Spectral(3, 3)],
    ref=lambda a: _svd_fixed(np.linalg.svd(a, full_matrices=True)),
    diff=(0,),
    tag="full_square",
)
for _uplo in ("L", "U"):
    case(
        "eigh",
        lambda a, _u=_uplo: _eigh_fixed(tg.linalg.eigh(a, _u)),
        [SymSpread(3)],
        ref=lambda a, _u=_uplo: _eigh_fixed(np.linalg.eigh(a, _u)),
        diff=(0,),
        tag=_uplo,
    )
    case(
        "eigvalsh",
        lambda a, _u=_uplo: tg.linalg.eigvalsh(a, _u),
        [SymSpread(3)],
        ref=lambda a, _u=_uplo: np.linalg.eigvalsh(a, _u),
        diff=(0,),
        tag=_uplo,
    )


def _eig_parts(r):
    """eig's (w, V) as real arrays (check_grads pairs real values), each column of V turned by
    the sign that makes its largest entry positive (geev makes it real, of either sign)."""
    w, v = r
    if isinstance(w, tg.Tensor):
        m = tg.abs(v)
        vk = tg.sum(
            tg.where(m == tg.max(m, axis=-2, keepdims=True), v, 0 * v), axis=-2, keepdims=True
        )
        v = v * (tg.numpy.conj(vk) / tg.abs(vk))
        return tg.numpy.real(w), tg.numpy.imag(w), tg.numpy.real(v), tg.numpy.imag(v)
    k = np.argmax(np.abs(v), axis=-2)[..., None, :]
    vk = np.take_along_axis(v, k, axis=-2)
    v = v * (np.conj(vk) / np.abs(vk))
    return w.real, w.imag, v.real, v.imag


case(
    "eig",
    lambda a: _eig_parts(tg.linalg.eig(a)),
    [EigSpread(3)],
    ref=lambda a: _eig_parts(np.linalg.eig(a)),
    diff=(0,),
)
case(
    "eigvals",
    lambda a: (tg.numpy.real(tg.linalg.eigvals(a)), tg.numpy.imag(tg.linalg.eigvals(a))),
    [EigSpread(3)],
    ref=lambda a: (np.linalg.eigvals(a).real, np.linalg.eigvals(a).imag),
    diff=(0,),
)
for _m, _n, _tag in ((4, 3, "tall"), (3, 3, "square")):
    case(
        "qr",
        lambda a: _qr_fixed(tg.linalg.qr(a)),
        [Spectral(_m, _n)],
        ref=lambda a: _qr_fixed(np.linalg.qr(a)),
        diff=(0,),
        tag=_tag,
    )
case(
    "qr",
    lambda a: _qr_fixed(tg.linalg.qr(a, mode="complete")),
    [Spectral(2, 4)],
    ref=lambda a: _qr_fixed(np.linalg.qr(a, mode="complete")),
    tag="wide_complete",
)

# ---- shape ---------------------------------------------------------------------------------------
case(
    "broadcast_to",
    lambda x: tg.broadcast_to(x, (3, 4, 5)),
    [F().of(4, 1)],
    ref=lambda x: np.broadcast_to(x, (3, 4, 5)),
    diff=(0,),
    tag="bcast",
)
case(
    "broadcast_to",
    lambda x: tg.broadcast_to(x, (2, 3)),
    [F().of()],
    ref=lambda x: np.broadcast_to(x, (2, 3)),
    diff=(0,),
    tag="0d",
)
case(
    "reshape",
    lambda x: tg.reshape(x, (2, 6)),
    [F().of(3, 4)],
    ref=lambda x: np.reshape(x, (2, 6)),
    diff=(0,),
    tag="2d",
)
case(
    "reshape",
    lambda x: tg.reshape(x.T, (-1,)),
    [F().of(3, 4)],
    ref=lambda x: np.reshape(x.T, (-1,)),
    diff=(0,),
    tag="noncontiguous",
)
case(
    "reshape",
    lambda x: tg.reshape(x, (1, 1)),
    [F().of()],
    ref=lambda x: np.reshape(x, (1, 1)),
    diff=(0,),
    tag="0d",
)
case(
    "transpose",
    lambda x: tg.transpose(x, (2, 0, 1)),
    [F().of(2, 3, 4)],
    ref=lambda x: np.transpose(x, (2, 0, 1)),
    diff=(0,),
    tag="perm",
)
case("transpose", lambda x: x.T, [F().of(3, 4)], ref=lambda x: x.T, diff=(0,), tag="T")
case("copy", lambda x: x.copy(), [F().of(3, 4)], ref=lambda x: x.copy(), diff=(0,), tag="3x4")
case("copy", lambda x: x.copy(), [F().of()], ref=lambda x: x.copy(), diff=(0,), tag="0d")
case(
    "concatenate",
    lambda x, y: tg.concatenate([x, y, x], axis=0),
    [F().of(2, 3), F().of(1, 3)],
    ref=lambda x, y: np.concatenate([x, y, x], axis=0),
    diff=(0, 1),
    tag="axis0",
)
case(
    "concatenate",
    lambda x, y: tg.concatenate([x, y], axis=-1),
    [F().of(2, 3), F().of(2, 1)],
    ref=lambda x, y: np.concatenate([x, y], axis=-1),
    diff=(0, 1),
    tag="last",
)
case(
    "split",
    lambda x: tuple(tg.split(x, 3, axis=1)),
    [F().of(2, 6)],
    ref=lambda x: tuple(np.split(x, 3, axis=1)),
    diff=(0,),
    tag="sections",
)
case(
    "split",
    lambda x: tuple(tg.split(x, [1, 4], axis=-1)),
    [F().of(2, 6)],
    ref=lambda x: tuple(np.split(x, [1, 4], axis=-1)),
    diff=(0,),
    tag="indices",
)
case(
    "flip",
    lambda x: tg.flip(x, axis=1),
    [F().of(3, 4)],
    ref=lambda x: np.flip(x, axis=1),
    diff=(0,),
    tag="axis",
)
case("flip", tg.flip, [F().of(3, 4)], ref=np.flip, diff=(0,), tag="all")
case(
    "repeat",
    lambda x: tg.repeat(x, 2, axis=0),
    [F().of(3, 2)],
    ref=lambda x: np.repeat(x, 2, axis=0),
    diff=(0,),
    tag="scalar",
)
_COUNTS = np.array([1, 0, 3])
case(
    "repeat",
    lambda x: tg.repeat(x, tg.tensor(_COUNTS), axis=0),
    [F().of(3, 2)],
    ref=lambda x: np.repeat(x, _COUNTS, axis=0),
    diff=(0,),
    tag="counts",
)
case(
    "repeat",
    lambda x: tg.repeat(x, 3),
    [F().of()],
    ref=lambda x: np.repeat(x, 3),
    diff=(0,),
    tag="0d",
)
# repeat_transpose (a segment sum) is the VJP of repeat with counts.
case(
    "repeat_transpose",
    transpose_of(lambda x: tg.repeat(x, tg.tensor(_COUNTS), axis=0), (3, 2)),
    [F().of(4, 2)],
    ref=lambda u: np.stack([u[0], np.zeros_like(u[0]), u[1:].sum(0)]),
    diff=(0,),
    tag="counts",
)

# ---- indexing ----------------------------------------------------------------------------------
# basic_index (getitem with ints, slices, None, ...)
case(
    "basic_index",
    lambda x: x[1:, ::2],
    [F().of(3, 5)],
    ref=lambda x: x[1:, ::2],
    diff=(0,),
    tag="slices",
)
case(
    "basic_index",
    lambda x: x[None, ..., -1] + x[::-1, 0, None],
    [F().of(3, 4)],
    ref=lambda x: x[None, ..., -1] + x[::-1, 0, None],
    diff=(0,),
    tag="int_newaxis_ellipsis",
)
case("basic_index", lambda x: x[()], [F().of()], ref=lambda x: x[()], diff=(0,), tag="0d")


# basic_put: setitem with a basic index into a tracked tensor (a functional update). Eager setitem
# writes in place, so the value case runs it under a reverse level.
def _put_slice(x, v):
    return setitem(x, slice(1, 3), v)


def _put_int(x, v):
    return setitem(x, (Ellipsis, 1), v)


case(
    "basic_put",
    tracked(_put_slice),
    [F().of(4, 3), F().of(2, 3)],
    ref=lambda x, v: np_setitem(x, slice(1, 3), v),
    diff=(0, 1),
    tag="slice",
)
case(
    "basic_put",
    tracked(_put_int),
    [F().of(4, 3), F().of(1)],
    ref=lambda x, v: np_setitem(x, (Ellipsis, 1), v),
    diff=(0, 1),
    tag="int_broadcast",
)
case("basic_put", _put_slice, [F().of(4, 3), F().of(2, 3)], diff=(0, 1), tag="slice_untracked")


# write_basic: a traced value written by a tg.jit recording into a tensor the trace does not own
# (an optimiser's parameter update); each replay repeats the write.
def _check_write_basic(dtype):
    w = tg.zeros((4,), dtype)

    def step(x):
        w[1:3] = x * 2.0
        return x + 1.0

    f = tg.jit(step)
    for k in range(3):  # record, then replay twice
        x = np.array([k, k + 0.5], dtype)
        np.testing.assert_array_equal(np.asarray(f(tg.tensor(x))), x + 1)
        np.testing.assert_array_equal(np.asarray(w), np.array([0, 2 * k, 2 * k + 1, 0], dtype))
    assert f.cache_info()["replays"] >= 2, f.cache_info()


case("write_basic", None, [], check=_check_write_basic, vmap=False)

# index_gather (getitem with integer arrays and masks)
_IDX = np.array([2, 0, 2])
_MASK = np.array(
    [[True, False, True, True], [False, False, True, False], [True, True, False, False]]
)
case(
    "index_gather",
    lambda x: x[tg.tensor(_IDX)],
    [F().of(3, 4)],
    ref=lambda x: x[_IDX],
    diff=(0,),
    tag="int_array",
)
case(
    "index_gather",
    lambda x: x[tg.tensor([0, 2]), tg.tensor([1, -1])],
    [F().of(3, 4)],
    ref=lambda x: x[[0, 2], [1, -1]],
    diff=(0,),
    tag="two_arrays",
)
case(
    "index_gather",
    lambda x: x[tg.tensor(_MASK)],
    [F().of(3, 4)],
    ref=lambda x: x[_MASK],
    diff=(0,),
    tag="mask",
)
case(
    "index_gather",
    lambda x: tg.take(x, tg.tensor([[3, 0], [1, 1]]), axis=1),
    [F().of(2, 4)],
    ref=lambda x: np.take(x, [[3, 0], [1, 1]], axis=1),
    diff=(0,),
    tag="take",
)


def _np_index_add(u, n):
    out = np.zeros((n,) + u.shape[1:], u.dtype)
    np.add.at(out, _IDX, u)
    return out


# index_add (a scatter-add) is the VJP of a gather: reached as the transpose of x[idx].
case(
    "index_add",
    transpose_of(lambda x: x[tg.tensor(_IDX)], (3, 4)),
    [F().of(3, 4)],
    ref=lambda u: _np_index_add(u, 3),
    diff=(0,),
    tag="duplicates",
)


# index_put: setitem with integer arrays into a tracked tensor (repeated indices: the last write wins)
def _put_array(x, v):
    return setitem(x, tg.tensor(_IDX), v)


case(
    "index_put",
    tracked(_put_array),
    [F().of(4, 3), F().of(3, 3)],
    ref=lambda x, v: np_setitem(x, _IDX, v),
    diff=(0, 1),
    tag="duplicates",
)
case(
    "index_put",
    tracked(lambda x, v: setitem(x, tg.tensor(_MASK[:, :3]), v)),
    [F().of(3, 3), F().of()],
    ref=lambda x, v: np_setitem(x, _MASK[:, :3], v),
    diff=(0, 1),
    tag="mask_scalar",
)


# index_last_writer: which write of a repeated index wins, computed by index_put's VJP: the
# gradient of the written values is the cotangent where a value was the last write, else 0.
_W = np.arange(1.0, 13.0).reshape(4, 3)  # a distinct cotangent per element


def _grad_of_put(x, v):
    w = tg.tensor(_W).astype(v.dtype)
    return tg.grad(lambda z, u: (setitem(z, tg.tensor(_IDX), u) * w).sum(), 1)(x, v)


def _np_grad_of_put(x, v):
    g = np.zeros_like(v)
    last = {int(j): i for i, j in enumerate(_IDX)}  # row of x -> the write that lands last
    for row, i in last.items():
        g[i] = _W[row]
    return g


case(
    "index_last_writer",
    _grad_of_put,
    [F().of(4, 3), F().of(3, 3)],
    ref=_np_grad_of_put,
    tag="grad_of_setitem",
)


# index_pack: integer index arrays batched by vmap are packed into rows by a prim (unbatched arrays
# are packed directly). Its value case is therefore a vmap over the index.
def _check_index_pack(dtype):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 5, 3)).astype(dtype)
    i = rng.integers(-5, 5, (4, 2))
    got = tg.vmap(lambda xb, ib: xb[ib])(tg.tensor(x), tg.tensor(i))
    np.testing.assert_array_equal(np.asarray(got), np.stack([x[b][i[b]] for b in range(4)]))


case(
    "index_pack",
    lambda x, i: x[i],
    [F().of(5, 3), I(lo=-5, hi=5).of(2)],
    check=_check_index_pack,
    tag="batched_index",
)

# ---- sorting ------------------------------------------------------------------------------------
case(
    "argsort",
    lambda x: tg.argsort(x, axis=-1),
    [Distinct().of(3, 5)],
    ref=lambda x: np.argsort(x, axis=-1),
    tag="last",
)
case(
    "argsort",
    lambda x: tg.argsort(x, axis=0),
    [Distinct().of(4, 3)],
    ref=lambda x: np.argsort(x, axis=0),
    tag="first",
)
# permute_along: the values of sort (x permuted by its argsort)
case(
    "permute_along",
    lambda x: tg.sort(x, axis=-1),
    [Distinct().of(3, 5)],
    ref=lambda x: np.sort(x, axis=-1),
    diff=(0,),
    tag="sort",
)
case(
    "permute_along",
    lambda x: tg.sort(x, axis=0, descending=True),
    [Distinct().of(3, 5)],
    ref=lambda x: -np.sort(-x, axis=0),
    diff=(0,),
    tag="descending",
)


# ---- user-defined rules -------------------------------------------------------------------------
# custom_vjp: f(x) = x sin x with its reverse rule written with tapegrad ops (so it differentiates
# again: second order); no JVP. Under vmap it runs once per example (the batch level's loop).
@tg.custom_vjp
def x_sin_x(x):
    return x * tg.sin(x)


x_sin_x.defvjp(lambda x: (x * tg.sin(x), x), lambda x, g: (g * (tg.sin(x) + x * tg.cos(x)),))


# custom_jvp: the same function with a forward rule; the reverse rule is the JVP's transpose.
@tg.custom_jvp
def x_sin_x_jvp(x):
    return x * tg.sin(x)


@x_sin_x_jvp.defjvp
def _x_sin_x_jvp_rule(primals, tangents):
    (x,), (t,) = primals, tangents
    return x * tg.sin(x), t * (tg.sin(x) + x * tg.cos(x))


case(
    "custom_vjp",
    x_sin_x,
    [F().of(3, 4)],
    ref=lambda x: x * np.sin(x),
    diff=(0,),
    modes=("rev",),
    tag="3x4",
)
case(
    "custom_vjp",
    x_sin_x,
    [F().of()],
    ref=lambda x: x * np.sin(x),
    diff=(0,),
    modes=("rev",),
    tag="0d",
)
case("custom_jvp", x_sin_x_jvp, [F().of(3, 4)], ref=lambda x: x * np.sin(x), diff=(0,), tag="3x4")
case("custom_jvp", x_sin_x_jvp, [F().of()], ref=lambda x: x * np.sin(x), diff=(0,), tag="0d")

# ids are unique (the tests are parametrized by them)
assert len({c.id for c in CASES}) == len(CASES), sorted(c.id for c in CASES)
