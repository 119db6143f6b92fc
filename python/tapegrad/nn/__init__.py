"""MindSpore-style neural-network layers, losses and optimizers."""

from .._parameter import Parameter, ParameterTuple
from .cell import Cell
from .conv import Conv2d
from .layers import (
    GELU,
    CellList,
    Dense,
    Dropout,
    Flatten,
    LogSoftmax,
    Norm,
    ReLU,
    SequentialCell,
    Sigmoid,
    Softmax,
    Tanh,
)
from .loss import BCELoss, L1Loss, LossBase, MSELoss, SoftmaxCrossEntropyWithLogits, WithLossCell
from .optim import SGD, Adam, AdamW, Momentum, Optimizer, TrainOneStepCell

__all__ = [
    "GELU",
    "SGD",
    "Adam",
    "AdamW",
    "BCELoss",
    "Cell",
    "CellList",
    "Conv2d",
    "Dense",
    "Dropout",
    "Flatten",
    "L1Loss",
    "LogSoftmax",
    "LossBase",
    "MSELoss",
    "Momentum",
    "Norm",
    "Optimizer",
    "Parameter",
    "ParameterTuple",
    "ReLU",
    "SequentialCell",
    "Sigmoid",
    "Softmax",
    "SoftmaxCrossEntropyWithLogits",
    "Tanh",
    "TrainOneStepCell",
    "WithLossCell",
]
