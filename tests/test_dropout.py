"""Dropout: same mask forward and backward, PyTorch agreement, statistics, modes, errors."""
import numpy as np
import pytest

from bplearn.errors import BackwardBeforeForwardError, ShapeError
from bplearn.gradcheck import check_module
from bplearn.nn.dropout import Dropout
from bplearn.nn.linear import Linear
from bplearn.nn import Sequential


def test_dropout_with_fixed_mask_matches_torch(torch, rng):
    p = 0.3
    x, upstream = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    mask = rng.random((4, 5)) >= p
    drop = Dropout(p)
    drop.fixed_mask = mask
    out = drop(x)
    dx = drop.backward(upstream)
    # torch cannot take a given mask, so build inverted dropout from the same mask by hand
    xt = torch.tensor(x, requires_grad=True)
    out_t = xt * torch.from_numpy(mask).to(torch.float64) / (1 - p)
    out_t.backward(torch.from_numpy(upstream))
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=0, atol=1e-10)


def test_dropout_with_fixed_mask_backward_matches_finite_differences(rng):
    drop = Dropout(0.5)
    drop.fixed_mask = rng.random((3, 2, 4)) >= 0.5  # a fresh random mask per call would break FD
    errors = check_module(drop, rng.normal(size=(3, 2, 4)))
    assert errors["input0"] < 1e-6


def test_dropout_backward_uses_the_mask_of_its_forward(rng):
    x = rng.uniform(1.0, 2.0, size=(50, 8))  # never zero, so out == 0 exactly where dropped
    drop = Dropout(0.4, rng=3)
    out = drop(x)
    upstream = rng.normal(size=x.shape)
    dx = drop.backward(upstream)
    kept = out != 0
    np.testing.assert_array_equal(dx[~kept], 0.0)
    np.testing.assert_allclose(dx[kept], upstream[kept] / 0.6)
    np.testing.assert_allclose(out[kept], x[kept] / 0.6)
    np.testing.assert_array_equal(drop.mask, kept)


def test_dropout_zeroes_about_p_and_preserves_the_mean():
    p = 0.3
    out = Dropout(p, rng=0)(np.ones((1000, 100)))
    # 100 000 independent draws: standard errors ~0.0015 (fraction) and ~0.002 (mean)
    assert abs(np.mean(out == 0) - p) < 0.01
    assert abs(out.mean() - 1.0) < 0.015
    np.testing.assert_allclose(np.unique(out), [0.0, 1 / (1 - p)])  # survivors scaled by 1/(1-p)


def test_dropout_is_deterministic_for_a_seed_and_fresh_each_call():
    x = np.ones((20, 10))
    a, b = Dropout(0.5, rng=7), Dropout(0.5, rng=7)
    first = a(x)
    np.testing.assert_array_equal(first, b(x))             # same seed, same masks
    assert not np.array_equal(first, a(x))                 # the next call draws a new mask
    assert not np.array_equal(first, Dropout(0.5, rng=8)(x))  # another seed, another mask


def test_dropout_eval_is_identity_forward_and_backward(rng):
    x, upstream = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    drop = Dropout(0.9).eval()
    np.testing.assert_array_equal(drop(x), x)
    np.testing.assert_array_equal(drop.backward(upstream), upstream)


def test_dropout_with_p_zero_keeps_everything_in_training(rng):
    x = rng.normal(size=(5, 5))
    np.testing.assert_array_equal(Dropout(0.0)(x), x)


def test_model_eval_switches_dropout_off_inside_sequential(rng):
    model = Sequential(Linear(4, 4, rng=0), Dropout(0.5, rng=1))
    x = rng.normal(size=(3, 4))
    model.eval()
    np.testing.assert_array_equal(model(x), model[0](x))
    model.train()
    assert np.any(model(x) == 0)


@pytest.mark.parametrize("p", [1, 1.0, -0.1, 1.5, float("nan")])
def test_dropout_rejects_p_outside_zero_to_one(p):
    with pytest.raises(ValueError, match=r"Dropout: p \(the probability of dropping a value\) must be in \[0, 1\)"):
        Dropout(p)


def test_dropout_rejects_a_p_that_is_not_a_number():
    with pytest.raises(TypeError, match=r"Dropout: p \(the probability of dropping a value\) must be a number, got '0\.5'"):
        Dropout("0.5")


def test_dropout_rejects_fixed_mask_of_wrong_shape():
    drop = Dropout(0.5)
    drop.fixed_mask = np.ones((2, 2))
    with pytest.raises(ShapeError, match=r"fixed_mask has shape \(2, 2\) but the input has shape \(3, 2\)"):
        drop(np.ones((3, 2)))


def test_dropout_rejects_fixed_mask_that_is_not_zero_one():
    drop = Dropout(0.5)
    drop.fixed_mask = np.full((3, 2), 0.5)
    with pytest.raises(ValueError, match="fixed_mask must hold only 0/1"):
        drop(np.ones((3, 2)))


def test_dropout_backward_before_forward_is_explained():
    with pytest.raises(BackwardBeforeForwardError, match=r"Dropout\(p=0.5\)\.backward\(\) was called before forward"):
        Dropout().backward(np.ones((2, 2)))


def test_dropout_backward_rejects_grad_out_of_wrong_shape():
    drop = Dropout(0.5)
    drop(np.ones((4, 3)))
    with pytest.raises(ShapeError, match=r"grad_out of shape \(4, 3\).*got \(4, 1\)"):
        drop.backward(np.ones((4, 1)))
