"""The your-turn tasks of lesson 03 (loss functions).

    from bplearn.feedback import lesson03
    mse_grad = lesson03.mse_grad.check(mse_grad)                       # d MSE / d pred
    softmax_ce_grad = lesson03.softmax_ce_grad.check(softmax_ce_grad)  # d mean CE / d logits
"""
from __future__ import annotations

import numpy as np

from .yourturn import Mistake, Task

LESSON = "03_losses.ipynb"


# --- the gradient of the mean squared error ----------------------------------------------

def _mse_grad(pred, target):
    """pred, target: (N,) -> dL/dpred, (N,), for L = mean((pred - target)**2)."""
    return 2 * (pred - target) / len(pred)


def _bare_difference(pred, target):
    return pred - target


def _target_minus_pred(pred, target):
    return 2 * (target - pred) / len(pred)


def _squared_not_differentiated(pred, target):
    return (pred - target) ** 2 / len(pred)


def _regression_batch(rng):
    return {"pred": rng.normal(size=6), "target": rng.normal(size=6)}


mse_grad = Task(
    "mse_grad", _mse_grad, _regression_batch, "dpred",
    mistakes=[
        Mistake("both the 2 and the 1/N are missing", _bare_difference,
                "pred - target is only where the gradient starts. The square brings a factor 2, and the mean "
                "over N predictions divides every entry by N."),
        Mistake("target - pred instead of pred - target", _target_minus_pred,
                "The derivative of (pred - target)² with respect to pred is 2 (pred - target): positive when "
                "the prediction is too high, so gradient descent lowers it."),
        Mistake("the square was kept instead of differentiated", _squared_not_differentiated,
                "That is each example's share of the loss. Its derivative uses the power rule: "
                "d(u²)/du = 2u."),
    ],
    nudge="Differentiate one term of the mean, (1/N)(pred_i - target_i)², with respect to pred_i. "
          "The other terms do not contain pred_i.",
    hint="Power rule and the chain rule: each entry is 2 (pred_i - target_i) / N, with N = len(pred).",
    batch_size=lambda inputs: len(inputs["pred"]),
    lesson=LESSON,
)


# --- the gradient of softmax + mean cross-entropy --------------------------------------------

def _softmax(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)      # exp never overflows: the row max is 0
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def _one_hot(labels, num_classes):
    return np.eye(num_classes)[labels]


def _softmax_ce_grad(logits, labels):
    """logits: (N, C), labels: (N,) ints -> dL/dlogits, (N, C), for the mean cross-entropy."""
    n, c = logits.shape
    return (_softmax(logits) - _one_hot(labels, c)) / n


def _logits_minus_y(logits, labels):
    n, c = logits.shape
    return (logits - _one_hot(labels, c)) / n


def _without_the_one_hot(logits, labels):
    return _softmax(logits) / len(logits)


def _minus_one_everywhere(logits, labels):
    return (_softmax(logits) - 1) / len(logits)


def _classification_batch(rng):
    """Five examples, four classes; the first row's logits are huge, as a confident network's can be."""
    logits = rng.normal(scale=2.0, size=(5, 4))
    logits[0] += 1000.0
    return {"logits": logits, "labels": rng.integers(0, 4, size=5)}


softmax_ce_grad = Task(
    "softmax_ce_grad", _softmax_ce_grad, _classification_batch, "dlogits",
    mistakes=[
        Mistake("the raw logits were used instead of the probabilities", _logits_minus_y,
                "The rule is p - y with p = softmax(logits): turn the logits into probabilities first."),
        Mistake("the one-hot targets were not subtracted", _without_the_one_hot,
                "Subtract y, the one-hot target: 1 at each example's label, 0 elsewhere."),
        Mistake("1 was subtracted from every entry", _minus_one_everywhere,
                "Only the correct class gets -1: y is one-hot, so subtract 1 at (row n, column labels[n]) only."),
    ],
    nudge="First the probabilities (a softmax on each row), then the targets as one-hot rows, then the mean.",
    hint="p = softmax(logits) computed stably (subtract each row's max before exp); y = np.eye(C)[labels]; "
         "return (p - y) / N.",
    batch_size=lambda inputs: len(inputs["logits"]),
    lesson=LESSON,
)
