"""The plain (Elman) recurrent layer and backpropagation through time.

An RNN applies the *same* small network at every time step and feeds its own output
back in as the next step's memory:

    h_t = tanh(x_t @ W_xh + h_{t-1} @ W_hh + b_h)            t = 0 .. T-1

Unrolled over time it is just a deep feedforward network whose layers share their
weights, so its gradient is ordinary backprop run over the unrolled graph, from the
last step back to the first: *backpropagation through time* (BPTT). Every step back
multiplies the gradient by W_hh.T and by the slope of tanh, which is why gradients
can shrink (vanish) or grow (explode) over long sequences; ``grad_norms`` records
their size at each step so you can watch it happen.

The helpers ``check_sequence`` and ``check_state`` are shared with the LSTM and the
attention layer, so every sequence layer explains a wrong input the same way.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import ShapeError, as_float_array
from .init import make_rng
from .module import Module, Parameter


def check_sequence(layer, x, features: int) -> np.ndarray:
    """Return x as a float array of shape (N, T, features) or raise a ShapeError that says why.

    Sequence layers are batch-first, like ``torch.nn.RNN(batch_first=True)``:
    axis 0 is the batch (N), axis 1 is time (T), axis 2 the features at each step.
    """
    x = as_float_array(layer, x)
    if x.ndim != 3:
        hint = {
            2: " Got (T, D)? Add a batch axis with x[None] (a batch of one sequence)."
               " Got (N, T) token ids? Turn each id into a vector first, with bplearn.data.one_hot"
               " or an Embedding layer.",
            1: f" Got (T,)? Use x.reshape(1, -1, {features}) if it holds {features} features per step.",
        }.get(x.ndim, "")
        raise ShapeError(
            f"{layer.short_name()} expected a batch of sequences of shape (N, T, {features}) = "
            f"(batch, time, features) but got an array of shape {x.shape} "
            f"with {x.ndim} dimensions.{hint}"
        )
    if x.shape[2] != features:
        raise ShapeError(
            f"{layer.short_name()} expected {features} features at each time step (shape (N, T, {features})) "
            f"but got shape {x.shape}, which has {x.shape[2]}. The last axis must match the "
            f"layer's input size; build the layer with that size or fix the data."
        )
    if x.shape[1] == 0:
        raise ShapeError(f"{layer.short_name()} got sequences with no time steps (shape {x.shape}); T must be >= 1.")
    return x


def check_state(layer, state, name: str, batch: int, hidden: int, dtype) -> np.ndarray:
    """Return an initial state of shape (N, H): zeros if ``state`` is None, else the checked array."""
    if state is None:
        return np.zeros((batch, hidden), dtype=dtype)
    state = as_float_array(layer, state, what=name)
    if state.shape != (batch, hidden):
        raise ShapeError(
            f"{layer.short_name()}: {name} must have shape (N, H) = ({batch}, {hidden}), one hidden state per "
            f"sequence in the batch, but got {state.shape}."
            + (f" Got (H,)? Use {name}[None] for a batch of one." if state.ndim == 1 else "")
        )
    return state


def check_grad(layer, grad, name: str, shape: tuple) -> np.ndarray:
    """An upstream gradient must have exactly the shape of the output it belongs to.

    Like ``errors.check_grad_out``, but names which of a recurrent layer's several
    upstream gradients (dhs, dh_last, dc_last) is wrong.
    """
    grad = as_float_array(layer, grad, what=name)
    if grad.shape != shape:
        raise ShapeError(
            f"{layer.short_name()}.backward: {name} must have the shape of the matching forward output, "
            f"{shape}, but got {grad.shape}."
        )
    return grad


def check_bptt_steps(bptt_steps):
    """None (full BPTT) or a positive int."""
    if bptt_steps is not None and (not isinstance(bptt_steps, (int, np.integer)) or bptt_steps < 1):
        raise ValueError(f"bptt_steps must be None (full BPTT) or a positive integer, got {bptt_steps!r}.")
    return bptt_steps


def tanh_slope(t: np.ndarray, out: np.ndarray) -> np.ndarray:
    """1 - t**2, the derivative of tanh at a point where tanh's output is t (written into out)."""
    np.multiply(t, t, out=out)
    return np.subtract(1.0, out, out=out)


def uniform_init(shape: tuple, hidden: int, rng: np.random.Generator) -> np.ndarray:
    """PyTorch's recurrent-layer default: every weight ~ U(-1/sqrt(H), 1/sqrt(H))."""
    bound = 1.0 / np.sqrt(hidden)
    return rng.uniform(-bound, bound, size=shape)


class RNN(Module):
    """Elman RNN, batch first:  h_t = f(x_t @ W_xh + h_{t-1} @ W_hh + b_h),  f = tanh or relu.

    forward(x, h0=None):
        x: (N, T, D), h0: (N, H) or None (zeros)
        -> hs: (N, T, H) every hidden state,  h_T: (N, H) the last one (= hs[:, -1])
    backward(dhs, dh_last=None):
        dhs: (N, T, H) = dL/dhs,  dh_last: (N, H) = dL/dh_T or None
        -> dx: (N, T, D), dh0: (N, H); adds dL/dW into W_xh.grad, W_hh.grad, b_h.grad

    Parameters: W_xh (D, H), W_hh (H, H), b_h (H,), drawn like PyTorch's
    (U(-1/sqrt(H), 1/sqrt(H)), bias zero). After ``rnn.to(np.float32)``, float32
    inputs stay float32 all the way through.

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
    dh0 comes from the first block only.

    After backward, ``grad_norms`` is an array (T,) with ||dL/dh_t|| (the Frobenius
    norm over the whole batch) of the *total* gradient at each hidden state: what
    arrives through the output hs[:, t] (plus dh_last at the last step) and everything
    that flowed back from later steps, as far as truncation lets it. Plotted against t
    it shows gradients vanishing or exploding.

    hs and h_T are views of the states the layer caches for backward: read them
    freely, but copy before changing them in place.
    """

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh",
                 bptt_steps: int | None = None, rng=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}.")
        self.input_size, self.hidden_size = input_size, hidden_size
        self.nonlinearity = nonlinearity
        self.bptt_steps = check_bptt_steps(bptt_steps)
        rng = make_rng(rng)
        self.W_xh = Parameter(uniform_init((input_size, hidden_size), hidden_size, rng), "W_xh")
        self.W_hh = Parameter(uniform_init((hidden_size, hidden_size), hidden_size, rng), "W_hh")
        self.b_h = Parameter(np.zeros(hidden_size), "b_h")
        self.grad_norms = None                              # (T,), filled by backward
        self._x = self._h0 = self._hs = None

    def forward(self, x, h0=None):
        x = check_sequence(self, x, self.input_size)       # (N, T, D)
        N, T, D = x.shape
        H = self.hidden_size
        dtype = np.result_type(x, self.W_hh.data)
        h = h0 = check_state(self, h0, "h0", N, H, dtype)  # (N, H)
        # Inside, arrays are time-major, (T, N, ...): hs[t] is then one contiguous block,
        # which the per-step matmul and the in-place updates below need to be fast.
        x_tm = np.ascontiguousarray(x.transpose(1, 0, 2))   # (T, N, D)
        # The input part of every step does not depend on h, so all T steps are done in
        # one matmul instead of T small ones, straight into the buffer that will hold the
        # hidden states: (T*N, D) @ (D, H) -> (T, N, H).
        hs = (x_tm.reshape(T * N, D) @ self.W_xh.data).reshape(T, N, H)
        hs += self.b_h.data
        W_hh = self.W_hh.data
        for t in range(T):                                  # the recurrence itself is sequential
            a = hs[t]                                       # (N, H), holds x_t @ W_xh + b_h
            a += h @ W_hh                                   # + h_{t-1} @ W_hh: (N, H) @ (H, H)
            h = np.tanh(a, out=a) if self.nonlinearity == "tanh" else np.maximum(a, 0, out=a)
        self._x, self._h0, self._hs = x_tm, h0, hs          # cache for backward
        return hs.transpose(1, 0, 2), h                     # (N, T, H) view, (N, H)

    def backward(self, dhs, dh_last=None):
        x, h0, hs = self._require_cache("_x", "_h0", "_hs")  # time-major: (T, N, D), (N, H), (T, N, H)
        T, N, H = hs.shape
        dhs = check_grad(self, dhs, "dhs", (N, T, H)).transpose(1, 0, 2)  # (T, N, H) view
        dh_next = (np.zeros((N, H), dtype=hs.dtype) if dh_last is None
                   else check_grad(self, dh_last, "dh_last", (N, H)))
        # da starts as the local slope dh_t/da_t of the nonlinearity, for all steps at
        # once (it needs no upstream gradient); the loop then multiplies step t by
        # dL/dh_t, turning it into dL/da_t in place.
        da = np.empty((T, N, H), dtype=np.result_type(dhs, dh_next, hs))
        if self.nonlinearity == "tanh":
            tanh_slope(hs, out=da)                          # 1 - h_t^2
        else:
            np.greater(hs, 0, out=da)                       # 1 where the relu was on, else 0
        W_hh_T = np.ascontiguousarray(self.W_hh.data.T)     # reused every step
        k = self.bptt_steps
        self.grad_norms = np.empty(T)
        for t in reversed(range(T)):                        # BPTT: last step first
            dh = dhs[t] + dh_next                           # (N, H) own output + the future
            self.grad_norms[t] = math.sqrt(np.vdot(dh, dh))  # record ||dL/dh_t|| for plots
            da[t] *= dh                                     # (N, H) back through tanh/relu
            dh_next = da[t] @ W_hh_T                        # (N, H) @ (H, H) -> dL/dh_{t-1}
            if k is not None and t % k == 0 and t > 0:      # t starts a block: truncate here
                dh_next[...] = 0.0
        # Parameters are shared by all steps, so their gradient is a sum over time,
        # and over the batch: one matmul each, with time steps as extra rows.
        da2 = da.reshape(T * N, H)
        self.W_xh.grad += x.reshape(T * N, -1).T @ da2      # (D, TN) @ (TN, H) -> (D, H)
        # h_{t-1} is hs[t-1] for t >= 1 and h0 for t = 0:
        self.W_hh.grad += hs[:-1].reshape(-1, H).T @ da[1:].reshape(-1, H)  # (H, (T-1)N) @ ((T-1)N, H)
        self.W_hh.grad += h0.T @ da[0]                      # (H, N) @ (N, H) -> (H, H)
        self.b_h.grad += da2.sum(axis=0)                    # (H,)
        dx = (da2 @ self.W_xh.data.T).reshape(T, N, -1)     # (TN, H) @ (H, D) -> (T, N, D)
        return dx.transpose(1, 0, 2), dh_next               # (N, T, D); dh_next is now dL/dh0

    def extra_repr(self) -> str:
        extra = f", bptt_steps={self.bptt_steps}" if self.bptt_steps is not None else ""
        return (f"input_size={self.input_size}, hidden_size={self.hidden_size}, "
                f"nonlinearity={self.nonlinearity!r}{extra}")
