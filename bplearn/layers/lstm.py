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


def sigmoid(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """1 / (1 + exp(-a)), computed as (1 + tanh(a/2)) / 2, which never overflows.

    ``out=a`` works in place (the LSTM writes its gates straight into a cache array).
    """
    out = np.multiply(a, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


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
        h = h0 = check_state(self, h0, "h0", N, H, dtype)  # (N, H)
        c = c0 = check_state(self, c0, "c0", N, H, dtype)  # (N, H)
        # Time-major inside, as in RNN: (T, N, ...), so step t is one contiguous block.
        # Input part of all four gates for all steps in one matmul: (T, N, 4H).
        x_tm = np.ascontiguousarray(x.transpose(1, 0, 2))   # (T, N, D)
        xw = (x_tm.reshape(T * N, D) @ self.W_x.data + self.b.data).reshape(T, N, 4 * H)
        W_h = self.W_h.data
        gates = np.empty((T, N, 4 * H), dtype=dtype)        # i, f, g, o after their nonlinearity
        cs, tanh_cs, hs = np.empty((3, T, N, H), dtype=dtype)
        for t in range(T):
            a = np.matmul(h, W_h, out=gates[t])             # (N, H) @ (H, 4H) -> (N, 4H) ...
            a += xw[t]                                      # ... + x_t @ W_x + b: pre-activations
            i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]  # (N, H) views
            sigmoid(i, out=i)                               # input gate, in (0, 1)
            sigmoid(f, out=f)                               # forget gate, in (0, 1)
            np.tanh(g, out=g)                               # candidate, in (-1, 1)
            sigmoid(o, out=o)                               # output gate, in (0, 1)
            c = np.multiply(f, c, out=cs[t])                # (N, H) keep some old memory ...
            c += i * g                                      # ... and write some new
            h = np.multiply(o, np.tanh(c, out=tanh_cs[t]), out=hs[t])  # (N, H)
        self._x, self._h0, self._c0 = x_tm, h0, c0          # cache for backward
        self._gates, self._cs, self._tanh_cs, self._hs = gates, cs, tanh_cs, hs
        return hs.transpose(1, 0, 2), h, c                  # (N, T, H) view, (N, H), (N, H)

    def backward(self, dhs, dh_last=None, dc_last=None):
        x, h0, c0, gates, cs, tanh_c, hs = self._require_cache(
            "_x", "_h0", "_c0", "_gates", "_cs", "_tanh_cs", "_hs")  # time-major (T, N, ...)
        T, N, H = hs.shape
        dhs = check_grad(self, dhs, "dhs", (N, T, H)).transpose(1, 0, 2)  # (T, N, H) view
        zeros = np.zeros((N, H), dtype=hs.dtype)
        dh_next = zeros if dh_last is None else check_grad(self, dh_last, "dh_last", (N, H))
        dc_next = zeros if dc_last is None else check_grad(self, dc_last, "dc_last", (N, H))
        i, f, g, o = (gates[:, :, j * H:(j + 1) * H] for j in range(4))  # each (T, N, H)
        c_prev = np.concatenate([c0[None], cs[:-1]])        # (T, N, H): c_{t-1}
        # The local derivatives do not depend on the upstream gradient, so compute them
        # for all steps at once. With sigmoid' = s (1 - s) and tanh' = 1 - tanh^2:
        dc_dh = o * (1.0 - tanh_c * tanh_c)                 # dh_t/dc_t
        di_dc = g * i * (1.0 - i)                           # c_t = f c_{t-1} + i g: dc/di = g
        df_dc = c_prev * f * (1.0 - f)                      # dc/df = c_{t-1}
        dg_dc = i * (1.0 - g * g)                           # dc/dg = i
        do_dh = tanh_c * o * (1.0 - o)                      # h_t = o tanh(c_t): dh/do = tanh(c_t)
        W_h_T = np.ascontiguousarray(self.W_h.data.T)       # (4H, H), reused every step
        k = self.bptt_steps
        dtype = np.result_type(dhs, dh_next, dc_next, gates)
        da = np.empty((T, N, 4 * H), dtype=dtype)           # dL/d(pre-activations), gate order i, f, g, o
        da_i, da_f, da_g, da_o = (da[:, :, j * H:(j + 1) * H] for j in range(4))
        dh_all = np.empty((T, N, H), dtype=dtype)           # dL/dh_t, kept for grad_norms
        for t in reversed(range(T)):
            dh = np.add(dhs[t], dh_next, out=dh_all[t])     # (N, H) own output + the future
            dc = dc_next + dh * dc_dh[t]                    # (N, H) via c_{t+1} and via h_t
            np.multiply(dc, di_dc[t], out=da_i[t])          # (N, H) input gate
            np.multiply(dc, df_dc[t], out=da_f[t])          # (N, H) forget gate
            np.multiply(dc, dg_dc[t], out=da_g[t])          # (N, H) candidate
            np.multiply(dh, do_dh[t], out=da_o[t])          # (N, H) output gate
            dh_next = da[t] @ W_h_T                         # (N, 4H) @ (4H, H) -> dL/dh_{t-1}
            dc_next = dc * f[t]                             # (N, H) the gradient highway
            if k is not None and t % k == 0 and t > 0:      # t starts a block: truncate here
                dh_next[...] = 0.0
                dc_next[...] = 0.0
        # Shared parameters: sum over batch and time, one matmul each.
        h_prev = np.concatenate([h0[None], hs[:-1]])        # (T, N, H): h_{t-1}
        da2 = da.reshape(T * N, 4 * H)
        self.W_x.grad += x.reshape(T * N, -1).T @ da2       # (D, TN) @ (TN, 4H) -> (D, 4H)
        self.W_h.grad += h_prev.reshape(T * N, H).T @ da2   # (H, TN) @ (TN, 4H) -> (H, 4H)
        self.b.grad += da2.sum(axis=0)                      # (4H,)
        dx = (da2 @ self.W_x.data.T).reshape(T, N, -1)      # (TN, 4H) @ (4H, D) -> (T, N, D)
        self.grad_norms = np.sqrt((dh_all * dh_all).sum(axis=(1, 2)))  # (T,) ||dL/dh_t||
        return dx.transpose(1, 0, 2), dh_next, dc_next      # (N, T, D); now dL/dh0 and dL/dc0

    def extra_repr(self) -> str:
        extra = f", bptt_steps={self.bptt_steps}" if self.bptt_steps is not None else ""
        return f"input_size={self.input_size}, hidden_size={self.hidden_size}{extra}"
