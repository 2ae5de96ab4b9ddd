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

import math

import numpy as np

from .init import make_rng
from .module import Module, Parameter
from .rnn import check_bptt_steps, check_grad, check_sequence, check_state, tanh_slope, uniform_init


def sigmoid_slope(s: np.ndarray, out: np.ndarray) -> np.ndarray:
    """s * (1 - s), the derivative of sigmoid at a point where its output is s (written into out)."""
    np.subtract(1.0, s, out=out)
    out *= s
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
    Jozefowicz et al. 2015). ``lstm.to(np.float32)`` casts the parameters.

    ``bptt_steps`` truncates BPTT exactly as in ``RNN`` (blocks of k steps; no gradient
    crosses a block edge, through h or through c). After backward, ``grad_norms`` is an
    array (T,) with ||dL/dh_t|| over the batch, the total gradient at each hidden state.
    As in ``RNN``, the returned states are views of the backward cache: copy before
    changing them in place.
    """

    def __init__(self, input_size: int, hidden_size: int, forget_bias: float = 1.0,
                 bptt_steps: int | None = None, rng=None):
        self.input_size, self.hidden_size = input_size, hidden_size
        self.bptt_steps = check_bptt_steps(bptt_steps)
        rng = make_rng(rng)
        H = hidden_size
        self.W_x = Parameter(uniform_init((input_size, 4 * H), H, rng), "W_x")
        self.W_h = Parameter(uniform_init((H, 4 * H), H, rng), "W_h")
        b = np.zeros(4 * H)
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
        x_tm = np.ascontiguousarray(x.transpose(1, 0, 2))   # (T, N, D)
        # Input part of all four gates for all steps in one matmul, straight into the
        # buffer that will hold the gate values: (T*N, D) @ (D, 4H) -> (T, N, 4H).
        gates = (x_tm.reshape(T * N, D) @ self.W_x.data).reshape(T, N, 4 * H)
        gates += self.b.data
        W_h = self.W_h.data
        # Three gates use sigmoid and one uses tanh. As sigmoid(z) = (1 + tanh(z / 2)) / 2,
        # a single tanh call serves all four: gate = s * tanh(s * a) + (1 - s), with
        # s = 1/2 on the i, f, o blocks (a sigmoid) and s = 1 on the g block (plain tanh).
        # It also never overflows, unlike 1 / (1 + exp(-a)) for very negative a.
        # (Stored as full (N, 4H) arrays: same-shape in-place ops beat broadcasting a row.)
        s = np.full((N, 4 * H), 0.5, dtype=dtype)
        s[:, 2 * H:3 * H] = 1.0
        shift = 1.0 - s                                     # 1/2 for i, f, o; 0 for g
        cs, tanh_cs, hs = np.empty((3, T, N, H), dtype=dtype)
        for t in range(T):
            a = gates[t]                                    # (N, 4H), holds x_t @ W_x + b
            a += h @ W_h                                    # + h_{t-1} @ W_h: all pre-activations
            a *= s                                          # pre-activations -> gates, in place:
            np.tanh(a, out=a)                               # s tanh(s a) + (1 - s) gives
            a *= s                                          # i, f, o = sigmoid(a) in (0, 1)
            a += shift                                      # and g = tanh(a) in (-1, 1)
            i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]  # (N, H) views
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
        i, f, g, o = np.split(gates, 4, axis=-1)            # gate blocks, each (T, N, H)
        # Local derivatives need no upstream gradient, so they are computed for all steps
        # at once, straight into da (in place: no big temporary arrays). The loop then
        # multiplies each by dL/dc_t (or dL/dh_t), which turns da into dL/d(pre-activation).
        # Recall c_t = f c_{t-1} + i g and h_t = o tanh(c_t).
        da = np.empty((T, N, 4 * H), dtype=np.result_type(dhs, dh_next, dc_next, gates))
        da_i, da_f, da_g, da_o = np.split(da, 4, axis=-1)   # views: writing them fills da
        sigmoid_slope(gates, out=da)                        # s (1 - s): right for i, f, o ...
        tanh_slope(g, out=da_g)                             # ... but g is a tanh: 1 - g^2
        da_i *= g                                           # dc_t/da_i = g * sigmoid'(a_i)
        da_f[1:] *= cs[:-1]                                 # dc_t/da_f = c_{t-1} * sigmoid'(a_f)
        da_f[0] *= c0                                       #   (c_{-1} is c0)
        da_g *= i                                           # dc_t/da_g = i * tanh'(a_g)
        da_o *= tanh_c                                      # dh_t/da_o = tanh(c_t) * sigmoid'(a_o)
        dh_dc = tanh_slope(tanh_c, out=np.empty_like(tanh_c))
        dh_dc *= o                                          # dh_t/dc_t = o * tanh'(c_t)
        W_h_T = np.ascontiguousarray(self.W_h.data.T)       # (4H, H), reused every step
        k = self.bptt_steps
        self.grad_norms = np.empty(T)
        for t in reversed(range(T)):
            dh = dhs[t] + dh_next                           # (N, H) own output + the future
            self.grad_norms[t] = math.sqrt(np.vdot(dh, dh))  # record ||dL/dh_t|| for plots
            dc = dc_next + dh * dh_dc[t]                    # (N, H) via c_{t+1} and via h_t
            da_i[t] *= dc                                   # (N, H) input gate:  dL/dc_t * dc_t/da_i
            da_f[t] *= dc                                   # (N, H) forget gate: dL/dc_t * dc_t/da_f
            da_g[t] *= dc                                   # (N, H) candidate:   dL/dc_t * dc_t/da_g
            da_o[t] *= dh                                   # (N, H) output gate: dL/dh_t * dh_t/da_o
            dh_next = da[t] @ W_h_T                         # (N, 4H) @ (4H, H) -> dL/dh_{t-1}
            dc_next = dc * f[t]                             # (N, H) the gradient highway
            if k is not None and t % k == 0 and t > 0:      # t starts a block: truncate here
                dh_next[...] = 0.0
                dc_next[...] = 0.0
        # Shared parameters: sum over batch and time, one matmul each.
        da2 = da.reshape(T * N, 4 * H)
        self.W_x.grad += x.reshape(T * N, -1).T @ da2       # (D, TN) @ (TN, 4H) -> (D, 4H)
        # h_{t-1} is hs[t-1] for t >= 1 and h0 for t = 0:
        self.W_h.grad += hs[:-1].reshape(-1, H).T @ da[1:].reshape(-1, 4 * H)  # (H, (T-1)N) @ ((T-1)N, 4H)
        self.W_h.grad += h0.T @ da[0]                       # (H, N) @ (N, 4H) -> (H, 4H)
        self.b.grad += da2.sum(axis=0)                      # (4H,)
        dx = (da2 @ self.W_x.data.T).reshape(T, N, -1)      # (TN, 4H) @ (4H, D) -> (T, N, D)
        return dx.transpose(1, 0, 2), dh_next, dc_next      # (N, T, D); now dL/dh0 and dL/dc0

    def extra_repr(self) -> str:
        extra = f", bptt_steps={self.bptt_steps}" if self.bptt_steps is not None else ""
        return f"input_size={self.input_size}, hidden_size={self.hidden_size}{extra}"
