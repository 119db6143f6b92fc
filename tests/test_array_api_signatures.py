"""Every name of the Python Array API standard (2024.12): the main namespace and the linalg
extension exist in tapegrad.numpy with the standard's parameters (names, kinds, defaults), and
Tensor has the standard's attributes and methods.

The table below is the standard's function list as its specification writes the signatures
(https://data-apis.org/array-api/2024.12/API_specification/). A tapegrad function may take more
than the standard asks (numpy's extra keywords, each with a default), and may accept by keyword
what the standard makes positional-only; it may not lack a parameter, rename a keyword one or
change a default.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

import tapegrad as tg

tnp = tg.numpy
P = inspect.Parameter

STANDARD = """
__array_namespace_info__()
abs(x, /)
acos(x, /)
acosh(x, /)
add(x1, x2, /)
all(x, /, *, axis=None, keepdims=False)
any(x, /, *, axis=None, keepdims=False)
arange(start, /, stop=None, step=1, *, dtype=None, device=None)
argmax(x, /, *, axis=None, keepdims=False)
argmin(x, /, *, axis=None, keepdims=False)
argsort(x, /, *, axis=-1, descending=False, stable=True)
asarray(obj, /, *, dtype=None, device=None, copy=None)
asin(x, /)
asinh(x, /)
astype(x, dtype, /, *, copy=True, device=None)
atan(x, /)
atan2(x1, x2, /)
atanh(x, /)
bitwise_and(x1, x2, /)
bitwise_invert(x, /)
bitwise_left_shift(x1, x2, /)
bitwise_or(x1, x2, /)
bitwise_right_shift(x1, x2, /)
bitwise_xor(x1, x2, /)
broadcast_arrays(*arrays)
broadcast_to(x, /, shape)
can_cast(from_, to, /)
ceil(x, /)
clip(x, /, min=None, max=None)
concat(arrays, /, *, axis=0)
conj(x, /)
copysign(x1, x2, /)
cos(x, /)
cosh(x, /)
count_nonzero(x, /, *, axis=None, keepdims=False)
cumulative_prod(x, /, *, axis=None, dtype=None, include_initial=False)
cumulative_sum(x, /, *, axis=None, dtype=None, include_initial=False)
diff(x, /, *, axis=-1, n=1, prepend=None, append=None)
divide(x1, x2, /)
empty(shape, *, dtype=None, device=None)
empty_like(x, /, *, dtype=None, device=None)
equal(x1, x2, /)
exp(x, /)
expand_dims(x, /, *, axis=0)
expm1(x, /)
eye(n_rows, n_cols=None, /, *, k=0, dtype=None, device=None)
finfo(type, /)
flip(x, /, *, axis=None)
floor(x, /)
floor_divide(x1, x2, /)
from_dlpack(x, /, *, device=None, copy=None)
full(shape, fill_value, *, dtype=None, device=None)
full_like(x, /, fill_value, *, dtype=None, device=None)
greater(x1, x2, /)
greater_equal(x1, x2, /)
hypot(x1, x2, /)
iinfo(type, /)
imag(x, /)
isdtype(dtype, kind)
isfinite(x, /)
isinf(x, /)
isnan(x, /)
less(x1, x2, /)
less_equal(x1, x2, /)
linspace(start, stop, /, num, *, dtype=None, device=None, endpoint=True)
log(x, /)
log10(x, /)
log1p(x, /)
log2(x, /)
logaddexp(x1, x2, /)
logical_and(x1, x2, /)
logical_not(x, /)
logical_or(x1, x2, /)
logical_xor(x1, x2, /)
matmul(x1, x2, /)
matrix_transpose(x, /)
max(x, /, *, axis=None, keepdims=False)
maximum(x1, x2, /)
mean(x, /, *, axis=None, keepdims=False)
meshgrid(*arrays, indexing='xy')
min(x, /, *, axis=None, keepdims=False)
minimum(x1, x2, /)
moveaxis(x, source, destination, /)
multiply(x1, x2, /)
negative(x, /)
nextafter(x1, x2, /)
nonzero(x, /)
not_equal(x1, x2, /)
ones(shape, *, dtype=None, device=None)
ones_like(x, /, *, dtype=None, device=None)
permute_dims(x, /, axes)
positive(x, /)
pow(x1, x2, /)
prod(x, /, *, axis=None, dtype=None, keepdims=False)
real(x, /)
reciprocal(x, /)
remainder(x1, x2, /)
repeat(x, repeats, /, *, axis=None)
reshape(x, /, shape, *, copy=None)
result_type(*arrays_and_dtypes)
roll(x, /, shift, *, axis=None)
round(x, /)
searchsorted(x1, x2, /, *, side='left', sorter=None)
sign(x, /)
signbit(x, /)
sin(x, /)
sinh(x, /)
sort(x, /, *, axis=-1, descending=False, stable=True)
sqrt(x, /)
square(x, /)
squeeze(x, /, axis)
stack(arrays, /, *, axis=0)
std(x, /, *, axis=None, correction=0.0, keepdims=False)
subtract(x1, x2, /)
sum(x, /, *, axis=None, dtype=None, keepdims=False)
take(x, indices, /, *, axis=None)
take_along_axis(x, indices, /, *, axis=-1)
tan(x, /)
tanh(x, /)
tensordot(x1, x2, /, *, axes=2)
tile(x, repetitions, /)
tril(x, /, *, k=0)
triu(x, /, *, k=0)
trunc(x, /)
unique_all(x, /)
unique_counts(x, /)
unique_inverse(x, /)
unique_values(x, /)
unstack(x, /, *, axis=0)
var(x, /, *, axis=None, correction=0.0, keepdims=False)
vecdot(x1, x2, /, *, axis=-1)
where(condition, x1, x2, /)
zeros(shape, *, dtype=None, device=None)
zeros_like(x, /, *, dtype=None, device=None)
"""

LINALG = """
cholesky(x, /, *, upper=False)
cross(x1, x2, /, *, axis=-1)
det(x, /)
diagonal(x, /, *, offset=0)
eigh(x, /)
eigvalsh(x, /)
inv(x, /)
matmul(x1, x2, /)
matrix_norm(x, /, *, keepdims=False, ord='fro')
matrix_power(x, n, /)
matrix_rank(x, /, *, rtol=None)
matrix_transpose(x, /)
outer(x1, x2, /)
pinv(x, /, *, rtol=None)
qr(x, /, *, mode='reduced')
slogdet(x, /)
solve(x1, x2, /)
svd(x, /, *, full_matrices=True)
svdvals(x, /)
tensordot(x1, x2, /, *, axes=2)
trace(x, /, *, offset=0, dtype=None)
vecdot(x1, x2, /, *, axis=-1)
vector_norm(x, /, *, axis=None, keepdims=False, ord=2)
"""

CONSTANTS = ["e", "inf", "nan", "newaxis", "pi"]
DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
DTYPES += ["float32", "float64", "complex64", "complex128"]

# What tapegrad does not have yet, each with where it is being done. These are strict xfails: the
# day one exists, its test fails until it is taken off this list.
PENDING: dict[str, str] = {}

TENSOR_ATTRIBUTES = ["dtype", "device", "mT", "ndim", "shape", "size", "T"]
TENSOR_METHODS = """__abs__ __add__ __and__ __array_namespace__ __bool__ __complex__ __dlpack__
__dlpack_device__ __eq__ __float__ __floordiv__ __ge__ __getitem__ __gt__ __index__ __int__
__invert__ __le__ __lshift__ __lt__ __matmul__ __mod__ __mul__ __ne__ __neg__ __or__ __pos__
__pow__ __rshift__ __setitem__ __sub__ __truediv__ __xor__ to_device
__radd__ __rsub__ __rmul__ __rtruediv__ __rfloordiv__ __rmod__ __rpow__ __rmatmul__ __rand__
__ror__ __rxor__ __rlshift__ __rrshift__ __iadd__ __isub__ __imul__ __itruediv__ __ifloordiv__
__imod__ __ipow__ __imatmul__ __iand__ __ior__ __ixor__ __ilshift__ __irshift__""".split()


def _standard(text, prefix=""):
    out = {}
    for line in text.strip().splitlines():
        name = line[: line.index("(")]
        out[prefix + name] = _signature_of_text(line[line.index("(") :])
    return out


def _signature_of_text(params):
    """An inspect.Signature from a parameter list written as Python source, e.g. ``(x, /, *, k=0)``
    (the defaults are literals)."""
    a = ast.parse(f"def f{params}: pass").body[0].args
    out = []
    positional = a.posonlyargs + a.args
    defaults = [P.empty] * (len(positional) - len(a.defaults)) + a.defaults
    for i, (arg, d) in enumerate(zip(positional, defaults)):
        kind = P.POSITIONAL_ONLY if i < len(a.posonlyargs) else P.POSITIONAL_OR_KEYWORD
        out.append(P(arg.arg, kind, default=d if d is P.empty else ast.literal_eval(d)))
    if a.vararg:
        out.append(P(a.vararg.arg, P.VAR_POSITIONAL))
    for arg, d in zip(a.kwonlyargs, a.kw_defaults):
        out.append(
            P(arg.arg, P.KEYWORD_ONLY, default=P.empty if d is None else ast.literal_eval(d))
        )
    if a.kwarg:
        out.append(P(a.kwarg.arg, P.VAR_KEYWORD))
    return inspect.Signature(out)


_PYBIND_LINE = re.compile(r"^\w+\((.*)\) -> .*$")


def _signature(fn):
    """fn's signature; for a pybind11 function, parsed from the first line of its docstring,
    with the annotations dropped."""
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        pass
    m = _PYBIND_LINE.match((fn.__doc__ or "").splitlines()[0])
    assert m, f"{fn!r}: no signature and no pybind11 signature line"
    params = re.sub(r": [\w.\[\], ]+?(?=( = |, \w|, \*|$))", "", m.group(1))
    return _signature_of_text(f"({params})")


def _lookup(name):
    obj = tnp
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


_POSITIONAL = (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)


def _same_default(a, b):
    return (type(a) is type(b) and a == b) or (
        isinstance(a, (int, float)) and isinstance(b, (int, float)) and a == b
    )


def signature_gaps(std, ours):
    """How `ours` fails to accept every call that `std` allows (an empty list: it accepts them)."""
    gaps = []
    ours_list = list(ours.parameters.values())
    our_names = {p.name: p for p in ours_list}
    has_var_kw = any(p.kind is P.VAR_KEYWORD for p in ours_list)
    matched = set()
    for i, p in enumerate(std.parameters.values()):
        if p.kind is P.VAR_POSITIONAL:
            if not any(q.kind is P.VAR_POSITIONAL for q in ours_list):
                gaps.append(f"no *{p.name}")
            matched |= {q.name for q in ours_list if q.kind is P.VAR_POSITIONAL}
            continue
        if p.kind in _POSITIONAL:
            q = ours_list[i] if i < len(ours_list) else None
            if q is not None and q.kind is P.VAR_POSITIONAL:
                continue
            if q is None or q.kind not in _POSITIONAL:
                gaps.append(f"{p.name}: not accepted as positional argument {i}")
                matched |= {q.name} if q is not None else set()
                continue
            matched.add(q.name)
            if p.kind is P.POSITIONAL_OR_KEYWORD and q.name != p.name:
                gaps.append(f"{p.name}: called {q.name!r}, so `{p.name}=` is refused")
        else:
            q = our_names.get(p.name)
            if q is None or q.kind is P.POSITIONAL_ONLY:
                if not has_var_kw:
                    gaps.append(f"{p.name}: no keyword of that name")
                continue
            matched.add(q.name)
        if p.default is not P.empty and not _same_default(p.default, q.default):
            gaps.append(f"{p.name}: default {q.default!r}, the standard's is {p.default!r}")
    for q in ours_list:
        if (
            q.name not in matched
            and q.default is P.empty
            and q.kind in (*_POSITIONAL, P.KEYWORD_ONLY)
        ):
            gaps.append(f"{q.name}: a parameter the standard does not have, without a default")
    return gaps


FUNCTIONS = {**_standard(STANDARD), **_standard(LINALG, "linalg.")}


def _params(names):
    return [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=PENDING[n]))
        if n in PENDING
        else n
        for n in names
    ]


def test_the_table_is_the_standards_size():
    # 2024.12: 134 main-namespace functions and 23 linalg functions (with the constants and the
    # dtypes, and __array_api_version__, the standard's 2024.12 index)
    assert (len(_standard(STANDARD)), len(_standard(LINALG))) == (134, 23)


@pytest.mark.parametrize("name", _params(sorted(FUNCTIONS)))
def test_function_exists_with_the_standards_parameters(name):
    fn = _lookup(name)
    assert callable(fn)
    assert signature_gaps(FUNCTIONS[name], _signature(fn)) == []


@pytest.mark.parametrize("name", _params(CONSTANTS + DTYPES))
def test_constant_or_dtype_exists(name):
    value = getattr(tnp, name)
    if name in DTYPES:
        assert isinstance(value, tg.dtype)
        assert tnp.isdtype(value, value)


def test_version_and_namespace():
    assert tnp.__array_api_version__ == "2024.12"
    x = tg.ones(2)
    assert x.__array_namespace__() is tnp
    assert x.__array_namespace__(api_version="2024.12") is tnp
    assert x.__array_namespace__(api_version="2023.12") is tnp
    with pytest.raises(ValueError, match="api_version '2030.12' is not supported"):
        x.__array_namespace__(api_version="2030.12")
    info = tnp.__array_namespace_info__()
    for method in ("capabilities", "default_device", "default_dtypes", "devices", "dtypes"):
        assert callable(getattr(info, method))
    assert tnp.linalg is tg.linalg


@pytest.mark.parametrize("name", TENSOR_ATTRIBUTES + TENSOR_METHODS)
def test_tensor_has_the_standards_attribute(name):
    assert hasattr(tg.Tensor, name)


def test_signature_gaps_finds_what_it_should():
    std = _signature_of_text("(x, /, shape, *, axis=0, copy=None)")
    assert (
        signature_gaps(std, _signature_of_text("(a, shape, *, axis=0, copy=None, extra=1)")) == []
    )
    assert (
        signature_gaps(std, _signature_of_text("(x, /, shape, *, axis=0, copy=None, **kw)")) == []
    )
    assert signature_gaps(std, _signature_of_text("(x, /, shp, *, axis=0, copy=None)")) == [
        "shape: called 'shp', so `shape=` is refused"
    ]
    assert signature_gaps(std, _signature_of_text("(x, shape, axis=1)")) == [
        "axis: default 1, the standard's is 0",
        "copy: no keyword of that name",
    ]
    assert signature_gaps(std, _signature_of_text("(*, x, shape, axis=0, copy=None, z)")) == [
        "x: not accepted as positional argument 0",
        "shape: not accepted as positional argument 1",
        "z: a parameter the standard does not have, without a default",
    ]
    pybind = _signature(tg.clip)
    assert list(pybind.parameters) == ["x", "min", "max"]
    assert pybind.parameters["min"].default is None


# ---- tools/array_api_tests_xfails.txt: the expected failures of the data-apis suite -------------

XFAILS = Path(__file__).resolve().parent.parent / "tools" / "array_api_tests_xfails.txt"


def _xfail_entries():
    out, why = [], []
    for line in XFAILS.read_text().splitlines():
        if line.startswith("#"):
            why.append(line)
        elif line.strip():
            out.append((line, list(why)))
    return out


def test_xfails_file_lists_node_ids_each_explained():
    assert XFAILS.read_text().startswith("# Expected failures of array-api-tests")
    entries = _xfail_entries()
    for node, why in entries:
        assert re.fullmatch(r"array_api_tests/test_\w+\.py::test_\w+(\[.*\])?", node), node
        assert why, f"{node}: no comment above it says why it fails"
    nodes = [n for n, _ in entries]
    assert len(nodes) == len(set(nodes))


def test_xfails_file_lists_only_what_still_fails():
    # an entry for a missing function leaves the file when the function arrives
    for node, _ in _xfail_entries():
        name = node.split("::test_")[1]
        if node.startswith("array_api_tests/test_linalg.py::"):
            assert not hasattr(tnp.linalg, name), f"{node}: linalg.{name} exists now"
