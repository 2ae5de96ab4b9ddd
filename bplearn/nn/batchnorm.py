"""Batch normalisation: give every channel mean 0 and variance 1, then rescale.

Deep networks train badly when the scale of each layer's input keeps drifting.
Batch norm standardises each channel over the current mini-batch,

    xhat = (x - mean) / sqrt(var + eps),       y = gamma * xhat + beta,

so the next layer always sees inputs of a steady size, and gradients flowing
back through many layers neither shrink nor blow up as easily. ``gamma`` and
``beta`` are learned, so the layer can still pick whatever scale suits it.

Train mode uses the statistics of the batch and keeps exponential running
averages of them; eval mode uses those running averages, so a prediction for
one example does not depend on which other examples share its batch.

BatchNorm1d and BatchNorm2d differ only in which axes hold the "values of one
channel": both move the channel axis last and flatten everything else into
rows, then share the same forward and backward on a (rows, C) matrix.
"""
from __future__ import annotations

import numpy as np

from ..errors import ShapeError, check_count, check_grad_out, check_input, check_number, check_shape
from .module import Module, Parameter


def _to_rows(x: np.ndarray) -> np.ndarray:
    """(N, C, *spatial) -> (N * prod(spatial), C): one row per value of each channel."""
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def _from_rows(rows: np.ndarray, shape: tuple) -> np.ndarray:
    """Undo _to_rows: (M, C) -> ``shape`` = (N, C, *spatial), in the usual C-contiguous layout."""
    channels_last = (shape[0],) + tuple(shape[2:]) + (shape[1],)
    return np.ascontiguousarray(np.moveaxis(rows.reshape(channels_last), -1, 1))


class _BatchNorm(Module):
    """The shared maths; subclasses only say which input shapes they accept.

    weight (gamma): (C,), starts at 1;  bias (beta): (C,), starts at 0.
    running_mean, running_var: (C,) buffers (not trained by gradients; ``to`` casts them too).
    """

    buffers = ("running_mean", "running_var")

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1):
        name = type(self).__name__
        self.num_features = check_count(name, "num_features", num_features)
        self.momentum = check_number(name, "momentum", momentum, 0.0, 1.0, high_inclusive=True)
        # eps > 0 keeps 1/sqrt(var + eps) finite for a channel whose values are all equal.
        self.eps = check_number(name, "eps", eps, 0.0, low_inclusive=False)
        self.weight = Parameter(np.ones(self.num_features), "weight")
        self.bias = Parameter(np.zeros(self.num_features), "bias")
        self.running_mean = np.zeros(self.num_features)
        self.running_var = np.ones(self.num_features)
        self._xhat = self._inv_std = self._shape = self._used_batch_stats = None

    def _check_input(self, x: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, x):
        x = check_input(self, x, self.weight.data.dtype)
        self._check_input(x)
        rows = _to_rows(x)                                   # (M, C), M = values per channel
        m = rows.shape[0]
        if self.training:
            if m < 2:
                raise ShapeError(
                    f"{self!r} got input of shape {x.shape}, i.e. only one value per channel: "
                    "batch norm needs more than one value per channel in training; "
                    "use eval() or a bigger batch."
                )
            mean = rows.mean(axis=0)                         # (C,)
            var = rows.var(axis=0)                           # (C,) biased (divide by M): used to normalise
            # The running variance estimates the *population* variance, so like PyTorch
            # it stores the unbiased estimate (divide by M - 1) of this batch.
            unbiased = var * m / (m - 1)
            self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * mean
            self.running_var = (1 - self.momentum) * self.running_var + self.momentum * unbiased
        else:
            mean, var = self.running_mean, self.running_var  # fixed numbers: the layer is affine
        inv_std = 1.0 / np.sqrt(var + self.eps)              # (C,)
        xhat = (rows - mean) * inv_std                       # (M, C)
        self._xhat, self._inv_std, self._shape = xhat, inv_std, x.shape
        self._used_batch_stats = self.training               # backward must follow forward's mode
        return _from_rows(xhat * self.weight.data + self.bias.data, x.shape)

    def backward(self, grad_out):
        xhat, inv_std, shape = self._require_cache("_xhat", "_inv_std", "_shape")
        dy = _to_rows(check_grad_out(self, grad_out, shape, self.weight.data.dtype))  # (M, C)
        m = dy.shape[0]
        self.weight.grad += (dy * xhat).sum(axis=0)          # (C,) y = gamma * xhat + beta
        self.bias.grad += dy.sum(axis=0)                     # (C,)
        dxhat = dy * self.weight.data                        # (M, C)
        if not self._used_batch_stats:
            # Eval mode: mean and var are constants, so y is an affine map of x.
            return _from_rows(dxhat * inv_std, shape)        # (M, C) -> input shape
        # Train mode: mean and var depend on every x in the channel. For one channel
        # (M values), with dxhat_i = dL/dxhat_i = dy_i * gamma from the line above,
        # write s = 1 / sqrt(var + eps), so xhat_i = (x_i - mean) * s. Then
        #   d mean / d x_j = 1/M
        #   d var  / d x_j = (2/M) (x_j - mean)        (the path through mean adds
        #                                               -(2/M) sum_i (x_i - mean) = 0)
        #   d s    / d x_j = -1/2 (var + eps)^(-3/2) * (2/M)(x_j - mean)
        #                  = -s^3 (x_j - mean) / M = -s^2 xhat_j / M
        #   d xhat_i / d x_j = s (delta_ij - 1/M) + (x_i - mean) * d s / d x_j
        #                    = s (delta_ij - 1/M) - s xhat_i xhat_j / M
        #                    = (s/M) (M delta_ij - 1 - xhat_i xhat_j)
        # The chain rule sums over every output i that x_j touched:
        #   dx_j = sum_i dxhat_i * d xhat_i / d x_j
        #        = (s/M) (M dxhat_j - sum_i dxhat_i - xhat_j sum_i dxhat_i xhat_i)
        # All three terms are cheap: two column sums and element-wise products.
        dx = (inv_std / m) * (
            m * dxhat                                        # (M, C)
            - dxhat.sum(axis=0)                              # (C,) broadcast over rows
            - xhat * (dxhat * xhat).sum(axis=0)              # (M, C) * (C,)
        )
        return _from_rows(dx, shape)                         # (M, C) -> input shape

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps:g}, momentum={self.momentum:g}"


class BatchNorm1d(_BatchNorm):
    """Batch norm for feature vectors (after Linear) or sequences.

    x: (N, C)  ->  y: (N, C), statistics per feature over the batch N;
    x: (N, C, L)  ->  y: (N, C, L), statistics per channel over N and L.
    weight, bias, running_mean, running_var: (C,) with C = num_features.
    """

    def _check_input(self, x):
        expected = (None, self.num_features, None) if x.ndim == 3 else (None, self.num_features)
        check_shape(self, x, expected, hint=f"{type(self).__name__} takes (N, C) or (N, C, L) with "
                                            f"C = num_features = {self.num_features} on axis 1.")


class BatchNorm2d(_BatchNorm):
    """Batch norm for images (after Conv2d): one mean and variance per channel.

    x: (N, C, H, W)  ->  y: (N, C, H, W), statistics per channel over N, H and W.
    weight, bias, running_mean, running_var: (C,) with C = num_features.
    """

    def _check_input(self, x):
        check_shape(self, x, (None, self.num_features, None, None),
                    hint=f"BatchNorm2d takes images (N, C, H, W) with C = num_features = "
                         f"{self.num_features} on axis 1; use BatchNorm1d for (N, C).")
