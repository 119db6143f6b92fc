"""Build the API reference into docs/api/ (or the folder given) with pdoc.

    python docs/make_api.py [OUTPUT_DIR]

This is `pdoc tapegrad -o docs/api` plus two fixes for what pybind11 binds:

- `inspect.signature` cannot read the signature of a function bound in C++ (pdoc would show
  `exp(unknown)`), but pybind11 writes it as the first line of the docstring
  (`exp(x: object) -> tapegrad._core.Tensor`). Here that line becomes the rendered signature and
  leaves the docstring. Functions whose line cannot be parsed keep pdoc's rendering.
- pdoc documents a property with its getter's docstring; pybind11 puts the text on the property
  and only a signature on the getter, so the property's own docstring is used.
"""

from __future__ import annotations

import ast
import functools
import inspect
import sys
from pathlib import Path

import pdoc
import pdoc.doc

_EMPTY = inspect.Parameter.empty


def _first_line_signature(obj):
    """(name, inspect.Signature) from a pybind11 docstring's first line, or None."""
    doc = getattr(obj, "__doc__", None) or ""
    line = doc.lstrip().split("\n", 1)[0]
    name = getattr(obj, "__name__", "")
    if not name or not line.startswith(name + "(") or ")" not in line:
        return None
    args = line[len(name) : line.rindex(")") + 1]
    try:
        fn = ast.parse(f"def f{args}: pass").body[0]
    except SyntaxError:
        return None
    a = fn.args
    params = []
    kinds = [(p, inspect.Parameter.POSITIONAL_ONLY) for p in a.posonlyargs]
    kinds += [(p, inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in a.args]
    defaults = [None] * (len(kinds) - len(a.defaults)) + list(a.defaults)
    if a.vararg:
        kinds.append((a.vararg, inspect.Parameter.VAR_POSITIONAL))
        defaults.append(None)
    kinds += [(p, inspect.Parameter.KEYWORD_ONLY) for p in a.kwonlyargs]
    defaults += list(a.kw_defaults)
    if a.kwarg:
        kinds.append((a.kwarg, inspect.Parameter.VAR_KEYWORD))
        defaults.append(None)
    for (p, kind), d in zip(kinds, defaults):
        if p.arg == "self":
            continue
        default = _EMPTY if d is None else _literal(d)
        params.append(inspect.Parameter(p.arg, kind, default=default))
    try:
        return inspect.Signature(params)
    except ValueError:
        return None


def _literal(node):
    try:
        return ast.literal_eval(node)
    except ValueError:
        return _Raw(ast.unparse(node))


class _Raw:
    """A default value shown as written (pybind11 prints some defaults as expressions)."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text


def _is_bound_in_cpp(obj):
    return inspect.isbuiltin(obj) or type(obj).__name__ == "instancemethod"


def _owner_property(fn_doc):
    """The property whose getter `fn_doc` documents (pdoc names the getter after it), or None."""
    obj = sys.modules.get(fn_doc.modulename)
    for part in fn_doc.qualname.split("."):
        obj = inspect.getattr_static(obj, part, None)
        if obj is None:
            return None
    return obj if isinstance(obj, property) and obj.fget is fn_doc.obj else None


def _signature(self, original):
    if _is_bound_in_cpp(self.obj):
        sig = _first_line_signature(self.obj)
        if sig is not None:
            return sig
    return original(self)


def _docstring(self, original):
    if _is_bound_in_cpp(self.obj):
        prop = _owner_property(self)
        if prop is not None and prop.__doc__:
            return inspect.cleandoc(prop.__doc__)
        if _first_line_signature(self.obj) is not None:
            return original(self).split("\n", 1)[-1].lstrip("\n")
    return original(self)


def _patch(attr, replacement):
    original = getattr(pdoc.doc.Function, attr).func
    prop = functools.cached_property(lambda self: replacement(self, original))
    prop.__set_name__(pdoc.doc.Function, attr)
    setattr(pdoc.doc.Function, attr, prop)


def main(argv):
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent / "api"
    _patch("signature", _signature)
    _patch("docstring", _docstring)
    pdoc.pdoc("tapegrad", output_directory=out)
    print(f"API reference written to {out / 'index.html'}")


if __name__ == "__main__":
    main(sys.argv)
