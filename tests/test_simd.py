"""The CPU kernels' SIMD paths (Note [SIMD dispatch] in csrc/kernels/cpu/loops.h).

In process, `_core._set_simd_path` forces each path this CPU runs (paths it lacks are skipped
with the reason) for a representative set of ops -- elementwise loops, the vector-math functions,
sum/prod/max/min/argmax/argmin reductions, uniform and normal draws -- checked against numpy with
per-op tolerances and against the other paths: bit-identical where the kernels promise it, within
the stated bounds where the path's vector width or FMA contraction changes the rounding.
Through TAPEGRAD_SIMD at import: each path passes the elementwise and reduction suites when
forced, in a fresh process; a path the CPU cannot run is clamped with a warning; a name that is
no path is an error."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import _config, _core

TESTS = Path(__file__).resolve().parent
AVAILABLE = _config.simd_available(_core._build_info())
F32, F64 = np.float32, np.float64
LD = np.longdouble


@pytest.fixture(params=_config.SIMD_PATHS)
def path(request):
    """Each SIMD path, forced in this process for the test; the automatic choice after it."""
    if request.param not in AVAILABLE:
        pytest.skip(
            f"this CPU or build cannot run the {request.param} kernels "
            f"(it runs {', '.join(AVAILABLE)})"
        )
    assert _core._set_simd_path(request.param)
    assert tg.get_simd_path() == request.param
    yield request.param
    assert _core._set_simd_path("best")


def on_every_path(fn):
    """{path: fn()} for every path this CPU runs; the automatic choice afterwards."""
    out = {}
    try:
        for p in AVAILABLE:
            assert _core._set_simd_path(p)
            out[p] = fn()
    finally:
        _core._set_simd_path("best")
    return out


def bits_equal(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def ulp_error(got, ref, dtype):
    """|got - ref| in units of dtype's spacing at ref (ref in higher precision); equal infinities
    and NaNs in both count 0."""
    ref = np.asarray(ref, LD)
    got = np.asarray(got).astype(LD)
    refd = ref.astype(dtype)
    with np.errstate(all="ignore"):
        err = np.abs(got - ref) / np.spacing(np.abs(refd)).astype(LD)
    same = (got == ref) | (np.isnan(got) & np.isnan(ref))
    return np.where(same, 0, err)


# ---- in process: each path forced by _core._set_simd_path -----------------------------------

_erf = np.vectorize(math.erf, otypes=[F64])
_erfc = np.vectorize(math.erfc, otypes=[F64])
# name -> (reference in float64/longdouble, input range, max ULP vs the reference). The kernels
# promise <= 2.5 ULP (tan float64 3, gelu 5, Note [Vector math]); the references add up to ~1.
VECMATH = {
    "exp": (np.exp, (-80, 80), 4),
    "exp2": (np.exp2, (-120, 120), 4),
    "expm1": (np.expm1, (-30, 80), 4),
    "log": (np.log, (1e-30, 1e30), 4),
    "log2": (np.log2, (1e-30, 1e30), 4),
    "log1p": (np.log1p, (-0.999, 1e20), 4),
    "sin": (np.sin, (-1e4, 1e4), 4),
    "cos": (np.cos, (-1e4, 1e4), 4),
    "tan": (np.tan, (-100, 100), 4),
    "arcsin": (np.arcsin, (-1, 1), 4),
    "arccos": (np.arccos, (-1, 1), 4),
    "arctan": (np.arctan, (-1e3, 1e3), 4),
    "sinh": (np.sinh, (-80, 80), 4),
    "cosh": (np.cosh, (-80, 80), 4),
    "tanh": (np.tanh, (-12, 12), 4),
    "sigmoid": (lambda x: 1 / (1 + np.exp(-x)), (-80, 40), 4),
    "softplus": (lambda x: np.logaddexp(LD(0), x), (-80, 80), 4),
    # (not far below 0: erfc of the rounded x / sqrt 2 loses ~2 a^2 ULP there; test_elementwise.py
    # has the exact tail reference)
    "gelu": (lambda x: x * _erfc(-x.astype(F64) / np.sqrt(2)).astype(LD) / 2, (-1, 10), 6),
    "erf": (lambda x: _erf(x.astype(F64)), (-6, 6), 4),
}


def vecmath_input(name, dtype):
    # 4099 values: whole registers of every width and a tail; plus the odd special value.
    lo, hi = VECMATH[name][1]
    x = np.random.default_rng(len(name)).uniform(lo, hi, 4096)
    if lo < 0 < hi:
        x[:64] = np.logspace(-12, 0, 64) * np.resize([-1, 1], 64) * min(-lo, hi)
    return np.concatenate([x, [np.nan, np.inf, -np.inf]]).astype(dtype)


# f(+inf), f(-inf) of the functions numpy lacks.
LIMITS = {
    "sigmoid": (1.0, 0.0),
    "softplus": (np.inf, 0.0),
    "gelu": (np.inf, -0.0),
    "erf": (1.0, -1.0),
}


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("name", sorted(VECMATH))
def test_vecmath_matches_numpy_on_the_path(path, name, dtype):
    ref_fn, _, bound = VECMATH[name]
    x = vecmath_input(name, dtype)
    got = getattr(tg, name)(tg.tensor(x)).asnumpy()
    with np.errstate(all="ignore"):
        ref = ref_fn(x[:-3].astype(LD))
    err = ulp_error(got[:-3], ref, dtype)
    worst = int(np.argmax(err))
    assert err.max() <= bound, (
        f"{path} {name}({np.dtype(dtype).name}): {err.max():.2f} ULP at x={x[worst]!r}"
    )
    # NaN propagates; +-Inf give numpy's values (or the limits).
    with np.errstate(all="ignore"):
        want = np.array(LIMITS[name], dtype) if name in LIMITS else getattr(np, name)(x[-2:])
    assert np.isnan(got[-3])
    np.testing.assert_array_equal(got[-2:], want)
    assert np.array_equal(np.signbit(got[-2:]), np.signbit(want))
    # A strided view goes through the same kernel (via a buffer).
    xs = np.ascontiguousarray(np.stack([x, x], axis=1))
    assert bits_equal(getattr(tg, name)(tg.tensor(xs)[:, 1]).asnumpy(), got)


def operands(dtype, shape, seed):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return (rng.standard_normal(shape) * 100).astype(dtype)
    return rng.integers(-1000, 1000, shape).astype(dtype)


BINARY = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "maximum": np.maximum,
    "minimum": np.minimum,
}


@pytest.mark.parametrize("dtype", [np.int32, np.int64, F32, F64])
def test_elementwise_loops_match_numpy_on_the_path(path, dtype):
    # Exact: the basic operations round once, as numpy's do. Shapes: a flat run with a tail, a
    # broadcast row and a transposed (strided) operand.
    a, b = operands(dtype, (67, 33), 1), operands(dtype, (67, 33), 2)
    row = operands(dtype, (33,), 3)
    ta, tb, trow = tg.tensor(a), tg.tensor(b), tg.tensor(row)
    for name, f in BINARY.items():
        np.testing.assert_array_equal(getattr(tg, name)(ta, tb).asnumpy(), f(a, b), err_msg=name)
        np.testing.assert_array_equal(
            getattr(tg, name)(ta, trow).asnumpy(), f(a, row), err_msg=name
        )
        np.testing.assert_array_equal(
            getattr(tg, name)(ta.T, tb.T).asnumpy(), f(a.T, b.T), err_msg=name
        )
    np.testing.assert_array_equal((ta < tb).asnumpy(), a < b)
    np.testing.assert_array_equal(tg.where(ta < tb, ta, tb).asnumpy(), np.where(a < b, a, b))
    np.testing.assert_array_equal(tg.abs(ta).asnumpy(), np.abs(a))
    np.testing.assert_array_equal((-ta).asnumpy(), -a)
    np.testing.assert_array_equal(tg.clip(ta, -50, 70).asnumpy(), np.clip(a, -50, 70).astype(dtype))
    np.testing.assert_array_equal(ta.astype("float64").asnumpy(), a.astype(F64))
    if np.dtype(dtype).kind == "f":
        np.testing.assert_array_equal((ta / tb).asnumpy(), a / b)
        np.testing.assert_array_equal(tg.sqrt(tg.abs(ta)).asnumpy(), np.sqrt(np.abs(a)))


def reduce_inputs(dtype):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((129, 37)).astype(dtype)
    y = rng.standard_normal((3, 70001)).astype(dtype)  # rows longer than one parallel chunk
    z = rng.standard_normal((37, 129)).astype(dtype)
    z[4, 17] = np.nan
    z[30, 100] = np.nan
    return {"x": x, "y": y, "z_nan": z}


@pytest.mark.parametrize("dtype", [F32, F64])
def test_reductions_match_numpy_on_the_path(path, dtype):
    eps = np.finfo(dtype).eps
    for key, x in reduce_inputs(dtype).items():
        t = tg.tensor(x)
        for axis in (None, 0, 1):
            msg = f"{path} {key} axis={axis}"
            # Sums: float32 accumulates in float64, so within a few eps of the float64 sum scaled
            # by the sum of magnitudes (numpy's own pairwise float32 sum is less accurate).
            want = x.astype(LD).sum(axis=axis)
            scale = np.abs(x).astype(LD).sum(axis=axis)
            got = t.sum(axis=axis).asnumpy()
            if key == "z_nan":
                assert np.array_equal(np.isnan(got), np.isnan(want)), msg
                ok = ~np.isnan(want)
                got, want, scale = np.asarray(got)[ok], np.asarray(want)[ok], np.asarray(scale)[ok]
            assert np.all(np.abs(got - want) <= 4 * eps * scale + np.finfo(dtype).tiny), msg
            assert bits_equal(t.max(axis=axis).asnumpy(), x.max(axis=axis)), msg
            assert bits_equal(t.min(axis=axis).asnumpy(), x.min(axis=axis)), msg
            if axis is not None:
                np.testing.assert_array_equal(
                    tg.argmax(t, axis=axis).asnumpy(), x.argmax(axis=axis), err_msg=msg
                )
                np.testing.assert_array_equal(
                    tg.argmin(t, axis=axis).asnumpy(), x.argmin(axis=axis), err_msg=msg
                )
        # Products of values near 1 (no overflow): a few eps per factor.
        p = (1 + x[:, :20] / 64).astype(dtype)
        np.testing.assert_allclose(
            tg.prod(tg.tensor(p), axis=1).asnumpy(),
            p.astype(LD).prod(axis=1).astype(F64),
            rtol=30 * eps,
            err_msg=f"{path} {key} prod",
        )


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_random_draws_on_the_path(path, dtype):
    # Moments within 5 standard errors; uniform draws inside [low, high).
    n = 200_003
    tg.set_seed(2024)
    u = tg.uniform(-2.0, 3.0, shape=(n,), dtype=dtype).asnumpy().astype(F64)
    assert u.min() >= -2.0 and u.max() < 3.0
    assert abs(u.mean() - 0.5) < 5 * (5 / math.sqrt(12)) / math.sqrt(n)
    g = tg.normal(1.0, 2.0, shape=(n,), dtype=dtype).asnumpy().astype(F64)
    assert abs(g.mean() - 1.0) < 5 * 2.0 / math.sqrt(n)
    assert abs(g.std() - 2.0) < 5 * 2.0 / math.sqrt(2 * n) + (2e-3 if dtype == "float16" else 0)


def test_paths_agree_bit_for_bit_where_the_kernels_promise_it():
    # Elementwise loops, extrema, products, column sums and random draws (Philox words computed
    # 16, 8 or 1 block at a time) are the same on every path (Note [SIMD dispatch]).
    rng = np.random.default_rng(9)
    x32 = rng.standard_normal((131, 67)).astype(F32)
    x64 = rng.standard_normal((67, 131))

    def run():
        r = {}
        for nm, x in (("f32", x32), ("f64", x64)):
            t = tg.tensor(x)
            r[f"add/{nm}"] = (t + t.T.T * 3).asnumpy()
            r[f"max/{nm}"] = t.max(axis=1).asnumpy()
            r[f"min0/{nm}"] = t.min(axis=0).asnumpy()
            r[f"argmax/{nm}"] = tg.argmax(t, axis=1).asnumpy()
            r[f"prod/{nm}"] = tg.prod(1 + t / 64, axis=1).asnumpy()
            r[f"colsum/{nm}"] = t.sum(axis=0).asnumpy()
        r["pow/f32"] = (tg.tensor(np.abs(x32) + 0.5) ** tg.tensor(x32)).asnumpy()
        for n in (1, 3, 37, 64, 65, 1021, 4099, 100_003):
            for dt in ("float16", "float32", "float64"):
                tg.set_seed(n)
                r[f"rand/{dt}/{n}"] = tg.rand(n, dtype=dt).asnumpy()
                r[f"normal/{dt}/{n}"] = tg.normal(1.0, 3.0, shape=(n,), dtype=dt).asnumpy()
            r[f"randint/{n}"] = tg.randint(-7, 1 << 40, (n,)).asnumpy()
        return r

    res = on_every_path(run)
    base = res[AVAILABLE[0]]
    for p, r in res.items():
        for k, v in r.items():
            assert bits_equal(v, base[k]), f"{k}: {p} differs from {AVAILABLE[0]}"


def test_paths_agree_within_bounds_where_rounding_differs():
    # Vector math: FMA contraction on avx2/avx512 changes the last bit or two, within the ULP
    # bound each path keeps against numpy. Row sums: lanes as wide as the ISA's registers.
    rng = np.random.default_rng(10)
    rows = {dt: rng.standard_normal((9, 5000)).astype(dt) for dt in (F32, F64)}

    def run():
        r = {}
        for dt in (F32, F64):
            for name in VECMATH:
                x = vecmath_input(name, dt)
                r[f"{name}/{np.dtype(dt).name}"] = getattr(tg, name)(tg.tensor(x)).asnumpy()
            r[f"rowsum/{np.dtype(dt).name}"] = tg.tensor(rows[dt]).sum(axis=1).asnumpy()
            r[f"softmax/{np.dtype(dt).name}"] = tg.softmax(tg.tensor(rows[dt]), axis=1).asnumpy()
        return r

    res = on_every_path(run)
    base = res[AVAILABLE[0]]
    for p, r in res.items():
        for k, v in r.items():
            name, dt = k.split("/")
            dtype = np.dtype(dt).type
            if name in VECMATH:
                err = ulp_error(v, base[k].astype(LD), dtype)
                assert err.max() <= 2 * VECMATH[name][2], (
                    f"{k}: {p} vs {AVAILABLE[0]}: {err.max()} ULP"
                )
                assert bits_equal(np.isnan(v), np.isnan(base[k])), k
            elif name == "rowsum":  # (random signs: relative to the sum of magnitudes)
                scale = np.abs(rows[dtype]).astype(F64).sum(axis=1)
                assert np.all(np.abs(v.astype(F64) - base[k]) <= 8 * np.finfo(dtype).eps * scale), (
                    f"{k} on {p}"
                )
            else:
                np.testing.assert_allclose(
                    v, base[k], rtol=8 * np.finfo(dtype).eps, atol=0, err_msg=f"{k} on {p}"
                )


def test_each_path_sums_floats_in_its_own_lane_width():
    # The forced path reaches the reductions' vector loops: a float32 row sum adds elements in
    # float lanes within a block of 512 or more (Note [SIMD dispatch]); elements 16 apart share a lane at
    # 16-byte registers (sse2), 32 apart at 32 bytes (avx2), 64 apart at 64 bytes (avx512). 2^24
    # absorbs each 1 added to its own lane, so each width gives its own (documented) total; the
    # exact sum is 2^24 + 31.
    x = np.zeros(512, F32)
    x[0] = 2.0**24
    x[16::16] = 1.0
    want = {"sse2": 2.0**24, "avx2": 2.0**24 + 16, "avx512": 2.0**24 + 24}
    got = on_every_path(lambda: float(tg.tensor(x).sum().asnumpy()))
    assert got == {p: want[p] for p in AVAILABLE}


# ---- at import: TAPEGRAD_SIMD in a fresh process -------------------------------------------


def _run(code, simd, **kw):
    env = dict(os.environ, TAPEGRAD_SIMD=simd)
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, **kw
    )


def test_available_paths_are_known_and_include_the_chosen_one():
    assert AVAILABLE[0] == "sse2"
    assert set(AVAILABLE) <= set(_config.SIMD_PATHS)
    assert tg.get_simd_path() in AVAILABLE or os.environ.get("TAPEGRAD_SIMD")


@pytest.mark.parametrize("simd", _config.SIMD_PATHS)
def test_env_forces_the_path_or_clamps_it_with_a_warning(simd):
    code = (
        "import warnings; warnings.simplefilter('always')\n"
        "import tapegrad as tg; print(tg.get_simd_path())"
    )
    r = _run(code, simd)
    assert r.returncode == 0, r.stderr
    path = r.stdout.split()[-1]
    if simd in AVAILABLE:
        assert path == simd
        assert "RuntimeWarning" not in r.stderr
    else:  # the best path below the one asked for, and a warning that says so
        assert (
            path
            == [
                p for p in AVAILABLE if _config.SIMD_PATHS.index(p) < _config.SIMD_PATHS.index(simd)
            ][-1]
        )
        assert "RuntimeWarning" in r.stderr and f"TAPEGRAD_SIMD={simd}" in r.stderr


def test_env_with_an_unknown_path_is_an_import_error_naming_the_choices():
    r = _run("import tapegrad", "avx9000")
    assert r.returncode != 0
    assert (
        "TAPEGRAD_SIMD='avx9000' is not a SIMD path" in r.stderr
        and "sse2, avx2, avx512" in r.stderr
    )


def test_env_empty_or_best_keeps_the_automatic_choice():
    best = AVAILABLE[-1]
    for value in ("", "best"):
        r = _run("import tapegrad as tg; print(tg.get_simd_path())", value)
        assert r.returncode == 0, r.stderr
        assert r.stdout.split()[-1] == best


def test_show_config_names_the_forced_path():
    r = _run("import tapegrad as tg; tg.show_config()", "sse2")
    assert r.returncode == 0, r.stderr
    assert "path: sse2 (forced by TAPEGRAD_SIMD=sse2)" in r.stdout


@pytest.mark.parametrize("simd", AVAILABLE)
def test_forced_path_reaches_reductions_and_random_draws(simd):
    # Sums and extremes (the reductions' own SIMD table), random words (Philox: an AVX2 and a
    # scalar form), and exp (the elementwise table): the same values on every forced path.
    code = """
import numpy as np, tapegrad as tg
x = np.random.default_rng(0).standard_normal((37, 129)).astype(np.float32)
t = tg.tensor(x)
np.testing.assert_allclose(t.sum(axis=1).asnumpy(), x.astype(np.float64).sum(axis=1), rtol=1e-5, atol=1e-5)
np.testing.assert_allclose(t.sum(axis=0).asnumpy(), x.astype(np.float64).sum(axis=0), rtol=1e-5, atol=1e-5)
assert np.array_equal(t.max(axis=1).asnumpy(), x.max(axis=1))
assert np.array_equal(t.min(axis=0).asnumpy(), x.min(axis=0))
np.testing.assert_allclose(tg.exp(t).asnumpy(), np.exp(x), rtol=2e-7 * 4)
tg.set_seed(7)
print(tg.get_simd_path(), ' '.join(f'{v:.9g}' for v in tg.rand((1000,)).asnumpy()[::97]))
"""
    r = _run(code, simd)
    assert r.returncode == 0, r.stderr
    path, *draws = r.stdout.split()
    assert path == simd
    tg.set_seed(7)
    assert draws == [f"{v:.9g}" for v in tg.rand((1000,)).asnumpy()[::97]]


@pytest.mark.parametrize("simd", AVAILABLE)
def test_elementwise_and_reduce_suites_pass_on_the_forced_path(simd):
    # The value checks of test_elementwise.py and test_reduce.py in a process started with
    # TAPEGRAD_SIMD=simd. Tests there that switch paths themselves return to "best", which is
    # the forced path in that process.
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-o",
        "addopts=",
        "-x",
        "-p",
        "no:cacheprovider",
        str(TESTS / "test_elementwise.py"),
        str(TESTS / "test_reduce.py"),
    ]
    env = dict(os.environ, TAPEGRAD_SIMD=simd)
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, cwd=TESTS.parent)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
    assert f"SIMD path {simd}" in p.stdout and " passed" in p.stdout


@pytest.mark.skipif(
    not {"avx2", "avx512"} <= set(AVAILABLE), reason="needs a CPU that runs avx2 and avx512"
)
def test_avx512_exp_loop_is_bit_identical_to_the_generic_exp():
    # Note [AVX-512 exp loop]: the intrinsics loop computes ExpK's arithmetic step for step; the
    # avx2 path runs the generic ExpK with the same FMA contractions, so the two agree bit for bit
    # over the whole range (the lanes libm takes included), for every length (whole registers, then
    # the generic tail), strided inputs and the jit's fused replay.
    for dt, lo, hi in ((F32, -104.0, 90.0), (F64, -746.0, 710.0)):
        x = np.linspace(lo, hi, 400_009).astype(dt)
        x[:8] = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30, -87.5, 88.5]
        rng = np.random.default_rng(3)
        short = [rng.uniform(-5, 5, n).astype(dt) for n in range(1, 40)]

        def run(x=x, short=short):
            t = tg.tensor(x)
            out = [tg.exp(t).asnumpy(), tg.exp(t[::3]).asnumpy(), tg.exp(t[::-1]).asnumpy()]
            out += [tg.exp(tg.tensor(s)).asnumpy() for s in short]
            jit_exp = tg.jit(lambda u: tg.exp(u * 1.0))  # the fused replay's register loop
            out.append(jit_exp(t).asnumpy())
            return out

        res = on_every_path(run)
        for a, b in zip(res["avx2"], res["avx512"]):
            assert bits_equal(a, b), np.dtype(dt).name
        ref = np.exp(x.astype(LD))
        normal = (ref >= np.finfo(dt).tiny) & (ref <= np.finfo(dt).max)  # (NaN compares False)
        assert ulp_error(res["avx512"][0][normal], ref[normal], dt).max() <= 4


@pytest.mark.skipif(
    not {"avx2", "avx512"} <= set(AVAILABLE), reason="needs a CPU that runs avx2 and avx512"
)
def test_avx512_sin_cos_loops_are_bit_identical_to_the_generic_kernels():
    # Note [AVX-512 sin, cos and log loops]: the same reduction, polynomials and quadrant choice
    # as SinK and CosK, so the avx512 loops and the avx2 path agree bit for bit (libm's lanes) for
    # whole registers, generic tails, strided inputs and the jit's fused replay. float32 reduces a
    # register in float64 when any of its lanes exceeds 65536, so registers of 8 and 16 lanes
    # agree only where no register mixes the two sides: each float32 array keeps to one side.
    rng = np.random.default_rng(5)
    specials = [0.0, -0.0, np.nan, -np.nan, 1e-30, -1e-45, 1e-40]
    cases = []
    for lo, hi in ((-65536.0, 65536.0), (-7.0, 7.0)):
        x = np.linspace(lo, hi, 300_007).astype(F32)
        x[: len(specials)] = specials
        cases.append(x)
    x = np.concatenate([rng.uniform(65537.0, 3e6, 200_000), rng.uniform(-3e6, -65537.0, 100_000)])
    x = x.astype(F32)
    x[:4] = [np.inf, -np.inf, 1e30, -3e38]
    cases.append(x)
    x = np.concatenate([np.linspace(-2e6, 2e6, 300_007), rng.uniform(-7, 7, 100_000)])
    x[:9] = specials + [np.inf, -np.inf]
    x[100::777] = rng.integers(-300_000, 300_000, len(x[100::777])) * (np.pi / 2)  # near n pi/2
    cases.append(x)
    for x in cases:
        short = [rng.uniform(-10, 10, n).astype(x.dtype) for n in range(1, 40)]

        def run(x=x, short=short):
            tg.set_num_threads(1)  # (chunk boundaries would move float32's register grouping)
            t = tg.tensor(x)
            out = []
            for f in (tg.sin, tg.cos):
                out += [f(t).asnumpy(), f(t[::3]).asnumpy(), f(t[::-1]).asnumpy()]
                out += [f(tg.tensor(s)).asnumpy() for s in short]
                out.append(tg.jit(lambda u, f=f: f(u * 1.0))(t).asnumpy())
            # the fused replay's sincos step (one reduction for both), then the eager product
            out.append(tg.jit(lambda u: tg.sin(u) * tg.cos(u))(t).asnumpy())
            out.append((tg.sin(t) * tg.cos(t)).asnumpy())
            return out

        threads = tg.get_num_threads()
        try:
            res = on_every_path(run)
        finally:
            tg.set_num_threads(threads)
        for a, b in zip(res["avx2"], res["avx512"]):
            assert bits_equal(a, b), (x.dtype.name, x[:3])
        assert bits_equal(res["avx512"][-2], res["avx512"][-1])  # sincos step == sin and cos
        with np.errstate(invalid="ignore"):  # (sin and cos of +-inf)
            refs = np.sin(x.astype(LD)), np.cos(x.astype(LD))
        for got, ref in zip((res["avx512"][0], res["avx512"][43]), refs):  # (43: the first cos)
            fin = np.isfinite(x)
            assert ulp_error(got[fin], ref[fin], x.dtype.type).max() <= 4
            assert np.isnan(got[~fin]).all()


@pytest.mark.skipif(
    not {"avx2", "avx512"} <= set(AVAILABLE), reason="needs a CPU that runs avx2 and avx512"
)
def test_avx512_log_loop_is_bit_identical_to_the_generic_log():
    # Note [AVX-512 sin, cos and log loops]: LogK's reduction, polynomial and sum with
    # intrinsics (float32; float64 runs the generic loop on both paths, checked all the same);
    # the same bits as the avx2 path for every input (random bit patterns: negative, subnormal,
    # NaN and Inf lanes take libm), length, stride and the jit's fused replay.
    rng = np.random.default_rng(11)
    for dt, ui in ((F32, np.uint32), (F64, np.uint64)):
        x = np.concatenate(
            [
                rng.integers(0, np.iinfo(ui).max, 200_000, dtype=ui, endpoint=True).view(dt),
                np.linspace(0.0, 50.0, 200_003).astype(dt),
                rng.uniform(0.6, 1.5, 100_000).astype(dt),
            ]
        )
        x[:9] = [0.0, -0.0, np.inf, -np.inf, np.nan, -1.0, 1.0, np.finfo(dt).tiny, np.finfo(dt).max]
        short = [rng.uniform(0.01, 5, n).astype(dt) for n in range(1, 40)]

        def run(x=x, short=short):
            t = tg.tensor(x)
            out = [tg.log(t).asnumpy(), tg.log(t[::3]).asnumpy(), tg.log(t[::-1]).asnumpy()]
            out += [tg.log(tg.tensor(s)).asnumpy() for s in short]
            out.append(tg.jit(lambda u: tg.log(u * 1.0))(t).asnumpy())
            return out

        with np.errstate(invalid="ignore", divide="ignore"):
            res = on_every_path(run)
            ref = np.log(x.astype(LD))
        for a, b in zip(res["avx2"], res["avx512"]):
            assert bits_equal(a, b), np.dtype(dt).name
        ok = np.isfinite(ref)
        assert ulp_error(res["avx512"][0][ok], ref[ok], dt).max() <= 4
        assert np.isnan(res["avx512"][0][np.isnan(ref)]).all()


@pytest.mark.skipif(
    not {"avx2", "avx512"} <= set(AVAILABLE), reason="needs a CPU that runs avx2 and avx512"
)
def test_avx512_sigmoid_loop_is_bit_identical_to_the_generic_sigmoid():
    # Note [AVX-512 sin, cos and log loops]: SigmoidK's arithmetic with intrinsics; the same bits
    # as the avx2 path (NaN payloads and signs included) for every length, stride and the jit.
    rng = np.random.default_rng(13)
    for dt, ui in ((F32, np.uint32), (F64, np.uint64)):
        big = 100.0 if dt == F32 else 745.0
        x = np.concatenate(
            [
                rng.integers(0, np.iinfo(ui).max, 200_000, dtype=ui, endpoint=True).view(dt),
                np.linspace(-big, big, 300_007).astype(dt),
            ]
        )
        nans = np.array([0x7FC00001, 0xFFC12345, 0x7F800001, 0xFF800ABC], np.uint32).view(F32)
        with np.errstate(invalid="ignore"):
            x[:4] = nans.astype(dt)
        x[4:10] = [0.0, -0.0, np.inf, -np.inf, np.finfo(dt).tiny, -np.finfo(dt).max]
        short = [rng.uniform(-20, 20, n).astype(dt) for n in range(1, 40)]

        def run(x=x, short=short):
            t = tg.tensor(x)
            f = tg.sigmoid
            out = [f(t).asnumpy(), f(t[::3]).asnumpy(), f(t[::-1]).asnumpy()]
            out += [f(tg.tensor(s)).asnumpy() for s in short]
            out.append(tg.jit(lambda u: f(u * 1.0))(t).asnumpy())
            return out

        res = on_every_path(run)
        for a, b in zip(res["avx2"], res["avx512"]):
            assert bits_equal(a, b), np.dtype(dt).name
        with np.errstate(over="ignore", invalid="ignore"):  # (exp overflow; the NaNs' cast)
            ref = 1 / (1 + np.exp(-x.astype(LD)))
        ok = ~np.isnan(x) & (ref >= np.finfo(dt).tiny)
        assert ulp_error(res["avx512"][0][ok], ref[ok], dt).max() <= 4


@pytest.mark.parametrize("name", ["sin", "cos", "tan"])
def test_float32_trig_bits_do_not_depend_on_neighbours(name):
    # float32 sin/cos/tan reduce lanes beyond 65536 in float64 and the others in float32; the choice
    # is per lane, so an element's bits do not depend on which values share its register, and hence
    # not on the thread count or where a chunk begins (it was per register: 1 vs 2 threads differed).
    rng = np.random.default_rng(7)
    x = rng.uniform(-1e5, 1e5, 300_003).astype(np.float32)
    x[::5] = rng.uniform(-10.0, 10.0, x[::5].size).astype(np.float32)
    fn = getattr(tg, name)
    old = tg.get_num_threads()
    try:
        tg.set_num_threads(1)
        one = fn(tg.tensor(x)).numpy()
        tg.set_num_threads(2)
        two = fn(tg.tensor(x)).numpy()
    finally:
        tg.set_num_threads(old)
    np.testing.assert_array_equal(one.view(np.uint32), two.view(np.uint32))
    idx = rng.integers(0, x.size, 300)
    alone = np.array([fn(tg.tensor(x[i : i + 1])).numpy()[0] for i in idx], dtype=np.float32)
    np.testing.assert_array_equal(alone.view(np.uint32), one[idx].view(np.uint32))
    shifted = fn(tg.tensor(x[1:])).numpy()  # every element in another lane
    np.testing.assert_array_equal(shifted.view(np.uint32), one[1:].view(np.uint32))
