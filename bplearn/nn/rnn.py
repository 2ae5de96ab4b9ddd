"""The plain (Elman) recurrent layer and backpropagation through time.

An RNN applies the *same* small network at every time step and feeds its own output
back in as the next step's memory:

    h_t = tanh(x_t @ weight_ih.T + h_{t-1} @ weight_hh.T + bias)      t = 0 .. T-1

Unrolled over time it is just a deep feedforward network whose layers share their
weights, so its gradient is ordinary backprop run over the unrolled graph, from the
last step back to the first: *backpropagation through time* (BPTT). Every step back
multiplies the gradient by weight_hh and by the slope of tanh, which is why gradients
can shrink (vanish) or grow (explode) over long sequences; ``grad_norms`` records
their size at each step so you can watch it happen.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import check_bptt_steps, check_choice, check_grad_out, check_sequence, check_state
from .activations import tanh_slope
from .init import make_rng, recurrent_uniform
from .module import Module, Parameter


class RNN(Module):
    """Elman RNN, batch first:  h_t = f(x_t @ weight_ih.T + h_{t-1} @ weight_hh.T + bias),  f = tanh or relu.

    forward(x, h0=None):
        x: (N, T, D), h0: (N, H) or None (zeros)  ->  hs: (N, T, H), every hidden state.
        The last one is also kept as ``h_last`` (N, H) (= hs[:, -1]).
    backward(grad_out, grad_h_last=None):
        grad_out: (N, T, H) = dL/dhs, grad_h_last: (N, H) = dL/dh_last or None
        -> dx: (N, T, D); adds dL/dW into weight_ih.grad, weight_hh.grad, bias.grad and
        keeps ``grad_h0`` (N, H) = dL/dh0.

    Parameters, (out, in) like every layer and like ``torch.nn.RNN``: weight_ih (H, D),
    weight_hh (H, H), bias (H,) (PyTorch has two biases that always appear summed; one
    is enough). Weights ~ U(-1/sqrt(H), 1/sqrt(H)) like PyTorch's, bias zero. After
    ``rnn.to(np.float32)``, float32 inputs stay float32 all the way through.

    As forward returns a single array and backward takes its gradient, an RNN fits in a
    ``Sequential``: ``Sequential(RNN(D, H), LastStep(), Linear(H, 1))`` maps a sequence
    to one number and trains with ``train.fit``.

    Truncated BPTT (``bptt_steps=k``): the sequence is cut into consecutive blocks of k
    steps, [0, k), [k, 2k), ... The forward pass is unchanged (the hidden state still
    flows across block edges), but in the backward pass no gradient crosses a block
    edge through the recurrence: dL/dh_t reaches h_{t-1} only if t and t-1 lie in the
    same block. So the loss at step t trains the weights only through the steps from
    the start of its block up to t. This is the usual truncated BPTT of deep-learning
    practice, often written TBPTT(k, k); PyTorch users get it by calling
    ``h = h.detach()`` every k steps. (Another variant lets every step's loss reach
    back exactly k steps; it costs more and is not what this layer does.) Truncation
    lets long sequences be trained chunk by chunk with bounded memory, at the price
    that dependencies longer than a block cannot be learned. k >= T is full BPTT;
    grad_h0 comes from the first block only.

    After backward, ``grad_norms`` is an array (T,) with ||dL/dh_t|| (the Frobenius
    norm over the whole batch) of the *total* gradient at each hidden state: what
    arrives through the output hs[:, t] (plus grad_h_last at the last step) and everything
    that flowed back from later steps, as far as truncation lets it. Plotted against t
    it shows gradients vanishing or exploding.

    hs and h_last are views of the states the layer caches for backward: read them
    freely, but copy before changing them in place.
    """

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh",
                 bptt_steps: int | None = None, rng=None):
        check_choice("RNN", "nonlinearity", nonlinearity, ("tanh", "relu"))
        self.input_size, self.hidden_size = input_size, hidden_size
        self.nonlinearity = nonlinearity
        self.bptt_steps = check_bptt_steps(bptt_steps)
        rng = make_rng(rng)
        self.weight_ih = Parameter(recurrent_uniform((hidden_size, input_size), hidden_size, rng), "weight_ih")
        self.weight_hh = Parameter(recurrent_uniform((hidden_size, hidden_size), hidden_size, rng), "weight_hh")
        self.bias = Parameter(np.zeros(hidden_size), "bias")
        self.h_last = None                                  # (N, H), set by forward
        self.grad_h0 = self.grad_norms = None               # (N, H) and (T,), set by backward
        self._x = self._h0 = self._hs = None

    def forward(self, x, h0=None):
        x = check_sequence(self, x, self.input_size, self.weight_ih.data.dtype)  # (N, T, D)
        N, T, D = x.shape
        H = self.hidden_size
        dtype = x.dtype                                     # = the parameters' dtype, checked above
        h = h0 = check_state(self, h0, "h0", N, H, dtype)  # (N, H)
        # Inside, arrays are time-major, (T, N, ...): hs[t] is then one contiguous block,
        # which the per-step matmul and the in-place updates below need to be fast.
        x_tm = np.ascontiguousarray(x.transpose(1, 0, 2))   # (T, N, D)
        # The input part of every step does not depend on h, so all T steps are done in
        # one matmul instead of T small ones, straight into the buffer that will hold the
        # hidden states: (T*N, D) @ (D, H) -> (T, N, H).
        hs = (x_tm.reshape(T * N, D) @ self.weight_ih.data.T).reshape(T, N, H)
        hs += self.bias.data
        # (H, H), made contiguous once: BLAS multiplies it faster than a transposed view.
        W_hh_T = np.ascontiguousarray(self.weight_hh.data.T)
        for t in range(T):                                  # the recurrence itself is sequential
            a = hs[t]                                       # (N, H), holds x_t @ W_ih.T + b
            a += h @ W_hh_T                                 # + h_{t-1} @ W_hh.T: (N, H) @ (H, H)
            h = np.tanh(a, out=a) if self.nonlinearity == "tanh" else np.maximum(a, 0, out=a)
        self._x, self._h0, self._hs = x_tm, h0, hs          # cache for backward
        self.h_last = h                                     # (N, H) = hs[T-1]
        return hs.transpose(1, 0, 2)                        # (N, T, H) view

    def backward(self, grad_out, grad_h_last=None):
        x, h0, hs = self._require_cache("_x", "_h0", "_hs")  # time-major: (T, N, D), (N, H), (T, N, H)
        T, N, H = hs.shape
        dhs = check_grad_out(self, grad_out, (N, T, H), hs.dtype).transpose(1, 0, 2)  # (T, N, H) view
        dh_next = (np.zeros((N, H), dtype=hs.dtype) if grad_h_last is None
                   else check_grad_out(self, grad_h_last, (N, H), hs.dtype, "grad_h_last"))
        # da starts as the local slope dh_t/da_t of the nonlinearity, for all steps at
        # once (it needs no upstream gradient); the loop then multiplies step t by
        # dL/dh_t, turning it into dL/da_t in place.
        da = np.empty((T, N, H), dtype=hs.dtype)
        if self.nonlinearity == "tanh":
            tanh_slope(hs, out=da)                          # 1 - h_t^2
        else:
            np.greater(hs, 0, out=da)                       # 1 where the relu was on, else 0
        W_hh = self.weight_hh.data                          # (H, H)
        k = self.bptt_steps
        self.grad_norms = np.empty(T)
        for t in reversed(range(T)):                        # BPTT: last step first
            dh = dhs[t] + dh_next                           # (N, H) own output + the future
            self.grad_norms[t] = math.sqrt(np.vdot(dh, dh))  # record ||dL/dh_t|| for plots
            da[t] *= dh                                     # (N, H) back through tanh/relu
            dh_next = da[t] @ W_hh                          # (N, H) @ (H, H) -> dL/dh_{t-1}
            if k is not None and t % k == 0 and t > 0:      # t starts a block: truncate here
                dh_next[...] = 0.0
        self.grad_h0 = dh_next                              # the loop ended at t = 0: dL/dh0
        # Parameters are shared by all steps, so their gradient is a sum over time,
        # and over the batch: one matmul each, with time steps as extra rows.
        da2 = da.reshape(T * N, H)
        self.weight_ih.add_product(da2.T, x.reshape(T * N, -1))  # grad += (H, TN) @ (TN, D) -> (H, D)
        # h_{t-1} is hs[t-1] for t >= 1 and h0 for t = 0:
        self.weight_hh.add_product(da[1:].reshape(-1, H).T,   # grad += (H, (T-1)N) @ ((T-1)N, H)
                                   hs[:-1].reshape(-1, H))
        self.weight_hh.add_product(da[0].T, h0)              # grad += (H, N) @ (N, H) -> (H, H)
        self.bias.grad += da2.sum(axis=0)                   # (H,)
        if not self.input_grad:
            return None                                     # first layer: dL/dx is not needed
        dx = (da2 @ self.weight_ih.data).reshape(T, N, -1)  # (TN, H) @ (H, D) -> (T, N, D)
        return dx.transpose(1, 0, 2)                        # (N, T, D)

    def extra_repr(self) -> str:
        extra = f", bptt_steps={self.bptt_steps}" if self.bptt_steps is not None else ""
        return (f"input_size={self.input_size}, hidden_size={self.hidden_size}, "
                f"nonlinearity={self.nonlinearity!r}{extra}")

