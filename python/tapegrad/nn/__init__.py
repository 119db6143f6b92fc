"""MindSpore-style neural-network layers, losses and optimizers."""
from .._parameter import Parameter, ParameterTuple  # noqa: F401
from .cell import Cell  # noqa: F401
from .layers import (  # noqa: F401
    GELU, CellList, Dense, Dropout, Flatten, LogSoftmax, Norm, ReLU, SequentialCell, Sigmoid, Softmax, Tanh,
)
from .loss import BCELoss, L1Loss, LossBase, MSELoss, SoftmaxCrossEntropyWithLogits, WithLossCell  # noqa: F401
from .optim import SGD, Adam, AdamW, Momentum, Optimizer, TrainOneStepCell  # noqa: F401

__all__ = [
    "Cell", "Parameter", "ParameterTuple",
    "Dense", "SequentialCell", "CellList", "Flatten", "Dropout", "Norm",
    "ReLU", "Sigmoid", "Tanh", "GELU", "Softmax", "LogSoftmax",
    "LossBase", "MSELoss", "L1Loss", "SoftmaxCrossEntropyWithLogits", "BCELoss", "WithLossCell",
    "Optimizer", "SGD", "Momentum", "Adam", "AdamW", "TrainOneStepCell",
]
