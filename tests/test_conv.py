"""Conv2d and conv2d_naive: hand-worked values, finite differences, PyTorch, errors."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bplearn import nn
from bplearn.errors import BackwardBeforeForwardError, DTypeError, ShapeError
from bplearn.gradcheck import check_module
from bplearn.nn.conv import Conv2d, conv2d_naive

# (N, C, H, W, F, kernel_size, stride, padding): square and non-square kernels, strides
# and paddings, odd image sizes, a 1x1 kernel, a kernel as large as the image.
CASES = [
    (3, 1, 5, 5, 2, 3, 1, 0),
    (2, 3, 7, 6, 4, (3, 2), (2, 1), (1, 2)),
    (2, 2, 6, 7, 3, 1, 1, 0),
    (1, 2, 5, 4, 3, (2, 3), 3, (0, 1)),
    (2, 3, 4, 4, 2, 4, 1, 2),
    (2, 2, 9, 5, 2, (1, 4), (2, 3), 1),
]
IDS = ["basic", "nonsquare-stride-pad", "1x1", "stride3", "kernel=image", "wide-kernel"]


def _layer(c, f, kernel, stride, padding, rng, bias=True):
    """A Conv2d with random (non-zero) bias, so a bias mistake cannot hide behind zeros."""
    layer = Conv2d(c, f, kernel, stride=stride, padding=padding, bias=bias, rng=rng)
    if bias:
        layer.bias.data[:] = rng.normal(size=f)
    return layer


# --- the reference implementation ----------------------------------------------------

def test_conv2d_naive_matches_hand_computed_example():
    x = np.arange(9.0).reshape(1, 1, 3, 3)            # [[0 1 2] [3 4 5] [6 7 8]]
    w = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])        # out[i, j] = x[i, j] - x[i+1, j+1]
    np.testing.assert_array_equal(conv2d_naive(x, w, np.array([0.5])), np.full((1, 1, 2, 2), -3.5))
    # padding 1 and stride 2 on the 5x5 padded image: top-left corners (0,0) (0,2) (2,0) (2,2)
    expected = np.array([[0.0 - 0.0, 0.0 - 2.0], [0.0 - 6.0, 4.0 - 8.0]])
    np.testing.assert_array_equal(conv2d_naive(x, w, stride=2, padding=1)[0, 0], expected)


def test_conv2d_naive_matches_torch(torch, rng):
    x, w, b = rng.normal(size=(2, 3, 6, 5)), rng.normal(size=(4, 3, 3, 2)), rng.normal(size=4)
    expected = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b),
                                          stride=(2, 1), padding=(1, 0)).numpy()
    np.testing.assert_allclose(conv2d_naive(x, w, b, stride=(2, 1), padding=(1, 0)), expected,
                               rtol=1e-12, atol=1e-12)


# --- the fast layer against the reference, finite differences and torch ----------------

@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 3), c=st.integers(1, 3), f=st.integers(1, 3), h=st.integers(1, 8),
       w=st.integers(1, 8), kh=st.integers(1, 4), kw=st.integers(1, 4), sh=st.integers(1, 3),
       sw=st.integers(1, 3), ph=st.integers(0, 2), pw=st.integers(0, 2), seed=st.integers(0, 2**16))
def test_conv2d_forward_matches_naive_on_random_shapes(n, c, f, h, w, kh, kw, sh, sw, ph, pw, seed):
    assume(h + 2 * ph >= kh and w + 2 * pw >= kw)
    rng = np.random.default_rng(seed)
    layer = _layer(c, f, (kh, kw), (sh, sw), (ph, pw), rng)
    x = rng.normal(size=(n, c, h, w))
    out = layer(x)
    expected = conv2d_naive(x, layer.weight.data, layer.bias.data, (sh, sw), (ph, pw))
    assert out.shape == expected.shape == (n, f, (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n, c, h, w, f, kernel, stride, padding", CASES, ids=IDS)
def test_conv2d_backward_matches_finite_differences(n, c, h, w, f, kernel, stride, padding, rng):
    layer = _layer(c, f, kernel, stride, padding, rng)
    errors = check_module(layer, rng.normal(size=(n, c, h, w)), eps=1e-5)
    assert set(errors) == {"input0", "weight", "bias"}
    assert max(errors.values()) < 1e-6


def test_conv2d_without_bias_backward_matches_finite_differences(rng):
    layer = _layer(2, 3, 3, 2, 1, rng, bias=False)
    errors = check_module(layer, rng.normal(size=(2, 2, 5, 6)), eps=1e-5)
    assert set(errors) == {"input0", "weight"}
    assert max(errors.values()) < 1e-6


@pytest.mark.parametrize("n, c, h, w, f, kernel, stride, padding", CASES, ids=IDS)
def test_conv2d_forward_and_gradients_match_torch(torch, n, c, h, w, f, kernel, stride, padding, rng):
    layer = _layer(c, f, kernel, stride, padding, rng)
    x = rng.normal(size=(n, c, h, w))
    out = layer(x)
    upstream = rng.normal(size=out.shape)
    grad_x = layer.backward(upstream)

    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(layer.weight.data, requires_grad=True)
    tb = torch.tensor(layer.bias.data, requires_grad=True)
    tout = torch.nn.functional.conv2d(tx, tw, tb, stride=layer.stride, padding=layer.padding)
    tout.backward(torch.tensor(upstream))

    for ours, theirs in [(out, tout), (grad_x, tx.grad), (layer.weight.grad, tw.grad), (layer.bias.grad, tb.grad)]:
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-10, atol=1e-10)


def test_conv2d_stack_matches_torch_conv_stack(torch, rng):
    # Conv2d hands on a transposed view; the next Conv2d must read it correctly.
    first, second = _layer(2, 3, 3, 1, 1, rng), _layer(3, 2, (2, 3), (2, 1), 0, rng)
    x = rng.normal(size=(2, 2, 6, 6))
    out = second(first(x))
    upstream = rng.normal(size=out.shape)
    grad_x = first.backward(second.backward(upstream))

    tx = torch.tensor(x, requires_grad=True)
    tmid = torch.nn.functional.conv2d(tx, torch.tensor(first.weight.data), torch.tensor(first.bias.data),
                                      padding=1)
    tout = torch.nn.functional.conv2d(tmid, torch.tensor(second.weight.data), torch.tensor(second.bias.data),
                                      stride=(2, 1))
    tout.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(grad_x, tx.grad.numpy(), rtol=1e-10, atol=1e-10)


# --- behaviour: accumulation, dtypes, construction -----------------------------------

def test_conv2d_gradients_accumulate_until_zero_grad(rng):
    layer = _layer(2, 3, 3, 1, 1, rng)
    x = rng.normal(size=(2, 2, 4, 5))
    upstream = rng.normal(size=layer(x).shape)
    layer.backward(upstream)
    once_w, once_b = layer.weight.grad.copy(), layer.bias.grad.copy()
    layer.backward(upstream)
    np.testing.assert_allclose(layer.weight.grad, 2 * once_w)
    np.testing.assert_allclose(layer.bias.grad, 2 * once_b)
    layer.zero_grad()
    assert not layer.weight.grad.any() and not layer.bias.grad.any()


def test_conv2d_float32_parameters_and_input_stay_float32(rng):
    layer = _layer(2, 3, 3, 1, 1, rng)
    reference = layer(rng.normal(size=(2, 2, 5, 5)))     # float64 by default
    assert reference.dtype == np.float64
    for p in layer.parameters():
        p.data, p.grad = p.data.astype(np.float32), np.zeros(p.shape, np.float32)
    out = layer(rng.normal(size=(2, 2, 5, 5)).astype(np.float32))
    grad_x = layer.backward(np.ones(out.shape, np.float32))
    assert out.dtype == grad_x.dtype == layer.weight.grad.dtype == np.float32


def test_conv2d_weights_use_kaiming_init_and_repeat_with_seed():
    a, b = Conv2d(4, 8, 3, rng=7), Conv2d(4, 8, 3, rng=7)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    bound = np.sqrt(6.0 / (4 * 3 * 3))                  # kaiming uniform, fan_in = C * kh * kw
    assert a.weight.shape == (8, 4, 3, 3) and np.abs(a.weight.data).max() <= bound
    assert a.bias.shape == (8,) and not a.bias.data.any()
    assert not np.array_equal(a.weight.data, Conv2d(4, 8, 3, rng=8).weight.data)


def test_conv2d_repr_and_nn_export():
    assert repr(nn.Conv2d(1, 8, 3)) == "Conv2d(1, 8, kernel_size=3)"
    assert repr(Conv2d(3, 4, (3, 2), stride=2, padding=(1, 0), bias=False)) == \
        "Conv2d(3, 4, kernel_size=(3, 2), stride=2, padding=(1, 0), bias=False)"
    assert [name for name, _ in Conv2d(1, 2, 3).named_parameters()] == ["weight", "bias"]


# --- errors a learner can act on ------------------------------------------------------

def test_conv2d_missing_channel_axis_error_names_shapes_and_fix():
    with pytest.raises(ShapeError, match=r"Conv2d\(1, 8, kernel_size=3\) expected input of shape "
                                         r"\(N, 1, H, W\) but got \(64, 28, 28\).*x\[:, None\]"):
        Conv2d(1, 8, 3)(np.zeros((64, 28, 28)))


def test_conv2d_wrong_channel_count_error():
    with pytest.raises(ShapeError, match=r"\(N, 3, H, W\) but got \(2, 1, 5, 5\): axis 1 holds the "
                                         r"channels and has 1, not 3"):
        Conv2d(3, 4, 3)(np.zeros((2, 1, 5, 5)))


def test_conv2d_channels_last_input_error_suggests_transpose():
    with pytest.raises(ShapeError, match=r"x\.transpose\(0, 3, 1, 2\)"):
        Conv2d(3, 4, 3)(np.zeros((2, 5, 5, 3)))


def test_conv2d_kernel_larger_than_padded_input_error():
    with pytest.raises(ShapeError, match=r"images of 3x3 pixels \(3x3 with padding \(0, 0\)\), smaller "
                                         r"than its 5x5 kernel"):
        Conv2d(1, 2, 5)(np.zeros((1, 1, 3, 3)))
    assert Conv2d(1, 2, 5, padding=1)(np.zeros((1, 1, 3, 3))).shape == (1, 2, 1, 1)   # padding makes it fit


@pytest.mark.parametrize("kwargs, message", [
    ({"stride": 0}, r"stride must be a positive int or a pair of them, like 2 or \(2, 1\); got 0"),
    ({"padding": -1}, r"padding must be an int >= 0 or a pair of them.*got -1"),
    ({"kernel_size": (3,)}, r"kernel_size must be a positive int or a pair.*got \(3,\)"),
    ({"kernel_size": 2.5}, r"kernel_size must be a positive int.*got 2\.5"),
    ({"stride": (1, 2, 3)}, r"stride must be a positive int.*got \(1, 2, 3\)"),
    ({"in_channels": 0}, r"in_channels must be a whole number >= 1, got 0"),
])
def test_conv2d_invalid_arguments_raise_value_error(kwargs, message):
    args = {"in_channels": 1, "out_channels": 2, "kernel_size": 3, **kwargs}
    with pytest.raises(ValueError, match=message):
        Conv2d(**args)


def test_conv2d_backward_before_forward_error():
    with pytest.raises(BackwardBeforeForwardError, match=r"Conv2d\(1, 2, kernel_size=3\)\.backward\(\) was "
                                                         r"called before forward\(\)"):
        Conv2d(1, 2, 3).backward(np.zeros((1, 2, 3, 3)))


def test_conv2d_backward_with_wrong_gradient_shape_error(rng):
    layer = Conv2d(1, 2, 3)
    layer(rng.normal(size=(4, 1, 5, 5)))
    with pytest.raises(ShapeError, match=r"expected grad_out of shape \(4, 2, 3, 3\).*got \(4, 2, 9\)"):
        layer.backward(np.zeros((4, 2, 9)))


def test_conv2d_non_numeric_input_error():
    with pytest.raises(DTypeError, match=r"Conv2d: the input has dtype <U1, but bplearn needs real numbers"):
        Conv2d(1, 2, 3)(np.array([[[["a"]]]]))
