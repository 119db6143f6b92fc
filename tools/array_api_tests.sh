#!/usr/bin/env bash
# Runs the data-apis array-api-tests suite (https://github.com/data-apis/array-api-tests) against
# tapegrad.numpy, as the Array API standard's own conformance check (docs/numpy.md, "Running
# array-api-tests").
#
# The suite is not on PyPI: this clones it (needs network access to github.com) at a pinned tag
# into build/array-api-tests (or $ARRAY_API_TESTS_DIR), installs its requirements with pip, and runs
# it with a fixed number of Hypothesis examples per test, the fft extension disabled, and
# tools/array_api_tests_xfails.txt as the expected failures. Extra arguments go to pytest, e.g.
#   tools/array_api_tests.sh -x array_api_tests/test_linalg.py
# Environment: ARRAY_API_TESTS_REF (the git ref to test at), MAX_EXAMPLES (default 20, the number
# the issue's reference counts were taken with), ARRAY_API_TESTS_VERSION (the revision of the
# standard to test, default 2024.12), ARRAY_API_TESTS_DIR (a git checkout, or a copy of the suite
# without git, used as it is).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The tag of May 2025: the first release that tests the 2024.12 revision (it requires it).
REF=${ARRAY_API_TESTS_REF:-2025.05.23}
MAX_EXAMPLES=${MAX_EXAMPLES:-20}
DIR=${ARRAY_API_TESTS_DIR:-$ROOT/build/array-api-tests}
PYTHON=${PYTHON:-python}

if [ ! -d "$DIR/.git" ] && [ -d "$DIR/array_api_tests" ]; then
  # A copy of the suite without git (assembled by hand where github.com cannot be reached): used
  # as it is, at whatever revision it holds; its requirements must already be installed.
  echo "array-api-tests: the local copy in $DIR (no git: revision not checked), --max-examples $MAX_EXAMPLES"
else
  if [ ! -d "$DIR/.git" ]; then
    git clone --quiet https://github.com/data-apis/array-api-tests.git "$DIR"
  fi
  git -C "$DIR" fetch --quiet --tags origin
  git -C "$DIR" checkout --quiet "$REF"
  git -C "$DIR" submodule update --init --quiet  # the standard's own text (the signature tests)
  echo "array-api-tests at $REF ($(git -C "$DIR" rev-parse HEAD)), --max-examples $MAX_EXAMPLES"
  "$PYTHON" -m pip install --quiet -r "$DIR/requirements.txt"
fi

# An in-place build (TAPEGRAD_INPLACE=ON) of this checkout is used when there is one; otherwise the
# installed tapegrad.
if compgen -G "$ROOT/python/tapegrad/_core*.so" > /dev/null; then
  export PYTHONPATH="$ROOT/python${PYTHONPATH:+:$PYTHONPATH}"
  export TAPEGRAD_TEST_SOURCE=1
fi

cd "$DIR"
# --rootdir and an empty config: the xfails path would otherwise make this checkout the rootdir,
# with its own pytest settings (addopts) and node ids that no longer start with array_api_tests/.
ARRAY_API_TESTS_MODULE=tapegrad.numpy ARRAY_API_TESTS_VERSION=${ARRAY_API_TESTS_VERSION:-2024.12} \
  "$PYTHON" -m pytest array_api_tests/ \
  --rootdir "$DIR" -c /dev/null \
  --max-examples "$MAX_EXAMPLES" \
  --hypothesis-disable-deadline \
  --disable-extension fft \
  --xfails-file "$ROOT/tools/array_api_tests_xfails.txt" \
  -p no:cacheprovider -q -rfE "$@"
