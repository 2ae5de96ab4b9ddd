"""Your-turn tasks of lesson 10 (LSTM).

    forget_gate_backward   one gate: dL/da_f and dL/dc_{t-1} from dh_t, dc_t and the cache
    lstm_gates_backward    all four gates at once: da (N, 4H) in the order i, f, g, o, and dc_{t-1}

Conventions as in ``nn.LSTM``: gate blocks i, f, g, o (input, forget, cell candidate, output);
i, f, o = sigmoid(a_i, a_f, a_o), g = tanh(a_g), c_t = f * c_{t-1} + i * g, h_t = o * tanh(c_t).
"""
from __future__ import annotations

import numpy as np

from .yourturn import task_from_texts

LESSON = "10_lstm.ipynb"


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _cell_inputs(rng):
    """One LSTM step's cache, computed from random pre-activations, and random upstream gradients."""
    N, H = 3, 4
    a = rng.standard_normal((N, 4 * H))
    i, f, o = _sigmoid(a[:, :H]), _sigmoid(a[:, H:2 * H]), _sigmoid(a[:, 3 * H:])
    g = np.tanh(a[:, 2 * H:3 * H])
    c_prev = rng.standard_normal((N, H))
    c = f * c_prev + i * g
    return {"dh": rng.standard_normal((N, H)), "dc_next": rng.standard_normal((N, H)),
            "c": c, "c_prev": c_prev, "i": i, "f": f, "g": g, "o": o}


# --- forget_gate_backward -------------------------------------------------------------------

def _forget_gate_backward(dh, dc_next, c, c_prev, f, o):
    """dh, dc_next, c, c_prev, f, o: (N, H) -> da_f (N, H), dc_prev (N, H)."""
    dc = dc_next + dh * o * (1 - np.tanh(c) ** 2)   # c_t reaches the loss directly and through h_t
    df = dc * c_prev                                 # c_t = f * c_prev + ...: the other factor
    da_f = df * f * (1 - f)                          # through the sigmoid
    dc_prev = dc * f                                 # the highway to the previous cell state
    return da_f, dc_prev


def _forget_inputs(rng):
    cache = _cell_inputs(rng)
    return {k: cache[k] for k in ("dh", "dc_next", "c", "c_prev", "f", "o")}


def _forget_variant(dh, dc_next, c, c_prev, f, o, *, h_path=True, slope=True, tanh_c=True, dc_prev_total=True):
    """The forget gate's backward with one switch turned to a typical mistake (the defaults are right)."""
    through_h = dh * o * (1 - (np.tanh(c) if tanh_c else c) ** 2) if h_path else 0.0
    dc = dc_next + through_h
    da_f = dc * c_prev * (f * (1 - f) if slope else 1.0)
    return da_f, (dc if dc_prev_total else dc_next) * f


forget_gate_backward = task_from_texts(globals(), "forget_gate_backward")


# --- lstm_gates_backward --------------------------------------------------------------------

def _lstm_gates_backward(dh, dc_next, c, c_prev, i, f, g, o):
    """All (N, H) -> da (N, 4H) with blocks in the order i, f, g, o; dc_prev (N, H)."""
    tc = np.tanh(c)
    dc = dc_next + dh * o * (1 - tc ** 2)            # (N, H) total gradient of c_t
    di, df, dg, do = dc * g, dc * c_prev, dc * i, dh * tc   # the gates' outputs, each (N, H)
    da = np.concatenate([di * i * (1 - i),           # sigmoid'
                         df * f * (1 - f),           # sigmoid'
                         dg * (1 - g ** 2),          # tanh'
                         do * o * (1 - o)], axis=1)  # sigmoid'  -> (N, 4H)
    return da, dc * f


def _gates_variant(dh, dc_next, c, c_prev, i, f, g, o, *, order="ifgo", g_slope="tanh", h_path=True,
                   do_uses_c=False, swap_ig=False):
    """All four gates' backward with one switch turned to a typical mistake (the defaults are right)."""
    tc = np.tanh(c)
    dc = dc_next + (dh * o * (1 - tc ** 2) if h_path else 0.0)
    di, dg = (dc * i, dc * g) if swap_ig else (dc * g, dc * i)
    blocks = {"i": di * i * (1 - i), "f": dc * c_prev * f * (1 - f),
              "g": dg * (g * (1 - g) if g_slope == "sigmoid" else 1 - g ** 2),
              "o": dh * (c if do_uses_c else tc) * o * (1 - o)}
    return np.concatenate([blocks[k] for k in order], axis=1), dc * f


lstm_gates_backward = task_from_texts(globals(), "lstm_gates_backward")
