"""Your-turn tasks of lesson 10 (LSTM).

    forget_gate_backward   one gate: dL/da_f and dL/dc_{t-1} from dh_t, dc_t and the cache
    lstm_gates_backward    all four gates at once: da (N, 4H) in the order i, f, g, o, and dc_{t-1}

Conventions as in ``nn.LSTM``: gate blocks i, f, g, o (input, forget, cell candidate, output);
i, f, o = sigmoid(a_i, a_f, a_o), g = tanh(a_g), c_t = f * c_{t-1} + i * g, h_t = o * tanh(c_t).
"""
from __future__ import annotations

import numpy as np

from .yourturn import Mistake, Task

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


def _forget_variant(*, h_path=True, slope=True, tanh_c=True, dc_prev_total=True):
    def compute(dh, dc_next, c, c_prev, f, o):
        through_h = dh * o * (1 - (np.tanh(c) if tanh_c else c) ** 2) if h_path else 0.0
        dc = dc_next + through_h
        da_f = dc * c_prev * (f * (1 - f) if slope else 1.0)
        return da_f, (dc if dc_prev_total else dc_next) * f
    return compute


forget_gate_backward = Task(
    "forget_gate_backward", reference=_forget_gate_backward, inputs=_forget_inputs,
    outputs=("da_f", "dc_prev"), lesson=LESSON,
    mistakes=[
        Mistake("dc_prev uses dc_next only", _forget_variant(dc_prev_total=False),
                "the highway carries the TOTAL gradient of c_t, including the part that came through h_t: "
                "dc_prev = dc * f with dc = dc_next + dh * o * (1 - tanh(c)**2)."),
        Mistake("the path through tanh(c_t) is forgotten", _forget_variant(h_path=False),
                "c_t is used twice: by the next step (dc_next) and by h_t = o * tanh(c_t). Add the second "
                "path first: dc = dc_next + dh * o * (1 - tanh(c_t)**2)."),
        Mistake("the sigmoid derivative is missing", _forget_variant(slope=False),
                "f = sigmoid(a_f), so dL/da_f = dL/df * f * (1 - f)."),
        Mistake("tanh's derivative taken at c_t instead of at tanh(c_t)", _forget_variant(tanh_c=False),
                "tanh'(c) = 1 - tanh(c)**2: square tanh(c), not c itself."),
    ],
    nudge="Two steps: first the total gradient of c_t (it reaches the loss by two paths), "
          "then back through c_t = f * c_prev + i * g to f and to c_prev.",
    hint="dc = dc_next + dh * o * (1 - tanh(c)**2); df = dc * c_prev; da_f = df * f * (1 - f); dc_prev = dc * f.",
)


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


def _gates_variant(*, order="ifgo", g_slope="tanh", h_path=True, do_uses_c=False, swap_ig=False):
    def compute(dh, dc_next, c, c_prev, i, f, g, o):
        tc = np.tanh(c)
        dc = dc_next + (dh * o * (1 - tc ** 2) if h_path else 0.0)
        di, dg = (dc * i, dc * g) if swap_ig else (dc * g, dc * i)
        blocks = {"i": di * i * (1 - i), "f": dc * c_prev * f * (1 - f),
                  "g": dg * (g * (1 - g) if g_slope == "sigmoid" else 1 - g ** 2),
                  "o": dh * (c if do_uses_c else tc) * o * (1 - o)}
        return np.concatenate([blocks[k] for k in order], axis=1), dc * f
    return compute


lstm_gates_backward = Task(
    "lstm_gates_backward", reference=_lstm_gates_backward, inputs=_cell_inputs,
    outputs=("da", "dc_prev"), lesson=LESSON,
    mistakes=[
        Mistake("the gate blocks are in the wrong order", _gates_variant(order="ifog"),
                "bplearn (like PyTorch) stacks the blocks of a as i, f, g, o: input, forget, cell candidate, "
                "output. Concatenate the four gradients in that order."),
        Mistake("the candidate g got a sigmoid derivative", _gates_variant(g_slope="sigmoid"),
                "g = tanh(a_g), so its slope is 1 - g**2; only i, f and o are sigmoids."),
        Mistake("the path through tanh(c_t) is forgotten", _gates_variant(h_path=False),
                "c_t also reaches the loss through h_t = o * tanh(c_t): dc = dc_next + dh * o * (1 - tanh(c)**2)."),
        Mistake("the output gate's factor is c_t instead of tanh(c_t)", _gates_variant(do_uses_c=True),
                "h_t = o * tanh(c_t), so dL/do = dh * tanh(c_t)."),
        Mistake("the factors of i and g are swapped", _gates_variant(swap_ig=True),
                "in i * g each factor's gradient is dc times the OTHER factor: di = dc * g, dg = dc * i."),
    ],
    nudge="Reuse your forget gate: the total dc first, then each gate's output gradient "
          "(\"dc or dh times the other factor\"), then each through its own squashing function.",
    hint="tc = tanh(c); dc = dc_next + dh*o*(1 - tc**2); di, df, dg, do = dc*g, dc*c_prev, dc*i, dh*tc; "
         "da = concatenate([di*i*(1-i), df*f*(1-f), dg*(1-g**2), do*o*(1-o)], axis=1); dc_prev = dc*f.",
)
