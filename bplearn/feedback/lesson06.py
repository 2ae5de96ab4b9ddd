"""Your-turn tasks of lesson 06 (vanishing and exploding gradients).

    layer_gradient_norms   ||dL/dW|| of every Linear layer after one backward pass
    init_std               the weight std that keeps signals steady, from fan-in and activation

In the lesson: ``init_std = lesson06.init_std.check(init_std)``.
"""
from __future__ import annotations

import functools

import numpy as np

from .. import nn
from .lesson05 import on_pristine_copy, remember_pristine
from .yourturn import Mistake, Task

LESSON = "06_vanishing_gradients.ipynb"


# --- layer_gradient_norms -------------------------------------------------------------------

def _layer_gradient_norms(model, loss_fn, X, y):
    """||dL/dW|| of each Linear layer of ``model`` (input side first) after one backward pass."""
    model.zero_grad()                         # forget gradients left from earlier passes
    loss_fn(model(X), y)
    model.backward(loss_fn.backward())
    return np.array([np.linalg.norm(layer.weight.grad) for layer in model if isinstance(layer, nn.Linear)])


def _norms_variant(model, loss_fn, X, y, *, zero=True, order=1, square=False, with_bias=False):
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
    remember_pristine(model)
    X = rng.standard_normal((int(rng.integers(6, 12)), 3))
    return {"model": model, "loss_fn": nn.CrossEntropyLoss(), "X": X, "y": (X[:, 0] > 0).astype(int)}


def _on_copy(**options):
    return on_pristine_copy(functools.partial(_norms_variant, **options))


layer_gradient_norms = Task(
    "layer_gradient_norms",
    reference=on_pristine_copy(_layer_gradient_norms),
    inputs=_norms_inputs,
    outputs="norms",
    mistakes=[
        Mistake("the old gradients were not cleared", _on_copy(zero=False),
                "The model arrives with gradients from an earlier step, and backward adds to them: "
                "call model.zero_grad() before the forward pass."),
        Mistake("the layers are in the wrong order", _on_copy(order=-1),
                "List the layers from the input side (model[0]) to the output, the order they sit in the model."),
        Mistake("these are squared norms", _on_copy(square=True),
                "The norm is the square root of the sum of squares: np.linalg.norm(layer.weight.grad)."),
        Mistake("the bias gradient is mixed in", _on_copy(with_bias=True),
                "Measure the weight gradient only: layer.weight.grad, not the bias."),
    ],
    nudge="First one backward pass (clearing old gradients first), then a loop over the model's layers "
          "that keeps the Linear ones.",
    hint="model.zero_grad(); loss_fn(model(X), y); model.backward(loss_fn.backward()); then "
         "np.linalg.norm(layer.weight.grad) for every layer that isinstance(layer, nn.Linear), in order.",
    lesson=LESSON,
)


# --- init_std -------------------------------------------------------------------------------

def _init_std(fan_in, activation):
    """Standard deviation of a layer's weights so that signals keep their size: (float)."""
    if activation == "relu":
        return np.sqrt(2.0 / fan_in)      # ReLU zeroes half of its inputs: twice the variance
    return np.sqrt(1.0 / fan_in)          # tanh is close to the identity near 0


def _std_inputs(rng):
    return {"fan_in": int(rng.integers(8, 513)), "activation": ["relu", "tanh"][int(rng.integers(2))]}


init_std = Task(
    "init_std",
    reference=_init_std,
    inputs=_std_inputs,
    outputs="std",
    mistakes=[
        Mistake("this is the variance, not the standard deviation",
                lambda fan_in, activation: _init_std(fan_in, activation) ** 2,
                "The derivation gives a variance; the std is its square root."),
        Mistake("ReLU is missing its factor 2", lambda fan_in, activation: np.sqrt(1.0 / fan_in),
                "ReLU sets about half of its inputs to zero, which halves the mean square of its output: "
                "make up for it with variance 2 / fan_in."),
        Mistake("tanh got the ReLU factor 2", lambda fan_in, activation: np.sqrt(2.0 / fan_in),
                "tanh keeps both signs and is close to the identity near 0, so nothing is lost: "
                "variance 1 / fan_in is enough."),
        Mistake("the fan-in is in the numerator", lambda fan_in, activation:
                np.sqrt((2.0 if activation == "relu" else 1.0) * fan_in),
                "A unit adds up fan_in terms, so more inputs need smaller weights: divide by fan_in."),
    ],
    nudge="A unit adds up fan_in products w * x. What weight variance keeps the variance of that sum "
          "equal to the variance of one input?",
    hint="Var(sum) = fan_in * Var(w) * E[x^2]. For tanh choose Var(w) = 1 / fan_in; ReLU halves E[x^2], so "
         "choose 2 / fan_in. Return the square root.",
    cases=6,
    lesson=LESSON,
)
