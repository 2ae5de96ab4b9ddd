"""The your-turn tasks of lesson 03 (loss functions).

    from bplearn.feedback import lesson03
    mse_grad = lesson03.mse_grad.check(mse_grad)                       # d MSE / d pred
    softmax_ce_grad = lesson03.softmax_ce_grad.check(softmax_ce_grad)  # d mean CE / d logits
"""
from __future__ import annotations

import numpy as np

from .yourturn import task_from_texts

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


mse_grad = task_from_texts(globals(), "mse_grad")


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


softmax_ce_grad = task_from_texts(globals(), "softmax_ce_grad")
