"""The include check (tools/check_layers.py): csrc/ follows the layer order, and the check fails, with
file:line and the rule broken, on a tree that does not."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "tools" / "check_layers.py"


def _run(root):
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(root)], capture_output=True, text=True, check=False
    )


def _tree(root, files):
    for rel, text in files.items():
        p = root / "csrc" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return root


def test_the_source_tree_follows_the_layer_order():
    r = _run(REPO)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "includes follow the layer order" in r.stdout


def test_a_tree_that_follows_the_order_passes(tmp_path):
    root = _tree(
        tmp_path,
        {
            "core/tensor.h": "#pragma once\n",
            "kernels/kernels.h": '#include "core/tensor.h"\n',
            "kernels/cpu/elementwise.cpp": '#include "kernels/kernels.h"\n#include "core/tensor.h"\n',
            "autodiff/levels.cpp": '#include "core/tensor.h"\n',
            "ops/ops.h": '#include "autodiff/levels.cpp"\n#include "kernels/kernels.h"\n#include <vector>\n',
            "transforms/jacobian.cpp": '#include "ops/ops.h"\n',
            "bindings/module.cpp": '#include "transforms/jacobian.cpp"\n#include "tg_build_info.h"\n',
        },
    )
    r = _run(root)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "9 includes follow" in r.stdout


def test_includes_against_the_order_fail_with_file_line_and_rule(tmp_path):
    root = _tree(
        tmp_path,
        {
            "core/tensor.h": "#pragma once\n",
            # a lower layer reaching up: the cycles this check exists for
            "core/tensor.cpp": '#include "core/tensor.h"\n\n#include "kernels/kernels.h"\n',
            "kernels/kernels.h": '#include "core/tensor.h"\n',
            "kernels/cpu/blas.h": '#include "core/tensor.h"\n',
            "autodiff/levels.cpp": '// the level machinery\n  #  include "ops/ops.h"\n',
            "ops/ops.h": "#pragma once\n",
            # reaching around the kernels/ interface into a backend
            "ops/linalg.cpp": '#include "ops/ops.h"\n#include "kernels/cpu/blas.h"\n',
            # bindings reaching below ops
            "bindings/module.cpp": '#include "kernels/kernels.h"\n',
            # a generated header outside its layer, a file in no layer, an include that is no file
            "ops/info.cpp": '#include "tg_build_info.h"\n',
            "misc/x.cpp": "int x;\n",
            "ops/typo.cpp": '#include "ops/nope.h"\n',
            # angle brackets reach csrc/ too (it is on the include path); system headers are not checked
            "core/shape.h": "#include <vector>\n#include <ops/ops.h>\n",
        },
    )
    r = _run(root)
    assert r.returncode == 1
    out = r.stdout
    assert (
        'csrc/core/tensor.cpp:3: core may not include kernels ("kernels/kernels.h"); core may include: core'
        in out
    )
    assert 'csrc/autodiff/levels.cpp:2: autodiff may not include ops ("ops/ops.h")' in out
    assert 'csrc/ops/linalg.cpp:2: ops may not include kernels/cpu ("kernels/cpu/blas.h")' in out
    assert (
        'csrc/bindings/module.cpp:1: bindings may not include kernels ("kernels/kernels.h")' in out
    )
    assert 'csrc/ops/info.cpp:1: ops may not include the generated header "tg_build_info.h"' in out
    assert "csrc/misc/x.cpp:1: the file is in no layer" in out
    assert 'csrc/ops/typo.cpp:1: "ops/nope.h" is not a file of csrc/' in out
    assert 'csrc/core/shape.h:2: core may not include ops ("ops/ops.h")' in out
    assert len(out.strip().splitlines()) == 8, out
    assert "8 include(s) against the layer order" in r.stderr


def test_a_checkout_without_csrc_fails(tmp_path):
    r = _run(tmp_path)
    assert r.returncode == 1
    assert "no such folder" in r.stdout
