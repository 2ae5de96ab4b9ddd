"""Lesson 06's your-turn checks: the references are right, and typical wrong answers get specific hints."""

import copy

import numpy as np

from bplearn import nn
from bplearn.feedback import lesson06
from bplearn.feedback.yourturn import CORRECT, NOT_DONE, WRONG


def _linears(model):
    return [layer for layer in model if isinstance(layer, nn.Linear)]


# --- layer_gradient_norms -----------------------------------------------------------------

def test_norms_reference_matches_finite_differences_of_each_weight():
    rng = np.random.default_rng(3)
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.Tanh(), nn.Linear(4, 2, rng=1))
    X, y = rng.normal(size=(5, 3)), np.array([0, 1, 1, 0, 1])
    loss_fn = nn.CrossEntropyLoss()
    from bplearn import gradcheck
    expected = [np.linalg.norm(gradcheck.numerical_gradient(lambda: loss_fn(model(X), y), layer.weight.data))
                for layer in _linears(model)]
    np.testing.assert_allclose(lesson06._layer_gradient_norms(model, loss_fn, X, y), expected, rtol=1e-6)


def test_norms_reference_matches_torch(torch):
    rng = np.random.default_rng(4)
    model = nn.Sequential(nn.Linear(3, 5, rng=0), nn.Sigmoid(), nn.Linear(5, 5, rng=1), nn.Sigmoid(),
                          nn.Linear(5, 2, rng=2))
    X, y = rng.normal(size=(6, 3)), rng.integers(0, 2, size=6)
    weights = [torch.tensor(l.weight.data, requires_grad=True) for l in _linears(model)]
    biases = [torch.tensor(l.bias.data) for l in _linears(model)]
    h = torch.tensor(X)
    for k, (w, b) in enumerate(zip(weights, biases)):
        h = h @ w.T + b
        h = torch.sigmoid(h) if k < 2 else h
    torch.nn.functional.cross_entropy(h, torch.tensor(y)).backward()
    expected = [w.grad.norm().item() for w in weights]
    np.testing.assert_allclose(lesson06._layer_gradient_norms(model, nn.CrossEntropyLoss(), X, y), expected,
                               rtol=1e-10)


def test_norms_reference_ignores_gradients_left_from_before():
    a = lesson06.layer_gradient_norms.make_inputs(np.random.default_rng(0))   # its grads are not zero
    clean = copy.deepcopy(a)
    for p in clean["model"].parameters():
        p.grad[...] = 0.0
    np.testing.assert_allclose(lesson06.layer_gradient_norms.reference(**a),
                               lesson06.layer_gradient_norms.reference(**clean), rtol=1e-12)


def test_norms_stub_is_not_done_and_reference_passes():
    def layer_gradient_norms(model, loss_fn, X, y):
        """Return the norms."""
        ...

    assert lesson06.layer_gradient_norms.verdict(layer_gradient_norms).status == NOT_DONE
    assert lesson06.layer_gradient_norms.verdict(lesson06.layer_gradient_norms.reference).status == CORRECT


def test_norms_without_zero_grad_is_named():
    def layer_gradient_norms(model, loss_fn, X, y):
        loss_fn(model(X), y)
        model.backward(loss_fn.backward())
        return np.array([np.linalg.norm(l.weight.grad) for l in model if isinstance(l, nn.Linear)])

    verdict = lesson06.layer_gradient_norms.verdict(layer_gradient_norms)
    assert verdict.status == WRONG and "the old gradients were not cleared" in verdict.message
    assert "model.zero_grad()" in verdict.message


def test_norms_output_side_first_is_named():
    def layer_gradient_norms(model, loss_fn, X, y):
        model.zero_grad()
        loss_fn(model(X), y)
        model.backward(loss_fn.backward())
        return np.array([np.linalg.norm(l.weight.grad) for l in reversed(model.layers) if isinstance(l, nn.Linear)])

    assert "the layers are in the wrong order" in lesson06.layer_gradient_norms.verdict(layer_gradient_norms).message


def test_norms_as_sums_of_squares_are_named():
    def layer_gradient_norms(model, loss_fn, X, y):
        model.zero_grad()
        loss_fn(model(X), y)
        model.backward(loss_fn.backward())
        return np.array([np.sum(l.weight.grad ** 2) for l in model if isinstance(l, nn.Linear)])

    assert "these are squared norms" in lesson06.layer_gradient_norms.verdict(layer_gradient_norms).message


def test_norms_of_every_parameter_instead_of_every_layer_get_a_shape_message():
    def layer_gradient_norms(model, loss_fn, X, y):
        model.zero_grad()
        loss_fn(model(X), y)
        model.backward(loss_fn.backward())
        return np.array([np.linalg.norm(p.grad) for p in model.parameters()])   # weights and biases

    verdict = lesson06.layer_gradient_norms.verdict(layer_gradient_norms)
    assert "norms has shape" in verdict.message and "but should have shape" in verdict.message


# --- init_std --------------------------------------------------------------------------------

def test_the_check_tries_both_activations():
    rng = np.random.default_rng(lesson06.init_std.seed)
    seen = {lesson06.init_std.make_inputs(rng)["activation"] for _ in range(lesson06.init_std.cases)}
    assert seen == {"relu", "tanh"}


def _mean_square_ratio(activation, layer, scale, depth=10, width=256):
    """Mean square of the signal after ``depth`` layers over that after the first activation,
    with weights drawn at ``scale`` times init_std's variance."""
    rng = np.random.default_rng(0)
    h = layer()(rng.normal(size=(512, width)))
    start = np.mean(h ** 2)
    for _ in range(depth):
        w = rng.normal(0.0, np.sqrt(scale) * lesson06._init_std(width, activation), size=(width, width))
        h = layer()(h @ w.T)
    return np.mean(h ** 2) / start


def test_init_std_keeps_a_relu_signal_steady_through_depth():
    assert 0.5 < _mean_square_ratio("relu", nn.ReLU, 1.0) < 2.0
    assert _mean_square_ratio("relu", nn.ReLU, 0.5) < 0.01 < 100 < _mean_square_ratio("relu", nn.ReLU, 2.0)


def test_init_std_lets_a_tanh_signal_fade_only_slowly():
    # tanh squeezes large values, so even the linear-regime answer 1/fan_in loses some signal
    # over ten layers; half that variance loses it by orders of magnitude more
    right = _mean_square_ratio("tanh", nn.Tanh, 1.0)
    assert right > 0.05 and right > 50 * _mean_square_ratio("tanh", nn.Tanh, 0.5)


def test_init_std_stub_is_not_done():
    def init_std(fan_in, activation):
        """Return the std."""
        ...

    assert lesson06.init_std.verdict(init_std).status == NOT_DONE
    assert lesson06.init_std.verdict(lesson06._init_std).status == CORRECT


def test_init_std_returning_the_variance_is_named():
    def init_std(fan_in, activation):
        return 2 / fan_in if activation == "relu" else 1 / fan_in

    assert "the variance, not the standard deviation" in lesson06.init_std.verdict(init_std).message


def test_init_std_forgetting_the_relu_factor_is_named():
    def init_std(fan_in, activation):
        return np.sqrt(1 / fan_in)

    verdict = lesson06.init_std.verdict(init_std)
    assert "ReLU is missing its factor 2" in verdict.message and "2 / fan_in" in verdict.message


def test_init_std_using_he_for_tanh_is_named():
    def init_std(fan_in, activation):
        return np.sqrt(2 / fan_in)

    assert "tanh got the ReLU factor 2" in lesson06.init_std.verdict(init_std).message


def test_init_std_with_fan_in_upside_down_is_named():
    def init_std(fan_in, activation):
        return np.sqrt(2 * fan_in) if activation == "relu" else np.sqrt(fan_in)

    assert "the fan-in is in the numerator" in lesson06.init_std.verdict(init_std).message
