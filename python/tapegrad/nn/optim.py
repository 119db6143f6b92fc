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


def _learning_rate(value, what):
    """A learning rate as MindSpore takes it: a number (or one-element Tensor), fixed; a list,
    tuple, numpy array or 1-d Tensor of numbers, one per step (the last one after the end); or a
    schedule, a callable (such as a Cell) that maps the step, an Int32 0-d tensor, to the rate.
    Returns a float, a Float32 1-d tensor or the callable."""
    import numpy as np

    tg = _tg()
    if isinstance(value, Tensor) and value.ndim == 1 and value.size != 1:
        value = value.asnumpy()
    if isinstance(value, (list, tuple, np.ndarray)):
        rates = [
            _number(v, what, "learning_rate", low=0.0) for v in np.asarray(value, object).ravel()
        ]
        if not rates or np.ndim(value) != 1:
            raise ValueError(
                f"{what}: a learning_rate sequence must be 1-d and not empty, got shape "
                f"{np.shape(value)}"
            )
        return tg.tensor(rates, dtype=tg.float32)
    if callable(value) and not isinstance(value, (Tensor, numbers.Number)):
        return value
    return _number(value, what, "learning_rate", low=0.0)


_GROUP_KEYS = ("params", "lr", "learning_rate", "weight_decay")


class Optimizer(Cell):
    """Base of the optimizers: `Optimizer(learning_rate, parameters, weight_decay=0.0)`.

    Calling an optimizer with a tuple of gradients (one per parameter, in order) updates the
    Parameters in place and returns True. Subclasses define the update rule.

    `learning_rate` is a number, a sequence of numbers (a list, a numpy array or a 1-d Tensor: the
    rate of each step, the last one after the end) or a schedule (a callable, such as a Cell,
    taking the step, an Int32 0-d tensor counting from 0, and returning the rate), as in MindSpore.
    `parameters` may be groups: dicts with `"params"` and optionally their own `"lr"` and
    `"weight_decay"`; the parameters are then those of the groups, in order.

    >>> w = tg.Parameter(tg.tensor([1.0]), name="w")
    >>> opt = tg.nn.SGD([w], learning_rate=0.1)
    >>> opt((tg.tensor([0.5]),))
    True
    >>> print(w, opt.global_step)
    [0.95] 1
    >>> w = tg.Parameter(tg.tensor([1.0]), name="w")
    >>> opt = tg.nn.SGD([w], learning_rate=[0.5, 0.25])
    >>> for _ in range(3):
    ...     print(opt.get_lr(), opt((tg.tensor([1.0]),)), w)
    0.5 True [0.5]
    0.25 True [0.25]
    0.25 True [0.]
    """

    def __init__(self, learning_rate, parameters, weight_decay=0.0):
        super().__init__(auto_prefix=False)
        what = type(self).__name__
        if isinstance(parameters, (Tensor, str, bytes)) or not hasattr(parameters, "__iter__"):
            # A lone Parameter is iterable (over its rows): it would come apart into Tensors.
            raise TypeError(
                f"{what}: parameters must be an iterable of Parameters (such as "
                f"net.trainable_params()), got {type(parameters).__name__}"
            )
        items = list(parameters)
        if not items:
            raise ValueError(f"{what}: the parameter list is empty")
        lr = _learning_rate(learning_rate, what)
        wd = _number(weight_decay, what, "weight_decay", low=0.0)
        # One (rate, weight decay) pair per parameter: the optimizer's own, or its group's.
        params, lrs, wds = [], [], []
        if any(isinstance(x, dict) for x in items):
            for k, group in enumerate(items):
                if not isinstance(group, dict):
                    raise TypeError(
                        f"{what}: parameter groups must all be dicts, got a {type(group).__name__} "
                        f"among them (item {k})"
                    )
                unknown = sorted(set(group) - set(_GROUP_KEYS))
                if unknown or "params" not in group:
                    raise ValueError(
                        f"{what}: parameter group {k} must have 'params' and may have 'lr' and "
                        f"'weight_decay'; got keys {sorted(group)}"
                    )
                g_params = group["params"]
                if isinstance(g_params, (Tensor, str, bytes)) or not hasattr(g_params, "__iter__"):
                    raise TypeError(
                        f"{what}: the 'params' of group {k} must be an iterable of Parameters, got "
                        f"{type(g_params).__name__}"
                    )
                g_params = list(g_params)
                g_lr = group.get("lr", group.get("learning_rate"))
                g_lr = lr if g_lr is None else _learning_rate(g_lr, what)
                g_wd = group.get("weight_decay")
                g_wd = wd if g_wd is None else _number(g_wd, what, "weight_decay", low=0.0)
                params += g_params
                lrs += [g_lr] * len(g_params)
                wds += [g_wd] * len(g_params)
            if not params:
                raise ValueError(f"{what}: the parameter groups hold no parameters")
        else:
            params, lrs, wds = items, [lr] * len(items), [wd] * len(items)
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
        self.learning_rate = lr
        self.weight_decay = wd
        object.__setattr__(self, "_lrs", lrs)
        object.__setattr__(self, "_wds", wds)
        # State lives in tensors updated in place (as MindSpore's Parameters), not in Python
        # attributes: a tg.jit replay (GRAPH_MODE) repeats tensor writes, not Python assignments.
        object.__setattr__(self, "global_step", _tg().zeros((), dtype=_tg().int32))

    def _rate(self, lr):
        """This step's rate from a learning_rate spec: computed from global_step with tensor ops,
        so that a jit replay (GRAPH_MODE) reads the step it is at."""
        if isinstance(lr, float):
            return lr
        tg = _tg()
        if isinstance(lr, Tensor):
            return lr[tg.minimum(self.global_step, lr.shape[0] - 1)]
        rate = lr(self.global_step)
        if not isinstance(rate, Tensor):
            rate = _number(rate, type(self).__name__, "the learning rate of the schedule")
        return rate

    def get_lr(self):
        """The learning rate of the coming step (of the first parameter's group), as a Tensor.

        >>> tg.nn.SGD([tg.Parameter(tg.ones(1), name="w")], learning_rate=[0.5, 0.25]).get_lr()
        Tensor(shape=[], dtype=Float32, value= 0.5)
        """
        rate = self._rate(self._lrs[0])
        return rate if isinstance(rate, Tensor) else _tg().tensor(rate)

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
        rates = {}  # one rate per spec (parameters of a group share theirs)
        for lr in self._lrs:
            if id(lr) not in rates:
                rates[id(lr)] = self._rate(lr)
        for i, (p, g) in enumerate(zip(self.parameters, grads)):
            g = with_no_tape(g).astype(p.dtype)
            lr, wd = rates[id(self._lrs[i])], self._wds[i]
            if isinstance(lr, Tensor):
                lr = lr.astype(p.dtype)
            # Unscaled before the weight decay is added (MindSpore's order): the decay is not
            # divided by the loss scale.
            if self.loss_scale != 1.0:
                g = g / self.loss_scale
            if wd and not self._decoupled:
                g = g + wd * p
            p[...] = self._update(i, p, g, lr, wd)
        self.global_step[...] = self.global_step + 1
        return True

    _decoupled = False
    loss_scale = 1.0


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
        if self.nesterov and self.momentum <= 0.0:
            # Nesterov's step needs a momentum buffer: without one it was silently plain SGD
            # (MindSpore and PyTorch refuse it too).
            raise ValueError(f"SGD: nesterov=True needs momentum > 0, got momentum={self.momentum}")
        self.loss_scale = _number(loss_scale, "SGD", "loss_scale", low=0.0, low_open=True)
        tg = _tg()
        bufs = [tg.zeros_like(p) for p in self.parameters] if self.momentum else []
        object.__setattr__(self, "_buf", bufs)

    def _update(self, i, p, g, lr, wd):
        if self.momentum:
            b = self._buf[i]
            first = bool(self.global_step == 0)  # PyTorch's rule: the first buffer is g itself
            b[...] = g if first else b * self.momentum + (1.0 - self.dampening) * g
            g = g + self.momentum * b if self.nesterov else b
        return p - lr * g


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

    def _update(self, i, p, g, lr, wd):
        b = self._buf[i]
        b[...] = b * self.momentum + g  # v starts at 0, so the first step's v is g
        if self.use_nesterov:
            return p - lr * (g + self.momentum * b)
        return p - lr * b


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
        self.use_nesterov = bool(use_nesterov)
        tg = _tg()
        object.__setattr__(self, "_m", [tg.zeros_like(p) for p in self.parameters])
        object.__setattr__(self, "_v", [tg.zeros_like(p) for p in self.parameters])

    def _update(self, i, p, g, lr, wd):
        tg = _tg()
        m, v = self._m[i], self._v[i]
        m[...] = self.beta1 * m + (1.0 - self.beta1) * g
        v[...] = self.beta2 * v + (1.0 - self.beta2) * g * g
        t = (self.global_step + 1).astype(tg.float64)  # bias correction in float64, as in Python
        # Nesterov (MindSpore's and TensorFlow's use_nesterov): the step looks one moment ahead,
        # beta1 * m_t + (1 - beta1) * g_t in place of m_t.
        mt = self.beta1 * m + (1.0 - self.beta1) * g if self.use_nesterov else m
        mhat = mt / (1.0 - self.beta1**t).astype(p.dtype)
        vhat = v / (1.0 - self.beta2**t).astype(p.dtype)
        step = lr * mhat / (tg.sqrt(vhat) + self.eps)
        if self._decoupled and wd:
            step = step + lr * wd * p
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
