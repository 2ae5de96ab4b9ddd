"""Long short-term memory: a recurrent layer whose memory has a gradient highway.

A plain RNN squashes its whole memory through W_hh and tanh at every step, so the
gradient shrinks (or grows) by a factor per step. An LSTM keeps a second state, the
cell c_t, that changes only by *adding* to it and scaling it with a gate:

    a   = x_t @ W_x + h_{t-1} @ W_h + b          (N, 4H): four gates computed together
    i   = sigmoid(a[:, 0H:1H])                   input gate:  how much new content to write
    f   = sigmoid(a[:, 1H:2H])                   forget gate: how much old memory to keep
    g   = tanh   (a[:, 2H:3H])                   candidate content
    o   = sigmoid(a[:, 3H:4H])                   output gate: how much memory to show
    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(c_t)

Backward, dL/dc_{t-1} = dL/dc_t * f: no weight matrix and no squashing in the way, so
while the forget gate stays near 1 the gradient can travel many steps unchanged.
"""
from __future__ import annotations

import numpy as np

from ..init import make_rng
from ..model import Module, Parameter
from .rnn import check_bptt_steps, check_grad, check_sequence, check_state, uniform_init


def sigmoid(a: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-a)) written via tanh, which never overflows for large |a|."""
    return 0.5 * (1.0 + np.tanh(0.5 * a))


class LSTM(Module):
    """LSTM layer, batch first, gates in PyTorch's order i, f, g, o.

    forward(x, h0=None, c0=None):
        x: (N, T, D), h0, c0: (N, H) or None (zeros)
        -> hs: (N, T, H) every hidden state, h_T: (N, H), c_T: (N, H)
    backward(dhs, dh_last=None, dc_last=None):
        dhs: (N, T, H), dh_last, dc_last: (N, H) or None
        -> dx: (N, T, D), dh0: (N, H), dc0: (N, H); adds dL/dW into W_x, W_h, b

    Unlike ``torch.nn.LSTM``, which returns ``(hs, (h_T, c_T))``, the three outputs come
    back flat, matching ``RNN`` (``(hs, h_T)``) and the one-gradient-per-output rule of
    ``backward``.

    Parameters: W_x (D, 4H), W_h (H, 4H), b (4H,), gate blocks of width H in the order
    i, f, g, o. Weights ~ U(-1/sqrt(H), 1/sqrt(H)) like PyTorch; the bias is zero except
    the forget-gate block, set to ``forget_bias`` (default 1.0) so that at the start of
    training f = sigmoid(1) ~ 0.73 and the cell tends to remember (Gers et al. 2000;
    Jozefowicz et al. 2015). ``dtype=np.float32`` builds float32 parameters.

    ``bptt_steps`` truncates BPTT exactly as in ``RNN`` (blocks of k steps; no gradient
    crosses a block edge, through h or through c). After backward, ``grad_norms`` is an
    array (T,) with ||dL/dh_t|| over the batch, the total gradient at each hidden state.
    """

    def __init__(self, input_size: int, hidden_size: int, forget_bias: float = 1.0,
                 bptt_steps: int | None = None, rng=None, dtype=np.float64):
        self.input_size, self.hidden_size = input_size, hidden_size
        self.bptt_steps = check_bptt_steps(bptt_steps)
        rng = make_rng(rng)
        H = hidden_size
        self.W_x = Parameter(uniform_init((input_size, 4 * H), H, rng, dtype), "W_x")
        self.W_h = Parameter(uniform_init((H, 4 * H), H, rng, dtype), "W_h")
        b = np.zeros(4 * H, dtype=dtype)
        b[H:2 * H] = forget_bias                             # the forget-gate block
        self.b = Parameter(b, "b")
        self.grad_norms = None                              # (T,), filled by backward
        self._x = self._h0 = self._c0 = self._gates = self._cs = self._hs = None

    def forward(self, x, h0=None, c0=None):
        x = check_sequence(self, x, self.input_size)       # (N, T, D)
        N, T, D = x.shape
        H = self.hidden_size
        dtype = np.result_type(x, self.W_h.data)
        h = check_state(self, h0, "h0", N, H, dtype)       # (N, H)
        c = check_state(self, c0, "c0", N, H, dtype)       # (N, H)
        self._h0, self._c0 = h, c
        # Input part of all four gates for all steps in one matmul: (N, T, 4H).
        xw = (x.reshape(N * T, D) @ self.W_x.data + self.b.data).reshape(N, T, 4 * H)
        W_h = self.W_h.data
        gates = np.empty((N, T, 4 * H), dtype=dtype)        # i, f, g, o after their nonlinearity
        cs = np.empty((N, T, H), dtype=dtype)
        hs = np.empty((N, T, H), dtype=dtype)
        for t in range(T):
            a = xw[:, t] + h @ W_h                          # (N, H) @ (H, 4H) -> (N, 4H)
            i = sigmoid(a[:, :H])
            f = sigmoid(a[:, H:2 * H])
            g = np.tanh(a[:, 2 * H:3 * H])
            o = sigmoid(a[:, 3 * H:])
            c = f * c + i * g                               # (N, H) keep some old, write some new
            h = o * np.tanh(c)                              # (N, H)
            gates[:, t, :H], gates[:, t, H:2 * H], gates[:, t, 2 * H:3 * H], gates[:, t, 3 * H:] = i, f, g, o
            cs[:, t], hs[:, t] = c, h
        self._x, self._gates, self._cs, self._hs = x, gates, cs, hs
        return hs, h, c

    def backward(self, dhs, dh_last=None, dc_last=None):
        x, h0, c0, gates, cs, hs = self._require_cache("_x", "_h0", "_c0", "_gates", "_cs", "_hs")
        N, T, H = hs.shape
        dhs = check_grad(self, dhs, "dhs", hs.shape)        # (N, T, H)
        zeros = np.zeros((N, H), dtype=hs.dtype)
        dh_next = zeros if dh_last is None else check_grad(self, dh_last, "dh_last", (N, H))
        dc_next = zeros if dc_last is None else check_grad(self, dc_last, "dc_last", (N, H))
        c_prev_all = np.concatenate([c0[:, None], cs[:, :-1]], axis=1)  # (N, T, H): c_{t-1}
        tanh_c_all = np.tanh(cs)                            # (N, T, H), recomputed once
        W_h_T = np.ascontiguousarray(self.W_h.data.T)       # (4H, H), reused every step
        k = self.bptt_steps
        da = np.empty_like(gates)                           # dL/da_t for the four gates: (N, T, 4H)
        dh_all = np.empty_like(hs)                          # dL/dh_t, kept for grad_norms
        for t in reversed(range(T)):
            i, f, g, o = (gates[:, t, j * H:(j + 1) * H] for j in range(4))
            tanh_c = tanh_c_all[:, t]
            dh = dhs[:, t] + dh_next                        # (N, H) own output + the future
            dh_all[:, t] = dh
            dc = dc_next + dh * o * (1.0 - tanh_c * tanh_c)  # (N, H) via c_{t+1} and via h_t
            do = dh * tanh_c                                # (N, H) output gate
            di = dc * g                                     # (N, H) input gate
            df = dc * c_prev_all[:, t]                      # (N, H) forget gate
            dg = dc * i                                     # (N, H) candidate
            # Back through each gate's nonlinearity to its pre-activation (sigmoid' = s(1-s)):
            da[:, t, :H] = di * i * (1.0 - i)
            da[:, t, H:2 * H] = df * f * (1.0 - f)
            da[:, t, 2 * H:3 * H] = dg * (1.0 - g * g)
            da[:, t, 3 * H:] = do * o * (1.0 - o)
            dh_next = da[:, t] @ W_h_T                      # (N, 4H) @ (4H, H) -> dL/dh_{t-1}
            dc_next = dc * f                                # (N, H) the gradient highway
            if k is not None and t % k == 0 and t > 0:      # t starts a block: truncate here
                dh_next, dc_next = np.zeros_like(dh_next), np.zeros_like(dc_next)
        # Shared parameters: sum over batch and time, one matmul each.
        h_prev = np.concatenate([h0[:, None], hs[:, :-1]], axis=1)  # (N, T, H): h_{t-1}
        da2 = da.reshape(N * T, 4 * H)
        self.W_x.grad += x.reshape(N * T, -1).T @ da2       # (D, NT) @ (NT, 4H) -> (D, 4H)
        self.W_h.grad += h_prev.reshape(N * T, H).T @ da2   # (H, NT) @ (NT, 4H) -> (H, 4H)
        self.b.grad += da2.sum(axis=0)                      # (4H,)
        dx = (da2 @ self.W_x.data.T).reshape(x.shape)       # (NT, 4H) @ (4H, D) -> (N, T, D)
        self.grad_norms = np.sqrt((dh_all * dh_all).sum(axis=(0, 2)))  # (T,) ||dL/dh_t||
        return dx, dh_next, dc_next                         # now dL/dh0 and dL/dc0

    def extra_repr(self) -> str:
        extra = f", bptt_steps={self.bptt_steps}" if self.bptt_steps is not None else ""
        return f"input_size={self.input_size}, hidden_size={self.hidden_size}{extra}"
