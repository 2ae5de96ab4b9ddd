"""The training loop: mini-batches, epochs, a history of the loss, a progress bar.

``fit`` repeats the four steps of training on one mini-batch after another:

    optimizer.zero_grad()                 # 0. clear last step's gradients
    pred = model(xb)                      # 1. forward
    loss = loss_fn(pred, yb)              # 2. measure the error
    model.backward(loss_fn.backward())    # 3. backward: dL/dθ into every p.grad
    optimizer.step()                      # 4. move every θ against its gradient

One pass over all the training data is an *epoch*. After each epoch ``fit`` records
the average training loss (and accuracy, for classification) and, if validation
data is given, the loss on data the model never trains on: the gap between the two
curves shows over-fitting.
"""
from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

from .data.toy import DataLoader
from .errors import NonFiniteError, ShapeError, StopTraining
from .nn.losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss
from .optim import clip_grad_norm

METRICS = ("accuracy",)


class History(dict):
    """What ``fit`` measured, one entry per epoch: a dict of lists.

    Keys: "loss" always; "accuracy" for classification losses; "val_loss" and
    "val_accuracy" when validation data was given. ``history.stopped_early`` says
    whether a callback ended training before the last epoch.
    """

    def __init__(self):
        super().__init__()
        self.stopped_early = False

    @property
    def epochs(self) -> int:
        """How many epochs were recorded."""
        return len(self.get("loss", []))

    def _record(self, **values: float) -> None:
        for key, value in values.items():
            self.setdefault(key, []).append(value)

    def plot(self):
        """Loss (and accuracy) per epoch, training and validation; returns the Figure.

        In a notebook end the cell with ``;`` so the figure is shown once.
        """
        import matplotlib.pyplot as plt

        if not self.epochs:
            raise ValueError("History.plot: nothing recorded yet; run fit(...) first.")
        panels = [("loss", "Loss")] + ([("accuracy", "Accuracy")] if "accuracy" in self else [])
        fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.5), squeeze=False)
        epochs = np.arange(1, self.epochs + 1)
        for ax, (key, title) in zip(axes[0], panels):
            ax.plot(epochs, self[key], color="tab:blue", marker=".", label="training")
            if "val_" + key in self:
                ax.plot(epochs, self["val_" + key], color="tab:orange", marker=".", label="validation")
            ax.set_title(f"{title} per epoch")
            ax.set_xlabel("epoch")
            ax.set_ylabel(key)
            ax.legend()
        fig.tight_layout()
        return fig

    def __repr__(self) -> str:
        last = ", ".join(f"{key}={values[-1]:.4g}" for key, values in self.items() if values)
        return f"History(epochs={self.epochs}{', ' + last if last else ''})"


# --- accuracy -------------------------------------------------------------------------

def accuracy_rule(loss_fn):
    """How outputs become class guesses for this loss: "argmax", a threshold, or None.

    CrossEntropyLoss takes logits (N, C): the guess is the largest one. BCEWithLogitsLoss
    takes logits: guess 1 where the logit > 0 (probability > 0.5). BCELoss takes
    probabilities: guess 1 where p > 0.5. Regression losses (MSE) have no accuracy.
    """
    if isinstance(loss_fn, CrossEntropyLoss):
        return "argmax"
    if isinstance(loss_fn, BCEWithLogitsLoss):
        return 0.0
    if isinstance(loss_fn, BCELoss):
        return 0.5
    return None


def _count_correct(pred: np.ndarray, y, rule) -> tuple[int, int]:
    """(number of correct guesses, number of guesses) for outputs ``pred`` and targets ``y``."""
    if rule == "argmax":
        guess = pred.argmax(axis=-1)                  # (N, C) -> (N,)
        truth = np.asarray(y)
    else:
        guess = pred > rule                           # (N, 1) -> (N, 1) booleans
        truth = np.asarray(y) > 0.5                   # 0/1 targets (also soft ones) as booleans
    if truth.size != guess.size:
        raise ShapeError(
            f"accuracy: {guess.size} predictions (outputs of shape {pred.shape}) but {truth.size} "
            f"targets (shape {np.shape(y)}); there must be one target per prediction."
        )
    return int(np.sum(guess == truth.reshape(guess.shape))), guess.size


# --- the loop ---------------------------------------------------------------------------

def _as_loader(where: str, data, batch_size, shuffle, rng) -> DataLoader:
    if isinstance(data, DataLoader):
        return data
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise TypeError(
            f"{where} must be a pair (X, y) or a DataLoader, got {type(data).__name__}. "
            f"Example: fit(model, loss_fn, optimizer, (X, y))."
        )
    return DataLoader(data[0], data[1], batch_size=batch_size, shuffle=shuffle, rng=rng)


def _combine(loss_fn, losses: list[float], sizes: list[int]) -> float:
    """The loss of several batches together, as loss_fn would report it for all at once.

    A "mean" loss averaged over each batch -> mean weighted by batch size (the last
    batch may be smaller); a "sum" loss -> the plain sum.
    """
    if getattr(loss_fn, "reduction", "mean") == "sum":
        return float(np.sum(losses))
    return float(np.dot(losses, sizes) / np.sum(sizes))


def _call_callbacks(callbacks, event: str, info: dict) -> bool:
    """Run every callback; True if one of them asked to stop."""
    stop = False
    for cb in callbacks:
        try:
            answer = cb(event, info)
        except StopTraining:
            answer = "stop"
        if answer not in (None, "stop"):
            raise TypeError(
                f"fit: callback {cb!r} returned {answer!r} on '{event}'. A callback returns "
                f"None to carry on or the string 'stop' to end training."
            )
        stop = stop or answer == "stop"
    return stop


def train_step(model, loss_fn, optimizer, xb, yb, clip_norm: float | None = None):
    """One step of mini-batch gradient descent on (xb, yb); returns (pred, loss).

    xb: (B, ...), yb: (B, ...) -> pred: the model's output for xb, loss: float
    (measured before the update).
    """
    optimizer.zero_grad()                        # 0. grads accumulate (+=): clear the last batch's
    pred = model(xb)                             # 1. forward
    loss = float(loss_fn(pred, yb))              # 2. how wrong is it?
    if not math.isfinite(loss):                  #    (a custom loss may not check this itself)
        raise NonFiniteError(f"the loss is {loss}.")
    model.backward(loss_fn.backward())           # 3. backward: dL/dθ into every p.grad
    if clip_norm is not None:
        clip_grad_norm(model.parameters(), clip_norm)
    optimizer.step()                             # 4. update: θ moves against its gradient
    return pred, loss


def fit(model, loss_fn, optimizer, data, epochs: int = 10, batch_size: int = 32, val_data=None,
        shuffle: bool = True, rng=0, progress: bool = True, callbacks=(), metrics=("accuracy",),
        clip_norm: float | None = None) -> History:
    """Train ``model`` with mini-batch gradient descent; return the History.

    data, val_data: (X, y) pairs with X: (N, ...) and y: (N, ...), or DataLoaders
        (then batch_size, shuffle and rng are taken from the loader). val_data is
        evaluated after every epoch with the model in eval() mode.
    loss_fn: called as loss_fn(pred, y) -> float; loss_fn.backward() -> dL/dpred.
    metrics: ("accuracy",) adds accuracy for classification losses (see accuracy_rule);
        () records the loss only.
    callbacks: functions cb(event, info). After every batch: event "batch_end",
        info {"epoch", "step", "loss"}; after every epoch: "epoch_end", info {"epoch",
        "history", "model", "optimizer"}. Return "stop" (or raise StopTraining) to end
        training after the current batch; that epoch is still recorded.
    clip_norm: if given, gradients are clipped to this global norm before every step.
    progress: show a tqdm bar (a widget in notebooks) with the running loss.

    A NaN or infinite loss raises NonFiniteError naming the epoch and step.
    The model is left in the train/eval mode it had before.
    """
    loader = _as_loader("fit: data", data, batch_size, shuffle, rng)
    val_loader = None if val_data is None else _as_loader("fit: val_data", val_data, 256, False, rng)
    if isinstance(epochs, bool) or not isinstance(epochs, Integral) or epochs < 1:
        raise ValueError(f"fit: epochs must be a whole number >= 1, got {epochs!r}.")
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"fit: unknown metric(s) {unknown}; available: {list(METRICS)}.")
    if clip_norm is not None and not (isinstance(clip_norm, Real) and clip_norm > 0):
        raise ValueError(f"fit: clip_norm must be a positive number or None, got {clip_norm!r}.")
    callbacks = (callbacks,) if callable(callbacks) else tuple(callbacks)
    rule = accuracy_rule(loss_fn) if "accuracy" in metrics else None

    from tqdm.auto import tqdm  # chooses a notebook widget or a text bar

    history = History()
    was_training = model.training
    bar = tqdm(total=epochs * len(loader), unit="batch", disable=not progress, leave=True)
    step = 0
    try:
        for epoch in range(1, epochs + 1):
            model.train()
            bar.set_description(f"epoch {epoch}/{epochs}")
            losses, sizes, correct, guesses = [], [], 0, 0
            stop = False
            for xb, yb in loader:
                step += 1
                try:
                    pred, loss = train_step(model, loss_fn, optimizer, xb, yb, clip_norm)
                except NonFiniteError as exc:
                    lr = getattr(optimizer, "lr", None)
                    now = f"now lr={lr:g}, try lr={lr / 10:g}" if isinstance(lr, Real) else "e.g. 10x smaller"
                    raise NonFiniteError(
                        f"fit: training diverged at epoch {epoch}, step {step} (NaN or inf). Try a lower "
                        f"learning rate ({now}), scale the inputs, or pass clip_norm=1.0. Details: {exc}"
                    ) from exc

                losses.append(loss)
                sizes.append(len(xb))
                if rule is not None:
                    c, g = _count_correct(np.asarray(pred), yb, rule)
                    correct, guesses = correct + c, guesses + g
                bar.update()
                bar.set_postfix(loss=f"{_combine(loss_fn, losses, sizes):.4f}", refresh=False)
                stop = _call_callbacks(callbacks, "batch_end", {"epoch": epoch, "step": step, "loss": loss})
                if stop:
                    break

            history._record(loss=_combine(loss_fn, losses, sizes))
            if rule is not None:
                history._record(accuracy=correct / guesses)
            if val_loader is not None:
                val = evaluate(model, loss_fn, val_loader.X, val_loader.y, metrics=metrics)
                history._record(**{"val_" + key: value for key, value in val.items()})
            bar.set_postfix({key: f"{values[-1]:.4f}" for key, values in history.items()})
            info = {"epoch": epoch, "history": history, "model": model, "optimizer": optimizer}
            stop = _call_callbacks(callbacks, "epoch_end", info) or stop
            if stop:
                history.stopped_early = epoch < epochs or step < epochs * len(loader)
                break
    finally:
        bar.close()
        model.train(was_training)
    return history


# --- using a trained model ------------------------------------------------------------

def _batches(X, batch_size: int):
    X = np.asarray(X)
    for start in range(0, len(X), batch_size):
        yield X[start:start + batch_size]


def predict(model, X, batch_size: int = 256) -> np.ndarray:
    """The model's outputs for X, computed in eval() mode and in batches.

    X: (N, ...) -> outputs: (N, ...) (e.g. logits (N, C)). Raw outputs: apply
    argmax / a threshold yourself, or use ``accuracy``.
    """
    was_training = model.training
    model.eval()
    try:
        return np.concatenate([np.asarray(model(xb)) for xb in _batches(X, batch_size)])
    finally:
        model.train(was_training)


def evaluate(model, loss_fn, X, y, batch_size: int = 256, metrics=("accuracy",)) -> dict[str, float]:
    """Loss (and accuracy, for classification) on (X, y) in eval() mode, without training.

    X: (N, ...), y: (N, ...) -> {"loss": float, "accuracy": float}. Computed in batches
    of ``batch_size`` to save memory; the loss is what loss_fn would give on all of X.
    """
    loader = DataLoader(X, y, batch_size=batch_size, shuffle=False)
    rule = accuracy_rule(loss_fn) if "accuracy" in metrics else None
    was_training = model.training
    model.eval()
    losses, sizes, correct, guesses = [], [], 0, 0
    try:
        for xb, yb in loader:
            pred = model(xb)
            losses.append(float(loss_fn(pred, yb)))
            sizes.append(len(xb))
            if rule is not None:
                c, g = _count_correct(np.asarray(pred), yb, rule)
                correct, guesses = correct + c, guesses + g
    finally:
        model.train(was_training)
    result = {"loss": _combine(loss_fn, losses, sizes)}
    if not math.isfinite(result["loss"]):  # a custom loss may not check this itself
        raise NonFiniteError(
            f"evaluate: the loss is {result['loss']}; the model's outputs are not finite. "
            f"Training has probably diverged: retrain with a lower learning rate."
        )
    if rule is not None:
        result["accuracy"] = correct / guesses
    return result


def accuracy(model, X, y, threshold: float = 0.0) -> float:
    """Fraction of samples classified correctly, in eval() mode.

    Outputs (N, C) with C > 1: the class with the largest output is the guess, y: (N,)
    integer labels. One output per sample, (N, 1) or (N,): the guess is 1 where the
    output > ``threshold`` — 0.0 for logits (BCEWithLogitsLoss), use 0.5 if the model
    ends in a Sigmoid — and y holds 0/1 targets.
    """
    pred = predict(model, X)
    rule = "argmax" if pred.ndim >= 2 and pred.shape[-1] > 1 else threshold
    correct, total = _count_correct(pred, y, rule)
    return correct / total
