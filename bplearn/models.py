"""Ready-made models for the course, and a bridge to PyTorch for cross-checks.

The capstone notebook and its tests build the same network from here, so they cannot
drift apart:

* ``digits_cnn`` - a small convolutional network for the 8x8 digits of
  ``bplearn.data.load_digits``;
* ``to_torch``   - the same network as a ``torch.nn.Sequential`` (float64) holding a
  copy of the weights, to compare losses and gradients with PyTorch's autograd. It
  covers the convolutional, fully connected and recurrent layers; the weights have
  the same (out, in) layout on both sides, so they copy across unchanged.
"""
from __future__ import annotations

import functools
import types

import numpy as np

from .nn.init import make_rng
from .nn.activations import ReLU, Sigmoid, Tanh
from .nn.attention import SelfAttention
from .nn.conv import Conv2d
from .nn.embedding import Embedding
from .nn.flatten import Flatten
from .nn.laststep import LastStep
from .nn.linear import Linear
from .nn.lstm import LSTM
from .nn.module import Sequential
from .nn.pool import AvgPool2d, MaxPool2d
from .nn.rnn import RNN


def digits_cnn(rng=0) -> Sequential:
    """Two conv-ReLU-maxpool blocks and a Linear classifier for 8x8 one-channel images.

    x: (N, 1, 8, 8)
      -> Conv2d(1, 16, 3, padding=1), ReLU, MaxPool2d(2)   -> (N, 16, 4, 4)
      -> Conv2d(16, 32, 3, padding=1), ReLU, MaxPool2d(2)  -> (N, 32, 2, 2)
      -> Flatten                                           -> (N, 128)
      -> Linear(128, 10)                                   -> logits: (N, 10)

    6 090 weights and biases. rng: a seed or numpy Generator; the three layers draw
    their starting weights from it one after the other, so a seed repeats the model.
    Trained with Adam (lr=0.002, batch 32, 20 epochs) it classifies about 98 % of the
    held-out digits correctly.
    """
    rng = make_rng(rng)
    return Sequential(
        Conv2d(1, 16, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2),
        Conv2d(16, 32, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2),
        Flatten(), Linear(32 * 2 * 2, 10, rng=rng),
    )


_NO_WEIGHTS = (Flatten, ReLU, Tanh, Sigmoid)     # torch.nn has classes of the same names
_SUPPORTED = ("Linear, Conv2d, MaxPool2d, AvgPool2d, Flatten, ReLU, Tanh, Sigmoid, RNN and LSTM "
              "(without bptt_steps), LastStep, SelfAttention, Embedding")


def to_torch(model: Sequential):
    """The same network in PyTorch: a float64 ``torch.nn.Sequential`` with copied weights.

    model: a Sequential of the layers listed in ``_SUPPORTED``. Recurrent layers become
    ``torch.nn.RNN`` / ``torch.nn.LSTM`` (batch_first=True) wrapped so that they pass on
    the output sequence only, as ours do; ``LastStep`` and ``SelfAttention`` become
    small torch modules doing the same. The copy is independent: changing one model
    leaves the other alone. Raises ImportError if PyTorch is not installed and
    TypeError for any other layer (or an RNN/LSTM with truncated BPTT, which
    torch's layers cannot do).
    """
    try:
        import torch
    except ImportError:
        raise ImportError("to_torch needs PyTorch, which is not installed. It is optional: "
                          "install the CPU build with  pip install torch") from None
    if not isinstance(model, Sequential):
        raise TypeError(f"to_torch expects an nn.Sequential, got {type(model).__name__}.")
    layers = [_torch_layer(torch, layer, i) for i, layer in enumerate(model)]
    return torch.nn.Sequential(*layers)


def _torch_layer(torch, layer, i: int):
    """One bplearn layer as the matching torch module, with the same weights."""
    if isinstance(layer, (RNN, LSTM)):
        return _torch_recurrent(torch, layer, i)
    if isinstance(layer, SelfAttention):
        return _torch_sequence_modules(torch).SelfAttention(layer)
    if isinstance(layer, LastStep):
        return _torch_sequence_modules(torch).LastStep()
    twin = _torch_twin(torch, layer, i)
    with torch.no_grad():                      # the same names in both libraries: weight, bias
        for name, p in layer.named_parameters():
            getattr(twin, name).copy_(_tensor(torch, p))
    return twin


def _torch_twin(torch, layer, i: int):
    """A torch layer of the same kind and sizes as ``layer`` (weights not copied yet)."""
    tnn, f64 = torch.nn, torch.float64
    if isinstance(layer, Linear):
        return tnn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None, dtype=f64)
    if isinstance(layer, Conv2d):
        return tnn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size, stride=layer.stride,
                          padding=layer.padding, bias=layer.bias is not None, dtype=f64)
    if isinstance(layer, Embedding):
        return tnn.Embedding(layer.num_embeddings, layer.embedding_dim, dtype=f64)
    if isinstance(layer, (MaxPool2d, AvgPool2d)):
        kind = tnn.MaxPool2d if isinstance(layer, MaxPool2d) else tnn.AvgPool2d
        return kind(layer.kernel_size, stride=layer.stride)
    if type(layer) in _NO_WEIGHTS:
        return getattr(tnn, type(layer).__name__)()
    raise TypeError(f"to_torch: layer {i}, {layer.short_name()}, has no PyTorch counterpart here. "
                    f"Supported: {_SUPPORTED}.")


def _tensor(torch, p):
    """A float64 torch copy of a Parameter's data."""
    return torch.from_numpy(np.array(p.data, dtype=np.float64))


def _torch_recurrent(torch, layer, i: int):
    """torch.nn.RNN / LSTM with our weights; torch's second bias (bias_hh) is zero and frozen,
    so training the twin moves the same numbers as training ours."""
    if layer.bptt_steps is not None:
        raise TypeError(f"to_torch: layer {i}, {layer.short_name()}, truncates BPTT, which torch.nn."
                        f"{type(layer).__name__} cannot do. Compare with bptt_steps=None.")
    if isinstance(layer, RNN):
        twin = torch.nn.RNN(layer.input_size, layer.hidden_size, nonlinearity=layer.nonlinearity,
                            batch_first=True, dtype=torch.float64)
    else:
        twin = torch.nn.LSTM(layer.input_size, layer.hidden_size, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        twin.weight_ih_l0.copy_(_tensor(torch, layer.weight_ih))
        twin.weight_hh_l0.copy_(_tensor(torch, layer.weight_hh))
        twin.bias_ih_l0.copy_(_tensor(torch, layer.bias))
        twin.bias_hh_l0.zero_()
    twin.bias_hh_l0.requires_grad_(False)      # ours has one bias: keep torch's second one at zero
    return _torch_sequence_modules(torch).OutputSequence(twin)


@functools.cache
def _torch_sequence_modules(torch):
    """Small torch modules for what torch.nn does differently from bplearn.nn (built once torch is imported)."""

    class OutputSequence(torch.nn.Module):
        """torch's RNN and LSTM return (outputs, last state); bplearn's return the outputs only."""

        def __init__(self, recurrent):
            super().__init__()
            self.recurrent = recurrent

        def forward(self, x):
            return self.recurrent(x)[0]

    class LastStep(torch.nn.Module):
        """(N, T, F) -> (N, F), the last time step."""

        def forward(self, x):
            return x[:, -1]

    class SelfAttention(torch.nn.Module):
        """One-head torch.nn.MultiheadAttention with bplearn's weights, applied to (x, x, x)."""

        def __init__(self, layer):
            super().__init__()
            E = layer.embed_dim
            self.causal = layer.causal
            self.attention = torch.nn.MultiheadAttention(E, num_heads=1, batch_first=True, dtype=torch.float64)
            with torch.no_grad():              # in_proj stacks the q, k, v weights (out, in) on top of each other
                self.attention.in_proj_weight.copy_(torch.cat([_tensor(torch, getattr(layer, f"weight_{n}"))
                                                               for n in "qkv"]))
                self.attention.in_proj_bias.copy_(torch.cat([_tensor(torch, getattr(layer, f"bias_{n}"))
                                                             for n in "qkv"]))
                self.attention.out_proj.weight.copy_(_tensor(torch, layer.weight_o))
                self.attention.out_proj.bias.copy_(_tensor(torch, layer.bias_o))

        def forward(self, x):
            T = x.shape[1]
            mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1) if self.causal else None
            return self.attention(x, x, x, attn_mask=mask, need_weights=False)[0]

    return types.SimpleNamespace(OutputSequence=OutputSequence, LastStep=LastStep, SelfAttention=SelfAttention)
