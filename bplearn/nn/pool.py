"""Pooling: shrink each feature map by summarising small windows (max or mean).

Pooling has no weights. Each output pixel looks at a kh x kw window of one channel:

    MaxPool2d:  out = the largest value in the window
    AvgPool2d:  out = the mean of the window

Backward follows from that. A max passes its gradient only to the one input that won
(the others did not affect the output); a mean shares it out equally, 1/(kh*kw) each.

Both are computed without loops over pixels: we loop over the kh*kw *offsets* (i, j)
inside a window instead. Entry (i, j) of every window at once is one strided slice of
x (see ``bplearn.nn.im2col.window``), so a 2x2 pool is four array operations.
"""
from __future__ import annotations

import numpy as np

from ..errors import check_grad_out, check_input
from .module import Module
from .im2col import check_images, check_window_fits, output_hw, pair, show_pair, window


class _Pool2d(Module):
    """What both pools share: arguments, input checks and the window offsets."""

    def __init__(self, kernel_size, stride=None):
        name = f"{type(self).__name__}(kernel_size={kernel_size!r})"
        self.kernel_size = pair(kernel_size, "kernel_size", name, 1)
        self.stride = self.kernel_size if stride is None else pair(stride, "stride", name, 1)
        self._x = None

    def _check_input(self, x) -> np.ndarray:
        x = check_input(self, x)
        check_images(self, x)
        check_window_fits(self, x, self.kernel_size)
        return x

    def _windows(self, x_shape: tuple) -> list[tuple]:
        """One index per offset (i, j), row by row: x[index] is entry (i, j) of every window.

        x: (N, C, H, W)  ->  x[index]: (N, C, H', W')
        """
        (kh, kw), (h, w) = self.kernel_size, x_shape[2:]
        out_hw = output_hw(h, w, self.kernel_size, self.stride)
        return [(..., *window(i, j, out_hw, self.stride)) for i in range(kh) for j in range(kw)]

    def extra_repr(self) -> str:
        return f"kernel_size={show_pair(self.kernel_size)}, stride={show_pair(self.stride)}"


class MaxPool2d(_Pool2d):
    """The largest value of each window, like ``torch.nn.MaxPool2d`` (no padding).

    x: (N, C, H, W)  ->  out: (N, C, H', W'),  H' = (H - kh) // sh + 1, same for W'.
    kernel_size: int or pair; stride: int or pair, defaults to kernel_size.
    When several entries of a window tie for the maximum, the first one (row by row)
    gets the whole gradient, as in PyTorch.
    """

    def forward(self, x):
        x = self._check_input(x)
        first, *rest = self._windows(x.shape)
        out = x[first].copy("K")                                  # (N, C, H', W'), memory ordered like x
        for index in rest:
            np.maximum(out, x[index], out=out)                    # running maximum over the offsets
        self._x, self._out = x, out                               # cache: backward finds the winners
        return out

    def backward(self, grad_out):                                 # grad_out: (N, C, H', W')
        x, out = self._require_cache("_x", "_out")
        grad_out = check_grad_out(self, grad_out, out.shape)
        grad_x = np.zeros_like(x)                                 # (N, C, H, W)
        unclaimed = np.empty_like(out)                            # (N, C, H', W') not handed out yet,
        unclaimed[...] = grad_out                                 # stored in memory like out (faster)
        for index in self._windows(x.shape):
            taken = unclaimed * (x[index] == out)                 # (N, C, H', W') where this offset is the max
            grad_x[index] += taken                                # overlapping windows add up
            unclaimed -= taken                                    # a tie later in the window gets nothing
        return grad_x


class AvgPool2d(_Pool2d):
    """The mean of each window, like ``torch.nn.AvgPool2d`` (no padding).

    x: (N, C, H, W)  ->  out: (N, C, H', W'),  H' = (H - kh) // sh + 1, same for W'.
    kernel_size: int or pair; stride: int or pair, defaults to kernel_size.
    """

    def forward(self, x):
        x = self._check_input(x)
        first, *rest = self._windows(x.shape)
        total = x[first].copy("K")                                # (N, C, H', W'), memory ordered like x
        for index in rest:
            total += x[index]                                     # running sum over the offsets
        self._x, self._out_shape = x, total.shape                 # cache: backward needs the shapes
        return total / (self.kernel_size[0] * self.kernel_size[1])

    def backward(self, grad_out):                                 # grad_out: (N, C, H', W')
        x = self._require_cache("_x")
        grad_out = check_grad_out(self, grad_out, self._out_shape)
        share = grad_out / (self.kernel_size[0] * self.kernel_size[1])   # each entry gets 1/(kh*kw)
        grad_x = np.zeros_like(x)                                 # (N, C, H, W)
        for index in self._windows(x.shape):
            grad_x[index] += share                                # overlapping windows add up
        return grad_x
