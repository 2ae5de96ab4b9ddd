"""Your-turn tasks of lesson 05 (training: gradient descent and friends).

    training_loop     forward, loss, backward, step and zero_grad, repeated over epochs
    momentum_update   one step of SGD with momentum on one array
    adam_update       one step of Adam on one array

In the lesson: ``momentum_update = lesson05.momentum_update.check(momentum_update)``.
"""
from __future__ import annotations

import numpy as np

from .. import nn, optim
from .yourturn import task_from_texts

LESSON = "05_training.ipynb"


# --- training_loop -------------------------------------------------------------------------

def _training_loop(model, loss_fn, optimizer, X, y, epochs):
    """Train on the whole of (X, y) once per epoch; return the loss of every epoch, (epochs,)."""
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()                 # forget the previous step's gradients
        loss = loss_fn(model(X), y)           # forward and loss
        model.backward(loss_fn.backward())    # backward: fills every p.grad
        optimizer.step()                      # update
        losses.append(loss)
    return np.array(losses)


def _loop_variant(model, loss_fn, optimizer, X, y, epochs, *, zero=True, step=True):
    """The training loop with one call left out: zero=False skips zero_grad(), step=False step()."""
    losses = []
    for _ in range(epochs):
        if zero:
            optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        model.backward(loss_fn.backward())
        if step:
            optimizer.step()
        losses.append(loss)
    return np.array(losses)


def _loop_inputs(rng):
    seed = int(rng.integers(1_000_000))
    model = nn.Sequential(nn.Linear(2, 8, rng=seed), nn.Tanh(), nn.Linear(8, 2, rng=seed + 1))
    optimizer = optim.SGD(model.parameters(), lr=float(rng.uniform(0.1, 0.3)), momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    X = rng.standard_normal((int(rng.integers(10, 20)), 2))
    return {"model": model, "loss_fn": loss_fn, "optimizer": optimizer, "X": X,
            "y": (X[:, 0] * X[:, 1] > 0).astype(int), "epochs": int(rng.integers(4, 7))}


training_loop = task_from_texts(globals(), "training_loop")


# --- momentum_update -----------------------------------------------------------------------

def _momentum_update(w, grad, velocity, lr, momentum):
    """One SGD-with-momentum step. Returns new_w and new_velocity, both shaped like w."""
    new_velocity = momentum * velocity + grad     # a running sum of gradients
    new_w = w - lr * new_velocity                 # step along the velocity
    return new_w, new_velocity


def _momentum_inputs(rng):
    shape = (int(rng.integers(2, 5)), int(rng.integers(2, 5)))
    return {"w": rng.standard_normal(shape), "grad": rng.standard_normal(shape),
            "velocity": rng.standard_normal(shape), "lr": float(rng.uniform(0.01, 0.3)),
            "momentum": float(rng.uniform(0.5, 0.95))}


def _step_along_the_gradient(w, grad, velocity, lr, momentum):
    return w - lr * grad, momentum * velocity + grad


def _step_with_the_old_velocity(w, grad, velocity, lr, momentum):
    return w - lr * velocity, momentum * velocity + grad


def _velocity_averaged(w, grad, velocity, lr, momentum):
    return _momentum_update(w, (1 - momentum) * grad, velocity, lr, momentum)


def _velocity_forgotten(w, grad, velocity, lr, momentum):
    return w - lr * grad, grad


momentum_update = task_from_texts(globals(), "momentum_update")


# --- adam_update ---------------------------------------------------------------------------

def _adam_update(w, grad, m, v, t, lr, beta1, beta2, eps):
    """One Adam step (t = 1 for the first step). Returns new_w, new_m, new_v, shaped like w."""
    new_m = beta1 * m + (1 - beta1) * grad           # running mean of the gradient
    new_v = beta2 * v + (1 - beta2) * grad ** 2      # running mean of its square
    m_hat = new_m / (1 - beta1 ** t)                 # undo the pull towards the zero start
    v_hat = new_v / (1 - beta2 ** t)
    new_w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return new_w, new_m, new_v


def _adam_variant(w, grad, m, v, t, lr, beta1, beta2, eps, *, correct=True, shift=0, eps_inside=False):
    """Adam with one slip: correct=False skips the bias correction, shift=1 corrects with t + 1,
    eps_inside=True adds eps under the square root."""
    new_m = beta1 * m + (1 - beta1) * grad
    new_v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat = new_m / (1 - beta1 ** (t + shift)) if correct else new_m
    v_hat = new_v / (1 - beta2 ** (t + shift)) if correct else new_v
    scale = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
    return w - lr * m_hat / scale, new_m, new_v


def _adam_inputs(rng):
    shape = (int(rng.integers(2, 6)),)
    return {"w": rng.standard_normal(shape), "grad": rng.standard_normal(shape),
            "m": 0.1 * rng.standard_normal(shape), "v": 0.1 * rng.random(shape),
            "t": int(rng.integers(1, 6)), "lr": float(rng.uniform(0.001, 0.1)),
            "beta1": float(rng.uniform(0.8, 0.95)), "beta2": float(rng.uniform(0.95, 0.999)),
            "eps": float(rng.uniform(1e-3, 1e-2))}


adam_update = task_from_texts(globals(), "adam_update")
