"""Layers (MindSpore names and argument conventions)."""

from __future__ import annotations

import math
import numbers

from .. import _core
from .._core import Tensor
from .._parameter import Parameter
from .cell import Cell


def _tg():
    import tapegrad

    return tapegrad


def _truncated_normal(tg, sigma, shape, dtype):
    """N(0, sigma) cut at two sigma (MindSpore's TruncatedNormal): draws outside are drawn again,
    so the values keep the normal's shape inside the cut instead of piling up at its ends."""
    x = tg.normal(0.0, sigma, shape=shape, dtype=dtype)
    out = abs(x) > 2.0 * sigma
    while bool(out.any()):
        x = tg.where(out, tg.normal(0.0, sigma, shape=shape, dtype=dtype), x)
        out = abs(x) > 2.0 * sigma
    return x


def _init(init, shape, fan_in, dtype):
    import numpy as np

    tg = _tg()
    if isinstance(init, np.ndarray):
        init = Tensor(init)
    if isinstance(init, Tensor):
        if tuple(init.shape) != tuple(shape):
            raise ValueError(
                f"initializer: a Tensor of shape {tuple(init.shape)} cannot initialise a parameter of "
                f"shape {tuple(shape)}"
            )
        return Tensor(init, dtype)
    if init is None:
        return tg.zeros(shape, dtype)
    # A number is MindSpore's Constant initializer.
    if isinstance(init, numbers.Real) and not isinstance(init, bool):
        return tg.full(shape, float(init), dtype=dtype)
    # MindSpore looks initializer names up case-insensitively, with or without underscores
    # ('he_normal', 'HeNormal', 'TruncatedNormal', 'zero' and 'zeros').
    key = init.lower().replace("_", "") if isinstance(init, str) else None
    # A conv kernel (out, in/group, kh, kw) fans out to out * kh * kw, as fan_in counts kh * kw.
    fan_out = math.prod(shape[:1] + tuple(shape[2:])) if len(shape) else 1
    if key in ("zeros", "zero"):
        return tg.zeros(shape, dtype)
    if key in ("ones", "one"):
        return tg.ones(shape, dtype)
    if key == "normal":
        return tg.normal(0.0, 0.01, shape=shape, dtype=dtype)
    if key == "truncatednormal":
        return _truncated_normal(tg, 0.01, shape, dtype)
    if key in ("uniform", "heuniform"):
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        return tg.uniform(-bound, bound, shape=shape, dtype=dtype)
    if key == "henormal":  # MindSpore's HeNormal(): gain sqrt(2) over fan_in
        std = math.sqrt(2.0 / fan_in) if fan_in > 0 else 0.0
        return tg.normal(0.0, std, shape=shape, dtype=dtype)
    if key == "xavieruniform":
        bound = math.sqrt(6.0 / (fan_in + fan_out)) if fan_in + fan_out > 0 else 0.0
        return tg.uniform(-bound, bound, shape=shape, dtype=dtype)
    if key == "xaviernormal":
        std = math.sqrt(2.0 / (fan_in + fan_out)) if fan_in + fan_out > 0 else 0.0
        return tg.normal(0.0, std, shape=shape, dtype=dtype)
    raise ValueError(
        f"unknown initializer {init!r} (use 'zeros', 'ones', 'normal', 'truncated_normal', 'uniform', "
        "'he_uniform', 'he_normal', 'xavier_uniform', 'xavier_normal', a number or a Tensor)"
    )


_ACTIVATIONS = {}


def _get_activation(act):
    if act is None:
        return None
    if isinstance(act, Cell):
        return act
    if isinstance(act, str):
        key = act.lower()
        if key not in _ACTIVATIONS:
            raise ValueError(f"unknown activation {act!r}; use one of {sorted(_ACTIVATIONS)}")
        return _ACTIVATIONS[key]()
    raise TypeError(f"activation must be a string or a Cell, got {type(act).__name__}")


class ReLU(Cell):
    """max(x, 0), elementwise.

    >>> tg.nn.ReLU()(tg.tensor([-1.0, 0.0, 2.0]))
    Tensor(shape=[3], dtype=Float32, value= [ 0.00000000e+00,  0.00000000e+00,  2.00000000e+00])
    """

    def construct(self, x):
        return _core.relu(x)


class Sigmoid(Cell):
    """1 / (1 + exp(-x)), elementwise.

    >>> tg.nn.Sigmoid()(tg.tensor([0.0]))
    Tensor(shape=[1], dtype=Float32, value= [ 5.00000000e-01])
    """

    def construct(self, x):
        return _core.sigmoid(x)


class Tanh(Cell):
    """tanh(x), elementwise.

    >>> print(tg.nn.Tanh()(tg.tensor([0.0, 100.0])))
    [0. 1.]
    """

    def construct(self, x):
        return _core.tanh(x)


class GELU(Cell):
    """x * Phi(x) (the exact, erf-based GELU), elementwise.

    >>> tg.nn.GELU()(tg.tensor([0.0, 1.0]))
    Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  8.41344...e-01])
    """

    def construct(self, x):
        return _core.gelu(x)


class Softmax(Cell):
    """softmax along `axis` (default -1).

    >>> print(tg.nn.Softmax()(tg.tensor([[0.0, 0.0], [0.0, 1000.0]])))
    [[0.5 0.5]
     [0.  1. ]]
    """

    def __init__(self, axis=-1):
        super().__init__()
        self.axis = axis

    def construct(self, x):
        return _tg().softmax(x, axis=self.axis)


class LogSoftmax(Cell):
    """log(softmax(x)) along `axis` (default -1), computed stably.

    >>> tg.nn.LogSoftmax()(tg.tensor([0.0, 0.0]))
    Tensor(shape=[2], dtype=Float32, value= [-6.93147...e-01, -6.93147...e-01])
    """

    def __init__(self, axis=-1):
        super().__init__()
        self.axis = axis

    def construct(self, x):
        return _tg().log_softmax(x, axis=self.axis)


_ACTIVATIONS.update(relu=ReLU, sigmoid=Sigmoid, tanh=Tanh, gelu=GELU, softmax=Softmax)


class Dense(Cell):
    """y = activation(x @ weight.T + bias); weight has shape (out_channels, in_channels).

    `weight_init` and `bias_init` are "uniform" (the default: U(-1/sqrt(in), 1/sqrt(in)); also
    "he_uniform"), "normal" (N(0, 0.01)), "truncated_normal" (the same cut at two sigma),
    "he_normal", "xavier_uniform", "xavier_normal", "zeros", "ones" (MindSpore's names, read
    case-insensitively, with or without underscores: "HeNormal", "Zero"), a number (a constant), a
    Tensor or a numpy array; `activation` is a Cell or a name ("relu", "sigmoid", "tanh", "gelu",
    "softmax").

    >>> dense = tg.nn.Dense(3, 2, weight_init="ones", bias_init="zeros")
    >>> dense(tg.tensor([[1.0, 2.0, 3.0]]))
    Tensor(shape=[1, 2], dtype=Float32, value=
    [[ 6.00000000e+00,  6.00000000e+00]])
    >>> dense.weight.shape, dense.bias.shape
    ((2, 3), (2,))
    >>> tg.nn.Dense(3, 2, activation="relu")
    Dense<input_channels=3, output_channels=2, has_bias=True>
      (activation): ReLU<>
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        weight_init=None,
        bias_init=None,
        has_bias=True,
        activation=None,
        dtype=None,
    ):
        super().__init__()
        tg = _tg()
        dtype = dtype if dtype is not None else tg.float32
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral):
                raise TypeError(f"Dense: {name} must be an int, got {type(v).__name__} ({v!r})")
            if v <= 0:
                raise ValueError(f"Dense: {name} must be positive, got {v}")
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        w_init = "uniform" if weight_init is None else weight_init
        b_init = "uniform" if bias_init is None else bias_init
        self.weight = Parameter(
            _init(w_init, (self.out_channels, self.in_channels), self.in_channels, dtype),
            name="weight",
        )
        self.has_bias = bool(has_bias)
        if self.has_bias:
            self.bias = Parameter(
                _init(b_init, (self.out_channels,), self.in_channels, dtype), name="bias"
            )
        else:
            self.bias = None
        self.activation = _get_activation(activation)

    def construct(self, x):
        tg = _tg()
        if not isinstance(x, Tensor):
            x = tg.tensor(x)
        if x.ndim == 0 or x.shape[-1] != self.in_channels:
            raise ValueError(
                f"Dense: expected input with last dimension {self.in_channels}, got shape {tuple(x.shape)}"
            )
        y = tg.matmul(x, self.weight.T)
        if self.has_bias:
            y = y + self.bias
        if self.activation is not None:
            y = self.activation(y)
        return y

    def extend_repr(self):
        return f"input_channels={self.in_channels}, output_channels={self.out_channels}, has_bias={self.has_bias}"


class Flatten(Cell):
    """Flattens all axes but the first (MindSpore's default start_dim=1).

    >>> tg.nn.Flatten()(tg.ones((2, 3, 4))).shape
    (2, 12)
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def construct(self, x):
        nd = x.ndim
        s = self.start_dim % nd if nd else 0
        e = self.end_dim % nd if nd else 0
        shape = tuple(x.shape[:s]) + (-1,) + tuple(x.shape[e + 1 :])
        return x.reshape(shape)


class Dropout(Cell):
    """Zeroes elements with probability p in training mode and scales the rest by 1/(1-p).

    `Dropout(keep_prob=None, p=None)`: give `p` (the drop probability) or MindSpore's older
    `keep_prob`; the default is p = 0.5. In inference mode (the default) it is the identity.

    >>> drop = tg.nn.Dropout(p=0.5)
    >>> print(drop(tg.ones(4)))
    [1. 1. 1. 1.]
    >>> tg.set_seed(0)
    >>> print(drop.set_train()(tg.ones(6)))
    [0. 2. 2. 2. 2. 0.]
    """

    def __init__(self, keep_prob=None, p=None, dtype=None):
        super().__init__()
        for name, v in (("keep_prob", keep_prob), ("p", p)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, numbers.Real)):
                raise TypeError(f"Dropout: {name} must be a number, got {type(v).__name__} ({v!r})")
        if p is None:
            if keep_prob is not None and not 0.0 < keep_prob <= 1.0:
                raise ValueError(f"Dropout: keep_prob must be in (0, 1], got {keep_prob}")
            p = 0.5 if keep_prob is None else 1.0 - keep_prob
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}")
        self.p = float(p)

    def construct(self, x):
        if not self.training or self.p == 0.0:
            return x
        tg = _tg()
        keep = tg.rand(*x.shape) >= self.p
        return tg.where(keep, x / (1.0 - self.p), tg.zeros((), x.dtype))


class Norm(Cell):
    """sqrt(sum(x**2, axis)); `Norm(axis=(), keep_dims=False)`, () meaning every axis.

    >>> tg.nn.Norm(axis=-1)(tg.tensor([[3.0, 4.0]]))
    Tensor(shape=[1], dtype=Float32, value= [ 5.00000000e+00])
    >>> tg.nn.Norm()(tg.tensor([[3.0], [4.0]]))
    Tensor(shape=[], dtype=Float32, value= 5)
    """

    def __init__(self, axis=(), keep_dims=False):
        super().__init__()
        self.axis = axis
        self.keep_dims = keep_dims

    def construct(self, x):
        tg = _tg()
        axis = None if self.axis == () else self.axis
        sq = tg.sum(x * x, axis=axis, keepdims=self.keep_dims)
        # sqrt's derivative is infinite at 0, and inf * 0 would make the gradient of an all-zero
        # slice NaN; its gradient is 0 instead, as tg.norm's (the sqrt sees 1 where sq is 0).
        nz = sq > 0
        return tg.where(
            nz, tg.sqrt(tg.where(nz, sq, tg.ones((), sq.dtype))), tg.zeros((), sq.dtype)
        )


class SequentialCell(Cell):
    """Cells applied one after the other: `SequentialCell(c1, c2, ...)`, a list of cells or a
    dict of name -> cell. Indexable; `append` adds a cell at the end.

    >>> net = tg.nn.SequentialCell([tg.nn.Dense(2, 2, weight_init="ones"), tg.nn.ReLU()])
    >>> print(net(tg.tensor([[1.0, -2.0]])))
    [[0. 0.]]
    >>> len(net), net[1]
    (2, ReLU<>)
    """

    def __init__(self, *args):
        super().__init__()
        cells = args[0] if len(args) == 1 and isinstance(args[0], (list, tuple, dict)) else args
        if isinstance(cells, dict):
            items = list(cells.items())
        else:
            items = [(str(i), c) for i, c in enumerate(cells)]
        for name, c in items:
            if not isinstance(c, Cell):
                raise TypeError(f"SequentialCell: elements must be Cells, got {type(c).__name__}")
            setattr(self, name, c)

    def construct(self, x):
        for c in self._cells.values():
            x = c(x)
        return x

    def __getitem__(self, i):
        return _cell_item(self, i)

    def __len__(self):
        return len(self._cells)

    def append(self, cell):
        """Add `cell` at the end; returns the SequentialCell.

        >>> net = tg.nn.SequentialCell([tg.nn.ReLU()]).append(tg.nn.Tanh())
        >>> net.cells()
        [ReLU<>, Tanh<>]
        """
        _check_cell(self, cell)
        setattr(self, str(len(self._cells)), cell)
        return self


def _check_cell(owner, c):
    if not isinstance(c, Cell):
        raise TypeError(f"{type(owner).__name__}: elements must be Cells, got {type(c).__name__}")


def _cell_item(owner, i):
    """`owner[i]`: a sub-cell for an int, a container of the same kind for a slice (MindSpore)."""
    cells = list(owner._cells.values())
    if isinstance(i, slice):
        items = list(owner._cells.items())[i]
        if isinstance(owner, SequentialCell):  # keeps the names, as MindSpore's
            return type(owner)(dict(items))
        return type(owner)([c for _, c in items])
    if isinstance(i, bool) or not isinstance(i, numbers.Integral):
        raise TypeError(
            f"{type(owner).__name__} indices must be integers or slices, got {type(i).__name__}"
        )
    if not -len(cells) <= i < len(cells):
        raise IndexError(
            f"{type(owner).__name__}: index {i} is out of range for {len(cells)} cell(s)"
        )
    return cells[i]


class CellList(Cell):
    """A list of cells whose Parameters are registered; it has no `construct` of its own.

    >>> layers = tg.nn.CellList([tg.nn.Dense(2, 2), tg.nn.Dense(2, 1)])
    >>> len(layers), len(layers.trainable_params())
    (2, 4)
    """

    def __init__(self, cells=()):
        super().__init__()
        for i, c in enumerate(cells):
            _check_cell(self, c)
            setattr(self, str(i), c)

    def __getitem__(self, i):
        return _cell_item(self, i)

    def __len__(self):
        return len(self._cells)

    def __iter__(self):
        return iter(self._cells.values())

    def append(self, cell):
        """Add `cell` at the end.

        >>> layers = tg.nn.CellList()
        >>> layers.append(tg.nn.ReLU())
        >>> list(layers)
        [ReLU<>]
        """
        _check_cell(self, cell)
        setattr(self, str(len(self._cells)), cell)
