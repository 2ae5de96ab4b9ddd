"""Errors a learner can act on.

Every exception raised for a learner mistake comes from here, so a message always
names *what* was wrong (which layer, which shapes) and *how* to fix it, instead of
surfacing as a broadcasting error deep inside numpy or as a silent NaN.
"""
from __future__ import annotations

import numpy as np


class BplearnError(Exception):
    """Base class of every error bplearn raises on purpose."""


class ShapeError(BplearnError, ValueError):
    """An array had the wrong number of dimensions or the wrong size."""


class BackwardBeforeForwardError(BplearnError, RuntimeError):
    """backward() was called before forward() stored what it needs."""


class NonFiniteError(BplearnError, FloatingPointError):
    """A loss or gradient became NaN or infinite."""


class LabelError(BplearnError, ValueError):
    """Class labels were not integers in [0, num_classes)."""


class DTypeError(BplearnError, TypeError):
    """An input had a dtype bplearn cannot compute gradients with."""


class ProbabilityError(BplearnError, ValueError):
    """Predictions that must be probabilities lay outside [0, 1]."""


class GradcheckError(BplearnError, AssertionError):
    """An analytic gradient disagreed with finite differences."""


class GradingFeedback(BplearnError, AssertionError):
    """A self-check answer differs from the reference; the message says how, and why it might."""


class StopTraining(Exception):
    """Raise this inside a training callback to end ``fit`` after the current batch.

    Control flow, not an error, so it does not derive from BplearnError.
    """


def _name(where) -> str:
    """A readable name for a layer instance, a class, or a plain string."""
    if isinstance(where, str):
        return where
    return type(where).__name__


def _fmt(shape) -> str:
    return "(" + ", ".join("N" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _matches(expected, size) -> bool:
    """None or a name such as "H" matches any size; an int must match exactly."""
    return expected is None or isinstance(expected, str) or expected == size


def as_float_array(where, x, what: str = "input") -> np.ndarray:
    """Return ``x`` as a float ndarray, or raise DTypeError explaining why it cannot be.

    x: array-like of any shape -> ndarray of the same shape. Lists, bool and integer
    arrays are converted to float64; float32/float64 arrays are returned as they are.
    """
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise DTypeError(f"{_name(where)}: could not turn the {what} into an array ({exc}).") from None
    if arr.dtype in (np.float32, np.float64):
        return arr
    if arr.dtype == bool or np.issubdtype(arr.dtype, np.number) and not np.issubdtype(arr.dtype, np.complexfloating):
        return arr.astype(np.float64)
    raise DTypeError(
        f"{_name(where)}: the {what} has dtype {arr.dtype}, but bplearn needs real numbers. "
        f"Convert it first, e.g. np.asarray(x, dtype=float)."
    )


def check_shape(where, x: np.ndarray, expected: tuple, hint: str = "") -> None:
    """Raise ShapeError unless ``x.shape`` matches ``expected``.

    Entries of ``expected``: an int must match exactly; None (shown as N) or a name
    such as "H" matches any size and is shown as written in the message.

    >>> check_shape("Linear(3, 2)", np.zeros((4, 5)), (None, 3))
    Traceback (most recent call last):
    ...
    bplearn.errors.ShapeError: Linear(3, 2) expected input of shape (N, 3) but got (4, 5). ...
    """
    ok = x.ndim == len(expected) and all(_matches(e, s) for e, s in zip(expected, x.shape))
    if not ok:
        label = where if isinstance(where, str) else repr(where)
        msg = f"{label} expected input of shape {_fmt(expected)} but got {_fmt(x.shape)}."
        if x.ndim != len(expected):
            msg += f" It needs {len(expected)} dimensions, the input has {x.ndim}."
        raise ShapeError(msg + (" " + hint if hint else ""))


def check_finite(value, what: str, hint: str = "") -> None:
    """Raise NonFiniteError if ``value`` contains NaN or inf."""
    if not np.all(np.isfinite(value)):
        raise NonFiniteError(
            f"{what} is not finite (NaN or inf). "
            + (hint or "This usually means the learning rate is too high or the inputs are not scaled.")
        )


def check_grad_out(layer, grad_out, shape: tuple) -> np.ndarray:
    """grad_out as a float array, or a ShapeError if it does not match the output shape.

    Without this check numpy would broadcast e.g. a (N,) gradient against an (N, 1)
    output into an (N, N) array and backprop would carry on with garbage.
    """
    g = as_float_array(layer, grad_out, "grad_out")
    if g.shape != tuple(shape):
        raise ShapeError(
            f"{layer.short_name()}.backward expected grad_out of shape {tuple(shape)} (the shape of its last output) "
            f"but got {g.shape}. Pass dL/d(output): one entry for every entry of the output."
        )
    return g
