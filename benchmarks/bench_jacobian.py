"""Jacobians n=4..1000, a Hessian, per-example gradients; against every installed peer.

    python benchmarks/bench_jacobian.py [--libs a,b] [--json FILE] [--plot FILE.png] [--quick]

The same as `python -m tapegrad bench --suite jacobian`; the code lives in tapegrad/_bench.
"""

import sys

import _path  # noqa: F401  (finds tapegrad in ../python when it is built there)

from tapegrad._bench.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["--suite", "jacobian", *sys.argv[1:]]))
