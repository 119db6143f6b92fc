#!/usr/bin/env python3
"""The include check: every `#include "..."` in csrc/ (and every `#include <...>` that names a csrc/
path) must follow the layer order.

The layers (docs/architecture.md, "Layers"), top to bottom:

    bindings -> transforms -> ops -> autodiff -> kernels -> core

A file's layer is the folder it sits in under csrc/ (csrc/kernels/<backend>/ is a layer of its own:
only that backend's files see its headers, everything else reaches it through the kernels/ interface,
kernels/dispatch.h). A layer includes its own headers and those of the layers listed for it below;
an include anywhere else, a file outside every layer, or a quoted include that names no file of
csrc/ (and is not a generated header listed below) fails the check with file:line and the rule.

Usage: python tools/check_layers.py [ROOT]   (ROOT: the checkout, with csrc/ in it; default: this
script's checkout). Exit status 0 when every include is allowed, 1 otherwise. Run by .ci/run and by
tests/test_layers.py.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# ---- the rules, written once ------------------------------------------------------------------
# Layer -> the layers its files may include (itself included). Anything not listed is refused.
ALLOWED = {
    "bindings": (
        "bindings",
        "transforms",
        "ops",
        "autodiff",
        "core",
    ),  # kernel settings: ops/runtime.h
    "transforms": ("transforms", "ops", "autodiff", "core"),
    "ops": ("ops", "autodiff", "kernels", "core"),
    # autodiff runs ops through OpHooks (core/layer_hooks.h); jit fusion builds kernels/fused.h programs
    "autodiff": ("autodiff", "kernels", "core"),
    "kernels": ("kernels", "core"),
    "kernels/cpu": ("kernels/cpu", "kernels", "core"),
    "kernels/cuda": ("kernels/cuda", "kernels", "core"),
    "core": ("core",),
}
# Headers the build generates (not in csrc/), and the layers that may include each.
GENERATED = {"tg_build_info.h": ("bindings",)}
SOURCE_SUFFIXES = {".h", ".hpp", ".cpp", ".cc", ".cu", ".cuh", ".inl"}
# -----------------------------------------------------------------------------------------------

INCLUDE = re.compile(r'^\s*#\s*include\s*(["<])([^">]+)[">]')


def layer_of(rel: str) -> str | None:
    """The layer of a path relative to csrc/ ("ops/shape.cpp" -> "ops"), or None."""
    parts = rel.split("/")
    if len(parts) >= 3 and parts[0] == "kernels" and "kernels/" + parts[1] in ALLOWED:
        return "kernels/" + parts[1]
    if len(parts) >= 2 and parts[0] in ALLOWED:
        return parts[0]
    return None


def check(root: Path) -> tuple[list[str], int]:
    """(errors, number of includes checked) for the tree under root/csrc."""
    csrc = root / "csrc"
    if not csrc.is_dir():
        return [f"{csrc}: no such folder"], 0
    errors: list[str] = []
    count = 0
    for path in sorted(p for p in csrc.rglob("*") if p.is_file() and p.suffix in SOURCE_SUFFIXES):
        rel = path.relative_to(csrc).as_posix()
        shown = f"csrc/{rel}"
        layer = layer_of(rel)
        if layer is None:
            errors.append(
                f"{shown}:1: the file is in no layer (layers: {', '.join(ALLOWED)}); "
                "put it in one, or add its folder to ALLOWED in tools/check_layers.py"
            )
            continue
        for lineno, line in enumerate(
            path.read_text(encoding="utf-8", errors="replace").splitlines(), 1
        ):
            m = INCLUDE.match(line)
            if not m:
                continue
            quote, target = m.groups()
            # <...> names a system or third-party header, unless it is a csrc/ path in disguise
            # (csrc/ is on the include path, so <ops/ops.h> would reach ops as well).
            if quote == "<" and layer_of(target) is None:
                continue
            count += 1
            if target in GENERATED:
                if layer not in GENERATED[target]:
                    errors.append(
                        f'{shown}:{lineno}: {layer} may not include the generated header "{target}" '
                        f"(only {', '.join(GENERATED[target])})"
                    )
                continue
            target_layer = layer_of(target)
            if target_layer is None or not (csrc / target).is_file():
                errors.append(
                    f'{shown}:{lineno}: "{target}" is not a file of csrc/ in a layer (write '
                    'includes from csrc/, e.g. "core/tensor.h")'
                )
                continue
            if target_layer not in ALLOWED[layer]:
                errors.append(
                    f'{shown}:{lineno}: {layer} may not include {target_layer} ("{target}"); '
                    f"{layer} may include: {', '.join(ALLOWED[layer])}"
                )
    return errors, count


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent
    errors, count = check(root)
    for e in errors:
        print(e)
    if errors:
        print(
            f"check_layers: {len(errors)} include(s) against the layer order "
            "(docs/architecture.md, Layers)",
            file=sys.stderr,
        )
        return 1
    print(f"check_layers: {count} includes follow the layer order")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
