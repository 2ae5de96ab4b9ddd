"""Optimisers and gradient clipping: hand-worked updates, torch.optim step for step, errors."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from bplearn import nn
from bplearn.errors import NonFiniteError
from bplearn.nn import Parameter
from bplearn.optim import SGD, Adam, Optimizer, RMSprop, clip_grad_norm, grad_norm

SHAPES = [(3, 4), (4,), (2, 1, 3)]


def make_params(seed=0):
    rng = np.random.default_rng(seed)
    return [Parameter(rng.standard_normal(shape), name=f"p{i}") for i, shape in enumerate(SHAPES)]


def grads_for_steps(steps, seed=1):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(shape) for shape in SHAPES] for _ in range(steps)]


# --- hand-worked updates (no torch needed) ---------------------------------------------

def test_sgd_step_moves_against_the_gradient_by_lr_times_grad():
    p = Parameter(np.array([1.0, -2.0]))
    p.grad[...] = [0.5, -4.0]
    SGD([p], lr=0.1).step()
    np.testing.assert_allclose(p.data, [1.0 - 0.05, -2.0 + 0.4], rtol=0, atol=1e-15)


def test_sgd_momentum_accumulates_velocity_over_two_steps():
    p = Parameter(np.array([0.0]))
    opt = SGD([p], lr=0.5, momentum=0.9)
    p.grad[...] = 1.0
    opt.step()                      # b1 = 1, theta = -0.5
    opt.step()                      # b2 = 0.9 * 1 + 1 = 1.9, theta = -0.5 - 0.95
    np.testing.assert_allclose(p.data, [-1.45], rtol=0, atol=1e-15)


def test_sgd_nesterov_adds_momentum_times_velocity_to_the_gradient():
    p = Parameter(np.array([0.0]))
    opt = SGD([p], lr=1.0, momentum=0.5, nesterov=True)
    p.grad[...] = 2.0
    opt.step()                      # b1 = 2, step = 2 + 0.5 * 2 = 3
    np.testing.assert_allclose(p.data, [-3.0], rtol=0, atol=1e-15)


def test_sgd_weight_decay_shrinks_weights_with_zero_gradient():
    p = Parameter(np.array([2.0, -4.0]))
    SGD([p], lr=0.1, weight_decay=0.5).step()     # g = 0 + 0.5 * theta
    np.testing.assert_allclose(p.data, [2.0 * 0.95, -4.0 * 0.95], rtol=0, atol=1e-15)


def test_adam_first_step_moves_each_weight_by_about_lr_whatever_the_gradient_scale():
    p = Parameter(np.zeros(4))
    p.grad[...] = [1e-3, -5.0, 200.0, -1e4]
    Adam([p], lr=0.01).step()       # m_hat = g, v_hat = g**2 -> step = lr * g / (|g| + eps)
    g = np.array([1e-3, -5.0, 200.0, -1e4])
    np.testing.assert_allclose(p.data, -0.01 * g / (np.abs(g) + 1e-8), rtol=1e-12)
    np.testing.assert_allclose(np.abs(p.data), 0.01, rtol=1e-4)


def test_rmsprop_first_step_divides_by_the_root_of_one_minus_alpha():
    p = Parameter(np.zeros(2))
    p.grad[...] = [3.0, -0.5]
    RMSprop([p], lr=0.01, alpha=0.99).step()      # v = 0.01 g**2 -> step = lr * sign(g) / 0.1
    np.testing.assert_allclose(p.data, [-0.1, 0.1], rtol=1e-6)


def test_zero_grad_clears_every_gradient():
    params = make_params()
    for p in params:
        p.grad += 1.0
    SGD(params, lr=0.1).zero_grad()
    assert all(np.all(p.grad == 0) for p in params)


def test_learning_rate_can_be_changed_between_steps():
    p = Parameter(np.array([1.0]))
    opt = SGD([p], lr=0.1)
    opt.lr = 0.5
    p.grad[...] = 1.0
    opt.step()
    np.testing.assert_allclose(p.data, [0.5])


def test_a_parameter_listed_twice_is_updated_once():
    p = Parameter(np.array([1.0]))
    p.grad[...] = 1.0
    SGD([p, p], lr=0.1).step()
    np.testing.assert_allclose(p.data, [0.9])


def test_optimizer_accepts_named_parameters_of_a_model():
    model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.Linear(3, 1, rng=1))
    opt = SGD(model.named_parameters(), lr=0.1)
    assert [p for p in opt.params] == model.parameters()
    assert [name for name, _ in opt.named_params] == ["0.weight", "0.bias", "1.weight", "1.bias"]


# --- torch.optim, step for step --------------------------------------------------------

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True)),
    ("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.7, weight_decay=0.1, nesterov=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6, momentum=0.9)),
]


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{sorted(k.items())}" for n, k in CASES])
def test_optimizer_matches_torch_optim_for_five_steps(torch, name, kwargs):
    ours = make_params()
    theirs = [torch.tensor(p.data.copy(), dtype=torch.float64, requires_grad=True) for p in ours]
    opt = {"SGD": SGD, "Adam": Adam, "RMSprop": RMSprop}[name](ours, **kwargs)
    ref = getattr(torch.optim, name)(theirs, **kwargs)
    for grads in grads_for_steps(5):
        opt.zero_grad()
        ref.zero_grad()
        for p, t, g in zip(ours, theirs, grads):
            p.grad += g
            t.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        ref.step()
        for p, t in zip(ours, theirs):
            np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-10, atol=1e-12)


# --- gradient clipping -------------------------------------------------------------------

def test_clip_grad_norm_returns_the_global_norm_and_caps_it_exactly():
    a, b = Parameter(np.zeros(2)), Parameter(np.zeros(1))
    a.grad[...] = [3.0, 4.0]
    b.grad[...] = [12.0]                                  # global norm sqrt(9 + 16 + 144) = 13
    total = clip_grad_norm([a, b], max_norm=1.3)
    assert total == pytest.approx(13.0, rel=1e-15)
    scale = 1.3 / (13.0 + 1e-6)
    np.testing.assert_allclose(a.grad, [3.0 * scale, 4.0 * scale], rtol=1e-15)
    np.testing.assert_allclose(b.grad, [12.0 * scale], rtol=1e-15)
    new_norm = math.sqrt(np.sum(a.grad**2) + np.sum(b.grad**2))
    assert new_norm <= 1.3
    assert new_norm == pytest.approx(1.3, rel=1e-6)


def test_clip_grad_norm_leaves_small_gradients_alone():
    p = Parameter(np.zeros(3))
    p.grad[...] = [0.1, -0.2, 0.2]
    assert clip_grad_norm([p], max_norm=1.0) == pytest.approx(0.3)
    np.testing.assert_array_equal(p.grad, [0.1, -0.2, 0.2])


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.integers(1, 6), elements=st.floats(-1e6, 1e6)),
       arrays(np.float64, (2, 3), elements=st.floats(-1e6, 1e6)),
       st.floats(1e-3, 1e3))
def test_clipped_gradients_never_exceed_max_norm_and_keep_their_direction(g1, g2, max_norm):
    a, b = Parameter(np.zeros_like(g1)), Parameter(np.zeros_like(g2))
    a.grad[...], b.grad[...] = g1, g2
    before = np.concatenate([g1.ravel(), g2.ravel()])
    clip_grad_norm([a, b], max_norm)
    after = np.concatenate([a.grad.ravel(), b.grad.ravel()])
    assert np.linalg.norm(after) <= max_norm * (1 + 1e-12)
    if np.linalg.norm(before) > 0:
        np.testing.assert_allclose(after / np.linalg.norm(after), before / np.linalg.norm(before), atol=1e-12)


def test_clip_grad_norm_matches_torch(torch):
    ours = make_params()
    theirs = [torch.tensor(p.data.copy(), requires_grad=True) for p in ours]
    for p, t, g in zip(ours, theirs, grads_for_steps(1)[0]):
        p.grad += 10 * g
        t.grad = torch.tensor(10 * g)
    total = clip_grad_norm(ours, max_norm=2.0)
    ref_total = torch.nn.utils.clip_grad_norm_(theirs, max_norm=2.0)
    assert total == pytest.approx(float(ref_total), rel=1e-12)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-12)


# --- errors a learner can act on ----------------------------------------------------------

@pytest.mark.parametrize("lr", [0, -0.1, float("nan"), float("inf")])
def test_non_positive_or_non_finite_learning_rate_is_rejected(lr):
    with pytest.raises(ValueError, match=r"SGD: lr \(learning rate\) must be in \(0, inf\)"):
        SGD(make_params(), lr=lr)


@pytest.mark.parametrize("lr", ["0.1", None, True])
def test_learning_rate_that_is_not_a_number_is_rejected(lr):
    with pytest.raises(TypeError, match="Adam: lr \\(learning rate\\) must be a number"):
        Adam(make_params(), lr=lr)


def test_setting_a_bad_learning_rate_later_is_rejected():
    opt = SGD(make_params(), lr=0.1)
    with pytest.raises(ValueError, match="must be in"):
        opt.lr = -1.0


def test_empty_parameter_list_is_rejected():
    with pytest.raises(ValueError, match="RMSprop got an empty list of parameters"):
        RMSprop([], lr=0.01)


def test_a_numpy_array_instead_of_a_parameter_is_rejected():
    with pytest.raises(TypeError, match=r"item 1 of params is ndarray, not a bplearn Parameter.*model.parameters\(\)"):
        SGD([Parameter(np.zeros(2)), np.zeros(2)], lr=0.1)


def test_passing_the_model_instead_of_its_parameters_explains_the_fix():
    model = nn.Sequential(nn.Linear(2, 1))
    with pytest.raises(TypeError, match=r"not the model itself. Pass model.parameters\(\)"):
        Adam(model)


def test_nesterov_without_momentum_is_rejected():
    with pytest.raises(ValueError, match="nesterov=True needs momentum > 0"):
        SGD(make_params(), lr=0.1, nesterov=True)


@pytest.mark.parametrize("kwargs, message", [
    (dict(betas=(0.9, 1.0)), r"betas\[1\] must be in \[0, 1\)"),
    (dict(betas=0.9), "betas must be a pair"),
    (dict(eps=-1.0), "eps must be in"),
])
def test_adam_hyperparameters_out_of_range_are_rejected(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        Adam(make_params(), **kwargs)


def test_nan_gradient_at_step_names_the_parameter_and_changes_nothing():
    model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.Linear(3, 1, rng=1))
    before = [p.data.copy() for p in model.parameters()]
    for p in model.parameters():
        p.grad += 1.0
    model[1].weight.grad[0, 2] = np.nan
    opt = SGD(model.named_parameters(), lr=0.1, momentum=0.9)
    with pytest.raises(NonFiniteError, match=r"gradient of parameter '1.weight' \(shape \(1, 3\)\) contains NaN "
                                             r"or inf.*No parameter was changed.*lower the learning rate"):
        opt.step()
    assert all(np.array_equal(b, p.data) for b, p in zip(before, model.parameters()))
    assert opt.steps == 0


def test_inf_gradient_names_an_unnamed_list_parameter_by_position():
    params = make_params()
    params[2].grad[0, 0, 0] = np.inf
    with pytest.raises(NonFiniteError, match=r"Adam.step\(\): the gradient of parameter 'p2 \(#2\)'"):
        Adam(params).step()


def test_clip_grad_norm_refuses_nan_gradients_and_bad_max_norm():
    params = make_params()
    params[1].grad[0] = np.nan
    with pytest.raises(NonFiniteError, match="gradient of parameter 'p1 \\(#1\\)' contains NaN or inf"):
        clip_grad_norm(params, 1.0)
    with pytest.raises(ValueError, match="max_norm must be in \\(0, inf\\)"):
        clip_grad_norm(make_params(), 0.0)


def test_optimizer_base_class_is_shared_by_all_optimisers():
    assert all(issubclass(cls, Optimizer) for cls in (SGD, Adam, RMSprop))
    assert repr(SGD(make_params(), lr=0.1, momentum=0.9)) == (
        "SGD(3 parameters, lr=0.1, momentum=0.9, weight_decay=0, nesterov=False)")


def test_grad_norm_is_the_norm_of_all_gradients_together_even_for_huge_float32_ones():
    a, b = Parameter(np.zeros((2, 3), dtype=np.float32)), Parameter(np.zeros(4, dtype=np.float32))
    a.grad[...] = 3e30                                     # squares overflow float32, not float64
    b.grad[...] = -1.0
    expected = np.linalg.norm(np.concatenate([a.grad.ravel(), b.grad.ravel()]).astype(np.float64))
    assert grad_norm([a, b]) == pytest.approx(expected, rel=1e-12)
