"""Dropout: randomly silence units while training so no unit can rely on another."""
from __future__ import annotations

import numpy as np

from ..errors import ShapeError, check_grad_out, check_input, check_number
from .init import make_rng
from .module import Module


class Dropout(Module):
    """Inverted dropout: zero each value with probability p, scale survivors by 1/(1-p).

    x: any shape  ->  y: same shape.

    Train mode: y = x * keep / (1 - p), with keep a fresh random 0/1 mask each call.
    Scaling the survivors by 1/(1-p) keeps E[y] = x, so eval mode can simply be
    the identity (y = x) with nothing to rescale at test time.

    Backward uses the *same* mask as the forward it follows: a dropped unit had no
    effect on the loss, so its gradient is 0; a kept one passes dL/dy * 1/(1-p).

    Attributes:
      mask        the boolean keep-mask of the last train-mode forward (None before).
      fixed_mask  None (default: draw a new mask every forward), or a 0/1 or boolean
                  array of the input's shape that every train-mode forward then uses.
                  Fixing the mask makes dropout deterministic, which finite-difference
                  checks need: they call forward many times and expect the same function.

    p: drop probability in [0, 1);  rng: a seed or numpy Generator for the masks.

    >>> drop = Dropout(p=0.5, rng=0)
    >>> drop.fixed_mask = np.array([[1, 0, 1]])
    >>> drop(np.array([[1.0, 2.0, 3.0]]))
    array([[2., 0., 6.]])
    """

    def __init__(self, p: float = 0.5, rng=None):
        # p = 1 would drop everything (and divide by 1 - p = 0); p = 0 means no dropout.
        self.p = check_number("Dropout", "p (the probability of dropping a value)", p, 0.0, 1.0)
        self.rng = make_rng(rng)
        self.mask = None
        self.fixed_mask = None
        self._scale, self._shape = None, None

    def forward(self, x):
        x = check_input(self, x)
        self._shape = x.shape
        if not self.training:
            self._scale = 1.0                                  # eval: identity, gradient passes unchanged
            return x
        self.mask = self._fixed_mask_for(x) if self.fixed_mask is not None else self.rng.random(x.shape) >= self.p
        self._scale = self.mask.astype(x.dtype)                # same shape and dtype as x: 0 or 1 ...
        self._scale /= 1.0 - self.p                            # ... then 0 or 1/(1-p)
        return x * self._scale

    def backward(self, grad_out):
        scale, shape = self._require_cache("_scale", "_shape")
        return check_grad_out(self, grad_out, shape) * scale        # y = x * scale, so dx = dy * scale

    def _fixed_mask_for(self, x: np.ndarray) -> np.ndarray:
        """fixed_mask as a boolean array, after checking it fits ``x``."""
        mask = np.asarray(self.fixed_mask)
        if mask.shape != x.shape:
            raise ShapeError(
                f"{self!r}: fixed_mask has shape {mask.shape} but the input has shape {x.shape}. "
                "Set fixed_mask to an array of the input's shape, or to None for random masks."
            )
        if not np.isin(mask, (0, 1)).all():
            raise ValueError(f"{self!r}: fixed_mask must hold only 0/1 (or False/True): 1 keeps a value, 0 drops it.")
        return mask.astype(bool)

    def extra_repr(self) -> str:
        return f"p={self.p:g}"
