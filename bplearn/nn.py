"""The vector neural-network API in one namespace, named like ``torch.nn``.

    from bplearn import nn
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
"""
from .layers.linear import Linear
from .model import Module, Parameter, Sequential
from .layers.activations import Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .layers.batchnorm import BatchNorm1d, BatchNorm2d
from .layers.dropout import Dropout
from .layers.residual import Residual
from .layers.conv import Conv2d
from .layers.flatten import Flatten
from .layers.pool import AvgPool2d, MaxPool2d
from .layers.rnn import RNN
from .layers.lstm import LSTM
from .layers.embedding import Embedding
from .layers.attention import SelfAttention

__all__ = ["Module", "Parameter", "Sequential", "Linear",
           "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "Identity",
           "MSELoss", "CrossEntropyLoss", "BCELoss", "BCEWithLogitsLoss",
           "BatchNorm1d", "BatchNorm2d", "Dropout", "Residual",
           "Conv2d", "MaxPool2d", "AvgPool2d", "Flatten",
           "RNN", "LSTM", "Embedding", "SelfAttention"]
