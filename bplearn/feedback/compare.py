"""Self-checks that explain *why* an answer is wrong, not just that it is.

A bare ``assert np.allclose(dW, expected)`` tells a learner nothing. These helpers
compare an answer with a reference and, when they differ, look for the usual
backprop mistakes and name them:

=============================  ===================================================
what the answer looks like     what the message says
=============================  ===================================================
``None``                       the function forgot to ``return`` it
a list, a string, ...          it is not a NumPy array (or not a number)
NaN or inf inside              where, and the usual causes (log(0), exp overflow)
the transposed shape           it looks transposed; a gradient is shaped like
                               the variable it belongs to
one axis too many              an axis (usually the batch) was not summed over
-1 x expected                  a sign is flipped
N x or 1/N x expected          the average over the batch is missing or doubled
2 x or 1/2 x expected          a factor 2 is missing or counted twice
c x expected                   some other constant factor is off
the transpose of expected      the matrix product is the wrong way round
all zeros                      nothing was added in (or the result never returned)
=============================  ===================================================

A wrong answer raises :class:`GradingFeedback` (an ``AssertionError``, so nbgrader
and pytest count it as a failed test) with that message; a right one prints a short
line starting with "✓".

    check_gradient("dW", dW, expected_dW, batch_size=8, like="the weight W, (out, in)")
    check_close("loss", loss, expected_loss)
    check_scalar("dL/dw", dw, -0.4)
"""
from __future__ import annotations

import numbers

import numpy as np

from ..errors import GradingFeedback, _fmt as _shape  # shapes read "(3, 4)", "(3,)", as in the layers' errors

__all__ = ["GradingFeedback", "check_gradient", "check_close", "check_scalar", "diagnose", "scalar_problem"]


def check_gradient(name: str, yours, expected, *, batch_size: int | None = None, like: str = "",
                   hint: str = "", rtol: float = 1e-5, atol: float = 1e-8, quiet: bool = False) -> None:
    """Check a gradient array against a reference (usually finite differences).

    name: how the learner calls it ("dW").
    yours: the learner's answer; right only if it is an array of expected's shape.
    expected: the reference, an array of any shape, e.g. (out_features, in_features) for dW.
    batch_size: N of the mini-batch, so a missing 1/N can be recognised.
    like: what the gradient must be shaped like, e.g. "the weight W, (out_features, in_features)".
    hint: appended when the mistake is none of the common ones.
    The tolerances are looser than for check_close because finite differences are
    only accurate to about 1e-7; a wrong gradient is off by far more.
    """
    __tracebackhide__ = True  # IPython and pytest then show the learner's line, not ours
    message = diagnose(name, yours, expected, rtol, atol, batch_size, like, hint, gradient=True)
    if message:
        raise GradingFeedback(message)
    if not quiet:
        print(f"✓ {name} is correct (shape {_shape(np.shape(expected))}).")


def check_close(name: str, yours, expected, *, batch_size: int | None = None, hint: str = "",
                rtol: float = 1e-7, atol: float = 1e-10, quiet: bool = False) -> None:
    """Check an array (or number) against an exactly computed reference value.

    yours, expected: arrays of the same shape (any shape), or two numbers.
    Same diagnoses as check_gradient, with tighter default tolerances.
    """
    __tracebackhide__ = True
    message = diagnose(name, yours, expected, rtol, atol, batch_size, "", hint, gradient=False)
    if message:
        raise GradingFeedback(message)
    if not quiet:
        shape = np.shape(expected)
        print(f"✓ {name} is correct" + (f" (shape {_shape(shape)})." if shape else "."))


def check_scalar(name: str, yours, expected: float, *, batch_size: int | None = None, hint: str = "",
                 rtol: float = 1e-7, atol: float = 1e-10, quiet: bool = False) -> None:
    """Check a single real number, e.g. a loss or a hand-derived derivative.

    yours: a Python or NumPy number (np.float64); anything else (an array, even of shape
    () or (1,), a tuple, None) is explained first.  expected: a number.
    """
    __tracebackhide__ = True
    message = scalar_problem(name, yours)
    if message is None:
        message = diagnose(name, float(yours), float(expected), rtol, atol, batch_size, "", hint,
                            gradient=False)
    if message:
        raise GradingFeedback(message)
    if not quiet:
        print(f"✓ {name} is correct.")


# --- diagnosis ---------------------------------------------------------------------------

def diagnose(name, yours, expected, rtol=1e-7, atol=1e-10, batch_size=None, like="", hint="",
             gradient=False) -> str | None:
    """Return a message describing the first problem found, or None if ``yours`` is right.

    name: what the learner calls the quantity ("dW"); yours: their answer (anything);
    expected: the reference array or number. The message names the quantity, the
    expected and received shape or value, and the likely mistake when one is recognised.
    """
    expected = np.asarray(expected, dtype=np.float64)
    if not np.all(np.isfinite(expected)):
        raise ValueError(f"the reference value for {name} is not finite; the check itself is broken.")
    problem = _type_problem(name, yours)
    if problem:
        return problem
    yours = np.asarray(yours, dtype=np.float64)
    problem = _nonfinite_problem(name, yours) or _shape_problem(name, yours, expected, like, gradient)
    if problem:
        return problem
    if _close(yours, expected, rtol, atol):
        return None
    return _value_problem(name, yours, expected, rtol, atol, batch_size, hint)


def _type_problem(name, yours) -> str | None:
    if yours is None:
        return (f"{name} is None. Did your function forget to `return` it? "
                "(A function without a return statement gives back None.)")
    if isinstance(yours, np.ndarray):
        if not (np.issubdtype(yours.dtype, np.number) or yours.dtype == bool):  # object, str, ...
            return f"{name} is an array of dtype {yours.dtype}; it should hold real numbers (float64)."
        if np.issubdtype(yours.dtype, np.complexfloating):
            return f"{name} has complex numbers in it; a gradient of a real loss is real."
        return None
    if isinstance(yours, numbers.Real):
        return None
    if isinstance(yours, (list, tuple)):
        kind = type(yours).__name__
        return (f"{name} is a {kind} of length {len(yours)}, not a NumPy array. Build arrays with "
                f"numpy operations (or np.array(...)); if you returned several values, "
                f"check that you unpacked them in the right order.")
    return f"{name} should be a NumPy array of numbers, but it is a {type(yours).__name__}: {_short(yours)}."


def scalar_problem(name, yours) -> str | None:
    if isinstance(yours, (bool, np.bool_)):
        return f"{name} is {yours}, a boolean; it should be a number."
    if isinstance(yours, numbers.Real):
        return None
    if isinstance(yours, np.ndarray) and np.issubdtype(yours.dtype, np.number):
        if yours.size == 1:
            return (f"{name} is an array of shape {_shape(yours.shape)}, but a single number is "
                    f"expected. Take the number out with float(...) or .item().")
        return (f"{name} is an array of shape {_shape(yours.shape)}, but a single number is "
                f"expected. Did you forget to sum (or average) over some axis?")
    return _type_problem(name, yours) or f"{name} should be a single number, not a {type(yours).__name__}."


def _nonfinite_problem(name, yours) -> str | None:
    bad = ~np.isfinite(yours)
    if not bad.any():
        return None
    what = "NaN" if np.isnan(yours).any() else "inf"
    where = "" if yours.ndim == 0 else (
        f" ({int(bad.sum())} of {yours.size} entries, the first at index "
        f"{tuple(int(i) for i in np.argwhere(bad)[0])})")
    return (f"{name} contains {what}{where}. NaN and inf usually come from log(0), 0/0 or exp() "
            "of a large number overflowing: subtract the maximum before exp() (softmax), and "
            "keep probabilities away from 0 before taking log().")


def _shape_problem(name, yours, expected, like, gradient) -> str | None:
    if yours.shape == expected.shape:
        return None
    got, want = _shape(yours.shape), _shape(expected.shape)
    head = f"{name} has shape {got} but should have shape {want}"
    shaped_like = f" {name} should be shaped like {like}." if like else (
        " A gradient always has the same shape as the variable it is the gradient of." if gradient else "")
    if yours.ndim >= 2 and yours.shape == expected.shape[::-1]:
        return f"{head}: it looks transposed.{shaped_like}"
    if yours.ndim == expected.ndim + 1:
        for axis in range(yours.ndim):
            if yours.shape[:axis] + yours.shape[axis + 1:] == expected.shape:
                batch = " (the batch axis)" if axis == 0 else ""
                return (f"{head}. It has one axis too many: did you forget to sum over axis "
                        f"{axis}{batch}? Every example in the batch contributes to {name}.")
    if yours.size == expected.size:
        return f"{head}. It has the right number of entries, so check how you reshaped or flattened it."
    return f"{head}.{shaped_like}"


def _value_problem(name, yours, expected, rtol, atol, batch_size, hint) -> str:
    single = yours.size == 1  # any two numbers differ by "a constant factor": name only telling ones
    if not yours.any():
        return (f"{name} is {'0' if single else 'all zeros'}, but it should not be. Did you compute it "
                "but never add it into the result (or never return it)?")
    factor = _constant_factor(yours, expected, rtol, atol)
    if factor is not None:
        message = _describe_factor(factor, batch_size, generic=not single)
        if message:
            return f"{name} {message}"
    if yours.ndim == 2 and yours.shape[0] == yours.shape[1] and _close(yours.T, expected, rtol, atol):
        return (f"{name} equals the transpose of the expected value. Check the order of the "
                "matrix product (e.g. dout.T @ x versus x.T @ dout).")
    return _mismatch(name, yours, expected, rtol, atol) + (f" Hint: {hint}" if hint else "")


def _constant_factor(yours, expected, rtol, atol) -> float | None:
    """The c with yours == c * expected (c != 0), if there is one."""
    norm2 = float(np.sum(expected * expected))
    if norm2 == 0.0:
        return None
    c = float(np.sum(yours * expected)) / norm2  # least-squares fit of yours ~ c * expected
    if c == 0.0 or not _close(yours, c * expected, rtol, atol * abs(c)):
        return None
    return c


def _describe_factor(c: float, batch_size: int | None, generic: bool) -> str | None:
    """Explain yours == c * expected; None if c says nothing specific (and generic is False)."""
    size, lead = abs(c), ("has the wrong sign and " if c < 0 else "")

    def near(value: float) -> bool:
        return abs(size - value) <= 1e-6 * value

    if c < 0 and near(1.0):
        return ("has the right size but the opposite sign. Look for a flipped subtraction, "
                "e.g. (target - prediction) where (prediction - target) belongs.")
    if batch_size and batch_size > 1 and near(batch_size):
        return (f"{lead}is {batch_size} times too large, and {batch_size} is the batch size. Did you "
                "average the loss over the batch? A mean over N examples puts a factor 1/N in every gradient.")
    if batch_size and batch_size > 1 and near(1.0 / batch_size):
        return (f"{lead}is {batch_size} times too small, and {batch_size} is the batch size. Did you "
                "divide by the batch size twice, or where the loss is a sum rather than a mean?")
    if near(2.0):
        return (f"{lead}is twice the expected value: a factor 2 is counted twice "
                "(for example once from d/dx x^2 = 2x and once more by hand).")
    if near(0.5):
        return (f"{lead}is half the expected value: a factor 2 is missing. The derivative of "
                "(something)^2 is 2 * (something) * d(something).")
    if not generic:
        return None
    message = (f"{lead}is {c:.6g} times the expected value in every entry: the pattern is right but "
               "a constant factor is off (a missing or extra coefficient, step size or 1/N).")
    k = size if size >= 1 else 1 / size
    if not batch_size and round(k) >= 3 and abs(k - round(k)) <= 1e-6 * k:
        more = "large" if size >= 1 else "small"
        message += (f" It is {round(k)} times too {more}: if {round(k)} is your batch size, "
                    "check the average over the batch.")
    return message


def _mismatch(name, yours, expected, rtol, atol) -> str:
    wrong = ~np.isclose(yours, expected, rtol=rtol, atol=atol)
    if yours.ndim == 0:
        return (f"{name} is {float(yours):.8g} but should be {float(expected):.8g}.")
    diff = np.abs(yours - expected)
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(diff)), diff.shape))
    return (f"{name} is wrong in {int(wrong.sum())} of {yours.size} entries. The largest difference "
            f"is at index {worst}: yours is {yours[worst]:.8g}, the expected value is {expected[worst]:.8g}.")


# --- small helpers -------------------------------------------------------------------------

def _close(a, b, rtol, atol) -> bool:
    return bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
