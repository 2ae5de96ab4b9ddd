"""2-D convolution: a slow version to read, and a fast one that does the same sums.

For every image n, filter f and output pixel (i, j)

    out[n, f, i, j] = b[f] + sum over c, u, v of  w[f, c, u, v] * xp[n, c, i*s + u, j*s + v]

where xp is the input with ``padding`` zeros around each image and s the stride.
``conv2d_naive`` writes exactly that as loops. ``Conv2d`` computes the same numbers with
im2col (see ``bplearn.nn.im2col``): every patch becomes a column of a matrix and
the whole layer is one matrix product, forward and backward.

With the kernels as rows, K = weight.reshape(F, C*kh*kw), and g = dL/d(out) as
(F, H'*W'*N), the layer is out = K @ cols + b, so backward is the Linear layer's again:

    dK    = g @ cols.T      each weight collects over every patch it touched
    db    = g summed over all images and pixels
    dcols = K.T @ g         then col2im adds each patch gradient back onto its pixels
"""
from __future__ import annotations

import numpy as np

from ..errors import check_count, check_grad_out, check_input
from .init import get_initialiser, make_rng
from .module import Module, Parameter
from .im2col import (check_images, check_window_fits, col2im, im2col, output_hw, output_size, pad, pair,
                     show_pair)


def conv2d_naive(x, w, b=None, stride=1, padding=0) -> np.ndarray:
    """Reference convolution with plain loops: slow, but easy to check by eye.

    x: (N, C, H, W), w: (F, C, kh, kw), b: (F,) or None  ->  out: (N, F, H', W')
    with H' = (H + 2*ph - kh) // sh + 1 (same for W'). stride, padding: int or pair.
    """
    x, w = np.asarray(x), np.asarray(w)
    (sh, sw), (ph, pw) = pair(stride, "stride", "conv2d_naive", 1), pair(padding, "padding", "conv2d_naive", 0)
    n_images, _, h, wd = x.shape
    n_filters, _, kh, kw = w.shape
    ho, wo = output_size(h, kh, sh, ph), output_size(wd, kw, sw, pw)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))               # zeros around each image
    out = np.zeros((n_images, n_filters, ho, wo), dtype=np.result_type(x, w))
    for n in range(n_images):
        for f in range(n_filters):
            for i in range(ho):
                for j in range(wo):
                    patch = xp[n, :, i * sh:i * sh + kh, j * sw:j * sw + kw]   # (C, kh, kw)
                    out[n, f, i, j] = np.sum(patch * w[f]) + (0.0 if b is None else b[f])
    return out


class Conv2d(Module):
    """Convolution over a batch of images, like ``torch.nn.Conv2d``.

    x: (N, C, H, W)  ->  out: (N, F, H', W'),  H' = (H + 2*ph - kh) // sh + 1, same for W'
    weight: (F, C, kh, kw), bias: (F,)   with C = in_channels, F = out_channels.

    kernel_size, stride, padding: an int (same for height and width) or a pair.
    init: "kaiming_uniform" (default, suits ReLU) or another name from bplearn.nn.init;
    rng: a seed or numpy Generator so the starting weights repeat.

    The returned array has shape (N, F, H', W') but is a transposed view of (F, H', W', N)
    memory (see bplearn.nn.im2col); numpy treats it like any other array.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 bias: bool = True, rng=None, init: str = "kaiming_uniform"):
        name = f"Conv2d({in_channels}, {out_channels}, kernel_size={kernel_size!r})"
        self.in_channels = check_count(name, "in_channels", in_channels)
        self.out_channels = check_count(name, "out_channels", out_channels)
        self.kernel_size = pair(kernel_size, "kernel_size", name, 1)
        self.stride = pair(stride, "stride", name, 1)
        self.padding = pair(padding, "padding", name, 0)
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        self.weight = Parameter(get_initialiser(init)(shape, make_rng(rng)), "weight")
        self.bias = Parameter(np.zeros(self.out_channels), "bias") if bias else None
        self._cols = None

    def forward(self, x):
        x = check_input(self, x, self.weight.data.dtype)
        check_images(self, x, self.in_channels)
        check_window_fits(self, x, self.kernel_size, self.padding)
        xp = pad(x.transpose(1, 2, 3, 0), self.padding)           # (C, H+2ph, W+2pw, N) batch last
        cols = im2col(xp, self.kernel_size, self.stride)          # (C*kh*kw, H'*W'*N) a patch per column
        kernels = self.weight.data.reshape(self.out_channels, -1) # (F, C*kh*kw) a filter per row
        out = kernels @ cols                                      # (F, H'*W'*N)
        if self.bias is not None:
            out += self.bias.data[:, None]                        # one bias per filter (row)
        self._cols, self._xp_shape = cols, xp.shape               # cache: backward needs the patches
        out = out.reshape(self._out_shape_chwn())                 # (F, H', W', N)
        return out.transpose(3, 0, 1, 2)                          # (N, F, H', W'), a view

    def backward(self, grad_out):                                 # grad_out: (N, F, H', W')
        cols = self._require_cache("_cols")
        f, hout, wout, n = self._out_shape_chwn()
        grad_out = check_grad_out(self, grad_out, (n, f, hout, wout), self.weight.data.dtype)
        g = grad_out.transpose(1, 2, 3, 0).reshape(f, -1)         # (F, H'*W'*N), same order as out
        dk = (cols @ g.T).T                                       # (F, C*kh*kw) = g @ cols.T, faster in BLAS
        self.weight.grad += dk.reshape(self.weight.shape)         # (F, C, kh, kw)
        if self.bias is not None:
            self.bias.grad += g.sum(axis=1)                       # (F,) every pixel used the bias
        if not self.input_grad:
            return None                                           # first layer: dL/dx is not needed
        kernels = self.weight.data.reshape(f, -1)                 # (F, C*kh*kw)
        dcols = kernels.T @ g                                     # (C*kh*kw, F) @ (F, H'*W'*N)
        dxp = col2im(dcols, self._xp_shape, self.kernel_size, self.stride)  # (C, H+2ph, W+2pw, N)
        (_, hp, wp, _), (ph, pw) = self._xp_shape, self.padding
        dx = dxp[:, ph:hp - ph, pw:wp - pw, :]                    # (C, H, W, N) padding gets no gradient
        return dx.transpose(3, 0, 1, 2)                           # (N, C, H, W)

    def _out_shape_chwn(self) -> tuple[int, int, int, int]:
        """(F, H', W', N): the output shape in the layer's internal batch-last order."""
        _, hp, wp, n = self._xp_shape
        return (self.out_channels, *output_hw(hp, wp, self.kernel_size, self.stride), n)

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={show_pair(self.kernel_size)}"
        if self.stride != (1, 1):
            text += f", stride={show_pair(self.stride)}"
        if self.padding != (0, 0):
            text += f", padding={show_pair(self.padding)}"
        return text + ("" if self.bias is not None else ", bias=False")
