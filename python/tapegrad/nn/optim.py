"""Optimizers: update Parameters in place from a tuple of gradients (MindSpore conventions)."""

from __future__ import annotations

import math
import numbers

from .._core import Tensor
from .._parameter import Parameter
from .cell import Cell


def _number(value, what, name, *, low=None, low_open=False, high=None, high_open=False):
    """`value` as a finite Python float, checked against [low, high] (open ends where asked):
    a TypeError for a non-number (bools included), a ValueError naming the range otherwise."""
    if isinstance(value, Tensor):
        if value.size != 1 or not (
            value.dtype.is_floating_point or "int" in str(value.dtype).lower()
        ):
            raise TypeError(
                f"{what}: {name} must be a number or a one-element numeric Tensor, got a Tensor of "
                f"shape {tuple(value.shape)} and dtype {value.dtype}"
            )
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{what}: {name} must be a real number, got {type(value).__name__} ({value!r})"
        )
    v = float(value)
    lo = "(" if low_open else "["
    hi = ")" if high_open else "]"
    rng = f"{lo}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi}"
    if not math.isfinite(v):
        raise ValueError(f"{what}: {name} must be a finite number in {rng}, got {value!r}")
    if low is not None and (v < low or (low_open and v == low)):
        raise ValueError(f"{what}: {name} must be in {rng}, got {value!r}")
    if high is not None and (v > high or (high_open and v == high)):
        raise ValueError(f"{what}: {name} must be in {rng}, got {value!r}")
    return v


def _is_int(dt):
    return "int" in str(dt).lower()


def _tg():
    import tapegrad

    return tapegrad


class Optimizer(Cell):
    """Base of the optimizers: `Optimizer(learning_rate, parameters, weight_decay=0.0)`.

    Calling an optimizer with a tuple of gradients (one per parameter, in order) updates the
    Parameters in place and returns True. Subclasses define the update rule.

    >>> w = tg.Parameter(tg.tensor([1.0]), name="w")
    >>> opt = tg.nn.SGD([w], learning_rate=0.1)
    >>> opt((tg.tensor([0.5]),))
    True
    >>> print(w, opt.global_step)
    [0.95] 1
    """

    def __init__(self, learning_rate, parameters, weight_decay=0.0):
        super().__init__(auto_prefix=False)
        if isinstance(parameters, (Tensor, str, bytes)) or not hasattr(parameters, "__iter__"):
            # A lone Parameter is iterable (over its rows): it would come apart into Tensors.
            raise TypeError(
                f"{type(self).__name__}: parameters must be an iterable of Parameters (such as "
                f"net.trainable_params()), got {type(parameters).__name__}"
            )
        params = list(parameters)
        if not params:
            raise ValueError(f"{type(self).__name__}: the parameter list is empty")
        what = type(self).__name__
        seen = set()
        for p in params:
            if not isinstance(p, Parameter):
                raise TypeError(f"{what}: parameters must be Parameters, got {type(p).__name__}")
            if not p.dtype.is_floating_point:
                raise TypeError(
                    f"{what}: parameter {p.name!r} has dtype {p.dtype}; only floating-point "
                    "Parameters can be optimized"
                )
            if id(p) in seen:
                raise ValueError(
                    f"{what}: parameter {p.name!r} appears more than once in the parameter list"
                )
            seen.add(id(p))
        object.__setattr__(self, "parameters", tuple(params))
        self.learning_rate = _number(learning_rate, what, "learning_rate", low=0.0)
        self.weight_decay = _number(weight_decay, what, "weight_decay", low=0.0)
        # State lives in tensors updated in place (as MindSpore's Parameters), not in Python
        # attributes: a tg.jit replay (GRAPH_MODE) repeats tensor writes, not Python assignments.
        object.__setattr__(self, "global_step", _tg().zeros((), dtype=_tg().int32))

    def _check(self, grads):
        if not isinstance(grads, (tuple, list)) or len(grads) != len(self.parameters):
            raise ValueError(
                f"{type(self).__name__}: expected a tuple of {len(self.parameters)} gradients, got "
                f"{len(grads) if isinstance(grads, (tuple, list)) else type(grads).__name__}"
            )
        for p, g in zip(self.parameters, grads):
            if not isinstance(g, Tensor):
                raise TypeError(
                    f"{type(self).__name__}: the gradient of parameter {p.name!r} must be a Tensor, got "
                    f"{type(g).__name__}"
                )
            if not (g.dtype.is_floating_point or _is_int(g.dtype)):
                raise TypeError(
                    f"{type(self).__name__}: the gradient of parameter {p.name!r} has dtype "
                    f"{g.dtype}; a real floating-point (or integer) gradient is needed for a "
                    f"{p.dtype} parameter"
                )
            if tuple(g.shape) != tuple(p.shape):
                raise ValueError(
                    f"{type(self).__name__}: gradient shape {tuple(g.shape)} does not match parameter "
                    f"{p.name} of shape {tuple(p.shape)}"
                )

    def construct(self, grads):
        self._check(grads)
        tg = _tg()
        with_no_tape = tg.stop_gradient
        for i, (p, g) in enumerate(zip(self.parameters, grads)):
            g = with_no_tape(g).astype(p.dtype)
            if self.weight_decay and not self._decoupled:
                g = g + self.weight_decay * p
            p[...] = self._update(i, p, g)
        self.global_step[...] = self.global_step + 1
        return True

    _decoupled = False


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum: p -= lr * g.

    >>> w = tg.Parameter(tg.tensor([1.0]), name="w")
    >>> _ = tg.nn.SGD([w], learning_rate=0.1)((tg.tensor([0.5]),))
    >>> print(w)
    [0.95]
    """

    def __init__(
        self,
        params,
        learning_rate=0.1,
        momentum=0.0,
        dampening=0.0,
        weight_decay=0.0,
        nesterov=False,
        loss_scale=1.0,
    ):
        super().__init__(learning_rate, params, weight_decay)
        self.momentum = _number(momentum, "SGD", "momentum", low=0.0)
        self.dampening = _number(dampening, "SGD", "dampening", low=0.0, high=1.0)
        self.nesterov = bool(nesterov)
        self.loss_scale = _number(loss_scale, "SGD", "loss_scale", low=0.0, low_open=True)
        tg = _tg()
        bufs = [tg.zeros_like(p) for p in self.parameters] if self.momentum else []
        object.__setattr__(self, "_buf", bufs)

    def _update(self, i, p, g):
        g = g / self.loss_scale if self.loss_scale != 1.0 else g
        if self.momentum:
            b = self._buf[i]
            first = bool(self.global_step == 0)  # PyTorch's rule: the first buffer is g itself
            b[...] = g if first else b * self.momentum + (1.0 - self.dampening) * g
            g = g + self.momentum * b if self.nesterov else b
        return p - self.learning_rate * g


class Momentum(Optimizer):
    """MindSpore's Momentum: v = momentum * v + g; p -= lr * v.

    >>> w = tg.Parameter(tg.tensor([1.0]), name="w")
    >>> opt = tg.nn.Momentum([w], learning_rate=0.1, momentum=0.9)
    >>> _ = opt((tg.tensor([1.0]),)), opt((tg.tensor([1.0]),))
    >>> print(w)  # 1 - 0.1 * 1 - 0.1 * 1.9
    [0.71]
    """

    def __init__(
        self, params, learning_rate, momentum, weight_decay=0.0, loss_scale=1.0, use_nesterov=False
    ):
        super().__init__(learning_rate, params, weight_decay)
        self.momentum = _number(momentum, "Momentum", "momentum", low=0.0)
        self.use_nesterov = bool(use_nesterov)
        self.loss_scale = _number(loss_scale, "Momentum", "loss_scale", low=0.0, low_open=True)
        object.__setattr__(self, "_buf", [_tg().zeros_like(p) for p in self.parameters])

    def _update(self, i, p, g):
        g = g / self.loss_scale if self.loss_scale != 1.0 else g
        b = self._buf[i]
        b[...] = b * self.momentum + g  # v starts at 0, so the first step's v is g
        if self.use_nesterov:
            return p - self.learning_rate * (g + self.momentum * b)
        return p - self.learning_rate * b


class Adam(Optimizer):
    """Adam (Kingma and Ba) with bias correction; weight_decay adds weight_decay * p to g.

    >>> w = tg.Parameter(tg.tensor([1.0]), name="w")
    >>> _ = tg.nn.Adam([w], learning_rate=0.1)((tg.tensor([0.5]),))
    >>> print(w)  # the first step moves by about the learning rate
    [0.9]
    """

    def __init__(
        self,
        params,
        learning_rate=1e-3,
        beta1=0.9,
        beta2=0.999,
        eps=1e-8,
        use_locking=False,
        use_nesterov=False,
        weight_decay=0.0,
        loss_scale=1.0,
    ):
        super().__init__(learning_rate, params, weight_decay)
        what = type(self).__name__
        self.beta1 = _number(beta1, what, "beta1", low=0.0, high=1.0, high_open=True)
        self.beta2 = _number(beta2, what, "beta2", low=0.0, high=1.0, high_open=True)
        self.eps = _number(eps, what, "eps", low=0.0, low_open=True)
        self.loss_scale = _number(loss_scale, what, "loss_scale", low=0.0, low_open=True)
        tg = _tg()
        object.__setattr__(self, "_m", [tg.zeros_like(p) for p in self.parameters])
        object.__setattr__(self, "_v", [tg.zeros_like(p) for p in self.parameters])

    def _update(self, i, p, g):
        tg = _tg()
        m, v = self._m[i], self._v[i]
        m[...] = self.beta1 * m + (1.0 - self.beta1) * g
        v[...] = self.beta2 * v + (1.0 - self.beta2) * g * g
        t = (self.global_step + 1).astype(tg.float64)  # bias correction in float64, as in Python
        mhat = m / (1.0 - self.beta1**t).astype(p.dtype)
        vhat = v / (1.0 - self.beta2**t).astype(p.dtype)
        step = self.learning_rate * mhat / (tg.sqrt(vhat) + self.eps)
        if self._decoupled and self.weight_decay:
            step = step + self.learning_rate * self.weight_decay * p
        return p - step


class AdamW(Adam):
    """Adam with decoupled weight decay: p -= lr * (adam_step + weight_decay * p).

    >>> w = tg.Parameter(tg.tensor([1.0]), name="w")
    >>> _ = tg.nn.AdamW([w], learning_rate=0.1, weight_decay=0.01)((tg.tensor([0.5]),))
    >>> print(w)
    [0.899]
    """

    _decoupled = True

    def __init__(
        self, params, learning_rate=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2
    ):
        super().__init__(params, learning_rate, beta1, beta2, eps, weight_decay=weight_decay)


class TrainOneStepCell(Cell):
    """One optimisation step: loss = network(*inputs); grads w.r.t. the optimizer's parameters;
    optimizer(grads); returns the loss.

    >>> net = tg.nn.Dense(1, 1, weight_init="ones", bias_init="zeros")
    >>> loss_net = tg.nn.WithLossCell(net, tg.nn.MSELoss())
    >>> step = tg.nn.TrainOneStepCell(loss_net, tg.nn.SGD(net.trainable_params(), 0.1))
    >>> step(tg.tensor([[1.0]]), tg.tensor([[3.0]]))  # the loss before the step
    Tensor(shape=[], dtype=Float32, value= 4)
    >>> print(net.weight, net.bias)  # each moved by 0.1 * 4
    [[1.4]] [0.4]
    """

    def __init__(self, network, optimizer, sens=1.0):
        super().__init__(auto_prefix=False)
        if not callable(network):
            raise TypeError(
                f"TrainOneStepCell: network must be a Cell (or callable), got {type(network).__name__}"
            )
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"TrainOneStepCell: optimizer must be an nn.Optimizer, got {type(optimizer).__name__}"
            )
        self.network = network
        self.optimizer = optimizer
        self.sens = _number(sens, "TrainOneStepCell", "sens")

    def construct(self, *inputs):
        tg = _tg()
        weights = self.optimizer.parameters
        loss, grads = tg.value_and_grad(self.network, grad_position=None, weights=weights)(*inputs)
        if self.sens != 1.0:
            grads = tuple(g * self.sens for g in grads)
        self.optimizer(grads)
        return loss
