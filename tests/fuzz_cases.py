"""Hypothesis strategies that write fuzz cases: small Python programs against tapegrad, each with
the numpy program that should give the same value where numpy has the function.

A case is source text (so a failing one prints as a one-line reproducer). Its inputs are built
from numpy arrays written out literally (`A0 = np.array([...], 'float32').reshape(2, 3)`), then
made into Tensors and viewed the same way on both sides (`.T`, `[::-1]`, `[::2]`, broadcasting),
so both programs see the same values in the same (non-contiguous) layouts.

`GENERATORS` maps a target name ("tg.sum", "Tensor.__getitem__", "tg.linalg.det", "tg.ops.Cast")
to the function that writes cases for it; `test_fuzz.test_every_public_callable_is_fuzzed` checks
that every public callable of tapegrad is one of them (or the same object as one of them).
"""

from __future__ import annotations

import math
import types
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st


@dataclass
class Case:
    target: str
    code: str  # tapegrad program; sets `out`
    ref: str | None = None  # numpy program from the same inputs; sets `ref`
    strict: bool | str = (
        False  # numpy raising (this exception type, if a str) means tapegrad must raise too
    )
    check: str | None = None  # an expression about `out` that must be true
    rtol: float = 1.0  # tolerance multiplier for float comparisons


# ---- values -------------------------------------------------------------------------------------

DTYPES = ["float32", "float64", "float16", "int32", "int64", "bool"]
FLOATS = ["float32", "float64", "float16"]
NICE_F = [0.0, 1.0, -1.0, 0.5, 2.0, -2.5, 3.0, -0.0, 4.0, 1.5, -3.0, 0.25, 7.0, -0.5, 6.0, 5.0]
SPECIAL_F = [math.nan, math.inf, -math.inf, -0.0]
WILD_F = [1e30, -1e30, 65504.0, 1e-30, 3.4e38, 1e-7, 100.0, -100.0]
NICE_I = [0, 1, -1, 2, 3, -2, 5, 7, -7, 4]
EDGE_I32 = [2**31 - 1, -(2**31), -1, 2**16]
EDGE_I64 = [2**63 - 1, -(2**63), 2**40, -(2**31)]
HUGE_INTS = [
    2**31,
    2**31 - 1,
    2**32,
    2**62,
    2**63 - 1,
    2**63,
    2**64,
    -(2**63),
    -(2**63) - 1,
    10**30,
    0x6DB6DB6DB6DB6DB7,
]
SCALARS = [
    "0",
    "1",
    "-1",
    "2.5",
    "-0.0",
    "nan",
    "inf",
    "-inf",
    "2**31",
    "2**63",
    "-2**63-1",
    "10**30",
    "True",
    "False",
    "np.float32(1.5)",
    "np.int64(3)",
    "np.float64(-2.0)",
    "None",
    "'a'",
    "1j",
    "[1.0, 2.0]",
    "3",
    "0.5",
    "-2",
    "1e-30",
    "65504.0",
    "np.int32(-2147483648)",
    "np.bool_(True)",
]


def _fmt(v):
    if isinstance(v, bool | np.bool_):
        return "True" if v else "False"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    return repr(int(v))


def _values(draw, dtype, n, wild=False):
    if dtype == "bool":
        return draw(st.lists(st.booleans(), min_size=n, max_size=n))
    if dtype.startswith("int"):
        pool = NICE_I + (EDGE_I32 if dtype == "int32" else EDGE_I64 + EDGE_I32) * (1 if wild else 0)
        return draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n))
    pool = NICE_F + SPECIAL_F + (WILD_F if wild else [])
    if dtype == "float16":
        pool = [
            v for v in pool if not (isinstance(v, float) and abs(v) > 65504 and math.isfinite(v))
        ]
    return draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n))


def array_literal(draw, shape, dtype, wild=False):
    size = int(np.prod(shape)) if shape else 1
    if size <= 24:
        vals = _values(draw, dtype, size, wild)
        return (
            f"np.array([{', '.join(_fmt(v) for v in vals)}], '{dtype}').reshape({tuple(shape)!r})"
        )
    vals = _values(draw, dtype, 7, wild)
    return f"np.resize(np.array([{', '.join(_fmt(v) for v in vals)}], '{dtype}'), {tuple(shape)!r})"


small_dim = st.sampled_from([0, 1, 1, 2, 2, 3, 3, 4, 5])


def shapes(min_dims=0, max_dims=4):
    return st.lists(small_dim, min_size=min_dims, max_size=max_dims).map(tuple)


def _view_suffix(draw, ndim, writable=False):
    opts = ["", "", ""]
    if ndim >= 1:
        opts += ["[::-1]", "[::2]", "[1:]", "[None]"]
    if ndim >= 2:
        opts += [".T", ".swapaxes(0, -1)", "[:, ::-2]", "[..., 1:]"]
    if not writable:
        opts += ["BCAST"]
    return draw(st.sampled_from(opts))


class Prog:
    """Builds the two programs of a case: inputs shared, calls side by side."""

    def __init__(self, draw):
        self.draw = draw
        self.common: list[str] = []
        self.tg: list[str] = []
        self.np: list[str] = []
        self.n = 0

    def tensor(
        self,
        shape=None,
        dtypes=DTYPES,
        wild=False,
        views=True,
        writable=False,
        min_dims=0,
        max_dims=4,
    ):
        d = self.draw
        shape = d(shapes(min_dims, max_dims)) if shape is None else tuple(shape)
        dtype = d(st.sampled_from(dtypes))
        k = self.n
        self.n += 1
        self.common.append(f"A{k} = {array_literal(d, shape, dtype, wild)}")
        suffix = _view_suffix(d, len(shape), writable) if views else ""
        if suffix == "BCAST":
            lead = d(st.sampled_from([(2,), (1,), (0,), (3, 1)]))
            bshape = lead + shape
            self.tg.append(f"a{k} = tg.broadcast_to(tg.tensor(A{k}.copy()), {bshape!r})")
            self.np.append(f"n{k} = np.broadcast_to(A{k}.copy(), {bshape!r})")
        else:
            self.tg.append(f"a{k} = tg.tensor(A{k}.copy()){suffix}")
            self.np.append(f"n{k} = A{k}.copy(){suffix}")
        return f"a{k}", f"n{k}"

    def operand(self, shape=None, dtypes=DTYPES, wild=True):
        """A tensor, or (sometimes) a Python scalar, numpy array or list in its place."""
        kind = self.draw(st.sampled_from(["t", "t", "t", "t", "s", "np", "list"]))
        if kind == "s":
            s = self.draw(st.sampled_from(SCALARS))
            return s, s
        if kind in ("np", "list"):
            shape = self.draw(shapes(0, 3)) if shape is None else shape
            dtype = self.draw(st.sampled_from(dtypes))
            lit = array_literal(self.draw, shape, dtype, wild)
            if kind == "list":  # tapegrad reads Python floats as float32, numpy as float64
                return lit + ".tolist()", f"R.as_tensor_would({lit}.tolist())"
            return lit, lit
        return self.tensor(shape, dtypes, wild)

    def case(self, target, tg_call, np_call=None, **kw):
        code = "; ".join(self.common + self.tg + [f"out = {tg_call}"])
        ref = None
        if np_call is not None:
            ref = "; ".join(self.common + self.np + [f"ref = {np_call}"])
        return Case(target, code, ref, **kw)


def axis_arg(draw, ndim, allow_tuple=True, allow_none=True):
    opts = [st.integers(-ndim - 1, ndim)]
    if allow_none:
        opts.append(st.just(None))
    if allow_tuple:
        opts.append(st.lists(st.integers(-ndim - 1, ndim), max_size=3).map(tuple))
    opts.append(st.sampled_from([2**31, 2**63, -(2**63), 10**20]))
    v = draw(st.one_of(*opts))
    weird = draw(
        st.sampled_from(
            [None] * 12
            + [
                "1.0",
                "'a'",
                "[0]",
                "np.int64(0)",
                "tg.tensor(0)",
                "np.array([0, 1])",
                "tg.tensor([0])",
            ]
        )
    )
    return weird if weird is not None else repr(v)


def shape_arg(draw, near=None):
    """A shape argument: small, zero, -1, huge, wrapping products, or not a shape at all."""
    kind = draw(st.sampled_from(["small", "small", "small", "near", "huge", "wrap", "weird"]))
    if kind == "near" and near is not None:
        s = list(near)
        if s and draw(st.booleans()):
            s[draw(st.integers(0, len(s) - 1))] = -1
        if draw(st.booleans()):
            s = s[::-1]
        return repr(tuple(s))
    if kind == "huge":
        return repr(
            tuple(
                draw(
                    st.lists(st.sampled_from([0, 1, 2, 3] + HUGE_INTS[:6]), min_size=1, max_size=3)
                )
            )
        )
    if kind == "wrap":
        return draw(
            st.sampled_from(
                [
                    "(7, 0x6DB6DB6DB6DB6DB7)",
                    "(2**32, 2**32)",
                    "(0, 2**62)",
                    "(2**62, 4)",
                    "(2**31, 2**31, 0)",
                    "(-1, 2**62)",
                    "(3, -3)",
                    "(-2,)",
                    "(-1, -1)",
                ]
            )
        )
    if kind == "weird":
        return draw(
            st.sampled_from(
                [
                    "None",
                    "'a'",
                    "(2.0, 3)",
                    "np.array([2, 3])",
                    "tg.tensor([2, 3])",
                    "[2, 3]",
                    "3",
                    "np.int64(2)",
                    "(True, 2)",
                    "((2,), 3)",
                    "()",
                    "[]",
                ]
            )
        )
    return repr(draw(shapes(0, 4)))


def dtype_arg(draw):
    return draw(
        st.sampled_from(
            [
                "None",
                "tg.float32",
                "tg.float64",
                "tg.float16",
                "tg.int32",
                "tg.int64",
                "tg.bool_",
                "'float32'",
                "'int32'",
                "'float64'",
                "np.float32",
                "np.int64",
                "np.dtype('float16')",
                "'bool'",
                "float",
                "int",
                "bool",
                "'int8'",
                "'uint8'",
                "'complex64'",
                "np.complex128",
                "'foo'",
                "5",
                "tg.Tensor",
            ]
        )
    )


def np_dtype(expr):
    """The numpy dtype a tapegrad dtype argument means (for the reference), or None."""
    table = {
        "None": None,
        "tg.float32": "'float32'",
        "tg.float64": "'float64'",
        "tg.float16": "'float16'",
        "tg.int32": "'int32'",
        "tg.int64": "'int64'",
        "tg.bool_": "'bool'",
        "float": "'float64'",
        "int": "'int64'",
        "bool": "'bool'",
    }
    return table.get(expr, expr)


# ---- numpy references for functions numpy lacks ---------------------------------------------


def _erf(x):
    x = np.asarray(x)
    return np.vectorize(math.erf, otypes=[np.float64])(x) if x.size else x.astype(np.float64)


def _softmax(x, axis=-1):
    x = np.asarray(x, np.float64)
    m = np.max(x, axis=axis, keepdims=True) if x.size else 0
    e = np.exp(x - m)
    return e / e.sum(axis=axis, keepdims=True)


def _logsumexp(x, axis=None, keepdims=False):
    x = np.asarray(x, np.float64)
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    r = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return r if keepdims else np.squeeze(r, axis=axis) if axis is not None else r.reshape(())


R = types.SimpleNamespace(
    erf=_erf,
    gelu=lambda x: np.where(
        np.isinf(x),
        np.maximum(x, 0),
        np.asarray(x, np.float64) * 0.5 * (1 + _erf(np.asarray(x, np.float64) / math.sqrt(2))),
    ),
    sigmoid=lambda x: 1 / (1 + np.exp(-np.asarray(x, np.float64))),
    softplus=lambda x: np.logaddexp(0, np.asarray(x, np.float64)),
    relu=lambda x: np.maximum(x, 0),
    rsqrt=lambda x: 1 / np.sqrt(x),
    softmax=_softmax,
    log_softmax=lambda x, axis=-1: np.log(_softmax(x, axis)),
    logsumexp=_logsumexp,
)

UNARY = {
    "abs": "np.abs",
    "arccos": "np.arccos",
    "arcsin": "np.arcsin",
    "arctan": "np.arctan",
    "ceil": "np.ceil",
    "cos": "np.cos",
    "cosh": "np.cosh",
    "erf": "R.erf",
    "exp": "np.exp",
    "exp2": "np.exp2",
    "expm1": "np.expm1",
    "floor": "np.floor",
    "isfinite": "np.isfinite",
    "isnan": "np.isnan",
    "signbit": "np.signbit",
    "log": "np.log",
    "log1p": "np.log1p",
    "log2": "np.log2",
    "logical_not": "np.logical_not",
    "neg": "np.negative",
    "reciprocal": None,
    "relu": "R.relu",
    "round": "np.round",
    "rsqrt": "R.rsqrt",
    "sigmoid": "R.sigmoid",
    "sign": "np.sign",
    "sin": "np.sin",
    "sinh": "np.sinh",
    "softplus": "R.softplus",
    "sqrt": "np.sqrt",
    "square": "np.square",
    "tan": "np.tan",
    "tanh": "np.tanh",
    "gelu": "R.gelu",
    "copy": "np.copy",
    "flatten": "np.ravel",
    "ravel": "np.ravel",
    "stop_gradient": "np.asarray",
}
BINARY = {
    "add": "np.add",
    "sub": "np.subtract",
    "mul": "np.multiply",
    "div": "np.true_divide",
    "pow": "np.power",
    "maximum": "np.maximum",
    "minimum": "np.minimum",
    "arctan2": "np.arctan2",
    "floor_divide": "np.floor_divide",
    "mod": "np.mod",
    "equal": "np.equal",
    "not_equal": "np.not_equal",
    "greater": "np.greater",
    "greater_equal": "np.greater_equal",
    "less": "np.less",
    "less_equal": "np.less_equal",
    "logical_and": "np.logical_and",
    "logical_or": "np.logical_or",
    "logical_xor": "np.logical_xor",
    "nextafter": "np.nextafter",
}
OPERATORS = {
    "__add__": "+",
    "__sub__": "-",
    "__mul__": "*",
    "__truediv__": "/",
    "__floordiv__": "//",
    "__mod__": "%",
    "__pow__": "**",
    "__and__": "&",
    "__or__": "|",
    "__xor__": "^",
    "__eq__": "==",
    "__ne__": "!=",
    "__lt__": "<",
    "__le__": "<=",
    "__gt__": ">",
    "__ge__": ">=",
    "__matmul__": "@",
    "__lshift__": "<<",
    "__rshift__": ">>",
}
REDUCE = {
    "sum": "np.sum",
    "mean": "np.mean",
    "prod": "np.prod",
    "max": "np.max",
    "min": "np.min",
    "amax": "np.max",
    "amin": "np.min",
    "all": "np.all",
    "any": "np.any",
    "argmax": "np.argmax",
    "argmin": "np.argmin",
    "logsumexp": "R.logsumexp",
    "var": "np.var",
    "std": "np.std",
}
AXIS_FUNCS = {
    "cumsum": "np.cumsum",
    "cumprod": "np.cumprod",
    "softmax": "R.softmax",
    "log_softmax": "R.log_softmax",
    "flip": "np.flip",
    "sort": "np.sort",
    "argsort": None,
    "squeeze": "np.squeeze",
    "expand_dims": "np.expand_dims",
}

GENERATORS = {}


def gen(*targets):
    def deco(f):
        for t in targets:
            GENERATORS[t] = (f, t)
        return f

    return deco


def _callsite(target, name):
    """`tg.name(x, ...)`, or the method form for a Tensor.* target."""
    return "method" if target.startswith("Tensor.") else "func"


# ---- elementwise --------------------------------------------------------------------------------


def g_unary(draw, target):
    name = target.split(".")[-1]
    p = Prog(draw)
    a, n = p.tensor(wild=True)
    npf = UNARY.get(name)
    call = f"{a}.{name}()" if target.startswith("Tensor.") else f"tg.{name}({a})"
    floaty = name not in (
        "abs",
        "neg",
        "sign",
        "square",
        "copy",
        "flatten",
        "ravel",
        "stop_gradient",
        "logical_not",
        "isnan",
        "isfinite",
        "relu",
    )
    ref = None
    if npf:
        ref = (
            f"{npf}({n}.astype('float64') if {n}.dtype.kind in 'iub' else {n})"
            if floaty
            else f"{npf}({n})"
        )
        if name in ("abs", "neg", "sign", "square") and "bool" in p.common[-1]:
            ref = None
    return p.case(target, call, ref)


for _n in UNARY:
    gen(f"tg.{_n}")(g_unary)
for _n in [
    "abs",
    "arccos",
    "arcsin",
    "arctan",
    "ceil",
    "cos",
    "cosh",
    "erf",
    "exp",
    "exp2",
    "expm1",
    "floor",
    "isfinite",
    "isnan",
    "log",
    "log1p",
    "log2",
    "logical_not",
    "neg",
    "reciprocal",
    "relu",
    "round",
    "rsqrt",
    "sigmoid",
    "sign",
    "sin",
    "sinh",
    "softplus",
    "sqrt",
    "square",
    "tan",
    "tanh",
    "gelu",
    "copy",
    "flatten",
    "ravel",
]:
    gen(f"Tensor.{_n}")(g_unary)


def _pair_shape(draw, shape):
    kind = draw(st.sampled_from(["same", "same", "suffix", "ones", "random", "scalar"]))
    if kind == "same":
        return shape
    if kind == "suffix":
        return shape[draw(st.integers(0, len(shape))) :]
    if kind == "ones":
        return tuple(1 if draw(st.booleans()) else d for d in shape)
    if kind == "scalar":
        return ()
    return draw(shapes(0, 3))


@gen(*[f"tg.{n}" for n in BINARY])
def g_binary(draw, target):
    name = target.split(".")[-1]
    p = Prog(draw)
    shape = draw(shapes(0, 3))
    a, na = p.operand(shape)
    b, nb = p.operand(_pair_shape(draw, shape))
    ref = f"{BINARY[name]}({na}, {nb})"
    if not (a.startswith("a") or b.startswith("a")):
        ref = None  # two Python values: tapegrad's scalar types differ from numpy's
    if name == "pow" and "float16" in "".join(p.common):
        ref = None  # numpy's float16 power differs from its float32/64 one ((-inf) ** 0.5: inf, not nan)
    return p.case(target, f"tg.{name}({a}, {b})", ref)


@gen(
    *[f"Tensor.{n}" for n in OPERATORS],
    *[
        f"Tensor.__r{n[2:]}"
        for n in OPERATORS
        if n[2:-2] not in ("eq", "ne", "lt", "le", "gt", "ge")
    ],
)
def g_operator(draw, target):
    name = target.split(".")[-1]
    reflected = name.startswith("__r") and name not in ("__rshift__",)
    op = OPERATORS["__" + name[3:] if reflected else name]
    p = Prog(draw)
    if op == "@":
        a, na = p.tensor(
            draw(shapes(1, 3)), dtypes=["float32", "float64", "int32", "int64", "float16"]
        )
        sa = draw(shapes(1, 3))
        b, nb = p.operand(sa, dtypes=["float32", "float64", "int64"])
    else:
        shape = draw(shapes(0, 3))
        a, na = p.tensor(shape, wild=True)
        b, nb = p.operand(_pair_shape(draw, shape))
    if reflected:
        if b.startswith("a"):  # a Tensor on the left would call its own operator
            b = nb = draw(st.sampled_from(SCALARS[:16]))
        call, ref = f"{b} {op} {a}", f"{nb} {op} {na}"
    else:
        call, ref = f"{a} {op} {b}", f"{na} {op} {nb}"
    if b in ("None", "'a'", "1j") or (b.endswith(".tolist()") and op in ("==", "!=")):
        ref = None
    return p.case(target, call, f"np.asarray({ref})" if ref else None)


@gen("Tensor.__divmod__", "Tensor.__rdivmod__")
def g_divmod(draw, target):
    p = Prog(draw)
    shape = draw(shapes(0, 3))
    a, na = p.tensor(shape, wild=True)
    b, nb = p.operand(_pair_shape(draw, shape))
    if target.endswith("__rdivmod__"):
        if b.startswith("a"):  # a Tensor on the left would call its own __divmod__
            b = nb = draw(st.sampled_from(SCALARS[:16]))
        call, ref = f"divmod({b}, {a})", f"np.divmod({nb}, {na})"
    else:
        call, ref = f"divmod({a}, {b})", f"np.divmod({na}, {nb})"
    if b in ("None", "'a'", "1j"):
        ref = None
    return p.case(target, call, ref)


@gen("Tensor.__neg__", "Tensor.__pos__", "Tensor.__abs__", "Tensor.__invert__")
def g_unary_op(draw, target):
    op = {"__neg__": "-", "__pos__": "+", "__abs__": "abs", "__invert__": "~"}[
        target.split(".")[-1]
    ]
    p = Prog(draw)
    a, n = p.tensor(wild=True)
    if op == "abs":
        return p.case(target, f"abs({a})", f"abs({n})" if "bool" not in p.common[-1] else None)
    ref = f"{op}{n}" if not (op == "-" and "bool" in p.common[-1]) else None
    return p.case(target, f"{op}{a}", ref)


INPLACE = {
    "__iadd__": "+=",
    "__isub__": "-=",
    "__imul__": "*=",
    "__itruediv__": "/=",
    "__ifloordiv__": "//=",
    "__imod__": "%=",
    "__ipow__": "**=",
    "__iand__": "&=",
    "__ior__": "|=",
    "__ixor__": "^=",
    "__ilshift__": "<<=",
    "__irshift__": ">>=",
    "__imatmul__": "@=",
}


@gen(*[f"Tensor.{n}" for n in INPLACE])
def g_inplace(draw, target):
    """In-place operators keep the tensor's dtype (numpy raises where the result does not fit)."""
    op = (
        draw(st.sampled_from(list(INPLACE.values())))
        if target == "Tensor.__iadd__"
        else INPLACE[target.split(".")[-1]]
    )
    p = Prog(draw)
    shape = draw(shapes(0, 3))
    a, na = p.tensor(shape, wild=True, writable=True)
    b, nb = p.operand(_pair_shape(draw, shape))
    p.tg.append(f"d0 = {a}.dtype")
    p.tg.append(f"{a} {op} {b}")
    p.np.append(f"{na} {op} {nb}")
    return p.case(target, a, na, strict=True, check="out.dtype == d0")


@gen("tg.where")
def g_where(draw, target):
    p = Prog(draw)
    shape = draw(shapes(0, 3))
    c, nc = p.tensor(_pair_shape(draw, shape), dtypes=["bool", "bool", "int32", "float32"])
    a, na = p.operand(shape)
    b, nb = p.operand(_pair_shape(draw, shape))
    return p.case(target, f"tg.where({c}, {a}, {b})", f"np.where({nc}, {na}, {nb})")


@gen("tg.clip", "Tensor.clip")
def g_clip(draw, target):
    p = Prog(draw)
    a, n = p.tensor(wild=True)
    lo = draw(st.sampled_from(["None", "0", "-1.5", "nan", "2", "inf", "-2**63-1", "'a'"]))
    hi = draw(st.sampled_from(["None", "1", "2.5", "nan", "-1", "-inf", "2**64"]))
    call = f"{a}.clip({lo}, {hi})" if target.startswith("Tensor") else f"tg.clip({a}, {lo}, {hi})"
    ref = f"np.clip({n}, {lo}, {hi})" if not (lo == "None" and hi == "None") else None
    return p.case(target, call, ref)


# ---- reductions and axis functions --------------------------------------------------------------


@gen(*[f"tg.{n}" for n in REDUCE], *[f"Tensor.{n}" for n in REDUCE if n not in ("amax", "amin")])
def g_reduce(draw, target):
    name = target.split(".")[-1]
    p = Prog(draw)
    a, n = p.tensor()
    nd = len(p.common[-1])  # not used: ndim comes from the view
    del nd
    axis = axis_arg(draw, 4, allow_tuple=name not in ("argmax", "argmin"))
    keep = draw(st.booleans())
    extra, nextra = "", ""
    if name in ("var", "std"):
        ddof = draw(st.sampled_from([0, 1, 2, 5, -1, 2**63 - 1]))
        extra = nextra = f", ddof={ddof}"
    call = (
        f"{a}.{name}(axis={axis}, keepdims={keep}{extra})"
        if target.startswith("Tensor.")
        else f"tg.{name}({a}, axis={axis}, keepdims={keep}{extra})"
    )
    npf = REDUCE[name]
    ref = f"{npf}({n}, axis={axis}, keepdims={keep}{nextra})"
    if name in ("mean", "var", "std", "logsumexp"):
        ref = f"{npf}({n}.astype('float64') if {n}.dtype.kind in 'iub' else {n}, axis={axis}, keepdims={keep}{nextra})"
    if not axis.lstrip("(-").split(",")[0].strip(")").isdigit() and axis != "None":
        ref = None  # numpy reads np/tg containers as axes differently
    return p.case(target, call, ref, rtol=4.0)


@gen(
    *[f"tg.{n}" for n in AXIS_FUNCS],
    *[f"Tensor.{n}" for n in AXIS_FUNCS if n not in ("flip", "sort")],
)
def g_axis(draw, target):
    name = target.split(".")[-1]
    p = Prog(draw)
    a, n = p.tensor()
    axis = axis_arg(
        draw,
        4,
        allow_tuple=name in ("flip", "squeeze", "expand_dims"),
        allow_none=name not in ("expand_dims", "softmax", "log_softmax"),
    )
    call = f"{a}.{name}({axis})" if target.startswith("Tensor.") else f"tg.{name}({a}, {axis})"
    if name in ("sort", "argsort") and draw(st.booleans()):
        call = call[:-1] + ", descending=True)"
    ref = f"{AXIS_FUNCS[name]}({n}, {axis})" if AXIS_FUNCS[name] else None
    if "descending" in call or axis.startswith(("tg", "np", "'", "[")) or axis == "1.0":
        ref = None
    if name == "sort" and ref:
        ref = (
            None if "float" in p.common[-1] else ref
        )  # nan order differs between sorts: checked below
    return p.case(target, call, ref, rtol=4.0)


@gen("tg.norm", "Tensor.norm", "tg.linalg.norm")
def g_norm(draw, target):
    p = Prog(draw)
    a, n = p.tensor(dtypes=FLOATS + ["int32"], max_dims=3)
    ordv = draw(
        st.sampled_from(
            ["None", "1", "2", "inf", "-inf", "0", "-1", "'fro'", "'nuc'", "3", "'a'", "0.5"]
        )
    )
    axis = axis_arg(draw, 3)
    keep = draw(st.booleans())
    f = {"tg.norm": "tg.norm", "tg.linalg.norm": "tg.linalg.norm"}.get(target)
    call = f"{a}.norm({ordv}, {axis}, {keep})" if f is None else f"{f}({a}, {ordv}, {axis}, {keep})"
    ref = f"np.linalg.norm({n}.astype('float64'), {ordv}, {axis}, {keep})"
    return p.case(target, call, ref, rtol=10.0)


# ---- shape functions -----------------------------------------------------------------------------


@gen("tg.reshape", "Tensor.reshape", "Tensor.view", "tg.ops.Reshape", "tg.numpy.reshape")
def g_reshape(draw, target):
    p = Prog(draw)
    a, n = p.tensor(dtypes=["float32", "int64", "bool"])
    shape = shape_arg(draw, near=draw(shapes(0, 4)))
    copy = draw(st.sampled_from(["None", "True", "False"]))
    call = {
        "tg.numpy.reshape": f"tg.numpy.reshape({a}, {shape}, copy={copy})",
        "tg.reshape": f"tg.reshape({a}, {shape})",
        "Tensor.reshape": f"{a}.reshape({shape})",
        "Tensor.view": f"{a}.view({shape})",
        "tg.ops.Reshape": f"tg.ops.Reshape()({a}, {shape})",
    }[target]
    ref = f"np.reshape({n}, {shape})" if shape.startswith("(") else None
    if target == "tg.numpy.reshape" and copy == "False":
        ref = (
            None  # whether a view is possible depends on the strides, which numpy's views differ in
        )
    return p.case(target, call, ref, strict=ref is not None)


@gen("tg.broadcast_to", "Tensor.broadcast_to", "tg.ops.BroadcastTo")
def g_broadcast(draw, target):
    p = Prog(draw)
    a, n = p.tensor(shape=draw(shapes(0, 3)), dtypes=["float32", "int32", "bool"])
    shape = shape_arg(draw, near=draw(shapes(0, 4)))
    then = draw(st.sampled_from(["", "", " + 1", ".sum(axis=0)", ".copy()", "[0]"]))
    call = {
        "tg.broadcast_to": f"tg.broadcast_to({a}, {shape})",
        "Tensor.broadcast_to": f"{a}.broadcast_to({shape})",
        "tg.ops.BroadcastTo": f"tg.ops.BroadcastTo({shape})({a})",
    }[target]
    ref = (
        f"np.broadcast_to({n}, {shape}){then}"
        if shape.startswith("(") and target != "tg.ops.BroadcastTo"
        else None
    )
    return p.case(target, f"({call}){then}", ref, strict=ref is not None)


@gen(
    "tg.transpose",
    "Tensor.transpose",
    "tg.ops.Transpose",
    "tg.swapaxes",
    "Tensor.swapaxes",
    "Tensor.T",
)
def g_transpose(draw, target):
    p = Prog(draw)
    a, n = p.tensor()
    if target == "Tensor.T":
        return p.case(target, f"{a}.T", f"{n}.T")
    if target.endswith("swapaxes"):
        i, j = draw(st.integers(-5, 4)), draw(st.sampled_from([0, 1, -1, 2, 3, 2**31, -(2**63)]))
        call = (
            f"{a}.swapaxes({i}, {j})"
            if target.startswith("Tensor")
            else f"tg.swapaxes({a}, {i}, {j})"
        )
        return p.case(target, call, f"np.swapaxes({n}, {i}, {j})", strict=True)
    axes = draw(
        st.one_of(
            st.just(None),
            st.permutations(list(range(4))).map(tuple),
            st.lists(st.integers(-5, 4), max_size=5).map(tuple),
        )
    )
    call = {
        "tg.transpose": f"tg.transpose({a}, {axes!r})",
        "Tensor.transpose": f"{a}.transpose({axes!r})",
        "tg.ops.Transpose": f"tg.ops.Transpose()({a}, {axes!r})",
    }[target]
    return p.case(target, call, f"np.transpose({n}, {axes!r})", strict=axes is not None)


@gen("tg.tile", "Tensor.tile")
def g_tile(draw, target):
    p = Prog(draw)
    a, n = p.tensor(max_dims=3)
    reps = draw(
        st.one_of(
            st.sampled_from(["2", "0", "-1", "2**62", "(2**62, 4)", "(2**31, 2**31)", "()", "'a'"]),
            shapes(0, 4).map(repr),
        )
    )
    call = f"{a}.tile({reps})" if target.startswith("Tensor") else f"tg.tile({a}, {reps})"
    return p.case(target, call, f"np.tile({n}, {reps})")


@gen("tg.repeat", "Tensor.repeat")
def g_repeat(draw, target):
    p = Prog(draw)
    a, n = p.tensor(max_dims=3)
    reps = draw(
        st.sampled_from(
            [
                "2",
                "0",
                "-1",
                "2**62",
                "2**31",
                "[1, 2]",
                "[0, 0, 0]",
                "[2**62, 1]",
                "1.5",
                "np.array([1, 2, 3])",
                "tg.tensor([2])",
                "3",
            ]
        )
    )
    axis = axis_arg(draw, 3, allow_tuple=False)
    call = (
        f"{a}.repeat({reps}, {axis})"
        if target.startswith("Tensor")
        else f"tg.repeat({a}, {reps}, {axis})"
    )
    ok = not any(s in reps for s in ("tg.", "1.5")) and not axis.startswith(("tg", "np", "'", "["))
    return p.case(target, call, f"np.repeat({n}, {reps}, {axis})" if ok else None)


@gen("tg.concatenate", "tg.concat", "tg.stack")
def g_concat(draw, target):
    p = Prog(draw)
    base = draw(shapes(0, 3))
    k = draw(st.integers(0, 3))
    parts = []
    for _ in range(k):
        s = list(base)
        if s and draw(st.booleans()):
            s[draw(st.integers(0, len(s) - 1))] = draw(small_dim)
        parts.append(p.tensor(tuple(s) if draw(st.integers(0, 5)) else draw(shapes(0, 3))))
    axis = axis_arg(draw, 3, allow_tuple=False)
    tgl = "[" + ", ".join(x for x, _ in parts) + "]"
    npl = "[" + ", ".join(x for _, x in parts) + "]"
    fn = {"tg.concatenate": "concatenate", "tg.concat": "concatenate", "tg.stack": "stack"}[target]
    call = f"tg.{target[3:]}({tgl}, {axis})"
    ok = not axis.startswith(("tg", "np", "'", "[")) and axis != "1.0"
    return p.case(target, call, f"np.{fn}({npl}, {axis})" if ok else None)


@gen("tg.split")
def g_split(draw, target):
    p = Prog(draw)
    a, n = p.tensor(min_dims=1, max_dims=3)
    ios = draw(
        st.sampled_from(
            [
                "1",
                "2",
                "3",
                "0",
                "-1",
                "2**62",
                "[1, 2]",
                "[3, 1]",
                "[-1]",
                "[2**62]",
                "[]",
                "(0, 0)",
                "1.5",
                "'a'",
            ]
        )
    )
    axis = axis_arg(draw, 3, allow_tuple=False, allow_none=False)
    ok = (
        ios not in ("1.5", "'a'", "0", "-1")
        and not axis.startswith(("tg", "np", "'", "["))
        and axis != "1.0"
    )
    return p.case(
        target, f"tg.split({a}, {ios}, {axis})", f"np.split({n}, {ios}, {axis})" if ok else None
    )


def _index_array(draw, n_max, dtype="int64"):
    size = draw(st.integers(0, 4))
    vals = draw(
        st.lists(
            st.sampled_from([0, 1, -1, 2, n_max, -n_max - 1, 2**31, -(2**63), 2**63 - 1]),
            min_size=size,
            max_size=size,
        )
    )
    return f"np.array({vals!r}, '{dtype}')", vals


@gen("tg.take", "Tensor.take", "tg.gather", "Tensor.gather")
def g_take(draw, target):
    p = Prog(draw)
    a, n = p.tensor(max_dims=3)
    idx, _ = _index_array(draw, 3, draw(st.sampled_from(["int64", "int32"])))
    wrap = draw(
        st.sampled_from(["tg.tensor({})", "{}", "{}.tolist()", "tg.tensor({}).astype('float32')"])
    )
    axis = axis_arg(draw, 3, allow_tuple=False)
    name = target.split(".")[-1]
    call = (
        f"{a}.{name}({wrap.format(idx)}, {axis})"
        if target.startswith("Tensor")
        else f"tg.{name}({a}, {wrap.format(idx)}, {axis})"
    )
    ok = "float" not in wrap and not axis.startswith(("tg", "np", "'", "[")) and axis != "1.0"
    return p.case(target, call, f"np.take({n}, {idx}, {axis})" if ok else None, strict=ok)


@gen("tg.take_along_axis")
def g_take_along(draw, target):
    p = Prog(draw)
    a, n = p.tensor(min_dims=1, max_dims=3)
    ishape = draw(shapes(1, 3))
    size = int(np.prod(ishape))
    vals = draw(
        st.lists(st.sampled_from([0, 1, -1, 2, 3, -4, 2**40]), min_size=size, max_size=size)
    )
    idx = f"np.array({vals!r}, 'int64').reshape({ishape!r})"
    axis = draw(st.sampled_from(["0", "1", "-1", "2", "None", "5"]))
    return p.case(
        target,
        f"tg.take_along_axis({a}, tg.tensor({idx}), {axis})",
        f"np.take_along_axis({n}, {idx}, {axis})",
        strict=True,
    )


@gen("tg.one_hot")
def g_one_hot(draw, target):
    p = Prog(draw)
    idx, vals = _index_array(draw, 3)
    depth = draw(st.sampled_from(["3", "0", "1", "-1", "2**40", "2**62"]))
    axis = draw(st.sampled_from(["-1", "0", "1", "2", "-3"]))
    call = f"tg.one_hot(tg.tensor({idx}), {depth}, 1.0, 0.0, {axis})"
    ref = None
    if depth == "3" and axis == "-1" and all(0 <= v < 3 for v in vals):
        ref = f"np.eye(3, dtype='float32')[{idx}]"
    return p.case(target, call, ref)


@gen("tg.trace", "Tensor.trace")
def g_trace(draw, target):
    p = Prog(draw)
    a, n = p.tensor(min_dims=0, max_dims=4)
    off = draw(st.sampled_from([0, 1, -1, 5, -5, 2**62, -(2**63)]))
    a1, a2 = draw(st.sampled_from([0, 1, -1, 2, 5])), draw(st.sampled_from([1, 0, -1, 2, -5]))
    call = (
        f"{a}.trace({off}, {a1}, {a2})"
        if target.startswith("Tensor")
        else f"tg.trace({a}, {off}, {a1}, {a2})"
    )
    return p.case(target, call, f"np.trace({n}, {off}, {a1}, {a2})")


@gen("tg.astype", "Tensor.astype", "tg.ops.Cast", "Tensor.to")
def g_astype(draw, target):
    p = Prog(draw)
    a, n = p.tensor(wild=True)
    dt = dtype_arg(draw)
    call = {
        "tg.astype": f"tg.astype({a}, {dt})",
        "Tensor.astype": f"{a}.astype({dt})",
        "tg.ops.Cast": f"tg.ops.Cast()({a}, {dt})",
        "Tensor.to": f"{a}.to({dt})",
    }[target]
    if target == "Tensor.to" and draw(st.booleans()):
        dev = draw(st.sampled_from(["CPU", "GPU", "cpu", "Ascend", "x", ""]))
        call = f"{a}.to({dev!r})"
        return p.case(
            target, call, n if dev in ("CPU", "cpu") else None
        )  # a device: the tensor itself
    ok = dt not in ("None", "tg.Tensor", "5", "'foo'") and "complex" not in dt and "int8" not in dt
    # float -> int of nan/inf/out-of-range values is undefined in C and differs in numpy: ints only
    ref = (
        f"{n}.astype({np_dtype(dt)})"
        if ok and ("int" not in dt or "float" not in p.common[-1])
        else None
    )
    return p.case(target, call, ref if "GPU" not in call else None)


@gen("tg.einsum", "tg.linalg.einsum")
def g_einsum(draw, target):
    p = Prog(draw)
    spec = draw(
        st.sampled_from(
            [
                "ij,jk->ik",
                "ii->i",
                "ii",
                "ij->ji",
                "i,i",
                "i,j->ij",
                "...i,...i->...",
                "ij,ij->",
                "bij,bjk->bik",
                "ijk",
                "i->",
                "ij,jk",
                "é,é",
                "ij->ii",
                "i,i->j",
                "",
                "->",
                "a" * 60,
                "ab,,->",
                "iJ,Jk->ik",
                "ii->ii",
            ]
        )
    )
    nops = max(1, spec.split("->")[0].count(",") + 1) if spec else 1
    nops += draw(st.sampled_from([0, 0, 0, 1, -1]))
    ops = [
        p.tensor(draw(shapes(0, 3)), dtypes=["float32", "float64", "int64"])
        for _ in range(max(0, nops))
    ]
    args = "".join(f", {x}" for x, _ in ops)
    nargs = "".join(f", {x}" for _, x in ops)
    return p.case(target, f"tg.einsum({spec!r}{args})", f"np.einsum({spec!r}{nargs})", rtol=10.0)


@gen("tg.matmul", "tg.dot", "tg.vdot", "tg.outer", "Tensor.dot", "Tensor.__rmatmul__")
def g_matmul(draw, target):
    p = Prog(draw)
    dts = ["float32", "float64", "int64", "int32", "float16", "bool"]
    a, na = p.tensor(draw(shapes(0, 3)), dtypes=dts)
    s = draw(shapes(0, 3))
    b, nb = p.tensor(s, dtypes=dts)
    name = target.split(".")[-1]
    if target == "Tensor.__rmatmul__":
        arr = array_literal(draw, s, "float64")
        return p.case(target, f"{arr} @ {a}", f"{arr} @ {na}", rtol=10.0)
    call = f"{a}.dot({b})" if target.startswith("Tensor") else f"tg.{name}({a}, {b})"
    npn = {"vdot": "np.vdot", "outer": "np.outer", "dot": "np.dot", "matmul": "np.matmul"}[name]
    if name == "dot":
        # dot with a 0-d operand is multiply (numpy's documentation), but numpy's own dot then
        # scales through BLAS, whose scaling by 0 writes 0 over inf/nan: IEEE's multiply is the
        # reference (0 * inf is nan)
        npn = f"(np.multiply if 0 in (np.ndim({na}), np.ndim({nb})) else np.dot)"
    return p.case(target, call, f"{npn}({na}, {nb})", rtol=10.0)


# (tg.linalg.trace is the Array API's, over the last two axes: its own generator below.)
for _n in ["matmul", "dot", "vdot", "outer"]:
    GENERATORS[f"tg.linalg.{_n}"] = GENERATORS[f"tg.{_n}"][0], f"tg.{_n}"


def _matrix(p, draw, square=True, spd=False):
    n = draw(st.sampled_from([0, 1, 2, 3]))
    batch = draw(st.sampled_from([(), (), (2,), (0,), (1, 2)]))
    shape = batch + ((n, n) if square else (n, draw(st.sampled_from([1, 2, 3]))))
    dtype = draw(st.sampled_from(["float32", "float64", "float64", "int64", "float16"]))
    k = p.n
    p.n += 1
    lit = array_literal(draw, shape, dtype, wild=False)
    kind = draw(st.sampled_from(["raw", "dominant", "dominant", "spd"])) if square else "raw"
    if kind == "dominant" and n:
        lit = f"({lit} + {4 * n} * np.eye({n}, dtype='{dtype}'))"
    if (kind == "spd" or spd) and n:
        lit = f"(lambda m: m @ np.swapaxes(m, -1, -2) + {n} * np.eye({n}, dtype='{dtype}'))(np.nan_to_num({lit}))"
    p.common.append(f"A{k} = {lit}")
    p.tg.append(f"a{k} = tg.tensor(A{k}.copy())")
    p.np.append(f"n{k} = A{k}.copy()")
    return f"a{k}", f"n{k}", dtype


@gen("tg.linalg.solve", "tg.linalg.inv", "tg.linalg.det", "tg.linalg.slogdet", "tg.linalg.cholesky")
def g_linalg(draw, target):
    p = Prog(draw)
    name = target.split(".")[-1]
    a, n, dtype = _matrix(p, draw, square=draw(st.integers(0, 9)) > 0, spd=name == "cholesky")
    cond = f"np.all(np.isfinite({n})) and ({n}.size == 0 or np.all(np.linalg.cond({n}.astype('float64')) < 1e3))"
    if name == "solve":
        b, nb = p.tensor(
            draw(st.sampled_from([(0,), (1,), (2,), (3,), (3, 1), (2, 2), (2, 3, 2)])),
            dtypes=["float32", "float64"],
            views=False,
        )
        call, ref = f"tg.linalg.solve({a}, {b})", f"np.linalg.solve({n}, {nb})"
        # values for a finite right-hand side only: an inf there meets inf - inf (nan) or not
        # depending on the LAPACK path's order of operations (numpy's gesv vs getrf + getrs)
        cond += f" and np.all(np.isfinite({nb}))"
    else:
        call, ref = f"tg.linalg.{name}({a})", f"np.linalg.{name}({n})"
    if name == "slogdet":
        ref = f"tuple(np.linalg.slogdet({n}))"
    ref = f"({ref}) if {cond} else None"
    c = p.case(target, call, ref, rtol=100.0 if dtype != "float16" else 10.0)
    c.ref = c.ref.replace("; ref = (", "; ref = (") + "; ref = ref if ref is not None else out"
    return c


def _well_conditioned(n):
    """A numpy condition: `n` finite and far from singular (values compared only then)."""
    return (
        f"(np.all(np.isfinite({n})) and ({n}.size == 0 or "
        f"np.all(np.linalg.cond({n}.astype('float64')) < 1e3)))"
    )


def _finite_only(c, n):
    """Values compared only for finite inputs (with NaN or inf numpy's factors hold NaN, or it
    raises, and reconstructions mean nothing); shapes and errors still are."""
    c.ref += f"; ref = ref if np.all(np.isfinite({n})) else out"
    return c


@gen(
    "tg.linalg.svd",
    "tg.linalg.svdvals",
    "tg.linalg.eigh",
    "tg.linalg.eigvalsh",
    "tg.linalg.qr",
    "tg.linalg.pinv",
    "tg.linalg.matrix_rank",
    "tg.linalg.cond",
)
def g_linalg_decomp(draw, target):
    # The factors' signs are LAPACK's pick: reconstructions and invariants are compared.
    p = Prog(draw)
    name = target.split(".")[-1]
    square = name in ("eigh", "eigvalsh") or draw(st.integers(0, 3)) == 0
    a, n, _ = _matrix(p, draw, square=square)
    f64 = f"{n}.astype('float64')"
    if name == "svd":
        full = draw(st.booleans())
        uv = draw(st.sampled_from([True, True, False]))
        call = f"tg.linalg.svd({a}, full_matrices={full}, compute_uv={uv})"
        if not uv:
            return p.case(target, call, f"np.linalg.svd({n}, compute_uv=False)", rtol=100.0)
        out = (
            f"(lambda r, k: (r.S, (r.U[..., :k] * r.S[..., None, :]) @ r.Vh[..., :k, :], r.U.shape, "
            f"r.Vh.shape))({call}, min({a}.shape[-2:]))"
        )
        ref = f"(lambda r: (r.S, {f64}, r.U.shape, r.Vh.shape))(np.linalg.svd({n}, full_matrices={full}))"
        return _finite_only(p.case(target, out, ref, rtol=100.0), n)
    if name == "svdvals":
        return p.case(target, f"tg.linalg.svdvals({a})", f"np.linalg.svdvals({n})", rtol=100.0)
    uplo = draw(st.sampled_from(["'L'", "'U'", "'u'", "'X'"]))
    if name == "eigvalsh":
        return p.case(
            target,
            f"tg.linalg.eigvalsh({a}, {uplo})",
            f"np.linalg.eigvalsh({n}, {uplo})",
            rtol=100.0,
        )
    if name == "eigh":
        out = (
            f"(lambda r: (r.eigenvalues, (r.eigenvectors * r.eigenvalues[..., None, :]) @ "
            f"r.eigenvectors.mT))(tg.linalg.eigh({a}, {uplo}))"
        )
        tri = "np.tril" if uplo in ("'L'",) else "np.triu"
        sym = f"(lambda t: t + np.swapaxes(t, -1, -2) - t * np.eye(t.shape[-1]))({tri}({f64}))"
        ref = f"(np.linalg.eigvalsh({n}, {uplo}), {sym})"
        return _finite_only(p.case(target, out, ref, rtol=100.0), n)
    if name == "qr":
        mode = draw(st.sampled_from(["'reduced'", "'complete'", "'r'", "'raw'"]))
        if mode == "'r'":
            return p.case(
                target, f"tg.linalg.qr({a}, {mode}).shape", f"np.linalg.qr({n}, {mode}).shape"
            )
        out = f"(lambda r: (r.Q @ r.R, r.Q.shape, r.R.shape))(tg.linalg.qr({a}, {mode}))"
        ref = f"(lambda r: ({f64}, r.Q.shape, r.R.shape))(np.linalg.qr({n}, {mode}))"
        return _finite_only(p.case(target, out, ref, rtol=100.0), n)
    if name == "pinv":  # A pinv(A) A = A holds whatever the cutoff drops (values at rounding level)
        rtol = draw(st.sampled_from(["None", "1e-9"]))
        out = f"{a}.astype(tg.float64) @ tg.linalg.pinv({a}, rtol={rtol}).astype(tg.float64) @ {a}.astype(tg.float64)"
        ref = f"{f64} if np.all(np.isfinite({n})) else None"
        c = p.case(target, out, ref, rtol=1000.0)
        c.ref += "; ref = ref if ref is not None else out"
        return c
    if name == "matrix_rank":
        out = f"tg.linalg.matrix_rank({a}).shape"
        return p.case(target, out, f"np.linalg.matrix_rank({n}).shape")
    o = draw(st.sampled_from(["None", "2", "-2", "'fro'", "'nuc'", "1", "-inf"]))
    c = p.case(
        target,
        f"tg.linalg.cond({a}, {o})",
        f"np.linalg.cond({n}, {o}) if {_well_conditioned(n)} else None",
        rtol=1000.0,
    )
    c.ref += "; ref = ref if ref is not None else out"
    return c


@gen("tg.linalg.eig", "tg.linalg.eigvals")
def g_linalg_eig(draw, target):
    # The eigenvalues come complex in LAPACK's order (numpy's are real when all are): compared
    # through their sum, the trace, with the shapes.
    p = Prog(draw)
    name = target.split(".")[-1]
    a, n, _ = _matrix(p, draw, square=True)
    if name == "eigvals":
        out = f"(lambda w: (tg.numpy.real(tg.sum(w, axis=-1)), w.shape))(tg.linalg.eigvals({a}))"
        ref = f"(np.trace({n}, axis1=-2, axis2=-1).astype('float64'), np.linalg.eigvals({n}).shape)"
    else:
        out = (
            f"(lambda r: (tg.numpy.real(tg.sum(r.eigenvalues, axis=-1)), r.eigenvalues.shape, "
            f"r.eigenvectors.shape))(tg.linalg.eig({a}))"
        )
        ref = (
            f"(lambda r: (np.trace({n}, axis1=-2, axis2=-1).astype('float64'), r[0].shape, "
            f"r[1].shape))(np.linalg.eig({n}))"
        )
    return _finite_only(p.case(target, out, ref, rtol=1000.0), n)


@gen("tg.linalg.lstsq", "tg.linalg.multi_dot", "tg.linalg.trace")
def g_linalg_more(draw, target):
    p = Prog(draw)
    name = target.split(".")[-1]
    if name == "trace":
        a, n = p.tensor(dtypes=FLOATS + ["int64"], max_dims=4)
        off = draw(st.sampled_from([0, 1, -1, 3]))
        return p.case(
            target, f"tg.linalg.trace({a}, offset={off})", f"np.linalg.trace({n}, offset={off})"
        )
    if name == "multi_dot":
        k = draw(st.sampled_from([2, 3]))
        dims = [draw(st.sampled_from([0, 1, 2, 3])) for _ in range(k + 1)]
        args = [p.tensor((dims[i], dims[i + 1]), dtypes=["float32", "float64"]) for i in range(k)]
        if draw(st.booleans()):
            args[0] = p.tensor((dims[1],), dtypes=["float32", "float64"])
        ta = ", ".join(x for x, _ in args)
        na = ", ".join(y for _, y in args)
        c = p.case(
            target, f"tg.linalg.multi_dot([{ta}])", f"np.linalg.multi_dot([{na}])", rtol=10.0
        )
        # numpy picks the cheapest order of the products: with inf entries the two differ
        c.ref += f"; ref = ref if all(np.all(np.isfinite(v)) for v in [{na}]) else out"
        return c
    m, k = draw(st.sampled_from([0, 1, 2, 3, 4])), draw(st.sampled_from([0, 1, 2, 3]))
    a, n = p.tensor((m, k), dtypes=["float32", "float64", "int64"])
    rows = m if draw(st.integers(0, 5)) else m + 1
    b, nb = p.tensor(
        draw(st.sampled_from([(rows,), (rows, 2), (rows, 0)])), dtypes=["float32", "float64"]
    )
    out = f"tg.linalg.lstsq({a}, {b})[0]"
    ref = f"np.linalg.lstsq({n}, {nb})[0] if {_well_conditioned(n)} and np.all(np.isfinite({nb})) else None"
    c = p.case(target, out, ref, rtol=1000.0)
    c.ref += "; ref = ref if ref is not None else out"
    return c


@gen("tg.linalg.SVDResult", "tg.linalg.EighResult", "tg.linalg.EigResult", "tg.linalg.QRResult")
def g_decomp_results(draw, target):
    p = Prog(draw)
    a, n = p.tensor(shape=(2, 2))
    return p.case(
        target,
        f"{target}({a}, {a})[1] if '{target}'[-9:] != 'SVDResult' else {target}({a}, {a}, {a}).Vh",
        f"{n}",
    )


@gen("tg.linalg.SlogdetResult")
def g_slogdet_result(draw, target):
    p = Prog(draw)
    a, n = p.tensor(shape=())
    return p.case(target, f"tg.linalg.SlogdetResult({a}, {a}).logabsdet", f"{n}")


# ---- creation -----------------------------------------------------------------------------------


@gen("tg.zeros", "tg.ones", "tg.empty", "tg.full")
def g_fill(draw, target):
    p = Prog(draw)
    name = target[3:]
    shape = shape_arg(draw)
    dt = dtype_arg(draw)
    fill = ""
    if name == "full":
        fill = ", " + draw(st.sampled_from(SCALARS))
    call = f"tg.{name}({shape}{fill}, dtype={dt})"
    npd = np_dtype(dt)
    ok = (
        shape.startswith("(")
        and dt not in ("tg.Tensor", "5", "'foo'", "'uint8'", "'int8'")
        and "complex" not in dt
    )
    if name == "empty":
        return p.case(target, call + ".shape", f"np.empty({shape}).shape" if ok else None)
    if name == "full" and npd is None:
        npd = "np.asarray(" + fill[2:] + ").dtype" if fill[2:] not in ("None", "'a'") else None
        if fill[2:] in ("2.5", "-0.0", "nan", "inf", "-inf", "0.5", "1e-30", "65504.0"):
            npd = "'float32'"
    ref = f"np.{name}({shape}{fill}, dtype={npd})" if ok else None
    return p.case(target, call, ref, strict=name == "full" and ok and dt != "None")


@gen("tg.zeros_like", "tg.ones_like", "tg.empty_like", "tg.full_like")
def g_like(draw, target):
    p = Prog(draw)
    a, n = p.tensor()
    name = target[3:]
    dt = dtype_arg(draw)
    fill = ", " + draw(st.sampled_from(SCALARS)) if name == "full_like" else ""
    call = f"tg.{name}({a}{fill}, dtype={dt})"
    ok = dt not in ("tg.Tensor", "5", "'foo'", "'uint8'", "'int8'") and "complex" not in dt
    if name == "empty_like":
        return p.case(target, call + ".shape", f"{n}.shape")
    ref = f"np.{name}({n}{fill}, dtype={np_dtype(dt)})" if ok else None
    return p.case(target, call, ref, strict=name == "full_like" and ok and dt != "None")


@gen("tg.eye")
def g_eye(draw, target):
    p = Prog(draw)
    N = draw(st.sampled_from(["3", "0", "1", "-1", "2**31", "2**62", "2.0", "None"]))
    M = draw(st.sampled_from(["None", "2", "0", "-3", "2**62", "4"]))
    k = draw(st.sampled_from(["0", "1", "-1", "5", "-2**63", "2**63-1"]))
    dt = draw(st.sampled_from(["None", "tg.int32", "tg.float64", "tg.bool_"]))
    return p.case(
        target,
        f"tg.eye({N}, {M}, {k}, {dt})",
        f"np.eye({N}, {M}, {k}, {np_dtype(dt) or 'float32'})",
    )


@gen("tg.numpy.identity")
def g_identity(draw, target):
    p = Prog(draw)
    n = draw(st.sampled_from(["3", "0", "1", "-1", "2.0", "True", "np.int32(2)", "'2'"]))
    dt = draw(st.sampled_from(["None", "tg.int32", "tg.float64", "tg.bool_"]))
    return p.case(
        target,
        f"tg.numpy.identity({n}, {dt})",
        f"np.identity({n}, {np_dtype(dt) or 'np.float32'})",
        strict=True,
    )


@gen("Tensor.real", "Tensor.imag", "Tensor.conj", "Tensor.conjugate")
def g_parts(draw, target):
    name = target.split(".")[-1]
    p = Prog(draw)
    a, n = p.tensor()
    call = "()" if name.startswith("conj") else ""
    return p.case(target, f"{a}.{name}{call}", f"{n}.{name}{call}")


@gen("tg.arange")
def g_arange(draw, target):
    p = Prog(draw)
    vals = [
        "0",
        "1",
        "3",
        "-2",
        "2.5",
        "0.1",
        "nan",
        "inf",
        "2**62",
        "-2**63",
        "2**63",
        "10**30",
        "1e18",
        "0.3",
    ]
    args = draw(st.lists(st.sampled_from(vals), min_size=1, max_size=3))
    if len(args) == 3 and draw(st.booleans()):
        args[2] = draw(st.sampled_from(["0", "-1", "1e-30", "-0.5", "2**62"]))
    dt = draw(st.sampled_from(["None", "None", "tg.int32", "tg.float64", "tg.float16", "tg.int64"]))
    a = ", ".join(args)
    return p.case(
        target, f"tg.arange({a}, dtype={dt})", f"np.arange({a}, dtype={np_dtype(dt)})", strict=True
    )


@gen("tg.linspace")
def g_linspace(draw, target):
    p = Prog(draw)
    start, stop = (
        draw(st.sampled_from(["0", "1", "-2.5", "nan", "inf", "1e30"])),
        draw(st.sampled_from(["1", "0", "10", "-inf", "2**63"])),
    )
    num = draw(st.sampled_from(["5", "0", "1", "-1", "2**62", "2.5", "50"]))
    ep = draw(st.booleans())
    dt = draw(st.sampled_from(["None", "tg.float64", "tg.int32"]))
    ref = f"np.linspace({start}, {stop}, {num}, {ep}, dtype={np_dtype(dt) or 'float32'})"
    if dt == "tg.int32" and {start, stop} & {"nan", "inf", "-inf", "1e30", "2**63"}:
        # the float values cast to int32: nan/inf/out-of-range casts are undefined in C and
        # differ in numpy (see the cast generator): no crash is checked, not the values
        ref = None
    return p.case(target, f"tg.linspace({start}, {stop}, {num}, {ep}, dtype={dt})", ref, rtol=10.0)


def _py_data(draw, depth=0):
    """Nested Python data for tensor(): ragged lists, huge ints, mixed types."""
    leaf = st.sampled_from(
        [
            "1",
            "2.5",
            "-1",
            "True",
            "2**40",
            "2**63",
            "-2**63",
            "-2**63-1",
            "10**30",
            "nan",
            "-0.0",
            "inf",
            "None",
            "'a'",
            "1j",
            "np.float16(3)",
            "np.int64(2**62)",
            "65504.0",
            "3.5e38",
            "2**31",
            "-2**31",
        ]
    )
    if depth >= 3 or draw(st.integers(0, 3)) == 0:
        return draw(leaf)
    k = draw(st.integers(0, 4))
    items = [_py_data(draw, depth + 1) for _ in range(k)]
    if items and draw(st.integers(0, 2)) > 0:  # mostly rectangular
        items = [items[0]] * k
    return "[" + ", ".join(items) + "]"


@gen("tg.tensor", "tg.Tensor", "tg.numpy.array", "tg.numpy.asarray", "tg.numpy.ndarray")
def g_tensor(draw, target):
    p = Prog(draw)
    kind = draw(st.sampled_from(["py", "py", "np", "np", "tensor"]))
    if kind == "py":
        data = _py_data(draw)
    elif kind == "np":
        dt = draw(
            st.sampled_from(
                DTYPES
                + [
                    "uint8",
                    "int8",
                    "int16",
                    "uint64",
                    "uint32",
                    "complex64",
                    "object",
                    "<U3",
                    "datetime64[s]",
                    ">f4",
                    ">i8",
                    "float128" if hasattr(np, "float128") else "float64",
                ]
            )
        )
        shape = draw(shapes(0, 3))
        src = (
            "float64"
            if dt in ("object", "<U3", "datetime64[s]", ">f4", ">i8", "float128") or "complex" in dt
            else dt
        )
        if dt.startswith("u"):
            src = "int64"
        lit = array_literal(draw, shape, src if src in DTYPES else "int64", wild=True)
        view = _view_suffix(draw, len(shape))
        view = "" if view == "BCAST" else view
        bc = draw(st.sampled_from(["", "", "np.broadcast_to({}, (2,) + {}.shape)"]))
        data = f"{lit}.astype('{dt}'){view}"
        if bc:
            data = bc.format(data, data)
    else:
        a, _ = p.tensor()
        data = a
    dt = dtype_arg(draw)
    fname = {
        "tg.tensor": "tg.tensor",
        "tg.Tensor": "tg.Tensor",
        "tg.numpy.array": "tg.numpy.array",
        "tg.numpy.asarray": "tg.numpy.asarray",
        "tg.numpy.ndarray": "tg.numpy.ndarray",
    }[target]
    call = f"{fname}({data}, {dt})"
    npd = np_dtype(dt)
    if npd is None and kind == "py":
        npd = "R.default_dtype(" + data + ")"
    ok = dt not in ("tg.Tensor", "5", "'foo'") and kind != "tensor"
    ref = f"R.strict_array({data}, {npd})" if ok else None
    return p.case(target, call, ref, strict=ok)


def _strict_array(data, dtype=None):
    """numpy's conversion, with the cases numpy only warns about (or turns into objects) raised."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if isinstance(data, np.ndarray) and dtype is not None:
            # float -> int truncates as numpy; NaN, inf and out-of-range values (numpy warns:
            # "invalid value encountered in cast") raise here
            return np.asarray(data).astype(dtype)
        a = np.array(data, dtype=dtype)
    if a.dtype.kind in "OUSMmV" or (a.dtype.kind == "c" and a.dtype.itemsize > 16):
        raise TypeError(f"unsupported dtype {a.dtype}")
    return a


def _default_dtype(data):
    a = np.array(data)
    if a.dtype == np.float64:
        return "float32"
    return None


def _as_tensor_would(data):
    if not isinstance(
        data, list
    ):  # .tolist() of a 0-d array: a Python scalar, weak in both libraries
        return data
    a = np.array(data)
    return a.astype(np.float32) if a.dtype == np.float64 else a


R.strict_array = _strict_array
R.as_tensor_would = _as_tensor_would
R.default_dtype = _default_dtype


@gen("tg.from_dlpack", "Tensor.__dlpack__", "Tensor.__dlpack_device__")
def g_dlpack(draw, target):
    p = Prog(draw)
    if target == "Tensor.__dlpack_device__":
        a, n = p.tensor()
        return p.case(target, f"tuple({a}.__dlpack_device__())", "(1, 0)")
    if draw(st.booleans()):
        a, n = p.tensor()
        src = a
    else:
        shape = draw(shapes(0, 3))
        dt = draw(st.sampled_from(DTYPES + ["uint8", "complex64"]))
        lit = array_literal(draw, shape, "int64" if dt in ("uint8", "complex64") else dt)
        view = _view_suffix(draw, len(shape))
        view = "" if view == "BCAST" else view
        src = n = f"{lit}.astype('{dt}'){view}"
    kw = draw(
        st.sampled_from(
            ["", ", copy=True", ", copy=False", ", device=None", ", device='GPU'", ", copy='x'"]
        )
    )
    if target == "Tensor.__dlpack__" and src.startswith("a"):
        return p.case(target, f"np.from_dlpack({src})", f"np.asarray({n})")
    return p.case(
        target,
        f"tg.from_dlpack({src}{kw})",
        f"np.asarray({n})" if kw in ("", ", copy=True") else None,
    )


@gen("tg.rand", "tg.randn", "tg.uniform", "tg.normal", "tg.randint")
def g_random(draw, target):
    p = Prog(draw)
    name = target[3:]
    shape = shape_arg(draw)
    dt = draw(
        st.sampled_from(["None", "tg.float64", "tg.float16", "tg.int32", "tg.bool_", "'float32'"])
    )
    if name in ("rand", "randn"):
        form = draw(st.sampled_from(["pos", "tuple", "kw"]))
        if form == "pos" and shape.startswith("(") and shape != "()":
            call = f"tg.{name}(*{shape}, dtype={dt})"
        elif form == "tuple":
            call = f"tg.{name}({shape}, dtype={dt})"
        else:
            call = f"tg.{name}(shape={shape}, dtype={dt})"
    elif name == "randint":
        lo, hi = (
            draw(st.sampled_from(["0", "5", "-3", "2**62", "-2**63", "nan"])),
            draw(st.sampled_from(["None", "10", "0", "2**63", "-5", "2**31"])),
        )
        call = f"tg.randint({lo}, {hi}, shape={shape}, dtype={dt})"
    else:
        a1, a2 = (
            draw(st.sampled_from(["0.0", "-1", "nan", "inf", "1e30"])),
            draw(st.sampled_from(["1.0", "-1.0", "0.0", "inf", "nan"])),
        )
        call = f"tg.{name}({a1}, {a2}, shape={shape}, dtype={dt})"
    seed = draw(st.integers(0, 3))
    p.tg.append(f"tg.set_seed({seed})")
    check = (
        f"tuple(out.shape) == np.empty({shape}).shape"
        if shape.startswith("(") and "2**" not in shape and "-" not in shape
        else None
    )
    return p.case(target, call, None, check=check)


@gen("tg.set_seed", "tg.get_seed")
def g_seed(draw, target):
    p = Prog(draw)
    s = draw(
        st.sampled_from(
            [
                "0",
                "1",
                "2**64 - 1",
                "2**64",
                "-1",
                "1.5",
                "'a'",
                "None",
                "np.uint64(5)",
                "np.int64(-1)",
                "True",
                "10**30",
                "tg.tensor(3)",
            ]
        )
    )
    ok = s in ("0", "1", "2**64 - 1", "np.uint64(5)", "True")
    return p.case(target, f"(tg.set_seed({s}), tg.get_seed())[1]", f"int({s})" if ok else None)


# ---- indexing -----------------------------------------------------------------------------------


def _index(draw, ndim):
    """(tapegrad source, numpy source, has_array, array values unique) of a random index."""
    comps = []
    has_array, unique = False, True
    k = draw(st.integers(0, min(ndim + 1, 4)))
    for _ in range(k):
        kind = draw(
            st.sampled_from(
                [
                    "int",
                    "int",
                    "slice",
                    "slice",
                    "slice",
                    "none",
                    "ell",
                    "arr",
                    "mask",
                    "float",
                    "huge",
                ]
            )
        )
        if kind == "int":
            v = repr(draw(st.integers(-5, 5)))
            comps.append((v, v))
        elif kind == "huge":
            v = repr(draw(st.sampled_from(HUGE_INTS)))
            comps.append((v, v))
        elif kind == "slice":
            part = st.sampled_from(
                [None, 0, 1, -1, 2, -2, 3, 2**62, 2**63 - 1, -(2**63), 2**63, 10**20]
            )
            step = st.sampled_from(
                [None, 1, -1, 2, -2, 3, 0, 2**63 - 1, -(2**63), 2**62, -(2**63) + 1, 10**20]
            )
            s = f"{draw(part)}:{draw(part)}:{draw(step)}".replace("None", "")
            comps.append((s, s))
        elif kind == "none":
            comps.append(("None", "None"))
        elif kind == "ell":
            comps.append(("...", "..."))
        elif kind == "float":
            comps.append(("1.0", "1.0"))
        elif kind == "arr":
            dt = draw(st.sampled_from(["int64", "int32"]))
            lit, vals = _index_array(draw, 2, dt)
            has_array = True
            unique = unique and len(set(vals)) == len(vals)
            wrap = draw(st.sampled_from(["tg.tensor({})", "{}", "{}.tolist()"]))
            comps.append((wrap.format(lit), lit))
        else:
            size = draw(st.integers(0, 4))
            vals = draw(st.lists(st.booleans(), min_size=size, max_size=size))
            lit = f"np.array({vals!r}, bool)"
            has_array = True
            wrap = draw(st.sampled_from(["tg.tensor({})", "{}"]))
            comps.append((wrap.format(lit), lit))
    if k == 1 and draw(st.booleans()):
        return comps[0][0], comps[0][1], has_array, unique
    t = ", ".join(c[0] for c in comps)
    n = ", ".join(c[1] for c in comps)
    return f"{t}," if k else "()", f"{n}," if k else "()", has_array, unique


@gen("Tensor.__getitem__")
def g_getitem(draw, target):
    p = Prog(draw)
    a, n = p.tensor(max_dims=3)
    t, ni, _, _ = _index(draw, 3)
    return p.case(target, f"{a}[{t}]", f"{n}[{ni}]", strict="IndexError")


@gen("Tensor.__setitem__")
def g_setitem(draw, target):
    p = Prog(draw)
    a, n = p.tensor(max_dims=3, writable=True)
    t, ni, has_array, unique = _index(draw, 3)
    vkind = draw(st.sampled_from(["s", "s", "t", "np"]))
    if vkind == "s":
        v = nv = draw(st.sampled_from(SCALARS[:20]))
    elif vkind == "np":
        v = nv = array_literal(draw, draw(shapes(0, 2)), draw(st.sampled_from(DTYPES)))
    else:
        v, nv = p.tensor(draw(shapes(0, 2)), views=False)
    p.tg.append(f"{a}[{t}] = {v}")
    p.np.append(f"{n}[{ni}] = {nv}")
    ref = n if (not has_array or unique) else None
    if v in ("nan", "inf", "-inf", "2**31", "2**63", "-2**63-1", "10**30"):
        ref = None  # numpy's own casting rules for out-of-range scalars differ by version
    c = p.case(target, a, ref, strict="IndexError" if ref is not None else False)
    return c


# ---- Tensor attributes and conversions -----------------------------------------------------------

ATTRS = {
    "shape": ("{a}.shape", "{n}.shape"),
    "ndim": ("{a}.ndim", "{n}.ndim"),
    "size": ("{a}.size", "{n}.size"),
    "itemsize": ("{a}.itemsize", "{n}.itemsize"),
    "nbytes": ("{a}.nbytes", "{n}.size * {n}.itemsize"),
    "dtype": ("str({a}.dtype)", None),
    "device": ("{a}.device", None),
    "strides": ("{a}.strides", None),
    "is_contiguous": ("{a}.is_contiguous()", None),
    "asnumpy": ("{a}.asnumpy()", "{n}"),
    "numpy": ("{a}.numpy()", "{n}"),
    "__array__": ("np.asarray({a}, dtype='float64')", "np.asarray({n}, 'float64')"),
    "item": ("{a}.item()", "{n}.item()"),
    "tolist": ("{a}.tolist()", "{n}.tolist()"),
    "__float__": ("float({a})", "float({n}) if {n}.size == 1 else float({n}.reshape(-1)[5])"),
    "__int__": ("int({a})", "int({n}) if {n}.size == 1 else int({n}.reshape(-1)[5])"),
    "__index__": ("[10, 20, 30, 40, 50, 60, 70][{a}]", "[10, 20, 30, 40, 50, 60, 70][{n}]"),
    "__bool__": ("bool({a})", "bool({n}) if {n}.size == 1 else {n}.reshape(-1)[5]"),
    "__len__": ("len({a})", "len({n})"),
    "__hash__": ("hash({a}) == hash({a})", "True"),
    "__iter__": ("list({a})", "list({n})"),
    "__contains__": ("1 in {a}", "1 in {n}"),
    "__format__": ("format({a}, '.3f')", None),
    "__repr__": ("repr({a})", None),
    "__str__": ("str({a})", None),
    "__copy__": ("copy.copy({a})", "{n}"),
    "__deepcopy__": ("copy.deepcopy({a})", "{n}"),
    "__getstate__": ("{a}.__getstate__() is not None", "True"),
    "__reduce__": ("pickle.loads(pickle.dumps({a}))", "{n}"),
    "__reduce_ex__": ("pickle.loads(pickle.dumps({a}, {p}))", "{n}"),
    "__setstate__": (
        "(lambda t: (t.__setstate__({a}.__getstate__()), t)[1])(tg.tensor(0.0))",
        "{n}",
    ),
    "__sizeof__": ("{a}.__sizeof__() > 0", "True"),
    "__init__": ("tg.Tensor.__init__({a}, {d})", None),
}


@gen(*[f"Tensor.{k}" for k in ATTRS])
def g_attr(draw, target):
    name = target.split(".")[-1]
    p = Prog(draw)
    a, n = p.tensor(
        dtypes=DTYPES if name not in ("__index__",) else ["int64", "int32", "bool", "float32"]
    )
    tgs, nps = ATTRS[name]
    proto = draw(st.integers(0, 5))
    d = draw(st.sampled_from(["[1.0]", "None", "'a'", "np.ones(2)", "2**70"]))
    strict = name in (
        "item",
        "__float__",
        "__int__",
        "__index__",
        "__bool__",
        "__len__",
        "__iter__",
    )
    tg_call = tgs.format(a=a, p=proto, d=d)
    ref = nps.format(n=n) if nps else None
    if name in ("__float__", "__int__", "__bool__"):
        ref = ref.split(" if ")[0]
    if (
        name == "__float__"
    ):  # the spec allows any one-element tensor (numpy >= 2.3 only a 0-d array)
        ref = f"float({n}.item()) if {n}.size == 1 else float({n})"
    if (name in ("__int__", "__index__") and "float" in p.common[-1]) or name == "__int__":
        ref = f"R.int_or_raise({n})" if name == "__int__" else ref
    return p.case(target, tg_call, ref, strict=strict)


def _int_or_raise(n):
    v = n.item() if n.size == 1 else int(n)  # int() of a multi-element array raises TypeError
    if isinstance(v, float) and not math.isfinite(v):
        return int(v)  # raises ValueError / OverflowError as Python does
    return int(v)


R.int_or_raise = _int_or_raise


@gen("tg.Tensor.__new__")
def g_uninit(draw, target):
    """Objects made by __new__ without __init__, or given a bad state, raise and never crash."""
    p = Prog(draw)
    cls = draw(st.sampled_from(["tg.Tensor", "tg.Parameter", "type(tg.jit(lambda x: x))"]))
    use = draw(
        st.sampled_from(
            [
                "obj.shape",
                "obj.dtype",
                "repr(obj)",
                "obj + 1",
                "obj[0]",
                "obj.sum()",
                "obj.numpy()",
                "len(obj)",
                "obj.item()",
                "tg.sin(obj)",
                "obj(tg.ones(2))",
                "obj.__setstate__(None)",
                "obj.__setstate__((1, 2))",
                "obj.__getstate__()",
                "obj.__setstate__(tg.ones(2).__getstate__())",
                "pickle.dumps(obj)",
                "tg.grad(lambda x: (x * obj).sum())(tg.ones(2))",
                "obj.T",
                "obj.copy()",
                "copy.deepcopy(obj)",
                "obj.__dlpack__()",
                "obj.tolist()",
                "obj.__init__()",
            ]
        )
    )
    if cls.startswith("type(tg.jit") and use.startswith("obj.") and use != "obj.__init__()":
        use = "obj.cache_info()"  # a JitFunction has none of the Tensor attributes
    p.tg.append(f"obj = {cls}.__new__({cls})")
    return p.case(target, use)


@gen("tg.Tensor.__setstate__")
def g_setstate(draw, target):
    p = Prog(draw)
    state = draw(
        st.sampled_from(
            [
                "None",
                "()",
                "(1,)",
                "{}",
                "'a'",
                "(b'abc', 'float32', (2,))",
                "(np.ones(3), 'int64')",
                "(np.ones(3),)",
                "(b'', 'float32', (2**62,))",
                "tg.ones(2).__getstate__()",
                "(tg.ones(2).__getstate__()[0], 'x')",
                "list(tg.ones(2).__getstate__())",
                "(1, 2, 3, 4, 5, 6)",
            ]
        )
    )
    then = draw(st.sampled_from(["t.shape", "t.sum()", "repr(t)", "t.numpy()", "t + 1"]))
    p.tg.append("t = tg.tensor([1.0, 2.0])")
    p.tg.append("r = t.__setstate__(" + state + ")")
    return p.case(target, then)


# ---- transforms ---------------------------------------------------------------------------------

# (tapegrad fn, numpy value, numpy derivative (elementwise d/dx of the summed function))
SCALAR_FNS = [
    ("lambda x: (x * x).sum()", "lambda x: (x * x).sum()", "lambda x: 2 * x"),
    ("lambda x: tg.sin(x).sum()", "lambda x: np.sin(x).sum()", "lambda x: np.cos(x)"),
    ("lambda x: (x ** 3).mean()", "lambda x: (x ** 3).mean()", "lambda x: 3 * x ** 2 / x.size"),
    ("lambda x: tg.exp(x).sum()", "lambda x: np.exp(x).sum()", "lambda x: np.exp(x)"),
    (
        "lambda x: tg.tanh(x * 0.5).sum()",
        "lambda x: np.tanh(x * 0.5).sum()",
        "lambda x: 0.5 * (1 - np.tanh(x * 0.5) ** 2)",
    ),
    (
        "lambda x: (x * 2.0 - 1.0).sum()",
        "lambda x: (x * 2.0 - 1.0).sum()",
        "lambda x: np.full_like(x, 2.0)",
    ),
]
ELEM_FNS = [
    ("lambda x: x * x", "lambda x: x * x", "lambda x: 2 * x"),
    ("lambda x: tg.sin(x)", "np.sin", "np.cos"),
    ("lambda x: x * 3.0 + 1.0", "lambda x: x * 3.0 + 1.0", "lambda x: np.full_like(x, 3.0)"),
    ("lambda x: tg.exp(x)", "np.exp", "np.exp"),
]
ODD_FNS = [
    "lambda x: None",
    "lambda x: 'a'",
    "lambda x: 1.5",
    "lambda x: (x, x)",
    "lambda x: [x.sum()]",
    "lambda x: {'a': x.sum()}",
    "lambda x: x.astype(tg.int32).sum()",
    "lambda x: x > 0",
    "lambda x: x[tg.tensor([0, -1])].sum()",
    "lambda x: tg.tensor([x.sum(), x.sum()]).sum()",
    "lambda x: x.sum().item()",
    "lambda x: float(x.sum())",
    "lambda x: x.sum() if bool(x.sum() > 0) else -x.sum()",
    "lambda x: 1 / 0",
    "lambda x: tg.linalg.det(x.reshape(1, -1)[:, :1])",
    "lambda *a: a[0].sum()",
    "lambda x: x.sum() * tg.rand(())",
    "lambda x, y: (x * y).sum()",
    "lambda: tg.ones(2)",
]


def _fn(draw, kinds=("scalar", "elem", "odd")):
    kind = draw(st.sampled_from(list(kinds)))
    if kind == "scalar":
        return ("scalar",) + draw(st.sampled_from(SCALAR_FNS))
    if kind == "elem":
        return ("elem",) + draw(st.sampled_from(ELEM_FNS))
    return ("odd", draw(st.sampled_from(ODD_FNS)), None, None)


def _transform_input(p, draw):
    kind = draw(st.sampled_from(["t", "t", "t", "t", "t", "odd"]))
    if kind == "odd":
        v = draw(
            st.sampled_from(
                [
                    "1.5",
                    "2",
                    "None",
                    "'a'",
                    "[1.0, 2.0]",
                    "np.ones(3)",
                    "{'x': tg.ones(2)}",
                    "(tg.ones(2), tg.ones(2))",
                    "tg.ones(2, tg.int32)",
                    "tg.ones((0, 3))",
                    "np.float32(2.0)",
                    "tg.Parameter(tg.ones(2))",
                    "2**70",
                ]
            )
        )
        return v, None, False
    dt = draw(st.sampled_from(["float32", "float64", "float64", "float16", "int64", "bool"]))
    a, n = p.tensor(draw(shapes(0, 3)), dtypes=[dt], views=draw(st.booleans()))
    return a, n, dt in ("float32", "float64")


@gen(
    "tg.grad",
    "tg.value_and_grad",
    "tg.ops.functional.grad",
    "tg.checkpoint",
    "tg.GradOperation",
    "tg.stop_gradient",
)
def g_grad(draw, target):
    p = Prog(draw)
    kind, f, fv, fd = _fn(draw, ("scalar", "scalar", "odd"))
    x, n, floaty = _transform_input(p, draw)
    pos = draw(
        st.sampled_from(
            ["0", "0", "0", "1", "-1", "(0,)", "(0, 0)", "()", "None", "'a'", "2**63", "1.0"]
        )
    )
    aux = draw(st.sampled_from([False, False, True]))
    if target == "tg.checkpoint":
        call = f"tg.grad(lambda x: tg.checkpoint({f})(x))({x})"
        ref = f"({fd})({n})" if kind == "scalar" and floaty else None
    elif target == "tg.stop_gradient":
        call = f"tg.grad(lambda x: ({f})(x) + ({f})(tg.stop_gradient(x)))({x})"
        ref = f"({fd})({n})" if kind == "scalar" and floaty else None
    elif target == "tg.GradOperation":
        ga, gb, sp = draw(st.booleans()), draw(st.booleans()), draw(st.booleans())
        w = "tg.ParameterTuple([tg.Parameter(tg.ones(2), name='w')])"
        fn = f"(lambda x, *r: ({f})(x))"
        args = f"{x}" + (", tg.tensor(2.0)" if sp else "")
        call = f"tg.GradOperation({ga}, {gb}, {sp})({fn}{', ' + w if gb else ''})({args})"
        ref = None
        if kind == "scalar" and floaty and not gb:
            ref = f"({'(' if ga else ''}({fd})({n}){' * 2.0' if sp else ''}{',)' if ga else ''})"
    else:
        fname = {
            "tg.grad": "tg.grad",
            "tg.value_and_grad": "tg.value_and_grad",
            "tg.ops.functional.grad": "tg.ops.functional.grad",
        }[target]
        fa = f"(lambda x: (({f})(x), x))" if aux else f
        call = f"{fname}({fa}, {pos}, has_aux={aux})({x})"
        ref = None
        if kind == "scalar" and floaty and pos == "0":
            g = f"({fd})({n})"
            if fname == "tg.value_and_grad":
                ref = f"((({fv})({n}), {n}), {g})" if aux else f"(({fv})({n}), {g})"
            else:
                ref = f"({g}, {n})" if aux else g
    return p.case(target, call, ref, rtol=20.0)


@gen("tg.vjp", "tg.ops.functional.vjp", "tg.jvp", "tg.ops.functional.jvp")
def g_vjp_jvp(draw, target):
    p = Prog(draw)
    kind, f, fv, fd = _fn(draw, ("scalar", "elem", "elem", "odd"))
    x, n, floaty = _transform_input(p, draw)
    ct = draw(
        st.sampled_from(
            ["out", "out", "tg.ones_like(out)", "tg.ones(7)", "None", "1.0", "(out, out)", "'a'"]
        )
    )
    ok = kind != "odd" and floaty
    if target.endswith("vjp"):
        p.tg.append(f"o, fn = tg.vjp({f}, {x})")
        call = f"fn({ct.replace('out', 'tg.ones_like(o)')})"
        if draw(st.integers(0, 3)) == 0:  # a failed call must not use the function up
            p.tg.append("exec('try: fn(tg.ones(7))\\nexcept Exception: pass')")
            call = "fn(tg.ones_like(o))"
            ct = "out"
        ref = f"(({fd})({n}),)" if ok and ct in ("out", "tg.ones_like(out)") else None
        if ref and kind == "elem":
            ref = f"(({fd})({n}),)"
        return p.case(target, call, ref, rtol=20.0)
    tan = ct.replace("out", x) if ct != "(out, out)" else f"({x}, {x})"
    call = f"tg.jvp({f}, ({x},), ({tan},))"
    ref = None
    if ok and ct in ("out", "tg.ones_like(out)"):
        ref = (
            f"(({fv})({n}), (({fd})({n}) * {n}).sum())"
            if kind == "scalar" and ct == "out"
            else f"(({fv})({n}), ({fd})({n}).sum())"
            if kind == "scalar"
            else f"(({fv})({n}), ({fd})({n}) * {n})"
            if ct == "out"
            else f"(({fv})({n}), ({fd})({n}))"
        )
    return p.case(target, call, ref, rtol=20.0)


def _try_call(fn, *a):
    try:
        fn(*a)
    except (ValueError, TypeError):
        pass


R.try_call = _try_call


@gen("tg.vmap")
def g_vmap(draw, target):
    p = Prog(draw)
    kind, f, fv, _fd = _fn(draw, ("elem", "elem", "scalar", "odd"))
    x, n, floaty = _transform_input(p, draw)
    ia = draw(
        st.sampled_from(
            ["0", "0", "1", "-1", "None", "(0,)", "(None,)", "5", "2**40", "'a'", "(0, 0)"]
        )
    )
    oa = draw(st.sampled_from(["0", "0", "1", "-1", "None", "5"]))
    call = f"tg.vmap({f}, {ia}, {oa})({x})"
    ref = None
    if floaty and kind == "elem" and ia in ("0", "(0,)") and oa == "0":
        ref = f"np.asarray(({fv})({n}))"
    elif floaty and kind == "scalar" and ia in ("0", "(0,)") and oa == "0":
        ref = f"np.array([({fv})(r) for r in {n}], {n}.dtype)"
    return p.case(target, call, ref, rtol=20.0)


@gen("tg.jacrev", "tg.jacfwd", "tg.hessian")
def g_jac(draw, target):
    p = Prog(draw)
    kind, f, _fv, fd = _fn(draw, ("elem", "scalar", "odd"))
    x, n, floaty = _transform_input(p, draw)
    pos = draw(st.sampled_from(["0", "0", "0", "1", "(0,)", "-1"]))
    name = target[3:]
    call = f"tg.{name}({f}, {pos})({x})"
    ref = None
    if floaty and pos == "0":
        if name != "hessian" and kind == "elem":
            ref = f"R.elem_jac(({fd})({n}){', True' if name == 'jacfwd' else ''})"
        elif name == "jacrev" and kind == "scalar":
            ref = f"({fd})({n})"
        elif name == "jacfwd" and kind == "scalar":
            # a forward sweep per column: an inf or nan anywhere makes the other columns nan
            ref = f"R.fwd_row(({fd})({n})).reshape(np.shape({n}))"
        elif name == "hessian" and f == SCALAR_FNS[0][0]:
            ref = f"2 * R.elem_jac(np.ones_like({n}))"
    return p.case(target, call, ref, rtol=20.0)


def _elem_jac(d, forward=False):
    """The Jacobian of an elementwise function with derivative `d`, as a sweep computes it: reverse,
    row i is e_i * d, so a nan in d shows in every row, as 0 * nan does; forward, column j is
    d * e_j, so a nan shows in every column."""
    d = np.asarray(d)
    dd = d.reshape(-1, 1) if forward else d.reshape(-1)
    return (np.eye(d.size, dtype=d.dtype) * dd).reshape(d.shape + d.shape)


R.elem_jac = _elem_jac


def _fwd_row(d):
    """The Jacobian row of sum(elementwise f) as a forward sweep computes it: column j is the sum
    of d * e_j, so a nan or inf anywhere in d makes every other column nan."""
    d = np.asarray(d).reshape(-1)
    with np.errstate(all="ignore"):
        return (d[None, :] * np.eye(d.size, dtype=d.dtype)).sum(axis=1).reshape(1, -1)


R.fwd_row = _fwd_row


@gen("tg.jit")
def g_jit(draw, target):
    """A jitted function called twice: the second call must not replay a stale answer."""
    p = Prog(draw)
    form = draw(st.sampled_from(["twice", "twice", "static", "closure", "const", "grad"]))
    if form == "twice":
        kind, f, fv, fd = _fn(draw, ("elem", "scalar", "odd"))
        x, n, floaty = _transform_input(p, draw)
        y, m, floaty2 = _transform_input(p, draw)
        p.tg.append(f"g = tg.jit({f}); first = g({x})")
        ref = f"({fv})({m})" if kind != "odd" and floaty2 else None
        return p.case(target, f"g({y})", ref, rtol=20.0)
    if form == "static":
        s1, s2 = draw(
            st.sampled_from(
                [("0.0", "-0.0"), ("1", "True"), ("1", "1.0"), ("2", "3"), ("nan", "nan")]
            )
        )
        a, n = p.tensor(draw(shapes(0, 2)), dtypes=FLOATS)
        p.tg.append(f"g = tg.jit(lambda x, s: x * math.copysign(1.0, s) + s); first = g({a}, {s1})")
        return p.case(target, f"g({a}, {s2})", f"{n} * math.copysign(1.0, {s2}) + {s2}", rtol=5.0)
    if form == "closure":
        p.tg.append("idx = tg.tensor([0, 1]); g = tg.jit(lambda x: x[idx])")
        a, n = p.tensor((3,), dtypes=FLOATS, views=False)
        p.tg.append(f"first = g({a}); idx[0] = 2")
        return p.case(target, f"g({a})", f"{n}[[2, 1]]")
    if form == "const":
        a, n = p.tensor((2,), dtypes=["float32"], views=False)
        p.tg.append(f"g = tg.jit(lambda x: (x, tg.ones(2))); first = g({a}); first[1][0] = 99")
        return p.case(target, f"g({a})[1]", "np.ones(2)")
    kind, f, fv, fd = _fn(draw, ("scalar",))
    x, n, floaty = _transform_input(p, draw)
    p.tg.append(f"g = tg.jit(tg.grad({f})); first = g({x})")
    return p.case(target, f"g({x})", f"({fd})({n})" if floaty else None, rtol=20.0)


@gen("tg.custom_vjp", "tg.custom_jvp")
def g_custom(draw, target):
    p = Prog(draw)
    x, n, floaty = _transform_input(p, draw)
    tr = draw(
        st.sampled_from(
            [
                "tg.grad(lambda x: f(x).sum())",
                "tg.vmap(f)",
                "tg.jacfwd(f)",
                "tg.jacrev(f)",
                "f",
                "tg.jit(f)",
            ]
        )
    )
    if target == "tg.custom_vjp":
        bwd = draw(
            st.sampled_from(
                [
                    "lambda res, g: (g * tg.cos(res[0]),)",
                    "lambda res, g: g",
                    "lambda res, g: None",
                    "lambda res, g: (g, g)",
                    "lambda res, g: (tg.ones(7),)",
                ]
            )
        )
        p.tg.append(
            f"f = tg.custom_vjp(lambda x: tg.sin(x)); f.defvjp(lambda x: (tg.sin(x), (x,)), {bwd})"
        )
        good = bwd.startswith("lambda res, g: (g * tg.cos")
    else:
        rule = draw(
            st.sampled_from(
                [
                    "lambda p, t: (tg.sin(p[0]), tg.cos(p[0]) * t[0])",
                    "lambda p, t: None",
                    "lambda p, t: (tg.sin(p[0]),)",
                    "lambda p, t: (tg.sin(p[0]), tg.ones(7))",
                ]
            )
        )
        p.tg.append(f"f = tg.custom_jvp(lambda x: tg.sin(x)); f.defjvp({rule})")
        good = rule.endswith("t[0])")
    ref = None
    if floaty and (good or tr in ("f", "tg.vmap(f)", "tg.jit(f)")):
        ref = {
            "tg.grad(lambda x: f(x).sum())": f"np.cos({n})",
            "tg.vmap(f)": f"np.sin({n})",
            "f": f"np.sin({n})",
            "tg.jit(f)": f"np.sin({n})",
            "tg.jacfwd(f)": f"R.elem_jac(np.cos({n}), True)",
            "tg.jacrev(f)": f"R.elem_jac(np.cos({n}))",
        }[tr]
        if (
            tr == "tg.vmap(f)"
            and "(0,)" not in p.common[-1]
            and "()" in p.common[-1].split("reshape")[-1]
        ):
            ref = None
    return p.case(target, f"{tr}({x})", ref, rtol=20.0)


# ---- the rest of the namespace ------------------------------------------------------------------


@gen(
    "tg.is_tensor",
    "tg.get_simd_path",
    "tg.get_num_threads",
    "tg.dtype",
    "tg.get_context",
    "tg.set_context",
)
def g_misc(draw, target):
    p = Prog(draw)
    v = draw(
        st.sampled_from(
            [
                "tg.ones(2)",
                "np.ones(2)",
                "None",
                "'float32'",
                "np.float32",
                "1",
                "'Float32'",
                "tg.float16",
                "'x'",
                "float",
                "tg.Parameter(tg.ones(1))",
            ]
        )
    )
    if target == "tg.is_tensor":
        return p.case(target, f"tg.is_tensor({v})", f"{v.startswith(('tg.ones', 'tg.Parameter'))}")
    if target == "tg.get_simd_path":
        return p.case(
            target, "tg.get_simd_path() in ('avx512', 'avx2', 'sse2', 'neon', 'base')", "True"
        )
    if target == "tg.get_num_threads":
        return p.case(target, "tg.get_num_threads() >= 1", "True")
    if target == "tg.dtype":
        return p.case(target, f"str(tg.dtype({v}))")
    key = draw(st.sampled_from(["'mode'", "'device_target'", "'x'", "None", "1"]))
    if target == "tg.get_context":
        return p.case(target, f"tg.get_context({key})")
    kw = draw(
        st.sampled_from(
            [
                "mode=tg.GRAPH_MODE",
                "mode=5",
                "mode='x'",
                "device_target='GPU'",
                "device_target='CPU'",
                "foo=1",
                "mode=None",
            ]
        )
    )
    p.tg.append(f"tg.set_context({kw})")
    return p.case(target, "(tg.get_context('mode'), tg.set_context(mode=tg.PYNATIVE_MODE))[0]")


@gen("tg.set_num_threads")
def g_threads(draw, target):
    """Runs in a fresh interpreter (spawn): a forked child has none of the pool's threads."""
    p = Prog(draw)
    v = draw(
        st.sampled_from(
            ["0", "-1", "1", "2", "10**6", "2**31", "2**63", "2.5", "'3'", "None", "np.int64(2)"]
        )
    )
    return p.case(
        target, f"(tg.set_num_threads({v}), tg.get_num_threads(), (tg.ones(10**5) + 1).sum())"
    )


SPAWN_TARGETS = {"tg.set_num_threads"}


@gen("tg.Parameter", "tg.ParameterTuple")
def g_parameter(draw, target):
    p = Prog(draw)
    a, n = p.tensor()
    name = draw(st.sampled_from(["None", "'w'", "'a\\x00'", "''", "5", "'é'"]))
    rg = draw(st.sampled_from(["True", "False", "None", "'x'"]))
    if target == "tg.Parameter":
        then = draw(
            st.sampled_from(
                ["w", "w + 1", "w.sum()", "tg.grad(lambda x: (x * w).sum())(w)", "w.name"]
            )
        )
        p.tg.append(f"w = tg.Parameter({a}, {name}, {rg})")
        ref = f"{n} + 1" if then == "w + 1" and "bool" not in p.common[-1] else None
        return p.case(target, then, ref)
    items = draw(st.sampled_from(["[w, w]", "[w]", "[]", "[1]", "[w, tg.ones(2)]", "(w,)", "None"]))
    p.tg.append(f"w = tg.Parameter({a}, 'w')")
    return p.case(target, f"tg.ParameterTuple({items})")


@gen("tg.save_checkpoint", "tg.load_checkpoint", "tg.load_param_into_net")
def g_checkpoint(draw, target):
    p = Prog(draw)
    a, _ = p.tensor(views=False)
    name = draw(st.sampled_from(["'w'", "'a\\x00'", "'é'", "''", "'a.weight'"]))
    p.tg.append(f"path = '/tmp/tgfuzz_%d.ckpt' % os.getpid(); w = tg.Parameter({a}, {name})")
    if target == "tg.save_checkpoint":
        ad = draw(
            st.sampled_from(
                [
                    "None",
                    "{'lr': 1e-50}",
                    "{'lr': 1e40}",
                    "{'step': 2**63}",
                    "{'x': 'a'}",
                    "{'x': None}",
                ]
            )
        )
        p.tg.append(f"tg.save_checkpoint([w], path, append_dict={ad})")
        return p.case(target, "sorted(tg.load_checkpoint(path))")
    if target == "tg.load_checkpoint":
        junk = draw(
            st.sampled_from(
                [
                    "b''",
                    "b'PK\\x03\\x04'",
                    "b'\\x93NUMPY'",
                    "open(path, 'rb').read()[:50]",
                    "open(path, 'rb').read()[:-3]",
                    "b'\\x00' * 100",
                ]
            )
        )
        p.tg.append(f"tg.save_checkpoint([w], path); data = {junk}; open(path, 'wb').write(data)")
        return p.case(target, "tg.load_checkpoint(path)")
    d = draw(
        st.sampled_from(
            ["{'weight': w}", "{'weight': tg.ones(1)}", "{}", "{'bias': 1}", "{'weight': None}"]
        )
    )
    return p.case(target, f"tg.load_param_into_net(tg.nn.Dense(2, 3), {d})")


@gen("tg.ops.ReduceSum", "tg.ops.ReduceMean", "tg.ops.Primitive")
def g_prims(draw, target):
    p = Prog(draw)
    a, n = p.tensor()
    if target == "tg.ops.Primitive":
        return p.case(target, "repr(tg.ops.Primitive())")
    keep = draw(st.booleans())
    axis = draw(st.sampled_from(["()", "0", "-1", "(0, 1)", "(0, 0)", "5", "None"]))
    f = "np.sum" if target.endswith("Sum") else "np.mean"
    ok = axis not in ("None",)
    return p.case(
        target,
        f"{target}({keep})({a}, {axis})",
        f"{f}({n}.astype('float64'), {'None' if axis == '()' else axis}, keepdims={keep})"
        if ok
        else None,
        rtol=4.0,
    )


@gen("tg.ops.conv2d")
def g_conv(draw, target):
    p = Prog(draw)
    x, _ = p.tensor(
        draw(st.sampled_from([(1, 1, 3, 3), (2, 2, 4, 4), (1, 1, 0, 3), (1, 3), (1, 1, 1, 1)])),
        dtypes=["float32", "float64", "int64"],
    )
    w, _ = p.tensor(
        draw(
            st.sampled_from([(1, 1, 2, 2), (2, 1, 3, 3), (1, 1, 5, 5), (0, 1, 1, 1), (1, 2, 1, 1)])
        ),
        dtypes=["float32", "float64"],
    )
    stride = draw(st.sampled_from(["1", "2", "0", "-1", "2**62", "(1, 2)"]))
    pad = draw(st.sampled_from(["'valid'", "'same'", "'pad'", "'x'"]))
    padding = draw(st.sampled_from(["0", "1", "-1", "2**62", "(1, 1, 1, 1)"]))
    dil = draw(st.sampled_from(["1", "2", "0", "2**62"]))
    groups = draw(st.sampled_from(["1", "2", "0", "-1"]))
    return p.case(
        target, f"tg.ops.conv2d({x}, {w}, None, {stride}, {pad}, {padding}, {dil}, {groups})"
    )


@gen(
    "tg.sparse_jacobian",
    "tg.sparse_hessian",
    "tg.SparseJacobian",
    "tg.SparseHessian",
    "tg.jacobian_pattern",
    "tg.hessian_pattern",
    "tg.color_columns",
    "tg.color_rows",
    "tg.star_color",
)
def g_sparse(draw, target):
    """Sparse Jacobians and Hessians equal the dense ones; colorings take any pattern."""
    p = Prog(draw)
    name = target[3:]
    kind, f, _fv, fd = _fn(draw, ("elem", "scalar", "odd"))
    x, n, floaty = _transform_input(p, draw)
    mode = draw(st.sampled_from(["'auto'", "'fwd'", "'rev'", "'x'", "None"]))
    pat = draw(
        st.sampled_from(
            ["None", "None", "np.eye(3, dtype=bool)", "np.ones((2, 2))", "'a'", "[[1, 0]]"]
        )
    )
    if name in ("color_columns", "color_rows", "star_color"):
        pattern = draw(
            st.sampled_from(
                [
                    "np.eye(3, dtype=bool)",
                    "np.ones((2, 3), bool)",
                    "np.zeros((0, 0), bool)",
                    "np.ones((3, 3), bool)",
                    "[[True, False], [False, True]]",
                    "None",
                    "'a'",
                    "np.ones((2, 2)) * nan",
                    "tg.ones((2, 2))",
                ]
            )
        )
        order = draw(st.sampled_from(["None", "[0, 1, 2]", "[2**63]", "[-1]", "'a'"]))
        return p.case(target, f"tg.{name}({pattern}, {order})")
    sparse_ok = kind != "odd" and floaty and mode in ("'auto'", "'fwd'", "'rev'") and pat == "None"
    if name == "sparse_jacobian":
        call = f"tg.sparse_jacobian({f}, {x}, {mode}, {pat}).toarray()"
        ref = (
            f"({fd})({n}).reshape(1, -1)"
            if kind == "scalar"
            else f"R.elem_jac(({fd})({n})).reshape({n}.size, {n}.size)"
        )
    elif name == "SparseJacobian":
        call = f"tg.SparseJacobian({f}, {x}, {mode}, {pat})({x}).toarray()"
        ref = (
            f"({fd})({n}).reshape(1, -1)"
            if kind == "scalar"
            else f"R.elem_jac(({fd})({n})).reshape({n}.size, {n}.size)"
        )
    if name in ("sparse_jacobian", "SparseJacobian") and kind == "scalar" and mode == "'fwd'":
        # forward mode sums d * e_j for each column j: a nan or inf in d shows in every column
        # (0 * nan), as the dense jacfwd's does
        ref = f"R.fwd_row(({fd})({n}))"
    elif name in ("sparse_hessian", "SparseHessian"):
        call = (
            f"tg.sparse_hessian({f}, {x}, {pat}).toarray()"
            if name == "sparse_hessian"
            else f"tg.SparseHessian({f}, {x}, {pat})({x}).toarray()"
        )
        ref = f"2 * np.eye({n}.size)" if f == SCALAR_FNS[0][0] else None
        sparse_ok = sparse_ok and kind == "scalar"
    else:
        call = f"tg.{name}({f}, {x}).toarray()"
        ref = None
    return p.case(target, call, ref if sparse_ok else None, rtol=20.0)


# ---- tg.numpy / Array API additions, tg.linalg additions, Tensor extras, runtime info ------------

NP_UNARY = {
    "acosh": "np.arccosh",
    "arccosh": "np.arccosh",
    "arcsinh": "np.arcsinh",
    "arctanh": "np.arctanh",
    "asinh": "np.arcsinh",
    "atanh": "np.arctanh",
    "deg2rad": "np.deg2rad",
    "degrees": "np.degrees",
    "rad2deg": "np.rad2deg",
    "radians": "np.radians",
    "log10": "np.log10",
    "sinc": "np.sinc",
    "trunc": "np.trunc",
    "isinf": "np.isinf",
    "isneginf": "np.isneginf",
    "isposinf": "np.isposinf",
    "signbit": "np.signbit",
    "negative": "np.negative",
    "positive": "np.positive",
    "conj": "np.conj",
    "conjugate": "np.conjugate",
    "real": "np.real",
    "imag": "np.imag",
    "angle": "np.angle",
    "bitwise_invert": "np.bitwise_invert",
    "bitwise_not": "np.bitwise_not",
}
NP_FLOATY = {
    "acosh",
    "arccosh",
    "arcsinh",
    "arctanh",
    "asinh",
    "atanh",
    "deg2rad",
    "degrees",
    "rad2deg",
    "radians",
    "log10",
    "sinc",
}


@gen(*[f"tg.numpy.{n}" for n in NP_UNARY])
def g_np_unary(draw, target):
    name = target.split(".")[-1]
    p = Prog(draw)
    a, n = p.tensor(wild=True)
    npf = NP_UNARY[name]
    if name in NP_FLOATY:
        ref = f"{npf}({n}.astype('float64') if {n}.dtype.kind in 'iub' else {n})"
    else:
        ref = f"{npf}({n})"
    return p.case(target, f"tg.numpy.{name}({a})", ref, rtol=4.0)


@gen("tg.numpy.round", "tg.numpy.nan_to_num")
def g_np_round(draw, target):
    p = Prog(draw)
    a, n = p.tensor(wild=True)
    if target.endswith("round"):
        dec = draw(st.sampled_from(["0", "1", "2", "-1", "3", "2**63", "1.5", "'a'"]))
        # int64 values near 2**63 round through float64 to 2**63, whose cast back numpy wraps (UB)
        edge = "'int64'" in p.common[-1] and "9223372036854775807" in p.common[-1]
        return p.case(
            target,
            f"tg.numpy.round({a}, {dec})",
            None if edge else f"np.round({n}, {dec})",
            rtol=4.0,
        )
    kw = draw(
        st.sampled_from(["", "nan=1.5", "posinf=2.0", "neginf=-3.0", "nan=-1, posinf=7, neginf=0"])
    )
    kw = (", " + kw) if kw else ""
    f16 = "'float16'" in p.common[-1]  # numpy's float16 bounds for inf differ in the last place
    return p.case(
        target, f"tg.numpy.nan_to_num({a}{kw})", None if f16 else f"np.nan_to_num({n}{kw})"
    )


NP_BINARY = {
    "bitwise_and": "np.bitwise_and",
    "bitwise_or": "np.bitwise_or",
    "bitwise_xor": "np.bitwise_xor",
    "bitwise_left_shift": "np.left_shift",
    "bitwise_right_shift": "np.right_shift",
    "left_shift": "np.left_shift",
    "right_shift": "np.right_shift",
    "copysign": "np.copysign",
    "divide": "np.divide",
    "fmax": "np.fmax",
    "fmin": "np.fmin",
    "fmod": "np.fmod",
    "hypot": "np.hypot",
    "logaddexp": "np.logaddexp",
    "logaddexp2": "np.logaddexp2",
    "multiply": "np.multiply",
    "remainder": "np.remainder",
    "subtract": "np.subtract",
}


@gen(*[f"tg.numpy.{n}" for n in NP_BINARY])
def g_np_binary(draw, target):
    name = target.split(".")[-1]
    p = Prog(draw)
    shape = draw(shapes(0, 3))
    a, na = p.operand(shape)
    b, nb = p.operand(_pair_shape(draw, shape))
    ref = f"{NP_BINARY[name]}({na}, {nb})"
    if not (a.startswith("a") or b.startswith("a")):
        ref = None  # two Python values: tapegrad's scalar types differ from numpy's
    return p.case(target, f"tg.numpy.{name}({a}, {b})", ref, rtol=4.0)


@gen("tg.numpy.allclose", "tg.numpy.isclose")
def g_np_close(draw, target):
    name = target.split(".")[-1]
    p = Prog(draw)
    shape = draw(shapes(0, 3))
    a, na = p.tensor(shape, wild=True)
    b, nb = p.operand(_pair_shape(draw, shape))
    kw = draw(st.sampled_from(["", "rtol=0.1", "atol=1.0", "equal_nan=True", "rtol=0, atol=0"]))
    kw = (", " + kw) if kw else ""
    ref = f"np.{name}({na}, {nb}{kw})" if b.startswith(("a", "np.")) else None
    return p.case(target, f"tg.numpy.{name}({a}, {b}{kw})", ref)


@gen(
    "tg.numpy.sum",
    "tg.numpy.prod",
    "tg.numpy.mean",
    "tg.numpy.std",
    "tg.numpy.var",
    "tg.numpy.count_nonzero",
)
def g_np_reduce(draw, target):
    name = target.split(".")[-1]
    p = Prog(draw)
    a, n = p.tensor()
    axis = axis_arg(draw, 4)
    keep = draw(st.booleans())
    call = f"tg.numpy.{name}({a}, axis={axis}, keepdims={keep})"
    src = (
        f"{n}.astype('float64') if {n}.dtype.kind in 'iub' else {n}"
        if name in ("std", "var")
        else n
    )
    ref = f"np.{name}({src}, axis={axis}, keepdims={keep})"
    if not axis.lstrip("(-").split(",")[0].strip(")").isdigit() and axis != "None":
        ref = None
    return p.case(target, call, ref, rtol=4.0)


@gen("tg.numpy.cumulative_sum", "tg.numpy.cumulative_prod", "tg.numpy.diff")
def g_np_scan(draw, target):
    name = target.split(".")[-1]
    p = Prog(draw)
    a, n = p.tensor(max_dims=3)
    axis = draw(st.sampled_from(["None", "0", "-1", "1", "3", "2**63", "'a'"]))
    if name == "diff":
        k = draw(st.sampled_from(["0", "1", "2", "-1", "5", "2**63"]))
        ax = "-1" if axis == "None" else axis
        # numpy loops k times (2**63 would hang the reference): past the axis's length every
        # further difference is the same empty array, so the reference stops at 64
        kref = "64" if k == "2**63" else k
        return p.case(
            target, f"tg.numpy.diff({a}, {k}, {ax})", f"np.diff({n}, {kref}, {ax})", rtol=4.0
        )
    init = draw(st.booleans())
    return p.case(
        target,
        f"tg.numpy.{name}({a}, axis={axis}, include_initial={init})",
        f"np.{name}({n}, axis={axis}, include_initial={init})",
        rtol=4.0,
    )


@gen(
    "tg.numpy.atleast_1d",
    "tg.numpy.atleast_2d",
    "tg.numpy.atleast_3d",
    "tg.numpy.matrix_transpose",
    "tg.linalg.matrix_transpose",
    "tg.numpy.nonzero",
    "Tensor.mT",
)
def g_np_shape1(draw, target):
    name = target.split(".")[-1]
    p = Prog(draw)
    a, n = p.tensor()
    if name == "mT":
        return p.case(target, f"{a}.mT", f"{n}.mT")
    return p.case(target, f"{target}({a})", f"np.{name}({n})")


@gen(
    "tg.numpy.array_split",
    "tg.numpy.hsplit",
    "tg.numpy.vsplit",
    "tg.numpy.dsplit",
    "tg.numpy.unstack",
)
def g_np_split(draw, target):
    name = target.split(".")[-1]
    p = Prog(draw)
    a, n = p.tensor()
    if name == "unstack":
        axis = draw(st.sampled_from(["0", "-1", "1", "4", "2**63"]))
        return p.case(
            target, f"tg.numpy.unstack({a}, axis={axis})", f"np.unstack({n}, axis={axis})"
        )
    sec = draw(
        st.sampled_from(
            ["1", "2", "3", "0", "-1", "[1]", "[0, 2]", "[3, 1]", "[-1]", "2**63", "1.5"]
        )
    )
    if name == "array_split":
        axis = draw(st.sampled_from(["0", "-1", "1", "4"]))
        return p.case(
            target,
            f"tg.numpy.array_split({a}, {sec}, {axis})",
            f"np.array_split({n}, {sec}, {axis})",
        )
    return p.case(target, f"tg.numpy.{name}({a}, {sec})", f"np.{name}({n}, {sec})")


@gen(
    "tg.numpy.hstack",
    "tg.numpy.vstack",
    "tg.numpy.dstack",
    "tg.numpy.column_stack",
    "tg.numpy.broadcast_arrays",
    "tg.numpy.meshgrid",
)
def g_np_stack(draw, target):
    name = target.split(".")[-1]
    p = Prog(draw)
    shape = draw(shapes(0, 3))
    k = draw(st.integers(1 if name != "meshgrid" else 0, 3))
    ts, ns = (
        zip(
            *[
                p.tensor(_pair_shape(draw, shape), dtypes=["float32", "float64", "int64", "bool"])
                for _ in range(k)
            ]
        )
        if k
        else ((), ())
    )
    if name in ("broadcast_arrays", "meshgrid"):
        kw = ""
        if name == "meshgrid":
            kw = draw(st.sampled_from(["", ", indexing='ij'", ", sparse=True", ", indexing='x'"]))
        return p.case(
            target,
            f"tg.numpy.{name}({', '.join((*ts, kw[2:]) if kw else ts)})",
            f"np.{name}({', '.join((*ns, kw[2:]) if kw else ns)})",
        )
    return p.case(target, f"tg.numpy.{name}([{', '.join(ts)}])", f"np.{name}([{', '.join(ns)}])")


@gen("tg.numpy.row_stack", "tg.numpy.fliplr", "tg.numpy.flipud", "tg.numpy.fabs")
def g_np_autograd_unary(draw, target):
    # numpy functions autograd.numpy differentiates (tools/autograd_suite): an array as the
    # sequence of its rows for row_stack, any shape, dtype and view for the others
    name = target.split(".")[-1]
    p = Prog(draw)
    a, n = p.tensor(max_dims=3, wild=name == "fabs")
    return p.case(
        target, f"tg.numpy.{name}({a})", f"np.{'vstack' if name == 'row_stack' else name}({n})"
    )


@gen("tg.numpy.rollaxis")
def g_np_rollaxis(draw, target):
    p = Prog(draw)
    a, n = p.tensor(max_dims=4)
    ax = draw(st.sampled_from(["0", "1", "-1", "2", "4", "-5", "2**63", "1.5"]))
    start = draw(st.sampled_from(["0", "1", "2", "-1", "3", "5", "-5"]))
    return p.case(
        target, f"tg.numpy.rollaxis({a}, {ax}, {start})", f"np.rollaxis({n}, {ax}, {start})"
    )


@gen("tg.numpy.append")
def g_np_append(draw, target):
    p = Prog(draw)
    shape = draw(shapes(0, 3))
    a, n = p.tensor(shape, dtypes=["float32", "float64", "int64", "bool"])
    b, m = p.tensor(_pair_shape(draw, shape), dtypes=["float32", "float64", "int64", "bool"])
    axis = draw(st.sampled_from(["None", "None", "0", "-1", "1", "3"]))
    return p.case(
        target, f"tg.numpy.append({a}, {b}, axis={axis})", f"np.append({n}, {m}, axis={axis})"
    )


_DTYPE_NAMES = (
    "bool_ int8 int16 int32 int64 uint8 uint16 uint32 uint64 float16 float32 float64 complex64 "
    "complex128"
).split()


@gen(*[f"tg.{n}" for n in _DTYPE_NAMES])
def g_dtype_call(draw, target):
    # numpy's dtypes are also conversion functions: tg.float32(x) is asarray(x, float32)
    name = target.split(".")[-1]
    p = Prog(draw)
    kind = draw(st.sampled_from(["t", "s"]))
    if kind == "s":
        a = n = draw(st.sampled_from(["0", "1", "-2", "2.5", "True", "-0.0"]))
    else:
        a, n = p.tensor(wild=True)
    # float -> int of nan/inf/out-of-range values differs (undefined in C); float -> complex and
    # complex -> float are refused by tapegrad: no reference there
    ok = ("int" not in name or kind == "s" or "float" not in p.common[-1]) and "complex" not in name
    if name.startswith(("int", "uint")) and a.startswith("-") and name.startswith("uint"):
        ok = False  # numpy refuses a negative Python int for an unsigned dtype, as tapegrad
    ref = f"np.asarray({n}).astype(np.{name})" if ok else None
    return p.case(target, f"{target}({a})", ref)


@gen("tg.numpy.dtype")
def g_np_dtype(draw, target):
    arg = draw(
        st.sampled_from(
            [
                "'float32'",
                "'f8'",
                "'<i4'",
                "np.int16",
                "np.dtype('uint8')",
                "bool",
                "complex",
                "tg.int64",
                "None",
                "'foo'",
                "'S3'",
                "3",
                "tg.ones(2)",
            ]
        )
    )
    bad = arg in ("'foo'", "'S3'", "3", "tg.ones(2)")
    # compared through an array of the dtype (the result runner reads arrays, not dtypes)
    return Case(
        target,
        f"out = tg.zeros(2, dtype=tg.numpy.dtype({arg}))",
        None if bad else f"ref = np.zeros(2, dtype=np.dtype({arg}))",
    )


@gen("tg.numpy.clip")
def g_np_clip(draw, target):
    # numpy's keywords: a_min/a_max, or the Array API's min/max
    p = Prog(draw)
    a, n = p.tensor(wild=True, dtypes=["float32", "float64", "int64"])
    lo = draw(st.sampled_from(["None", "0", "-1.5", "2"]))
    hi = draw(st.sampled_from(["None", "1", "2.5", "-1"]))
    kw = draw(st.sampled_from(["a_min={}, a_max={}", "min={}, max={}", "{}, {}"])).format(lo, hi)
    ref = None if lo == "None" and hi == "None" else f"np.clip({n}, {kw})"
    return p.case(target, f"tg.numpy.clip({a}, {kw})", ref)


@gen(
    "tg.numpy.iscomplex",
    "tg.numpy.isreal",
    "tg.numpy.iscomplexobj",
    "tg.numpy.isrealobj",
    "tg.numpy.real_if_close",
)
def g_np_complex_predicates(draw, target):
    name = target.split(".")[-1]
    p = Prog(draw)
    a, n = p.tensor(max_dims=3, dtypes=[*DTYPES, "complex64", "complex128"])
    if name == "real_if_close":
        tol = draw(st.sampled_from(["100", "1", "1e-3", "1000"]))
        return p.case(
            target, f"tg.numpy.real_if_close({a}, {tol})", f"np.real_if_close({n}, {tol})"
        )
    return p.case(target, f"tg.numpy.{name}({a})", f"np.{name}({n})")


@gen("tg.numpy.partition")
def g_np_partition(draw, target):
    # numpy leaves the order inside the two parts open; tapegrad's result is the full sort (a
    # valid partition), which the check compares with numpy's sort of the same values
    p = Prog(draw)
    a, _ = p.tensor(min_dims=1, max_dims=2, dtypes=["float32", "float64", "int64"])
    kth = draw(st.sampled_from(["0", "1", "-1", "[0, 1]", "5", "2**63"]))
    axis = draw(st.sampled_from(["-1", "0", "None", "4"]))
    return p.case(
        target,
        f"tg.numpy.partition({a}, {kth}, axis={axis})",
        None,
        check=f"np.array_equal(np.asarray(out), np.sort(np.asarray({a}), axis={axis}), equal_nan=True)",
    )


@gen("tg.numpy.gradient")
def g_np_gradient(draw, target):
    p = Prog(draw)
    a, n = p.tensor(min_dims=1, max_dims=3, dtypes=["float32", "float64", "int64"])
    spacing = draw(st.sampled_from(["", ", 2.0", ", 0.5", ", 0", ", 1, 2"]))
    axis = draw(st.sampled_from(["None", "0", "-1", "(0, -1)", "5"]))
    order = draw(st.sampled_from(["1", "2", "3"]))
    call = f"({{}}{spacing}, axis={axis}, edge_order={order})"
    return p.case(
        target,
        "tg.numpy.gradient" + call.format(a),
        "np.gradient" + call.format(n),
        rtol=4.0,
    )


@gen("tg.numpy.broadcast_shapes")
def g_np_bshapes(draw, target):
    args = draw(
        st.lists(
            st.one_of(shapes(0, 3).map(repr), st.sampled_from(["3", "(2**63,)", "(-1,)", "'a'"])),
            max_size=3,
        )
    )
    call = ", ".join(args)
    return Case(
        target, f"out = tg.numpy.broadcast_shapes({call})", f"ref = np.broadcast_shapes({call})"
    )


@gen(
    "tg.numpy.moveaxis",
    "tg.numpy.permute_dims",
    "tg.numpy.roll",
    "tg.numpy.rot90",
    "tg.numpy.expand_dims",
)
def g_np_axes(draw, target):
    name = target.split(".")[-1]
    p = Prog(draw)
    a, n = p.tensor()
    ax = st.sampled_from(["0", "1", "-1", "3", "(0, 1)", "(1, 0)", "(0, 0)", "()", "2**63"])
    if name == "expand_dims":
        if draw(st.booleans()):
            return p.case(target, f"tg.numpy.expand_dims({a})", f"np.expand_dims({n}, 0)")
        d = draw(ax)
        return p.case(target, f"tg.numpy.expand_dims({a}, {d})", f"np.expand_dims({n}, {d})")
    if name == "moveaxis":
        s, d = draw(ax), draw(ax)
        return p.case(target, f"tg.numpy.moveaxis({a}, {s}, {d})", f"np.moveaxis({n}, {s}, {d})")
    if name == "permute_dims":
        axes = draw(
            st.sampled_from(["()", "(0,)", "(1, 0)", "(0, 1, 2)", "(2, 0, 1)", "(0, 0)", "(-1, 0)"])
        )
        return p.case(
            target, f"tg.numpy.permute_dims({a}, {axes})", f"np.permute_dims({n}, {axes})"
        )
    if name == "roll":
        shift = draw(st.sampled_from(["0", "1", "-2", "7", "(1, 2)", "2**63", "-2**63"]))
        axis = draw(st.sampled_from(["None", "0", "-1", "(0, 1)", "3"]))
        return p.case(
            target, f"tg.numpy.roll({a}, {shift}, {axis})", f"np.roll({n}, {shift}, {axis})"
        )
    k = draw(st.sampled_from(["0", "1", "2", "3", "-1", "5", "2**63"]))
    axes = draw(st.sampled_from(["(0, 1)", "(1, 0)", "(0, 0)", "(0, 2)", "(-1, -2)"]))
    return p.case(target, f"tg.numpy.rot90({a}, {k}, {axes})", f"np.rot90({n}, {k}, {axes})")


@gen("tg.numpy.tril", "tg.numpy.triu", "tg.numpy.diag", "tg.numpy.diagonal", "tg.linalg.diagonal")
def g_np_diag(draw, target):
    name = target.split(".")[-1]
    p = Prog(draw)
    a, n = p.tensor(max_dims=3)
    k = draw(st.sampled_from(["0", "1", "-1", "2", "-3", "10", "2**63"]))
    if target == "tg.linalg.diagonal":
        return p.case(
            target, f"tg.linalg.diagonal({a}, offset={k})", f"np.linalg.diagonal({n}, offset={k})"
        )
    return p.case(target, f"tg.numpy.{name}({a}, {k})", f"np.{name}({n}, {k})")


@gen("tg.numpy.pad")
def g_np_pad(draw, target):
    p = Prog(draw)
    a, n = p.tensor(max_dims=3)
    pw = draw(
        st.sampled_from(["0", "1", "(1, 2)", "((1, 0),)", "((0, 1), (2, 0))", "-1", "2**62", "'a'"])
    )
    mode = draw(
        st.sampled_from(["'constant'", "'constant'", "'edge'", "'reflect'", "'wrap'", "'x'"])
    )
    return p.case(target, f"tg.numpy.pad({a}, {pw}, {mode})", f"np.pad({n}, {pw}, {mode})")


@gen(
    "tg.numpy.kron",
    "tg.numpy.inner",
    "tg.numpy.cross",
    "tg.linalg.cross",
    "tg.numpy.tensordot",
    "tg.linalg.tensordot",
    "tg.numpy.vecdot",
    "tg.linalg.vecdot",
)
def g_np_products(draw, target):
    name = target.split(".")[-1]
    p = Prog(draw)
    dts = ["float32", "float64", "int64"]
    if name == "cross":
        sa = draw(st.sampled_from([(3,), (2, 3), (3, 3), (2,), (1, 3), (4,)]))
        a, na = p.tensor(sa, dtypes=dts)
        b, nb = p.tensor(draw(st.sampled_from([sa, (3,), (2, 3)])), dtypes=dts)
        return p.case(target, f"{target}({a}, {b})", f"np.cross({na}, {nb})", rtol=4.0)
    sa = draw(shapes(0, 3))
    a, na = p.tensor(sa, dtypes=dts)
    b, nb = p.tensor(draw(st.sampled_from([sa, sa[-1:], sa[::-1], (3,), ()])), dtypes=dts)
    # numpy's BLAS products and tapegrad's may differ where inf * 0 meets (nan or a skipped 0)
    finite = not any(w in "".join(p.common) for w in ("inf", "nan"))
    if name == "tensordot":
        axes = draw(
            st.sampled_from(["0", "1", "2", "-1", "([0], [0])", "([1], [0])", "((0, 1), (0, 1))"])
        )
        return p.case(
            target,
            f"{target}({a}, {b}, {axes})",
            f"np.tensordot({na}, {nb}, {axes})" if finite else None,
            rtol=4.0,
        )
    if name == "vecdot":
        axis = draw(st.sampled_from(["-1", "0", "1", "5"]))
        return p.case(
            target,
            f"{target}({a}, {b}, axis={axis})",
            f"np.vecdot({na}, {nb}, axis={axis})" if finite else None,
            rtol=4.0,
        )
    return p.case(
        target, f"{target}({a}, {b})", f"np.{name}({na}, {nb})" if finite else None, rtol=4.0
    )


@gen("tg.linalg.matrix_norm", "tg.linalg.vector_norm", "tg.linalg.matrix_power")
def g_linalg_extra(draw, target):
    name = target.split(".")[-1]
    p = Prog(draw)
    if name == "matrix_power":
        k = draw(st.sampled_from([0, 1, 2, 3, 2]))
        a, n = p.tensor(
            (k, k) if draw(st.booleans()) else None, dtypes=["float32", "float64", "int64"]
        )
        e = draw(st.sampled_from(["0", "1", "2", "3", "-1", "2**63", "1.5"]))
        ref = f"np.linalg.matrix_power({n}, {e})" if e != "-1" else None
        return p.case(target, f"tg.linalg.matrix_power({a}, {e})", ref, rtol=50.0)
    a, n = p.tensor(dtypes=FLOATS, max_dims=3)
    keep = draw(st.booleans())
    if name == "matrix_norm":
        o = draw(st.sampled_from(["'fro'", "'nuc'", "1", "-1", "2", "inf", "-inf", "3", "'a'"]))
        ref = f"np.linalg.matrix_norm({n}.astype('float64'), keepdims={keep}, ord={o})"
        return p.case(
            target, f"tg.linalg.matrix_norm({a}, keepdims={keep}, ord={o})", ref, rtol=10.0
        )
    o = draw(st.sampled_from(["2", "1", "inf", "-inf", "0", "3", "-1", "0.5"]))
    axis = draw(st.sampled_from(["None", "0", "-1", "(0, 1)", "(0, 0)", "5"]))
    ref = f"np.linalg.vector_norm({n}.astype('float64'), axis={axis}, keepdims={keep}, ord={o})"
    return p.case(
        target, f"tg.linalg.vector_norm({a}, axis={axis}, keepdims={keep}, ord={o})", ref, rtol=10.0
    )


@gen("tg.numpy.take_along_axis", "tg.numpy.searchsorted", "tg.numpy.select", "tg.numpy.isin")
def g_np_index(draw, target):
    name = target.split(".")[-1]
    p = Prog(draw)
    if name == "take_along_axis":
        a, n = p.tensor(draw(shapes(1, 3)))
        shape = draw(shapes(1, 3))
        idx = f"np.resize(np.array({draw(st.lists(st.integers(-4, 4), min_size=1, max_size=5))}), {shape!r})"
        axis = draw(st.sampled_from(["0", "-1", "1", "5"]))
        return p.case(
            target,
            f"tg.numpy.take_along_axis({a}, tg.tensor({idx}), axis={axis})",
            f"np.take_along_axis({n}, {idx}, axis={axis})",
        )
    if name == "searchsorted":
        a, n = p.tensor(
            draw(st.sampled_from([(0,), (1,), (4,), (2, 2)])),
            dtypes=["float32", "int64"],
            views=False,
        )
        v, nv = p.operand(draw(shapes(0, 2)), dtypes=["float32", "int64"])
        side = draw(st.sampled_from(["'left'", "'right'", "'x'"]))
        return p.case(
            target,
            f"tg.numpy.searchsorted(tg.sort({a}) if {a}.ndim == 1 else {a}, {v}, {side})",
            f"np.searchsorted(np.sort({n}) if {n}.ndim == 1 else {n}, {nv}, {side})"
            if not v.startswith(("[", "'", "N", "1j"))
            else None,
        )
    if name == "isin":
        a, na = p.tensor(wild=True)
        b, nb = p.tensor(draw(shapes(0, 2)))
        inv = draw(st.booleans())
        return p.case(
            target, f"tg.numpy.isin({a}, {b}, invert={inv})", f"np.isin({na}, {nb}, invert={inv})"
        )
    shape = draw(shapes(0, 3))
    k = draw(st.integers(0, 3))
    conds, nconds, chs, nchs = [], [], [], []
    for _ in range(k):
        c, nc = p.tensor(_pair_shape(draw, shape), dtypes=["bool"])
        x, nx = p.tensor(_pair_shape(draw, shape), dtypes=["float32", "int64"])
        conds.append(c), nconds.append(nc), chs.append(x), nchs.append(nx)
    d = draw(st.sampled_from(["0", "1.5", "-1"]))
    return p.case(
        target,
        f"tg.numpy.select([{', '.join(conds)}], [{', '.join(chs)}], {d})",
        f"np.select([{', '.join(nconds)}], [{', '.join(nchs)}], {d})",
    )


@gen(
    "tg.numpy.unique_all",
    "tg.numpy.unique_counts",
    "tg.numpy.unique_inverse",
    "tg.numpy.unique_values",
    "tg.numpy.UniqueAllResult",
    "tg.numpy.UniqueCountsResult",
    "tg.numpy.UniqueInverseResult",
)
def g_np_unique(draw, target):
    name = target.split(".")[-1]
    p = Prog(draw)
    a, n = p.tensor(dtypes=["float32", "int64", "bool", "float64"])
    if name.startswith("Unique"):
        fn = {
            "UniqueAllResult": "unique_all",
            "UniqueCountsResult": "unique_counts",
            "UniqueInverseResult": "unique_inverse",
        }[name]
        return p.case(
            target,
            f"tuple(tg.numpy.{name}(*tg.numpy.{fn}({a})))",
            f"tuple(np.asarray(v) for v in tg.numpy.{fn}(tg.tensor({n})))",
        )  # fields kept
    if (
        "nan" in p.common[-1]
    ):  # numpy >= 2 merges NaNs (equal_nan); only the values are compared then
        return p.case(target, f"tg.numpy.{name}({a})", None)
    # numpy >= 2.3's unique_* may leave the values unsorted (the Array API leaves the order open);
    # tapegrad sorts them, so np.unique (sorted) is the reference
    ref = {
        "unique_values": f"np.unique({n})",
        "unique_counts": f"tuple(np.unique({n}, return_counts=True))",
        "unique_inverse": f"(lambda v, i: (v, i.reshape({n}.shape)))(*np.unique({n}, return_inverse=True))",
        "unique_all": f"(lambda v, f, i, c: (v, f, i.reshape({n}.shape), c))(*np.unique({n}, True, True, True))",
    }
    return p.case(
        target,
        f"tuple(tg.numpy.{name}({a}))" if name != "unique_values" else f"tg.numpy.{name}({a})",
        ref[name],
    )


DTYPE_EXPRS = [
    "tg.float32",
    "tg.float64",
    "tg.float16",
    "tg.int32",
    "tg.int64",
    "tg.bool_",
    "'float32'",
    "'int64'",
    "float",
    "int",
    "bool",
    "None",
    "'a'",
    "np.uint8",
    "3",
]


@gen(
    "tg.numpy.astype",
    "tg.numpy.can_cast",
    "tg.numpy.result_type",
    "tg.numpy.isdtype",
    "tg.numpy.finfo",
    "tg.numpy.iinfo",
)
def g_np_dtypes(draw, target):
    name = target.split(".")[-1]
    p = Prog(draw)
    d1, d2 = draw(st.sampled_from(DTYPE_EXPRS)), draw(st.sampled_from(DTYPE_EXPRS))
    if name == "astype":
        a, _ = p.tensor(wild=True)
        return p.case(target, f"tg.numpy.astype({a}, {d1})")
    if name == "can_cast":
        return p.case(target, f"tg.numpy.can_cast({d1}, {d2})")
    if name == "result_type":
        a, _ = p.tensor()
        return p.case(target, f"tg.numpy.result_type({a}, {d1})")
    if name == "isdtype":
        kind = draw(
            st.sampled_from(
                [
                    "'bool'",
                    "'signed integer'",
                    "'integral'",
                    "'real floating'",
                    "'numeric'",
                    "('integral', 'bool')",
                    "'x'",
                    "tg.float32",
                    "3",
                ]
            )
        )
        return p.case(target, f"tg.numpy.isdtype({d1}, {kind})")
    if name == "finfo":
        d = draw(
            st.sampled_from(["tg.float32", "tg.float64", "tg.float16", "tg.int32", "'a'", "None"])
        )
        ok = d in ("tg.float32", "tg.float64", "tg.float16")
        npd = d.replace("tg.", "np.")
        return p.case(
            target,
            f"(tg.numpy.finfo({d}).eps, tg.numpy.finfo({d}).max, tg.numpy.finfo({d}).bits)",
            f"(np.finfo({npd}).eps, np.finfo({npd}).max, np.finfo({npd}).bits)" if ok else None,
        )
    d = draw(st.sampled_from(["tg.int32", "tg.int64", "tg.float32", "tg.bool_", "'a'"]))
    ok = d in ("tg.int32", "tg.int64")
    npd = d.replace("tg.", "np.")
    return p.case(
        target,
        f"(tg.numpy.iinfo({d}).min, tg.numpy.iinfo({d}).max, tg.numpy.iinfo({d}).bits)",
        f"(np.iinfo({npd}).min, np.iinfo({npd}).max, np.iinfo({npd}).bits)" if ok else None,
    )


@gen(
    "Tensor.__array_function__",
    "Tensor.to_device",
    "Tensor.__array_namespace__",
    "Tensor.__complex__",
)
def g_tensor_extra(draw, target):
    p = Prog(draw)
    a, n = p.tensor()
    if target == "Tensor.__array_namespace__":
        v = draw(st.sampled_from(["None", "'2024.12'", "'2023.12'", "'2025.12'", "3"]))
        ok = v in ("None", "'2024.12'", "'2023.12'")
        return p.case(
            target,
            f"{a}.__array_namespace__(api_version={v}).__name__",
            None,
            check="out == 'tapegrad.numpy'" if ok else None,
        )
    if target == "Tensor.__complex__":
        return p.case(target, f"(complex({a}).real, complex({a}).imag)", f"(float({n}), 0.0)")
    if target == "Tensor.to_device":
        dev = draw(st.sampled_from(["'cpu'", "'CPU'", f"{a}.device", "'cuda'", "None", "3"]))
        return p.case(
            target, f"{a}.to_device({dev})", n if dev in ("'cpu'", "'CPU'", f"{a}.device") else None
        )
    f = draw(
        st.sampled_from(
            [
                "sum",
                "mean",
                "concatenate",
                "stack",
                "transpose",
                "ravel",
                "max",
                "cumsum",
                "flip",
                "where",
                "clip",
            ]
        )
    )
    if f in ("concatenate", "stack"):
        return p.case(target, f"np.{f}([{a}, {a}])", f"np.{f}([{n}, {n}])")
    if f == "where":
        return p.case(target, f"np.where({a} > 0, {a}, 0)", f"np.where({n} > 0, {n}, 0)")
    if f == "clip":
        return p.case(target, f"np.clip({a}, 0, 1)", f"np.clip({n}, 0, 1)")
    return p.case(target, f"np.{f}({a})", f"np.{f}({n})", rtol=4.0)


@gen("tg.memory_stats", "tg.reset_peak_memory_stats", "tg.show_config")
def g_runtime_info(draw, target):
    p = Prog(draw)
    a, _ = p.tensor()
    if target == "tg.show_config":
        mode = draw(st.sampled_from(["'stdout'", "'dicts'", "'x'", "None", "3"]))
        return p.case(target, f"tg.show_config({mode}) if {mode} != 'stdout' else None")
    if target == "tg.reset_peak_memory_stats":
        p.tg.append(f"b = ({a} + 1).sum(); tg.reset_peak_memory_stats(); s = tg.memory_stats()")
        return p.case(target, "s", check="all(v >= 0 for v in s.values() if isinstance(v, int))")
    p.tg.append(f"b = {a} * 2; s = tg.memory_stats()")
    return p.case(target, "s", check="all(v >= 0 for v in s.values() if isinstance(v, int))")


# ---- the strategy -------------------------------------------------------------------------------

TARGETS = sorted(GENERATORS)
FORK_TARGETS = [t for t in TARGETS if t not in SPAWN_TARGETS]


@st.composite
def cases(draw, targets=None):
    target = draw(st.sampled_from(targets or FORK_TARGETS))
    f, t = GENERATORS[target]
    return f(draw, t)
