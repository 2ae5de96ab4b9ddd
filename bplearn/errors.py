"""Errors a learner can act on.

Every exception raised for a learner mistake comes from here, so a message always
names *what* was wrong (which layer, which shapes) and *how* to fix it, instead of
surfacing as a broadcasting error deep inside numpy or as a silent NaN.
"""
from __future__ import annotations

import math

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


class NotANotebook(BplearnError, ValueError):
    """The submission cannot be read as a Jupyter notebook."""


class CellTimeout(BplearnError):
    """A cell or a probe ran longer than the per-cell time limit."""


class SandboxError(BplearnError, RuntimeError):
    """The sandbox was required but cannot be used here; the message says why and what to do."""


class SpecError(BplearnError, ValueError):
    """A judge spec that does not follow the format; the message names the file and the fix."""


class StopTraining(Exception):
    """Raise this inside a training callback to end ``fit`` after the current batch.

    Control flow, not an error, so it does not derive from BplearnError.
    """


def _name(where) -> str:
    """A readable name for a layer instance, a class, or a plain string."""
    if isinstance(where, str):
        return where
    return type(where).__name__


def _label(where) -> str:
    """A layer's one-line description with its sizes (e.g. 'Linear(in_features=3, ...)'), else its name."""
    short = getattr(where, "short_name", None)
    return short() if callable(short) and not isinstance(where, type) else _name(where)


def _fmt(shape) -> str:
    return "(" + ", ".join("N" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _matches(expected, size) -> bool:
    """None or a name such as "H" matches any size; an int must match exactly."""
    return expected is None or isinstance(expected, str) or expected == size


FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
"""The dtypes bplearn computes in, as PyTorch does on the CPU: float64 (the default here,
exact enough for gradient checks) and float32 (``model.to(np.float32)``, for speed)."""


def check_dtype(where, dtype) -> np.dtype:
    """Return ``dtype`` if bplearn can compute in it (float32 or float64), else raise DTypeError."""
    dtype = np.dtype(dtype)
    if dtype not in FLOAT_DTYPES:
        raise DTypeError(f"{_name(where)}: dtype {dtype} is not supported; bplearn computes in float32 or "
                         f"float64 (float16 is not supported: its 3 significant digits are too few for gradients).")
    return dtype


def as_float_array(where, x, what: str = "input", dtype=None) -> np.ndarray:
    """Return ``x`` as a float32 or float64 ndarray, or raise DTypeError explaining why it cannot be.

    x: array-like of any shape -> ndarray of the same shape. The dtype policy, as in PyTorch:

    * a float32 or float64 array is returned as it is, never copied or cast. If ``dtype``
      is given (a layer's parameter dtype) and differs, DTypeError: mixing precisions
      would silently change the dtype of everything downstream;
    * integer and bool arrays, lists and numbers are converted to ``dtype`` (float64 if
      None): their values are exact in either precision. Unlike PyTorch, which refuses
      integer input to a layer, this lets a learner write ``layer([[1, 0]])``;
    * float16 and every other dtype (complex, strings, objects) raise DTypeError.
    """
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise DTypeError(f"{_name(where)}: could not turn the {what} into an array ({exc}).") from None
    if arr.dtype in FLOAT_DTYPES and isinstance(x, (np.ndarray, np.generic)):
        return _same_precision(where, arr, dtype, what)
    if np.issubdtype(arr.dtype, np.floating):
        check_dtype(where, arr.dtype)                        # float16, longdouble: not supported
    if arr.dtype == bool or np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating):
        return arr.astype(np.float64 if dtype is None else dtype)
    raise DTypeError(
        f"{_name(where)}: the {what} has dtype {arr.dtype}, but bplearn needs real numbers. "
        f"Convert it first, e.g. np.asarray(x, dtype=float)."
    )


def _same_precision(where, arr: np.ndarray, dtype, what: str) -> np.ndarray:
    """``arr`` if ``dtype`` is None or its own dtype, else the DTypeError that names both fixes."""
    if dtype is not None and arr.dtype != dtype:
        raise DTypeError(
            f"{_name(where)} has {np.dtype(dtype)} parameters but the {what} is {arr.dtype}. bplearn never "
            f"casts silently: call model.to(np.{arr.dtype}) to compute in {arr.dtype}, or cast the {what} "
            f"with .astype(np.{np.dtype(dtype)})."
        )
    return arr


def all_finite(a: np.ndarray) -> bool:
    """True if no entry of the float array ``a`` (any shape) is NaN or inf.

    Every layer runs this on what enters it, so it must be cheap. The sum of squares a·a is
    one BLAS dot product (no temporary array) and is finite exactly when every entry is, unless
    the squares overflow (entries beyond about 1e19 in float32, 1e154 in float64); only then
    are the entries tested one by one.
    """
    flat = a.ravel(order="K")                    # a view whenever a is one block of memory in any order
    with np.errstate(over="ignore", invalid="ignore"):   # overflow here is expected, not the learner's
        squares = np.dot(flat, flat)
    return math.isfinite(squares) or bool(np.isfinite(a).all())


def check_input(where, x, dtype=None, what: str = "input") -> np.ndarray:
    """What every layer and loss runs on an array entering it: dtype policy, then NaN/inf.

    x -> ndarray (see ``as_float_array`` for the dtype rules, with ``dtype`` the layer's
    parameter dtype or None). A NaN or inf raises NonFiniteError naming ``where``, so
    a blow-up is caught at the first layer it reaches rather than as a NaN loss later.
    """
    arr = as_float_array(where, x, what, dtype)
    if not all_finite(arr):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise NonFiniteError(
            f"{_label(where)}: NaN or inf in the {what} ({bad} of {arr.size} values). If it comes from the "
            f"layer before, training has diverged: try a smaller learning rate or clip_norm; if it is your data, "
            f"clean it first (np.isfinite(x).all() must be True)."
        )
    return arr


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


def check_grad_out(layer, grad_out, shape: tuple, dtype=None, what: str = "grad_out") -> np.ndarray:
    """grad_out checked like a layer input (``check_input``) and against the output's shape.

    Without the shape check numpy would broadcast e.g. a (N,) gradient against an (N, 1)
    output into an (N, N) array and backprop would carry on with garbage. ``dtype``: the
    layer's parameter dtype (None: float32 or float64 both pass). ``what`` names the
    gradient when a layer takes several (e.g. an RNN's grad_h_last).
    """
    g = check_input(layer, grad_out, dtype, what)
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


def check_sequence(layer, x, features: int | None, dtype=None) -> np.ndarray:
    """Return x as a float array of shape (N, T, features) or raise a ShapeError that says why.

    Sequence layers are batch-first, like ``torch.nn.RNN(batch_first=True)``:
    axis 0 is the batch (N), axis 1 is time (T), axis 2 the features at each step.
    features=None accepts any number of features; dtype as in ``check_input``.
    """
    x = check_input(layer, x, dtype)
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
    state = check_input(layer, state, dtype, name)
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


# --- arguments (sizes, rates, options) of layers, optimisers, data and training -------------------

def check_count(where: str, name: str, value, minimum: int = 1) -> int:
    """Return ``value`` as an int, or raise: TypeError if it is not a whole number, ValueError if < minimum."""
    message = f"{where}: {name} must be a whole number >= {minimum}, got {value!r}."
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(message)
    if value < minimum:
        raise ValueError(message)
    return int(value)


def check_number(where: str, name: str, value, low: float = -np.inf, high: float = np.inf,
                 low_inclusive: bool = True, high_inclusive: bool = False) -> float:
    """Return ``value`` as a float, or raise: TypeError if it is not a number, ValueError if out of range.

    The range is [low, high) by default; the message shows it with the right brackets.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{where}: {name} must be a number, got {value!r} ({type(value).__name__}).")
    value = float(value)
    above = value >= low if low_inclusive else value > low
    below = value <= high if high_inclusive else value < high
    if not (above and below):  # also rejects NaN
        left, right = "[" if low_inclusive else "(", "]" if high_inclusive else ")"
        raise ValueError(f"{where}: {name} must be in {left}{low:g}, {high:g}{right}, got {value!r}.")
    return value


def check_choice(where: str, name: str, value, choices: tuple):
    """Return ``value`` if it is one of ``choices``, else a ValueError listing them."""
    if value not in choices:
        shown = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{where}: {name} must be one of {shown}; got {value!r}.")
    return value
