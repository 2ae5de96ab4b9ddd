"""Loss functions: one number that says how far the predictions are from the targets.

Every loss here follows the same contract:

    loss = loss_fn(pred, target)   # a Python float; caches what backward needs
    grad = loss_fn.backward()      # dL/d(pred), same shape as pred -> model.backward(grad)

``reduction="mean"`` (the default) averages the per-example losses, ``"sum"`` adds
them; the gradient is scaled the same way. MSE and the binary cross-entropies average
over every element of ``pred``, CrossEntropyLoss over the N rows, as in PyTorch.

Which loss? Regression: MSELoss. One class out of C: CrossEntropyLoss on raw scores.
Yes/no (possibly several per example): BCEWithLogitsLoss on raw scores, or BCELoss
on probabilities that already went through a Sigmoid.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import (LabelError, ProbabilityError, ShapeError, as_float_array, check_choice, check_finite,
                      check_input)
from .activations import sigmoid
from .module import Module

EPS = 1e-12
"""BCELoss clamps p and 1 - p to at least EPS before the log, so log never sees 0."""


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """log(softmax(x)) along ``axis`` without overflow.  x: any shape -> same shape.

    log softmax(x)_i = x_i - logsumexp(x), and logsumexp(x) = m + log(sum(exp(x - m)))
    with m = max(x): every exponent is <= 0, and taking the log of the sum directly
    avoids log(0) for classes whose probability underflows.
    """
    shifted = x - x.max(axis=axis, keepdims=True)          # every entry <= 0
    shifted -= np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return shifted


def one_hot(labels, num_classes: int, dtype=np.float64, where: str = "one_hot") -> np.ndarray:
    """Integer labels of any shape -> one-hot vectors, shape labels.shape + (num_classes,), in ``dtype``.

    Raises LabelError (naming ``where``) unless the labels are integers in [0, num_classes).
    """
    labels = np.asarray(labels)
    if not np.issubdtype(labels.dtype, np.integer):
        raise LabelError(
            f"{where}: class labels must be integers, but the target has dtype {labels.dtype}. "
            "Whole numbers stored as floats: pass target.astype(int). Probabilities or one-hot rows: "
            f"pass them with shape (N, {num_classes})."
        )
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = np.flatnonzero((labels < 0) | (labels >= num_classes))
        flat = labels.reshape(-1)
        shown = ", ".join(f"{flat[i]} at index {i}" for i in bad[:5])
        shown += f" and {bad.size - 5} more" if bad.size > 5 else ""
        raise LabelError(
            f"{where}: labels must be in [0, {num_classes}) because there are {num_classes} classes "
            f"(columns of the logits), but got {shown}. Labels that start at 1 need 1 subtracted; with more "
            "classes, give the last layer that many outputs."
        )
    return np.eye(num_classes, dtype=dtype)[labels]         # entry [..., c] is 1 where labels == c


class Loss(Module):
    """Base class: ``loss_fn(pred, target) -> float`` then ``loss_fn.backward() -> dL/d(pred)``.

    Unlike a layer's ``backward(grad_out)``, a loss's ``backward()`` takes no argument: the
    loss is where the backward pass starts, and the only gradient that could come in is
    dL/dL = 1. So it returns dL/d(pred), the grad_out of the model's last layer.
    """

    def __init__(self, reduction: str = "mean"):
        self.reduction = check_choice(type(self).__name__, "reduction", reduction, ("mean", "sum"))

    def forward(self, pred, target) -> float:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement forward(pred, target)")

    def backward(self):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement backward()")

    def _scale(self, count: int) -> float:
        """d(reduction)/d(each term): 1/count for a mean, 1 for a sum."""
        return 1.0 / count if self.reduction == "mean" else 1.0

    def _reduce(self, losses: np.ndarray, count: int, pred: np.ndarray) -> float:
        """Add up the per-example losses (dividing by count for a mean); refuse NaN/inf.

        The inputs were checked to be finite, so a NaN/inf here means the loss itself overflowed.
        """
        if count == 0:
            raise ShapeError(f"{self.short_name()} got an empty batch (pred has shape {pred.shape}): "
                             "there is nothing to average.")
        value = float(np.sum(losses) * self._scale(count))
        if not math.isfinite(value):                         # the message is built only when needed
            check_finite(value, f"the {type(self).__name__} value",
                         f"The predictions are finite but so large (up to {np.max(np.abs(pred)):.3g}) that the "
                         "loss overflowed: the model has diverged; try a smaller learning rate or scale the inputs.")
        return value

    def _target(self, target, dtype) -> np.ndarray:
        """Targets as an array in the predictions' dtype, checked for NaN/inf.

        Targets carry no gradient, so unlike a layer's input they are converted to the
        predictions' dtype: float64 data and integer labels work with a float32 model,
        and the gradient p - y stays in the model's dtype.
        """
        return check_input(self, as_float_array(self, target, "target").astype(dtype, copy=False), None, "target")

    def _pair(self, pred, target) -> tuple[np.ndarray, np.ndarray]:
        """pred and target as float arrays of the same shape, or a ShapeError saying how to fix it."""
        pred = check_input(self, pred, None, "prediction")
        target = self._target(target, pred.dtype)
        if pred.shape != target.shape:
            if pred.size == target.size:
                fix = f"They hold the same number of values, so reshape one: target = target.reshape{pred.shape}."
            else:
                fix = (f"They hold different numbers of values ({pred.size} vs {target.size}): check that "
                       "pred and target come from the same batch.")
            try:  # the silent bug this check prevents, when numpy would happily broadcast
                both = np.broadcast_shapes(pred.shape, target.shape)
                fix += (f" Without this check numpy would broadcast them to {both} and pair predictions "
                        "with the wrong targets.")
            except ValueError:
                pass
            raise ShapeError(f"{self.short_name()} got pred of shape {pred.shape} and target of shape "
                             f"{target.shape}; they must have the same shape, one target per prediction. {fix}")
        return pred, target

    def _check_unit_targets(self, t: np.ndarray) -> None:
        """Binary targets must be 0/1 labels or probabilities (NaN is left to the finiteness check)."""
        if np.any((t < 0) | (t > 1)):
            raise LabelError(
                f"{self.short_name()}: targets must be in [0, 1] (0/1 labels or probabilities), but they range from "
                f"{np.nanmin(t):g} to {np.nanmax(t):g}. For labels -1/+1 use (t + 1) / 2; for class "
                "indices 0..C-1 with more than two classes use CrossEntropyLoss."
            )

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(Loss):
    """Mean squared error, for regression.

    pred: any shape, target: the same shape -> loss: float, mean of (pred - target)**2
    over all elements (or the sum).
    backward: dL/dpred = 2 (pred - target) / n, with n the number of elements (1 for "sum").
    """

    def forward(self, pred, target) -> float:
        pred, target = self._pair(pred, target)
        diff = pred - target                                 # same shape as pred
        value = self._reduce(diff**2, diff.size, pred)
        self._diff = diff                                    # cache: the gradient is linear in diff
        return value

    def backward(self):
        diff = self._require_cache("_diff")
        return 2.0 * diff * self._scale(diff.size)          # same shape as pred


class CrossEntropyLoss(Loss):
    """Softmax and negative log-likelihood in one step, for classification into C classes.

    pred: logits (N, C), the raw scores of the last Linear layer (no Softmax before it)
    target: class labels (N,), integers in [0, C), or probabilities (N, C) whose rows sum to 1
    -> loss: float, mean over the N examples (or the sum)

    With p = softmax(logits) and y the one-hot labels (or the target probabilities),
    loss_n = -sum_c y_nc log p_nc. log p comes from log_softmax, so logits as large as
    1e4 give a finite loss.
    backward: dL/dlogits = p - y (divided by N for "mean"): the predicted probabilities
    minus the targets, the simplest gradient in deep learning.
    """

    def forward(self, pred, target) -> float:
        logits = check_input(self, pred, None, "logits")
        if logits.ndim != 2:
            raise ShapeError(
                f"{self.short_name()} expects logits of shape (N, C), one row per example and one column per class, "
                f"but got shape {logits.shape}. For a single example use logits.reshape(1, -1); for two "
                "classes with one score each, use BCEWithLogitsLoss."
            )
        y = self._target_matrix(target, logits.shape, logits.dtype)  # (N, C) one-hot or probabilities
        log_p = log_softmax(logits, axis=1)                  # (N, C)
        value = self._reduce(-np.sum(y * log_p, axis=1), len(logits), logits)
        self._p, self._y = np.exp(log_p), y                  # cache: the gradient is p - y
        return value

    def backward(self):
        p, y = self._require_cache("_p", "_y")
        return (p - y) * self._scale(len(p))                # (N, C)

    def _target_matrix(self, target, shape: tuple, dtype) -> np.ndarray:
        """Labels (N,) -> one-hot (N, C); probabilities (N, C) are checked and returned, both in ``dtype``."""
        n, c = shape
        target = np.asarray(target)
        if target.ndim == 1:
            if len(target) != n:
                raise LabelError(
                    f"{self.short_name()} got {len(target)} labels for {n} rows of logits; it needs exactly one "
                    "label per row. Check that the logits and labels come from the same batch."
                )
            return one_hot(target, c, dtype, where=self.short_name())
        y = self._target(target, dtype)
        if y.shape != shape:
            fix = " If these are labels, flatten them with target.reshape(-1)." if y.shape == (n, 1) else ""
            raise ShapeError(
                f"{self.short_name()} got logits of shape {shape} and target of shape {y.shape}. The target must be "
                f"integer labels of shape ({n},) or probabilities of shape {shape}.{fix}"
            )
        sums = y.sum(axis=1)
        bad = np.flatnonzero(~(np.abs(sums - 1.0) <= 1e-6) | np.any(y < 0, axis=1))  # ~(<=) also catches NaN
        if bad.size:
            i = bad[0]
            negative = " and has negative entries" if np.any(y[i] < 0) else ""
            raise LabelError(
                f"{self.short_name()}: each row of a probability target must be non-negative and sum to 1, "
                f"but row {i} sums to {sums[i]:.6g}{negative}; {bad.size} of {n} rows are off. One-hot rows "
                "need exactly one 1; scores must be normalised first (e.g. softmax); class indices go in an "
                f"integer array of shape ({n},)."
            )
        return y


class BCELoss(Loss):
    """Binary cross-entropy on probabilities (e.g. the output of a Sigmoid).

    pred: probabilities in [0, 1], any shape, e.g. (N, 1)
    target: the same shape, values in [0, 1] (0/1 labels or soft labels)
    -> loss: float, mean over all elements (or the sum)

    loss = -(t log p + (1 - t) log(1 - p)). p and 1 - p are clamped to at least EPS = 1e-12
    before the log, so a prediction of exactly 0 or 1 costs at most -log(1e-12) ~ 27.6
    instead of inf.
    backward: dL/dp = (p - t) / (p (1 - p)), with the denominator clamped to EPS as well.
    BCEWithLogitsLoss on the raw scores needs no clamp and is the more stable choice.
    """

    def forward(self, pred, target) -> float:
        p, t = self._pair(pred, target)
        if np.any((p < 0) | (p > 1)):
            raise ProbabilityError(
                f"{self.short_name()} expects predicted probabilities in [0, 1], but pred ranges from "
                f"{np.nanmin(p):g} to {np.nanmax(p):g}. Did you forget a Sigmoid at the end of the model, or do "
                "you want BCEWithLogitsLoss, which takes the raw scores directly?"
            )
        self._check_unit_targets(t)
        losses = -(t * np.log(np.maximum(p, EPS)) + (1 - t) * np.log(np.maximum(1 - p, EPS)))
        value = self._reduce(losses, p.size, p)
        self._p, self._t = p, t                              # cache: the gradient needs both
        return value

    def backward(self):
        p, t = self._require_cache("_p", "_t")
        # -t/p + (1 - t)/(1 - p) over a common denominator:
        return (p - t) / np.maximum(p * (1 - p), EPS) * self._scale(p.size)   # same shape as pred


class BCEWithLogitsLoss(Loss):
    """Sigmoid and binary cross-entropy in one step, on raw scores.

    pred: logits x (any real numbers), any shape, e.g. (N, 1)
    target: the same shape, values in [0, 1]
    -> loss: float, mean over all elements (or the sum)

    With p = sigmoid(x), -(t log p + (1 - t) log(1 - p)) simplifies to log(1 + exp(x)) - x t,
    computed as max(x, 0) - x t + log1p(exp(-|x|)) so exp only ever sees numbers <= 0.
    backward: dL/dx = sigmoid(x) - t (divided by n for "mean").
    """

    def forward(self, pred, target) -> float:
        x, t = self._pair(pred, target)
        self._check_unit_targets(t)
        losses = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))   # same shape as x
        value = self._reduce(losses, x.size, x)
        self._x, self._t = x, t                              # cache: the gradient needs both
        return value

    def backward(self):
        x, t = self._require_cache("_x", "_t")
        return (sigmoid(x) - t) * self._scale(x.size)        # same shape as pred
