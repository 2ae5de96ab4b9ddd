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

from .yourturn import Mistake, Task

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


conv_weight_grad = Task(
    "conv_weight_grad",
    reference=_conv_weight_grad,
    inputs=_weight_inputs,
    outputs="dW",
    mistakes=[
        Mistake("g flipped", _weight_grad_with_flipped_g,
                "Nothing is flipped for dW: weight W[u, v] met pixel x[i+u, j+v] in window (i, j), so "
                "dW[u, v] = sum over (i, j) of g[i, j] * x[i+u, j+v], with u and v counting forwards."),
        Mistake("dW flipped", _weight_grad_flipped,
                "Your dW is the right one rotated by 180 degrees. Only dx needs the flipped kernel; "
                "dW[u, v] pairs g[i, j] with x[i+u, j+v] directly."),
        Mistake("only the last window counted", _weight_grad_last_window_only,
                "Each weight is shared by every window, so its gradient is a sum over all positions "
                "(i, j). Did you write dW = ... inside the loop instead of dW += ...?"),
        Mistake("rows and columns swapped", _weight_grad_transposed,
                "dW has the kernel's shape (kh, kw): its first axis runs down the image (rows), its "
                "second across (columns). Check the order of your indices."),
    ],
    nudge="Weight W[u, v] is used in every window. In window (i, j) it multiplied the pixel x[i+u, j+v], "
          "and the output there received the gradient g[i, j].",
    hint="Start from dW = zeros (kh, kw). For every output position (i, j), the whole window "
         "x[i:i+kh, j:j+kw] met the whole kernel: add g[i, j] times that window into dW.",
)


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


conv_input_grad = Task(
    "conv_input_grad",
    reference=_conv_input_grad,
    inputs=_input_inputs,
    outputs="dx",
    mistakes=[
        Mistake("overlapping windows overwritten", _input_grad_overwritten,
                "Windows overlap, so most pixels sat in several of them and collect a contribution "
                "from each: add into dx (dx[...] += ...), do not assign (dx[...] = ...)."),
        Mistake("kernel flipped in the loop", _input_grad_flipped_kernel,
                "In the loop over windows no flip is needed: window (i, j) sends g[i, j] * W back onto "
                "exactly the pixels x[i:i+kh, j:j+kw] it read, in the same order. (The flip only "
                "appears when you write the same sum as one convolution over g.)"),
        Mistake("kernel transposed", _input_grad_transposed_kernel,
                "W[u, v] touched pixel x[i+u, j+v]: u goes with rows, v with columns. Using W.T swaps them."),
    ],
    nudge="Go window by window: window (i, j) read the pixels x[i:i+kh, j:j+kw] and multiplied them by W. "
          "Which pixels did it touch, and by how much?",
    hint="Start from dx = zeros of the image's shape (H'+kh-1, W'+kw-1). For every window (i, j), "
         "add g[i, j] * W onto dx[i:i+kh, j:j+kw]; pixels in several windows collect several terms.",
)
