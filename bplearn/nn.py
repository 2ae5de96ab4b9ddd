"""The vector neural-network API in one namespace, named like ``torch.nn``.

    from bplearn import nn
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
"""
from .layers.activations import Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .layers.attention import SelfAttention
from .layers.batchnorm import BatchNorm1d, BatchNorm2d
from .layers.conv import Conv2d
from .layers.dropout import Dropout
from .layers.embedding import Embedding
from .layers.flatten import Flatten
from .layers.linear import Linear
from .layers.lstm import LSTM
from .layers.pool import AvgPool2d, MaxPool2d
from .layers.residual import Residual
from .layers.rnn import RNN
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .model import Module, Parameter, Sequential

__all__ = [
    # the Module API
    "Module", "Parameter", "Sequential",
    # layers, in the order the course meets them
    "Linear", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "Identity",
    "BatchNorm1d", "BatchNorm2d", "Dropout", "Residual",
    "Conv2d", "MaxPool2d", "AvgPool2d", "Flatten",
    "RNN", "LSTM", "Embedding", "SelfAttention",
    # losses
    "MSELoss", "CrossEntropyLoss", "BCELoss", "BCEWithLogitsLoss",
]
