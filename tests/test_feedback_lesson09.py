"""Lesson 09's your-turn checks: the BPTT loop and gradient clipping by the global norm."""

import numpy as np
import pytest

from bplearn import nn, optim
from bplearn.feedback import lesson09
from bplearn.feedback.yourturn import CORRECT, NOT_DONE, WRONG
from bplearn.gradcheck import numerical_gradient

BPTT, CLIP = lesson09.bptt_backward, lesson09.clip_by_global_norm


# --- the references are right ---------------------------------------------------------------

def test_bptt_reference_matches_finite_differences(rng):
    inputs = BPTT.make_inputs(rng)
    x, h0, W_ih, W_hh, g = (inputs[k] for k in ("x", "h0", "W_ih", "W_hh", "grad_hs"))
    b = rng.normal(size=W_hh.shape[0])
    hs = lesson09.rnn_forward(x, h0, W_ih, W_hh, b)
    loss = lambda: np.sum(lesson09.rnn_forward(x, h0, W_ih, W_hh, b) * g)  # noqa: E731
    got = BPTT.reference(x, h0, hs, W_ih, W_hh, g)
    for grad, wrt in zip(got, (W_ih, W_hh, b, x, h0)):
        assert np.allclose(grad, numerical_gradient(loss, wrt), atol=1e-7)


def test_bptt_reference_matches_the_library_rnn(rng):
    layer = nn.RNN(3, 4, rng=0)
    x, h0, g = rng.normal(size=(2, 6, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 6, 4))
    hs = layer(x, h0)
    dx = layer.backward(g)
    dW_ih, dW_hh, db, my_dx, dh0 = BPTT.reference(x, h0, hs, layer.weight_ih.data, layer.weight_hh.data, g)
    assert np.allclose(dW_ih, layer.weight_ih.grad) and np.allclose(dW_hh, layer.weight_hh.grad)
    assert np.allclose(db, layer.bias.grad) and np.allclose(my_dx, dx) and np.allclose(dh0, layer.grad_h0)
    assert BPTT.verdict(BPTT.reference).status == CORRECT


def test_clip_reference_matches_optim_clip_grad_norm():
    for case in range(6):
        inputs = CLIP.make_inputs(np.random.default_rng(case))
        params = [nn.Parameter(np.zeros_like(inputs[k]), k) for k in ("dW_ih", "dW_hh", "db")]
        for p in params:
            p.grad[...] = inputs[p.name]
        optim.clip_grad_norm(params, inputs["max_norm"])
        got = CLIP.reference(**inputs)
        assert all(np.allclose(a, p.grad, rtol=1e-6) for a, p in zip(got, params))
    assert CLIP.verdict(CLIP.reference).status == CORRECT


def test_clip_cases_include_gradients_above_and_below_the_limit():
    rng = np.random.default_rng(CLIP.seed)
    above = []
    for _ in range(CLIP.cases):
        inputs = CLIP.make_inputs(rng)
        total = np.sqrt(sum(np.sum(inputs[k] ** 2) for k in ("dW_ih", "dW_hh", "db")))
        above.append(total > inputs["max_norm"])
    assert any(above) and not all(above)


# --- untouched stubs -------------------------------------------------------------------------

def test_untouched_stubs_are_not_done():
    def bptt_backward(x, h0, hs, W_ih, W_hh, grad_hs):
        """Return dW_ih, dW_hh, db, dx, dh0."""
        ...

    def clip_by_global_norm(dW_ih, dW_hh, db, max_norm):
        """Return dW_ih, dW_hh, db."""
        ...

    assert BPTT.verdict(bptt_backward).status == NOT_DONE
    assert CLIP.verdict(clip_by_global_norm).status == NOT_DONE


# --- wrong answers, written the way a learner writes them -------------------------------------

def _no_carry(x, h0, hs, W_ih, W_hh, grad_hs):
    dW_ih, dW_hh, db, dx = np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros(W_hh.shape[0]), np.zeros_like(x)
    dh_prev = np.zeros_like(h0)
    for t in range(x.shape[1] - 1, -1, -1):
        da = grad_hs[:, t] * (1 - hs[:, t] ** 2)          # forgot what came back from step t + 1
        prev = h0 if t == 0 else hs[:, t - 1]
        dW_ih += da.T @ x[:, t]
        dW_hh += da.T @ prev
        db += da.sum(0)
        dx[:, t] = da @ W_ih
        dh_prev = da @ W_hh
    return dW_ih, dW_hh, db, dx, dh_prev


def _wraps_at_zero(x, h0, hs, W_ih, W_hh, grad_hs):
    dW_ih, dW_hh, db, dx = np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros(W_hh.shape[0]), np.zeros_like(x)
    dh = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        da = (dh + grad_hs[:, t]) * (1 - hs[:, t] * hs[:, t])
        dW_ih = dW_ih + da.T @ x[:, t]
        dW_hh = dW_hh + da.T @ hs[:, t - 1]                # at t = 0 this is the LAST state
        db = db + np.sum(da, axis=0)
        dx[:, t] = da @ W_ih
        dh = da @ W_hh
    return dW_ih, dW_hh, db, dx, dh


def _same_step_state(x, h0, hs, W_ih, W_hh, grad_hs):
    out = [np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros(W_hh.shape[0])]
    dx, dh = np.zeros_like(x), np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        da = (grad_hs[:, t] + dh) * (1 - hs[:, t] ** 2)
        out[0] += da.T @ x[:, t]
        out[1] += da.T @ hs[:, t]                          # the state the step produced, not the one it read
        out[2] += da.sum(axis=0)
        dx[:, t] = da @ W_ih
        dh = da @ W_hh
    return out[0], out[1], out[2], dx, dh


def _no_tanh_slope(x, h0, hs, W_ih, W_hh, grad_hs):
    dW_ih, dW_hh, db, dx = np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros(W_hh.shape[0]), np.zeros_like(x)
    dh = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        da = grad_hs[:, t] + dh                            # tanh' forgotten
        h_prev = hs[:, t - 1] if t else h0
        dW_ih += da.T @ x[:, t]
        dW_hh += da.T @ h_prev
        db += da.sum(axis=0)
        dx[:, t] = da @ W_ih
        dh = da @ W_hh
    return dW_ih, dW_hh, db, dx, dh


def _overwrites(x, h0, hs, W_ih, W_hh, grad_hs):
    dx, dh = np.zeros_like(x), np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        da = (grad_hs[:, t] + dh) * (1 - hs[:, t] ** 2)
        h_prev = hs[:, t - 1] if t > 0 else h0
        dW_ih = da.T @ x[:, t]                             # = instead of +=
        dW_hh = da.T @ h_prev
        db = da.sum(axis=0)
        dx[:, t] = da @ W_ih
        dh = da @ W_hh
    return dW_ih, dW_hh, db, dx, dh


def _w_hh_transposed(x, h0, hs, W_ih, W_hh, grad_hs):
    dW_ih, dW_hh, db, dx = np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros(W_hh.shape[0]), np.zeros_like(x)
    dh = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        da = (grad_hs[:, t] + dh) * (1 - hs[:, t] ** 2)
        dW_ih += da.T @ x[:, t]
        dW_hh += da.T @ (hs[:, t - 1] if t > 0 else h0)
        db += da.sum(axis=0)
        dx[:, t] = da @ W_ih
        dh = da @ W_hh.T                                   # the old (in, out) habit
    return dW_ih, dW_hh, db, dx, dh


@pytest.mark.parametrize("wrong, wrong_parts, hint", [
    (_no_carry, ("dW_ih", "dh0"), "Carry it in a variable (dh_next)"),
    (_wraps_at_zero, ("dW_hh",), "hs[:, -1] is the LAST hidden state"),
    (_same_step_state, ("dW_hh",), "the state it READ"),
    (_no_tanh_slope, ("db", "dx"), "da_t = dh_t * (1 - h_t ** 2)"),
    (_overwrites, ("dW_ih", "db"), "each step ADDS its share"),
    (_w_hh_transposed, ("dW_ih", "dh0"), "the transpose undoes itself"),
])
def test_typical_bptt_mistakes_get_their_specific_hint(wrong, wrong_parts, hint):
    verdict = BPTT.verdict(wrong)
    assert verdict.status == WRONG
    for part in wrong_parts:
        assert part in verdict.problems and hint in verdict.problems[part]


def test_an_off_by_one_leaves_the_other_gradients_right():
    verdict = BPTT.verdict(_same_step_state)
    assert "dW_hh is wrong (dW_ih, db, dx, dh0 are right)" in verdict.message


def _clip_each(dW_ih, dW_hh, db, max_norm):
    out = []
    for g in (dW_ih, dW_hh, db):
        n = np.linalg.norm(g)
        out.append(g * max_norm / n if n > max_norm else g)
    return tuple(out)


def _always_rescale(dW_ih, dW_hh, db, max_norm):
    norm = np.sqrt((dW_ih ** 2).sum() + (dW_hh ** 2).sum() + (db ** 2).sum())
    return dW_ih / norm * max_norm, dW_hh / norm * max_norm, db / norm * max_norm


def _np_clip(dW_ih, dW_hh, db, max_norm):
    return np.clip(dW_ih, -max_norm, max_norm), np.clip(dW_hh, -max_norm, max_norm), np.clip(db, -max_norm, max_norm)


def _sum_of_norms(dW_ih, dW_hh, db, max_norm):
    total = np.linalg.norm(dW_ih) + np.linalg.norm(dW_hh) + np.linalg.norm(db)
    if total > max_norm:
        return dW_ih * max_norm / total, dW_hh * max_norm / total, db * max_norm / total
    return dW_ih, dW_hh, db


@pytest.mark.parametrize("wrong, hint", [
    (_clip_each, "clip by the norm of ALL gradients together"),
    (_always_rescale, "only clip when the joint norm is larger than max_norm"),
    (_np_clip, "np.clip caps single numbers"),
    (_sum_of_norms, "not ||dW_ih|| + ||dW_hh|| + ||db||"),
])
def test_typical_clipping_mistakes_get_their_specific_hint(wrong, hint):
    verdict = CLIP.verdict(wrong)
    assert verdict.status == WRONG and hint in verdict.message


def test_a_clip_that_forgets_to_return_is_told_so():
    def clip_by_global_norm(dW_ih, dW_hh, db, max_norm):
        total = np.sqrt(np.sum(dW_ih ** 2) + np.sum(dW_hh ** 2) + np.sum(db ** 2))
        if total > max_norm:
            dW_ih, dW_hh, db = dW_ih * max_norm / total, dW_hh * max_norm / total, db * max_norm / total

    assert "returned None" in CLIP.verdict(clip_by_global_norm).message
