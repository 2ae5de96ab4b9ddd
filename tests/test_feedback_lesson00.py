"""Lesson 00's your-turn task: the reference passes, a stub is not done, typical slips get their hint,
and the committed notebooks show the right verdicts."""

import numpy as np

from bplearn.feedback import lesson00
from bplearn.feedback.yourturn import CORRECT, NOT_DONE, WRONG

TASK = lesson00.gradient_step


def test_the_reference_is_a_gradient_descent_step():
    w, grad = np.array([1.0, -2.0]), np.array([0.5, 4.0])
    assert np.allclose(TASK.reference(w, grad, 0.1), [0.95, -2.4])
    assert TASK.verdict(TASK.reference).status == CORRECT


def test_an_untouched_stub_is_not_done_yet():
    def gradient_step(w, grad, lr):
        """Return the weights after one gradient-descent step."""
        ...

    verdict = TASK.verdict(gradient_step)
    assert verdict.status == NOT_DONE and "not done yet" in verdict.message


def test_adding_the_step_is_called_going_uphill():
    def gradient_step(w, grad, lr):
        return w + grad * lr

    verdict = TASK.verdict(gradient_step)
    assert verdict.status == WRONG and verdict.mistakes == ["stepped up the gradient"]
    assert "subtract lr * grad from w" in verdict.message


def test_forgetting_the_learning_rate_is_named():
    def gradient_step(w, grad, lr):
        new_w = w.copy()
        new_w -= grad
        return new_w

    verdict = TASK.verdict(gradient_step)
    assert verdict.mistakes == ["learning rate left out"]
    assert "multiply grad by lr" in verdict.message


def test_returning_only_the_step_is_named():
    def gradient_step(w, grad, lr):
        step = -lr * grad
        return step

    assert "not the new weights" in TASK.verdict(gradient_step).message


def test_a_forgotten_return_gets_a_plain_message():
    def gradient_step(w, grad, lr):
        w = w - lr * grad  # noqa: F841 - the learner forgot to return

    assert "returned None" in TASK.verdict(gradient_step).message
