"""MindSpore-style neural-network layers, losses and optimizers."""
from .._parameter import Parameter, ParameterTuple  # noqa: F401
from .cell import Cell  # noqa: F401
from .layers import (  # noqa: F401
    GELU, CellList, Dense, Dropout, Flatten, LogSoftmax, Norm, ReLU, SequentialCell, Sigmoid, Softmax, Tanh,
)
from .loss import BCELoss, L1Loss, LossBase, MSELoss, SoftmaxCrossEntropyWithLogits, WithLossCell  # noqa: F401
from .optim import SGD, Adam, AdamW, Momentum, Optimizer, TrainOneStepCell  # noqa: F401
from .conv import Conv2d  # noqa: F401,E402
