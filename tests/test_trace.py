"""bplearn.explain.trace: the recorded events must be the maths, step by step.

Expected numbers come from hand calculation, finite differences, the engine's own
backward on a separately built graph, plain model.backward, or torch autograd.
"""
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bplearn import nn
from bplearn.engine import Value
from bplearn.errors import ShapeError
from bplearn.gradcheck import compare, numerical_gradient
from bplearn.explain.trace import Event, trace_network, trace_rnn, trace_value

NUMBER = r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?"


def neuron_loss(w=0.5, x=2.0, b=-0.2, t=1.0):
    """L = (sigmoid(w*x + b) - t)**2 with labelled leaves; returns (L, leaves dict)."""
    leaves = {"w": Value(w, "w"), "x": Value(x, "x"), "b": Value(b, "b"), "t": Value(t, "t")}
    y = (leaves["w"] * leaves["x"] + leaves["b"]).sigmoid()
    y.label = "y"
    loss = (y - leaves["t"]) ** 2
    loss.label = "L"
    return loss, leaves


def final_grads(trace):
    """{node name: last accumulated gradient} from the backward events."""
    return {e.name: e.accumulated_grad for e in trace if e.phase == "backward"}


# --- scalar graphs ----------------------------------------------------------------------------
def test_trace_value_forward_events_are_the_nodes_in_topological_order():
    loss, _ = neuron_loss()
    order = loss.topological_order()
    trace = trace_value(loss)
    forward = [e for e in trace if e.phase == "forward"]
    assert [e.value for e in forward] == [v.data for v in order]
    assert [e.index for e in trace] == list(range(len(trace)))
    assert all(isinstance(e, Event) for e in trace)
    assert trace.last_forward == len(order) - 1


def test_trace_value_has_a_seed_then_one_backward_event_per_edge():
    loss, _ = neuron_loss()
    trace = trace_value(loss)
    backward = [e for e in trace if e.phase == "backward"]
    assert backward[0].op == "seed" and backward[0].accumulated_grad == 1.0
    edges = trace.graph["edges"]
    assert sorted(e.edge for e in backward[1:]) == sorted((p, c) for p, c, _ in edges)


def test_trace_value_final_gradients_equal_engine_backward_on_a_separate_graph():
    traced, traced_leaves = neuron_loss()
    trace = trace_value(traced)
    plain, plain_leaves = neuron_loss()
    plain.backward()
    grads = final_grads(trace)
    for name, leaf in plain_leaves.items():
        assert grads[name] == pytest.approx(leaf.grad, rel=1e-15, abs=1e-15)
        assert traced_leaves[name].grad == pytest.approx(leaf.grad, rel=1e-15, abs=1e-15)  # graph left filled


def test_trace_value_gradients_match_finite_differences():
    point = np.array([0.5, 2.0, -0.2, 1.0])

    def loss():
        return neuron_loss(*point)[0].data

    numeric = numerical_gradient(loss, point)
    grads = final_grads(trace_value(neuron_loss(*point)[0]))
    analytic = [grads[n] for n in ("w", "x", "b", "t")]
    assert compare("leaves", analytic, numeric) < 1e-6


def test_trace_value_worked_example_prediction_0_8_target_1():
    # L = (y - t)^2 with y = 0.8, t = 1.0: dL/dy = 2 (y - t) = -0.4 by hand
    y, t = Value(0.8, "y"), Value(1.0, "t")
    loss = (y - t) ** 2
    loss.label = "L"
    trace = trace_value(loss)
    assert final_grads(trace)["y"] == pytest.approx(-0.4)
    assert any("dL/dy = " in e.text and "= -0.4" in e.text for e in trace)


def test_trace_value_accumulates_when_a_value_is_used_twice():
    a = Value(3.0, "a")
    trace = trace_value(a * a + a)                     # d/da = 2a + 1 = 7
    into_a = [e for e in trace if e.phase == "backward" and e.name == "a"]
    assert len(into_a) == 3                           # one per edge: (a*a) twice, and + a
    assert [e.accumulated_grad for e in into_a] == [1.0, 4.0, 7.0]
    assert "+=" in into_a[-1].text and "so far dL/da = 7" in into_a[-1].text


def test_trace_value_chain_rule_text_shows_the_event_numbers():
    loss, _ = neuron_loss()
    for e in trace_value(loss):
        if e.phase != "backward" or e.op == "seed":
            continue
        upstream, local, share = map(float, re.findall(rf"= ({NUMBER}) × ({NUMBER}) = ({NUMBER})", e.text)[0])
        assert upstream == pytest.approx(e.upstream_grad, rel=1e-3)
        assert local == pytest.approx(e.local_grad, rel=1e-3)
        assert share == pytest.approx(e.upstream_grad * e.local_grad, rel=1e-3)


def test_trace_value_forward_text_shows_formula_and_value():
    w, x = Value(0.5, "w"), Value(-2.0, "x")
    y = w * x
    y.label = "y"
    text = trace_value(y)[2].text
    assert text.startswith("y = w * x = 0.5 × (-2) = -1")
    assert "dy/dw = -2" in text and "dy/dx = 0.5" in text


def test_trace_value_without_zero_grad_adds_to_existing_leaf_gradients():
    loss, leaves = neuron_loss()
    loss.backward()
    once = leaves["w"].grad
    trace = trace_value(loss, zero_grad=False)        # a second pass accumulates, like backward() twice
    assert final_grads(trace)["w"] == pytest.approx(2 * once)


def test_trace_value_rejects_something_that_is_not_a_value():
    with pytest.raises(TypeError, match="needs the output Value"):
        trace_value(3.0)


def test_trace_graph_state_reveals_values_and_grads_in_order():
    loss, _ = neuron_loss()
    trace = trace_value(loss)
    assert trace.graph_state(0)["computed"] == {0} and trace.graph_state(0)["grads"] == {}
    end = trace.graph_state(len(trace) - 1)
    assert end["computed"] == set(range(len(trace.graph["nodes"])))
    assert end["grads"][len(trace.graph["nodes"]) - 1] == 1.0


# --- networks ---------------------------------------------------------------------------------
def make_mlp(seed=0, sizes=(3, 5, 4, 2), act=nn.Tanh):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1], rng=seed + i))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def batch(n=6, d=3, classes=2, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.integers(0, classes, n)


def test_trace_network_events_go_layer_by_layer_forward_then_back():
    model = make_mlp()
    x, y = batch()
    trace = trace_network(model, x, y, nn.CrossEntropyLoss())
    names = [e.name for e in trace]
    assert names == ["0: Linear", "1: Tanh", "2: Linear", "3: Tanh", "4: Linear", "loss",
                     "loss", "4: Linear", "3: Tanh", "2: Linear", "1: Tanh", "0: Linear"]
    assert [e.phase for e in trace] == ["forward"] * 6 + ["backward"] * 6
    assert trace[4].value.shape == (6, 2) and trace[-1].accumulated_grad.shape == (6, 3)


def test_trace_network_parameter_grads_equal_a_plain_backward():
    x, y = batch()
    traced, plain = make_mlp(), make_mlp()
    trace = trace_network(traced, x, y, nn.CrossEntropyLoss())
    loss_fn = nn.CrossEntropyLoss()
    loss = loss_fn(plain(x), y)
    plain.backward(loss_fn.backward())
    assert trace.info["loss"] == loss
    recorded = {n: g for e in trace for n, g in e.param_grads.items()}
    for name, p in plain.named_parameters():
        np.testing.assert_array_equal(recorded[name], p.grad)


def test_trace_network_parameter_grads_match_finite_differences():
    model = make_mlp()
    x, y = batch()
    loss_fn = nn.CrossEntropyLoss()
    trace = trace_network(model, x, y, loss_fn)
    recorded = {n: g for e in trace for n, g in e.param_grads.items()}
    for name, p in model.named_parameters():
        numeric = numerical_gradient(lambda: loss_fn(model(x), y), p.data)
        assert compare(name, recorded[name], numeric) < 1e-6


def test_trace_network_matches_torch_autograd(torch):
    model = make_mlp(act=nn.Tanh)
    x, y = batch()
    trace = trace_network(model, x, y, nn.CrossEntropyLoss())
    params = {n: torch.tensor(p.data, requires_grad=True) for n, p in model.named_parameters()}
    h = torch.tensor(x)
    for i in (0, 2, 4):
        h = h @ params[f"{i}.weight"].T + params[f"{i}.bias"]
        if i < 4:
            h = torch.tanh(h)
    torch.nn.functional.cross_entropy(h, torch.tensor(y)).backward()
    recorded = {n: g for e in trace for n, g in e.param_grads.items()}
    for name, tp in params.items():
        np.testing.assert_allclose(recorded[name], tp.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_trace_network_param_grads_are_copies_taken_at_that_moment():
    model = make_mlp()
    x, y = batch()
    trace = trace_network(model, x, y, nn.CrossEntropyLoss())
    model.zero_grad()
    assert np.any(trace[-1].param_grads["0.weight"] != 0)
    assert set(trace[7].param_grads) == {"4.weight", "4.bias"}   # only the layer just passed


def test_trace_network_rejects_a_model_that_is_not_sequential():
    x, y = batch()
    with pytest.raises(TypeError, match="expected a Sequential model"):
        trace_network(nn.Linear(3, 2), x, y, nn.CrossEntropyLoss())


def test_trace_network_rejects_x_and_y_with_different_batch_sizes():
    x, y = batch()
    with pytest.raises(ShapeError, match="x has 6 samples .* y has shape \\(5,\\)"):
        trace_network(make_mlp(), x, y[:5], nn.CrossEntropyLoss())


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 5), hidden=st.lists(st.integers(1, 6), min_size=1, max_size=3))
def test_trace_network_has_two_events_per_layer_plus_two_for_the_loss(n, hidden):
    sizes = (3, *hidden, 2)
    model = make_mlp(sizes=sizes, act=nn.ReLU)
    x, y = batch(n=n)
    trace = trace_network(model, x, y, nn.CrossEntropyLoss())
    assert len(trace) == 2 * len(model.layers) + 2
    width = 3
    for layer, e in zip(model.layers, trace):
        width = getattr(layer, "out_features", width)          # activations keep the width
        assert e.value.shape == (n, width)


# --- RNN ----------------------------------------------------------------------------------------
def rnn_setup(T=8, H=5, seed=0):
    rnn = nn.RNN(3, H, rng=seed)
    x = np.random.default_rng(seed + 1).standard_normal((2, T, 3))
    return rnn, x


def test_trace_rnn_gradient_norms_match_torch(torch):
    rnn, x = rnn_setup()
    trace = trace_rnn(rnn, x)
    W_ih, W_hh, b = (torch.tensor(p.data, requires_grad=True) for p in (rnn.weight_ih, rnn.weight_hh, rnn.bias))
    h, hs = torch.zeros(2, 5, dtype=torch.float64), []
    for t in range(x.shape[1]):
        h = torch.tanh(torch.tensor(x[:, t]) @ W_ih.T + h @ W_hh.T + b)
        h.retain_grad()
        hs.append(h)
    (h * (1 / np.sqrt(10))).sum().backward()         # dL/dh_T: constant, total norm 1
    expected = [float(torch.linalg.norm(s.grad)) for s in hs]
    got = [e.accumulated_grad for e in trace if e.op == "bptt step"][::-1]
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_trace_rnn_truncation_keeps_the_last_block_and_cuts_the_rest():
    rnn, x = rnn_setup(T=9)
    full = trace_rnn(rnn, x).info["grad_norms"]
    cut = trace_rnn(rnn, x, bptt_steps=3).info["grad_norms"]
    np.testing.assert_allclose(cut[6:], full[6:], rtol=1e-12)      # inside the last block nothing changes
    assert np.all(cut[:6] == 0) and np.all(full[:6] > 0)
    assert rnn.bptt_steps is None                                 # the layer's own setting is restored
    texts = [e.text for e in trace_rnn(rnn, x, bptt_steps=3)]
    assert any("no gradient crosses from h_6 back to h_5" in t for t in texts)


def test_trace_rnn_clipping_caps_the_total_norm_and_keeps_the_direction():
    rnn, x = rnn_setup()
    free = trace_rnn(rnn, x)
    clipped = trace_rnn(rnn, x, clip_norm=0.1)
    assert free.info["norm_after_clip"] > 0.1
    assert clipped.info["norm_after_clip"] == pytest.approx(0.1, rel=1e-5)
    scale = 0.1 / free.info["norm_before_clip"]
    for name, g in free[-1].param_grads.items():
        np.testing.assert_allclose(clipped[-1].param_grads[name], g * scale, rtol=1e-4)


def test_trace_rnn_forward_events_hold_each_hidden_state():
    rnn, x = rnn_setup(T=4)
    trace = trace_rnn(rnn, x)
    hs = rnn(x)
    for t in range(4):
        np.testing.assert_array_equal(trace[t].value, hs[:, t])


def test_trace_rnn_rejects_other_layers():
    with pytest.raises(TypeError, match="needs an nn.RNN or nn.LSTM layer, got Linear"):
        trace_rnn(nn.Linear(3, 2), np.zeros((1, 2, 3)))


# --- the trace is recorded from the real backward, not re-derived ----------------------------------
def test_trace_value_events_come_from_value_backward_itself(monkeypatch):
    """One real backward pass, observed: the trace ends with exactly the grads it left."""
    original = Value.backward
    loss, leaves = neuron_loss()
    calls = []
    monkeypatch.setattr(Value, "backward", lambda self, recorder=None: (
        calls.append(1), original(self, recorder=recorder)))
    trace = trace_value(loss)
    assert calls == [1]                                   # exactly one real backward pass, recorded
    grads = final_grads(trace)
    for name, leaf in leaves.items():
        assert grads[name] == leaf.grad                   # bit for bit what the engine left in .grad


def test_trace_value_backward_events_equal_the_engines_per_edge_products():
    loss, leaves = neuron_loss()
    steps = []
    twin, _ = neuron_loss()
    twin.backward(recorder=lambda node, parent, local, share: steps.append((local, share, None if parent is None
                                                                           else parent.grad)))
    trace = trace_value(loss)
    backward = [e for e in trace if e.phase == "backward"]
    assert len(backward) == len(steps)
    for event, (local, share, grad) in zip(backward[1:], steps[1:]):
        assert event.local_grad == local and event.upstream_grad * event.local_grad == share
        assert event.accumulated_grad == grad


def test_trace_network_of_a_cnn_records_the_gradients_a_plain_backward_computes():
    def cnn():
        return nn.Sequential(nn.Conv2d(1, 2, 3, rng=0), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(2 * 3 * 3, 3, rng=1))
    x = np.random.default_rng(0).standard_normal((2, 1, 8, 8))
    y = np.array([0, 2])
    traced, plain = cnn(), cnn()
    trace = trace_network(traced, x, y, nn.CrossEntropyLoss())
    loss_fn = nn.CrossEntropyLoss()
    loss_fn(plain(x), y)
    plain.backward(loss_fn.backward())
    recorded = {n: g for e in trace for n, g in e.param_grads.items()}
    assert set(recorded) == {n for n, _ in plain.named_parameters()}
    for name, p in plain.named_parameters():
        np.testing.assert_array_equal(recorded[name], p.grad)


@pytest.mark.parametrize("make", [lambda: nn.RNN(3, 4, rng=0), lambda: nn.LSTM(3, 4, rng=0)], ids=["rnn", "lstm"])
def test_trace_rnn_records_the_gradients_the_layers_own_backward_computes(make):
    x = np.random.default_rng(2).standard_normal((2, 6, 3))
    dh_last = np.random.default_rng(3).standard_normal((2, 4))
    traced, plain = make(), make()
    trace = trace_rnn(traced, x, dh_last=dh_last)
    hs = plain(x)
    plain.backward(np.zeros_like(hs), dh_last)
    for name, p in plain.named_parameters():
        np.testing.assert_array_equal(trace[-1].param_grads[name], p.grad)
    norms = [e.accumulated_grad for e in trace if e.op == "bptt step"][::-1]
    np.testing.assert_array_equal(norms, plain.grad_norms)


def test_trace_rnn_of_an_lstm_matches_finite_differences():
    lstm = nn.LSTM(2, 3, rng=1)
    x = np.random.default_rng(4).standard_normal((2, 5, 2))
    dh_last = np.random.default_rng(5).standard_normal((2, 3))
    trace = trace_rnn(lstm, x, dh_last=dh_last)

    def loss():
        lstm(x)
        return float(np.sum(lstm.h_last * dh_last))      # L = <h_last, dh_last>, so dL/dh_last = dh_last
    for name, p in lstm.named_parameters():
        assert compare(name, trace[-1].param_grads[name], numerical_gradient(loss, p.data)) < 1e-6
    assert trace.info["layer"] == "LSTM" and trace[0].text.startswith("h_0, c_0 = LSTM gates i, f, g, o")


def test_trace_rnn_of_an_lstm_truncates_like_the_layer():
    lstm = nn.LSTM(3, 4, bptt_steps=2, rng=0)
    x = np.random.default_rng(1).standard_normal((1, 6, 3))
    cut = trace_rnn(lstm, x).info["grad_norms"]
    full = trace_rnn(lstm, x, bptt_steps=None).info["grad_norms"]
    assert np.all(cut[:4] == 0) and np.all(full[:4] > 0) and lstm.bptt_steps == 2
