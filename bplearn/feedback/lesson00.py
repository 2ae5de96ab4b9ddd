"""The your-turn task of lesson 00 (welcome): one gradient-descent update.

    from bplearn.feedback import lesson00
    gradient_step = lesson00.gradient_step.check(gradient_step)
"""
from __future__ import annotations

import numpy as np

from .yourturn import Mistake, Task

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


gradient_step = Task(
    "gradient_step", _gradient_step, _inputs, "new_w",
    mistakes=[
        Mistake("stepped up the gradient", _uphill,
                "The gradient points uphill, towards a larger loss. Gradient descent goes the other way: "
                "subtract lr * grad from w."),
        Mistake("learning rate left out", _without_lr,
                "The whole gradient was subtracted. The learning rate lr scales the step: multiply grad by lr."),
        Mistake("returned only the change", _only_the_change,
                "That is the size of the step, not the new weights. Add the step to w and return the result."),
    ],
    nudge="The gradient says which way the loss goes up. Which way should the weights move?",
    hint="Take a step of length lr times the gradient, against the gradient, starting from w.",
    lesson=LESSON,
)
