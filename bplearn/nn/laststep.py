"""LastStep: from a sequence of outputs to the last one, for sequence-to-one models.

A recurrent layer returns its hidden state at every time step, (N, T, H). A model that
reads a whole sequence and then answers once (the sum of a sequence, the class of a
sentence) only needs the final state; this layer picks it out, so a recurrent model is
an ordinary ``Sequential`` that trains with ``train.fit``.
"""
from __future__ import annotations

import numpy as np

from ..errors import check_grad_out, check_sequence
from .module import Module


class LastStep(Module):
    """out = x[:, -1]: keep the last time step of a sequence, for sequence-to-one models.

    x: (N, T, F)  ->  out: (N, F)
    backward(grad_out (N, F)) -> (N, T, F): grad_out at the last step, zero elsewhere,
    because the earlier steps did not reach the output through this layer.

    ``Sequential(RNN(D, H), LastStep(), Linear(H, 1))`` reads a whole sequence and
    predicts from the final hidden state; the RNN's backward then carries that one
    gradient back through time.
    """

    def __init__(self):
        self._shape = None

    def forward(self, x):
        x = check_sequence(self, x, None)                   # (N, T, F)
        self._shape = x.shape                               # cache: backward rebuilds (N, T, F)
        return x[:, -1]                                     # (N, F)

    def backward(self, grad_out):                           # grad_out: (N, F)
        N, T, F = self._require_cache("_shape")
        grad_out = check_grad_out(self, grad_out, (N, F))
        grad_in = np.zeros((N, T, F), dtype=grad_out.dtype)
        grad_in[:, -1] = grad_out                           # only the last step was used
        return grad_in
