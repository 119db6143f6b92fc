#!/usr/bin/env bash
# Run HIPS autograd's own test suite (its numpy-scope files) against tapegrad through the adapter
# in this folder: a package named `autograd` whose `autograd.numpy` is tapegrad.numpy (docs/numpy.md,
# "Running autograd's test suite": what the adapter maps and which tests fail, and why).
#
#   tools/autograd_suite/run.sh [pytest args...]
#
# AUTOGRAD_SUITE_DIR (default ~/.cache/tapegrad/autograd-suite) holds the sdist, downloaded from
# PyPI with pip and unpacked there (never into the repository). The in-place build of this
# checkout is tested when there is one (python/tapegrad/_core*.so), else the installed tapegrad.
# AUTOGRAD_SUITE_FILES replaces the list of test files below.
set -euo pipefail
VERSION=1.9.1
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DIR="${AUTOGRAD_SUITE_DIR:-$HOME/.cache/tapegrad/autograd-suite}"
SRC="$DIR/autograd-$VERSION"
if [ ! -d "$SRC/tests" ]; then
  mkdir -p "$DIR"
  python -m pip download --no-deps --no-binary :all: --dest "$DIR" "autograd==$VERSION"
  tar -xzf "$DIR/autograd-$VERSION.tar.gz" -C "$DIR"
fi
# The numpy-scope files: autograd.numpy's functions, their derivatives, linalg and the operators.
FILES="${AUTOGRAD_SUITE_FILES:-test_numpy.py test_systematic.py test_linalg.py test_binary_ops.py test_scalar_ops.py
test_logic.py test_complex.py test_jacobian.py test_truediv.py}"
ROOT="$(cd "$HERE/../.." && pwd)"
PP="$HERE"
if compgen -G "$ROOT/python/tapegrad/_core*.so" > /dev/null; then PP="$HERE:$ROOT/python"; fi
cd "$SRC/tests"
# -c /dev/null: autograd's pyproject asks for pytest-cov and pytest-xdist, which the run does not need.
# shellcheck disable=SC2086
PYTHONPATH="$PP" exec python -m pytest -c /dev/null --rootdir . -p no:cacheprovider -q $FILES "$@"
