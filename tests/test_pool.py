"""MaxPool2d and AvgPool2d: hand-worked values, finite differences, PyTorch, ties, errors."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bplearn import nn
from bplearn.errors import BackwardBeforeForwardError, ShapeError
from bplearn.gradcheck import check_module
from bplearn.nn.pool import AvgPool2d, MaxPool2d

# (input shape, kernel_size, stride): default stride, overlapping windows (stride <
# kernel), gaps (stride > kernel), non-square kernels and odd sizes that leave a border.
CASES = [
    ((2, 3, 4, 4), 2, None),
    ((2, 2, 5, 7), 3, 1),
    ((1, 2, 7, 6), (2, 3), (2, 1)),
    ((2, 1, 7, 7), 2, 3),
    ((3, 2, 5, 5), (1, 2), None),
]
IDS = ["2x2", "overlap-3x3-s1", "nonsquare", "gaps", "1x2-odd"]
POOLS = {"max": MaxPool2d, "avg": AvgPool2d}


def _torch_pool(torch, kind, x, kernel, stride):
    fn = torch.nn.functional.max_pool2d if kind == "max" else torch.nn.functional.avg_pool2d
    return fn(x, kernel, stride if stride is not None else kernel)


def test_maxpool_and_avgpool_match_hand_computed_example():
    x = np.array([[1.0, 2.0, 5.0, 0.0],
                  [3.0, 4.0, 1.0, 1.0],
                  [0.0, 0.0, 2.0, 9.0],
                  [-1.0, 8.0, 3.0, 3.0]])[None, None]
    np.testing.assert_array_equal(MaxPool2d(2)(x)[0, 0], [[4.0, 5.0], [8.0, 9.0]])
    np.testing.assert_array_equal(AvgPool2d(2)(x)[0, 0], [[2.5, 1.75], [1.75, 4.25]])
    pool = MaxPool2d(2)
    pool(x)
    grad = pool.backward(np.array([[[[10.0, 20.0], [30.0, 40.0]]]]))[0, 0]
    np.testing.assert_array_equal(grad, [[0, 0, 20, 0], [0, 10, 0, 0], [0, 0, 0, 40], [0, 30, 0, 0]])


@pytest.mark.parametrize("kind", POOLS)
@pytest.mark.parametrize("shape, kernel, stride", CASES, ids=IDS)
def test_pool_backward_matches_finite_differences(kind, shape, kernel, stride, rng):
    errors = check_module(POOLS[kind](kernel, stride), rng.normal(size=shape), eps=1e-5)
    assert set(errors) == {"input0"} and errors["input0"] < 1e-6


@pytest.mark.parametrize("kind", POOLS)
@pytest.mark.parametrize("shape, kernel, stride", CASES, ids=IDS)
def test_pool_forward_and_gradient_match_torch(torch, kind, shape, kernel, stride, rng):
    pool = POOLS[kind](kernel, stride)
    x = rng.normal(size=shape)
    out = pool(x)
    upstream = rng.normal(size=out.shape)
    grad_x = pool.backward(upstream)
    tx = torch.tensor(x, requires_grad=True)
    tout = _torch_pool(torch, kind, tx, kernel, stride)
    tout.backward(torch.tensor(upstream))
    assert out.shape == tuple(tout.shape)
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(grad_x, tx.grad.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("shape, kernel, stride", CASES, ids=IDS)
def test_maxpool_ties_send_gradient_to_first_maximum_like_torch(torch, shape, kernel, stride, rng):
    x = rng.integers(0, 2, size=shape).astype(float)          # only 0s and 1s: ties everywhere
    pool = MaxPool2d(kernel, stride)
    upstream = rng.normal(size=pool(x).shape)
    grad_x = pool.backward(upstream)
    tx = torch.tensor(x, requires_grad=True)
    _torch_pool(torch, "max", tx, kernel, stride).backward(torch.tensor(upstream))
    np.testing.assert_allclose(grad_x, tx.grad.numpy(), rtol=1e-10, atol=1e-10)
    # each window hands out its upstream gradient exactly once
    np.testing.assert_allclose(grad_x.sum(), upstream.sum(), rtol=1e-10, atol=1e-10)


def test_maxpool_on_a_transposed_view_matches_contiguous_input(rng):
    # Conv2d outputs are transposed views; pooling must not depend on the memory layout.
    memory = rng.normal(size=(3, 6, 6, 2))                    # (C, H, W, N)
    view, copy = memory.transpose(3, 0, 1, 2), np.ascontiguousarray(memory.transpose(3, 0, 1, 2))
    upstream = rng.normal(size=(2, 3, 3, 3))
    for cls in POOLS.values():
        a, b = cls(2), cls(2)
        np.testing.assert_array_equal(a(view), b(copy))
        np.testing.assert_array_equal(a.backward(upstream), b.backward(upstream))


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 2), c=st.integers(1, 3), h=st.integers(1, 9), w=st.integers(1, 9),
       kh=st.integers(1, 4), kw=st.integers(1, 4), sh=st.integers(1, 4), sw=st.integers(1, 4))
def test_pool_output_shape_follows_formula_and_maxpool_bounds_avgpool(n, c, h, w, kh, kw, sh, sw):
    assume(h >= kh and w >= kw)
    x = np.random.default_rng(h * 100 + w).normal(size=(n, c, h, w))
    big, mean = MaxPool2d((kh, kw), (sh, sw))(x), AvgPool2d((kh, kw), (sh, sw))(x)
    assert big.shape == mean.shape == (n, c, (h - kh) // sh + 1, (w - kw) // sw + 1)
    assert np.all(big >= mean - 1e-12)                         # a maximum is never below the mean


def test_pool_stride_defaults_to_kernel_size_and_repr():
    assert MaxPool2d(3).stride == (3, 3) and AvgPool2d((2, 3)).stride == (2, 3)
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2)"
    assert repr(nn.AvgPool2d((2, 3), stride=1)) == "AvgPool2d(kernel_size=(2, 3), stride=1)"
    assert MaxPool2d(2).parameters() == []


def test_pool_float32_input_stays_float32(rng):
    x = rng.normal(size=(2, 3, 4, 4)).astype(np.float32)
    for cls in POOLS.values():
        pool = cls(2)
        out = pool(x)
        assert out.dtype == pool.backward(np.ones(out.shape, np.float32)).dtype == np.float32


# --- errors a learner can act on ------------------------------------------------------

@pytest.mark.parametrize("cls", POOLS.values())
def test_pool_missing_channel_axis_error(cls):
    with pytest.raises(ShapeError, match=r"Pool2d\(kernel_size=2, stride=2\) expected input of shape "
                                         r"\(N, C, H, W\) but got \(8, 6, 6\).*x\[:, None\]"):
        cls(2)(np.zeros((8, 6, 6)))


@pytest.mark.parametrize("cls", POOLS.values())
def test_pool_kernel_larger_than_input_error(cls):
    with pytest.raises(ShapeError, match=r"images of 3x4 pixels.*smaller than its 4x4 kernel"):
        cls(4)(np.zeros((1, 1, 3, 4)))


@pytest.mark.parametrize("kwargs, message", [
    ({"kernel_size": 0}, r"MaxPool2d\(kernel_size=0\): kernel_size must be a positive int"),
    ({"kernel_size": 2, "stride": 0}, r"stride must be a positive int or a pair of them.*got 0"),
    ({"kernel_size": (2, 2, 2)}, r"kernel_size must be a positive int.*got \(2, 2, 2\)"),
])
def test_pool_invalid_arguments_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MaxPool2d(**kwargs)


@pytest.mark.parametrize("cls", POOLS.values())
def test_pool_backward_before_forward_and_wrong_gradient_shape_errors(cls, rng):
    pool = cls(2)
    with pytest.raises(BackwardBeforeForwardError, match=r"backward\(\) was called before forward\(\)"):
        pool.backward(np.zeros((1, 1, 2, 2)))
    pool(rng.normal(size=(1, 1, 4, 4)))
    with pytest.raises(ShapeError, match=r"expected grad_out of shape \(1, 1, 2, 2\).*got \(1, 4\)"):
        pool.backward(np.zeros((1, 4)))
