"""RNN: forward and BPTT against PyTorch and finite differences, truncation, grad_norms,
clipping, errors, dtype, time-distributed Linear, and a small learning task."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bplearn import data, nn
from bplearn.errors import BackwardBeforeForwardError, ShapeError
from bplearn.gradcheck import check_module, compare, numerical_gradient
from bplearn.nn.losses import CrossEntropyLoss
from bplearn.optim import Adam, clip_grad_norm

N, T, D, H = 3, 6, 4, 5


def make_data(rng, n=N, t=T, d=D, h=H):
    return rng.standard_normal((n, t, d)), rng.standard_normal((n, h))


def torch_rnn(torch, rnn):
    """torch.nn.RNN with the same weights: the same (out, in) layout, and a second bias (zero)."""
    trnn = torch.nn.RNN(rnn.input_size, rnn.hidden_size, nonlinearity=rnn.nonlinearity, batch_first=True)
    with torch.no_grad():
        trnn.weight_ih_l0.copy_(torch.tensor(rnn.weight_ih.data))
        trnn.weight_hh_l0.copy_(torch.tensor(rnn.weight_hh.data))
        trnn.bias_ih_l0.copy_(torch.tensor(rnn.bias.data))
        trnn.bias_hh_l0.zero_()
    return trnn


def torch_unrolled(torch, rnn, x, h0, bptt_steps=None):
    """The recurrence written out step by step in torch, detaching h where a block starts.

    Returns (x, h0, weight_ih, weight_hh, bias, list of h_t) as torch tensors that require grad,
    each h_t with retain_grad() so its total gradient can be read after backward.
    """
    xt, h0t = torch.tensor(x, requires_grad=True), torch.tensor(h0, requires_grad=True)
    W, U, b = (torch.tensor(p.data, requires_grad=True) for p in (rnn.weight_ih, rnn.weight_hh, rnn.bias))
    act = torch.tanh if rnn.nonlinearity == "tanh" else torch.relu
    h, hs = h0t, []
    for t in range(x.shape[1]):
        if bptt_steps and t > 0 and t % bptt_steps == 0:
            h = h.detach()                                  # the usual torch way to truncate
        h = act(xt[:, t] @ W.T + h @ U.T + b)
        h.retain_grad()
        hs.append(h)
    return xt, h0t, W, U, b, hs


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_forward_matches_torch_rnn(torch, rng, nonlinearity):
    rnn = nn.RNN(D, H, nonlinearity=nonlinearity, rng=0)
    x, h0 = make_data(rng)
    hs = rnn(x, h0)
    h_last = rnn.h_last
    ths, th_last = torch_rnn(torch, rnn)(torch.tensor(x), torch.tensor(h0)[None])
    assert hs.shape == (N, T, H) and h_last.shape == (N, H)
    np.testing.assert_allclose(hs, ths.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(h_last, th_last[0].detach().numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_backward_matches_torch_autograd(torch, rng, nonlinearity):
    rnn = nn.RNN(D, H, nonlinearity=nonlinearity, rng=0)
    x, h0 = make_data(rng)
    dhs, dh_last = rng.standard_normal((N, T, H)), rng.standard_normal((N, H))
    rnn(x, h0)
    dx = rnn.backward(dhs, grad_h_last=dh_last)
    dh0 = rnn.grad_h0

    trnn = torch_rnn(torch, rnn)
    xt, h0t = torch.tensor(x, requires_grad=True), torch.tensor(h0[None], requires_grad=True)
    ths, th_last = trnn(xt, h0t)
    ((ths * torch.tensor(dhs)).sum() + (th_last[0] * torch.tensor(dh_last)).sum()).backward()
    expected = {
        "dx": (dx, xt.grad), "dh0": (dh0, h0t.grad[0]),
        "weight_ih": (rnn.weight_ih.grad, trnn.weight_ih_l0.grad),
        "weight_hh": (rnn.weight_hh.grad, trnn.weight_hh_l0.grad),
        "bias": (rnn.bias.grad, trnn.bias_ih_l0.grad),
    }
    for name, (ours, theirs) in expected.items():
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=0, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_backward_matches_finite_differences(rng, nonlinearity):
    rnn = nn.RNN(3, 4, nonlinearity=nonlinearity, rng=1)
    x, h0 = make_data(rng, n=2, t=5, d=3, h=4)
    errors = check_module(rnn, x, h0)                       # L = sum(hs * R), R random
    assert set(errors) == {"input0", "weight_ih", "weight_hh", "bias"}
    assert max(errors.values()) < 1e-6


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_state_gradients_match_finite_differences(rng, nonlinearity):
    # L = sum(hs * R) + sum(h_last * R_last): grad_h_last goes in, grad_h0 comes out.
    rnn = nn.RNN(3, 4, nonlinearity=nonlinearity, rng=1)
    x, h0 = make_data(rng, n=2, t=5, d=3, h=4)
    R, R_last = rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 4))

    def loss():
        return float(np.sum(rnn(x, h0) * R) + np.sum(rnn.h_last * R_last))

    rnn(x, h0)
    rnn.zero_grad()
    dx = rnn.backward(R, grad_h_last=R_last)
    assert compare("dx", dx, numerical_gradient(loss, x)) < 1e-6
    assert compare("grad_h0", rnn.grad_h0, numerical_gradient(loss, h0)) < 1e-6
    assert compare("weight_hh", rnn.weight_hh.grad, numerical_gradient(loss, rnn.weight_hh.data)) < 1e-6


def test_rnn_parameter_gradients_accumulate_until_zero_grad(rng):
    rnn = nn.RNN(D, H, rng=0)
    x, _ = make_data(rng)
    dhs = rng.standard_normal((N, T, H))
    rnn(x)
    rnn.backward(dhs)
    once = rnn.weight_hh.grad.copy()
    rnn.backward(dhs)
    np.testing.assert_allclose(rnn.weight_hh.grad, 2 * once, rtol=1e-12)
    rnn.zero_grad()
    assert not rnn.weight_hh.grad.any()


def grads_of(rnn, x, h0, dhs, dh_last):
    rnn.zero_grad()
    rnn(x, h0)
    dx = rnn.backward(dhs, dh_last)
    return [dx, rnn.grad_h0] + [p.grad.copy() for p in rnn.parameters()]


@pytest.mark.parametrize("k", [T, T + 3])
def test_truncated_bptt_with_k_at_least_T_equals_full_bptt(rng, k):
    x, h0 = make_data(rng)
    dhs, dh_last = rng.standard_normal((N, T, H)), rng.standard_normal((N, H))
    full = grads_of(nn.RNN(D, H, rng=0), x, h0, dhs, dh_last)
    truncated = grads_of(nn.RNN(D, H, bptt_steps=k, rng=0), x, h0, dhs, dh_last)
    for a, b in zip(full, truncated):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("k", [1, 2, 4])
def test_truncated_bptt_matches_torch_with_detach_at_block_starts(torch, rng, k):
    rnn = nn.RNN(D, H, bptt_steps=k, rng=0)
    x, h0 = make_data(rng)
    dhs, dh_last = rng.standard_normal((N, T, H)), rng.standard_normal((N, H))
    ours = grads_of(rnn, x, h0, dhs, dh_last)
    xt, h0t, W, U, b, hs = torch_unrolled(torch, rnn, x, h0, bptt_steps=k)
    loss = sum((h * torch.tensor(dhs[:, t])).sum() for t, h in enumerate(hs)) + (hs[-1] * torch.tensor(dh_last)).sum()
    loss.backward()
    for name, a, tb in zip(["dx", "grad_h0", "weight_ih", "weight_hh", "bias"], ours, [xt, h0t, W, U, b]):
        np.testing.assert_allclose(a, tb.grad.numpy(), rtol=0, atol=1e-10, err_msg=name)
    full = grads_of(nn.RNN(D, H, rng=0), x, h0, dhs, dh_last)
    assert not np.allclose(full[3], ours[3]), "truncation should change dL/dweight_hh when k < T"


def test_truncated_bptt_gives_no_gradient_to_inputs_before_the_last_block(rng):
    # Loss only at the last step: its gradient may reach back only to the start of its block.
    T_, k = 7, 3                                            # blocks [0, 3), [3, 6), [6, 7)
    rnn = nn.RNN(D, H, bptt_steps=k, rng=0)
    x, _ = make_data(rng, t=T_)
    dhs = np.zeros((N, T_, H))
    dhs[:, -1] = rng.standard_normal((N, H))
    rnn(x)
    dx = rnn.backward(dhs)
    assert not dx[:, :6].any() and not rnn.grad_h0.any()
    assert np.abs(dx[:, 6]).sum() > 0
    assert not rnn.grad_norms[:6].any() and rnn.grad_norms[6] > 0


@pytest.mark.parametrize("k", [None, 2])
def test_grad_norms_are_norms_of_dL_dh_t_from_torch(torch, rng, k):
    rnn = nn.RNN(D, H, bptt_steps=k, rng=0)
    x, h0 = make_data(rng)
    dhs = rng.standard_normal((N, T, H))
    rnn(x, h0)
    rnn.backward(dhs)
    _, _, _, _, _, hs = torch_unrolled(torch, rnn, x, h0, bptt_steps=k)
    sum((h * torch.tensor(dhs[:, t])).sum() for t, h in enumerate(hs)).backward()
    expected = [float(torch.linalg.norm(h.grad)) for h in hs]  # Frobenius norm over (N, H)
    assert rnn.grad_norms.shape == (T,)
    np.testing.assert_allclose(rnn.grad_norms, expected, rtol=1e-12)


def test_grad_norms_vanish_backwards_in_time_with_small_recurrent_weights(rng):
    T_ = 20
    rnn = nn.RNN(D, H, rng=0)
    rnn.weight_hh.data *= 0.5                               # every step back shrinks the gradient
    x, _ = make_data(rng, t=T_)
    dhs = np.zeros((N, T_, H))
    dhs[:, -1] = 1.0                                        # a loss on the last step only
    rnn(x)
    rnn.backward(dhs)
    g = rnn.grad_norms
    assert np.all(np.diff(g) > 0), g                        # larger the closer to the loss
    assert g[0] < 1e-3 * g[-1]


def test_clip_grad_norm_bounds_the_global_norm_of_rnn_gradients(rng):
    rnn = nn.RNN(D, H, rng=0)
    x, _ = make_data(rng)
    rnn(x)
    rnn.backward(100.0 * rng.standard_normal((N, T, H)))   # deliberately huge gradients
    before = np.sqrt(sum(np.sum(p.grad ** 2) for p in rnn.parameters()))
    directions = [p.grad / before for p in rnn.parameters()]
    returned = clip_grad_norm(rnn.parameters(), max_norm=1.0)
    after = np.sqrt(sum(np.sum(p.grad ** 2) for p in rnn.parameters()))
    assert returned == pytest.approx(before, rel=1e-12)
    assert after <= 1.0 and after == pytest.approx(1.0, abs=1e-5)
    for p, direction in zip(rnn.parameters(), directions):  # only the length changed
        np.testing.assert_allclose(p.grad / after, direction, rtol=1e-9, atol=1e-12)


def test_time_distributed_linear_on_rnn_outputs_matches_finite_differences(rng):
    # Linear applies the same weights at every time step of (N, T, H).
    rnn, head = nn.RNN(3, 4, rng=0), nn.Linear(4, 2, rng=1)
    x = rng.standard_normal((2, 5, 3))
    R = rng.standard_normal((2, 5, 2))

    def loss():
        return float(np.sum(head(rnn(x)) * R))

    rnn.zero_grad(), head.zero_grad()
    out = head(rnn(x))
    assert out.shape == (2, 5, 2)
    dhs = head.backward(R)
    assert dhs.shape == (2, 5, 4)
    dx = rnn.backward(dhs)
    compare("dx", dx, numerical_gradient(loss, x))
    compare("head.weight", head.weight.grad, numerical_gradient(loss, head.weight.data))
    compare("rnn.weight_hh", rnn.weight_hh.grad, numerical_gradient(loss, rnn.weight_hh.data))


def test_float32_parameters_and_inputs_stay_float32(rng):
    rnn = nn.RNN(D, H, rng=0).to(np.float32)
    x = rng.standard_normal((N, T, D)).astype(np.float32)
    hs = rnn(x)
    dx = rnn.backward(np.ones((N, T, H), np.float32), np.ones((N, H), np.float32))
    arrays = (hs, rnn.h_last, dx, rnn.grad_h0, rnn.weight_ih.grad, rnn.weight_hh.grad, rnn.bias.grad)
    assert {a.dtype for a in arrays} == {np.dtype(np.float32)}
    np.testing.assert_allclose(hs, nn.RNN(D, H, rng=0)(x.astype(np.float64)), rtol=1e-4, atol=1e-5)


def test_rnn_rejects_a_sequence_without_batch_axis():
    rnn = nn.RNN(D, H)
    with pytest.raises(ShapeError, match=r"shape \(N, T, 4\) = \(batch, time, features\).*Got \(T, D\)\? "
                                         r"Add a batch axis with x\[None\].*Got \(N, T\) token ids\? .*"
                                         r"bplearn\.data\.one_hot or an Embedding layer"):
        rnn(np.zeros((T, D)))


def test_rnn_rejects_wrong_feature_size():
    with pytest.raises(ShapeError, match=r"RNN\(input_size=4.*expected 4 features at each time step.*\(2, 6, 3\)"):
        nn.RNN(D, H)(np.zeros((2, T, 3)))


def test_rnn_rejects_h0_of_the_wrong_shape():
    with pytest.raises(ShapeError, match=r"h0 must have shape \(N, H\) = \(2, 5\).*got \(2, 4\)"):
        nn.RNN(D, H)(np.zeros((2, T, D)), np.zeros((2, 4)))
    with pytest.raises(ShapeError, match=r"Got \(H,\)\? Use h0\[None\]"):
        nn.RNN(D, H)(np.zeros((1, T, D)), np.zeros(H))


def test_rnn_backward_rejects_upstream_gradient_of_the_wrong_shape():
    rnn = nn.RNN(D, H)
    rnn(np.zeros((2, T, D)))
    with pytest.raises(ShapeError, match=r"RNN\(.*\)\.backward expected grad_out of shape \(2, 6, 5\).*got \(2, 5, 5\)"):
        rnn.backward(np.zeros((2, T - 1, H)))
    with pytest.raises(ShapeError, match=r"expected grad_h_last of shape \(2, 5\).*got \(5,\)"):
        rnn.backward(np.zeros((2, T, H)), np.zeros(H))


def test_rnn_backward_before_forward_is_explained():
    with pytest.raises(BackwardBeforeForwardError, match="before forward"):
        nn.RNN(D, H).backward(np.zeros((1, T, H)))


def test_rnn_rejects_bad_options():
    with pytest.raises(ValueError, match="RNN: nonlinearity must be one of 'tanh', 'relu'; got 'sigmoid'"):
        nn.RNN(D, H, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="bptt_steps must be None .* positive integer, got 0"):
        nn.RNN(D, H, bptt_steps=0)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 4), t=st.integers(1, 7), d=st.integers(1, 5), h=st.integers(1, 6),
       k=st.one_of(st.none(), st.integers(1, 8)), relu=st.booleans())
def test_rnn_shapes_and_last_state_for_any_sizes(n, t, d, h, k, relu):
    rng = np.random.default_rng(n * 100 + t)
    rnn = nn.RNN(d, h, nonlinearity="relu" if relu else "tanh", bptt_steps=k, rng=0)
    hs = rnn(rng.standard_normal((n, t, d)))
    assert hs.shape == (n, t, h) and rnn.h_last.shape == (n, h)
    np.testing.assert_array_equal(hs[:, -1], rnn.h_last)
    dx = rnn.backward(rng.standard_normal((n, t, h)))
    assert dx.shape == (n, t, d) and rnn.grad_h0.shape == (n, h) and rnn.grad_norms.shape == (t,)
    assert np.all(np.isfinite(dx)) and np.all(rnn.grad_norms >= 0)


def test_rnn_learns_to_reverse_short_sequences():
    # Recipe: 6 tokens from a vocabulary of 4 (+ a "go" token), one-hot inputs, hidden 48,
    # Adam(lr=0.01), batch 32, 1000 steps, clip at 5: reaches ~99% held-out accuracy.
    length, vocab = 6, 4
    x, y = data.reversal(2000, length, vocab, rng=0, one_hot_inputs=True)
    x_test, y_test = data.reversal(500, length, vocab, rng=1, one_hot_inputs=True)
    rnn, head = nn.RNN(vocab + 1, 48, rng=0), nn.Linear(48, vocab, rng=1)
    params = rnn.parameters() + head.parameters()
    opt, loss_fn = Adam(params, lr=0.01), CrossEntropyLoss()
    batches = np.random.default_rng(0)
    for _ in range(1000):
        idx = batches.integers(0, len(x), 32)
        opt.zero_grad()
        hs = rnn(x[idx])
        logits = head(hs[:, length:])                       # answers come after the input
        loss_fn(logits.reshape(-1, vocab), y[idx].reshape(-1))
        dhs = np.zeros_like(hs)
        dhs[:, length:] = head.backward(loss_fn.backward().reshape(logits.shape))
        rnn.backward(dhs)
        clip_grad_norm(params, 5.0)
        opt.step()
    hs = rnn(x_test)
    accuracy = np.mean(head(hs[:, length:]).argmax(axis=-1) == y_test)
    assert accuracy >= 0.95, accuracy
