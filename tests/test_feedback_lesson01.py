"""Lesson 01's your-turn tasks: references agree with finite differences, stubs are not done,
typical slips get their specific hint, and the committed notebooks show the right verdicts."""
import math

import numpy as np
import pytest

from bplearn.feedback import lesson01
from bplearn.feedback.yourturn import CORRECT, NOT_DONE, WRONG

TASKS = ["partials", "chain_derivative", "central_difference"]


def nudged(fn, x, eps=1e-6):
    return (fn(x + eps) - fn(x - eps)) / (2 * eps)


# --- the references ---------------------------------------------------------------------------

def test_partials_reference_matches_nudging_each_input():
    u, v = np.array([0.7, -1.3]), np.array([1.1, 0.4])
    df_du, df_dv = lesson01.partials.reference(u, v)
    assert np.allclose(df_du, nudged(lambda uu: uu ** 2 * v + np.sin(v), u), rtol=1e-7)
    assert np.allclose(df_dv, nudged(lambda vv: u ** 2 * vv + np.sin(vv), v), rtol=1e-7)


def test_chain_derivative_reference_matches_finite_differences():
    x = np.linspace(-2, 2, 9)
    assert np.allclose(lesson01.chain_derivative.reference(x), nudged(lambda t: np.sin(t ** 2), x), atol=1e-8)


def test_central_difference_reference_is_exact_for_a_quadratic():
    # for a quadratic the central difference has no truncation error at all
    assert lesson01.central_difference.reference(lambda t: 3 * t ** 2 + t, 2.0, 0.1) == pytest.approx(13.0)


@pytest.mark.parametrize("name", TASKS)
def test_each_reference_passes_its_own_check(name):
    task = getattr(lesson01, name)
    assert task.verdict(task.reference).status == CORRECT


@pytest.mark.parametrize("name", TASKS)
def test_an_untouched_stub_is_not_done_yet(name):
    def stub(*args):
        """Only a docstring and `...`, as the learner version ships it."""
        ...

    verdict = getattr(lesson01, name).verdict(stub)
    assert verdict.status == NOT_DONE and "not done yet" in verdict.message


# --- partials: typical slips -------------------------------------------------------------------

def test_partials_keeping_sin_v_in_df_du_is_named():
    def partials(u, v):
        return 2 * u * v + np.sin(v), u ** 2 + np.cos(v)

    verdict = lesson01.partials.verdict(partials)
    assert verdict.status == WRONG and "df_du is wrong (df_dv is right)" in verdict.message
    assert "its derivative in u is 0" in verdict.message


def test_partials_dropping_v_from_df_du_is_named():
    def partials(u, v):
        return u * 2, np.cos(v) + u * u

    assert "a constant factor stays" in lesson01.partials.verdict(partials).message


def test_partials_forgetting_the_first_term_of_df_dv_is_named():
    def partials(u, v):
        return 2 * u * v, np.cos(v)

    verdict = lesson01.partials.verdict(partials)
    assert "df_dv is wrong" in verdict.message and "d(u²·v)/dv = u²" in verdict.message


def test_partials_in_the_wrong_order_is_reported_for_both():
    def partials(u, v):
        return u ** 2 + np.cos(v), 2 * u * v

    verdict = lesson01.partials.verdict(partials)
    assert set(verdict.problems) == {"df_du", "df_dv"}


# --- chain_derivative: typical slips -----------------------------------------------------------

def test_chain_rule_without_the_inner_derivative_is_named():
    def chain_derivative(x):
        return np.cos(x ** 2)

    verdict = lesson01.chain_derivative.verdict(chain_derivative)
    assert verdict.mistakes == ["the inner derivative is missing"] and "multiply by du/dx = 2x" in verdict.message


def test_chain_rule_with_the_outer_derivative_at_x_is_named():
    def chain_derivative(x):
        return 2 * x * np.cos(x)

    assert "evaluated where sin is applied" in lesson01.chain_derivative.verdict(chain_derivative).message


def test_chain_rule_nesting_the_derivatives_is_named():
    def chain_derivative(x):
        inner = 2 * x
        return np.cos(inner)

    assert "does not put one inside the other" in lesson01.chain_derivative.verdict(chain_derivative).message


def test_chain_rule_with_math_cos_on_an_array_shows_the_learners_line():
    def chain_derivative(x):
        return math.cos(x ** 2) * 2 * x

    verdict = lesson01.chain_derivative.verdict(chain_derivative)
    assert "raised TypeError" in verdict.message and "math.cos(x ** 2)" in verdict.message


# --- central_difference: typical slips ---------------------------------------------------------

def test_a_forward_difference_is_named():
    def central_difference(f, x, h):
        return (f(x + h) - f(x)) / h

    verdict = lesson01.central_difference.verdict(central_difference)
    assert verdict.mistakes == ["a forward difference"] and "at x + h and x - h" in verdict.message


def test_the_precedence_slip_is_named():
    def central_difference(f, x, h):
        return (f(x + h) - f(x - h)) / 2 * h

    assert "Write a / (2 * h)" in lesson01.central_difference.verdict(central_difference).message


def test_dividing_by_h_is_named_and_called_twice_too_large():
    def central_difference(f, x, h):
        rise = f(x + h) - f(x - h)
        return rise / h

    message = lesson01.central_difference.verdict(central_difference).message
    assert "twice the expected value" in message and "divide the change in f by 2 * h" in message


def test_the_wrong_answer_names_the_test_function_readably():
    def central_difference(f, x, h):
        return (f(x - h) - f(x + h)) / (2 * h)

    message = lesson01.central_difference.verdict(central_difference).message
    assert "opposite sign" in message and "·sin(" in message and " at 0x" not in message
