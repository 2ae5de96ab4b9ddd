"""Embedding: lookup forward, accumulating backward (repeated ids), errors, and use in front of an RNN."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bplearn import nn
from bplearn.errors import BackwardBeforeForwardError, DTypeError, LabelError, ShapeError
from bplearn.gradcheck import compare, numerical_gradient
from bplearn.data import one_hot

V, E = 7, 3


def test_embedding_forward_equals_one_hot_times_weight(rng):
    emb = nn.Embedding(V, E, rng=0)
    idx = rng.integers(0, V, size=(4, 5))
    out = emb(idx)
    assert out.shape == (4, 5, E)
    np.testing.assert_allclose(out, one_hot(idx, V) @ emb.weight.data, rtol=0, atol=1e-15)


def test_embedding_backward_adds_every_use_of_a_repeated_id(rng):
    emb = nn.Embedding(V, E, rng=0)
    idx = np.array([[1, 1, 1], [2, 1, 6]])                 # id 1 used four times, 0 never
    grad_out = rng.standard_normal((2, 3, E))
    emb(idx)
    assert emb.backward(grad_out) is None                   # ids are integers: no gradient for them
    expected = one_hot(idx, V).reshape(-1, V).T @ grad_out.reshape(-1, E)  # the one-hot matmul's backward
    np.testing.assert_allclose(emb.weight.grad, expected, rtol=1e-14)
    np.testing.assert_allclose(emb.weight.grad[1], grad_out[0].sum(axis=0) + grad_out[1, 1], rtol=1e-14)
    assert not emb.weight.grad[0].any()


def test_embedding_backward_matches_torch_embedding(torch, rng):
    emb = nn.Embedding(V, E, rng=0)
    idx = rng.integers(0, V, size=(3, 8))
    grad_out = rng.standard_normal((3, 8, E))
    emb(idx)
    emb.backward(grad_out)
    temb = torch.nn.Embedding(V, E)
    with torch.no_grad():
        temb.weight.copy_(torch.tensor(emb.weight.data))
    (temb(torch.tensor(idx)) * torch.tensor(grad_out)).sum().backward()
    np.testing.assert_allclose(emb.weight.grad, temb.weight.grad.numpy(), rtol=0, atol=1e-12)


def test_embedding_weight_gradient_matches_finite_differences(rng):
    emb = nn.Embedding(V, E, rng=0)
    idx = rng.integers(0, V, size=(2, 6))
    R = rng.standard_normal((2, 6, E))
    emb(idx)
    emb.backward(R)
    numeric = numerical_gradient(lambda: float(np.sum(emb(idx) * R)), emb.weight.data)
    assert compare("weight", emb.weight.grad, numeric) < 1e-6


def test_embedding_gradients_accumulate_across_backward_calls(rng):
    emb = nn.Embedding(V, E, rng=0)
    idx = rng.integers(0, V, size=(2, 4))
    g = rng.standard_normal((2, 4, E))
    emb(idx)
    emb.backward(g)
    once = emb.weight.grad.copy()
    emb.backward(g)
    np.testing.assert_allclose(emb.weight.grad, 2 * once, rtol=1e-14)


def test_embedding_feeds_an_rnn_end_to_end(rng):
    emb, rnn = nn.Embedding(V, E, rng=0), nn.RNN(E, 4, rng=1)
    idx = rng.integers(0, V, size=(2, 5))
    R = rng.standard_normal((2, 5, 4))
    rnn(emb(idx))
    emb.backward(rnn.backward(R))
    numeric = numerical_gradient(lambda: float(np.sum(rnn(emb(idx)) * R)), emb.weight.data)
    assert compare("embedding weight through the RNN", emb.weight.grad, numeric) < 1e-6


def test_embedding_rejects_ids_out_of_range():
    emb = nn.Embedding(V, E)
    with pytest.raises(LabelError, match=r"got token id 7, but ids must lie in \[0, 6\] \(num_embeddings=7\)"):
        emb(np.array([[0, 7]]))
    with pytest.raises(LabelError, match=r"got token id -1"):
        emb(np.array([[-1, 2]]))


def test_embedding_rejects_float_ids():
    with pytest.raises(DTypeError, match=r"expects integer token ids but got dtype float64.*idx.astype\(int\)"):
        nn.Embedding(V, E)(np.array([[0.0, 1.0]]))


def test_embedding_backward_checks_order_and_gradient_shape():
    emb = nn.Embedding(V, E)
    with pytest.raises(BackwardBeforeForwardError, match="before forward"):
        emb.backward(np.zeros((1, 1, E)))
    emb(np.array([[1, 2]]))
    with pytest.raises(ShapeError, match=r"Embedding\(num_embeddings=7, embedding_dim=3\)\.backward expected "
                                         r"grad_out of shape \(1, 2, 3\).*but got \(1, 2\)"):
        emb.backward(np.zeros((1, 2)))


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), v=st.integers(1, 9), e=st.integers(1, 4))
def test_embedding_output_shape_is_index_shape_plus_embedding_dim(shape, v, e):
    idx = np.random.default_rng(len(shape)).integers(0, v, size=shape)
    emb = nn.Embedding(v, e, rng=0)
    out = emb(idx)
    assert out.shape == tuple(shape) + (e,)
    emb.backward(np.ones_like(out))
    np.testing.assert_array_equal(emb.weight.grad[:, 0], np.bincount(idx.ravel(), minlength=v))
