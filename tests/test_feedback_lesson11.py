"""Lesson 11's your-turn checks: the softmax backward and the attention backward."""

import numpy as np
import pytest

from bplearn import nn
from bplearn.feedback import lesson11
from bplearn.feedback.yourturn import CORRECT, NOT_DONE, WRONG
from bplearn.gradcheck import numerical_gradient

SOFTMAX, ATTENTION = lesson11.softmax_backward, lesson11.attention_backward


def _softmax(s):
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _attention(Q, K, V):
    return _softmax(Q @ K.transpose(0, 2, 1) / np.sqrt(Q.shape[-1])) @ V


# --- the references are right ---------------------------------------------------------------

def test_softmax_backward_reference_matches_finite_differences(rng):
    S, R = rng.normal(size=(2, 3, 5)), rng.normal(size=(2, 3, 5))
    numeric = numerical_gradient(lambda: np.sum(_softmax(S) * R), S)
    assert np.allclose(SOFTMAX.reference(R, _softmax(S)), numeric, atol=1e-7)
    assert SOFTMAX.verdict(SOFTMAX.reference).status == CORRECT


def test_attention_backward_reference_matches_finite_differences(rng):
    Q, K, V, dOut = (rng.normal(size=(2, 4, 3)) for _ in range(4))
    loss = lambda: np.sum(_attention(Q, K, V) * dOut)  # noqa: E731
    for got, wrt in zip(ATTENTION.reference(Q, K, V, dOut), (Q, K, V)):
        assert np.allclose(got, numerical_gradient(loss, wrt), atol=1e-7)
    assert ATTENTION.verdict(ATTENTION.reference).status == CORRECT


def test_attention_backward_reference_gives_the_library_blocks_gradients(rng):
    block = nn.SelfAttention(4, rng=0)
    x, R = rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 5, 4))
    block(x)
    dx = block.backward(R)
    q, k, v = (x @ getattr(block, f"weight_{n}").data.T + getattr(block, f"bias_{n}").data for n in "qkv")
    dq, dk, dv = ATTENTION.reference(q, k, v, R @ block.weight_o.data)
    assert np.allclose(dq.reshape(-1, 4).T @ x.reshape(-1, 4), block.weight_q.grad)
    assert np.allclose(dk.reshape(-1, 4).sum(axis=0), block.bias_k.grad)
    assert np.allclose(dq @ block.weight_q.data + dk @ block.weight_k.data + dv @ block.weight_v.data, dx)


# --- untouched stubs -------------------------------------------------------------------------

def test_untouched_stubs_are_not_done():
    def softmax_backward(dA, A):
        """Return dS."""
        ...

    def attention_backward(Q, K, V, dOut):
        """Return dQ, dK, dV."""
        ...

    assert SOFTMAX.verdict(softmax_backward).status == NOT_DONE
    assert ATTENTION.verdict(attention_backward).status == NOT_DONE


# --- wrong answers, written the way a learner writes them -------------------------------------

def _sigmoid_like(dA, A):
    return dA * A * (1 - A)                           # only the diagonal of the Jacobian


def _sum_over_columns(dA, A):
    return A * (dA - np.sum(dA * A, axis=1, keepdims=True))  # axis 1 of (N, T, T) is the query axis


def _no_outer_A(dA, A):
    s = (dA * A).sum(-1)[..., None]
    return dA - s


def _only_the_diagonal_kept_as_exp(dA, A):
    return A * dA                                     # the backward of exp, not of softmax


@pytest.mark.parametrize("wrong, hint", [
    (_sigmoid_like, "that is only the diagonal of the Jacobian"),
    (_sum_over_columns, "sum over axis=-1"),
    (_no_outer_A, "multiply by A at the end"),
    (_only_the_diagonal_kept_as_exp, "A * dA is the backward of an elementwise exp"),
])
def test_typical_softmax_mistakes_get_their_specific_hint(wrong, hint):
    verdict = SOFTMAX.verdict(wrong)
    assert verdict.status == WRONG and hint in verdict.problems["dS"]


def _weights(Q, K):
    return _softmax(Q @ np.swapaxes(K, 1, 2) / np.sqrt(Q.shape[2]))


def _no_scale_backward(Q, K, V, dOut):
    A = _weights(Q, K)
    dA = dOut @ np.swapaxes(V, 1, 2)
    dS = A * (dA - (dA * A).sum(-1, keepdims=True))
    return dS @ K, np.swapaxes(dS, 1, 2) @ Q, np.swapaxes(A, 1, 2) @ dOut   # 1/sqrt(d) forgotten


def _elementwise_softmax(Q, K, V, dOut):
    d = Q.shape[-1]
    A = _weights(Q, K)
    dS = (dOut @ V.transpose(0, 2, 1)) * A * (1 - A)
    return dS @ K / np.sqrt(d), dS.transpose(0, 2, 1) @ Q / np.sqrt(d), A.transpose(0, 2, 1) @ dOut


def _dK_untransposed(Q, K, V, dOut):
    d = Q.shape[-1]
    A = _weights(Q, K)
    dA = dOut @ V.transpose(0, 2, 1)
    dS = A * (dA - (dA * A).sum(-1, keepdims=True)) / np.sqrt(d)
    return dS @ K, dS @ Q, A.transpose(0, 2, 1) @ dOut   # dS @ Q: forgot that keys sit in the columns


def _dV_untransposed(Q, K, V, dOut):
    d = Q.shape[-1]
    A = _weights(Q, K)
    dA = dOut @ V.transpose(0, 2, 1)
    dS = A * (dA - (dA * A).sum(-1, keepdims=True)) / np.sqrt(d)
    return dS @ K, dS.transpose(0, 2, 1) @ Q, A @ dOut


def _scaled_twice(Q, K, V, dOut):
    d = Q.shape[-1]
    A = _weights(Q, K)
    dA = dOut @ V.transpose(0, 2, 1)
    dS = A * (dA - (dA * A).sum(-1, keepdims=True)) / np.sqrt(d)    # scaled here ...
    return dS @ K / np.sqrt(d), dS.transpose(0, 2, 1) @ Q / np.sqrt(d), A.transpose(0, 2, 1) @ dOut  # ... and again


@pytest.mark.parametrize("wrong, parts, hint", [
    (_no_scale_backward, ("dQ", "dK"), "the scale multiplies Q K^T, so it multiplies dQ and dK too"),
    (_elementwise_softmax, ("dQ", "dK"), "each row of A is one softmax"),
    (_dK_untransposed, ("dK",), "dK = dS^T @ Q / sqrt(d)"),
    (_dV_untransposed, ("dV",), "dV = A^T @ dOut"),
    (_scaled_twice, ("dQ", "dK"), "the scale enters once"),
])
def test_typical_attention_mistakes_get_their_specific_hint(wrong, parts, hint):
    verdict = ATTENTION.verdict(wrong)
    assert verdict.status == WRONG
    for part in parts:
        assert hint in verdict.problems[part]


def test_a_correct_dV_is_named_as_right_when_only_the_scale_is_missing():
    assert "(dV is right)" in ATTENTION.verdict(_no_scale_backward).message
