"""Every static check CI runs, in one command: ``python tools/lint.py`` (README, .ci/run).

1. ``ruff check``: the Python lint rules chosen in pyproject.toml;
2. ``ruff format --check``: the Python formatting (fix with ``ruff format``);
3. ``clang-format --dry-run --Werror``: the C++ formatting of csrc/ (.clang-format; fix with
   ``python tools/lint.py --fix``);
4. ``tools/check_layers.py``: every ``#include`` in csrc/ follows the layer order
   (docs/architecture.md).

The versions of ruff and clang-format are pinned in pyproject.toml's ``test`` extra, so a check
that passes here passes in CI. Exit status: 0 when every check passes, 1 otherwise (each failing
check prints what it found).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY_PATHS = ["python", "tests", "benchmarks", "docs", "tools", "examples"]
CXX_SUFFIXES = {".h", ".cpp", ".cu", ".cuh"}


def cxx_files() -> list[str]:
    """The C++ sources under csrc/ (the .def op table holds docstrings: not formatted)."""
    return sorted(
        str(p.relative_to(ROOT)) for p in (ROOT / "csrc").rglob("*") if p.suffix in CXX_SUFFIXES
    )


def clang_format() -> str:
    exe = shutil.which("clang-format")
    if exe is None:
        sys.exit('lint: clang-format not found: pip install ".[test]" installs the pinned version')
    return exe


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fix", action="store_true", help="reformat instead of checking")
    args = ap.parse_args(argv)
    py = [sys.executable, "-m", "ruff"]
    if args.fix:
        checks = [
            [*py, "check", "--fix", *PY_PATHS],
            [*py, "format", *PY_PATHS],
            [clang_format(), "-i", *cxx_files()],
        ]
    else:
        checks = [
            [*py, "check", *PY_PATHS],
            [*py, "format", "--check", *PY_PATHS],
            [clang_format(), "--dry-run", "--Werror", *cxx_files()],
        ]
    checks.append([sys.executable, str(ROOT / "tools" / "check_layers.py")])
    failed = []
    for cmd in checks:
        name = " ".join(Path(c).name if i == 0 else c for i, c in enumerate(cmd[:3]))
        if subprocess.run(cmd, cwd=ROOT).returncode != 0:
            failed.append(name)
    if failed:
        print("lint: failed: " + "; ".join(failed), file=sys.stderr)
        return 1
    print("lint: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
