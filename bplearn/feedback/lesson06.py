"""Your-turn tasks of lesson 06 (vanishing and exploding gradients).

    layer_gradient_norms   ||dL/dW|| of every Linear layer after one backward pass
    init_std               the weight std that keeps signals steady, from fan-in and activation

In the lesson: ``init_std = lesson06.init_std.check(init_std)``.
"""
from __future__ import annotations

import numpy as np

from .. import nn
from .yourturn import task_from_texts

LESSON = "06_vanishing_gradients.ipynb"


# --- layer_gradient_norms -------------------------------------------------------------------

def _layer_gradient_norms(model, loss_fn, X, y):
    """||dL/dW|| of each Linear layer of ``model`` (input side first) after one backward pass."""
    model.zero_grad()                         # forget gradients left from earlier passes
    loss_fn(model(X), y)
    model.backward(loss_fn.backward())
    return np.array([np.linalg.norm(layer.weight.grad) for layer in model if isinstance(layer, nn.Linear)])


def _norms_variant(model, loss_fn, X, y, *, zero=True, order=1, square=False, with_bias=False):
    """The norms with one slip: zero=False keeps old gradients, order=-1 reverses the layers,
    square=True returns squared norms, with_bias=True adds the bias gradient in."""
    if zero:
        model.zero_grad()
    loss_fn(model(X), y)
    model.backward(loss_fn.backward())
    linears = [layer for layer in model if isinstance(layer, nn.Linear)]
    sums = [np.sum(l.weight.grad ** 2) + (np.sum(l.bias.grad ** 2) if with_bias else 0.0) for l in linears]
    norms = np.array(sums) if square else np.sqrt(sums)
    return norms[::order]


def _norms_inputs(rng):
    depth, width = int(rng.integers(3, 6)), int(rng.integers(4, 9))
    activation = [nn.Sigmoid, nn.Tanh, nn.ReLU][int(rng.integers(3))]
    seed = int(rng.integers(1_000_000))
    layers, fan_in = [], 3
    for k in range(depth):
        layers += [nn.Linear(fan_in, width, rng=seed + k), activation()]
        fan_in = width
    model = nn.Sequential(*layers, nn.Linear(width, 2, rng=seed + depth))
    for p in model.parameters():               # gradients left over from an earlier step
        p.grad[...] = rng.standard_normal(p.shape)
    X = rng.standard_normal((int(rng.integers(6, 12)), 3))
    return {"model": model, "loss_fn": nn.CrossEntropyLoss(), "X": X, "y": (X[:, 0] > 0).astype(int)}


layer_gradient_norms = task_from_texts(globals(), "layer_gradient_norms")


# --- init_std -------------------------------------------------------------------------------

def _init_std(fan_in, activation):
    """Standard deviation of a layer's weights so that signals keep their size: (float)."""
    if activation == "relu":
        return np.sqrt(2.0 / fan_in)      # ReLU zeroes half of its inputs: twice the variance
    return np.sqrt(1.0 / fan_in)          # tanh is close to the identity near 0


def _std_inputs(rng):
    return {"fan_in": int(rng.integers(8, 513)), "activation": ["relu", "tanh"][int(rng.integers(2))]}


def _init_variance(fan_in, activation):
    return _init_std(fan_in, activation) ** 2


def _without_the_relu_factor(fan_in, activation):
    return np.sqrt(1.0 / fan_in)


def _relu_factor_for_tanh(fan_in, activation):
    return np.sqrt(2.0 / fan_in)


def _fan_in_on_top(fan_in, activation):
    return np.sqrt((2.0 if activation == "relu" else 1.0) * fan_in)


init_std = task_from_texts(globals(), "init_std")
