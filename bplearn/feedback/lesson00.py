"""The your-turn task of lesson 00 (welcome): one gradient-descent update.

    from bplearn.feedback import lesson00
    gradient_step = lesson00.gradient_step.check(gradient_step)
"""
from __future__ import annotations

from .yourturn import task_from_texts

LESSON = "00_welcome.ipynb"


def _gradient_step(w, grad, lr):
    """w: (n,) weights, grad: (n,) dL/dw, lr: float -> the weights after one step, (n,)."""
    return w - lr * grad


def _uphill(w, grad, lr):
    return w + lr * grad


def _without_lr(w, grad, lr):
    return w - grad


def _only_the_change(w, grad, lr):
    return -lr * grad


def _inputs(rng):
    return {"w": rng.normal(size=4), "grad": rng.normal(size=4), "lr": float(rng.uniform(0.05, 0.3))}


gradient_step = task_from_texts(globals(), "gradient_step")
