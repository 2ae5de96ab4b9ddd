"""Activation functions: the element-wise non-linearities between linear layers.

Without them a stack of Linear layers multiplies out to a single Linear layer, however
deep it is. Each activation here is a Module whose forward caches what its derivative
needs and whose backward multiplies the upstream gradient by that derivative:

    grad_in = grad_out * f'(x)          (element-wise: same shape in, same shape out)

Softmax is the one exception: each output depends on a whole row, so its backward
is a Jacobian-vector product (see Softmax.backward).
"""
from __future__ import annotations

import numpy as np

from ..errors import ShapeError, check_grad_out, check_input
from .module import Module


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) without overflow.  x: any shape -> same shape, in [0, 1].

    exp(-x) overflows for x < -709, so we only ever exponentiate -|x| (at most 1):
    for x >= 0 use 1 / (1 + e), for x < 0 the equal form e / (1 + e), with e = exp(-|x|).
    """
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """exp(x) / sum(exp(x)) along ``axis``.  x: any shape -> same shape, slices sum to 1.

    Subtracting the maximum first changes nothing mathematically (the factor exp(-max)
    cancels) but keeps every exponent <= 0, so exp never overflows.
    """
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def softmax_backward(s: np.ndarray, grad: np.ndarray, axis: int = -1) -> np.ndarray:
    """dL/dx for s = softmax(x) along ``axis``, given grad = dL/ds.  Same shape as s.

    Along the axis, ds_i/dx_j = s_i * (delta_ij - s_j): every output depends on every input.
    Multiplying grad by that (symmetric) Jacobian gives
        sum_i grad_i * s_i * (delta_ij - s_j) = s_j * (grad_j - sum_i grad_i * s_i),
    so the C x C matrix is never built: one weighted sum per slice is enough. Entries with
    s = 0 (e.g. masked attention weights) get no gradient without any extra code.
    """
    dot = np.sum(grad * s, axis=axis, keepdims=True)        # (..., 1, ...): sum_i grad_i s_i per slice
    return s * (grad - dot)


def sigmoid_slope(s: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """s * (1 - s): the derivative of sigmoid where its output is s (written into ``out`` if given)."""
    out = np.subtract(1.0, s, out=out)
    out *= s
    return out


def tanh_slope(t: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """1 - t**2: the derivative of tanh where its output is t (written into ``out`` if given)."""
    out = np.multiply(t, t, out=out)
    return np.subtract(1.0, out, out=out)


class ReLU(Module):
    """out = max(x, 0), element-wise.

    x: any shape -> out: same shape.  Derivative: 1 where x > 0, else 0.
    """

    def __init__(self):
        self._positive = None

    def forward(self, x):
        x = check_input(self, x)
        self._positive = x > 0                               # cache: where the slope is 1
        return np.maximum(x, 0.0)

    def backward(self, grad_out):                            # grad_out: same shape as x
        positive = self._require_cache("_positive")
        grad_out = check_grad_out(self, grad_out, positive.shape)
        return grad_out * positive                           # pass through where x > 0, block elsewhere


class LeakyReLU(Module):
    """out = x where x > 0, else negative_slope * x, element-wise.

    x: any shape -> out: same shape.  Derivative: 1 where x > 0, else negative_slope,
    so negative inputs still get a (small) gradient and a unit can never die completely.
    """

    def __init__(self, negative_slope: float = 0.01):
        self.negative_slope = float(negative_slope)
        self._positive = None

    def forward(self, x):
        x = check_input(self, x)
        self._positive = x > 0                               # cache: which slope applies
        return np.where(self._positive, x, self.negative_slope * x)

    def backward(self, grad_out):                            # grad_out: same shape as x
        positive = self._require_cache("_positive")
        grad_out = check_grad_out(self, grad_out, positive.shape)
        return np.where(positive, grad_out, self.negative_slope * grad_out)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class _SlopeFromOutput(Module):
    """An activation whose derivative can be written with its output alone (sigmoid, tanh).

    Subclasses name the function and its slope; forward caches only the output.
    """

    function = staticmethod(np.tanh)                         # x -> out
    slope = staticmethod(tanh_slope)                         # out -> d out / d x

    def __init__(self):
        self._out = None

    def forward(self, x):
        x = check_input(self, x)
        self._out = self.function(x)                         # cache: the derivative needs only the output
        return self._out

    def backward(self, grad_out):                            # grad_out: same shape as x
        out = self._require_cache("_out")
        grad_out = check_grad_out(self, grad_out, out.shape)
        return grad_out * self.slope(out)


class Sigmoid(_SlopeFromOutput):
    """out = 1 / (1 + exp(-x)), element-wise, computed without overflow.

    x: any shape -> out: same shape, in [0, 1].  Derivative: out * (1 - out),
    at most 1/4, which is one reason deep sigmoid networks have vanishing gradients.
    """

    function = staticmethod(sigmoid)
    slope = staticmethod(sigmoid_slope)


class Tanh(_SlopeFromOutput):
    """out = tanh(x), element-wise.

    x: any shape -> out: same shape, in [-1, 1].  Derivative: 1 - out**2.
    """

    function = staticmethod(np.tanh)
    slope = staticmethod(tanh_slope)


class Softmax(Module):
    """Turn scores into probabilities along ``dim``: s = exp(x) / sum(exp(x)).

    x: any shape (e.g. logits (N, C)) -> s: same shape; entries along ``dim`` are in
    (0, 1] and sum to 1.  For training a classifier prefer CrossEntropyLoss on the raw
    scores: it fuses softmax with the log and is more stable.
    """

    def __init__(self, dim: int = -1):
        self.dim = dim
        self._out = None

    def forward(self, x):
        x = check_input(self, x)
        if not -x.ndim <= self.dim < x.ndim:
            fix = f"Choose a dim from {-x.ndim} to {x.ndim - 1}." if x.ndim else "Give it at least a 1-D array."
            raise ShapeError(
                f"{self.short_name()} normalises along dim={self.dim}, but the input has shape {x.shape} "
                f"({x.ndim} dimensions). {fix}"
            )
        self._out = softmax(x, axis=self.dim)                # cache: the Jacobian needs only s
        return self._out

    def backward(self, grad_out):                            # grad_out: same shape as x
        s = self._require_cache("_out")
        return softmax_backward(s, check_grad_out(self, grad_out, s.shape), axis=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Identity(Module):
    """out = x: does nothing, handy as a placeholder (e.g. "no activation").

    x: any shape -> out: same shape.  Derivative: 1, so backward returns grad_out.
    """

    def __init__(self):
        self._shape = None

    def forward(self, x):
        x = check_input(self, x)
        self._shape = x.shape                                # cache: only to check grad_out's shape
        return x

    def backward(self, grad_out):                            # grad_out: same shape as x
        shape = self._require_cache("_shape")
        return check_grad_out(self, grad_out, shape)
