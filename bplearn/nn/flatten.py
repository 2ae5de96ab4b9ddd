"""Flatten: turn each image's feature maps into one long vector for a Linear layer."""
from __future__ import annotations

import numpy as np

from ..errors import ShapeError, check_grad_out, check_input
from .module import Module


class Flatten(Module):
    """Keep the batch axis, merge all the others, like ``torch.nn.Flatten()``.

    x: (N, d1, d2, ...)  ->  out: (N, d1*d2*...),  e.g. (N, C, H, W) -> (N, C*H*W)
    in (c, h, w) order. No weights: backward only reshapes the gradient back.
    """

    def __init__(self):
        self._x_shape = None

    def forward(self, x):
        x = check_input(self, x)
        if x.ndim < 2:
            raise ShapeError(f"{self.short_name()} expected input of shape (N, ...) with a batch axis first "
                             f"but got {tuple(x.shape)}. For a single example use x[None] to add a batch axis.")
        self._x_shape = x.shape                                # cache: backward undoes the reshape
        return x.reshape(x.shape[0], -1)                       # (N, d1*d2*...)

    def backward(self, grad_out):                              # grad_out: (N, d1*d2*...)
        x_shape = self._require_cache("_x_shape")
        grad_out = check_grad_out(self, grad_out, (x_shape[0], int(np.prod(x_shape[1:]))))
        return grad_out.reshape(x_shape)                       # (N, d1, d2, ...)
