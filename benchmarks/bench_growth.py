"""Time and peak memory against problem size (gradient 10..1e7, Jacobian 4..1000).

    python benchmarks/bench_growth.py [--libs a,b] [--json FILE] [--plot FILE.png] [--quick]

The same as `python -m tapegrad bench --suite growth`; the code lives in tapegrad/_bench.
"""

import sys

import _path  # noqa: F401  (finds tapegrad in ../python when it is built there)

from tapegrad._bench.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["--suite", "growth", *sys.argv[1:]]))
