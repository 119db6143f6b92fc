"""Shared pytest set-up for tapegrad's tests. Helper functions the test files share (close, t64,
make, f64, assert_same, ...) are in tests/helpers.py: `import helpers`."""

from __future__ import annotations

# ==== which tapegrad is under test (the installed package, never the bare source tree) ==========
# The suite tests the tapegrad that `import tapegrad` finds: in CI and for users that is the
# installed wheel (site-packages), because the checkout's python/ folder is not on sys.path.
# A developer may test an in-place build of the checkout instead (CMake -DTAPEGRAD_INPLACE=ON,
# see README: Development) by opting in explicitly:
#     TAPEGRAD_TEST_SOURCE=1 PYTHONPATH=python python -m pytest
# Without the opt-in, a tapegrad imported from the checkout's python/ stops the run at once, and
# so does a checkout without its built extension; the header of every run names the tapegrad
# under test.
import importlib.util
import os
from pathlib import Path

import pytest

_REPO = Path(__file__).resolve().parent.parent
_SOURCE_PKG = (_REPO / "python" / "tapegrad").resolve()


def _tapegrad_location():
    spec = importlib.util.find_spec("tapegrad")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).resolve().parent


def _check_tapegrad_under_test():
    """(location, kind) of the tapegrad these tests import; a UsageError that names the fix."""
    where = _tapegrad_location()
    if where is None:
        raise pytest.UsageError(
            "tapegrad is not installed: pip install . (or a wheel), "
            "or see README: Development to test an in-place build"
        )
    if where != _SOURCE_PKG:
        return where, "installed"
    if os.environ.get("TAPEGRAD_TEST_SOURCE") != "1":
        raise pytest.UsageError(
            f"the tests would import the source tree {where}, not an installed tapegrad. Install "
            "it (pip install . or a wheel) and run pytest without PYTHONPATH=python, or opt in to "
            "testing an in-place build: TAPEGRAD_TEST_SOURCE=1 PYTHONPATH=python python -m pytest"
        )
    if not any(p.name.startswith("_core.") for p in where.iterdir()):
        raise pytest.UsageError(
            f"TAPEGRAD_TEST_SOURCE=1, but {where} has no built extension (_core): build it in "
            "place first (README: Development)"
        )
    return where, "source tree (TAPEGRAD_TEST_SOURCE=1)"


_UNDER_TEST = []


def pytest_configure(config):
    config.addinivalue_line("markers", "wheel: builds or installs a wheel (tests/test_wheel.py)")
    _UNDER_TEST[:] = _check_tapegrad_under_test()


def pytest_report_header(config):
    import tapegrad

    where, kind = _UNDER_TEST
    return [
        f"tapegrad {tapegrad.__version__} from {where} [{kind}], "
        f"SIMD path {tapegrad.get_simd_path()}"
    ]


# ==== end: which tapegrad is under test =============================================================


# ==== the slow suite: tests marked `slow` (soak tests) run only with `-m slow` or TAPEGRAD_SLOW=1 ==
def pytest_collection_modifyitems(config, items):
    if os.environ.get("TAPEGRAD_SLOW") or "slow" in (config.getoption("markexpr") or ""):
        return
    slow = [it for it in items if it.get_closest_marker("slow")]
    if slow:
        items[:] = [it for it in items if not it.get_closest_marker("slow")]
        config.hook.pytest_deselected(items=slow)
