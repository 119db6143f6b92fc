"""The README's example runs and prints what its comments say."""

import contextlib
import io
import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_runs_and_prints_its_comments():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert blocks, "the README has no python example"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for b in blocks:
            exec(compile(b, str(README), "exec"), {})  # noqa: S102  (the README's own example)
    text = out.getvalue()
    assert "[ 0.  4.  8. 12.]" in text  # grad of 2 * dot(x, x)
    assert "[[1. 0. 0.]\n [0. 0. 3.]\n [0. 2. 0.]]" in text  # seed 000's Jacobian
    assert "[-3.0647151]" in text  # the third derivative of sin(x) * x at 1
