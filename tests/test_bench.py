"""The benchmark command line, run quickly on tapegrad and numpy only (no peers, no timing
targets): it must finish, write a median for every case, and draw its figure."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tapegrad._bench import cli, harness, suites


def run_cli(*args, timeout=120):
    cmd = [sys.executable, "-m", "tapegrad", "bench", *args]
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, check=False, env=dict(os.environ)
    )


def have_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def test_quick_grad_suite_json_and_plot(tmp_path):
    out, png = tmp_path / "grad.json", tmp_path / "grad.png"
    args = [
        "--suite",
        "grad",
        "--quick",
        "--libs",
        "tapegrad,numpy",
        "--no-progress",
        "--json",
        str(out),
    ]
    if have_matplotlib():
        args += ["--plot", str(png)]
    p = run_cli(*args)
    assert p.returncode == 0, p.stderr
    assert "tapegrad" in p.stdout and "numpy" in p.stdout
    doc = json.loads(out.read_text())
    grad = doc["suites"]["grad"]
    assert grad["libs"] == ["tapegrad", "numpy"]
    for case in suites.get("grad", quick=True).cases:
        for lib in ("tapegrad", "numpy"):
            r = grad["results"][lib][case.name]
            assert r["median"] > 0 and r["min"] <= r["median"] <= r["max"], (lib, case.name, r)
    if have_matplotlib():
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_jit_suite_times_every_case(tmp_path):
    out = tmp_path / "jit.json"
    p = run_cli(
        "--suite", "jit", "--quick", "--libs", "tapegrad", "--no-progress", "--json", str(out)
    )
    assert p.returncode == 0, p.stderr
    res = json.loads(out.read_text())["suites"]["jit"]["results"]["tapegrad"]
    for case in suites.get("jit", True).cases:
        assert res[case.name]["median"] > 0, case.name


def test_jit_suite_measures_each_memory_case_in_a_fresh_process():
    suite = suites.get("jit", False)
    memory = {c.name for c in suite.cases if c.memory}
    assert len(memory) == 2  # grad of (sin(x)*x).sum() and the expression, at 1e7
    jobs = harness.jobs_for(suite, ["tapegrad", "torch.compile"])
    for lib in ("tapegrad", "torch.compile"):
        mine = [names for libs, names in jobs if libs == [lib]]
        for name in memory:
            assert [name] in mine, (lib, name, mine)  # alone in its process
        shared = [names for names in mine if len(names) > 1]
        assert len(shared) == 1 and not memory & set(shared[0])


def test_plot_without_matplotlib_is_a_clear_message(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    assert cli.main(["--suite", "grad", "--plot", "x.png"]) == 2
    assert "matplotlib" in capsys.readouterr().err


def test_library_selection():
    libs = ["tapegrad", "numpy", "jax (eager)", "jax (jit)"]
    assert harness.select_libs("tapegrad,jax", libs) == ["tapegrad", "jax (eager)", "jax (jit)"]
    assert harness.select_libs(None, libs) == libs
    with pytest.raises(SystemExit):
        harness.select_libs("tapegrad,nosuchlib", libs)


def test_memory_helpers_see_a_large_buffer():
    n = 4_000_000  # float64: 32 MB
    assert harness.traced_peak(lambda: np.ones(n)) >= 0.9 * 8 * n
    harness.MALLOC.measuring()
    try:
        rss, method = harness.peak_rss_delta(lambda: np.ones(n))
    finally:
        harness.MALLOC.timing()
    if method == "rss-hwm":  # exact on Linux; ru_maxrss elsewhere may hide it behind older peaks
        assert rss >= 0.9 * 8 * n
