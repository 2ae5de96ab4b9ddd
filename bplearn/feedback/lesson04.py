"""Your-turn tasks of lesson 04 (backprop in a multi-layer network).

    two_layer_backward   the backward pass of Linear -> tanh -> Linear -> MSE in numpy
    scale_backward       the fixed backward of a feature-wise scale layer, after gradcheck found its bug

In the lesson: ``two_layer_backward = lesson04.two_layer_backward.check(two_layer_backward)``.
"""
from __future__ import annotations

import numpy as np

from .yourturn import Mistake, Task

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


def _variant(X, Y, W1, b1, W2, b2, slope=lambda z, h: 1 - h ** 2, bias_axis=0):
    """The same pass with one step changed: ``slope`` is the tanh derivative used,
    ``bias_axis`` the axis the bias gradients are summed over."""
    N = len(X)
    z1 = X @ W1.T + b1
    h = np.tanh(z1)
    dout = 2 * (h @ W2.T + b2 - Y) / N
    dz1 = (dout @ W2) * slope(z1, h)
    return dz1.T @ X, dz1.sum(axis=bias_axis), dout.T @ h, dout.sum(axis=bias_axis)


def _two_layer_inputs(rng):
    N, D, H = int(rng.integers(5, 10)), int(rng.integers(2, 5)), int(rng.integers(3, 7))
    return {"X": rng.standard_normal((N, D)), "Y": rng.standard_normal((N, 1)),
            "W1": rng.standard_normal((H, D)) * 0.7, "b1": rng.standard_normal(H) * 0.3,
            "W2": rng.standard_normal((1, H)) * 0.7, "b2": rng.standard_normal(1) * 0.3}


two_layer_backward = Task(
    "two_layer_backward",
    reference=_two_layer_backward,
    inputs=_two_layer_inputs,
    outputs=("dW1", "db1", "dW2", "db2"),
    mistakes=[
        Mistake("the tanh derivative is missing", lambda **a: _variant(**a, slope=lambda z, h: 1.0),
                "On the way from dh to dz1 the gradient passes through tanh: multiply by its slope, "
                "1 - h**2, entry by entry."),
        Mistake("the tanh derivative uses z1 instead of h",
                lambda **a: _variant(**a, slope=lambda z, h: 1 - z ** 2),
                "tanh'(z) = 1 - tanh(z)**2, and tanh(z1) is h: the slope is 1 - h**2, not 1 - z1**2."),
        Mistake("the bias gradient is summed over the wrong axis", lambda **a: _variant(**a, bias_axis=1),
                "A bias is shared by every example, so its gradient adds up the rows: sum over axis 0 "
                "(the batch), which leaves one number per unit."),
    ],
    nudge="Walk back through the forward lines in reverse: out, then h, then z1. Each Linear layer "
          "gives a weight gradient, a bias gradient and a gradient for its input.",
    hint="dout = 2 (out - Y) / N. For a Linear layer with input A and weights W: dW = dZ.T @ A, "
         "db = dZ summed over the batch, dA = dZ @ W. Between the two layers multiply by tanh' = 1 - h**2.",
    batch_size=lambda inputs: len(inputs["X"]),
    lesson=LESSON,
)


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


def _scale_inputs(rng):
    N, D = int(rng.integers(4, 9)), int(rng.integers(2, 6))
    return {"x": rng.standard_normal((N, D)), "gamma": 1 + 0.5 * rng.standard_normal(D),
            "grad_out": rng.standard_normal((N, D))}


scale_backward = Task(
    "scale_backward",
    reference=_scale_backward,
    inputs=_scale_inputs,
    outputs=("dx", "dgamma", "dbeta"),
    mistakes=[
        Mistake("the planted bug is still there", _planted_bug,
                "The derivative of x * gamma with respect to gamma is x (the thing gamma multiplies), "
                "not gamma itself: dgamma adds up grad_out * x over the batch."),
        Mistake("dx forgets gamma", lambda x, gamma, grad_out: (grad_out, *_scale_backward(x, gamma, grad_out)[1:]),
                "y = x * gamma, so every x[n, d] reaches y scaled by gamma[d]: dx = grad_out * gamma."),
        Mistake("dgamma is averaged instead of summed",
                lambda x, gamma, grad_out: (grad_out * gamma, (grad_out * x).mean(axis=0), grad_out.sum(axis=0)),
                "The loss already carries its own 1/N (in grad_out): a parameter shared by the batch "
                "adds up the contributions of all rows, it does not average them."),
    ],
    nudge="Run gradcheck on the buggy layer again and read which tensor it names: only that line is wrong.",
    hint="y[n, d] = x[n, d] * gamma[d] + beta[d]. The gradient of y with respect to gamma[d] is x[n, d]; "
         "add grad_out[n, d] times that over the batch.",
    batch_size=lambda inputs: len(inputs["x"]),
    lesson=LESSON,
)
