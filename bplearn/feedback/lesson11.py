"""Your-turn tasks of lesson 11 (attention).

    softmax_backward      dS from dA through A = softmax(S), row by row
    attention_backward    dQ, dK, dV of out = softmax(Q K^T / sqrt(d)) V, one head

Shapes are batch-first: Q, K, V, dOut (N, T, d); scores and weights (N, T, T), softmax over the last axis.
"""
from __future__ import annotations

import numpy as np

from .yourturn import Mistake, Task

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


softmax_backward = Task(
    "softmax_backward", reference=_softmax_backward, inputs=_softmax_inputs, outputs="dS", lesson=LESSON,
    mistakes=[
        Mistake("elementwise A * (1 - A), like a sigmoid", lambda dA, A: dA * A * (1 - A),
                "that is only the diagonal of the Jacobian. Every weight in a row depends on every score of "
                "that row (they must sum to 1), so the off-diagonal terms -A_s A_r count too: "
                "dS = A * (dA - sum over the row of dA * A)."),
        Mistake("the row sum runs over the wrong axis", lambda dA, A: A * (dA - (dA * A).sum(axis=-2, keepdims=True)),
                "the softmax normalises each ROW (the last axis, the keys s), so sum over axis=-1."),
        Mistake("the outer factor A is missing", lambda dA, A: dA - (dA * A).sum(axis=-1, keepdims=True),
                "dS_s = A_s * (dA_s - sum_r dA_r A_r): multiply by A at the end."),
        Mistake("the subtracted row sum is missing", lambda dA, A: A * dA,
                "A * dA is the backward of an elementwise exp; the normalisation adds "
                "- A * sum over the row of dA * A."),
    ],
    nudge="Write the derivative of A_s = exp(S_s) / sum_r exp(S_r) with respect to S_r, once for r = s "
          "and once for r != s, then apply it to dA.",
    hint="dA_s/dS_r = A_s (1[s = r] - A_r), so dS = A * (dA - (dA * A).sum(axis=-1, keepdims=True)).",
)


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


def _attention_variant(*, scale_power=1.0, softmax="rows", dK_T=True, dV_T=True):
    def compute(Q, K, V, dOut):
        scale = 1 / np.sqrt(Q.shape[-1])
        A = _softmax(Q @ K.transpose(0, 2, 1) * scale)
        dA = dOut @ V.transpose(0, 2, 1)
        dS = dA * A * (1 - A) if softmax == "elementwise" else _softmax_backward(dA, A)
        back = scale ** scale_power                   # the scale as used on the way back
        dK = (dS.transpose(0, 2, 1) if dK_T else dS) @ Q * back
        dV = (A.transpose(0, 2, 1) if dV_T else A) @ dOut
        return dS @ K * back, dK, dV
    return compute


def _attention_inputs(rng):
    N, T, d = 2, 4, 5                                 # sqrt(5) is no "nice" factor: a missing scale shows as itself
    return {name: rng.standard_normal((N, T, d)) for name in ("Q", "K", "V", "dOut")}


attention_backward = Task(
    "attention_backward", reference=_attention_backward, inputs=_attention_inputs,
    outputs=("dQ", "dK", "dV"), lesson=LESSON,
    mistakes=[
        Mistake("the 1/sqrt(d) scale is missing on the way back", _attention_variant(scale_power=0.0),
                "S = Q K^T / sqrt(d): the scale multiplies Q K^T, so it multiplies dQ and dK too."),
        Mistake("the 1/sqrt(d) scale is applied twice", _attention_variant(scale_power=2.0),
                "the scale enters once: dQ = dS @ K / sqrt(d) (if dS already includes it, do not divide again)."),
        Mistake("softmax backward as elementwise A * (1 - A)", _attention_variant(softmax="elementwise"),
                "each row of A is one softmax, whose Jacobian has off-diagonal terms: "
                "dS = A * (dA - (dA * A).sum(axis=-1, keepdims=True))."),
        Mistake("dK without the transpose of dS", _attention_variant(dK_T=False),
                "S[t, s] = q_t . k_s / sqrt(d): key s collects from every query t, so dK = dS^T @ Q / sqrt(d) "
                "(transpose the last two axes of dS)."),
        Mistake("dV without the transpose of A", _attention_variant(dV_T=False),
                "out = A @ V, so dV = A^T @ dOut: value s is read by every query t with weight A[t, s]."),
    ],
    nudge="Go through the forward lines in reverse: out = A @ V, then A = softmax(S), then S = Q K^T / sqrt(d). "
          "Recompute A first.",
    hint="dA = dOut @ V^T; dV = A^T @ dOut; dS = softmax backward of dA; dQ = dS @ K / sqrt(d); "
         "dK = dS^T @ Q / sqrt(d). Transpose with .transpose(0, 2, 1) to keep the batch axis first.",
)
