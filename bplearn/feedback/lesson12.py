"""Lesson 12 (capstone): the learner's two your-turn tasks.

    fit_with_validation   the epoch loop: train on mini-batches, then measure on validation data;
                          returns per-epoch training loss, validation loss and validation accuracy
    early_stopping        from a validation-loss curve and a patience: the epoch to keep and the
                          epoch at which training stops

The training loop changes its arguments (the model's weights, the optimiser's state, the
loader's random order); a check gives the reference, the learner's function and every
Mistake their own deep copy of the case's inputs, so each starts from the same state.
"""
from __future__ import annotations

import numpy as np

from .. import nn, optim, train
from ..data import DataLoader
from .yourturn import task_from_texts

LESSON = "12_capstone.ipynb"


# --- the training loop -------------------------------------------------------------------------

def _loop_inputs(rng) -> dict:
    """A small classifier with dropout (so train and eval mode differ) on random data."""
    seed = int(rng.integers(1_000_000))
    d, classes = 6, 3
    X, X_val = rng.normal(size=(48, d)), rng.normal(size=(20, d))
    y, y_val = rng.integers(0, classes, size=48), rng.integers(0, classes, size=20)
    model = nn.Sequential(nn.Linear(d, 16, rng=seed), nn.ReLU(), nn.Dropout(0.3, rng=seed + 1),
                          nn.Linear(16, classes, rng=seed + 2))
    optimizer = optim.SGD(model.parameters(), lr=0.2, momentum=0.5)
    loader = DataLoader(X, y, batch_size=16, shuffle=True, rng=seed + 3)
    return {"model": model, "loss_fn": nn.CrossEntropyLoss(), "optimizer": optimizer,
            "train_loader": loader, "X_val": X_val, "y_val": y_val, "epochs": int(rng.integers(3, 5))}


def _fit_with_validation(model, loss_fn, optimizer, train_loader, X_val, y_val, epochs):
    """Train for `epochs` epochs; after each, measure on the validation data (X_val, y_val).

    Returns train_loss, val_loss, val_accuracy: three arrays of shape (epochs,).
    """
    train_loss, val_loss, val_accuracy = [], [], []
    for _ in range(epochs):
        model.train()                                    # dropout and batch norm in training mode
        batch_losses = []
        for xb, yb in train_loader:
            optimizer.zero_grad()                        # gradients add up (+=): clear them first
            loss = loss_fn(model(xb), yb)                # forward and loss
            model.backward(loss_fn.backward())           # backward
            optimizer.step()                             # update
            batch_losses.append(loss)
        train_loss.append(np.mean(batch_losses))
        scores = train.evaluate(model, loss_fn, X_val, y_val)   # eval mode, no updates
        val_loss.append(scores["loss"])
        val_accuracy.append(scores["accuracy"])
    return np.array(train_loss), np.array(val_loss), np.array(val_accuracy)


def _loop(model, loss_fn, optimizer, train_loader, X_val, y_val, epochs, *, zero_grad=True, train_mode=True,
          last_batch_only=False, measure_on_train=False, measure_before=False, eval_mode=True):
    """The reference loop with one thing done wrong, chosen by the keyword."""
    train_loss, val_loss, val_accuracy = [], [], []
    if measure_on_train:
        X_val, y_val = train_loader.X, train_loader.y

    def measure():
        if eval_mode:
            scores = train.evaluate(model, loss_fn, X_val, y_val)
            return scores["loss"], scores["accuracy"]
        scores = model(X_val)                            # training mode: dropout still on
        return float(loss_fn(scores, y_val)), float(np.mean(scores.argmax(axis=1) == y_val))

    for epoch in range(epochs):
        before = measure() if measure_before else None
        if train_mode or epoch == 0:
            model.train()
        batch_losses = []
        for xb, yb in train_loader:
            if zero_grad:
                optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            model.backward(loss_fn.backward())
            optimizer.step()
            batch_losses.append(loss)
        train_loss.append(batch_losses[-1] if last_batch_only else np.mean(batch_losses))
        if not train_mode:
            model.eval()
        scores = before or measure()
        val_loss.append(scores[0])
        val_accuracy.append(scores[1])
    return np.array(train_loss), np.array(val_loss), np.array(val_accuracy)


fit_with_validation = task_from_texts(globals(), "fit_with_validation")


# --- early stopping ----------------------------------------------------------------------------

def _stopping_inputs(rng) -> dict:
    """A noisy validation curve: down, up (with a dip) for longer than the patience, then lower still.

    So the lowest loss of the whole curve comes after the stop, where early stopping never looks,
    and a dip that does not beat the best must not restart the patience count.
    """
    patience = int(rng.integers(3, 6))
    fall, rise, fall_again = int(rng.integers(6, 12)), patience + int(rng.integers(2, 5)), int(rng.integers(6, 12))
    going_up = np.linspace(0.53, 0.65, rise)
    going_up[2] = 0.52                                   # a dip on the way up, still above the best
    curve = np.concatenate([np.linspace(1.0, 0.5, fall), going_up, np.linspace(0.6, 0.35, fall_again)])
    return {"val_loss": curve + rng.normal(0, 0.004, size=curve.size), "patience": patience}


def _early_stopping(val_loss, patience):
    """val_loss: (epochs,), entry k measured after epoch k + 1.

    Returns (best_epoch, stop_epoch), counted from 1: training stops after stop_epoch, the
    first epoch that ends `patience` epochs without a new lowest validation loss (or the last
    epoch), and keeps the model of best_epoch, the lowest validation loss seen until then.
    """
    best_epoch, best = 1, val_loss[0]
    for epoch in range(2, len(val_loss) + 1):
        if val_loss[epoch - 1] < best:
            best_epoch, best = epoch, val_loss[epoch - 1]
        elif epoch - best_epoch >= patience:
            return best_epoch, epoch
    return best_epoch, len(val_loss)


def _stopping_counted_from_0(val_loss, patience):
    best, stop = _early_stopping(val_loss, patience)
    return best - 1, stop - 1


def _stopping_looks_ahead(val_loss, patience):
    return int(np.argmin(val_loss)) + 1, _early_stopping(val_loss, patience)[1]


def _stopping_keeps_the_last_model(val_loss, patience):
    stop = _early_stopping(val_loss, patience)[1]
    return stop, stop


def _stopping_counts_every_rise(val_loss, patience):
    """Patience counted as rises in a row (against the previous epoch), not since the best."""
    rises, best_epoch = 0, 1
    for epoch in range(2, len(val_loss) + 1):
        rises = rises + 1 if val_loss[epoch - 1] >= val_loss[epoch - 2] else 0
        if val_loss[epoch - 1] < val_loss[best_epoch - 1]:
            best_epoch = epoch
        if rises >= patience:
            return best_epoch, epoch
    return best_epoch, len(val_loss)


early_stopping = task_from_texts(globals(), "early_stopping")
