"""Your-turn tasks of lesson 05 (training: gradient descent and friends).

    training_loop     forward, loss, backward, step and zero_grad, repeated over epochs
    momentum_update   one step of SGD with momentum on one array
    adam_update       one step of Adam on one array

In the lesson: ``momentum_update = lesson05.momentum_update.check(momentum_update)``.
"""
from __future__ import annotations

import copy
import functools
import inspect

import numpy as np

from .. import nn, optim
from .yourturn import Mistake, Task

LESSON = "05_training.ipynb"


# --- stateful inputs: every run starts from the same model --------------------------------
# A check calls the reference, the learner's function and each mistake on the same inputs.
# Arrays are copied for each call, but a model and its optimiser are changed in place by a
# training loop; so the inputs remember a pristine copy, and the reference and the mistakes
# run on copies of it. The learner's function gets the originals.

_PRISTINE: dict = {}


def remember_pristine(model, *others) -> None:
    """Keep a deep copy of ``model`` (and the objects tied to it) as they are now."""
    if len(_PRISTINE) > 16:
        _PRISTINE.clear()
    _PRISTINE[id(model)] = (model, copy.deepcopy((model, *others)))


def on_pristine_copy(fn):
    """Run ``fn(model, *others, ...)`` on a fresh copy of the remembered model and objects.

    ``others`` are the arguments that follow ``model`` in ``fn``'s signature and were
    remembered with it (e.g. the loss and the optimiser). Unremembered models are used as given.
    """
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def run(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        model = next(iter(bound.arguments.values()))
        entry = _PRISTINE.get(id(model))
        if entry is not None and entry[0] is model:
            fresh = copy.deepcopy(entry[1])
            for name, value in zip(signature.parameters, fresh):
                bound.arguments[name] = value
        return fn(*bound.args, **bound.kwargs)
    return run


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
    remember_pristine(model, loss_fn, optimizer)
    X = rng.standard_normal((int(rng.integers(10, 20)), 2))
    return {"model": model, "loss_fn": loss_fn, "optimizer": optimizer, "X": X,
            "y": (X[:, 0] * X[:, 1] > 0).astype(int), "epochs": int(rng.integers(4, 7))}


training_loop = Task(
    "training_loop",
    reference=on_pristine_copy(_training_loop),
    inputs=_loop_inputs,
    outputs="losses",
    mistakes=[
        Mistake("the gradients are never cleared",
                on_pristine_copy(functools.partial(_loop_variant, zero=False)),
                "Backward adds into p.grad (+=), so without optimizer.zero_grad() each step also "
                "uses every earlier step's gradients. Clear them at the start of every step."),
        Mistake("the weights never change",
                on_pristine_copy(functools.partial(_loop_variant, step=False)),
                "The loss is the same in every epoch, so no update reached the weights: call "
                "optimizer.step() after model.backward(...) and before the next zero_grad()."),
    ],
    nudge="One epoch is five lines: clear the gradients, forward and loss, backward, step, and "
          "remember the loss.",
    hint="optimizer.zero_grad(); loss = loss_fn(model(X), y); model.backward(loss_fn.backward()); "
         "optimizer.step(); append loss to a list, and return np.array(the list).",
    lesson=LESSON,
)


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


momentum_update = Task(
    "momentum_update",
    reference=_momentum_update,
    inputs=_momentum_inputs,
    outputs=("new_w", "new_velocity"),
    mistakes=[
        Mistake("the step uses the gradient, not the velocity",
                lambda w, grad, velocity, lr, momentum: (w - lr * grad, momentum * velocity + grad),
                "With momentum the weights move along the velocity: new_w = w - lr * new_velocity."),
        Mistake("the step uses the old velocity",
                lambda w, grad, velocity, lr, momentum: (w - lr * velocity, momentum * velocity + grad),
                "Update the velocity first, then step with the new one."),
        Mistake("the velocity is a weighted average",
                lambda w, grad, velocity, lr, momentum: _momentum_update(w, (1 - momentum) * grad, velocity, lr, momentum),
                "Here (as in bplearn and PyTorch) the velocity is momentum * velocity + grad, "
                "without a (1 - momentum) factor on grad."),
        Mistake("the old velocity is not carried over",
                lambda w, grad, velocity, lr, momentum: (w - lr * grad, grad),
                "The velocity remembers the past: new_velocity = momentum * velocity + grad."),
    ],
    nudge="Two lines: first the new velocity, then the new weights.",
    hint="velocity <- momentum * velocity + grad, then w <- w - lr * velocity (with the new velocity).",
    lesson=LESSON,
)


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


adam_update = Task(
    "adam_update",
    reference=_adam_update,
    inputs=_adam_inputs,
    outputs=("new_w", "new_m", "new_v"),
    mistakes=[
        Mistake("no bias correction", lambda **a: _adam_variant(**a, correct=False),
                "m and v start at zero, so early on they are too small: divide them by "
                "(1 - beta1**t) and (1 - beta2**t) before the step."),
        Mistake("the bias correction is off by one step", lambda **a: _adam_variant(**a, shift=1),
                "t is the number of the step being taken, starting at 1: use beta1**t and beta2**t."),
        Mistake("eps is inside the square root", lambda **a: _adam_variant(**a, eps_inside=True),
                "Add eps after the square root: m_hat / (np.sqrt(v_hat) + eps)."),
    ],
    nudge="Update the two running averages first, then correct them for their zero start, then step.",
    hint="m = beta1 m + (1 - beta1) g; v = beta2 v + (1 - beta2) g**2; m_hat = m / (1 - beta1**t); "
         "v_hat = v / (1 - beta2**t); w = w - lr * m_hat / (sqrt(v_hat) + eps).",
    lesson=LESSON,
)
