"""docs/architecture.md stays true: its Notes index lists every Note of the tree, each defined
once (a ``Note [Title]`` line underlined with ``~``) in the file the index names, and every Note
referred to anywhere is defined."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
SOURCES = [
    p
    for d in ("csrc", "python")
    for p in (ROOT / d).rglob("*")
    if p.suffix in {".h", ".cpp", ".cu", ".py", ".def"}
]
NOTE = re.compile(r"Note \[([^\]]+)\]")

if not (ROOT / "csrc").is_dir() or not DOC.is_file():
    pytest.skip(
        "needs the source tree (csrc/ and docs/), not only an installed package",
        allow_module_level=True,
    )


def definitions() -> dict[str, list[str]]:
    """Title -> files defining it: a line that is only `Note [Title]` (after a comment marker),
    followed by a line of `~`."""
    found: dict[str, list[str]] = {}
    for path in SOURCES:
        lines = path.read_text(encoding="utf-8").splitlines()
        for line, nxt in itertools.pairwise(lines):
            m = re.fullmatch(r"\s*(?://|#)?\s*Note \[([^\]]+)\]\s*", line)
            if m and re.fullmatch(r"\s*(?://|#)?\s*~{3,}\s*", nxt):
                found.setdefault(m.group(1), []).append(str(path.relative_to(ROOT)))
    return found


def index() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8").split("## Notes index", 1)[1]
    return dict(re.findall(r"^\| ([^|]+?) \| `([^`]+)` \|$", text, flags=re.M))


def test_every_note_is_defined_once():
    defs = definitions()
    assert defs, "no Note definitions found"
    twice = {k: v for k, v in defs.items() if len(v) > 1}
    assert not twice, f"Notes defined more than once: {twice}"
    # A reference may wrap across comment lines: drop the comment markers between its words.
    referred = {
        " ".join(m.replace("//", " ").split())
        for p in SOURCES
        for m in NOTE.findall(p.read_text(encoding="utf-8"))
    }
    assert referred - set(defs) == set(), (
        f"Notes referred to but never defined: {sorted(referred - set(defs))}"
    )


def test_index_lists_every_note_where_it_is():
    defs, idx = definitions(), index()
    assert set(idx) == set(defs), (
        f"docs/architecture.md's Notes index: missing {sorted(set(defs) - set(idx))}, "
        f"stale {sorted(set(idx) - set(defs))}"
    )
    wrong = {k: (idx[k], defs[k][0]) for k in idx if idx[k] != defs[k][0]}
    assert not wrong, f"Notes index names the wrong file (index, actual): {wrong}"


def test_index_parser_sees_the_table():
    assert len(index()) >= 10
