"""Long short-term memory: a recurrent layer whose memory has a gradient highway.

A plain RNN squashes its whole memory through W_hh and tanh at every step, so the
gradient shrinks (or grows) by a factor per step. An LSTM keeps a second state, the
cell c_t, that changes only by *adding* to it and scaling it with a gate:

    a   = x_t @ weight_ih.T + h_{t-1} @ weight_hh.T + bias     (N, 4H): four gates at once
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

from ..errors import check_bptt_steps, check_grad_out, check_sequence, check_state
from .activations import sigmoid_slope, tanh_slope
from .init import make_rng, recurrent_uniform
from .module import Module, Parameter


class LSTM(Module):
    """LSTM layer, batch first, gates in PyTorch's order i, f, g, o.

    forward(x, h0=None, c0=None):
        x: (N, T, D), h0, c0: (N, H) or None (zeros)  ->  hs: (N, T, H), every hidden state.
        The last states are kept as ``h_last`` and ``c_last`` (N, H).
    backward(grad_out, grad_h_last=None, grad_c_last=None):
        grad_out: (N, T, H) = dL/dhs, grad_h_last, grad_c_last: (N, H) or None
        -> dx: (N, T, D); adds dL/dW into weight_ih, weight_hh, bias and keeps
        ``grad_h0`` and ``grad_c0`` (N, H).

    Like ``RNN`` it returns one array, so it fits in a ``Sequential`` (e.g. before a
    ``LastStep``); ``torch.nn.LSTM`` returns ``(hs, (h_T, c_T))`` instead.

    Parameters, (out, in) like ``torch.nn.LSTM``: weight_ih (4H, D), weight_hh (4H, H),
    bias (4H,), gate blocks of H rows in the order i, f, g, o. Weights ~ U(-1/sqrt(H),
    1/sqrt(H)) like PyTorch; the bias is zero except the forget-gate block, set to
    ``forget_bias`` (default 1.0) so that at the start of training f = sigmoid(1) ~ 0.73
    and the cell tends to remember (Gers et al. 2000; Jozefowicz et al. 2015).
    ``lstm.to(np.float32)`` casts the parameters.

    ``bptt_steps`` truncates BPTT exactly as in ``RNN`` (blocks of k steps; no gradient
    crosses a block edge, through h or through c). After backward, ``grad_norms`` is an
    array (T,) with ||dL/dh_t|| over the batch, the total gradient at each hidden state.
    As in ``RNN``, hs and the last states are views of the backward cache: copy before
    changing them in place.
    """

    def __init__(self, input_size: int, hidden_size: int, bptt_steps: int | None = None, rng=None,
                 *, forget_bias: float = 1.0):
        self.input_size, self.hidden_size = input_size, hidden_size
        self.bptt_steps = check_bptt_steps(bptt_steps)
        rng = make_rng(rng)
        H = hidden_size
        self.weight_ih = Parameter(recurrent_uniform((4 * H, input_size), H, rng), "weight_ih")
        self.weight_hh = Parameter(recurrent_uniform((4 * H, H), H, rng), "weight_hh")
        bias = np.zeros(4 * H)
        bias[H:2 * H] = forget_bias                          # the forget-gate block
        self.bias = Parameter(bias, "bias")
        self.h_last = self.c_last = None                    # (N, H), set by forward
        self.grad_h0 = self.grad_c0 = self.grad_norms = None  # (N, H), (N, H), (T,), set by backward
        self._x = self._h0 = self._c0 = self._gates = self._cs = self._hs = None

    def forward(self, x, h0=None, c0=None):
        x = check_sequence(self, x, self.input_size, self.weight_ih.data.dtype)  # (N, T, D)
        N, T, D = x.shape
        H = self.hidden_size
        dtype = x.dtype                                     # = the parameters' dtype, checked above
        h = h0 = check_state(self, h0, "h0", N, H, dtype)  # (N, H)
        c = c0 = check_state(self, c0, "c0", N, H, dtype)  # (N, H)
        # Time-major inside, as in RNN: (T, N, ...), so step t is one contiguous block.
        x_tm = np.ascontiguousarray(x.transpose(1, 0, 2))   # (T, N, D)
        # Input part of all four gates for all steps in one matmul, straight into the
        # buffer that will hold the gate values: (T*N, D) @ (D, 4H) -> (T, N, 4H).
        gates = (x_tm.reshape(T * N, D) @ self.weight_ih.data.T).reshape(T, N, 4 * H)
        gates += self.bias.data
        # (H, 4H), made contiguous once: BLAS multiplies it faster than a transposed view.
        W_hh_T = np.ascontiguousarray(self.weight_hh.data.T)
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
            a = gates[t]                                    # (N, 4H), holds x_t @ W_ih.T + b
            a += h @ W_hh_T                                 # + h_{t-1} @ W_hh.T: all pre-activations
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
        self.h_last, self.c_last = h, c                     # (N, H) each
        return hs.transpose(1, 0, 2)                        # (N, T, H) view

    def backward(self, grad_out, grad_h_last=None, grad_c_last=None):
        x, h0, c0, gates, cs, tanh_c, hs = self._require_cache(
            "_x", "_h0", "_c0", "_gates", "_cs", "_tanh_cs", "_hs")  # time-major (T, N, ...)
        T, N, H = hs.shape
        dhs = check_grad_out(self, grad_out, (N, T, H), hs.dtype).transpose(1, 0, 2)  # (T, N, H) view
        zeros = np.zeros((N, H), dtype=hs.dtype)
        dh_next = zeros if grad_h_last is None else check_grad_out(self, grad_h_last, (N, H), hs.dtype, "grad_h_last")
        dc_next = zeros if grad_c_last is None else check_grad_out(self, grad_c_last, (N, H), hs.dtype, "grad_c_last")
        i, f, g, o = np.split(gates, 4, axis=-1)            # gate blocks, each (T, N, H)
        # Local derivatives need no upstream gradient, so they are computed for all steps
        # at once, straight into da (in place: no big temporary arrays). The loop then
        # multiplies each by dL/dc_t (or dL/dh_t), which turns da into dL/d(pre-activation).
        # Recall c_t = f c_{t-1} + i g and h_t = o tanh(c_t).
        da = np.empty((T, N, 4 * H), dtype=hs.dtype)
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
        da_ifg = da[..., :3 * H].reshape(T, N, 3, H)        # view of the i, f, g blocks side by side
        W_hh = self.weight_hh.data                          # (4H, H)
        k = self.bptt_steps
        self.grad_norms = np.empty(T)
        for t in reversed(range(T)):
            dh = dhs[t] + dh_next                           # (N, H) own output + the future
            self.grad_norms[t] = math.sqrt(np.vdot(dh, dh))  # record ||dL/dh_t|| for plots
            dc = dc_next + dh * dh_dc[t]                    # (N, H) via c_{t+1} and via h_t
            da_ifg[t] *= dc[:, None]                        # (N, 3, H) i, f, g: dL/dc_t * dc_t/da (one op)
            da_o[t] *= dh                                   # (N, H) output gate: dL/dh_t * dh_t/da_o
            dh_next = da[t] @ W_hh                          # (N, 4H) @ (4H, H) -> dL/dh_{t-1}
            dc_next = dc * f[t]                             # (N, H) the gradient highway
            if k is not None and t % k == 0 and t > 0:      # t starts a block: truncate here
                dh_next[...] = 0.0
                dc_next[...] = 0.0
        self.grad_h0, self.grad_c0 = dh_next, dc_next       # the loop ended at t = 0
        # Shared parameters: sum over batch and time, one matmul each.
        da2 = da.reshape(T * N, 4 * H)
        self.weight_ih.add_product(da2.T, x.reshape(T * N, -1))  # grad += (4H, TN) @ (TN, D) -> (4H, D)
        # h_{t-1} is hs[t-1] for t >= 1 and h0 for t = 0:
        self.weight_hh.add_product(da[1:].reshape(-1, 4 * H).T,  # grad += (4H, (T-1)N) @ ((T-1)N, H)
                                   hs[:-1].reshape(-1, H))
        self.weight_hh.add_product(da[0].T, h0)              # grad += (4H, N) @ (N, H) -> (4H, H)
        self.bias.grad += da2.sum(axis=0)                   # (4H,)
        if not self.input_grad:
            return None                                     # first layer: dL/dx is not needed
        dx = (da2 @ self.weight_ih.data).reshape(T, N, -1)  # (TN, 4H) @ (4H, D) -> (T, N, D)
        return dx.transpose(1, 0, 2)                        # (N, T, D)

    def extra_repr(self) -> str:
        extra = f", bptt_steps={self.bptt_steps}" if self.bptt_steps is not None else ""
        return f"input_size={self.input_size}, hidden_size={self.hidden_size}{extra}"
