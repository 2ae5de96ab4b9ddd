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


def check_grad_out(layer, grad_out, shape: tuple, what: str = "grad_out") -> np.ndarray:
    """grad_out as a float array, or a ShapeError if it does not match the output shape.

    Without this check numpy would broadcast e.g. a (N,) gradient against an (N, 1)
    output into an (N, N) array and backprop would carry on with garbage. ``what`` names
    the gradient in the message when a layer takes several (e.g. an RNN's grad_h_last).
    """
    g = as_float_array(layer, grad_out, what)
    if g.shape != tuple(shape):
        raise ShapeError(
            f"{layer.short_name()}.backward expected {what} of shape {tuple(shape)} (the shape of the forward "
            f"output it is the gradient of) but got {g.shape}. Pass dL/d(output): one entry for every entry "
            f"of that output."
        )
    return g


# --- sequences (RNN, LSTM, SelfAttention, LastStep) -------------------------------------------

_SEQUENCE_HINTS = {
    2: " Got (T, D)? Add a batch axis with x[None] (a batch of one sequence)."
       " Got (N, T) token ids? Turn each id into a vector first, with bplearn.data.one_hot"
       " or an Embedding layer.",
    1: " Got (T,)? Use x.reshape(1, -1, {features}) if it holds {features} features per step.",
}


def check_sequence(layer, x, features: int | None) -> np.ndarray:
    """Return x as a float array of shape (N, T, features) or raise a ShapeError that says why.

    Sequence layers are batch-first, like ``torch.nn.RNN(batch_first=True)``:
    axis 0 is the batch (N), axis 1 is time (T), axis 2 the features at each step.
    features=None accepts any number of features.
    """
    x = as_float_array(layer, x)
    shown = "F" if features is None else features
    if x.ndim != 3:
        hint = _SEQUENCE_HINTS.get(x.ndim, "").format(features=shown)
        raise ShapeError(
            f"{layer.short_name()} expected a batch of sequences of shape (N, T, {shown}) = "
            f"(batch, time, features) but got an array of shape {x.shape} "
            f"with {x.ndim} dimensions.{hint}"
        )
    if features is not None and x.shape[2] != features:
        raise ShapeError(
            f"{layer.short_name()} expected {features} features at each time step (shape (N, T, {features})) "
            f"but got shape {x.shape}, which has {x.shape[2]}. The last axis must match the "
            f"layer's input size; build the layer with that size or fix the data."
        )
    if x.shape[1] == 0:
        raise ShapeError(f"{layer.short_name()} got sequences with no time steps (shape {x.shape}); T must be >= 1.")
    return x


def check_state(layer, state, name: str, batch: int, hidden: int, dtype) -> np.ndarray:
    """Return an initial state of shape (N, H): zeros if ``state`` is None, else the checked array."""
    if state is None:
        return np.zeros((batch, hidden), dtype=dtype)
    state = as_float_array(layer, state, what=name)
    if state.shape != (batch, hidden):
        raise ShapeError(
            f"{layer.short_name()}: {name} must have shape (N, H) = ({batch}, {hidden}), one hidden state per "
            f"sequence in the batch, but got {state.shape}."
            + (f" Got (H,)? Use {name}[None] for a batch of one." if state.ndim == 1 else "")
        )
    return state


def check_bptt_steps(bptt_steps):
    """None (full BPTT) or a positive int."""
    if bptt_steps is not None and (not isinstance(bptt_steps, (int, np.integer)) or bptt_steps < 1):
        raise ValueError(f"bptt_steps must be None (full BPTT) or a positive integer, got {bptt_steps!r}.")
    return bptt_steps
