"""Embedding: a lookup table that turns token ids into learnable vectors.

Looking up row ``idx`` of a weight matrix is the same as multiplying a one-hot vector
by it, just without building the one-hot vector. So its backward is the one-hot
matmul's backward too: each output row's gradient is added to the table row it came
from, and rows that were never looked up get no gradient at all.
"""
from __future__ import annotations

import numpy as np

from ..errors import DTypeError, LabelError, check_grad_out
from .init import make_rng
from .module import Module, Parameter


class Embedding(Module):
    """out = weight[idx]

    idx: integer array of any shape, e.g. (N, T)  ->  out: idx.shape + (E,), e.g. (N, T, E)
    weight: (num_embeddings, embedding_dim), drawn from N(0, 1) like PyTorch's.

    backward(grad_out) adds into weight.grad and returns None: token ids are integers,
    so there is no gradient with respect to them.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, rng=None):
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        rng = make_rng(rng)
        self.weight = Parameter(rng.standard_normal((num_embeddings, embedding_dim)), "weight")
        self._idx = None

    def forward(self, idx):
        idx = np.asarray(idx)
        if not np.issubdtype(idx.dtype, np.integer):
            raise DTypeError(
                f"{self.short_name()} expects integer token ids but got dtype {idx.dtype}. "
                f"Convert them with idx.astype(int) (and check they are whole numbers)."
            )
        if idx.size and (idx.min() < 0 or idx.max() >= self.num_embeddings):
            bad = idx.min() if idx.min() < 0 else idx.max()
            raise LabelError(
                f"{self.short_name()} got token id {bad}, but ids must lie in [0, {self.num_embeddings - 1}] "
                f"(num_embeddings={self.num_embeddings}). Build the layer with a larger "
                f"num_embeddings or fix the ids."
            )
        self._idx = idx                                     # cache: which rows were used
        return self.weight.data[idx]                        # (..., E)

    def backward(self, grad_out):                           # grad_out: idx.shape + (E,)
        idx = self._require_cache("_idx")
        grad_out = check_grad_out(self, grad_out, idx.shape + (self.embedding_dim,), self.weight.data.dtype)
        # The same id can appear many times in a batch, and each use must add its
        # gradient. ``weight.grad[idx] += grad_out`` would not: numpy's buffered
        # fancy-index assignment keeps only the last write for a repeated index.
        # np.add.at is unbuffered and really adds every one of them.
        np.add.at(self.weight.grad, idx, grad_out)          # rows (V, E) += (..., E)
        return None

    def extra_repr(self) -> str:
        return f"num_embeddings={self.num_embeddings}, embedding_dim={self.embedding_dim}"
