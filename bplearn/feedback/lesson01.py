"""The your-turn tasks of lesson 01 (derivatives and the chain rule).

    from bplearn.feedback import lesson01
    partials = lesson01.partials.check(partials)                          # f(u, v) = u²·v + sin(v)
    chain_derivative = lesson01.chain_derivative.check(chain_derivative)  # g(x) = sin(x²)
    central_difference = lesson01.central_difference.check(central_difference)
"""
from __future__ import annotations

import numpy as np

from .yourturn import Mistake, Task

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


partials = Task(
    "partials", _partials, _two_arrays, ("df_du", "df_dv"),
    mistakes=[
        Mistake("the factor v was dropped from df/du", _dropped_the_constant_factor,
                "Holding v fixed makes it a constant factor of u², and a constant factor stays: d(c·u²)/du = 2c·u."),
        Mistake("sin(v) was kept in df/du", _kept_the_term_without_u,
                "sin(v) does not contain u, so with v held fixed it is a constant and its derivative in u is 0."),
        Mistake("the term u²·v was left out of df/dv", _forgot_the_first_term_in_v,
                "u²·v depends on v too: holding u fixed, u² is a constant factor, so d(u²·v)/dv = u²."),
        Mistake("sin(v) was not differentiated", _sin_not_differentiated,
                "The derivative of sin(v) is cos(v)."),
    ],
    nudge="Do one partial derivative at a time, and treat the other variable as if it were a fixed number like 3.",
    hint="With v fixed, f = (a constant) · u² + (a constant). With u fixed, f = (a constant) · v + sin(v).",
    lesson=LESSON,
)


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


chain_derivative = Task(
    "chain_derivative", _chain_derivative, _one_array, "dg_dx",
    mistakes=[
        Mistake("the inner derivative is missing", _outer_only,
                "cos(x²) is only the outer link. The inner function u = x² changes too: multiply by du/dx = 2x."),
        Mistake("the outer derivative was taken at x instead of at u = x²", _outer_at_the_wrong_point,
                "sin' = cos must be evaluated where sin is applied, at u = x², so the first factor is cos(x²)."),
        Mistake("the derivatives were nested instead of multiplied", _derivatives_composed,
                "The chain rule multiplies the two derivatives, cos(u) · du/dx; it does not put one inside the other."),
        Mistake("the outer derivative is missing", _inner_only,
                "2x is only the inner link du/dx. Multiply it by the outer one, d sin(u)/du = cos(u), at u = x²."),
    ],
    nudge="Give the inner function a name, u = x², so that g = sin(u). Which two derivatives does the chain rule need?",
    hint="dg/dx = dg/du · du/dx, with dg/du = cos(u) evaluated at u = x² and du/dx = 2x.",
    lesson=LESSON,
)


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


central_difference = Task(
    "central_difference", _central_difference, _wave_at_a_point, "slope",
    mistakes=[
        Mistake("a forward difference", _forward_difference,
                "That is the forward difference. The central one evaluates f on both sides, at x + h and x - h."),
        Mistake("divided by h instead of 2h", _divided_by_h,
                "The two points x - h and x + h are 2h apart, so divide the change in f by 2 * h."),
        Mistake("operator precedence: / 2 * h", _precedence_slip,
                "Python reads a / 2 * h as (a / 2) * h, which multiplies by h. Write a / (2 * h)."),
    ],
    nudge="A slope is (change in f) / (change in x). Which two points does the central difference use?",
    hint="Evaluate f at x + h and at x - h; those two points are 2h apart.",
    lesson=LESSON,
)
