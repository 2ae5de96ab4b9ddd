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
from dataclasses import dataclass, field
from numbers import Real

import numpy as np

from .data.toy import DataLoader
from .errors import NonFiniteError, ShapeError, StopTraining, check_count, check_number
from .nn.losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss
from .optim import clip_grad_norm

METRICS = ("accuracy",)


class History(dict):
    """What ``fit`` measured, one entry per epoch: a dict of lists.

    Keys: "loss" always; "accuracy" for classification losses; "val_loss" and
    "val_accuracy" when validation data was given. ``history.stopped_early`` says
    whether a callback ended training before the last epoch; ``history.diverged_at``
    is the epoch in which the loss or a layer became NaN/inf (None if it never did),
    and ``history.divergence`` the message that explains it ("" if none).
    """

    def __init__(self):
        super().__init__()
        self.stopped_early = False
        self.diverged_at: int | None = None
        self.divergence = ""

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
        diverged = f", diverged_at={self.diverged_at}" if self.diverged_at is not None else ""
        return f"History(epochs={self.epochs}{', ' + last if last else ''}{diverged})"


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


# --- the loop: small named steps -------------------------------------------------------

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


@dataclass
class _Tally:
    """Running totals over the batches of one pass: losses, batch sizes, correct guesses."""

    loss_fn: object
    rule: object
    losses: list = field(default_factory=list)
    sizes: list = field(default_factory=list)
    correct: int = 0
    guesses: int = 0

    def add(self, pred, yb, loss: float) -> None:
        self.losses.append(loss)
        self.sizes.append(len(yb))
        if self.rule is not None:
            c, g = _count_correct(np.asarray(pred), yb, self.rule)
            self.correct, self.guesses = self.correct + c, self.guesses + g

    def loss(self) -> float:
        return _combine(self.loss_fn, self.losses, self.sizes)

    def results(self) -> dict[str, float]:
        """{"loss": ..., "accuracy": ...} (accuracy only for classification)."""
        return {"loss": self.loss()} | ({"accuracy": self.correct / self.guesses} if self.rule is not None else {})


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


@dataclass
class _Run:
    """Everything one call of ``fit`` works with, so each step below takes one argument."""

    model: object
    loss_fn: object
    optimizer: object
    loader: DataLoader
    val_loader: DataLoader | None
    epochs: int
    rule: object
    callbacks: tuple
    clip_norm: float | None
    bar: object
    step: int = 0


def _check_fit_arguments(epochs, metrics, clip_norm) -> None:
    check_count("fit", "epochs", epochs)
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"fit: unknown metric(s) {unknown}; available: {list(METRICS)}.")
    if clip_norm is not None:
        check_number("fit", "clip_norm", clip_norm, 0.0, low_inclusive=False)


def _train_batches(run: _Run, epoch: int, tally: _Tally) -> bool:
    """One pass over the training data; True if a callback asked to stop."""
    for xb, yb in run.loader:
        run.step += 1
        pred, loss = train_step(run.model, run.loss_fn, run.optimizer, xb, yb, run.clip_norm)
        tally.add(pred, yb, loss)
        run.bar.update()
        run.bar.set_postfix(loss=f"{tally.loss():.4f}", refresh=False)
        if _call_callbacks(run.callbacks, "batch_end", {"epoch": epoch, "step": run.step, "loss": loss}):
            return True
    return False


def _record_epoch(run: _Run, history: History, tally: _Tally) -> None:
    """Add the epoch's training (and validation) numbers to the history and the progress bar."""
    history._record(**tally.results())
    if run.val_loader is not None:
        val = evaluate(run.model, run.loss_fn, run.val_loader.X, run.val_loader.y,
                       metrics=("accuracy",) if run.rule is not None else ())
        history._record(**{"val_" + key: value for key, value in val.items()})
    run.bar.set_postfix({key: f"{values[-1]:.4f}" for key, values in history.items()})


def _divergence_message(run: _Run, epoch: int, exc: Exception) -> str:
    lr = getattr(run.optimizer, "lr", None)
    smaller = f", e.g. lr={lr / 10:g} instead of lr={lr:g}" if isinstance(lr, Real) else ""
    return (f"fit: diverged at epoch {epoch} (try a smaller learning rate{smaller}; scaling the inputs or "
            f"clip_norm=1.0 can help too). At step {run.step}: {exc}")


def _train_epoch(run: _Run, history: History, epoch: int) -> bool:
    """Train for one epoch, record it and run the callbacks; True if training must end here."""
    run.model.train()
    run.bar.set_description(f"epoch {epoch}/{run.epochs}")
    tally = _Tally(run.loss_fn, run.rule)
    try:
        stop = _train_batches(run, epoch, tally)
        _record_epoch(run, history, tally)
    except NonFiniteError as exc:                # NaN/inf in a layer, the loss or a gradient
        history.diverged_at, history.divergence = epoch, _divergence_message(run, epoch, exc)
        return True
    info = {"epoch": epoch, "history": history, "model": run.model, "optimizer": run.optimizer}
    stop = _call_callbacks(run.callbacks, "epoch_end", info) or stop
    if stop:
        history.stopped_early = epoch < run.epochs or run.step < run.epochs * len(run.loader)
    return stop


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

    Divergence does not raise: when a NaN or inf appears (in a layer, the loss or a
    gradient), training stops, the message "fit: diverged at epoch N (try a smaller
    learning rate ...)" is printed and kept in ``history.divergence``, and
    ``history.diverged_at`` = N; the history holds the epochs completed before it.
    The model is left in the train/eval mode it had before.
    """
    loader = _as_loader("fit: data", data, batch_size, shuffle, rng)
    val_loader = None if val_data is None else _as_loader("fit: val_data", val_data, 256, False, rng)
    _check_fit_arguments(epochs, metrics, clip_norm)
    callbacks = (callbacks,) if callable(callbacks) else tuple(callbacks)

    from tqdm.auto import tqdm  # chooses a notebook widget or a text bar

    bar = tqdm(total=epochs * len(loader), unit="batch", disable=not progress, leave=True)
    run = _Run(model, loss_fn, optimizer, loader, val_loader, epochs,
               accuracy_rule(loss_fn) if "accuracy" in metrics else None, callbacks, clip_norm, bar)
    history = History()
    was_training = model.training
    try:
        for epoch in range(1, epochs + 1):
            if _train_epoch(run, history, epoch):
                break
    finally:
        bar.close()
        model.train(was_training)
    if history.diverged_at is not None:
        print(history.divergence)
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
    tally = _Tally(loss_fn, accuracy_rule(loss_fn) if "accuracy" in metrics else None)
    was_training = model.training
    model.eval()
    try:
        for xb, yb in loader:
            pred = model(xb)
            tally.add(pred, yb, float(loss_fn(pred, yb)))
    finally:
        model.train(was_training)
    result = tally.results()
    if not math.isfinite(result["loss"]):  # a custom loss may not check this itself
        raise NonFiniteError(
            f"evaluate: the loss is {result['loss']}; the model's outputs are not finite. "
            f"Training has probably diverged: retrain with a lower learning rate."
        )
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
