"""tg.jit's objects and the garbage collector (csrc/bindings/bind_jit.cpp, tp_traverse/tp_clear)."""

import gc
import os
import subprocess
import sys
import weakref

import tapegrad as tg


def test_jit_survives_a_collection_while_its_first_object_is_built():
    # Regression: the first tg.jit of a process looks up pybind11's type info for the Python
    # subclass; that lookup allocates, and a collection started there traversed the half-built
    # object through the still-empty cache entry: a segfault (1 run in ~5 of the test suite).
    # gc.set_threshold(1) collects on every allocation, so it happened every time.
    code = (
        "import gc, tapegrad as tg\n"
        "gc.set_threshold(1)\n"
        "for _ in range(20):\n"
        "    f = tg.jit(lambda x: x * 2)\n"
        "    assert float(f(tg.ones(2)).sum()) == 4.0\n"
        "print('ok')\n"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == "ok"


def test_jit_function_in_a_reference_cycle_is_collected():
    class Holder:
        pass

    def make():
        h = Holder()
        h.f = tg.jit(lambda x: x + h.offset)  # h -> f -> lambda -> h
        h.offset = 1.0
        assert float(h.f(tg.ones(1))) == 2.0
        return weakref.ref(h)

    ref = make()
    gc.collect()
    assert ref() is None
