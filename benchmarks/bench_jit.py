"""tg.jit against jax.jit (skipped, with a message, while tg.jit is not built).

    python benchmarks/bench_jit.py [--libs a,b] [--json FILE] [--plot FILE.png] [--quick]

The same as `python -m tapegrad bench --suite jit`; the code lives in tapegrad/_bench.
"""

import sys

import _path  # noqa: F401  (finds tapegrad in ../python when it is built there)

from tapegrad._bench.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["--suite", "jit", *sys.argv[1:]]))
