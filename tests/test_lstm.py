"""LSTM: forward and gate-level BPTT against PyTorch and finite differences, truncation,
grad_norms, errors, dtype, and beating a plain RNN on the adding problem."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bplearn import data, nn
from bplearn.errors import ShapeError
from bplearn.gradcheck import check_module, compare, numerical_gradient
from bplearn.nn.losses import MSELoss
from bplearn.optim import Adam, clip_grad_norm

N, T, D, H = 3, 6, 4, 5


def make_data(rng, n=N, t=T, d=D, h=H):
    return rng.standard_normal((n, t, d)), rng.standard_normal((n, h)), rng.standard_normal((n, h))


def torch_lstm(torch, lstm):
    """torch.nn.LSTM with the same weights (same (out, in) layout and gate order i, f, g, o; second bias zero)."""
    tl = torch.nn.LSTM(lstm.input_size, lstm.hidden_size, batch_first=True)
    with torch.no_grad():
        tl.weight_ih_l0.copy_(torch.tensor(lstm.weight_ih.data))
        tl.weight_hh_l0.copy_(torch.tensor(lstm.weight_hh.data))
        tl.bias_ih_l0.copy_(torch.tensor(lstm.bias.data))
        tl.bias_hh_l0.zero_()
    return tl


def test_lstm_forward_matches_torch_lstm(torch, rng):
    lstm = nn.LSTM(D, H, rng=0)
    x, h0, c0 = make_data(rng)
    hs = lstm(x, h0, c0)
    h_last, c_last = lstm.h_last, lstm.c_last
    ths, (th, tc) = torch_lstm(torch, lstm)(torch.tensor(x), (torch.tensor(h0)[None], torch.tensor(c0)[None]))
    assert hs.shape == (N, T, H) and h_last.shape == c_last.shape == (N, H)
    np.testing.assert_allclose(hs, ths.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(h_last, th[0].detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(c_last, tc[0].detach().numpy(), rtol=0, atol=1e-12)


def test_lstm_backward_matches_torch_autograd(torch, rng):
    lstm = nn.LSTM(D, H, rng=0)
    x, h0, c0 = make_data(rng)
    dhs, dh_last, dc_last = rng.standard_normal((N, T, H)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
    lstm(x, h0, c0)
    dx = lstm.backward(dhs, dh_last, dc_last)
    dh0, dc0 = lstm.grad_h0, lstm.grad_c0

    tl = torch_lstm(torch, lstm)
    xt = torch.tensor(x, requires_grad=True)
    h0t, c0t = torch.tensor(h0[None], requires_grad=True), torch.tensor(c0[None], requires_grad=True)
    ths, (th, tc) = tl(xt, (h0t, c0t))
    loss = (ths * torch.tensor(dhs)).sum() + (th[0] * torch.tensor(dh_last)).sum() + (tc[0] * torch.tensor(dc_last)).sum()
    loss.backward()
    expected = {
        "dx": (dx, xt.grad), "dh0": (dh0, h0t.grad[0]), "dc0": (dc0, c0t.grad[0]),
        "weight_ih": (lstm.weight_ih.grad, tl.weight_ih_l0.grad),
        "weight_hh": (lstm.weight_hh.grad, tl.weight_hh_l0.grad), "bias": (lstm.bias.grad, tl.bias_ih_l0.grad),
    }
    for name, (ours, theirs) in expected.items():
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=0, atol=1e-10, err_msg=name)


def test_lstm_backward_matches_finite_differences(rng):
    lstm = nn.LSTM(3, 4, rng=1)
    x, h0, c0 = make_data(rng, n=2, t=4, d=3, h=4)
    errors = check_module(lstm, x, h0, c0)                  # L = sum(hs * R), R random
    assert set(errors) == {"input0", "weight_ih", "weight_hh", "bias"}
    assert max(errors.values()) < 1e-6


def test_lstm_state_gradients_match_finite_differences(rng):
    # L = sum(hs * R) + sum(h_last * Rh) + sum(c_last * Rc): the last-state gradients go in,
    # grad_h0 and grad_c0 come out.
    lstm = nn.LSTM(3, 4, rng=1)
    x, h0, c0 = make_data(rng, n=2, t=4, d=3, h=4)
    R, Rh, Rc = rng.standard_normal((2, 4, 4)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))

    def loss():
        return float(np.sum(lstm(x, h0, c0) * R) + np.sum(lstm.h_last * Rh) + np.sum(lstm.c_last * Rc))

    lstm(x, h0, c0)
    lstm.zero_grad()
    dx = lstm.backward(R, grad_h_last=Rh, grad_c_last=Rc)
    assert compare("dx", dx, numerical_gradient(loss, x)) < 1e-6
    assert compare("grad_h0", lstm.grad_h0, numerical_gradient(loss, h0)) < 1e-6
    assert compare("grad_c0", lstm.grad_c0, numerical_gradient(loss, c0)) < 1e-6
    assert compare("weight_hh", lstm.weight_hh.grad, numerical_gradient(loss, lstm.weight_hh.data)) < 1e-6


def test_lstm_forget_gate_bias_is_initialised_to_forget_bias():
    b = nn.LSTM(D, H, forget_bias=2.5, rng=0).bias.data
    np.testing.assert_array_equal(b[H:2 * H], 2.5)          # gate order i, f, g, o
    assert not b[:H].any() and not b[2 * H:].any()
    np.testing.assert_array_equal(nn.LSTM(D, H).bias.data[H:2 * H], 1.0)


def grads_of(lstm, x, h0, c0, dhs):
    lstm.zero_grad()
    lstm(x, h0, c0)
    return [lstm.backward(dhs), lstm.grad_h0, lstm.grad_c0] + [p.grad.copy() for p in lstm.parameters()]


def test_truncated_bptt_with_k_at_least_T_equals_full_bptt(rng):
    x, h0, c0 = make_data(rng)
    dhs = rng.standard_normal((N, T, H))
    full = grads_of(nn.LSTM(D, H, rng=0), x, h0, c0, dhs)
    truncated = grads_of(nn.LSTM(D, H, bptt_steps=T, rng=0), x, h0, c0, dhs)
    for a, b in zip(full, truncated):
        np.testing.assert_array_equal(a, b)


def unrolled(torch, lstm, x, h0, c0, bptt_steps=None):
    """The LSTM written out in torch, detaching h and c where a block starts; each h_t retains its grad."""
    xt = torch.tensor(x, requires_grad=True)
    h, c = torch.tensor(h0, requires_grad=True), torch.tensor(c0, requires_grad=True)
    leaves = [xt, h, c] + [torch.tensor(p.data, requires_grad=True) for p in (lstm.weight_ih, lstm.weight_hh, lstm.bias)]
    W, U, b = leaves[3:]
    hs = []
    for t in range(x.shape[1]):
        if bptt_steps and t > 0 and t % bptt_steps == 0:
            h, c = h.detach(), c.detach()
        i, f, g, o = (xt[:, t] @ W.T + h @ U.T + b).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        h.retain_grad()
        hs.append(h)
    return leaves, hs


@pytest.mark.parametrize("k", [None, 2, 4])
def test_lstm_truncation_and_grad_norms_match_torch_unrolled(torch, rng, k):
    lstm = nn.LSTM(D, H, bptt_steps=k, rng=0)
    x, h0, c0 = make_data(rng)
    dhs = rng.standard_normal((N, T, H))
    ours = grads_of(lstm, x, h0, c0, dhs)
    leaves, hs = unrolled(torch, lstm, x, h0, c0, bptt_steps=k)
    sum((h * torch.tensor(dhs[:, t])).sum() for t, h in enumerate(hs)).backward()
    for name, a, leaf in zip(["dx", "grad_h0", "grad_c0", "weight_ih", "weight_hh", "bias"], ours, leaves):
        np.testing.assert_allclose(a, leaf.grad.numpy(), rtol=0, atol=1e-10, err_msg=name)
    assert lstm.grad_norms.shape == (T,)
    np.testing.assert_allclose(lstm.grad_norms, [float(torch.linalg.norm(h.grad)) for h in hs], rtol=1e-12)
    if k is not None:
        full = grads_of(nn.LSTM(D, H, rng=0), x, h0, c0, dhs)
        assert not np.allclose(full[4], ours[4]), "truncation should change dL/dweight_hh when k < T"


def test_float32_parameters_and_inputs_stay_float32(rng):
    lstm = nn.LSTM(D, H, rng=0).to(np.float32)
    x = rng.standard_normal((N, T, D)).astype(np.float32)
    hs = lstm(x)
    dx = lstm.backward(np.ones((N, T, H), np.float32), np.ones((N, H), np.float32), np.ones((N, H), np.float32))
    arrays = [hs, lstm.h_last, lstm.c_last, dx, lstm.grad_h0, lstm.grad_c0] + [p.grad for p in lstm.parameters()]
    assert {a.dtype for a in arrays} == {np.dtype(np.float32)}
    np.testing.assert_allclose(hs, nn.LSTM(D, H, rng=0)(x.astype(np.float64)), rtol=1e-4, atol=1e-5)


def test_lstm_explains_wrong_shapes():
    lstm = nn.LSTM(D, H)
    with pytest.raises(ShapeError, match=r"LSTM\(input_size=4, hidden_size=5\) expected a batch of sequences "
                                         r"of shape \(N, T, 4\).*Got \(T, D\)\? Add a batch axis with x\[None\]"):
        lstm(np.zeros((T, D)))
    with pytest.raises(ShapeError, match=r"expected 4 features at each time step .* has 7"):
        lstm(np.zeros((2, T, 7)))
    with pytest.raises(ShapeError, match=r"c0 must have shape \(N, H\) = \(2, 5\).*got \(3, 5\)"):
        lstm(np.zeros((2, T, D)), None, np.zeros((3, H)))
    with pytest.raises(ShapeError, match=r"h0 must have shape \(N, H\) = \(2, 5\).*got \(2, 5, 1\)"):
        lstm(np.zeros((2, T, D)), np.zeros((2, H, 1)))


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 4), t=st.integers(1, 6), d=st.integers(1, 4), h=st.integers(1, 5),
       k=st.one_of(st.none(), st.integers(1, 7)))
def test_lstm_shapes_and_bounded_states_for_any_sizes(n, t, d, h, k):
    rng = np.random.default_rng(n * 100 + t)
    lstm = nn.LSTM(d, h, bptt_steps=k, rng=0)
    hs = lstm(3.0 * rng.standard_normal((n, t, d)))
    h_last, c_last = lstm.h_last, lstm.c_last
    assert hs.shape == (n, t, h) and h_last.shape == c_last.shape == (n, h)
    np.testing.assert_array_equal(hs[:, -1], h_last)
    assert np.all(np.abs(hs) < 1)                           # h = o * tanh(c) with o in (0, 1)
    assert np.all(np.abs(c_last) <= t)                      # |c| grows by at most 1 per step
    dx = lstm.backward(rng.standard_normal((n, t, h)))
    assert dx.shape == (n, t, d) and lstm.grad_h0.shape == lstm.grad_c0.shape == (n, h)
    assert lstm.grad_norms.shape == (t,)


def train_on_adding_problem(layer, length, steps, batch=32, lr=0.02, seed=0):
    """Train layer + Linear head on the adding problem; return the held-out mean squared error."""
    x, y = data.adding_problem(2000, length, rng=seed)
    x_test, y_test = data.adding_problem(500, length, rng=seed + 100)
    head = nn.Linear(layer.hidden_size, 1, rng=seed + 1)
    params = layer.parameters() + head.parameters()
    opt, mse = Adam(params, lr=lr), MSELoss()
    batches = np.random.default_rng(seed)
    for _ in range(steps):
        idx = batches.integers(0, len(x), batch)
        opt.zero_grad()
        hs = layer(x[idx])
        mse(head(layer.h_last), y[idx])                     # predict from the last hidden state
        layer.backward(np.zeros_like(hs), head.backward(mse.backward()))
        clip_grad_norm(params, 1.0)
        opt.step()
    return float(np.mean((head(layer(x_test)[:, -1]) - y_test) ** 2))


def test_lstm_beats_plain_rnn_on_the_adding_problem():
    # Length 30, hidden 16, 300 Adam steps: the LSTM gets far below the 1/6 baseline of
    # always answering 1.0; the tanh RNN, whose gradient fades over 15+ steps, does not.
    lstm_mse = train_on_adding_problem(nn.LSTM(2, 16, rng=0), length=30, steps=300)
    rnn_mse = train_on_adding_problem(nn.RNN(2, 16, rng=0), length=30, steps=300)
    assert lstm_mse < 0.03, lstm_mse
    assert rnn_mse > 0.1, rnn_mse
