"""Single ops (x*y latency, add/exp/tanh throughput, float32 matmul) against numpy, PyTorch, JAX.

    python benchmarks/bench_ops.py [--libs a,b] [--json FILE] [--plot FILE.png] [--quick]

The same as `python -m tapegrad bench --suite ops`; the code lives in tapegrad/_bench.
"""

import sys

import _path  # noqa: F401  (finds tapegrad in ../python when it is built there)

from tapegrad._bench.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["--suite", "ops", *sys.argv[1:]]))
