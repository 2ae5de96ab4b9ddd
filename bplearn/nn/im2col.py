"""Sliding windows over images: the geometry that convolution and pooling share.

A convolution slides a small kernel over the image and, at every position, takes the
dot product of the kernel with the patch of pixels under it. **im2col** ("image to
columns") copies every patch into one column of a matrix, so that all those dot
products become ONE matrix product, which BLAS computes far faster than Python loops:

    x: (C, H, W, N)  --im2col-->  cols: (C*kh*kw, H'*W'*N)     one column per output pixel
    out = weight.reshape(F, C*kh*kw) @ cols   ->   (F, H'*W'*N)  one row per filter

**col2im** goes the other way in the backward pass: it adds each column of patch
gradients back onto the pixels that patch was copied from. A pixel that sat in several
patches (neighbouring windows overlap) collects one contribution from each of them.

Both loop over the kh*kw offsets (i, j) inside the kernel, never over pixels: entry
(i, j) of *every* patch is one strided slice of the images, x[:, i::sh, j::sw, :]
(trimmed to H' x W'), copied or added in a single numpy operation.

Channels first, batch last. The layers take and return (N, C, H, W) arrays like
PyTorch, but these helpers use (C, H, W, N). Then the N values of one pixel sit side by
side in memory, and (for stride 1) so do the W'*N values of a row of pixels, so each
slice above is made of long contiguous runs that numpy copies at full speed. The
matrix product lands directly in (F, H', W', N) order, which the layer hands on as an
(N, F, H', W') view: ``transpose`` never copies, it only relabels the axes.
"""
from __future__ import annotations

import numpy as np

from ..errors import ShapeError


def pair(value, name: str, layer: str, smallest: int) -> tuple[int, int]:
    """Turn 3 into (3, 3) and check (3, 5) has two ints >= smallest; ValueError otherwise."""
    values = value if isinstance(value, (tuple, list)) else (value, value)
    ok = len(values) == 2 and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                  and v >= smallest for v in values)
    if not ok:
        kind = "a positive int" if smallest > 0 else "an int >= 0"
        raise ValueError(f"{layer}: {name} must be {kind} or a pair of them, like 2 or (2, 1); got {value!r}.")
    return int(values[0]), int(values[1])


def show_pair(value: tuple[int, int]) -> str:
    """How a layer's repr writes a pair: (3, 3) as 3 (as it is usually passed), (3, 5) as is."""
    return str(value[0]) if value[0] == value[1] else str(value)


def output_size(size: int, kernel: int, stride: int, padding: int = 0) -> int:
    """How many window positions fit along one axis: floor((size + 2p - k) / s) + 1.

    A window that would stick out past the (padded) edge is not used, as in PyTorch.
    """
    return (size + 2 * padding - kernel) // stride + 1


def output_hw(h: int, w: int, kernel: tuple[int, int], stride: tuple[int, int]) -> tuple[int, int]:
    """(H', W'): how many window positions fit down and across an h x w (padded) image."""
    return output_size(h, kernel[0], stride[0]), output_size(w, kernel[1], stride[1])


def check_images(layer, x: np.ndarray, channels: int | None = None) -> None:
    """Raise ShapeError unless x is a batch of images (N, C, H, W) with ``channels`` channels."""
    name = layer.short_name()
    c = "C" if channels is None else str(channels)
    if x.ndim != 4:
        hint = (" If these are single-channel images, add a channel axis with x[:, None]."
                if x.ndim == 3 else "")
        raise ShapeError(
            f"{name} expected input of shape (N, {c}, H, W) but got {tuple(x.shape)}: it needs 4 "
            f"dimensions (batch, channels, height, width), the input has {x.ndim}.{hint}"
        )
    if channels is not None and x.shape[1] != channels:
        hint = (" Channels-last images (N, H, W, C) become (N, C, H, W) with x.transpose(0, 3, 1, 2)."
                if x.shape[3] == channels else "")
        raise ShapeError(
            f"{name} expected input of shape (N, {c}, H, W) but got {tuple(x.shape)}: axis 1 holds "
            f"the channels and has {x.shape[1]}, not {channels}.{hint}"
        )


def check_window_fits(layer, x: np.ndarray, kernel: tuple[int, int], padding: tuple[int, int] = (0, 0)) -> None:
    """Raise ShapeError if the kernel is larger than the (padded) images x: (N, C, H, W)."""
    name = layer.short_name()
    h, w = x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1]
    if h < kernel[0] or w < kernel[1]:
        raise ShapeError(
            f"{name} got images of {x.shape[2]}x{x.shape[3]} pixels ({h}x{w} with padding {padding}), "
            f"smaller than its {kernel[0]}x{kernel[1]} kernel, so no window fits. Use larger images, "
            f"a smaller kernel_size or more padding."
        )


def window(i: int, j: int, out_hw: tuple[int, int], stride: tuple[int, int]) -> tuple[slice, slice]:
    """(rows, cols) slices that pick entry (i, j) of every window: H x W -> H' x W'."""
    (ho, wo), (sh, sw) = out_hw, stride
    return slice(i, i + sh * ho, sh), slice(j, j + sw * wo, sw)


def pad(x: np.ndarray, padding: tuple[int, int]) -> np.ndarray:
    """Surround each image with zeros.  x: (C, H, W, N) -> (C, H + 2*ph, W + 2*pw, N)."""
    ph, pw = padding
    c, h, w, n = x.shape
    padded = np.zeros((c, h + 2 * ph, w + 2 * pw, n), dtype=x.dtype)
    padded[:, ph:ph + h, pw:pw + w, :] = x
    return padded


def im2col(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int]) -> np.ndarray:
    """Copy every kh x kw patch of x into one column.

    x: (C, H, W, N), already padded  ->  cols: (C*kh*kw, H'*W'*N)
    Row c*kh*kw + i*kw + j holds pixel (i, j) of channel c of every patch: the same
    order as weight.reshape(F, -1). Column (a*W' + b)*N + n holds the patch of image n
    whose top-left corner is pixel (a*sh, b*sw).
    """
    (kh, kw), (c, h, w, n) = kernel, x.shape
    out_hw = output_hw(h, w, kernel, stride)
    cols = np.empty((c, kh, kw) + out_hw + (n,), dtype=x.dtype)       # (C, kh, kw, H', W', N)
    for i in range(kh):
        for j in range(kw):
            rows, columns = window(i, j, out_hw, stride)
            cols[:, i, j] = x[:, rows, columns, :]                      # (C, H', W', N)
    return cols.reshape(c * kh * kw, -1)


def col2im(cols: np.ndarray, x_shape: tuple, kernel: tuple[int, int], stride: tuple[int, int]) -> np.ndarray:
    """The adjoint of im2col: add every patch column back onto the pixels it came from.

    cols: (C*kh*kw, H'*W'*N)  ->  x: x_shape = (C, H, W, N), padded like im2col's input.
    """
    (kh, kw), (c, h, w, n) = kernel, x_shape
    out_hw = output_hw(h, w, kernel, stride)
    patches = cols.reshape((c, kh, kw) + out_hw + (n,))                # (C, kh, kw, H', W', N)
    x = np.zeros(x_shape, dtype=cols.dtype)                            # (C, H, W, N)
    for i in range(kh):
        for j in range(kw):
            rows, columns = window(i, j, out_hw, stride)
            x[:, rows, columns, :] += patches[:, i, j]                  # overlapping patches add up
    return x
