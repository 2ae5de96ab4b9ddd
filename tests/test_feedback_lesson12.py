"""Lesson 12's your-turn checks: the training loop with validation, and early stopping."""
import json
import pathlib

import numpy as np
import pytest

from bplearn import nn, optim, train
from bplearn.data import DataLoader
from bplearn.feedback import lesson12
from bplearn.feedback.yourturn import CORRECT, NOT_DONE, WRONG

ROOT = pathlib.Path(__file__).resolve().parents[1]
LESSON = "12_capstone.ipynb"
LOOP, STOP = lesson12.fit_with_validation, lesson12.early_stopping


# --- the references are right -----------------------------------------------------------------

def test_the_loop_reference_agrees_with_the_librarys_fit():
    """fit() runs the same steps; with the same seeds it must record the same numbers."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(48, 5)), rng.integers(0, 3, size=48)
    X_val, y_val = rng.normal(size=(20, 5)), rng.integers(0, 3, size=20)

    def setup():
        model = nn.Sequential(nn.Linear(5, 8, rng=1), nn.ReLU(), nn.Dropout(0.3, rng=2), nn.Linear(8, 3, rng=3))
        return model, optim.Adam(model.parameters(), lr=0.01)

    model, opt = setup()
    mine = LOOP.reference(model, nn.CrossEntropyLoss(), opt, DataLoader(X, y, batch_size=16, rng=4), X_val, y_val, 3)
    model, opt = setup()
    history = train.fit(model, nn.CrossEntropyLoss(), opt, DataLoader(X, y, batch_size=16, rng=4), epochs=3,
                        val_data=(X_val, y_val), progress=False)
    assert np.allclose(mine[0], history["loss"]) and np.allclose(mine[1], history["val_loss"])
    assert np.allclose(mine[2], history["val_accuracy"])
    assert LOOP.verdict(LOOP.reference).status == CORRECT


def test_after_a_check_the_reference_trains_the_notebooks_own_model():
    """Only the check's own cases run on untouched copies; a notebook's model is trained in place."""
    LOOP.verdict(LOOP.reference)
    model = nn.Sequential(nn.Linear(2, 3, rng=0))
    before = model[0].weight.data.copy()
    LOOP.reference(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1),
                   DataLoader(np.ones((4, 2)), np.array([0, 1, 2, 0]), batch_size=2), np.ones((2, 2)), np.zeros(2, int), 1)
    assert not np.array_equal(before, model[0].weight.data)


@pytest.mark.parametrize("curve, patience, expected", [
    ([3.0, 2.0, 1.0, 1.5, 1.6, 0.5], 2, (3, 5)),     # stops before the later, lower point
    ([3.0, 2.0, 1.0, 0.9, 0.8], 2, (5, 5)),          # never stops early
    ([1.0, 2.0, 3.0], 1, (1, 2)),                    # the first epoch is the best
    ([2.0, 1.0, 1.5, 1.2, 1.4, 1.3], 3, (2, 5)),     # a dip that does not beat the best does not reset
])
def test_early_stopping_reference_on_hand_made_curves(curve, patience, expected):
    assert STOP.reference(np.array(curve), patience) == expected


def test_untouched_stubs_are_not_done():
    def fit_with_validation(model, loss_fn, optimizer, train_loader, X_val, y_val, epochs):
        """Return train_loss, val_loss, val_accuracy."""
        ...

    def early_stopping(val_loss, patience):
        """Return (best_epoch, stop_epoch)."""
        ...

    assert LOOP.verdict(fit_with_validation).status == NOT_DONE
    assert STOP.verdict(early_stopping).status == NOT_DONE


# --- typical wrong training loops ------------------------------------------------------------------

def test_a_loop_without_zero_grad_is_named():
    def fit_with_validation(model, loss_fn, optimizer, train_loader, X_val, y_val, epochs):
        tl, vl, va = [], [], []
        for _ in range(epochs):
            model.train()
            losses = []
            for xb, yb in train_loader:
                losses.append(loss_fn(model(xb), yb))
                model.backward(loss_fn.backward())
                optimizer.step()
            tl.append(np.mean(losses))
            r = train.evaluate(model, loss_fn, X_val, y_val)
            vl.append(r["loss"]); va.append(r["accuracy"])
        return np.array(tl), np.array(vl), np.array(va)

    verdict = LOOP.verdict(fit_with_validation)
    assert verdict.status == WRONG and "gradients never cleared" in verdict.mistakes
    assert "Call optimizer.zero_grad() before each" in verdict.message


def test_a_loop_that_validates_on_the_training_data_is_named():
    def fit_with_validation(model, loss_fn, optimizer, train_loader, X_val, y_val, epochs):
        tl, vl, va = [], [], []
        for _ in range(epochs):
            model.train()
            losses = []
            for xb, yb in train_loader:
                optimizer.zero_grad()
                losses.append(loss_fn(model(xb), yb))
                model.backward(loss_fn.backward())
                optimizer.step()
            tl.append(np.mean(losses))
            r = train.evaluate(model, loss_fn, train_loader.X, train_loader.y)
            vl.append(r["loss"]); va.append(r["accuracy"])
        return np.array(tl), np.array(vl), np.array(va)

    verdict = LOOP.verdict(fit_with_validation)
    assert verdict.mistakes == ["measured on the training data", "measured on the training data"]
    assert "(train_loss is right)" in verdict.message and "must come from X_val and y_val" in verdict.message


def test_a_loop_that_measures_in_training_mode_is_named():
    def fit_with_validation(model, loss_fn, optimizer, train_loader, X_val, y_val, epochs):
        tl, vl, va = [], [], []
        for _ in range(epochs):
            losses = []
            for xb, yb in train_loader:
                optimizer.zero_grad()
                losses.append(loss_fn(model(xb), yb))
                model.backward(loss_fn.backward())
                optimizer.step()
            tl.append(np.mean(losses))
            scores = model(X_val)                       # dropout still on
            vl.append(loss_fn(scores, y_val)); va.append(np.mean(scores.argmax(axis=1) == y_val))
        return np.array(tl), np.array(vl), np.array(va)

    verdict = LOOP.verdict(fit_with_validation)
    assert "validation measured in training mode" in verdict.mistakes
    assert "Measure in evaluation mode" in verdict.message


def test_a_loop_that_records_the_last_batch_or_returns_lists_gets_specific_messages():
    def last_batch(model, loss_fn, optimizer, train_loader, X_val, y_val, epochs):
        tl, vl, va = [], [], []
        for _ in range(epochs):
            model.train()
            for xb, yb in train_loader:
                optimizer.zero_grad()
                loss = loss_fn(model(xb), yb)
                model.backward(loss_fn.backward())
                optimizer.step()
            tl.append(loss)
            r = train.evaluate(model, loss_fn, X_val, y_val)
            vl.append(r["loss"]); va.append(r["accuracy"])
        return np.array(tl), np.array(vl), np.array(va)

    verdict = LOOP.verdict(last_batch)
    assert verdict.mistakes == ["only the last batch's loss recorded"]
    assert "the mean of the losses of all its batches" in verdict.message

    def as_lists(**kwargs):
        return tuple(list(a) for a in LOOP.reference(**kwargs))

    assert "not a NumPy array" in LOOP.verdict(as_lists).message


# --- typical wrong early stopping -------------------------------------------------------------------

def test_early_stopping_with_argmin_over_the_whole_curve_is_named():
    def early_stopping(val_loss, patience):
        best = int(np.argmin(val_loss)) + 1
        stop = min(best + patience, len(val_loss))
        return best, stop

    verdict = STOP.verdict(early_stopping)
    assert "the best epoch was found by looking ahead" in verdict.mistakes
    assert "uses epochs that early stopping never trains" in verdict.message


def test_early_stopping_counted_from_zero_is_named():
    def early_stopping(val_loss, patience):
        best, waited = 0, 0
        for k in range(1, len(val_loss)):
            if val_loss[k] < val_loss[best]:
                best, waited = k, 0
            else:
                waited += 1
                if waited == patience:
                    return best, k
        return best, len(val_loss) - 1

    verdict = STOP.verdict(early_stopping)
    assert verdict.mistakes == ["epochs counted from 0", "epochs counted from 0"]
    assert "val_loss[0] was measured after epoch 1" in verdict.message


def test_early_stopping_that_keeps_the_last_model_or_counts_rises_is_named():
    def keeps_last(val_loss, patience):
        best, since = np.inf, 0
        for epoch, loss in enumerate(val_loss, start=1):
            since = 0 if loss < best else since + 1
            best = min(best, loss)
            if since == patience:
                return epoch, epoch
        return len(val_loss), len(val_loss)

    def counts_rises(val_loss, patience):
        best_epoch, rises = 1, 0
        for epoch in range(2, len(val_loss) + 1):
            rises = rises + 1 if val_loss[epoch - 1] > val_loss[epoch - 2] else 0
            if val_loss[epoch - 1] < val_loss[best_epoch - 1]:
                best_epoch = epoch
            if rises == patience:
                return best_epoch, epoch
        return best_epoch, len(val_loss)

    assert "keep the model of best_epoch, not of stop_epoch" in STOP.verdict(keeps_last).message
    verdict = STOP.verdict(counts_rises)
    assert "patience counted as rises in a row" in verdict.mistakes
    assert "must not restart the count" in verdict.problems["stop_epoch"]


# --- the committed notebooks -------------------------------------------------------------------


def test_the_lesson_has_the_tagged_cells_and_uses_the_test_set_once():
    cells = json.loads((ROOT / "course" / LESSON).read_text())["cells"]
    tags = [t for c in cells for t in c.get("metadata", {}).get("tags", [])]
    assert tags.count("your-turn") == 2 and tags.count("predict") >= 1
    assert "raises-exception" not in tags
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    # the test set may be loaded, scored once, and reused only after that (confusion, gradients)
    first_use = next(i for i, src in enumerate(code) if "X_test" in src and "load_digits" not in src)
    assert "the one look at the test set" in code[first_use]
    assert not any("val_data=(X_test" in src for src in code)
