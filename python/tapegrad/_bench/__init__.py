"""Benchmarks of tapegrad against numpy, PyTorch, JAX, HIPS autograd and micrograd.

Run them with ``python -m tapegrad bench --help``. The modules: ``harness`` (timing, memory,
one process per library), ``impl`` (each workload written once per library), ``suites`` (which
cases and libraries), ``worker`` (one library's process), ``plot`` (matplotlib figures) and
``cli`` (the command line).
"""
