"""Flatten: the reshape, its backward, PyTorch agreement, errors."""
import numpy as np
import pytest

from bplearn import nn
from bplearn.errors import BackwardBeforeForwardError, ShapeError
from bplearn.gradcheck import check_module
from bplearn.nn.flatten import Flatten


def test_flatten_keeps_batch_axis_and_orders_channel_row_column():
    x = np.arange(2 * 3 * 2 * 2.0).reshape(2, 3, 2, 2)
    out = Flatten()(x)
    assert out.shape == (2, 12)
    np.testing.assert_array_equal(out[1], np.arange(12.0, 24.0))   # image 1: c0 (r0 r1), c1 ..., c2 ...


@pytest.mark.parametrize("shape", [(3, 2, 4, 5), (2, 7), (4, 3, 2)])
def test_flatten_backward_matches_finite_differences(shape, rng):
    errors = check_module(Flatten(), rng.normal(size=shape))
    assert errors["input0"] < 1e-6


def test_flatten_matches_torch_on_a_transposed_view(torch, rng):
    x = rng.normal(size=(3, 4, 5, 2)).transpose(3, 0, 1, 2)           # (2, 3, 4, 5), like a Conv2d output
    layer = Flatten()
    out = layer(x)
    upstream = rng.normal(size=out.shape)
    tx = torch.tensor(np.ascontiguousarray(x), requires_grad=True)
    tout = torch.nn.Flatten()(tx)
    tout.backward(torch.tensor(upstream))
    np.testing.assert_array_equal(out, tout.detach().numpy())
    np.testing.assert_array_equal(layer.backward(upstream), tx.grad.numpy())


def test_flatten_errors_name_the_fix(rng):
    with pytest.raises(ShapeError, match=r"Flatten\(\) expected input of shape \(N, \.\.\.\).*x\[None\]"):
        Flatten()(np.zeros(5))
    with pytest.raises(BackwardBeforeForwardError, match=r"Flatten\(\)\.backward\(\) was called before"):
        Flatten().backward(np.zeros((2, 3)))
    layer = nn.Flatten()
    layer(rng.normal(size=(2, 3, 4)))
    with pytest.raises(ShapeError, match=r"expected grad_out of shape \(2, 12\).*got \(2, 3, 4\)"):
        layer.backward(np.zeros((2, 3, 4)))
