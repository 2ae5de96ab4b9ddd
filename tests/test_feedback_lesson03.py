"""Lesson 03's your-turn tasks: references agree with finite differences and PyTorch, stubs are
not done, typical slips get their specific hint, and the committed notebooks show the right verdicts."""

import numpy as np
import pytest

from bplearn.feedback import lesson03
from bplearn.feedback.yourturn import CORRECT, NOT_DONE, WRONG

TASKS = ["mse_grad", "softmax_ce_grad"]


def numerical(loss, x, eps=1e-6):
    """Central differences of loss(x) for every entry of the array x."""
    grads = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += eps
        down[index] -= eps
        grads[index] = (loss(up) - loss(down)) / (2 * eps)
    return grads


def mean_cross_entropy(logits, labels):
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return -np.mean(np.log(p[np.arange(len(logits)), labels]))


# --- the references ---------------------------------------------------------------------------

def test_mse_grad_reference_matches_finite_differences():
    pred, target = np.array([0.3, -1.2, 2.0, 0.5]), np.array([0.0, -1.0, 1.5, 0.5])
    expected = numerical(lambda p: np.mean((p - target) ** 2), pred)
    assert np.allclose(lesson03.mse_grad.reference(pred, target), expected, atol=1e-9)


def test_softmax_ce_grad_reference_matches_finite_differences():
    logits, labels = np.random.default_rng(3).normal(size=(4, 3)), np.array([2, 0, 1, 2])
    expected = numerical(lambda z: mean_cross_entropy(z, labels), logits)
    assert np.allclose(lesson03.softmax_ce_grad.reference(logits, labels), expected, atol=1e-9)


def test_softmax_ce_grad_reference_matches_torch_even_for_huge_logits(torch):
    logits = np.array([[1000.0, 0.0, -3.0], [0.5, 1.5, -0.2]])
    labels = np.array([1, 0])
    z = torch.tensor(logits, requires_grad=True)
    torch.nn.functional.cross_entropy(z, torch.tensor(labels)).backward()
    assert np.allclose(lesson03.softmax_ce_grad.reference(logits, labels), z.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("name", TASKS)
def test_each_reference_passes_its_own_check(name):
    task = getattr(lesson03, name)
    assert task.verdict(task.reference).status == CORRECT


@pytest.mark.parametrize("name", TASKS)
def test_an_untouched_stub_is_not_done_yet(name):
    def stub(*args):
        """Only a docstring and `...`, as the learner version ships it."""
        ...

    verdict = getattr(lesson03, name).verdict(stub)
    assert verdict.status == NOT_DONE and "not done yet" in verdict.message


# --- mse_grad: typical slips -------------------------------------------------------------------

def test_mse_without_the_mean_is_called_a_missing_1_over_n():
    def mse_grad(pred, target):
        return 2 * (pred - target)

    verdict = lesson03.mse_grad.verdict(mse_grad)
    assert verdict.status == WRONG and "6 times too large, and 6 is the batch size" in verdict.message


def test_mse_without_the_factor_two_is_called_half():
    def mse_grad(pred, target):
        return (pred - target) / pred.shape[0]

    assert "a factor 2 is missing" in lesson03.mse_grad.verdict(mse_grad).message


def test_mse_bare_difference_is_named():
    def mse_grad(pred, target):
        return pred - target

    verdict = lesson03.mse_grad.verdict(mse_grad)
    assert verdict.mistakes == ["both the 2 and the 1/N are missing"] and "divides every entry by N" in verdict.message


def test_mse_sign_flip_is_named():
    def mse_grad(pred, target):
        return -2 * (pred - target) / len(pred)

    message = lesson03.mse_grad.verdict(mse_grad).message
    assert "opposite sign" in message and "positive when the prediction is too high" in message


def test_mse_returning_the_loss_is_a_shape_problem():
    def mse_grad(pred, target):
        return np.mean((pred - target) ** 2)

    assert "has shape () but should have shape (6,)" in lesson03.mse_grad.verdict(mse_grad).message


# --- softmax_ce_grad: typical slips ------------------------------------------------------------

def test_ce_without_the_mean_is_called_a_missing_1_over_n():
    def softmax_ce_grad(logits, labels):
        shifted = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        p[np.arange(len(labels)), labels] -= 1
        return p

    assert "5 is the batch size" in lesson03.softmax_ce_grad.verdict(softmax_ce_grad).message


def test_ce_without_the_max_shift_overflows_and_is_told_to_subtract_the_max():
    def softmax_ce_grad(logits, labels):
        e = np.exp(logits)
        p = e / e.sum(axis=1, keepdims=True)
        return (p - np.eye(logits.shape[1])[labels]) / len(logits)

    with np.errstate(over="ignore", invalid="ignore"):
        message = lesson03.softmax_ce_grad.verdict(softmax_ce_grad).message
    assert "contains NaN" in message and "subtract the maximum before exp()" in message


def test_ce_on_raw_logits_is_named():
    def softmax_ce_grad(logits, labels):
        y = np.zeros_like(logits)
        y[np.arange(len(labels)), labels] = 1
        return (logits - y) / len(logits)

    message = lesson03.softmax_ce_grad.verdict(softmax_ce_grad).message
    assert "turn the logits into probabilities first" in message


def test_ce_forgetting_the_targets_is_named():
    def softmax_ce_grad(logits, labels):
        shifted = logits - logits.max(axis=1, keepdims=True)
        return np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True) / len(logits)

    assert "Subtract y, the one-hot target" in lesson03.softmax_ce_grad.verdict(softmax_ce_grad).message


def test_ce_subtracting_one_everywhere_is_named():
    def softmax_ce_grad(logits, labels):
        shifted = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        return (p - 1) / len(logits)

    assert "Only the correct class gets -1" in lesson03.softmax_ce_grad.verdict(softmax_ce_grad).message


def test_ce_sign_flip_is_recognised():
    def softmax_ce_grad(logits, labels):
        shifted = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        return (np.eye(logits.shape[1])[labels] - p) / len(logits)

    assert "opposite sign" in lesson03.softmax_ce_grad.verdict(softmax_ce_grad).message
