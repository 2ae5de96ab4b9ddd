"""Your-turn tasks of lesson 04 (backprop in a multi-layer network).

    two_layer_backward   the backward pass of Linear -> tanh -> Linear -> MSE in numpy
    scale_backward       the fixed backward of a feature-wise scale layer, after gradcheck found its bug

In the lesson: ``two_layer_backward = lesson04.two_layer_backward.check(two_layer_backward)``.
"""
from __future__ import annotations

import numpy as np

from .yourturn import task_from_texts

LESSON = "04_mlp_backprop.ipynb"


# --- two_layer_backward ------------------------------------------------------------------

def _two_layer_backward(X, Y, W1, b1, W2, b2):
    """dL/dW1 (H, D), dL/db1 (H,), dL/dW2 (1, H), dL/db2 (1,) for L = mean((out - Y)**2)."""
    N = len(X)
    z1 = X @ W1.T + b1            # (N, D) @ (D, H) -> (N, H)
    h = np.tanh(z1)               # (N, H)
    out = h @ W2.T + b2           # (N, H) @ (H, 1) -> (N, 1)
    dout = 2 * (out - Y) / N      # (N, 1)   dL/dout
    dW2 = dout.T @ h              # (1, N) @ (N, H) -> (1, H)
    db2 = dout.sum(axis=0)        # (1,)
    dh = dout @ W2                # (N, 1) @ (1, H) -> (N, H)
    dz1 = dh * (1 - h ** 2)       # (N, H)   through tanh, entry by entry
    dW1 = dz1.T @ X               # (H, N) @ (N, D) -> (H, D)
    db1 = dz1.sum(axis=0)         # (H,)
    return dW1, db1, dW2, db2


def _variant(X, Y, W1, b1, W2, b2, *, slope="right", bias_axis=0):
    """The same pass with one step changed: ``slope`` is the tanh derivative used ("right":
    1 - h**2, "none", or "from z1": 1 - z1**2), ``bias_axis`` the axis the bias gradients
    are summed over."""
    N = len(X)
    z1 = X @ W1.T + b1
    h = np.tanh(z1)
    dout = 2 * (h @ W2.T + b2 - Y) / N
    dz1 = (dout @ W2) * {"right": 1 - h ** 2, "none": 1.0, "from z1": 1 - z1 ** 2}[slope]
    return dz1.T @ X, dz1.sum(axis=bias_axis), dout.T @ h, dout.sum(axis=bias_axis)


def _two_layer_inputs(rng):
    N, D, H = int(rng.integers(5, 10)), int(rng.integers(2, 5)), int(rng.integers(3, 7))
    return {"X": rng.standard_normal((N, D)), "Y": rng.standard_normal((N, 1)),
            "W1": rng.standard_normal((H, D)) * 0.7, "b1": rng.standard_normal(H) * 0.3,
            "W2": rng.standard_normal((1, H)) * 0.7, "b2": rng.standard_normal(1) * 0.3}


two_layer_backward = task_from_texts(globals(), "two_layer_backward")


# --- scale_backward -----------------------------------------------------------------------

def _scale_backward(x, gamma, grad_out):
    """dx (N, D), dgamma (D,), dbeta (D,) for y = x * gamma + beta."""
    dx = grad_out * gamma                    # (N, D): each x[n, d] is scaled by gamma[d]
    dgamma = (grad_out * x).sum(axis=0)      # (D,): gamma[d] scales x[n, d] in every row
    dbeta = grad_out.sum(axis=0)             # (D,): beta[d] is added to every row
    return dx, dgamma, dbeta


def _planted_bug(x, gamma, grad_out):
    """The layer as shipped in the lesson: dgamma multiplies by gamma where x belongs."""
    return grad_out * gamma, (grad_out * gamma).sum(axis=0), grad_out.sum(axis=0)


def _dx_without_gamma(x, gamma, grad_out):
    return (grad_out, *_scale_backward(x, gamma, grad_out)[1:])


def _dgamma_averaged(x, gamma, grad_out):
    return grad_out * gamma, (grad_out * x).mean(axis=0), grad_out.sum(axis=0)


def _scale_inputs(rng):
    N, D = int(rng.integers(4, 9)), int(rng.integers(2, 6))
    return {"x": rng.standard_normal((N, D)), "gamma": 1 + 0.5 * rng.standard_normal(D),
            "grad_out": rng.standard_normal((N, D))}


scale_backward = task_from_texts(globals(), "scale_backward")
