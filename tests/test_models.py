"""bplearn.models: the capstone's digits_cnn, and to_torch, the bridge to PyTorch."""
import sys

import numpy as np
import pytest

from bplearn import nn
from bplearn.models import digits_cnn, to_torch


def test_digits_cnn_maps_digit_images_to_ten_logits():
    model = digits_cnn(rng=0)
    x = np.random.default_rng(0).random((5, 1, 8, 8))
    assert model(x).shape == (5, 10)
    assert [type(layer).__name__ for layer in model] == [
        "Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear"]
    shapes = {name: p.shape for name, p in model.named_parameters()}
    assert shapes == {"0.weight": (16, 1, 3, 3), "0.bias": (16,), "3.weight": (32, 16, 3, 3), "3.bias": (32,),
                      "7.weight": (10, 128), "7.bias": (10,)}
    assert sum(p.data.size for p in model.parameters()) == 6090


def test_digits_cnn_weights_repeat_with_seed_and_change_with_another():
    a, b, c = digits_cnn(rng=3), digits_cnn(rng=3), digits_cnn(rng=4)
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters()):
        np.testing.assert_array_equal(pa.data, pb.data)
    assert not np.array_equal(a[0].weight.data, c[0].weight.data)
    assert not np.array_equal(a[0].weight.data[0, 0], a[3].weight.data[0, 0])   # layers draw in turn


def _every_supported_layer(rng):
    model = nn.Sequential(
        nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=(1, 0), bias=False, rng=rng), nn.Tanh(),
        nn.AvgPool2d(2, stride=1), nn.Conv2d(3, 4, 2, rng=rng), nn.Sigmoid(),
        nn.MaxPool2d((2, 1)), nn.Flatten(), nn.Linear(4 * 1 * 2, 5, bias=False, rng=rng), nn.ReLU(),
        nn.Linear(5, 3, rng=rng),
    )
    for p in model.parameters():
        if p.name == "bias":
            p.data[:] = rng.normal(size=p.shape)        # non-zero, so a lost bias would show
    return model


def test_to_torch_gives_the_same_outputs_and_gradients_for_every_supported_layer(torch):
    rng = np.random.default_rng(0)
    model = _every_supported_layer(rng)
    x = rng.normal(size=(4, 2, 7, 5))                   # -> (4, 3, 4, 4) (4, 3, 3, 3) (4, 4, 2, 2) (4, 4, 1, 2)
    twin = to_torch(model)
    assert [type(m).__name__ for m in twin] == [type(m).__name__ for m in model]
    out = model(x)
    upstream = rng.normal(size=out.shape)
    model.zero_grad()
    grad_x = model.backward(upstream)
    tx = torch.tensor(x, requires_grad=True)
    tout = twin(tx)
    tout.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(grad_x, tx.grad.numpy(), rtol=1e-10, atol=1e-10)
    theirs = dict(twin.named_parameters())
    assert list(theirs) == [name for name, _ in model.named_parameters()]
    for name, p in model.named_parameters():
        assert theirs[name].dtype == torch.float64
        np.testing.assert_allclose(p.grad, theirs[name].grad.numpy(), rtol=1e-10, atol=1e-10, err_msg=name)


def test_to_torch_copies_the_weights_so_the_two_models_are_independent(torch):
    model = digits_cnn(rng=0)
    twin = to_torch(model)
    before = twin[0].weight.detach().numpy().copy()
    np.testing.assert_array_equal(before, model[0].weight.data)
    model[0].weight.data += 1.0
    np.testing.assert_array_equal(twin[0].weight.detach().numpy(), before)


def test_to_torch_unsupported_layer_error_names_the_layer_and_the_supported_ones(torch):
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5))
    with pytest.raises(TypeError, match=r"to_torch: layer 1, Dropout\(.*\), has no PyTorch counterpart here\. "
                                        r"Supported: Linear, Conv2d"):
        to_torch(model)


def test_to_torch_needs_a_sequential(torch):
    with pytest.raises(TypeError, match=r"to_torch expects an nn\.Sequential, got Linear"):
        to_torch(nn.Linear(3, 4))


def test_to_torch_without_torch_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)      # makes `import torch` raise ImportError
    with pytest.raises(ImportError, match=r"to_torch needs PyTorch, which is not installed.*pip install torch"):
        to_torch(digits_cnn(rng=0))


def _outputs_and_gradients_agree(torch, model, twin, x, rng):
    """Forward, backward with the same upstream gradient, compare outputs and every parameter gradient."""
    out = model(x)
    upstream = rng.normal(size=out.shape)
    model.zero_grad()
    model.backward(upstream)
    tx = torch.tensor(x)
    tout = twin(tx)
    tout.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("recurrent", [nn.RNN, nn.LSTM])
def test_to_torch_maps_a_sequence_to_one_model_to_torch_recurrent_layers(torch, recurrent):
    rng = np.random.default_rng(0)
    model = nn.Sequential(recurrent(3, 5, rng=0), nn.LastStep(), nn.Linear(5, 2, rng=1))
    model[0].bias.data[:] = rng.normal(size=model[0].bias.shape)
    twin = to_torch(model)
    assert isinstance(twin[0].recurrent, getattr(torch.nn, recurrent.__name__))
    x = rng.normal(size=(4, 6, 3))
    _outputs_and_gradients_agree(torch, model, twin, x, rng)
    rec = twin[0].recurrent
    np.testing.assert_allclose(model[0].weight_ih.grad, rec.weight_ih_l0.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(model[0].weight_hh.grad, rec.weight_hh_l0.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(model[0].bias.grad, rec.bias_ih_l0.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(model[2].weight.grad, twin[2].weight.grad.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("causal", [False, True])
def test_to_torch_maps_self_attention_and_embedding(torch, causal):
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Embedding(7, 4, rng=0), nn.SelfAttention(4, causal=causal, rng=1), nn.LastStep(),
                          nn.Linear(4, 1, rng=2))
    for p in model[1].parameters():
        p.data[...] = 0.5 * rng.normal(size=p.shape)
    twin = to_torch(model)
    idx = rng.integers(0, 7, size=(3, 5))
    out = model(idx)
    upstream = rng.normal(size=out.shape)
    model.zero_grad()
    model.backward(upstream)
    tout = twin(torch.tensor(idx))
    tout.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(model[0].weight.grad, twin[0].weight.grad.numpy(), rtol=1e-10, atol=1e-10)
    mha = twin[1].attention
    stacked = np.concatenate([model[1].weight_q.grad, model[1].weight_k.grad, model[1].weight_v.grad])
    np.testing.assert_allclose(stacked, mha.in_proj_weight.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(model[1].weight_o.grad, mha.out_proj.weight.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_to_torch_refuses_truncated_bptt_and_says_why(torch):
    model = nn.Sequential(nn.RNN(2, 3, bptt_steps=4), nn.LastStep())
    with pytest.raises(TypeError, match=r"to_torch: layer 0, RNN\(.*bptt_steps=4\), truncates BPTT, which "
                                        r"torch\.nn\.RNN cannot do\. Compare with bptt_steps=None"):
        to_torch(model)
