"""The built wheel installs, imports and differentiates in every install layout, with no compiler
on PATH, and finds its BLAS (scipy-openblas32) wherever that package lives:

(a) a fresh venv holding tapegrad, numpy and scipy-openblas32;
(b) a `--system-site-packages` venv holding only tapegrad, over this interpreter, whose own
    site-packages has numpy and scipy-openblas32 (the issue's failing case);
(c) `pip install --target DIR` of tapegrad alone, DIR on PYTHONPATH;
and without scipy-openblas32 at all, `import tapegrad` is an ImportError that names the fix.

The wheel: $TAPEGRAD_TEST_WHEEL when set (e.g. the one tools/build_wheel.py wrote), else one built
once per session from this checkout (`pip wheel --no-build-isolation`, in the reused build folder
build-wheeltest/, then `auditwheel repair` as tools/build_wheel.py does when auditwheel is
installed). numpy's and scipy-openblas32's wheels come from `pip download` into
build-wheeltest/deps once (the versions installed here), so later runs work offline.
"""

from __future__ import annotations

import glob
import importlib.metadata as md
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build-wheeltest"
pytestmark = pytest.mark.wheel

# What each layout runs: the gradient of (sin(x) * x).sum() against its formula, a matmul (BLAS),
# and where tapegrad and its BLAS were found.
CHECK = r"""
import numpy as np, tapegrad as tg
x = np.array([0.5, 1.0, 2.0])
g = tg.grad(lambda t: (tg.sin(t) * t).sum())(tg.tensor(x))
np.testing.assert_allclose(g.asnumpy(), np.sin(x) + x * np.cos(x), rtol=1e-12)
a = np.arange(12.0).reshape(3, 4)
np.testing.assert_allclose((tg.tensor(a) @ tg.tensor(a.T)).asnumpy(), a @ a.T)
cfg = tg.show_config(mode="dicts")
print("TAPEGRAD", tg.__file__)
print("BLAS", cfg["blas"]["library"])
print("VERSION", tg.__version__)
"""

COMPILERS = ("cc", "gcc", "c++", "g++", "clang", "clang++")


def _no_compiler_env(bin_dir, **extra):
    """An environment whose PATH is `bin_dir` alone (no compiler), without this run's PYTHONPATH
    or source-tree opt-in."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "TAPEGRAD_TEST_SOURCE", "PYTHONHOME", "VIRTUAL_ENV")
    }
    env["PATH"] = str(bin_dir)
    env.update(extra)
    assert not any(shutil.which(c, path=env["PATH"]) for c in COMPILERS)
    return env


def _pip(*args, python=sys.executable):
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "--disable-pip-version-check",
        "--python",
        str(python),
        *args,
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"{' '.join(cmd)}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


def _build_wheel(out):
    """A wheel of this checkout, built without network (the build needs only what is installed
    here) and repaired as a release is, when auditwheel is available."""
    raw = out / "raw"
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        str(ROOT),
        "--no-deps",
        "--no-build-isolation",
        "-w",
        str(raw),
        f"-Cbuild-dir={WORK / 'build'}",
        "-Ccmake.define.TAPEGRAD_CUDA=OFF",
    ]  # the CPU wheel
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    (wheel,) = glob.glob(str(raw / "tapegrad-*.whl"))
    try:
        import auditwheel  # noqa: F401
    except ImportError:
        return Path(wheel)
    if not sys.platform.startswith("linux"):
        return Path(wheel)
    fixed = out / "fixed"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "auditwheel",
            "repair",
            "--exclude",
            "libscipy_openblas.so",
            "-w",
            str(fixed),
            wheel,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    (wheel,) = glob.glob(str(fixed / "tapegrad-*.whl"))
    return Path(wheel)


@pytest.fixture(scope="session")
def wheel(tmp_path_factory):
    given = os.environ.get("TAPEGRAD_TEST_WHEEL")
    if given:
        path = Path(given).resolve()
        assert path.is_file(), f"TAPEGRAD_TEST_WHEEL={given}: no such wheel"
        return path
    return _build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="session")
def deps():
    """A folder with the numpy and scipy-openblas32 wheels of this interpreter's versions."""
    d = WORK / "deps"
    d.mkdir(parents=True, exist_ok=True)
    wanted = {"numpy": md.version("numpy"), "scipy_openblas32": md.version("scipy-openblas32")}
    have = {name for name, v in wanted.items() if glob.glob(str(d / f"{name}-{v}-*.whl"))}
    missing = [f"{n.replace('_', '-')}=={v}" for n, v in wanted.items() if n not in have]
    if missing:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--disable-pip-version-check",
            "--no-deps",
            "--only-binary=:all:",
            "-d",
            str(d),
            *missing,
        ]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return d


def _venv(path, system_site=False):
    args = [sys.executable, "-m", "venv", "--without-pip", str(path)]
    if system_site:
        args.insert(4, "--system-site-packages")
    subprocess.run(args, check=True, timeout=120)
    return path / "bin" / "python"


def _run_check(python, env, cwd):
    r = subprocess.run(
        [str(python), "-c", CHECK], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stdout + r.stderr
    lines = dict(line.split(" ", 1) for line in r.stdout.splitlines() if " " in line)
    return lines


def _blas_lib_of(python, env, cwd):
    r = subprocess.run(
        [str(python), "-c", "import scipy_openblas32 as s; print(s.get_lib_dir())"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return Path(r.stdout.strip()).resolve()


def test_wheel_is_manylinux_and_small(wheel):
    assert wheel.name.startswith("tapegrad-")
    if (
        sys.platform.startswith("linux")
        and "linux_" in wheel.name
        and "manylinux" not in wheel.name
    ):
        pytest.importorskip(
            "auditwheel", reason="the repair step needs auditwheel (tapegrad[release])"
        )
    if "manylinux" in wheel.name:
        r = subprocess.run(
            [sys.executable, "-m", "auditwheel", "show", str(wheel)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        report = " ".join(r.stdout.split())
        assert r.returncode == 0, r.stdout + r.stderr
        m = re.search(r'consistent with the following platform tag: "([^"]+)"', report)
        assert m and m.group(1).startswith("manylinux_") and m.group(1) in wheel.name, report
    assert wheel.stat().st_size < 5e6


def test_a_fresh_venv(wheel, deps, tmp_path):
    py = _venv(tmp_path / "venv")
    _pip("install", "--no-index", "--find-links", str(deps), str(wheel), python=py)
    env = _no_compiler_env(py.parent)
    out = _run_check(py, env, tmp_path)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(tmp_path / "venv")})).resolve()
    assert Path(out["TAPEGRAD"]).resolve().is_relative_to(site)
    assert Path(out["BLAS"]).resolve().is_relative_to(_blas_lib_of(py, env, tmp_path))


def test_b_system_site_packages_venv_over_a_base_with_the_blas(wheel, tmp_path):
    # The base interpreter (this one) has numpy and scipy-openblas32; the venv gets tapegrad alone
    # (--ignore-installed: a tapegrad in the base must not count as already installed).
    py = _venv(tmp_path / "venv", system_site=True)
    _pip("install", "--no-deps", "--no-index", "--ignore-installed", str(wheel), python=py)
    env = _no_compiler_env(py.parent)
    out = _run_check(py, env, tmp_path)
    venv_site = Path(sysconfig.get_path("purelib", vars={"base": str(tmp_path / "venv")})).resolve()
    assert Path(out["TAPEGRAD"]).resolve().is_relative_to(venv_site)
    blas_dir = _blas_lib_of(py, env, tmp_path)
    assert not blas_dir.is_relative_to(tmp_path)  # the BLAS is the base's
    assert Path(out["BLAS"]).resolve().is_relative_to(blas_dir)


def test_c_pip_install_target_on_pythonpath(wheel, tmp_path):
    target = tmp_path / "target"
    _pip("install", "--no-deps", "--no-index", "--target", str(target), str(wheel))
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    env = _no_compiler_env(empty_bin, PYTHONPATH=str(target))
    out = _run_check(sys.executable, env, tmp_path)
    assert Path(out["TAPEGRAD"]).resolve().is_relative_to(target.resolve())


def test_without_the_blas_package_import_names_the_fix(wheel, deps, tmp_path):
    py = _venv(tmp_path / "venv")
    numpy_whl = glob.glob(str(deps / "numpy-*.whl"))
    _pip("install", "--no-deps", "--no-index", *numpy_whl, str(wheel), python=py)
    r = subprocess.run(
        [str(py), "-c", "import tapegrad"],
        env=_no_compiler_env(py.parent),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode != 0
    assert "ImportError" in r.stderr and "pip install scipy-openblas32" in r.stderr


def test_version_and_cli_of_the_installed_wheel(wheel, tmp_path):
    py = _venv(tmp_path / "venv", system_site=True)
    _pip("install", "--no-deps", "--no-index", "--ignore-installed", str(wheel), python=py)
    env = _no_compiler_env(py.parent)
    r = subprocess.run(
        [str(py), "-m", "tapegrad", "--version"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    version = wheel.name.split("-")[1]
    assert r.stdout.strip() == f"tapegrad {version}"


def test_installed_wheel_passes_tests_with_no_compiler_on_path(wheel, tmp_path):
    # A sample of the suite (gradients, seeds, linalg through BLAS, random) run by pytest against
    # the wheel in a venv; tests/conftest.py reports and checks which tapegrad is under test.
    py = _venv(tmp_path / "venv", system_site=True)
    _pip("install", "--no-deps", "--no-index", "--ignore-installed", str(wheel), python=py)
    env = _no_compiler_env(py.parent)
    tests = ROOT / "tests"
    files = [
        str(tests / f)
        for f in (
            "test_autodiff_basic.py",
            "test_seeds.py",
            "test_linalg.py",
            "test_random.py",
            "test_simd.py",
        )
    ]
    r = subprocess.run(
        [
            str(py),
            "-m",
            "pytest",
            "-o",
            "addopts=",
            "-x",
            "-p",
            "no:cacheprovider",
            f"--rootdir={ROOT}",
            *files,
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    venv_site = Path(sysconfig.get_path("purelib", vars={"base": str(tmp_path / "venv")})).resolve()
    assert f"from {venv_site / 'tapegrad'} [installed]" in r.stdout
    assert " passed" in r.stdout and " failed" not in r.stdout
