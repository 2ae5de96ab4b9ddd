"""Lesson 10's your-turn checks: the forget gate's backward and all four gates' backward."""

import numpy as np
import pytest

from bplearn import nn
from bplearn.feedback import lesson10
from bplearn.feedback.yourturn import CORRECT, NOT_DONE, WRONG
from bplearn.gradcheck import numerical_gradient

FORGET, GATES = lesson10.forget_gate_backward, lesson10.lstm_gates_backward


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _cell(a, c_prev):
    """One LSTM step from the pre-activations a (N, 4H), gates i, f, g, o -> h, c."""
    i, f, g, o = np.split(a, 4, axis=1)
    c = _sigmoid(f) * c_prev + _sigmoid(i) * np.tanh(g)
    return _sigmoid(o) * np.tanh(c), c


# --- the references are right ---------------------------------------------------------------

def test_gate_references_match_finite_differences(rng):
    a, c_prev = rng.normal(size=(3, 16)), rng.normal(size=(3, 4))
    dh, dc_next = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    loss = lambda: np.sum(_cell(a, c_prev)[0] * dh) + np.sum(_cell(a, c_prev)[1] * dc_next)  # noqa: E731
    i, f, g, o = _sigmoid(a[:, :4]), _sigmoid(a[:, 4:8]), np.tanh(a[:, 8:12]), _sigmoid(a[:, 12:])
    c = _cell(a, c_prev)[1]
    da, dc_prev = GATES.reference(dh, dc_next, c, c_prev, i, f, g, o)
    da_f, dc_prev_f = FORGET.reference(dh, dc_next, c, c_prev, f, o)
    numeric_a, numeric_c = numerical_gradient(loss, a), numerical_gradient(loss, c_prev)
    assert np.allclose(da, numeric_a, atol=1e-7) and np.allclose(dc_prev, numeric_c, atol=1e-7)
    assert np.allclose(da_f, numeric_a[:, 4:8], atol=1e-7) and np.allclose(dc_prev_f, numeric_c, atol=1e-7)
    assert FORGET.verdict(FORGET.reference).status == CORRECT and GATES.verdict(GATES.reference).status == CORRECT


def test_gate_reference_gives_the_library_lstm_gradients_for_one_step(rng):
    layer = nn.LSTM(2, 3, rng=0)
    x, h0, c0 = rng.normal(size=(2, 1, 2)), rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    dh, dc = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    layer(x, h0, c0)
    layer.backward(np.zeros((2, 1, 3)), dh, dc)
    a = x[:, 0] @ layer.weight_ih.data.T + h0 @ layer.weight_hh.data.T + layer.bias.data
    i, f, g, o = _sigmoid(a[:, :3]), _sigmoid(a[:, 3:6]), np.tanh(a[:, 6:9]), _sigmoid(a[:, 9:])
    da, dc_prev = GATES.reference(dh, dc, f * c0 + i * g, c0, i, f, g, o)
    assert np.allclose(dc_prev, layer.grad_c0) and np.allclose(da @ layer.weight_hh.data, layer.grad_h0)
    assert np.allclose(da.T @ x[:, 0], layer.weight_ih.grad) and np.allclose(da.sum(axis=0), layer.bias.grad)


# --- untouched stubs -------------------------------------------------------------------------

def test_untouched_stubs_are_not_done():
    def forget_gate_backward(dh, dc_next, c, c_prev, f, o):
        """Return da_f, dc_prev."""
        ...

    def lstm_gates_backward(dh, dc_next, c, c_prev, i, f, g, o):
        """Return da, dc_prev."""
        ...

    assert FORGET.verdict(forget_gate_backward).status == NOT_DONE
    assert GATES.verdict(lstm_gates_backward).status == NOT_DONE


# --- wrong answers, written the way a learner writes them -------------------------------------

def _forget_no_sigmoid_slope(dh, dc_next, c, c_prev, f, o):
    dc = dc_next + dh * o * (1 - np.tanh(c) ** 2)
    return dc * c_prev, dc * f                         # dL/df, not dL/da_f


def _forget_no_h_path(dh, dc_next, c, c_prev, f, o):
    return dc_next * c_prev * f * (1 - f), dc_next * f  # c_t's use in h_t forgotten


def _forget_tanh_slope_of_c(dh, dc_next, c, c_prev, f, o):
    dc = dc_next + dh * o * (1 - c ** 2)               # tanh' written with c itself
    return dc * c_prev * f * (1 - f), dc * f


def _forget_highway_without_h(dh, dc_next, c, c_prev, f, o):
    dc = dc_next + dh * o * (1 - np.tanh(c) ** 2)
    return dc * c_prev * f * (1 - f), dc_next * f      # only the direct part goes back


@pytest.mark.parametrize("wrong, part, hint", [
    (_forget_no_sigmoid_slope, "da_f", "dL/da_f = dL/df * f * (1 - f)"),
    (_forget_no_h_path, "da_f", "c_t is used twice"),
    (_forget_tanh_slope_of_c, "da_f", "square tanh(c), not c itself"),
    (_forget_highway_without_h, "dc_prev", "the highway carries the TOTAL gradient of c_t"),
])
def test_typical_forget_gate_mistakes_get_their_specific_hint(wrong, part, hint):
    verdict = FORGET.verdict(wrong)
    assert verdict.status == WRONG and part in verdict.problems and hint in verdict.problems[part]


def _gates_in_old_order(dh, dc_next, c, c_prev, i, f, g, o):
    dc = dc_next + dh * o * (1 - np.tanh(c) ** 2)
    da_i, da_f = dc * g * i * (1 - i), dc * c_prev * f * (1 - f)
    da_g, da_o = dc * i * (1 - g ** 2), dh * np.tanh(c) * o * (1 - o)
    return np.hstack([da_i, da_f, da_o, da_g]), dc * f  # i, f, o, g: another library's order


def _g_as_a_sigmoid(dh, dc_next, c, c_prev, i, f, g, o):
    dc = dc_next + dh * o * (1 - np.tanh(c) ** 2)
    slopes = [s * (1 - s) for s in (i, f, g, o)]       # every gate treated as a sigmoid
    grads = [dc * g, dc * c_prev, dc * i, dh * np.tanh(c)]
    return np.concatenate([d * s for d, s in zip(grads, slopes)], axis=1), dc * f


def _swapped_product_factors(dh, dc_next, c, c_prev, i, f, g, o):
    dc = dc_next + dh * o * (1 - np.tanh(c) ** 2)
    di, dg = dc * i, dc * g                            # each factor's own value instead of the other's
    da = np.concatenate([di * i * (1 - i), dc * c_prev * f * (1 - f), dg * (1 - g ** 2),
                         dh * np.tanh(c) * o * (1 - o)], axis=1)
    return da, dc * f


def _output_gate_with_c(dh, dc_next, c, c_prev, i, f, g, o):
    tc = np.tanh(c)
    dc = dc_next + dh * o * (1 - tc ** 2)
    do = dh * c                                        # h = o * tanh(c), not o * c
    da = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g ** 2),
                         do * o * (1 - o)], axis=1)
    return da, dc * f


@pytest.mark.parametrize("wrong, hint", [
    (_gates_in_old_order, "stacks the blocks of a as i, f, g, o"),
    (_g_as_a_sigmoid, "only i, f and o are sigmoids"),
    (_swapped_product_factors, "each factor's gradient is dc times the OTHER factor"),
    (_output_gate_with_c, "dL/do = dh * tanh(c_t)"),
])
def test_typical_gate_mistakes_get_their_specific_hint(wrong, hint):
    verdict = GATES.verdict(wrong)
    assert verdict.status == WRONG and hint in verdict.problems["da"]
    assert "dc_prev is right" in verdict.message or "da is wrong (dc_prev is right)" in verdict.message


def test_returning_only_da_is_explained():
    def lstm_gates_backward(dh, dc_next, c, c_prev, i, f, g, o):
        return GATES.reference(dh, dc_next, c, c_prev, i, f, g, o)[0]

    assert "should return 2 values (da, dc_prev)" in GATES.verdict(lstm_gates_backward).message
