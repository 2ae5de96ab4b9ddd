"""bplearn.explain.widgets without a browser: step i shows event i, numbers match the maths.

Buttons are pressed with ipywidgets' own Button.click(), which runs the same handlers
a click in JupyterLab runs (tests/test_browser.py does the real click).
"""
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest

from bplearn import nn
from bplearn.engine import Value
from bplearn.errors import ShapeError
from bplearn.gradcheck import compare, numerical_gradient
from bplearn.explain.trace import fmt
from bplearn.explain.widgets import BPTTStepper, GraphStepper, NetworkStepper, Playground

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def buttons(stepper):
    box = stepper.widget
    return {b.description: b for b in box.children[0].children}


def neuron_stepper():
    return GraphStepper("(w * x + b - t) ** 2", w=0.5, x=2.0, b=0.1, t=1.0)


# --- GraphStepper -------------------------------------------------------------------------------
def test_graph_stepper_step_i_shows_event_i():
    stepper = neuron_stepper()
    for i in range(len(stepper.trace)):
        stepper.goto(i)
        state = stepper.state
        assert state["step"] == i and state["event"] is stepper.trace[i]
        assert state["text"] == stepper.trace[i].text
    stepper.step()                                       # past the end: stays on the last event
    assert stepper.state["step"] == len(stepper.trace) - 1


def test_graph_stepper_buttons_move_through_the_pass():
    stepper = neuron_stepper()
    press = buttons(stepper)
    assert list(press) == ["Forward", "Step back", "Step", "Run backward", "Reset"]
    press["Step"].click()
    press["Step"].click()
    assert stepper.index == 2 and stepper._slider.value == 2
    press["Step back"].click()
    assert stepper.index == 1
    press["Forward"].click()
    assert stepper.state["phase"] == "forward" and stepper.trace[stepper.index + 1].phase == "backward"
    press["Run backward"].click()
    assert stepper.index == len(stepper.trace) - 1
    press["Reset"].click()
    assert stepper.index == 0
    press["Step back"].click()
    assert stepper.index == 0


def test_graph_stepper_slider_and_widget_show_the_current_event():
    stepper = neuron_stepper()
    _ = stepper.widget
    first = stepper._image.value
    stepper._slider.value = 9
    assert stepper.index == 9
    assert bytes(stepper._image.value).startswith(PNG) and stepper._image.value != first
    assert "step 9 of 15" in stepper._text.value
    assert stepper.trace[9].text.split(" = ")[0] in stepper._text.value


def test_graph_stepper_shows_the_chain_rule_numbers_the_engine_computes():
    w, x, b, t = Value(0.5, "w"), Value(2.0, "x"), Value(0.1, "b"), Value(1.0, "t")
    loss = (w * x + b - t) ** 2
    loss.backward()                                       # the engine's answer, on its own graph
    stepper = neuron_stepper()
    stepper.run_backward()
    shown = {}
    for i in range(stepper.trace.last_forward + 1, len(stepper.trace)):
        stepper.goto(i)
        match = re.match(r"dL/d(\w+) \+?= .* = (-?[\d.e-]+)$", stepper.state["text"])
        if match:
            shown[match.group(1)] = float(match.group(2))
    for leaf in (w, x, b, t):
        assert shown[leaf.label] == pytest.approx(leaf.grad, rel=1e-3)
    assert shown["w"] == pytest.approx(2 * (0.5 * 2.0 + 0.1 - 1.0) * 2.0, rel=1e-3)   # 2(wx+b-t)·x by hand


def test_graph_stepper_accepts_a_value_or_a_function():
    w = Value(1.5, "w")
    by_value = GraphStepper(w * w)
    by_function = GraphStepper(lambda: w * w)
    assert len(by_value.trace) == len(by_function.trace) == 5   # forward w, w*w; seed; one event per edge (2)
    assert w.grad == pytest.approx(3.0)


def test_graph_stepper_rejects_bad_input_with_clear_messages():
    with pytest.raises(NameError, match="Give every input a value"):
        GraphStepper("w * x", w=1.0)
    with pytest.raises(TypeError, match="needs a Value"):
        GraphStepper(3.0)
    with pytest.raises(TypeError, match="must be a plain number"):
        GraphStepper("w * 2", w="a")
    with pytest.raises(TypeError, match="only go with an expression string"):
        GraphStepper(Value(1.0), w=2.0)


def test_graph_stepper_summary_and_notebook_output_are_plain_text_too():
    stepper = neuron_stepper()
    summary = stepper.summary()
    assert summary.startswith("GraphStepper: 16 events")
    assert all(e.text in summary for e in stepper.trace)
    bundle = stepper._repr_mimebundle_()
    assert bundle["text/plain"] == summary
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_graph_stepper_figure_is_the_current_step():
    stepper = neuron_stepper()
    stepper.goto(0)
    assert "step 0 of 15" in stepper.figure.axes[0].get_title()
    stepper.run_backward()
    assert "step 15 of 15" in stepper.figure.axes[0].get_title()


# --- NetworkStepper -------------------------------------------------------------------------------
def make_mlp():
    return nn.Sequential(nn.Linear(2, 4, rng=0), nn.Tanh(), nn.Linear(4, 1, rng=1))


def data():
    rng = np.random.default_rng(3)
    return rng.standard_normal((6, 2)), rng.standard_normal((6, 1))


def test_network_stepper_shows_the_selected_weight_gradient_once_backprop_reaches_it():
    x, y = data()
    stepper = NetworkStepper(make_mlp(), x, y, nn.MSELoss(), weight=("0.weight", (2, 1)))
    plain = make_mlp()
    loss_fn = nn.MSELoss()
    loss_fn(plain(x), y)
    plain.backward(loss_fn.backward())                    # the same pass, done the ordinary way
    expected = plain.layers[0].weight.grad[2, 1]
    stepper.goto(len(stepper.trace) - 2)
    assert "reaches its gradient at step 7" in stepper.state["text"]
    stepper.run_backward()
    value, reached = stepper.weight_gradient()
    assert reached == 7 and value == expected
    assert stepper.state["text"].endswith(f"= {fmt(expected)}")


def test_network_stepper_weight_gradient_matches_finite_differences():
    x, y = data()
    model = make_mlp()
    stepper = NetworkStepper(model, x, y, nn.MSELoss(), weight=("2.weight", (0, 3)))
    stepper.run_backward()
    loss_fn = nn.MSELoss()
    numeric = numerical_gradient(lambda: loss_fn(model(x), y), model.layers[2].weight.data)[0, 3]
    assert compare("2.weight[0, 3]", stepper.weight_gradient()[0], numeric) < 1e-6


def test_network_stepper_step_i_shows_event_i_and_redraws():
    x, y = data()
    stepper = NetworkStepper(make_mlp(), x, y, nn.MSELoss())
    press = buttons(stepper)
    images = set()
    for i in range(len(stepper.trace)):
        assert stepper.state["event"] is stepper.trace[i]
        assert stepper.state["text"].startswith(stepper.trace[i].text)
        images.add(bytes(stepper._image.value))
        press["Step"].click()
    assert len(images) == len(stepper.trace)              # every step draws a different picture


def test_network_stepper_weight_menu_changes_the_selection():
    x, y = data()
    stepper = NetworkStepper(make_mlp(), x, y, nn.MSELoss())
    menu = stepper.widget.children[2]
    menu.value = ("2.bias", (0,))
    stepper.run_backward()
    assert "dL/d2.bias[0]" in stepper.state["text"]


def test_network_stepper_draws_a_cnn_as_feature_maps():
    model = nn.Sequential(nn.Conv2d(1, 2, 3, rng=0), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 3 * 3, 2, rng=1))
    x = np.random.default_rng(0).standard_normal((3, 1, 5, 5))
    stepper = NetworkStepper(model, x, np.array([0, 1, 0]), nn.CrossEntropyLoss(), weight=("0.weight", (1, 0, 2, 2)))
    _ = stepper.widget
    stepper.run_backward()
    assert type(stepper.view).__name__ == "LayerView"
    assert bytes(stepper._image.value).startswith(PNG)
    assert f"= {fmt(stepper.trace[-1].param_grads['0.weight'][1, 0, 2, 2])}" in stepper.state["text"]


def test_network_stepper_rejects_bad_input_with_clear_messages():
    x, y = data()
    with pytest.raises(TypeError, match="expected a Sequential model"):
        NetworkStepper(nn.Linear(2, 1), x, y, nn.MSELoss())
    with pytest.raises(ShapeError, match="x has 6 samples"):
        NetworkStepper(make_mlp(), x, y[:4], nn.MSELoss())
    with pytest.raises(KeyError, match="no parameter '9.weight'"):
        NetworkStepper(make_mlp(), x, y, nn.MSELoss(), weight=("9.weight", (0, 0)))
    with pytest.raises(IndexError, match=r"0.weight has shape \(4, 2\); index \(4, 0\) is outside it"):
        NetworkStepper(make_mlp(), x, y, nn.MSELoss(), weight=("0.weight", (4, 0)))


# --- BPTTStepper ------------------------------------------------------------------------------------
def test_bptt_stepper_backward_steps_show_the_layer_gradient_norms():
    rnn = nn.RNN(2, 4, rng=0)
    seq = np.random.default_rng(0).standard_normal((7, 2))
    stepper = BPTTStepper(rnn, seq)
    other = nn.RNN(2, 4, rng=0)                            # the same pass without the stepper
    hs, h = other(seq[None])
    other.backward(np.zeros_like(hs), np.full((1, 4), 0.5))   # dL/dh_T of norm 1
    for i, event in enumerate(stepper.trace):
        if event.op == "bptt step":
            stepper.goto(i)
            t = event.layer
            assert f"||dL/dh_{t}|| = {fmt(other.grad_norms[t])}" in stepper.state["text"]
    np.testing.assert_allclose(stepper.grad_norms, other.grad_norms)


def test_bptt_stepper_truncation_and_clipping_toggles_retrace_the_pass():
    rnn = nn.RNN(2, 4, rng=0)
    stepper = BPTTStepper(rnn, np.random.default_rng(0).standard_normal((2, 8, 2)))
    truncate, k = stepper.widget.children[2].children
    clip, max_norm = stepper.widget.children[3].children
    k.value = 4
    truncate.value = True
    assert stepper.bptt_steps == 4 and np.all(stepper.grad_norms[:4] == 0) and stepper.grad_norms[4] > 0
    max_norm.value = 0.01
    clip.value = True
    assert stepper.trace.info["norm_after_clip"] == pytest.approx(0.01, rel=1e-3)
    stepper.run_backward()
    assert "clipped to 0.01" in stepper.state["text"] and "step 17 of 17" in stepper._text.value
    stepper.set_truncation(None)
    assert np.all(stepper.grad_norms > 0)


def test_bptt_stepper_retrace_keeps_the_step_and_redraws_the_same_widget():
    stepper = BPTTStepper(nn.RNN(2, 4, rng=0), np.random.default_rng(0).standard_normal((2, 8, 2)))
    box = stepper.widget
    stepper.run_backward()
    assert "clipped" not in stepper._text.value
    stepper.set_clipping(0.01)
    assert stepper.widget is box and stepper.index == 17 == stepper._slider.value
    assert "step 17 of 17" in stepper._text.value and "clipped to 0.01" in stepper._text.value


def test_bptt_stepper_rejects_a_non_rnn_and_a_bad_sequence():
    with pytest.raises(TypeError, match="needs an nn.RNN layer"):
        BPTTStepper(nn.Linear(2, 3), np.zeros((4, 2)))
    with pytest.raises(ShapeError, match="features at each time step"):
        BPTTStepper(nn.RNN(2, 3), np.zeros((4, 5)))


# --- Playground ---------------------------------------------------------------------------------------
def test_playground_training_lowers_the_loss_and_updates_state():
    play = Playground(dataset="xor", hidden_layers=1, width=8, activation="tanh", optimizer="adam", lr=0.05,
                      epochs=30, n=80)
    _ = play.widget
    before = play._image.value
    history = play.train()
    assert history.epochs == 30 == play.state["epoch"]
    assert play.losses[-1] < 0.5 * play.losses[0]
    assert play.state["accuracy"] > 0.9
    assert play._image.value != before and "epoch 30" in play._status.value
    np.testing.assert_array_equal(play.view.loss_line.get_ydata(), play.losses)


def test_playground_stop_ends_training_early(monkeypatch):
    import bplearn.explain.widgets.playground as module

    monkeypatch.setattr(module, "REDRAW_SECONDS", -1.0)   # redraw (and so call the hook) every epoch
    play = Playground(epochs=5, n=40)
    original = play.view.update

    def stop_during_third_epoch(losses, model):           # as if Stop were pressed then
        if len(losses) == 3:
            play.stop()
        return original(losses, model)

    monkeypatch.setattr(play.view, "update", stop_during_third_epoch)
    history = play.train(epochs=50)
    assert history.stopped_early and play.state["epoch"] == 3


def test_playground_train_button_runs_in_the_background_and_stop_button_stops_it():
    play = Playground(epochs=2000, n=200, batch_size=4)
    children = play.widget.children[3].children
    train, stop = children[0], children[1]
    train.click()
    assert play.running
    stop.click()
    play._thread.join(timeout=20)
    assert not play.running and 0 < play.state["epoch"] < 2000


def test_playground_settings_controls_rebuild_the_model():
    play = Playground(n=40)
    width = play.widget.children[0].children[2]
    width.value = 5
    assert play.settings["width"] == 5 and play.model.layers[0].out_features == 5
    assert play.state["epoch"] == 0


def test_playground_rejects_bad_settings_with_clear_messages():
    with pytest.raises(ValueError, match="dataset='mnist' is not available; choose one of"):
        Playground(dataset="mnist")
    with pytest.raises(ValueError, match="hidden_layers must be a whole number from 1 to 6"):
        Playground(hidden_layers=0)
    with pytest.raises(ValueError, match=r"momentum must be a number in \[0, 1\)"):
        Playground(momentum=1.5)
    with pytest.raises(TypeError, match="unknown setting"):
        Playground().configure(depth=3)


def test_playground_summary_describes_the_setup_in_plain_text():
    play = Playground(dataset="circles", hidden_layers=2, width=6, activation="relu", optimizer="sgd", lr=0.1,
                      momentum=0.5, n=40)
    summary = play.summary()
    assert "circles (40 points, 2 classes)" in summary and "2 -> 6 -> 6 -> 2 with relu" in summary
    assert "sgd lr=0.1 momentum=0.5" in summary and "epoch 0" in summary


def test_bptt_stepper_uses_the_layers_own_truncation_by_default():
    rnn = nn.RNN(2, 3, bptt_steps=2, rng=0)
    stepper = BPTTStepper(rnn, np.ones((6, 2)))
    assert stepper.bptt_steps == 2 and stepper.grad_norms[3] == 0
    assert BPTTStepper(rnn, np.ones((6, 2)), bptt_steps=None).grad_norms[3] > 0


def test_playground_refuses_a_second_training_run_while_one_is_running():
    play = Playground(epochs=2000, n=200, batch_size=4)
    play._train_in_background()
    try:
        with pytest.raises(RuntimeError, match="already training"):
            play.train(epochs=1)
    finally:
        play._halt()
    assert not play.running
