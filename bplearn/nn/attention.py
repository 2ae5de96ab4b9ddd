"""Single-head self-attention, forward and backward written out.

Every position t of a sequence builds a query q_t, a key k_t and a value v_t from its
own input. Position t then looks at every position s, scores how well its query
matches that key, turns the scores into weights that sum to one (softmax) and takes
the weighted average of the values:

    scores = Q K^T / sqrt(E)        (N, T, T)   row t: how much t cares about each s
    A      = softmax(scores)        (N, T, T)   attention weights, each row sums to 1
    ctx    = A V                    (N, T, E)

Dividing by sqrt(E) keeps the scores' spread independent of the width E, so the
softmax does not saturate (and stop passing gradient) in wide layers. With
``causal=True`` position t may only look at s <= t, as in a language model that must
not peek at the future.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import check_grad_out, check_sequence
from .activations import softmax, softmax_backward
from .init import make_rng, xavier_uniform
from .module import Module, Parameter


def flat(a: np.ndarray) -> np.ndarray:
    """(N, T, E) -> (N*T, E): every position becomes a row, for the shared projections."""
    return a.reshape(-1, a.shape[-1])


class SelfAttention(Module):
    """out = softmax(Q K^T / sqrt(E)) V @ weight_o.T + bias_o,  with Q = x @ weight_q.T + bias_q (K, V alike)

    x: (N, T, E)  ->  out: (N, T, E)
    weight_q, weight_k, weight_v, weight_o: (E, E) as (out, in) (Xavier-uniform),
    bias_q, bias_k, bias_v, bias_o: (E,) (zero)

    After forward, ``attn_weights`` (N, T, T) holds the attention weights: row t of
    sample n says how much position t drew from each position (plot it with imshow).
    ``causal=True`` masks the future: weights for s > t are exactly zero.
    Same maths as ``torch.nn.MultiheadAttention(E, num_heads=1, batch_first=True)``.
    """

    def __init__(self, embed_dim: int, causal: bool = False, rng=None):
        self.embed_dim, self.causal = embed_dim, causal
        rng = make_rng(rng)
        E = embed_dim
        for name in ("q", "k", "v", "o"):
            setattr(self, f"weight_{name}", Parameter(xavier_uniform((E, E), rng), f"weight_{name}"))
            setattr(self, f"bias_{name}", Parameter(np.zeros(E), f"bias_{name}"))
        self.attn_weights = None
        self._x = self._q = self._k = self._v = self._ctx = None

    def forward(self, x):
        x = check_sequence(self, x, self.embed_dim, self.param_dtype())  # (N, T, E)
        T = x.shape[1]
        q = x @ self.weight_q.data.T + self.bias_q.data     # (N, T, E) what each position looks for
        k = x @ self.weight_k.data.T + self.bias_k.data     # (N, T, E) what each position offers
        v = x @ self.weight_v.data.T + self.bias_v.data     # (N, T, E) what it hands over
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(self.embed_dim)  # (N, T, E) @ (N, E, T) -> (N, T, T)
        if self.causal:                                     # s > t is the future: weight exp(-inf) = 0
            scores = np.where(np.triu(np.ones((T, T), dtype=bool), k=1), -np.inf, scores)
        attn = softmax(scores)                              # (N, T, T), rows sum to 1
        ctx = attn @ v                                      # (N, T, T) @ (N, T, E) -> (N, T, E)
        self._x, self._q, self._k, self._v, self._ctx = x, q, k, v, ctx
        self.attn_weights = attn
        return ctx @ self.weight_o.data.T + self.bias_o.data  # (N, T, E)

    def backward(self, grad_out):                           # grad_out: (N, T, E)
        x, q, k, v, ctx, attn = self._require_cache("_x", "_q", "_k", "_v", "_ctx", "attn_weights")
        grad_out = check_grad_out(self, grad_out, x.shape, x.dtype)
        E = self.embed_dim
        # Output projection, like a Linear layer applied at every position.
        self.weight_o.add_product(flat(grad_out).T, flat(ctx))  # grad += (E, NT) @ (NT, E) -> (E, E) as (out, in)
        self.bias_o.grad += flat(grad_out).sum(axis=0)      # (E,)
        dctx = grad_out @ self.weight_o.data                # (N, T, E) @ (E, E) -> (N, T, E)
        # ctx = A V: a batched matmul, so each factor gets the other one's transpose.
        dattn = dctx @ v.transpose(0, 2, 1)                 # (N, T, E) @ (N, E, T) -> (N, T, T)
        dv = attn.transpose(0, 2, 1) @ dctx                 # (N, T, T) @ (N, T, E) -> (N, T, E)
        # Softmax backward, row by row: ds = A * (dA - sum_s(dA * A)); masked entries (A = 0) get none.
        dscores = softmax_backward(attn, dattn)             # (N, T, T)
        dscores /= math.sqrt(E)
        dq = dscores @ k                                    # (N, T, T) @ (N, T, E) -> (N, T, E)
        dk = dscores.transpose(0, 2, 1) @ q                 # (N, T, T) @ (N, T, E) -> (N, T, E)
        # Three Linear projections of the same x: their input gradients add up.
        dx = np.zeros_like(x)
        for W, b, d in ((self.weight_q, self.bias_q, dq), (self.weight_k, self.bias_k, dk),
                        (self.weight_v, self.bias_v, dv)):
            W.add_product(flat(d).T, flat(x))                # grad += (E, NT) @ (NT, E) -> (E, E) as (out, in)
            b.grad += flat(d).sum(axis=0)                   # (E,)
            dx += d @ W.data                                # (N, T, E) @ (E, E) -> (N, T, E)
        return dx

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, causal={self.causal}"
