"""bplearn.gradcheck: it must pass correct gradients and catch wrong ones."""
import numpy as np
import pytest

from bplearn.gradcheck import (GradcheckError, check_function, check_module, compare, numerical_gradient,
                               relative_error)
from bplearn.nn import Module, Parameter


class Square(Module):
    """out = x**2 * w, element-wise, with a trainable scale w (shape (D,)).

    forget_two=True is the classic slip: d(x**2)/dx written as x instead of 2x.
    """

    def __init__(self, dim: int, forget_two: bool = False, wrong_param: bool = False):
        self.w = Parameter(np.linspace(0.5, 1.5, dim), "w")
        self.forget_two, self.wrong_param = forget_two, wrong_param
        self._x = None

    def forward(self, x):
        self._x = x
        return x**2 * self.w.data

    def backward(self, grad_out):
        x = self._require_cache("_x")
        self.w.grad += (grad_out * x**2).sum(axis=0) * (2.0 if self.wrong_param else 1.0)
        return grad_out * (1.0 if self.forget_two else 2.0) * x * self.w.data


class MulAdd(Module):
    """Two inputs, two outputs: (a * b, a + b); backward takes two upstream grads."""

    def forward(self, a, b):
        self._a, self._b = a, b
        return a * b, a + b

    def backward(self, g_prod, g_sum):
        a, b = self._require_cache("_a", "_b")
        return g_prod * b + g_sum, g_prod * a + g_sum


def test_check_module_passes_a_correct_layer(rng):
    errors = check_module(Square(3), rng.normal(size=(4, 3)))
    assert set(errors) == {"input0", "w"}
    assert max(errors.values()) < 1e-8


def test_check_module_catches_a_forgotten_factor_two_and_names_tensor_and_index(rng):
    with pytest.raises(GradcheckError, match=r"^gradient of 'input0' is wrong at index \(\d+, \d+\): backprop "
                                             r"gives .*, finite differences give .* \(relative error 0\.5 > "
                                             r"tolerance 1e-06\)\.$"):
        check_module(Square(3, forget_two=True), rng.normal(size=(4, 3)))


def test_check_module_catches_a_wrong_parameter_gradient(rng):
    with pytest.raises(GradcheckError, match=r"^gradient of 'w' is wrong at index \(\d,\)"):
        check_module(Square(3, wrong_param=True), rng.normal(size=(4, 3)))


def test_check_module_handles_several_inputs_and_outputs(rng):
    errors = check_module(MulAdd(), rng.normal(size=(2, 3)), rng.normal(size=(2, 3)))
    assert set(errors) == {"input0", "input1"}
    assert max(errors.values()) < 1e-8


def test_check_module_leaves_no_gradient_from_earlier_calls(rng):
    layer = Square(2)
    layer.w.grad[...] = 100.0                            # stale gradient: check_module must zero it first
    assert check_module(layer, rng.normal(size=(3, 2)))["w"] < 1e-8


def test_check_function_passes_a_correct_gradient_and_catches_a_wrong_one(rng):
    a, b = rng.normal(size=(3, 2)), rng.normal(size=(2,))
    f = lambda a, b: float(np.sum(np.sin(a) * b))
    errors = check_function(f, lambda a, b: (np.cos(a) * b, np.sin(a).sum(axis=0)), a, b, names=["a", "b"])
    assert set(errors) == {"a", "b"} and max(errors.values()) < 1e-8
    with pytest.raises(GradcheckError, match=r"gradient of 'b' is wrong"):
        check_function(f, lambda a, b: (np.cos(a) * b, np.cos(a).sum(axis=0)), a, b, names=["a", "b"])


def test_numerical_gradient_matches_a_known_derivative_and_restores_x(rng):
    x = rng.normal(size=(3, 4))
    before = x.copy()
    grad = numerical_gradient(lambda: float(np.sum(x**3)), x)
    np.testing.assert_allclose(grad, 3 * before**2, rtol=1e-8, atol=1e-9)
    np.testing.assert_array_equal(x, before)             # bit for bit: every nudge undone


def test_numerical_gradient_works_on_a_transposed_view():
    base = np.arange(6.0).reshape(2, 3)
    x = base.T                                           # not contiguous: reshape(-1) would be a copy
    grad = numerical_gradient(lambda: float(np.sum(x**2)), x)
    np.testing.assert_allclose(grad, 2 * x, atol=1e-8)
    np.testing.assert_array_equal(base, np.arange(6.0).reshape(2, 3))


def test_numerical_gradient_rejects_float32():
    with pytest.raises(TypeError, match=r"numerical_gradient needs a float64 array \(got float32\)"):
        numerical_gradient(lambda: 0.0, np.zeros(3, dtype=np.float32))


def test_check_module_rejects_float32_parameters(rng):
    layer = Square(2)
    layer.w = Parameter(np.ones(2, dtype=np.float32), "w")
    with pytest.raises(TypeError, match=r"check_module needs float64 parameters; 'w' is float32"):
        check_module(layer, rng.normal(size=(3, 2)))


def test_compare_detects_a_shape_mismatch():
    with pytest.raises(GradcheckError, match=r"gradient of 'weight' has shape \(3, 2\), but the tensor has "
                                             r"shape \(2, 3\)\. A gradient always has the same shape"):
        compare("weight", np.zeros((3, 2)), np.zeros((2, 3)))


def test_compare_returns_the_max_error_and_treats_nan_as_failure():
    assert compare("x", [1.0, 2.0], [1.0, 2.0 + 2e-7]) == pytest.approx(1e-7, rel=1e-3)
    with pytest.raises(GradcheckError, match=r"gradient of 'x' is wrong at index \(1,\)"):
        compare("x", [1.0, np.nan], [1.0, 2.0])
    assert compare("empty", np.zeros((0, 3)), np.zeros((0, 3))) == 0.0


def test_relative_error_uses_the_floor_for_tiny_values():
    assert relative_error(1e-9, 2e-9)[()] == pytest.approx(1e-6)       # absolute below the floor of 1e-3
    assert relative_error(1.0, 1.1)[()] == pytest.approx(0.1 / 1.1)
