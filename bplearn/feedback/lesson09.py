"""Your-turn tasks of lesson 09 (recurrent networks and BPTT).

    bptt_backward          the loop over time: dW_ih, dW_hh, db, dx, dh0 of a tanh RNN
    clip_by_global_norm    gradient clipping by the norm of all gradients together

Conventions as in ``nn.RNN``: weights (out, in), batch first,
h_t = tanh(x_t @ W_ih.T + h_{t-1} @ W_hh.T + b), with W_ih (H, D), W_hh (H, H), b (H,).
"""
from __future__ import annotations

import numpy as np

from .yourturn import Mistake, Task

LESSON = "09_rnn_bptt.ipynb"


# --- bptt_backward --------------------------------------------------------------------------

def _bptt_backward(x, h0, hs, W_ih, W_hh, grad_hs):
    """x (N, T, D), h0 (N, H), hs (N, T, H), W_ih (H, D), W_hh (H, H), grad_hs (N, T, H)."""
    T = x.shape[1]
    dW_ih, dW_hh, db = np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros(W_hh.shape[0])
    dx = np.zeros_like(x)
    dh_next = np.zeros_like(h0)                      # nothing comes back from after the last step
    for t in reversed(range(T)):
        h_prev = hs[:, t - 1] if t > 0 else h0       # the state this step read
        dh = grad_hs[:, t] + dh_next                 # (N, H) own loss + what came back from t + 1
        da = dh * (1 - hs[:, t] ** 2)                # (N, H) back through tanh
        dW_ih += da.T @ x[:, t]                      # (H, N) @ (N, D) -> (H, D)
        dW_hh += da.T @ h_prev                       # (H, N) @ (N, H) -> (H, H)
        db += da.sum(axis=0)                         # (H,)
        dx[:, t] = da @ W_ih                         # (N, H) @ (H, D) -> (N, D)
        dh_next = da @ W_hh                          # (N, H) @ (H, H) -> dL/dh_{t-1}
    return dW_ih, dW_hh, db, dx, dh_next


def _bptt_variant(x, h0, hs, W_ih, W_hh, grad_hs, *, carry=True, prev="right", slope=True,
                  accumulate=True, recur_T=False, future_after_slope=False):
    """BPTT with one switch turned to a typical mistake (the switches' defaults are right)."""
    T = x.shape[1]
    grads = [np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros(W_hh.shape[0])]
    dx, dh_next = np.zeros_like(x), np.zeros_like(h0)
    for t in reversed(range(T)):
        h_prev = {"right": hs[:, t - 1] if t > 0 else h0, "same step": hs[:, t], "wraps": hs[:, t - 1]}[prev]
        future = dh_next if carry else 0.0
        local = 1 - hs[:, t] ** 2 if slope else 1.0
        da = grad_hs[:, t] * local + future if future_after_slope else (grad_hs[:, t] + future) * local
        shares = [da.T @ x[:, t], da.T @ h_prev, da.sum(axis=0)]
        grads = [g + s for g, s in zip(grads, shares)] if accumulate else shares
        dx[:, t] = da @ W_ih
        dh_next = da @ (W_hh.T if recur_T else W_hh)
    return (*grads, dx, dh_next)


def _variant(**switch):
    def compute(x, h0, hs, W_ih, W_hh, grad_hs):
        return _bptt_variant(x, h0, hs, W_ih, W_hh, grad_hs, **switch)
    return compute


def rnn_forward(x, h0, W_ih, W_hh, b):
    """x (N, T, D), h0 (N, H) -> hs (N, T, H): the tanh RNN, one step at a time."""
    h, hs = h0, []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ W_ih.T + h @ W_hh.T + b)
        hs.append(h)
    return np.stack(hs, axis=1)


def _bptt_inputs(rng):
    N, T, D, H = 3, 5, 2, 4                          # all different, so every axis mix-up shows
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    W_ih, W_hh = 0.6 * rng.standard_normal((H, D)), 0.5 * rng.standard_normal((H, H))
    hs = rnn_forward(x, h0, W_ih, W_hh, 0.1 * rng.standard_normal(H))
    return {"x": x, "h0": h0, "hs": hs, "W_ih": W_ih, "W_hh": W_hh,
            "grad_hs": rng.standard_normal((N, T, H))}


bptt_backward = Task(
    "bptt_backward", reference=_bptt_backward, inputs=_bptt_inputs,
    outputs=("dW_ih", "dW_hh", "db", "dx", "dh0"), lesson=LESSON,
    batch_size=lambda inputs: inputs["x"].shape[0],
    mistakes=[
        Mistake("the gradient is not passed back to the previous hidden state", _variant(carry=False),
                "h_{t-1} is used by step t, so step t sends dL/dh_{t-1} = da_t @ W_hh back. Carry it in a "
                "variable (dh_next) and add it to grad_hs[:, t-1] at the next step of the loop."),
        Mistake("off by one step: dW_hh uses h_t instead of h_{t-1}", _variant(prev="same step"),
                "step t multiplied W_hh with the state it READ, h_{t-1} = hs[:, t-1] (h0 at t = 0), "
                "not the state it produced, hs[:, t]."),
        Mistake("at t = 0, hs[:, t - 1] wraps around to the last state", _variant(prev="wraps"),
                "in Python hs[:, -1] is the LAST hidden state. Step 0 read the initial state: "
                "use h0 when t == 0."),
        Mistake("the tanh derivative is missing", _variant(slope=False),
                "h_t = tanh(a_t), so da_t = dh_t * (1 - h_t ** 2) before anything else."),
        Mistake("the weight gradients are overwritten instead of summed over time", _variant(accumulate=False),
                "the weights are shared by all steps, so each step ADDS its share: dW_ih += ..., "
                "not dW_ih = ... (what is left is step 0's share alone)."),
        Mistake("W_hh transposed on the way back", _variant(recur_T=True),
                "forward computes h_{t-1} @ W_hh.T, so backward sends da @ W_hh (no .T) to h_{t-1}: "
                "the transpose undoes itself."),
        Mistake("the gradient from the future is added after the tanh slope", _variant(future_after_slope=True),
                "dL/dh_t is the SUM of grad_hs[:, t] and what came back from step t + 1; the whole sum "
                "then goes through tanh: da = (grad_hs[:, t] + dh_next) * (1 - h_t ** 2)."),
    ],
    nudge="Walk t from T-1 down to 0. At each step: total gradient at h_t, through tanh, "
          "this step's shares of the three weight gradients, then what goes back to h_{t-1}.",
    hint="dh = grad_hs[:, t] + dh_next; da = dh * (1 - hs[:, t]**2); dW_ih += da.T @ x[:, t]; "
         "dW_hh += da.T @ h_prev (h_prev is h0 at t = 0); db += da.sum(axis=0); dx[:, t] = da @ W_ih; "
         "dh_next = da @ W_hh. After the loop dh_next is dh0.",
)


# --- clip_by_global_norm ------------------------------------------------------------------

def _clip_by_global_norm(dW_ih, dW_hh, db, max_norm):
    """Scale the three gradients by one factor so their joint norm is at most max_norm."""
    total = np.sqrt(np.sum(dW_ih ** 2) + np.sum(dW_hh ** 2) + np.sum(db ** 2))
    if total <= max_norm:
        return dW_ih, dW_hh, db                     # short enough: leave it alone
    scale = max_norm / total
    return dW_ih * scale, dW_hh * scale, db * scale


def _clip_each(dW_ih, dW_hh, db, max_norm):
    return tuple(g * min(1.0, max_norm / np.linalg.norm(g)) for g in (dW_ih, dW_hh, db))


def _clip_always(dW_ih, dW_hh, db, max_norm):
    total = np.sqrt(sum(np.sum(g ** 2) for g in (dW_ih, dW_hh, db)))
    return tuple(g * max_norm / total for g in (dW_ih, dW_hh, db))


def _clip_entries(dW_ih, dW_hh, db, max_norm):
    return tuple(np.clip(g, -max_norm, max_norm) for g in (dW_ih, dW_hh, db))


def _clip_summed_norms(dW_ih, dW_hh, db, max_norm):
    total = sum(np.linalg.norm(g) for g in (dW_ih, dW_hh, db))
    return tuple(g * min(1.0, max_norm / total) for g in (dW_ih, dW_hh, db))


def _clip_inputs(rng):
    grads = {"dW_ih": 3 * rng.standard_normal((4, 2)), "dW_hh": 3 * rng.standard_normal((4, 4)),
             "db": 3 * rng.standard_normal(4)}
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
    # about half the cases are too long (clip) and half short enough (leave alone)
    factor = rng.uniform(0.1, 0.5) if rng.random() < 0.5 else rng.uniform(1.2, 3.0)
    return {**grads, "max_norm": float(factor * total)}


clip_by_global_norm = Task(
    "clip_by_global_norm", reference=_clip_by_global_norm, inputs=_clip_inputs,
    outputs=("dW_ih", "dW_hh", "db"), lesson=LESSON, cases=6,
    mistakes=[
        Mistake("each gradient clipped by its own norm", _clip_each,
                "clip by the norm of ALL gradients together, sqrt(sum of every squared entry of all three), "
                "and scale all three by the same factor; separate factors change the direction of the step."),
        Mistake("the gradient is rescaled even when it is short enough", _clip_always,
                "only clip when the joint norm is larger than max_norm; a short gradient stays as it is."),
        Mistake("each entry clipped to [-max_norm, max_norm]", _clip_entries,
                "np.clip caps single numbers and bends the direction; clipping by norm scales the whole "
                "gradient by max_norm / norm."),
        Mistake("the three norms are added instead of the squares", _clip_summed_norms,
                "the joint norm is sqrt(||dW_ih||² + ||dW_hh||² + ||db||²), the norm of one long vector "
                "made of all entries, not ||dW_ih|| + ||dW_hh|| + ||db||."),
    ],
    nudge="First measure the length of the whole gradient: all entries of all three arrays as one vector.",
    hint="total = sqrt(sum of dW_ih**2 + sum of dW_hh**2 + sum of db**2). If total > max_norm, multiply "
         "all three by max_norm / total; otherwise return them unchanged.",
)
