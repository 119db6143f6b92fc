"""TAPEGRAD_SIMD forces the CPU kernels' SIMD path at import: each path this CPU runs passes the
elementwise and reduction value checks when forced, in a fresh process; a path the CPU cannot run
is clamped with a warning; a name that is no path is an error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import tapegrad as tg
from tapegrad import _config, _core

TESTS = Path(__file__).resolve().parent
AVAILABLE = _config.simd_available(_core._build_info())


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
