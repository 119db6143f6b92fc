"""Loss cells (MindSpore names)."""

from __future__ import annotations

from .cell import Cell


def _tg():
    import tapegrad

    return tapegrad


def _shape(x):
    return tuple(x.shape) if hasattr(x, "shape") else ()


def _check_types(what, logits, labels):
    """logits and labels must be tensors or array-likes; the error names the loss."""
    import numbers

    import numpy as np

    for name, x in (("logits", logits), ("labels", labels)):
        # A network that returns several outputs hands the loss a tuple: say so, instead of the
        # tensor constructor's message about nested sequences.
        if not isinstance(x, (_tg().Tensor, np.ndarray, np.generic, numbers.Number, list)):
            raise TypeError(
                f"{what}: {name} must be a Tensor, got {type(x).__name__}"
                + (" (the network returned several outputs?)" if isinstance(x, tuple) else "")
            )


def _check_pair(what, logits, labels, same=False):
    """logits and labels must broadcast together (have the same shape when `same`); the error
    names the loss and both shapes."""
    import numpy as np

    _check_types(what, logits, labels)
    a, b = _shape(logits), _shape(labels)
    if same:
        if a != b:
            raise ValueError(
                f"{what}: logits of shape {a} and labels of shape {b} must have the same shape"
            )
        return
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        raise ValueError(
            f"{what}: logits of shape {a} and labels of shape {b} cannot be broadcast together"
        ) from None


def _difference(logits, labels):
    """logits - labels; two integer (or Bool) operands are subtracted as Float64, the dtype their
    mean has: in their own dtype the difference (and its square) would wrap, and uint8 labels
    [0, 255] against [1, 0] gave an MSE of 1."""
    import numpy as np

    tg = _tg()
    a, b = (x if isinstance(x, tg.Tensor) else tg.tensor(x) for x in (logits, labels))
    if all(np.dtype(t.dtype.numpy_dtype).kind in "iub" for t in (a, b)):
        a, b = a.astype(tg.float64), b.astype(tg.float64)
    return a - b


def _reduce(x, reduction, what):
    if reduction == "mean":
        return x.mean()
    if reduction == "sum":
        return x.sum()
    if reduction == "none":
        return x
    raise ValueError(f"{what}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


class LossBase(Cell):
    """Base of the losses: `reduction` is "mean", "sum" or "none" (one loss per element);
    subclasses compute the elementwise loss and pass it to `get_loss`.

    >>> class Squared(tg.nn.LossBase):
    ...     def construct(self, logits, labels):
    ...         return self.get_loss((logits - labels) ** 2)
    >>> Squared(reduction="sum")(tg.tensor([1.0, 2.0]), tg.tensor([0.0, 0.0]))
    Tensor(shape=[], dtype=Float32, value= 5)
    """

    def __init__(self, reduction="mean"):
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(
                f"{type(self).__name__}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}"
            )
        self.reduction = reduction

    def get_loss(self, x, weights=1.0):
        """`x * weights` reduced as `reduction` says.

        >>> tg.nn.MSELoss().get_loss(tg.tensor([1.0, 2.0]), weights=2.0)
        Tensor(shape=[], dtype=Float32, value= 3)
        """
        return _reduce(x * weights, self.reduction, type(self).__name__)


class MSELoss(LossBase):
    """(logits - labels)**2, reduced ("mean" by default).

    >>> tg.nn.MSELoss()(tg.tensor([1.0, 2.0]), tg.tensor([1.0, 4.0]))
    Tensor(shape=[], dtype=Float32, value= 2)
    >>> print(tg.nn.MSELoss(reduction="none")(tg.tensor([1.0, 2.0]), tg.tensor([1.0, 4.0])))
    [0. 4.]
    """

    def construct(self, logits, labels):
        _check_pair("MSELoss", logits, labels)
        d = _difference(logits, labels)
        return self.get_loss(d * d)


class L1Loss(LossBase):
    """|logits - labels|, reduced ("mean" by default).

    >>> tg.nn.L1Loss(reduction="sum")(tg.tensor([1.0, 2.0]), tg.tensor([1.0, 4.0]))
    Tensor(shape=[], dtype=Float32, value= 2)
    """

    def construct(self, logits, labels):
        _check_pair("L1Loss", logits, labels)
        return self.get_loss(abs(_difference(logits, labels)))


class SoftmaxCrossEntropyWithLogits(LossBase):
    """Cross entropy of softmax(logits) against one-hot (or, with sparse=True, integer) labels,
    per example (reduction='none' by default, as MindSpore).

    >>> loss = tg.nn.SoftmaxCrossEntropyWithLogits()
    >>> loss(tg.tensor([[0.0, 0.0]]), tg.tensor([[1.0, 0.0]]))  # log 2
    Tensor(shape=[1], dtype=Float32, value= [ 6.93147...e-01])
    >>> sparse = tg.nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")
    >>> sparse(tg.tensor([[0.0, 0.0], [0.0, 0.0]]), tg.tensor([0, 1], tg.int32))
    Tensor(shape=[], dtype=Float32, value= 0.693147)
    """

    def __init__(self, sparse=False, reduction="none"):
        super().__init__(reduction)
        self.sparse = bool(sparse)

    def construct(self, logits, labels):
        import numpy as np

        tg = _tg()
        what = "SoftmaxCrossEntropyWithLogits"
        _check_types(what, logits, labels)
        # Lists and numpy arrays are taken as tensors: their dtype and shape are checked below
        # (a list has no .shape, and a numpy dtype no is_floating_point).
        logits, labels = (x if isinstance(x, tg.Tensor) else tg.tensor(x) for x in (logits, labels))
        if len(_shape(logits)) == 0:
            raise ValueError(
                f"{what}: logits must have at least one dimension (the classes), got shape ()"
            )
        if self.sparse:
            if _shape(labels) != _shape(logits)[:-1]:
                raise ValueError(
                    f"{what}(sparse=True): labels of shape {_shape(labels)} must have the shape of the "
                    f"logits without the class axis, {_shape(logits)[:-1]} (logits {_shape(logits)})"
                )
        else:
            _check_pair(what, logits, labels, same=True)
        logp = tg.log_softmax(logits, axis=-1)
        if self.sparse:
            if np.dtype(labels.dtype.numpy_dtype).kind not in "iu":
                raise TypeError(
                    f"{what}(sparse=True): labels must be integers, got dtype {labels.dtype} "
                    f"(labels of shape {_shape(labels)})"
                )
            n = logits.shape[-1]
            try:
                bad = bool(((labels < 0) | (labels >= n)).any())
            except ValueError:  # batched by vmap: no single value to check here
                bad = False
            if bad:
                raise ValueError(
                    f"{what}(sparse=True): labels must be class indices in [0, {n}), got values outside "
                    f"it (labels of shape {_shape(labels)})"
                )
            labels = tg.one_hot(labels, n, dtype=logits.dtype)
        return self.get_loss(-(logp * labels).sum(axis=-1))


def _clamped_log(tg, p):
    """max(log(p), -100) whose gradient at p = 0 is 0, not NaN: log sees 1 there, so that no
    infinite derivative of log meets the zero that maximum passes back (inf * 0)."""
    pos = p > 0
    one = tg.ones((), p.dtype)
    return tg.maximum(tg.where(pos, tg.log(tg.where(pos, p, one)), -100.0 * one), -100.0)


class BCELoss(LossBase):
    """Binary cross entropy of probabilities `logits` against `labels` (log clamped at -100).

    `BCELoss(weight=None, reduction="mean")`; `weight` rescales each element's loss.

    >>> tg.nn.BCELoss()(tg.tensor([0.5, 0.5]), tg.tensor([1.0, 0.0]))
    Tensor(shape=[], dtype=Float32, value= 0.693147)
    """

    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction)
        self.weight = weight

    def construct(self, logits, labels):
        tg = _tg()
        _check_pair("BCELoss", logits, labels, same=True)
        # PyTorch raises for a probability outside [0, 1] (NaN included) instead of returning nan.
        outside = ~((logits >= 0) & (logits <= 1))
        try:
            bad = bool(outside.any())
        except ValueError:  # batched by vmap: no single value to check here
            bad = False
        if bad:
            raise ValueError(
                f"BCELoss: every element of the input (logits) must be a probability in [0, 1]; got "
                f"values outside it in a tensor of shape {_shape(logits)}"
            )
        log_p = _clamped_log(tg, logits)
        log_1p = _clamped_log(tg, 1.0 - logits)
        loss = -(labels * log_p + (1.0 - labels) * log_1p)
        if self.weight is not None:
            loss = loss * self.weight
        return self.get_loss(loss)


class WithLossCell(Cell):
    """`loss_fn(backbone(data), label)`: a network and its loss as one cell, for
    `TrainOneStepCell`.

    >>> net = tg.nn.Dense(1, 1, weight_init="ones", bias_init="zeros")
    >>> tg.nn.WithLossCell(net, tg.nn.MSELoss())(tg.tensor([[1.0]]), tg.tensor([[3.0]]))
    Tensor(shape=[], dtype=Float32, value= 4)
    """

    def __init__(self, backbone, loss_fn):
        super().__init__(auto_prefix=False)
        for name, v in (("backbone", backbone), ("loss_fn", loss_fn)):
            if not callable(v):
                raise TypeError(
                    f"WithLossCell: {name} must be a Cell (or callable), got {type(v).__name__}"
                )
        self._backbone = backbone
        self._loss_fn = loss_fn

    def construct(self, data, label):
        return self._loss_fn(self._backbone(data), label)

    @property
    def backbone_network(self):
        """The network without the loss.

        >>> net = tg.nn.Dense(1, 1)
        >>> tg.nn.WithLossCell(net, tg.nn.MSELoss()).backbone_network is net
        True
        """
        return self._backbone
