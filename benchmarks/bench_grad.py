"""Gradients: tiny, 1e3 and 1e6 elements, a 784-256-10 MLP; against every installed peer.

    python benchmarks/bench_grad.py [--libs a,b] [--json FILE] [--plot FILE.png] [--quick]

The same as `python -m tapegrad bench --suite grad`; the code lives in tapegrad/_bench.
"""

import sys

import _path  # noqa: F401  (finds tapegrad in ../python when it is built there)

from tapegrad._bench.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["--suite", "grad", *sys.argv[1:]]))
