"""Residual: out = x + branch(x); gradients of skip and branch add up."""
import numpy as np
import pytest

from bplearn.errors import BackwardBeforeForwardError, ShapeError
from bplearn.gradcheck import check_module
from bplearn.nn.activations import Tanh
from bplearn.nn.dropout import Dropout
from bplearn.nn.linear import Linear
from bplearn.nn.residual import Residual
from bplearn.nn import Sequential


def _block(features=4, seed=0):
    return Residual(Sequential(Linear(features, features, rng=seed, init="xavier_uniform"), Tanh()))


def test_residual_backward_matches_finite_differences(rng):
    block = _block()
    errors = check_module(block, rng.normal(size=(5, 4)))
    assert set(errors) == {"input0", "module.0.weight", "module.0.bias"}
    assert max(errors.values()) < 1e-6


def test_residual_matches_torch(torch, rng):
    block = _block()
    linear = block.module[0]
    x, upstream = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    out = block(x)
    dx = block.backward(upstream)

    xt = torch.tensor(x, requires_grad=True)
    w = torch.tensor(linear.weight.data, requires_grad=True)
    b = torch.tensor(linear.bias.data, requires_grad=True)
    out_t = xt + torch.tanh(xt @ w.T + b)
    out_t.backward(torch.from_numpy(upstream))
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(linear.weight.grad, w.grad.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(linear.bias.grad, b.grad.numpy(), rtol=0, atol=1e-10)


def test_residual_gradient_is_skip_plus_branch(rng):
    block = _block()
    x, upstream = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    block(x)
    total = block.backward(upstream)
    branch = _block().module  # an identical branch, run on its own
    branch(x)
    np.testing.assert_allclose(total, upstream + branch.backward(upstream), atol=1e-12)


def test_residual_passes_upstream_gradient_when_branch_gradient_vanishes(rng):
    block = _block()
    block.module[0].weight.data[:] = 0.0  # the branch now passes no gradient back to x
    x, upstream = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    block(x)
    np.testing.assert_array_equal(block.backward(upstream), upstream)


def test_residual_train_and_eval_reach_the_branch(rng):
    block = Residual(Dropout(0.5, rng=0))
    x = rng.normal(size=(4, 4))
    block.eval()
    assert block.module.training is False
    np.testing.assert_array_equal(block(x), 2 * x)  # x + identity(x)


def test_residual_rejects_branch_that_changes_shape():
    block = Residual(Sequential(Linear(4, 3, rng=0), Tanh()))
    with pytest.raises(ShapeError, match=r"Residual: its branch \(Sequential\) turned an input of shape "
                                         r"\(2, 4\) into shape \(2, 3\).*projection"):
        block(np.ones((2, 4)))


def test_residual_rejects_a_class_instead_of_a_layer():
    with pytest.raises(TypeError, match="Residual expects a layer.*instead of an instance"):
        Residual(Tanh)


def test_residual_backward_before_forward_is_explained():
    with pytest.raises(BackwardBeforeForwardError, match=r"(?s)Residual.*backward\(\) was called before forward\(\)"):
        _block().backward(np.ones((2, 4)))


def test_residual_backward_rejects_grad_out_of_wrong_shape(rng):
    block = _block()
    block(rng.normal(size=(2, 4)))
    with pytest.raises(ShapeError, match=r"grad_out of shape \(2, 4\).*got \(2, 1\)"):
        block.backward(np.ones((2, 1)))
