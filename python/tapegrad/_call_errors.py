"""The message of a call that no overload of a C++-bound function accepts.

_core puts a call entry in front of pybind11's dispatcher (Note [Argument errors] in
csrc/bindings/call_errors.cpp); when pybind11 refuses a call with its generic "incompatible
function arguments" TypeError, the entry calls `explain` with the function's argument records and
raises a TypeError with the message it returns instead: the function's name and the problem in
Python's own words ("takes 2 positional arguments but 3 were given", "missing 1 required
positional argument: 'x'", "got an unexpected keyword argument 'k'", "argument 'axis' must be
int, not str").

This runs only on that failure path; nothing here is on the path of a call that succeeds.
"""

from __future__ import annotations

import operator
import re

# One overload record, as _core hands it over:
#   (args, nargs_pos, nargs_pos_only, has_args, has_kwargs, is_method, signature)
# args: [(name or None, has_default, accepts_None), ...], the positional ones first.


def _plural(n, word):
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _names(names):
    quoted = [f"'{n}'" for n in names]
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _arity_problem(rec, pos, kw):
    """What is wrong with the number or names of the arguments for this overload, or None."""
    args, nargs_pos, nargs_pos_only, has_args, has_kwargs, is_method, _sig = rec
    skip = 1 if is_method else 0  # self is passed positionally and never counted in messages
    n = len(pos)
    # pybind11 keeps argument records only when the binding names them: without records every
    # argument is positional and required, and called arg0, arg1, ... as in its signatures.
    names = [
        args[i][0] if i < len(args) and args[i][0] is not None else f"arg{i - skip}"
        for i in range(max(nargs_pos, len(args)))
    ]
    if skip and not args:
        names[0] = "self"
    positional = list(range(nargs_pos))
    kw_only = list(range(nargs_pos, len(args)))
    if not has_args and n > nargs_pos:
        required = sum(1 for i in positional if i >= skip and not (i < len(args) and args[i][1]))
        most = nargs_pos - skip
        takes = (
            _plural(most, "positional argument")
            if required == most
            else f"from {required} to {most} positional arguments"
        )
        given = n - skip
        return f"takes {takes} but {given} {'was' if given == 1 else 'were'} given"
    by_name = {
        names[i]: i for i in positional + kw_only if i < len(args) and args[i][0] is not None
    }
    for k in kw:
        i = by_name.get(k)
        if i is None or i < nargs_pos_only:
            if has_kwargs:
                continue
            if i is not None:
                return f"got a positional-only argument passed as keyword argument: '{k}'"
            return f"got an unexpected keyword argument '{k}'"
        if i < n:
            return f"got multiple values for argument '{k}'"
    missing_pos = [
        names[i]
        for i in positional
        if i >= max(n, skip) and not (i < len(args) and args[i][1]) and names[i] not in kw
    ]
    if missing_pos:
        word = "positional argument" if len(missing_pos) == 1 else "positional arguments"
        return f"missing {len(missing_pos)} required {word}: {_names(missing_pos)}"
    missing_kw = [names[i] for i in kw_only if not args[i][1] and names[i] not in kw]
    if missing_kw:
        word = "keyword-only argument" if len(missing_kw) == 1 else "keyword-only arguments"
        return f"missing {len(missing_kw)} required {word}: {_names(missing_kw)}"
    return None


# ---- argument kinds, from the types pybind11 writes in the signature -----------------------------


def _split_top(text, sep):
    """`text` split at `sep` outside brackets."""
    parts, depth, cur, i = [], 0, [], 0
    while i < len(text):
        c = text[i]
        if c in "[(":
            depth += 1
        elif c in "])":
            depth -= 1
        if depth == 0 and text.startswith(sep, i):
            parts.append("".join(cur))
            cur = []
            i += len(sep)
            continue
        cur.append(c)
        i += 1
    parts.append("".join(cur))
    return [p.strip() for p in parts]


def _params(signature):
    """[(name, type text)] of a pybind11 signature "(a: T, b: U = 1, *args, **kwargs) -> R"."""
    m = re.match(r"^\((.*)\)(\s*->.*)?$", signature.strip(), re.S)
    if not m or not m.group(1).strip():
        return []
    out = []
    for p in _split_top(m.group(1), ","):
        if p in ("*", "/") or p.startswith("*"):
            continue
        name, _, rest = p.partition(":")
        typ = _split_top(rest, "=")[0] if rest else "object"
        out.append((name.strip(), typ.strip()))
    return out


_SHORT = {
    "typing.SupportsInt": "int",
    "typing.SupportsFloat": "float",
    "typing.SupportsIndex": "int",
}


def _short(typ):
    """A signature type as a user reads it: "tapegrad._core.Tensor" -> "Tensor"."""
    for long, short in _SHORT.items():
        typ = typ.replace(long, short)
    typ = re.sub(r"\b(?:[A-Za-z_][A-Za-z0-9_]*\.)+([A-Za-z_][A-Za-z0-9_]*)", r"\1", typ)
    return typ


def _fits(value, typ):
    """Whether `value` can be of signature type `typ`: True when unsure (only a certain mismatch
    is reported as one)."""
    from ._core import Tensor

    alternatives = _split_top(typ, "|")
    if len(alternatives) > 1:
        return any(_fits(value, t) for t in alternatives)
    t = _short(typ)
    if t in ("object", "Any", "handle"):
        return True
    if t == "None":
        return value is None
    if t == "Tensor":
        return isinstance(value, Tensor)
    if t == "str":
        return isinstance(value, str)
    if t == "bool":
        return isinstance(value, bool) or type(value).__name__ == "bool_"
    if t == "int":
        if isinstance(value, float):
            return False
        try:
            operator.index(value)
        except TypeError:
            return False
        return True
    if t == "float":
        return not isinstance(value, str | bytes) and hasattr(value, "__float__")
    inner = re.match(r"^(Sequence|list|tuple|Iterable)\[(.*)\]$", t, re.S)
    if inner:
        if not isinstance(value, list | tuple):
            return False
        item = _split_top(inner.group(2), ",")[0]
        return all(_fits(v, item) for v in value)
    if t in ("list", "tuple", "Sequence"):
        return isinstance(value, list | tuple)
    if t.startswith("dict"):
        return isinstance(value, dict)
    if t.startswith("Callable"):
        return callable(value)
    return True


def _kind_problem(rec, pos, kw):
    """The first argument this overload cannot take by its kind, or None."""
    args, _np, _po, _ha, _hk, is_method, signature = rec
    params = _params(signature)
    skip = 1 if is_method else 0
    given = [(i, v) for i, v in enumerate(pos)]
    names = [p[0] for p in params]
    given += [(names.index(k), v) for k, v in kw.items() if k in names]
    for i, v in sorted(given, key=lambda iv: iv[0]):
        if i < skip or i >= len(params):
            continue
        name, typ = params[i]
        if v is None and i < len(args) and not args[i][2]:
            return f"argument '{name}' must be {_short(typ)}, not None"
        if not _fits(v, typ):
            return f"argument '{name}' must be {_short(typ)}, not {type(v).__name__}"
    return None


def _signature_text(name, rec):
    sig = rec[6]
    params = _params(sig)
    skip = 1 if rec[5] else 0
    inside = ", ".join(f"{n}: {_short(t)}" for n, t in params[skip:])
    return f"{name.rsplit('.', 1)[-1]}({inside})"


def explain(name, overloads, pos, kw):
    """The TypeError message for `name(*pos, **kw)`, which none of `overloads` accepts."""
    arity = [_arity_problem(rec, pos, kw) for rec in overloads]
    fitting = [rec for rec, p in zip(overloads, arity, strict=True) if p is None]
    if not fitting:
        return f"{name}() {arity[0]}"
    for rec in fitting:
        problem = _kind_problem(rec, pos, kw)
        if problem is not None and len(fitting) == 1:
            return f"{name}() {problem}"
    got = ", ".join(
        [type(v).__name__ for v in pos[1 if overloads[0][5] else 0 :]]
        + [f"{k}={type(v).__name__}" for k, v in kw.items()]
    )
    accepted = "; ".join(_signature_text(name, rec) for rec in fitting)
    return f"{name}() does not take arguments of these types ({got}); it takes {accepted}"
