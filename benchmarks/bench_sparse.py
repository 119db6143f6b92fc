"""Sparse Jacobians and Hessians against dense Jacobians, SciPy's sparse finite differences and
JAX + sparsejac.

    python benchmarks/bench_sparse.py [--quick] [--libs a,b] [--json FILE] [--markdown]

The same as `python -m tapegrad bench --suite sparse`; the code lives in tapegrad/_bench/sparse.py.
"""

import sys

import _path  # noqa: F401  (finds tapegrad in ../python when it is built there)

from tapegrad._bench.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["--suite", "sparse", *sys.argv[1:]]))
