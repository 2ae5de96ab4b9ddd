"""BatchNorm1d / BatchNorm2d: gradients, PyTorch agreement, running statistics, errors."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bplearn.errors import BackwardBeforeForwardError, ShapeError
from bplearn.gradcheck import check_module
from bplearn.nn.batchnorm import BatchNorm1d, BatchNorm2d

# (layer class, input shape): (N, C), (N, C, L) and (N, C, H, W), all with C = 3.
CASES = [(BatchNorm1d, (6, 3)), (BatchNorm1d, (4, 3, 5)), (BatchNorm2d, (3, 3, 4, 2))]
IDS = ["1d-NC", "1d-NCL", "2d-NCHW"]

# Finite differences divide the round-off of L(x + eps) - L(x - eps) by 2 eps. The loss
# sums tens of products of size ~1, so that round-off is ~1e-14 and at eps = 1e-6 the
# numeric gradient is off by a few 1e-9: above tol * floor = 1e-9, a false alarm.
# eps = 1e-5 cuts the round-off tenfold while the truncation error (~eps**2) stays ~1e-10.
FD_EPS = 1e-5


def _layer(cls, rng, **kwargs):
    """A layer with non-trivial gamma and beta (the defaults 1 and 0 would hide mistakes)."""
    layer = cls(3, **kwargs)
    layer.weight.data[:] = rng.normal(size=3)
    layer.bias.data[:] = rng.normal(size=3)
    return layer


def _channel_rows(x):
    """(N, C, *spatial) -> (values, C) computed independently of the layer's own helper."""
    return np.concatenate([x[:, c].reshape(-1, 1) for c in range(x.shape[1])], axis=1)


@pytest.mark.parametrize("cls, shape", CASES, ids=IDS)
def test_batchnorm_train_backward_matches_finite_differences(cls, shape, rng):
    layer = _layer(cls, rng)
    # Every FD call also updates the running statistics; train-mode outputs never read them.
    errors = check_module(layer, rng.normal(size=shape), eps=FD_EPS)
    assert set(errors) == {"input0", "weight", "bias"}
    assert max(errors.values()) < 1e-6


@pytest.mark.parametrize("cls, shape", CASES, ids=IDS)
def test_batchnorm_eval_backward_matches_finite_differences(cls, shape, rng):
    layer = _layer(cls, rng)
    layer.running_mean = rng.normal(size=3)
    layer.running_var = rng.uniform(0.5, 2.0, size=3)
    layer.eval()
    errors = check_module(layer, rng.normal(size=shape), eps=FD_EPS)
    assert max(errors.values()) < 1e-6


def _torch_layer(torch, cls, layer):
    tcls = torch.nn.BatchNorm1d if cls is BatchNorm1d else torch.nn.BatchNorm2d
    tlayer = tcls(layer.num_features, eps=layer.eps, momentum=layer.momentum, dtype=torch.float64)
    with torch.no_grad():
        tlayer.weight.copy_(torch.from_numpy(layer.weight.data))
        tlayer.bias.copy_(torch.from_numpy(layer.bias.data))
    return tlayer


def _step_and_compare(torch, layer, tlayer, x, upstream):
    """One forward + backward in both libraries; assert every result agrees to 1e-10."""
    layer.zero_grad()
    tlayer.zero_grad()
    out = layer(x)
    dx = layer.backward(upstream)
    xt = torch.tensor(x, requires_grad=True)
    out_t = tlayer(xt)
    out_t.backward(torch.from_numpy(upstream))
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(layer.weight.grad, tlayer.weight.grad.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(layer.bias.grad, tlayer.bias.grad.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(layer.running_mean, tlayer.running_mean.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(layer.running_var, tlayer.running_var.numpy(), rtol=0, atol=1e-10)


@pytest.mark.parametrize("cls, shape", CASES, ids=IDS)
def test_batchnorm_train_then_eval_matches_torch(torch, cls, shape, rng):
    layer = _layer(cls, rng, eps=1e-3, momentum=0.3)
    tlayer = _torch_layer(torch, cls, layer)
    for step in range(4):  # several steps so the running averages really mix batches
        x = rng.normal(loc=step - 1.0, scale=1.0 + step, size=shape)
        _step_and_compare(torch, layer, tlayer, x, rng.normal(size=shape))
    layer.eval()
    tlayer.eval()
    x = rng.normal(size=shape)
    _step_and_compare(torch, layer, tlayer, x, rng.normal(size=shape))


def test_batchnorm_running_var_stores_unbiased_batch_variance(rng):
    x = rng.normal(loc=2.0, scale=3.0, size=(5, 3))
    layer = BatchNorm1d(3, momentum=1.0)  # momentum 1: running stats = this batch's stats
    out = layer(x)
    np.testing.assert_allclose(layer.running_mean, x.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(layer.running_var, x.var(axis=0, ddof=1), atol=1e-12)
    # ... while the normalisation itself divides by the biased (ddof=0) standard deviation
    expected = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + layer.eps)
    np.testing.assert_allclose(out, expected, atol=1e-12)


def test_batchnorm2d_running_stats_follow_momentum_formula(rng):
    x = rng.normal(size=(2, 3, 3, 2))
    layer = BatchNorm2d(3, momentum=0.25)
    layer(x)
    rows = _channel_rows(x)  # 12 values per channel
    np.testing.assert_allclose(layer.running_mean, 0.25 * rows.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(layer.running_var, 0.75 * 1.0 + 0.25 * rows.var(axis=0, ddof=1), atol=1e-12)


def test_batchnorm_eval_uses_running_stats_and_leaves_them_unchanged(rng):
    layer = BatchNorm2d(3)
    layer.running_mean = np.array([1.0, -2.0, 0.5])
    layer.running_var = np.array([4.0, 0.25, 1.0])
    layer.eval()
    x = rng.normal(size=(1, 3, 2, 2))  # a batch of one is fine in eval mode
    out = layer(x)
    expected = (x - layer.running_mean[:, None, None]) / np.sqrt(layer.running_var[:, None, None] + layer.eps)
    np.testing.assert_allclose(out, expected, atol=1e-12)
    np.testing.assert_array_equal(layer.running_mean, [1.0, -2.0, 0.5])
    np.testing.assert_array_equal(layer.running_var, [4.0, 0.25, 1.0])


def test_batchnorm_backward_follows_the_mode_of_its_forward(rng):
    x, upstream = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    reference = _layer(BatchNorm1d, np.random.default_rng(0))
    reference(x)
    expected = reference.backward(upstream)
    layer = _layer(BatchNorm1d, np.random.default_rng(0))
    layer(x)
    layer.eval()  # switching after forward must not change which derivative backward uses
    np.testing.assert_array_equal(layer.backward(upstream), expected)


def test_batchnorm_parameter_gradients_accumulate_until_zero_grad(rng):
    layer = _layer(BatchNorm2d, rng)
    x, upstream = rng.normal(size=(2, 3, 2, 2)), rng.normal(size=(2, 3, 2, 2))
    layer(x)
    layer.backward(upstream)
    once = layer.weight.grad.copy(), layer.bias.grad.copy()
    layer.backward(upstream)
    np.testing.assert_allclose(layer.weight.grad, 2 * once[0])
    np.testing.assert_allclose(layer.bias.grad, 2 * once[1])


def test_batchnorm_parameters_are_gamma_and_beta_only():
    names = [name for name, _ in BatchNorm2d(4).named_parameters()]
    assert names == ["weight", "bias"]  # running stats are buffers: no gradient, no optimiser step


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(2, 6), c=st.integers(1, 4), h=st.integers(1, 3), w=st.integers(1, 3),
    scale=st.floats(0.1, 100.0), shift=st.floats(-50.0, 50.0), seed=st.integers(0, 2**16),
    two_d=st.booleans(),
)
def test_batchnorm_train_output_has_zero_mean_unit_variance_per_channel(n, c, h, w, scale, shift, seed, two_d):
    shape = (n, c, h, w) if two_d else (n, c)
    x = np.random.default_rng(seed).normal(loc=shift, scale=scale, size=shape)
    layer = BatchNorm2d(c) if two_d else BatchNorm1d(c)
    rows = _channel_rows(layer(x))
    v = _channel_rows(x).var(axis=0)
    np.testing.assert_allclose(rows.mean(axis=0), 0.0, atol=1e-9)
    # var(xhat) = v / (v + eps): 1 up to the eps that keeps the division safe
    np.testing.assert_allclose(rows.var(axis=0), v / (v + layer.eps), rtol=1e-8)
    assert np.all(np.abs(rows.var(axis=0) - 1.0) <= layer.eps / v + 1e-8)


def test_batchnorm1d_rejects_wrong_channel_count_naming_expected_shape():
    with pytest.raises(ShapeError, match=r"BatchNorm1d\(3.*expected input of shape \(N, 3\) but got \(5, 4\)"):
        BatchNorm1d(3)(np.zeros((5, 4)))


def test_batchnorm1d_rejects_wrong_ndim_and_names_accepted_shapes():
    with pytest.raises(ShapeError, match=r"got \(2, 3, 4, 5\).*takes \(N, C\) or \(N, C, L\)"):
        BatchNorm1d(3)(np.zeros((2, 3, 4, 5)))


def test_batchnorm2d_rejects_non_image_input_and_suggests_batchnorm1d():
    with pytest.raises(ShapeError, match=r"needs 4 dimensions, the input has 2.*\(N, C, H, W\).*BatchNorm1d"):
        BatchNorm2d(3)(np.zeros((8, 3)))


def test_batchnorm2d_rejects_wrong_channel_count():
    with pytest.raises(ShapeError, match=r"got \(2, 5, 4, 4\).*C = num_features = 3"):
        BatchNorm2d(3)(np.zeros((2, 5, 4, 4)))


@pytest.mark.parametrize("layer, x", [(BatchNorm1d(3), np.ones((1, 3))), (BatchNorm2d(3), np.ones((1, 3, 1, 1)))])
def test_batchnorm_rejects_single_value_per_channel_in_training(layer, x):
    with pytest.raises(ShapeError, match=r"needs more than one value per channel in training; "
                                         r"use eval\(\) or a bigger batch"):
        layer(x)


def test_batchnorm2d_accepts_batch_of_one_image_with_several_pixels(rng):
    out = BatchNorm2d(3)(rng.normal(size=(1, 3, 2, 2)))  # 4 values per channel: statistics exist
    assert out.shape == (1, 3, 2, 2)


def test_batchnorm_backward_before_forward_is_explained():
    with pytest.raises(BackwardBeforeForwardError, match=r"BatchNorm2d.*before forward\(\)"):
        BatchNorm2d(3).backward(np.zeros((2, 3, 2, 2)))


def test_batchnorm_backward_rejects_grad_out_of_wrong_shape(rng):
    layer = BatchNorm1d(3)
    layer(rng.normal(size=(4, 3)))
    with pytest.raises(ShapeError, match=r"grad_out of shape \(4, 3\).*got \(4, 1\)"):
        layer.backward(np.zeros((4, 1)))


@pytest.mark.parametrize("kwargs, message", [
    ({"num_features": 0}, "num_features must be a whole number >= 1, got 0"),
    ({"num_features": 3, "momentum": 1.5}, r"momentum must be in \[0, 1\]"),
    ({"num_features": 3, "eps": 0.0}, r"eps must be in \(0, inf\), got 0\.0"),
])
def test_batchnorm_rejects_bad_constructor_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BatchNorm1d(**kwargs)
