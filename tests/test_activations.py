"""Activation layers: finite differences, PyTorch, properties, stability and errors."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from bplearn.errors import BackwardBeforeForwardError, DTypeError, ShapeError
from bplearn.gradcheck import check_module
from bplearn.nn.activations import Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh

SMOOTH = [Sigmoid, Tanh, Identity, lambda: Softmax(), lambda: Softmax(dim=0), lambda: Softmax(dim=1)]
ALL = [ReLU, lambda: LeakyReLU(0.1), *SMOOTH]


def away_from_zero(rng, shape):
    """Inputs with |x| >= 0.1, so finite differences never straddle the ReLU kink."""
    return rng.uniform(0.1, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


@pytest.mark.parametrize("make", ALL)
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4)])
def test_activation_backward_matches_finite_differences(make, shape, rng):
    errors = check_module(make(), away_from_zero(rng, shape))
    assert errors["input0"] < 1e-6


def torch_reference(torch, name):
    F = torch.nn.functional
    return {
        "ReLU": F.relu,
        "LeakyReLU": lambda x: F.leaky_relu(x, 0.1),
        "Sigmoid": torch.sigmoid,
        "Tanh": torch.tanh,
        "Softmax": lambda x: torch.softmax(x, dim=-1),
        "Softmax0": lambda x: torch.softmax(x, dim=0),
        "Identity": lambda x: x,
    }[name]


MODULES = {
    "ReLU": ReLU, "LeakyReLU": lambda: LeakyReLU(0.1), "Sigmoid": Sigmoid, "Tanh": Tanh,
    "Softmax": Softmax, "Softmax0": lambda: Softmax(dim=0), "Identity": Identity,
}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_activation_forward_and_backward_match_torch(name, torch, rng):
    x = rng.normal(scale=3.0, size=(6, 7))
    g = rng.normal(size=(6, 7))
    layer = MODULES[name]()
    out = layer(x)
    grad_in = layer.backward(g)

    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    yt = torch_reference(torch, name)(xt)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(out, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grad_in, xt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_relu_and_leaky_relu_use_slope_zero_and_alpha_at_and_below_zero():
    x = np.array([-2.0, 0.0, 3.0])
    relu, leaky = ReLU(), LeakyReLU(0.2)
    np.testing.assert_array_equal(relu(x), [0.0, 0.0, 3.0])
    np.testing.assert_array_equal(relu.backward(np.ones(3)), [0.0, 0.0, 1.0])
    np.testing.assert_allclose(leaky(x), [-0.4, 0.0, 3.0])
    np.testing.assert_allclose(leaky.backward(np.ones(3)), [0.2, 0.2, 1.0])


def test_leaky_relu_default_slope_is_one_hundredth():
    assert LeakyReLU().negative_slope == 0.01
    np.testing.assert_allclose(LeakyReLU()(np.array([-1.0])), [-0.01])


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=6),
                  elements=st.floats(-300, 300)))
def test_softmax_slices_are_probabilities_that_sum_to_one(x):
    s = Softmax()(x)
    assert s.shape == x.shape
    assert np.all(s > 0) and np.all(s <= 1)
    np.testing.assert_allclose(s.sum(axis=-1), 1.0, rtol=0, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=4, max_side=5),
                  elements=st.floats(-1e4, 1e4)),
       st.sampled_from(sorted(MODULES)))
def test_every_activation_keeps_the_shape_forward_and_backward(x, name):
    layer = MODULES[name]()
    out = layer(x)
    assert out.shape == x.shape
    assert layer.backward(np.ones_like(x)).shape == x.shape


@pytest.mark.parametrize("name", sorted(MODULES))
def test_activations_are_finite_and_warning_free_at_plus_minus_1e4(name):
    x = np.array([[-1e4, -30.0, 0.0, 30.0, 1e4], [1e4, 1e4, -1e4, 0.5, -0.5]])
    layer = MODULES[name]()
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        out = layer(x)
        grad = layer.backward(np.ones_like(x))
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(grad))


def test_sigmoid_saturates_to_exactly_zero_and_one_with_zero_gradient():
    layer = Sigmoid()
    np.testing.assert_array_equal(layer(np.array([-1e4, 0.0, 1e4])), [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(layer.backward(np.ones(3)), [0.0, 0.25, 0.0])


def test_softmax_of_huge_logits_is_one_hot():
    s = Softmax()(np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, 1e4]]))
    np.testing.assert_array_equal(s, [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])


def test_softmax_is_unchanged_by_adding_a_constant_to_a_row(rng):
    x = rng.normal(size=(3, 4))
    np.testing.assert_allclose(Softmax()(x), Softmax()(x + np.array([[1e3], [-5.0], [700.0]])), atol=1e-14)


def test_softmax_backward_equals_explicit_jacobian_product(rng):
    x, g = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    layer = Softmax()
    s = layer(x)
    grad = layer.backward(g)
    for n in range(3):  # J = diag(s) - s s^T, built in full here only
        jac = np.diag(s[n]) - np.outer(s[n], s[n])
        np.testing.assert_allclose(grad[n], jac.T @ g[n], atol=1e-14)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_backward_before_forward_says_run_forward_first(name):
    layer = MODULES[name]()
    with pytest.raises(BackwardBeforeForwardError, match=r"\.backward\(\) was called before forward\(\)"):
        layer.backward(np.ones((2, 3)))


def test_backward_before_forward_message_names_the_layer():
    with pytest.raises(BackwardBeforeForwardError, match=r"^LeakyReLU\(negative_slope=0\.01\)\.backward\(\)"):
        LeakyReLU().backward(np.ones(3))


@pytest.mark.parametrize("name", sorted(MODULES))
def test_backward_rejects_grad_out_of_the_wrong_shape(name):
    layer = MODULES[name]()
    layer(np.ones((4, 1)))
    with pytest.raises(ShapeError, match=r"expected grad_out of shape \(4, 1\) .* but got \(4,\)"):
        layer.backward(np.ones(4))


def test_softmax_rejects_a_dim_the_input_does_not_have():
    with pytest.raises(ShapeError, match=r"Softmax\(dim=2\) normalises along dim=2, but the input has shape "
                                         r"\(3, 4\) \(2 dimensions\)\. Choose a dim from -2 to 1"):
        Softmax(dim=2)(np.ones((3, 4)))


def test_activation_rejects_strings_with_dtype_error():
    with pytest.raises(DTypeError, match=r"ReLU: the input has dtype <U1, but bplearn needs real numbers"):
        ReLU()(np.array(["a", "b"]))


def test_activations_accept_lists_and_keep_float32():
    np.testing.assert_array_equal(ReLU()([[-1, 2]]), [[0.0, 2.0]])
    assert Tanh()(np.ones(3, dtype=np.float32)).dtype == np.float32
