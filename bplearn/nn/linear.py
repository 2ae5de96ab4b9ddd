"""The fully connected layer."""
from __future__ import annotations

import numpy as np

from ..errors import check_grad_out, check_input, check_shape
from .init import get_initialiser
from .module import Module, Parameter


class Linear(Module):
    """y = x @ W.T + b

    x: (N, in_features)  ->  y: (N, out_features)
    weight: (out_features, in_features), bias: (out_features,)

    Also accepts x: (N, T, in_features) (a sequence) and applies the same weights
    at every time step.

    init: "kaiming_uniform" (default, suits ReLU) or "xavier_uniform" (tanh/sigmoid),
    rng: a seed or numpy Generator so the starting weights repeat.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, rng=None,
                 init: str = "kaiming_uniform"):
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(get_initialiser(init)((out_features, in_features), rng), "weight")
        self.bias = Parameter(np.zeros(out_features), "bias") if bias else None
        self._x = None

    def forward(self, x):
        x = check_input(self, x, self.weight.data.dtype)
        expected = (None,) * (x.ndim - 1) + (self.in_features,) if x.ndim in (2, 3) else (None, self.in_features)
        check_shape(self, x, expected, hint="The last axis must hold the in_features.")
        self._x = x                                          # cache: backward needs the input
        out = x @ self.weight.data.T                         # (N, in) @ (in, out) -> (N, out)
        if self.bias is not None:
            out += self.bias.data                            # broadcast over the batch
        return out

    def backward(self, grad_out):                            # grad_out: (N, out) or (N, T, out)
        x = self._require_cache("_x")
        grad_out = check_grad_out(self, grad_out, x.shape[:-1] + (self.out_features,), x.dtype)
        x2 = x.reshape(-1, self.in_features)                 # time steps count as extra rows
        g2 = grad_out.reshape(-1, self.out_features)
        self.weight.add_product(g2.T, x2)                    # grad += (out, N) @ (N, in) -> (out, in)
        if self.bias is not None:
            self.bias.grad += g2.sum(axis=0)                 # (out,)
        if not self.input_grad:
            return None                                      # first layer: dL/dx is not needed
        return grad_out @ self.weight.data                   # (N, out) @ (out, in) -> (N, in)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
