#!/usr/bin/env bash
# The GPU run of issue 13, in one go, on a machine with an NVIDIA GPU and no network:
#   1. records the machine (GPU, driver, nvcc, Python) into $OUT/env.txt;
#   2. installs the build and test dependencies from wheels carried with the checkout
#      ($TG_WHEELS, default tools/wheels/: pybind11, scipy-openblas32, numpy, pytest, hypothesis,
#      ninja, cmake; skipped when they are already importable; nvidia-cublas when it is there, for
#      the GPU matmul), never from the network;
#   3. builds tapegrad in place with the CUDA plugin (warnings are errors), for this GPU's
#      architecture only unless TG_CUDA_ARCH says otherwise (CI compiles the sm_80/sm_90 fat binary);
#   4. runs the GPU tests (tests/test_cuda.py, and the device-parametrised op tests) and fails when
#      a GPU test was skipped (no GPU found is a failure here, not a skip);
#   5. runs the GPU micro-benchmarks (tools/gpu_bench.py) into $OUT/bench.txt.
# Usage: tools/gpu_check.sh [OUT]  (default OUT: gpu_check_out/). Budget: under 8 minutes on 16 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-${OUT:-gpu_check_out}}"
mkdir -p "$OUT"
PY="${PYTHON:-python3}"
JOBS="${JOBS:-$(nproc)}"
start=$(date +%s)
stage() { echo "== $1 ($(( $(date +%s) - start )) s)" | tee -a "$OUT/log.txt"; }

stage "machine"
{
  nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv || echo "nvidia-smi: not found"
  nvcc --version | tail -n 2 || echo "nvcc: not found"
  "$PY" --version
  git rev-parse HEAD 2>/dev/null || true
} > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"

stage "dependencies"
WHEELS="${TG_WHEELS:-tools/wheels}"
if ! "$PY" -c "import pybind11, scipy_openblas32, numpy, pytest, hypothesis" 2>/dev/null; then
  if [ -d "$WHEELS" ]; then
    "$PY" -m pip install --no-index --find-links "$WHEELS" pybind11 scipy-openblas32 numpy pytest hypothesis ninja cmake
  else
    echo "missing build/test dependencies and no wheel folder $WHEELS (set TG_WHEELS)" >&2
    exit 2
  fi
fi

# cuBLAS for the GPU matmul (tapegrad[cuda]); without it the float matmul tests skip and say so.
if [ -d "$WHEELS" ] && ! "$PY" -c "import importlib.util as u; assert u.find_spec('nvidia') is not None" 2>/dev/null; then
  "$PY" -m pip install --no-index --find-links "$WHEELS" nvidia-cublas || echo "no nvidia-cublas wheel in $WHEELS"
fi

stage "build"
ARCH="${TG_CUDA_ARCH:-native}"
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DTAPEGRAD_INPLACE=ON -DTAPEGRAD_WERROR=ON \
  -DTAPEGRAD_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$ARCH" -DPython_EXECUTABLE="$(command -v "$PY")" \
  -Dpybind11_DIR="$("$PY" -m pybind11 --cmakedir)" > "$OUT/configure.txt" 2>&1 || { cat "$OUT/configure.txt"; exit 1; }
cmake --build build-gpu -j "$JOBS" > "$OUT/build.txt" 2>&1 || { tail -n 60 "$OUT/build.txt"; exit 1; }

stage "is a GPU visible"
PYTHONPATH=python "$PY" -c "
import tapegrad as tg, tapegrad._cuda as c
print('info', c.info())
assert tg.cuda.is_available(), 'no GPU: ' + c.no_device_reason()
" | tee "$OUT/gpu.txt"

stage "GPU tests"
# -rs lists every skip; a 'no CUDA GPU' skip means the GPU part did not run, which fails this check.
set +e
TAPEGRAD_TEST_SOURCE=1 PYTHONPATH=python "$PY" -m pytest -o addopts="" -p no:cacheprovider -rs -q \
  tests/test_cuda.py tests/test_device.py 2>&1 | tee "$OUT/tests.txt"
status=${PIPESTATUS[0]}
set -e
if grep -q "no CUDA GPU" "$OUT/tests.txt"; then
  echo "GPU tests were skipped" >&2
  status=1
fi

stage "GPU benchmarks"
set +e
PYTHONPATH=python "$PY" tools/gpu_bench.py 2>&1 | tee "$OUT/bench.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
set -e

stage "done (status $status)"
exit "$status"
