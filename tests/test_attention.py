"""SelfAttention: forward and backward against torch.nn.MultiheadAttention and finite
differences, attention weights, causal masking, errors and dtype."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bplearn import nn
from bplearn.errors import BackwardBeforeForwardError, ShapeError
from bplearn.gradcheck import check_module

N, T, E = 2, 5, 6


def random_attention(rng, causal=False, scale=0.5):
    """A layer with random non-zero biases too, so every parameter's gradient is exercised."""
    attn = nn.SelfAttention(E, rng=0, causal=causal)
    for p in attn.parameters():
        p.data[...] = scale * rng.standard_normal(p.shape)
    return attn


def torch_mha(torch, attn):
    """torch's one-head attention with our weights: in_proj stacks weight_q, weight_k, weight_v (all (out, in))."""
    mha = torch.nn.MultiheadAttention(E, num_heads=1, batch_first=True)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.tensor(np.concatenate([attn.weight_q.data, attn.weight_k.data,
                                                              attn.weight_v.data])))
        mha.in_proj_bias.copy_(torch.tensor(np.concatenate([attn.bias_q.data, attn.bias_k.data, attn.bias_v.data])))
        mha.out_proj.weight.copy_(torch.tensor(attn.weight_o.data))
        mha.out_proj.bias.copy_(torch.tensor(attn.bias_o.data))
    return mha


@pytest.mark.parametrize("causal", [False, True])
def test_attention_forward_and_backward_match_torch_multihead_attention(torch, rng, causal):
    attn = random_attention(rng, causal)
    x, grad_out = rng.standard_normal((N, T, E)), rng.standard_normal((N, T, E))
    out = attn(x)
    dx = attn.backward(grad_out)

    mha = torch_mha(torch, attn)
    xt = torch.tensor(x, requires_grad=True)
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1) if causal else None  # True = blocked
    tout, tweights = mha(xt, xt, xt, attn_mask=mask, need_weights=True)
    (tout * torch.tensor(grad_out)).sum().backward()

    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(attn.attn_weights, tweights.detach().numpy(), rtol=0, atol=1e-12)
    w, bias = mha.in_proj_weight.grad.numpy(), mha.in_proj_bias.grad.numpy()
    expected = {
        "dx": (dx, xt.grad.numpy()),
        "weight_q": (attn.weight_q.grad, w[:E]), "weight_k": (attn.weight_k.grad, w[E:2 * E]),
        "weight_v": (attn.weight_v.grad, w[2 * E:]),
        "bias_q": (attn.bias_q.grad, bias[:E]), "bias_k": (attn.bias_k.grad, bias[E:2 * E]),
        "bias_v": (attn.bias_v.grad, bias[2 * E:]),
        "weight_o": (attn.weight_o.grad, mha.out_proj.weight.grad.numpy()),
        "bias_o": (attn.bias_o.grad, mha.out_proj.bias.grad.numpy()),
    }
    for name, (ours, theirs) in expected.items():
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("causal", [False, True])
def test_attention_backward_matches_finite_differences(rng, causal):
    attn = random_attention(rng, causal)
    errors = check_module(attn, rng.standard_normal((2, 4, E)))
    assert set(errors) == {"input0"} | {f"{w}_{n}" for w in ("weight", "bias") for n in "qkvo"}
    assert max(errors.values()) < 1e-6


def test_attention_weights_are_rows_of_probabilities(rng):
    attn = random_attention(rng, scale=1.0)
    attn(rng.standard_normal((N, T, E)))
    weights = attn.attn_weights
    assert weights.shape == (N, T, T)
    assert np.all(weights >= 0)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-12)


def test_causal_attention_never_looks_at_the_future(rng):
    attn = random_attention(rng, causal=True)
    x = rng.standard_normal((N, T, E))
    out = attn(x)
    assert not np.triu(attn.attn_weights, k=1).any()       # weights for s > t are exactly zero
    x_changed = x.copy()
    x_changed[:, 3:] += 10.0                                # change only positions 3 and later
    out_changed = attn(x_changed)
    np.testing.assert_array_equal(out[:, :3], out_changed[:, :3])
    assert not np.allclose(out[:, 3:], out_changed[:, 3:])


def test_attention_with_huge_scores_stays_finite(rng):
    attn = random_attention(rng, scale=30.0)                # scores in the tens of thousands
    out = attn(rng.standard_normal((N, T, E)))
    dx = attn.backward(np.ones((N, T, E)))
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(dx))


def test_float32_parameters_and_inputs_stay_float32(rng):
    attn = nn.SelfAttention(E, rng=0).to(np.float32)
    x = rng.standard_normal((N, T, E)).astype(np.float32)
    out = attn(x)
    dx = attn.backward(np.ones((N, T, E), np.float32))
    assert {a.dtype for a in [out, dx, attn.attn_weights] + [p.grad for p in attn.parameters()]} == {np.dtype(np.float32)}


def test_attention_explains_wrong_shapes_and_order():
    attn = nn.SelfAttention(E)
    with pytest.raises(ShapeError, match=r"SelfAttention\(embed_dim=6, causal=False\) expected a batch of sequences "
                                         r"of shape \(N, T, 6\).*Got \(T, D\)\? Add a batch axis with x\[None\]"):
        attn(np.zeros((T, E)))
    with pytest.raises(ShapeError, match=r"expected 6 features at each time step .* has 4"):
        attn(np.zeros((N, T, 4)))
    with pytest.raises(BackwardBeforeForwardError, match="before forward"):
        attn.backward(np.zeros((N, T, E)))
    attn(np.zeros((N, T, E)))
    with pytest.raises(ShapeError, match=r"SelfAttention\(embed_dim=6, causal=False\)\.backward expected grad_out "
                                         r"of shape \(2, 5, 6\).*but got \(2, 6, 6\)"):
        attn.backward(np.zeros((N, T + 1, E)))


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 3), t=st.integers(1, 6), e=st.integers(1, 5), causal=st.booleans())
def test_attention_shapes_for_any_sizes(n, t, e, causal):
    rng = np.random.default_rng(n * 10 + t)
    attn = nn.SelfAttention(e, rng=0, causal=causal)
    out = attn(rng.standard_normal((n, t, e)))
    assert out.shape == (n, t, e) and attn.attn_weights.shape == (n, t, t)
    np.testing.assert_allclose(attn.attn_weights.sum(axis=-1), 1.0, rtol=1e-12)
    assert attn.backward(np.ones((n, t, e))).shape == (n, t, e)
