"""Your-turn tasks of lesson 11 (attention).

    softmax_backward      dS from dA through A = softmax(S), row by row
    attention_backward    dQ, dK, dV of out = softmax(Q K^T / sqrt(d)) V, one head

Shapes are batch-first: Q, K, V, dOut (N, T, d); scores and weights (N, T, T), softmax over the last axis.
"""
from __future__ import annotations

import numpy as np

from .yourturn import task_from_texts

LESSON = "11_attention.ipynb"


def _softmax(s):
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# --- softmax_backward -----------------------------------------------------------------------

def _softmax_backward(dA, A):
    """dA, A: (..., T) -> dS (..., T); every row is one softmax."""
    row_dot = (dA * A).sum(axis=-1, keepdims=True)   # (..., 1) sum over the row of dA * A
    return A * (dA - row_dot)                         # the Jacobian diag(A) - A A^T, applied per row


def _softmax_inputs(rng):
    A = _softmax(rng.standard_normal((2, 4, 4)))      # (N, T, T) a batch of attention weights
    return {"dA": rng.standard_normal((2, 4, 4)), "A": A}


def _sigmoid_like_slope(dA, A):
    return dA * A * (1 - A)


def _row_sum_over_the_wrong_axis(dA, A):
    return A * (dA - (dA * A).sum(axis=-2, keepdims=True))


def _without_the_outer_factor(dA, A):
    return dA - (dA * A).sum(axis=-1, keepdims=True)


def _without_the_row_sum(dA, A):
    return A * dA


softmax_backward = task_from_texts(globals(), "softmax_backward")


# --- attention_backward ---------------------------------------------------------------------

def _attention_backward(Q, K, V, dOut):
    """Q, K, V, dOut: (N, T, d) -> dQ, dK, dV (N, T, d) for out = softmax(Q K^T / sqrt(d)) V."""
    scale = 1 / np.sqrt(Q.shape[-1])
    A = _softmax(Q @ K.transpose(0, 2, 1) * scale)    # (N, T, T) forward again: the weights
    dA = dOut @ V.transpose(0, 2, 1)                  # (N, T, d) @ (N, d, T) -> (N, T, T)
    dV = A.transpose(0, 2, 1) @ dOut                  # (N, T, T) @ (N, T, d) -> (N, T, d)
    dS = A * (dA - (dA * A).sum(axis=-1, keepdims=True))  # softmax backward, row by row
    dQ = dS @ K * scale                               # (N, T, T) @ (N, T, d) -> (N, T, d)
    dK = dS.transpose(0, 2, 1) @ Q * scale            # (N, T, T) @ (N, T, d) -> (N, T, d)
    return dQ, dK, dV


def _attention_variant(Q, K, V, dOut, *, scale_power=1.0, softmax="rows", dK_T=True, dV_T=True):
    """The attention backward with one switch turned to a typical mistake (the defaults are right)."""
    scale = 1 / np.sqrt(Q.shape[-1])
    A = _softmax(Q @ K.transpose(0, 2, 1) * scale)
    dA = dOut @ V.transpose(0, 2, 1)
    dS = dA * A * (1 - A) if softmax == "elementwise" else _softmax_backward(dA, A)
    back = scale ** scale_power                       # the scale as used on the way back
    dK = (dS.transpose(0, 2, 1) if dK_T else dS) @ Q * back
    dV = (A.transpose(0, 2, 1) if dV_T else A) @ dOut
    return dS @ K * back, dK, dV


def _attention_inputs(rng):
    N, T, d = 2, 4, 5                                 # sqrt(5) is no "nice" factor: a missing scale shows as itself
    return {name: rng.standard_normal((N, T, d)) for name in ("Q", "K", "V", "dOut")}


attention_backward = task_from_texts(globals(), "attention_backward")
