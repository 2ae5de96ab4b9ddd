"""Finite-difference gradient checking.

Backprop is only worth trusting once it agrees with the definition of a derivative.
For every entry x_i we nudge it both ways and measure

    dL/dx_i  ~  (L(x_i + eps) - L(x_i - eps)) / (2 eps)          (central difference)

whose truncation error shrinks like eps**2 while round-off grows like 1e-16/eps;
eps = 1e-5 balances the two, so in float64 a correct analytic gradient agrees to
about 1e-9. We compare the two with a *relative* error

    |analytic - numeric| / max(|analytic|, |numeric|, floor)

The ``floor`` (default 1e-3) stops entries that are (nearly) zero from producing
huge ratios out of round-off noise: below it the error is effectively absolute.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .errors import GradcheckError

DEFAULT_EPS = 1e-5
DEFAULT_TOL = 1e-6
DEFAULT_FLOOR = 1e-3


def relative_error(analytic, numeric, floor: float = DEFAULT_FLOOR) -> np.ndarray:
    """Element-wise relative error, see the module docstring."""
    a, n = np.asarray(analytic, dtype=np.float64), np.asarray(numeric, dtype=np.float64)
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), floor)


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = DEFAULT_EPS) -> np.ndarray:
    """dL/dx by central differences, nudging ``x`` in place (and restoring it).

    f: a function of no arguments that reads ``x`` and returns a scalar loss.
    x: float64 ndarray -> returns an array of x.shape.
    """
    if x.dtype != np.float64:
        raise TypeError(f"numerical_gradient needs a float64 array (got {x.dtype}); float32 is too coarse.")
    grad = np.zeros(x.shape)
    # Index x itself (not x.reshape(-1), which is a *copy* for a non-contiguous x such as
    # a transposed view, so nudging it would leave x unchanged and give zero gradients).
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        plus = float(f())
        x[idx] = old - eps
        minus = float(f())
        x[idx] = old
        grad[idx] = (plus - minus) / (2 * eps)
    return grad


def compare(name: str, analytic, numeric, tol: float = DEFAULT_TOL, floor: float = DEFAULT_FLOOR) -> float:
    """Return the max relative error; raise GradcheckError naming the worst entry if > tol."""
    analytic, numeric = np.asarray(analytic, dtype=np.float64), np.asarray(numeric, dtype=np.float64)
    if analytic.shape != numeric.shape:
        raise GradcheckError(
            f"gradient of '{name}' has shape {analytic.shape}, but the tensor has shape {numeric.shape}. "
            "A gradient always has the same shape as the thing it is the gradient of."
        )
    if analytic.size == 0:
        return 0.0
    err = relative_error(analytic, numeric, floor)
    worst = np.unravel_index(int(np.argmax(err)), err.shape)
    max_err = float(err[worst])
    if not max_err <= tol:  # also catches NaN
        raise GradcheckError(
            f"gradient of '{name}' is wrong at index {tuple(int(i) for i in worst)}: backprop gives "
            f"{analytic[worst]:.10g}, finite differences give {numeric[worst]:.10g} "
            f"(relative error {max_err:.3g} > tolerance {tol:g})."
        )
    return max_err


def check_function(f: Callable[..., float], grad_f: Callable[..., Sequence], *inputs,
                   names: Sequence[str] | None = None, eps: float = DEFAULT_EPS,
                   tol: float = DEFAULT_TOL) -> dict[str, float]:
    """Check a hand-written gradient of a scalar function of arrays.

    f(*inputs) -> float;  grad_f(*inputs) -> one gradient per input, same shapes.
    Returns {name: max relative error}.
    """
    arrays = [np.array(x, dtype=np.float64) for x in inputs]
    names = list(names) if names else [f"input{i}" for i in range(len(arrays))]
    analytic = grad_f(*arrays)
    if len(arrays) == 1 and not isinstance(analytic, (list, tuple)):
        analytic = [analytic]
    return {
        name: compare(name, g, numerical_gradient(lambda: f(*arrays), x, eps), tol)
        for name, x, g in zip(names, arrays, analytic)
    }


def check_values(f: Callable, *xs: float, eps: float = DEFAULT_EPS, tol: float = DEFAULT_TOL) -> dict[str, float]:
    """Check scalar autograd: ``f(*Values) -> Value``; compares each input's .grad.

    >>> check_values(lambda a, b: (a * b + a).tanh(), 0.3, -1.2)
    """
    from .engine import Value  # local import: engine is optional for vector users

    point = np.array(xs, dtype=np.float64)
    values = [Value(float(x)) for x in point]
    f(*values).backward()

    def loss() -> float:  # the same expression, rebuilt on the (nudged) point
        return f(*[Value(float(p)) for p in point]).data

    numeric = numerical_gradient(loss, point, eps)
    return {f"x{i}": compare(f"x{i}", v.grad, numeric[i], tol) for i, v in enumerate(values)}


def _as_tuple(x) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def check_module(module, *inputs, eps: float = DEFAULT_EPS, tol: float = DEFAULT_TOL,
                 seed: int = 0, check_inputs: bool = True) -> dict[str, float]:
    """Check a Module's backward for its inputs and every parameter.

    The scalar loss is L = sum_k sum(out_k * R_k) with fixed random R_k, so
    dL/d(out_k) = R_k is what we feed to ``module.backward``. Works for modules
    that take several inputs and/or return a tuple: backward receives one upstream
    gradient per output and returns one gradient per input. Inputs whose gradient
    backward does not return (an RNN's h0, kept as ``grad_h0``) are not checked.

    Returns {"input0": err, ..., "<param name>": err}.
    """
    rng = np.random.default_rng(seed)
    xs = [np.array(x, dtype=np.float64) for x in inputs]
    module.zero_grad()
    outs = _as_tuple(module(*xs))
    upstream = [rng.standard_normal(np.shape(o)) for o in outs]
    grads_in = _as_tuple(module.backward(*upstream))
    analytic_params = {name: p.grad.copy() for name, p in module.named_parameters()}

    def loss() -> float:
        return float(sum(np.sum(o * r) for o, r in zip(_as_tuple(module(*xs)), upstream)))

    errors: dict[str, float] = {}
    if check_inputs:
        for i, (x, g) in enumerate(zip(xs, grads_in)):
            if g is None:
                continue
            errors[f"input{i}"] = compare(f"input{i}", g, numerical_gradient(loss, x, eps), tol)
    for name, p in module.named_parameters():
        if p.data.dtype != np.float64:
            raise TypeError(f"check_module needs float64 parameters; '{name}' is {p.data.dtype}.")
        errors[name] = compare(name, analytic_params[name], numerical_gradient(loss, p.data, eps), tol)
    return errors
