"""What a user checks first: the version (one source: pyproject.toml), `python -m tapegrad
--version`, `tapegrad.show_config()`, the BLAS found at import (or an ImportError naming the fix),
and a repository whose README, LICENSE and CHANGELOG stand alone."""

from __future__ import annotations

import importlib.metadata as md
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import tapegrad as tg

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"


def _pyproject_version():
    m = re.search(r'^version\s*=\s*"([^"]+)"', PYPROJECT.read_text(encoding="utf-8"), re.M)
    return m.group(1)


def _run(*args, **env):
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, **env),
    )


def test_version_is_pyprojects():
    assert tg.__version__ == _pyproject_version() == tg._core.__version__


def test_version_matches_the_installed_distribution():
    # An installed tapegrad (not an in-place build of the checkout) has metadata of the same version.
    if Path(tg.__file__).resolve().parent == (ROOT / "python" / "tapegrad").resolve():
        pytest.skip(
            "testing the in-place build of the checkout: no distribution metadata of its own"
        )
    assert md.version("tapegrad") == tg.__version__


def test_cli_version():
    r = _run("-m", "tapegrad", "--version")
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"tapegrad {tg.__version__}\n"


def test_cli_config_prints_show_config():
    r = _run("-m", "tapegrad", "config")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"tapegrad {tg.__version__}\n")
    assert "blas:" in r.stdout and "simd:" in r.stdout


def test_show_config_reports_the_blas_that_is_loaded():
    import scipy_openblas32

    cfg = tg.show_config(mode="dicts")
    lib = Path(cfg["blas"]["library"])
    assert lib.parent.resolve() == Path(scipy_openblas32.get_lib_dir()).resolve()
    assert cfg["blas"]["version"] == md.version("scipy-openblas32")
    assert cfg["blas"]["config"].startswith("OpenBLAS")
    assert isinstance(cfg["blas"]["threads"], int) and cfg["blas"]["threads"] >= 1
    # the library in the process's own map is the one reported
    if sys.platform.startswith("linux"):
        maps = Path("/proc/self/maps").read_text()
        assert str(lib.resolve()) in maps


def test_show_config_facts():
    cfg = tg.show_config(mode="dicts")
    assert cfg["simd"]["path"] == tg.get_simd_path()
    assert cfg["simd"]["available"][0] == "sse2"
    assert set(cfg["simd"]["available"]) <= set(cfg["simd"]["compiled"])
    assert cfg["threads"] == tg.get_num_threads()
    assert cfg["cuda"]["available"] == tg.cuda.is_available()
    assert isinstance(cfg["cuda"]["built"], bool)
    assert cfg["build"]["compiler"].split()[0] in (
        "GNU",
        "Clang",
        "AppleClang",
        "IntelLLVM",
        "MSVC",
    )
    assert "-O" in cfg["build"]["flags"]


def test_show_config_prints_every_section(capsys):
    assert tg.show_config() is None
    out = capsys.readouterr().out
    for line in (
        f"tapegrad {tg.__version__}",
        "simd:",
        "  path: ",
        "  available: ",
        "blas:",
        "  library: ",
        "  version: scipy-openblas32 ",
        "  threads: ",
        "cuda:",
        "  built: ",
        "build:",
        "  compiler: ",
        "  flags: ",
    ):
        assert line in out


def test_show_config_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match="show_config: mode must be 'stdout' or 'dicts'"):
        tg.show_config(mode="json")


def test_import_without_scipy_openblas32_is_an_import_error_naming_the_fix():
    # Stands in for an environment without the package: the import system is told it is absent.
    code = "import sys; sys.modules['scipy_openblas32'] = None\nimport tapegrad"
    r = _run("-c", code)
    assert r.returncode != 0
    assert "ImportError: tapegrad needs the scipy-openblas32 package" in r.stderr
    assert "pip install scipy-openblas32" in r.stderr


def test_the_blas_is_loaded_before_core_from_its_package():
    # _core carries no RPATH to the BLAS: what loads it is tapegrad/_config.py.
    from tapegrad import _config

    assert _config._blas["dll"] is not None
    assert _config.load_blas() == tg.show_config(mode="dicts")["blas"]["library"]


@pytest.mark.skipif(not (ROOT / "README.md").is_file(), reason="needs the repository checkout")
def test_repository_documents_stand_alone():
    for name in ("README.md", "LICENSE", "CHANGELOG.md"):
        assert (ROOT / name).is_file(), name
    assert "Apache License" in (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert f"## [{tg.__version__}]" in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "../shared" not in text and "shared/" not in text, (
            f"{page.name} points outside the repository"
        )
        for target in re.findall(r"\]\(([^)#]+)\)", text):
            if "://" not in target:
                assert (page.parent / target).exists(), f"{page.name}: broken link {target}"
