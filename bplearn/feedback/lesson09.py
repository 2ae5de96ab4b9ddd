"""Your-turn tasks of lesson 09 (recurrent networks and BPTT).

    bptt_backward          the loop over time: dW_ih, dW_hh, db, dx, dh0 of a tanh RNN
    clip_by_global_norm    gradient clipping by the norm of all gradients together

Conventions as in ``nn.RNN``: weights (out, in), batch first,
h_t = tanh(x_t @ W_ih.T + h_{t-1} @ W_hh.T + b), with W_ih (H, D), W_hh (H, H), b (H,).
"""
from __future__ import annotations

import numpy as np

from .yourturn import task_from_texts

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


bptt_backward = task_from_texts(globals(), "bptt_backward")


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


clip_by_global_norm = task_from_texts(globals(), "clip_by_global_norm")
