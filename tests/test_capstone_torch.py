"""The capstone's PyTorch cross-check, run for real: digits_cnn and its to_torch twin
give the same loss and the same gradients (float64, to 1e-10) on the digits test set."""
import numpy as np
import pytest

from bplearn import nn, optim, train
from bplearn.data import load_digits
from bplearn.models import digits_cnn, to_torch


def _loss_and_grads_both_ways(torch, model, X, y):
    """(our loss, torch loss, our grads, torch grads) for cross-entropy on (X, y)."""
    twin = to_torch(model)
    t_loss = torch.nn.functional.cross_entropy(twin(torch.from_numpy(X)), torch.from_numpy(y))
    t_loss.backward()
    loss_fn = nn.CrossEntropyLoss()
    model.zero_grad()
    loss = loss_fn(model(X), y)
    model.backward(loss_fn.backward())
    ours = {name: p.grad for name, p in model.named_parameters()}
    theirs = {name: p.grad.numpy() for name, p in twin.named_parameters()}
    return loss, t_loss.item(), ours, theirs


def _assert_same(torch, model, X, y):
    loss, t_loss, ours, theirs = _loss_and_grads_both_ways(torch, model, X, y)
    assert abs(loss - t_loss) < 1e-10
    assert list(ours) == list(theirs)                   # "0.weight", "0.bias", ... in both
    for name in ours:
        assert ours[name].shape == theirs[name].shape
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-10, atol=1e-10, err_msg=name)


def test_untrained_digits_cnn_loss_and_gradients_match_torch(torch):
    # Zero biases and blank backgrounds: many conv outputs are exactly 0 (ReLU's kink) and
    # many max-pool windows tie, so this also checks both libraries share those conventions.
    X, y = load_digits("test")
    _assert_same(torch, digits_cnn(rng=0), X, y)


def test_trained_digits_cnn_loss_and_gradients_match_torch(torch):
    X_train, y_train = load_digits("train")
    X_test, y_test = load_digits("test")
    model = digits_cnn(rng=0)
    train.fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.002), (X_train, y_train),
              epochs=3, batch_size=32, rng=0, progress=False)
    loss, _, _, _ = _loss_and_grads_both_ways(torch, model, X_test, y_test)
    assert loss < 0.5, "the model should have learned something, so the comparison is not at the start"
    _assert_same(torch, model, X_test, y_test)


@pytest.mark.parametrize("rng", [1, 2])
def test_digits_cnn_matches_torch_for_other_seeds_and_a_small_batch(torch, rng):
    X, y = load_digits("test")
    _assert_same(torch, digits_cnn(rng=rng), X[:5], y[:5])
