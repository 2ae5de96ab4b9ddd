"""Lesson 07's your-turn checks: batch-norm backward and residual-block backward."""

import numpy as np

from bplearn import gradcheck, nn
from bplearn.feedback import lesson07
from bplearn.feedback.yourturn import CORRECT, NOT_DONE, WRONG

BN, RES = lesson07.batchnorm_backward, lesson07.residual_backward


def _bn_forward(x, gamma, beta, eps=1e-5):
    return gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps) + beta


# --- the references are right -----------------------------------------------------------------

def test_batchnorm_reference_matches_finite_differences_and_the_library(rng):
    inputs = BN.make_inputs(rng)
    x, gamma, dy, eps = inputs["x"], inputs["gamma"], inputs["dy"], inputs["eps"]
    beta = rng.normal(size=gamma.shape)
    errors = gradcheck.check_function(
        lambda x_, g_, b_: np.sum(_bn_forward(x_, g_, b_, eps) * dy),
        lambda x_, g_, b_: BN.reference(x_, g_, dy, eps)[:2] + (dy.sum(axis=0),),
        x, gamma, beta)
    assert max(errors.values()) < 1e-6
    layer = nn.BatchNorm1d(x.shape[1])
    layer.weight.data[:] = gamma
    layer(x)
    dx = layer.backward(dy)
    ref = BN.reference(**inputs)
    assert np.allclose(ref[0], dx) and np.allclose(ref[1], layer.weight.grad) and np.allclose(ref[2], layer.bias.grad)
    assert BN.verdict(BN.reference).status == CORRECT


def test_residual_reference_matches_finite_differences_and_the_library(rng):
    inputs = RES.make_inputs(rng)
    x, W, b, g = inputs["x"], inputs["W"], inputs["b"], inputs["grad_out"]
    errors = gradcheck.check_function(lambda x_, W_, b_: np.sum((x_ + np.tanh(x_ @ W_.T + b_)) * g),
                                      lambda x_, W_, b_: RES.reference(x_, W_, b_, g), x, W, b)
    assert max(errors.values()) < 1e-6
    linear = nn.Linear(W.shape[1], W.shape[0])
    linear.weight.data[:], linear.bias.data[:] = W, b
    block = nn.Residual(nn.Sequential(linear, nn.Tanh()))
    block(x)
    assert np.allclose(RES.reference(**inputs)[0], block.backward(g))
    assert RES.verdict(RES.reference).status == CORRECT


# --- untouched stubs ------------------------------------------------------------------------------

def test_untouched_stubs_are_not_done():
    def batchnorm_backward(x, gamma, dy, eps):
        """Return dx, dgamma, dbeta."""
        ...

    def residual_backward(x, W, b, grad_out):
        """Return dx, dW, db."""
        ...

    assert BN.verdict(batchnorm_backward).status == NOT_DONE
    assert RES.verdict(residual_backward).status == NOT_DONE
    assert "not done yet" in RES.verdict(residual_backward).message


# --- typical wrong answers, written the way a learner writes them ------------------------------

def test_bn_with_mean_and_variance_as_constants_is_named():
    def batchnorm_backward(x, gamma, dy, eps):
        std = np.sqrt(x.var(axis=0) + eps)
        xhat = (x - x.mean(axis=0)) / std
        return dy * gamma / std, np.sum(dy * xhat, axis=0), np.sum(dy, axis=0)

    verdict = BN.verdict(batchnorm_backward)
    assert verdict.status == WRONG and verdict.mistakes == ["mean and variance treated as constants"]
    assert "dx is wrong (dgamma, dbeta are right)" in verdict.message
    assert "add the paths through mu and var" in verdict.message


def test_bn_that_forgets_the_mean_path_is_named():
    def batchnorm_backward(x, gamma, dy, eps):
        n = len(x)
        xc = x - x.mean(axis=0)
        var = (xc ** 2).mean(axis=0)
        s = 1 / np.sqrt(var + eps)
        dxhat = dy * gamma
        dvar = np.sum(dxhat * xc, axis=0) * -0.5 * (var + eps) ** -1.5
        dx = dxhat * s + dvar * 2 * xc / n         # stops here: mu treated as a constant
        return dx, np.sum(dy * xc * s, axis=0), np.sum(dy, axis=0)

    verdict = BN.verdict(batchnorm_backward)
    assert "the path through the mean is missing" in verdict.mistakes
    assert "dmu = -(sum of dxc over the batch)" in verdict.message


def test_bn_without_1_over_n_in_the_variance_is_named():
    def batchnorm_backward(x, gamma, dy, eps):
        xc = x - x.mean(axis=0)
        var = (xc ** 2).mean(axis=0)
        s = 1 / np.sqrt(var + eps)
        dxhat = dy * gamma
        dvar = np.sum(dxhat * xc, axis=0) * -0.5 * s ** 3
        dxc = dxhat * s + dvar * 2 * xc            # forgot / N
        dx = dxc - dxc.mean(axis=0)
        return dx, np.sum(dy * xc * s, axis=0), np.sum(dy, axis=0)

    verdict = BN.verdict(batchnorm_backward)
    assert verdict.mistakes == ["1/N missing in the variance path"]
    assert "d var / d xc_j = 2 * xc_j / N" in verdict.message


def test_bn_with_the_whole_1_over_n_missing_or_the_sign_flipped_gets_the_generic_message():
    def no_mean(x, gamma, dy, eps):
        dx, dgamma, dbeta = BN.reference(x, gamma, dy, eps)
        return dx * len(x), dgamma, dbeta          # e.g. (s)(N dxhat - ...) without the / N

    def flipped(x, gamma, dy, eps):
        dx, dgamma, dbeta = BN.reference(x, gamma, dy, eps)
        return -dx, dgamma, dbeta

    assert "times too large" in BN.verdict(no_mean).problems["dx"]
    assert "is the batch size" in BN.verdict(no_mean).problems["dx"]
    assert "opposite sign" in BN.verdict(flipped).problems["dx"]


def test_bn_dgamma_not_summed_or_from_raw_x_is_named():
    def not_summed(x, gamma, dy, eps):
        dx, _, dbeta = BN.reference(x, gamma, dy, eps)
        xhat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)
        return dx, dy * xhat, dbeta

    def from_x(x, gamma, dy, eps):
        dx, _, dbeta = BN.reference(x, gamma, dy, eps)
        return dx, (dy * x).sum(axis=0), dbeta

    assert "forget to sum over axis 0 (the batch axis)" in BN.verdict(not_summed).problems["dgamma"]
    assert "gamma multiplies the normalised xhat" in BN.verdict(from_x).problems["dgamma"]


def test_residual_without_the_skip_is_named():
    def residual_backward(x, W, b, grad_out):
        dz = grad_out * (1 - np.tanh(x @ W.T + b) ** 2)
        return dz @ W, dz.T @ x, dz.sum(axis=0)

    verdict = RES.verdict(residual_backward)
    assert verdict.mistakes == ["the skip path is missing"]
    assert "dx is wrong (dW, db are right)" in verdict.message
    assert "add grad_out itself (the skip)" in verdict.message


def test_residual_without_the_tanh_derivative_is_named():
    def residual_backward(x, W, b, grad_out):
        return grad_out + grad_out @ W, grad_out.T @ x, grad_out.sum(axis=0)

    verdict = RES.verdict(residual_backward)
    assert set(verdict.mistakes) == {"tanh's derivative is missing"}
    assert "1 - tanh(z)**2" in verdict.message


def test_residual_with_w_the_wrong_way_round_is_named_though_the_shape_is_right():
    def residual_backward(x, W, b, grad_out):
        dz = grad_out * (1 - np.tanh(x @ W.T + b) ** 2)
        return grad_out + dz @ W.T, dz.T @ x, dz.sum(axis=0)

    verdict = RES.verdict(residual_backward)
    assert verdict.mistakes == ["W used the wrong way round"]
    assert "only the values tell" in verdict.message


def test_residual_with_the_slope_at_the_blocks_output_is_named():
    def residual_backward(x, W, b, grad_out):
        y = x + np.tanh(x @ W.T + b)
        dz = grad_out * (1 - y ** 2)
        return grad_out + dz @ W, dz.T @ x, dz.sum(axis=0)

    verdict = RES.verdict(residual_backward)
    assert "tanh's derivative taken at the block's output" in verdict.mistakes
