"""Loss cells (MindSpore names)."""
from __future__ import annotations

from .cell import Cell


def _tg():
    import tapegrad

    return tapegrad


def _reduce(x, reduction, what):
    if reduction == "mean":
        return x.mean()
    if reduction == "sum":
        return x.sum()
    if reduction == "none":
        return x
    raise ValueError(f"{what}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


class LossBase(Cell):
    def __init__(self, reduction="mean"):
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"{type(self).__name__}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
        self.reduction = reduction

    def get_loss(self, x, weights=1.0):
        return _reduce(x * weights, self.reduction, type(self).__name__)


class MSELoss(LossBase):
    def construct(self, logits, labels):
        d = logits - labels
        return self.get_loss(d * d)


class L1Loss(LossBase):
    def construct(self, logits, labels):
        return self.get_loss(abs(logits - labels))


class SoftmaxCrossEntropyWithLogits(LossBase):
    """Cross entropy of softmax(logits) against one-hot (or, with sparse=True, integer) labels,
    per example (reduction='none' by default, as MindSpore)."""

    def __init__(self, sparse=False, reduction="none"):
        super().__init__(reduction)
        self.sparse = bool(sparse)

    def construct(self, logits, labels):
        tg = _tg()
        logp = tg.log_softmax(logits, axis=-1)
        if self.sparse:
            if labels.dtype.is_floating_point:
                raise TypeError("SoftmaxCrossEntropyWithLogits(sparse=True): labels must be integers")
            labels = tg.one_hot(labels, logits.shape[-1], dtype=logits.dtype)
        return self.get_loss(-(logp * labels).sum(axis=-1))


class BCELoss(LossBase):
    """Binary cross entropy of probabilities `logits` against `labels` (log clamped at -100)."""

    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction)
        self.weight = weight

    def construct(self, logits, labels):
        tg = _tg()
        log_p = tg.maximum(tg.log(logits), -100.0)
        log_1p = tg.maximum(tg.log(1.0 - logits), -100.0)
        loss = -(labels * log_p + (1.0 - labels) * log_1p)
        if self.weight is not None:
            loss = loss * self.weight
        return self.get_loss(loss)


class WithLossCell(Cell):
    def __init__(self, backbone, loss_fn):
        super().__init__(auto_prefix=False)
        self._backbone = backbone
        self._loss_fn = loss_fn

    def construct(self, data, label):
        return self._loss_fn(self._backbone(data), label)

    @property
    def backbone_network(self):
        return self._backbone
