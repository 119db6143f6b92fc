"""Fuzzing every public callable of tapegrad in forked children (see fuzz_runner, fuzz_cases).

Default run (part of the suite): a fixed, derandomized set of cases (TAPEGRAD_FUZZ_CASES, 4000
by default), a few seconds per thousand cases on 2 cores. `TAPEGRAD_FUZZ=long` runs 10**6 random
cases (TAPEGRAD_FUZZ_CASES overrides; TAPEGRAD_FUZZ_SEED picks the seed; TAPEGRAD_FUZZ_JOBS the
number of children at once, default: the CPU count).

A failing case prints as a one-line reproducer. Known failures that other branches are fixing
are listed in fuzz_expected_failures.txt: a fuzz failure of a listed kind and target is
tolerated, and every listed reproducer must still fail (a fixed one must leave the list).
"""

from __future__ import annotations

import fnmatch
import inspect
import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

import tapegrad as tg
from fuzz_cases import GENERATORS, SPAWN_TARGETS, Case, cases
from fuzz_runner import SANITIZED, Runner, reproducer, spawn_run

LONG = os.environ.get("TAPEGRAD_FUZZ", "") == "long"
NCASES = int(os.environ.get("TAPEGRAD_FUZZ_CASES", "1000000" if LONG else "4000"))
BATCH = 50
JOBS = int(os.environ.get("TAPEGRAD_FUZZ_JOBS", str(os.cpu_count() or 1)))
SEED = int(os.environ.get("TAPEGRAD_FUZZ_SEED", "0"))
EXPECTED_FILE = Path(__file__).with_name("fuzz_expected_failures.txt")


# ---- what must be covered -----------------------------------------------------------------------


def public_callables():
    """Every public callable: tg.*, tg.numpy.*, tg.linalg.*, tg.ops.* (and ops.functional), and
    Tensor's methods, properties and operators. Key -> object."""
    out = {}
    for prefix, mod in [
        ("tg", tg),
        ("tg.numpy", tg.numpy),
        ("tg.linalg", tg.linalg),
        ("tg.ops", tg.ops),
        ("tg.ops.functional", tg.ops.functional),
    ]:
        for name in getattr(mod, "__all__", None) or dir(mod):
            if name.startswith("_"):
                continue
            obj = getattr(mod, name)
            if inspect.ismodule(obj) or not callable(obj) or name == "annotations":
                continue
            if prefix == "tg.linalg" and name in ("NamedTuple", "Tensor"):
                continue  # typing's NamedTuple and the Tensor class imported for annotations
            out[f"{prefix}.{name}"] = obj
    skip = {
        "__doc__",
        "__module__",
        "__array_priority__",
        "__array_ufunc__",
        "_pybind11_conduit_v1_",
    }
    for name, obj in vars(tg.Tensor).items():
        if name in skip or (name.startswith("_") and not name.startswith("__")):
            continue
        out[f"Tensor.{name}"] = obj
    return out


def _covered(key, obj, by_object):
    if key in GENERATORS:
        return True
    if key.startswith("Tensor.__r") and key.replace("__r", "__", 1) in GENERATORS:
        return True  # reflected operator without its own target: the forward one drives it too
    return id(obj) in by_object


def test_every_public_callable_is_fuzzed():
    by_object = set()
    for key in GENERATORS:
        obj = public_callables().get(key)
        if obj is not None:
            by_object.add(id(obj))
    missing = sorted(k for k, o in public_callables().items() if not _covered(k, o, by_object))
    assert not missing, (
        f"public callables with no fuzz generator (add one to tests/fuzz_cases.py): {missing}"
    )


def test_fuzz_generators_target_real_names():
    names = set(public_callables())
    extra = {
        "Tensor.__iadd__",
        "tg.Tensor.__new__",
        "tg.Tensor.__setstate__",
        "Tensor.__reduce__",
        "Tensor.__reduce_ex__",
        "Tensor.__sizeof__",
        "Tensor.__init__",
    }
    stale = sorted(t for t in GENERATORS if t not in names and t not in extra)
    assert not stale, f"fuzz generators for names tapegrad does not have: {stale}"


# ---- expected failures ----------------------------------------------------------------------------


def load_expected():
    """Lines `kind || target || code || ref or - || why` of fuzz_expected_failures.txt."""
    items = []
    if not EXPECTED_FILE.exists():
        return items
    for ln in EXPECTED_FILE.read_text().splitlines():
        if not ln.strip() or ln.lstrip().startswith("#"):
            continue
        parts = [x.strip() for x in ln.split(" || ")]
        assert len(parts) == 5, f"bad line in {EXPECTED_FILE.name}: {ln!r}"
        kind, target, code, ref, why = parts
        assert why, f"every expected failure says why: {ln!r}"
        if kind.endswith("@sanitized"):  # only under the sanitizer build (.ci/sanitize)
            if not SANITIZED:
                continue
            kind = kind[: -len("@sanitized")]
        case_target = target if "*" not in target else "tg.listed"
        items.append(
            (
                kind,
                target,
                Case(
                    case_target,
                    code,
                    None if ref == "-" else ref,
                    strict=kind.startswith("accepted"),
                ),
                why,
            )
        )
    return items


def _matches(kind_spec, target_glob, kind, target, detail):
    """`kind_spec` is a failure kind, optionally with `:text` that the detail must contain;
    `target_glob` may use * (as fnmatch)."""
    k, _, text = kind_spec.partition(":")
    return k == kind and text in detail and fnmatch.fnmatchcase(target, target_glob)


def _describe(failures, limit=40):
    seen, lines = set(), []
    for case, kind, detail in sorted(failures, key=lambda f: len(f[0].code)):
        key = (kind, case.target, detail[:60])
        if key in seen:
            continue
        seen.add(key)
        lines.append(f"[{kind}] {case.target}: {detail}\n    {reproducer(case)}")
        if getattr(case, "ref", None):
            lines.append(f"    numpy: {case.ref}")
    return "\n".join(lines[:limit]) + (
        f"\n... {len(lines) - limit} more" if len(lines) > limit else ""
    )


def test_expected_failures_still_fail():
    items = load_expected()
    if not items:
        return
    runner = Runner(jobs=1)
    fork_items = [it for it in items if it[1] not in SPAWN_TARGETS]
    got = {}
    for case, kind, detail in runner.run([it[2] for it in fork_items]):
        got[id(case)] = (kind, detail)
    for case, kind, detail in spawn_run([it[2] for it in items if it[1] in SPAWN_TARGETS]):
        if kind != "ok":
            got[id(case)] = (kind, detail)
    bad = []
    for k, t, c, why in items:
        now = got.get(id(c), ("ok", ""))
        if not _matches(k, "*", now[0], c.target, now[1]):
            bad.append(f"{k} || {t} || {c.code}  ({why}) -- now: {now[0]} {now[1][:150]}")
    assert not bad, (
        f"these expected failures no longer fail as listed; remove them from {EXPECTED_FILE.name}:\n"
        + "\n".join(bad)
    )


def _judge(failures):
    expected = [(k, t) for k, t, _, _ in load_expected()]
    return [
        f for f in failures if not any(_matches(k, t, f[1], f[0].target, f[2]) for k, t in expected)
    ]


# ---- the fuzz run ---------------------------------------------------------------------------------


def test_fuzz():
    runner = Runner(jobs=JOBS)
    nbatches = max(1, NCASES // BATCH)
    t0 = time.monotonic()

    @settings(
        max_examples=nbatches,
        deadline=None,
        database=None,
        derandomize=not LONG,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @seed(SEED)
    @given(st.lists(cases(), min_size=BATCH, max_size=BATCH))
    def run(batch):
        runner.submit(batch)

    run()
    failures = runner.finish()
    dt = time.monotonic() - t0
    counts = dict(runner.counts)
    print(
        f"\nfuzz: {runner.ncases} cases in {dt:.1f} s ({runner.ncases / dt:.0f}/s, {JOBS} jobs): {counts}"
    )
    unexpected = _judge(failures)
    if LONG or os.environ.get("TAPEGRAD_FUZZ_REPORT"):
        print(_describe(failures, limit=400))
    assert not unexpected, f"{len(unexpected)} failing fuzz cases:\n" + _describe(unexpected)


@pytest.mark.parametrize("target", sorted(SPAWN_TARGETS))
def test_fuzz_in_fresh_interpreters(target):
    """Calls a forked child cannot make (they resize the kernel thread pool), each in a new process."""
    values = (
        ["0", "-1", "10**6", "2.5"]
        if not LONG
        else ["0", "-1", "1", "2", "10**6", "2**31", "2**63", "2.5", "'3'", "None", "np.int64(2)"]
    )
    cs = [
        Case(
            target,
            f"out = (tg.set_num_threads({v}), tg.get_num_threads(), (tg.ones(10**5) + 1).sum())",
        )
        for v in values
    ]
    failures = [f for f in spawn_run(cs) if f[1] != "ok"]
    unexpected = _judge(failures)
    assert not unexpected, _describe(unexpected)
