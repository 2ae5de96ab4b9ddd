"""Lesson 08 (convolutional networks): the learner's two your-turn tasks.

One image, one channel, one filter, stride 1, no padding:
out[i, j] = b + sum_{u,v} W[u, v] * x[i+u, j+v], with g = dL/d(out).

    conv_weight_grad   dW (kh, kw) from the image x (H, W) and g (H', W')
    conv_input_grad    dx (H, W) from the kernel W (kh, kw) and g (H', W')

Loops are welcome: the point is to see which numbers meet. Kernels are sometimes
non-square, so a swap of the two axes shows up as a shape, and sometimes square,
where only the values can tell.
"""
from __future__ import annotations

import numpy as np

from .yourturn import task_from_texts

LESSON = "08_cnn.ipynb"


def _sizes(rng) -> tuple[int, int, int, int]:
    """(H, W, kh, kw): a small image and a kernel of 2 or 3 rows and columns."""
    kh, kw = int(rng.integers(2, 4)), int(rng.integers(2, 4))
    return int(rng.integers(kh + 2, 8)), int(rng.integers(kw + 2, 8)), kh, kw


# --- dL/dW -------------------------------------------------------------------------------------

def _weight_inputs(rng) -> dict:
    h, w, kh, kw = _sizes(rng)
    return {"x": rng.normal(size=(h, w)), "g": rng.normal(size=(h - kh + 1, w - kw + 1))}


def _conv_weight_grad(x, g):
    """x: (H, W) image, g: (H', W') upstream gradient -> dW: (kh, kw), kh = H - H' + 1."""
    kh, kw = x.shape[0] - g.shape[0] + 1, x.shape[1] - g.shape[1] + 1
    dW = np.zeros((kh, kw))
    for i in range(g.shape[0]):
        for j in range(g.shape[1]):
            dW += g[i, j] * x[i:i + kh, j:j + kw]     # window (i, j) met every weight once
    return dW


def _weight_grad_with_flipped_g(x, g):
    return _conv_weight_grad(x, g[::-1, ::-1])


def _weight_grad_flipped(x, g):
    return _conv_weight_grad(x, g)[::-1, ::-1]


def _weight_grad_last_window_only(x, g):
    kh, kw = x.shape[0] - g.shape[0] + 1, x.shape[1] - g.shape[1] + 1
    i, j = g.shape[0] - 1, g.shape[1] - 1
    return g[i, j] * x[i:i + kh, j:j + kw]


def _weight_grad_transposed(x, g):
    return _conv_weight_grad(x, g).T


conv_weight_grad = task_from_texts(globals(), "conv_weight_grad")


# --- dL/dx -------------------------------------------------------------------------------------

def _input_inputs(rng) -> dict:
    h, w, kh, kw = _sizes(rng)
    return {"W": rng.normal(size=(kh, kw)), "g": rng.normal(size=(h - kh + 1, w - kw + 1))}


def _conv_input_grad(W, g):
    """W: (kh, kw) kernel, g: (H', W') upstream gradient -> dx: (H'+kh-1, W'+kw-1), the image's shape."""
    kh, kw = W.shape
    dx = np.zeros((g.shape[0] + kh - 1, g.shape[1] + kw - 1))
    for i in range(g.shape[0]):
        for j in range(g.shape[1]):
            dx[i:i + kh, j:j + kw] += g[i, j] * W     # window (i, j) sends g[i, j] * W back
    return dx


def _input_grad_overwritten(W, g):
    kh, kw = W.shape
    dx = np.zeros((g.shape[0] + kh - 1, g.shape[1] + kw - 1))
    for i in range(g.shape[0]):
        for j in range(g.shape[1]):
            dx[i:i + kh, j:j + kw] = g[i, j] * W
    return dx


def _input_grad_flipped_kernel(W, g):
    return _conv_input_grad(W[::-1, ::-1], g)


def _input_grad_transposed_kernel(W, g):
    return _conv_input_grad(W.T, g)


conv_input_grad = task_from_texts(globals(), "conv_input_grad")
