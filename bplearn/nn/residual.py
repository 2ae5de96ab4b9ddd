"""Residual (skip) connection: out = x + branch(x)."""
from __future__ import annotations

import numpy as np

from ..errors import ShapeError, check_grad_out, check_input
from .module import Module


class Residual(Module):
    """Add the input back onto the output of a branch.

    x: (N, ...)  ->  out: (N, ...), the same shape; branch(x) must keep the shape.

    The branch only has to learn a *correction* to the identity, and a deep stack
    of residual blocks starts out close to the identity map, which trains easily.

    >>> block = Residual(Sequential(Linear(8, 8), Tanh()))
    """

    def __init__(self, module: Module):
        if not isinstance(module, Module):
            raise TypeError(
                f"Residual expects a layer (Module instance) as its branch, got {module!r}. "
                "Did you pass a class instead of an instance, e.g. Linear instead of Linear(4, 4)?"
            )
        self.module = module
        self._shape = None

    def forward(self, x):
        x = check_input(self, x)
        branch = self.module(x)
        if np.shape(branch) != x.shape:
            raise ShapeError(
                f"Residual: its branch ({type(self.module).__name__}) turned an input of shape {x.shape} "
                f"into shape {np.shape(branch)}, but x + branch(x) needs both shapes equal. Make the branch "
                "return the shape it receives, or change the size outside the block with a projection, "
                "e.g. a Linear (or 1x1 Conv2d) placed before the Residual, so that input and branch agree."
            )
        self._shape = x.shape                                # backward checks grad_out against it
        return x + branch

    def backward(self, grad_out):
        grad_out = check_grad_out(self, grad_out, self._require_cache("_shape"))
        # out = x + branch(x): x reaches the loss along two paths, so (as always when a
        # value is used twice) the two gradients add. The skip path's gradient is
        # grad_out itself, untouched by any weight or activation derivative, so even
        # when the branch's gradient shrinks towards 0 in a deep stack, every layer
        # below still receives at least grad_out: the gradient cannot vanish here.
        skip = grad_out                                      # (N, ...) d(x)/dx = identity
        through_branch = self.module.backward(grad_out)      # (N, ...)
        return skip + through_branch
