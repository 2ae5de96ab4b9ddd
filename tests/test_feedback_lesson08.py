"""Lesson 08's your-turn checks: the convolution's kernel gradient and input gradient."""

import numpy as np

from bplearn import gradcheck, nn
from bplearn.feedback import lesson08
from bplearn.feedback.yourturn import CORRECT, NOT_DONE, WRONG

DW, DX = lesson08.conv_weight_grad, lesson08.conv_input_grad


def _conv(x, W):
    """The forward pass as explicit sums: x (H, W), W (kh, kw) -> (H', W')."""
    kh, kw = W.shape
    return np.array([[np.sum(x[i:i + kh, j:j + kw] * W) for j in range(x.shape[1] - kw + 1)]
                     for i in range(x.shape[0] - kh + 1)])


# --- the references are right -----------------------------------------------------------------

def test_references_match_finite_differences(rng):
    x, W = rng.normal(size=(6, 5)), rng.normal(size=(3, 2))
    g = rng.normal(size=(4, 4))
    errors = gradcheck.check_function(lambda x_, W_: np.sum(_conv(x_, W_) * g),
                                      lambda x_, W_: (DX.reference(W_, g), DW.reference(x_, g)), x, W)
    assert max(errors.values()) < 1e-6
    assert DW.verdict(DW.reference).status == CORRECT and DX.verdict(DX.reference).status == CORRECT


def test_references_match_the_library_conv2d(rng):
    layer = nn.Conv2d(1, 1, kernel_size=(3, 2), rng=0)
    x = rng.normal(size=(1, 1, 6, 5))
    g = rng.normal(size=layer(x).shape)
    dx = layer.backward(g)
    assert np.allclose(DW.reference(x[0, 0], g[0, 0]), layer.weight.grad[0, 0])
    assert np.allclose(DX.reference(layer.weight.data[0, 0], g[0, 0]), dx[0, 0])


def test_untouched_stubs_are_not_done():
    def conv_weight_grad(x, g):
        """Return dW."""
        ...

    def conv_input_grad(W, g):
        """Return dx."""
        ...

    assert DW.verdict(conv_weight_grad).status == NOT_DONE
    assert DX.verdict(conv_input_grad).status == NOT_DONE


# --- typical wrong answers for dW ---------------------------------------------------------------

def test_dw_with_the_kernel_flipped_when_it_should_not_be_is_named():
    def conv_weight_grad(x, g):
        kh, kw = x.shape[0] - g.shape[0] + 1, x.shape[1] - g.shape[1] + 1
        gf = g[::-1, ::-1]                          # "convolution means flip"
        dW = np.zeros((kh, kw))
        for u in range(kh):
            for v in range(kw):
                dW[u, v] = np.sum(gf * x[u:u + g.shape[0], v:v + g.shape[1]])
        return dW

    verdict = DW.verdict(conv_weight_grad)
    assert verdict.status == WRONG and verdict.mistakes == ["g flipped"]
    assert "Nothing is flipped for dW" in verdict.message


def test_dw_overwritten_in_the_loop_is_named():
    def conv_weight_grad(x, g):
        kh, kw = x.shape[0] - g.shape[0] + 1, x.shape[1] - g.shape[1] + 1
        for i in range(g.shape[0]):
            for j in range(g.shape[1]):
                dW = g[i, j] * x[i:i + kh, j:j + kw]      # = instead of +=
        return dW

    verdict = DW.verdict(conv_weight_grad)
    assert verdict.mistakes == ["only the last window counted"]
    assert "dW = ... inside the loop instead of dW += ..." in verdict.message


def test_dw_with_rows_and_columns_swapped_is_named():
    def conv_weight_grad(x, g):
        kh, kw = x.shape[0] - g.shape[0] + 1, x.shape[1] - g.shape[1] + 1
        dW = np.zeros((kw, kh))
        for i in range(g.shape[0]):
            for j in range(g.shape[1]):
                dW += g[i, j] * x[i:i + kh, j:j + kw].T
        return dW

    verdict = DW.verdict(conv_weight_grad)
    assert "looks transposed" in verdict.message
    assert "rows and columns swapped" in verdict.mistakes


# --- typical wrong answers for dx ---------------------------------------------------------------

def test_dx_without_adding_up_overlapping_windows_is_named():
    def conv_input_grad(W, g):
        kh, kw = W.shape
        dx = np.zeros((g.shape[0] + kh - 1, g.shape[1] + kw - 1))
        for i in range(g.shape[0]):
            for j in range(g.shape[1]):
                dx[i:i + kh, j:j + kw] = g[i, j] * W
        return dx

    verdict = DX.verdict(conv_input_grad)
    assert verdict.mistakes == ["overlapping windows overwritten"]
    assert "add into dx (dx[...] += ...)" in verdict.message


def test_dx_with_the_kernel_flipped_in_the_loop_is_named():
    def conv_input_grad(W, g):
        kh, kw = W.shape
        flipped = np.flip(W)                        # the flip belongs to the one-convolution form only
        dx = np.zeros((g.shape[0] + kh - 1, g.shape[1] + kw - 1))
        for i in range(g.shape[0]):
            for j in range(g.shape[1]):
                dx[i:i + kh, j:j + kw] += g[i, j] * flipped
        return dx

    verdict = DX.verdict(conv_input_grad)
    assert verdict.mistakes == ["kernel flipped in the loop"]
    assert "In the loop over windows no flip is needed" in verdict.message


def test_dx_as_a_full_convolution_without_the_flip_is_named():
    def conv_input_grad(W, g):
        kh, kw = W.shape
        gp = np.pad(g, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
        return _conv(gp, W)                         # forgot to flip the kernel

    verdict = DX.verdict(conv_input_grad)
    assert verdict.status == WRONG and verdict.mistakes == ["kernel flipped in the loop"]


def test_dx_of_valid_size_gets_a_shape_message():
    def conv_input_grad(W, g):
        return _conv(g, np.flip(W))                 # forgot to pad g: a "valid" convolution, too small

    verdict = DX.verdict(conv_input_grad)
    assert "should have shape" in verdict.message
