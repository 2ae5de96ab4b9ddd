"""The vector neural-network API in one namespace, named like ``torch.nn``.

    from bplearn import nn
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
"""
from .activations import Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .attention import SelfAttention
from .batchnorm import BatchNorm1d, BatchNorm2d
from .conv import Conv2d
from .dropout import Dropout
from .embedding import Embedding
from .laststep import LastStep
from .flatten import Flatten
from .linear import Linear
from .lstm import LSTM
from .pool import AvgPool2d, MaxPool2d
from .residual import Residual
from .rnn import RNN
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .module import Module, Parameter, Sequential

__all__ = [
    # the Module API
    "Module", "Parameter", "Sequential",
    # layers, in the order the course meets them
    "Linear", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "Identity",
    "BatchNorm1d", "BatchNorm2d", "Dropout", "Residual",
    "Conv2d", "MaxPool2d", "AvgPool2d", "Flatten",
    "RNN", "LSTM", "LastStep", "Embedding", "SelfAttention",
    # losses
    "MSELoss", "CrossEntropyLoss", "BCELoss", "BCEWithLogitsLoss",
]
