"""The your-turn tasks of lesson 01 (derivatives and the chain rule).

    from bplearn.feedback import lesson01
    partials = lesson01.partials.check(partials)                          # f(u, v) = u²·v + sin(v)
    chain_derivative = lesson01.chain_derivative.check(chain_derivative)  # g(x) = sin(x²)
    central_difference = lesson01.central_difference.check(central_difference)
"""
from __future__ import annotations

import numpy as np

from .yourturn import task_from_texts

LESSON = "01_chain_rule.ipynb"


# --- partial derivatives of f(u, v) = u² · v + sin(v) -------------------------------------

def _partials(u, v):
    """u, v: arrays of the same shape -> (df/du, df/dv), each shaped like u."""
    return 2 * u * v, u ** 2 + np.cos(v)


def _dropped_the_constant_factor(u, v):
    return 2 * u, u ** 2 + np.cos(v)


def _kept_the_term_without_u(u, v):
    return 2 * u * v + np.sin(v), u ** 2 + np.cos(v)


def _forgot_the_first_term_in_v(u, v):
    return 2 * u * v, np.cos(v)


def _sin_not_differentiated(u, v):
    return 2 * u * v, u ** 2 + np.sin(v)


def _two_arrays(rng):
    return {"u": rng.uniform(-2, 2, size=4), "v": rng.uniform(-2, 2, size=4)}


partials = task_from_texts(globals(), "partials")


# --- the chain rule: g(x) = sin(x²) ------------------------------------------------------

def _chain_derivative(x):
    """x: array -> dg/dx for g(x) = sin(x²), shaped like x."""
    u = x ** 2                       # inner function
    return np.cos(u) * 2 * x         # outer derivative at u, times inner derivative


def _outer_only(x):
    return np.cos(x ** 2)


def _outer_at_the_wrong_point(x):
    return np.cos(x) * 2 * x


def _derivatives_composed(x):
    return np.cos(2 * x)


def _inner_only(x):
    return 2 * x


def _one_array(rng):
    return {"x": rng.uniform(-2, 2, size=5)}


chain_derivative = task_from_texts(globals(), "chain_derivative")


# --- a central finite difference ---------------------------------------------------------

class _Wave:
    """A smooth test function f(x) = a·sin(b·x) + c·x³, with a readable repr for feedback."""

    def __init__(self, a, b, c):
        self.a, self.b, self.c = a, b, c

    def __call__(self, x):
        return self.a * np.sin(self.b * x) + self.c * x ** 3

    def __repr__(self):
        return f"f(x) = {self.a:.2f}·sin({self.b:.2f}·x) + {self.c:.2f}·x³"


def _central_difference(f, x, h):
    """f: a function of one number, x: a number, h: the step -> the central difference (a number)."""
    return (f(x + h) - f(x - h)) / (2 * h)


def _forward_difference(f, x, h):
    return (f(x + h) - f(x)) / h


def _divided_by_h(f, x, h):
    return (f(x + h) - f(x - h)) / h


def _precedence_slip(f, x, h):
    return (f(x + h) - f(x - h)) / 2 * h


def _wave_at_a_point(rng):
    a, b, c = rng.uniform(0.5, 2.0), rng.uniform(0.5, 2.0), rng.uniform(-0.5, 0.5)
    return {"f": _Wave(a, b, c), "x": float(rng.uniform(-2, 2)), "h": 1e-3}


central_difference = task_from_texts(globals(), "central_difference")
