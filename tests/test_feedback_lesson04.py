"""Lesson 04's your-turn checks: the references are right, and typical wrong answers get specific hints."""

import numpy as np

from bplearn import gradcheck, nn
from bplearn.feedback import lesson04
from bplearn.feedback.yourturn import CORRECT, NOT_DONE, WRONG


# --- two_layer_backward -------------------------------------------------------------------

def _net_inputs(seed=0):
    return lesson04.two_layer_backward.make_inputs(np.random.default_rng(seed))


def test_two_layer_reference_matches_bplearn_layers_and_finite_differences():
    a = _net_inputs()
    model = nn.Sequential(nn.Linear(*a["W1"].shape[::-1]), nn.Tanh(), nn.Linear(*a["W2"].shape[::-1]))
    for layer, W, b in [(model[0], a["W1"], a["b1"]), (model[2], a["W2"], a["b2"])]:
        layer.weight.data[...], layer.bias.data[...] = W, b
    loss_fn = nn.MSELoss()
    loss_fn(model(a["X"]), a["Y"])
    model.backward(loss_fn.backward())
    got = lesson04._two_layer_backward(**a)
    library = [model[0].weight.grad, model[0].bias.grad, model[2].weight.grad, model[2].bias.grad]
    for mine, theirs in zip(got, library):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)

    def loss():
        return np.mean((np.tanh(a["X"] @ a["W1"].T + a["b1"]) @ a["W2"].T + a["b2"] - a["Y"]) ** 2)

    for name, grad in zip(["W1", "b1", "W2", "b2"], got):
        np.testing.assert_allclose(grad, gradcheck.numerical_gradient(loss, a[name]), rtol=1e-6, atol=1e-9)


def test_two_layer_reference_matches_torch(torch):
    a = _net_inputs(1)
    t = {k: torch.tensor(v, requires_grad=k not in ("X", "Y")) for k, v in a.items()}
    out = torch.tanh(t["X"] @ t["W1"].T + t["b1"]) @ t["W2"].T + t["b2"]
    ((out - t["Y"]) ** 2).mean().backward()
    for name, grad in zip(["W1", "b1", "W2", "b2"], lesson04._two_layer_backward(**a)):
        np.testing.assert_allclose(grad, t[name].grad.numpy(), rtol=1e-10, atol=1e-12)


def test_two_layer_stub_is_not_done():
    def two_layer_backward(X, Y, W1, b1, W2, b2):
        """Return dW1, db1, dW2, db2."""
        ...

    assert lesson04.two_layer_backward.verdict(two_layer_backward).status == NOT_DONE


def test_two_layer_without_the_tanh_derivative_is_named():
    def two_layer_backward(X, Y, W1, b1, W2, b2):
        h = np.tanh(X @ W1.T + b1)
        dout = 2 * (h @ W2.T + b2 - Y) / len(X)
        dz1 = dout @ W2                      # forgot * (1 - h**2)
        return dz1.T @ X, dz1.sum(axis=0), dout.T @ h, dout.sum(axis=0)

    verdict = lesson04.two_layer_backward.verdict(two_layer_backward)
    assert verdict.status == WRONG
    assert "dW1 is wrong; db1 is wrong (dW2, db2 are right)" in verdict.message
    assert "the tanh derivative is missing" in verdict.message and "1 - h**2" in verdict.message


def test_two_layer_with_a_transposed_weight_gradient_is_named():
    def two_layer_backward(X, Y, W1, b1, W2, b2):
        h = np.tanh(X @ W1.T + b1)
        dout = 2 * (h @ W2.T + b2 - Y) / len(X)
        dz1 = (dout @ W2) * (1 - h ** 2)
        return X.T @ dz1, dz1.sum(axis=0), h.T @ dout, dout.sum(axis=0)    # products the wrong way round

    verdict = lesson04.two_layer_backward.verdict(two_layer_backward)
    assert "looks transposed" in verdict.problems["dW1"] and "looks transposed" in verdict.problems["dW2"]
    assert "db1" not in verdict.problems


def test_two_layer_without_the_batch_mean_is_named():
    def two_layer_backward(X, Y, W1, b1, W2, b2):
        h = np.tanh(X @ W1.T + b1)
        dout = 2 * (h @ W2.T + b2 - Y)       # forgot / N
        dz1 = (dout @ W2) * (1 - h ** 2)
        return dz1.T @ X, dz1.sum(axis=0), dout.T @ h, dout.sum(axis=0)

    verdict = lesson04.two_layer_backward.verdict(two_layer_backward)
    n = len(_net_inputs(0)["X"])
    assert all("is the batch size" in verdict.problems[k] for k in ("dW1", "db1", "dW2", "db2")), verdict.message
    assert "average the loss over the batch" in verdict.message and n > 1


def test_two_layer_bias_summed_over_features_is_named():
    def two_layer_backward(X, Y, W1, b1, W2, b2):
        h = np.tanh(X @ W1.T + b1)
        dout = 2 * (h @ W2.T + b2 - Y) / len(X)
        dz1 = (dout @ W2) * (1 - h ** 2)
        return dz1.T @ X, dz1.sum(axis=1), dout.T @ h, dout.sum(axis=1)    # summed over units, not examples

    verdict = lesson04.two_layer_backward.verdict(two_layer_backward)
    assert "summed over the wrong axis" in verdict.problems["db1"]
    assert "sum over axis 0" in verdict.problems["db1"]


# --- scale_backward -------------------------------------------------------------------------

class _Scale(nn.Module):
    def __init__(self, D, rng):
        self.gamma = nn.Parameter(1 + 0.5 * rng.normal(size=D), "gamma")
        self.beta = nn.Parameter(rng.normal(size=D), "beta")

    def forward(self, x):
        self._x = x
        return x * self.gamma.data + self.beta.data

    def backward(self, grad_out):
        dx, dgamma, dbeta = lesson04._scale_backward(self._x, self.gamma.data, grad_out)
        self.gamma.grad += dgamma
        self.beta.grad += dbeta
        return dx


def test_scale_reference_passes_gradcheck():
    rng = np.random.default_rng(5)
    errors = gradcheck.check_module(_Scale(4, rng), rng.normal(size=(6, 4)))
    assert set(errors) == {"input0", "gamma", "beta"} and max(errors.values()) < 1e-6


def test_scale_stub_is_not_done_and_the_reference_is_correct():
    def scale_backward(x, gamma, grad_out):
        """Return dx, dgamma, dbeta."""
        ...

    assert lesson04.scale_backward.verdict(scale_backward).status == NOT_DONE
    assert lesson04.scale_backward.verdict(lesson04._scale_backward).status == CORRECT


def test_scale_with_the_planted_bug_left_in_is_named():
    def scale_backward(x, gamma, grad_out):            # copied the buggy layer without fixing it
        dx = grad_out * gamma
        dgamma = (grad_out * gamma).sum(axis=0)
        dbeta = grad_out.sum(axis=0)
        return dx, dgamma, dbeta

    verdict = lesson04.scale_backward.verdict(scale_backward)
    assert list(verdict.problems) == ["dgamma"]
    assert "the planted bug is still there" in verdict.message and "is x (the thing gamma multiplies)" in verdict.message


def test_scale_with_dgamma_not_summed_over_the_batch_is_named():
    def scale_backward(x, gamma, grad_out):
        return grad_out * gamma, grad_out * x, grad_out.sum(axis=0)

    verdict = lesson04.scale_backward.verdict(scale_backward)
    assert "one axis too many" in verdict.problems["dgamma"] and "axis 0 (the batch axis)" in verdict.problems["dgamma"]


def test_scale_with_dx_missing_gamma_is_named():
    def scale_backward(x, gamma, grad_out):
        return grad_out, (grad_out * x).sum(axis=0), grad_out.sum(axis=0)

    verdict = lesson04.scale_backward.verdict(scale_backward)
    assert list(verdict.problems) == ["dx"] and "dx forgets gamma" in verdict.message


def test_scale_with_a_mean_instead_of_a_sum_is_named():
    def scale_backward(x, gamma, grad_out):
        return grad_out * gamma, (grad_out * x).mean(axis=0), grad_out.mean(axis=0)

    verdict = lesson04.scale_backward.verdict(scale_backward)
    assert "times too small" in verdict.problems["dgamma"] and "averaged instead of summed" in verdict.problems["dgamma"]
    assert "times too small" in verdict.problems["dbeta"]
