"""The vector neural-network API in one namespace, named like ``torch.nn``.

    from bplearn import nn
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
"""
from .layers.linear import Linear
from .model import Module, Parameter, Sequential

__all__ = ["Module", "Parameter", "Sequential", "Linear"]
