"""bplearn.explain.widgets without a browser: step i shows event i, numbers match the maths.

Buttons are pressed with ipywidgets' own Button.click(), which runs the same handlers
a click in JupyterLab runs (tests/test_browser.py does the real click).
"""
import html
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
    hs = other(seq[None])
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
    with pytest.raises(TypeError, match="needs an nn.RNN or nn.LSTM layer, got Linear"):
        BPTTStepper(nn.Linear(2, 3), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="clip_norm must be None .* or a number from 0.001 to 100, got -1"):
        BPTTStepper(nn.RNN(2, 3), np.zeros((4, 2)), clip_norm=-1)
    with pytest.raises(ShapeError, match="features at each time step"):
        BPTTStepper(nn.RNN(2, 3), np.zeros((4, 5)))


def bptt_controls(stepper):
    truncate, k = stepper.widget.children[2].children
    clip, max_norm = stepper.widget.children[3].children
    return truncate, k, clip, max_norm


def test_bptt_stepper_settings_made_in_code_show_in_the_controls_text_and_picture():
    stepper = BPTTStepper(nn.RNN(3, 8, rng=0), np.random.default_rng(1).standard_normal((10, 3)))
    truncate, k, clip, max_norm = bptt_controls(stepper)
    assert (truncate.value, clip.value) == (False, False)
    stepper.set_truncation(5)                                          # as lesson 09 does after display
    stepper.set_clipping(0.5)
    assert (truncate.value, k.value, clip.value, max_norm.value) == (True, 5, True, 0.5)
    assert "truncated BPTT, blocks of 5, clipped to 0.5" in stepper._text.value
    title = stepper.view.figure.axes[0].get_title()
    assert "blocks of 5 steps" in title and "clipped to norm 0.5" in title


def test_bptt_stepper_ticking_truncation_keeps_the_clipping_the_code_set():
    stepper = BPTTStepper(nn.RNN(3, 8, rng=0), np.random.default_rng(1).standard_normal((10, 3)), clip_norm=0.5)
    truncate, k, clip, max_norm = bptt_controls(stepper)
    truncate.value = True                                              # a click on the checkbox
    assert stepper.bptt_steps == k.value and stepper.clip_norm == 0.5 and clip.value
    truncate.value = False
    assert stepper.bptt_steps is None and stepper.clip_norm == 0.5
    before = stepper.trace
    max_norm.value = 0.5                                               # a re-render sends the same choice
    k.value = k.value
    assert stepper.trace is before and stepper.clip_norm == 0.5


def test_bptt_stepper_works_for_an_lstm():
    lstm = nn.LSTM(3, 5, rng=0)
    seq = np.random.default_rng(2).standard_normal((6, 3))
    stepper = BPTTStepper(lstm, seq, bptt_steps=3)
    other = nn.LSTM(3, 5, rng=0)
    hs = other(seq[None])
    other.backward(np.zeros_like(hs), np.full((1, 5), 1 / np.sqrt(5)))
    np.testing.assert_allclose(stepper.grad_norms[3:], other.grad_norms[3:], rtol=1e-12)
    assert np.all(stepper.grad_norms[:3] == 0)                        # blocks of 3: nothing crosses t = 3
    stepper.run_backward()
    assert "LSTM, truncated BPTT, blocks of 3" in stepper.heading()
    assert "LSTM unrolled in time" in stepper.view.figure.axes[0].get_title()


# --- Playground ---------------------------------------------------------------------------------------
def controls_of(play):
    """The playground's controls object (builds the widget first, as displaying it would)."""
    assert play.widget is play._controls.box
    return play._controls


def weights(play):
    return [p.data.copy() for p in play.model.parameters()]


def test_playground_training_lowers_the_loss_and_updates_state():
    play = Playground(dataset="xor", hidden_layers=1, width=8, activation="tanh", optimizer="adam", lr=0.05,
                      epochs=30, n=80)
    controls = controls_of(play)
    before = controls.image.value
    history = play.train()
    assert history.epochs == 30 == play.state["epoch"]
    assert play.losses[-1] < 0.5 * play.losses[0]
    assert play.state["accuracy"] > 0.9
    assert controls.image.value != before and "epoch 30" in controls.status.value and "done" in controls.status.value
    np.testing.assert_array_equal(play.picture.view.loss_line.get_ydata(), play.losses)
    assert play.picture.view.loss_ax.get_title() == "Training loss: epoch 30, done"


def test_playground_stop_ends_training_early_and_says_stopped(monkeypatch):
    import bplearn.explain.widgets.playground as module

    monkeypatch.setattr(module, "REDRAW_SECONDS", -1.0)   # redraw (and so call the hook) every epoch
    play = Playground(epochs=5, n=40)
    original = play.picture.view.update

    def stop_during_third_epoch(losses, model, status=""):   # as if Stop were pressed then
        if len(losses) == 3:
            play.stop()
        return original(losses, model, status)

    monkeypatch.setattr(play.picture.view, "update", stop_during_third_epoch)
    history = play.train(epochs=50)
    assert history.stopped_early and play.state["epoch"] == 3
    assert play.status == "stopped" and play.text().endswith("; stopped")


def test_playground_train_button_runs_in_the_background_and_ends_with_done():
    play = Playground(epochs=3, n=40)
    controls = controls_of(play)
    controls.train.click()
    play._thread.join(timeout=30)
    assert not play.running and play.state["epoch"] == 3
    assert "epoch 3:" in controls.status.value and "; done" in controls.status.value
    assert "; training" not in controls.status.value                   # issue 15 item 2: never stuck
    assert controls.train.description == "Train" and not controls.train.disabled and controls.stop.disabled
    assert len(play.picture.view.loss_line.get_ydata()) == 3


def test_playground_stop_button_stops_background_training_and_shows_the_final_epoch():
    play = Playground(epochs=5000, n=200, batch_size=4)
    controls = controls_of(play)
    controls.train.click()
    deadline = __import__("time").monotonic() + 20
    while play.state["epoch"] < 2 and __import__("time").monotonic() < deadline:
        __import__("time").sleep(0.02)
    assert play.running and controls.train.description == "Training…" and controls.train.disabled
    controls.train.click()                                             # disabled: must not start a second run
    controls.stop.click()
    play._thread.join(timeout=20)
    epoch = play.state["epoch"]
    assert not play.running and 2 <= epoch < 5000 and play.status == "stopped"
    assert f"epoch {epoch}:" in controls.status.value and "; stopped" in controls.status.value
    assert len(play.picture.view.loss_line.get_ydata()) == epoch


def test_playground_redraws_from_the_main_thread_never_disturb_background_training():
    play = Playground(epochs=60, n=200, batch_size=4)
    play.train_in_background()
    redraws = 0
    while play.running and redraws < 400:               # a learner clicking and asking for the picture
        play.show()
        redraws += 1
    play._thread.join(timeout=60)
    assert redraws > 5, "training ended before the main thread could redraw: the test proves nothing"
    assert play.status == "done" and play.state["epoch"] == 60, play.status


def test_playground_redraw_copies_the_live_weights_and_never_runs_or_copies_the_live_model(monkeypatch):
    # Running forward through the live model from the main thread would overwrite the caches of a
    # batch the training thread is between forward and backward on; deep-copying it can meet a layer
    # whose attributes the training thread is changing. A redraw may only read the weight arrays.
    play = Playground(epochs=3, n=40)
    play.train()

    def forbidden(*args, **kwargs):
        raise AssertionError("a redraw ran or copied the live model")

    monkeypatch.setattr(play.model, "__deepcopy__", forbidden, raising=False)
    for layer in play.model:
        monkeypatch.setattr(layer, "forward", forbidden)
    play.show()
    drawn = play.picture._twin
    assert drawn is not play.model
    for mine, live in zip(drawn.parameters(), play.model.parameters()):
        np.testing.assert_array_equal(mine.data, live.data)
    fresh = Playground(n=40)                       # untrained: its text measures the accuracy
    for layer in fresh.model:
        monkeypatch.setattr(layer, "forward", forbidden)
    assert "not trained yet (accuracy" in fresh.text()


def test_playground_a_float_echoed_back_by_the_browser_changes_nothing():
    play = Playground(optimizer="sgd", lr=0.1, momentum=0.9, epochs=3, n=40)
    controls = controls_of(play)
    play.train()
    before, status, image = weights(play), play.status, controls.image.value
    controls.inputs["momentum"].value = 0.9000000000000001             # what the browser sends on render
    controls.inputs["momentum"].value = 0.9004                         # a snap within half a slider step
    controls.inputs["lr"].value = 0.1                                  # a re-render sends the same choice
    assert play.settings["momentum"] == 0.9 and play.settings["lr"] == 0.1
    assert play.state["epoch"] == 3 and play.status == status == "done"
    for a, b in zip(before, weights(play)):
        np.testing.assert_array_equal(a, b)


def test_log_scale_controls_offer_exact_numbers_and_keep_a_value_set_in_code():
    stepper = BPTTStepper(nn.RNN(2, 3, rng=0), np.zeros((4, 2)), clip_norm=0.37)
    max_norm = bptt_controls(stepper)[3]
    assert max_norm.value == 0.37 and max_norm.label == "0.37"          # listed, not replaced by 0.5
    labels = [label for label, _ in max_norm.options]
    assert labels[:4] == ["0.001", "0.002", "0.005", "0.01"] and "0.37" in labels and labels[-1] == "100"


def test_playground_configuration_in_code_shows_in_the_controls():
    play = Playground(dataset="circles", hidden_layers=3, width=40, activation="relu", optimizer="rmsprop",
                      lr=0.003, batch_size=20, momentum=0.5, epochs=700, n=40)
    controls = controls_of(play)
    shown = {key: c.value for key, c in controls.inputs.items()}
    assert shown == {"dataset": "circles", "hidden_layers": 3, "width": 40, "activation": "relu",
                     "optimizer": "rmsprop", "lr": 0.003, "batch_size": 20, "momentum": 0.5, "epochs": 700}
    play.configure(lr=0.02, epochs=12)
    assert controls.inputs["lr"].value == 0.02 and controls.inputs["epochs"].value == 12


def test_playground_new_learning_rate_keeps_the_trained_weights_and_says_so():
    play = Playground(optimizer="sgd", lr=0.1, epochs=2, n=40)
    play.train()
    before = weights(play)
    play.configure(lr=0.01)
    assert play.state["epoch"] == 2 and play.optimizer.lr == 0.01
    assert play.status == "optimiser: lr 0.01"
    for a, b in zip(before, weights(play)):
        np.testing.assert_array_equal(a, b)


def test_playground_architecture_change_from_a_control_rebuilds_and_says_why():
    play = Playground(n=40, epochs=2)
    play.train()
    controls = controls_of(play)
    controls.inputs["width"].value = 5
    assert play.settings["width"] == 5 and play.model.layers[0].out_features == 5
    assert play.state["epoch"] == 0 and play.status == "new model (width 5)"
    assert "new model (width 5)" in controls.status.value


def test_playground_reset_button_starts_again_from_the_same_fresh_weights():
    play = Playground(n=40, epochs=2)
    fresh = weights(play)
    play.train()
    (controls_of(play)).reset.click()
    assert play.state["epoch"] == 0 and play.status == "new model (Reset)"
    for a, b in zip(fresh, weights(play)):
        np.testing.assert_array_equal(a, b)


def test_playground_an_exploding_loss_is_reported_in_the_status():
    play = Playground(dataset="moons", optimizer="sgd", lr=9.0, momentum=0.99, epochs=40, n=200)
    play.train()                                                        # must not raise
    assert play.status.startswith("diverged at epoch ") and "try a smaller learning rate than 9" in play.status
    assert play.state["epoch"] < 40 and "diverged" in play.text()


def test_playground_a_nan_during_training_is_reported_not_raised(capsys):
    play = Playground(n=40, epochs=5)
    play.model.layers[0].weight.data[0, 0] = np.nan                    # as after a wild update
    history = play.train()
    assert history.diverged_at == 1 and play.state["epoch"] == 0 and not play.running
    assert play.status.startswith("diverged at epoch 1 (the loss became NaN or infinite)")
    assert play.text().endswith(play.status) and "the model outputs NaN" in play.text()
    assert play.picture.view.data_ax.get_title() == "Decision boundary: none (the model outputs NaN)"


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
    bundle = play._repr_mimebundle_()
    assert bundle["text/plain"] == summary and "VBox" not in repr(play)


def test_playground_refuses_a_second_training_run_while_one_is_running():
    play = Playground(epochs=2000, n=200, batch_size=4)
    play.train_in_background()
    try:
        with pytest.raises(RuntimeError, match="already training"):
            play.train(epochs=1)
    finally:
        play._halt()
    assert not play.running and play.status == "stopped"


def test_bptt_stepper_uses_the_layers_own_truncation_by_default():
    rnn = nn.RNN(2, 3, bptt_steps=2, rng=0)
    stepper = BPTTStepper(rnn, np.ones((6, 2)))
    assert stepper.bptt_steps == 2 and stepper.grad_norms[3] == 0
    assert BPTTStepper(rnn, np.ones((6, 2)), bptt_steps=None).grad_norms[3] > 0




# --- one state, three views: steppers ---------------------------------------------------------------
def test_stepper_slider_echo_and_rerender_change_nothing():
    stepper = neuron_stepper()
    stepper.widget
    stepper.goto(5)
    image, text = stepper._image.value, stepper._text.value
    stepper._slider.value = 5                                          # the same value again
    stepper._show()                                                    # a re-render
    assert stepper.index == 5 and stepper._text.value == text and stepper._image.value == image


def test_stepper_state_set_in_code_shows_in_the_slider_and_text():
    stepper = neuron_stepper()
    stepper.widget
    stepper.run_backward()
    last = len(stepper.trace) - 1
    assert stepper._slider.value == last and f"step {last} of {last}" in stepper._text.value
    stepper._slider.value = 2                                          # as a drag in the browser
    assert stepper.index == 2 and stepper.trace[2].text.split(" = ")[0] in stepper._text.value


def test_every_widget_reads_as_text_without_a_kernel():
    from bplearn.explain.widgets import TangentExplorer

    widgets = [neuron_stepper(), NetworkStepper(make_mlp(), *data(), nn.MSELoss()), Playground(n=40),
               TangentExplorer(np.sin, np.cos, x=0.5, name="sin x")]
    for widget in widgets:
        bundle = widget._repr_mimebundle_()
        assert bundle["text/plain"] == widget.summary()
        assert "application/vnd.jupyter.widget-view+json" in bundle
        for text in (bundle["text/plain"], repr(widget)):
            assert "VBox" not in text and "children" not in text
        assert type(widget).__name__ in bundle["text/plain"]


# --- TangentExplorer ----------------------------------------------------------------------------------
def cubic():
    from bplearn.explain.widgets import TangentExplorer

    return TangentExplorer(lambda x: x**3 - 3 * x, lambda x: 3 * x**2 - 3, x=1.5, x_range=(-2.5, 2.5),
                           y_range=(-6, 6), name="x³ − 3x")


def test_tangent_explorer_text_shows_f_and_the_slope_at_x():
    explorer = cubic()
    assert explorer.state["x"] == 1.5 and explorer.state["f"] == 1.5**3 - 4.5 and explorer.state["slope"] == 3.75
    assert explorer.text().startswith("x₀ = 1.50   f(x₀) = -1.125   f'(x₀) = 3.750")
    explorer.set_x(-1.0)
    assert explorer.text() == "x₀ = -1.00   f(x₀) = 2.000   f'(x₀) = 0.000\ntangent: y = 2 + 0·(x + 1)"


def test_tangent_explorer_picture_draws_the_tangent_through_the_point_with_slope_df():
    explorer = cubic()
    explorer.set_x(2.0)
    (xs, ys), (px, py) = explorer._tangent.get_data(), explorer._point.get_data()
    assert (px[0], py[0]) == (2.0, 2.0)
    assert (ys[1] - ys[0]) / (xs[1] - xs[0]) == pytest.approx(9.0)             # f'(2) = 3·4 − 3
    assert ys[0] + 9.0 * (2.0 - xs[0]) == pytest.approx(2.0)                   # passes through (2, f(2))
    assert explorer.figure.axes[0].get_title() == "x₀ = 2.00: slope f'(x₀) = 9.00"


def test_tangent_explorer_slider_moves_the_state_and_code_moves_the_slider():
    explorer = cubic()
    box = explorer.widget
    slider, text, image = box.children
    before = image.value
    slider.value = 0.0
    assert explorer.x == 0.0 and "f'(x₀) = -3.000" in html.unescape(text.value) and image.value != before
    explorer.set_x(1.0)
    assert slider.value == 1.0 and "x₀ = 1.00" in text.value
    slider.value = 1.0000000000000002                                  # a float echoed back: no change
    assert explorer.x == 1.0


def test_tangent_explorer_without_df_estimates_the_slope_and_says_so():
    from bplearn.explain.widgets import TangentExplorer

    explorer = TangentExplorer(np.exp, x=0.5, x_range=(-1, 1))
    assert explorer.state["slope"] == pytest.approx(np.exp(0.5), rel=1e-8)
    assert "(estimated by central differences)" in explorer.text()


def test_tangent_explorer_rejects_bad_arguments_with_clear_messages():
    from bplearn.explain.widgets import TangentExplorer

    with pytest.raises(TypeError, match="TangentExplorer needs functions"):
        TangentExplorer("x**2")
    with pytest.raises(ValueError, match=r"x must be a number from -1 to 1, got 3"):
        TangentExplorer(np.sin, np.cos, x=3, x_range=(-1, 1))
    with pytest.raises(ValueError, match="x_range needs low < high"):
        TangentExplorer(np.sin, x_range=(1, -1))


# --- compare mode ---------------------------------------------------------------------------------------
def test_graph_stepper_compare_marks_the_first_gradient_that_differs_in_backward_order():
    w, x, b, t = Value(0.5, "w"), Value(2.0, "x"), Value(-0.2, "b"), Value(1.0, "t")
    loss = ((w * x + b).sigmoid() - t) ** 2
    reference = GraphStepper(lambda: ((Value(0.5, "w") * Value(2.0, "x") + Value(-0.2, "b")).sigmoid()
                                      - Value(1.0, "t")) ** 2)
    ref_grads = {n["name"]: n["grad"] for n in reference.trace.graph["nodes"]}
    stepper = GraphStepper(loss, compare={"w": ref_grads["w"], "b": 0.123, "x": 0.0})
    rows = {row["name"]: row for row in stepper.comparison}
    assert rows["w"]["match"] and not rows["b"]["match"] and not rows["x"]["match"]
    assert rows["b"]["reference"] == b.grad and rows["x"]["reference"] == x.grad
    first = stepper.first_difference
    steps = {row["name"]: row["step"] for row in stepper.comparison}
    assert first["name"] == min(("b", "x"), key=steps.get)            # earliest in backward order
    assert stepper.trace[first["step"]].name == first["name"]          # the step that finishes its gradient
    stepper.goto(first["step"])
    assert f"your dL/d{first['name']} = {fmt(first['yours'])}, reference {fmt(first['reference'])}: differs " \
           "(the first gradient that differs)" in stepper.text()
    stepper.run_backward()
    assert f"2 of your 3 gradients differ; the first, in backward order, is dL/d{first['name']}" in stepper.text()
    box = stepper.view.boxes[first["node"]]
    assert box.get_linestyle() == "--" and box.get_linewidth() == 3.5
    label = stepper.view.labels[rows["w"]["node"]].get_text()
    assert label.endswith(f"yours {fmt(rows['w']['yours'])} ✓")


def test_graph_stepper_compare_hides_the_mark_until_backprop_reaches_it():
    stepper = GraphStepper("(w * x - t) ** 2", w=0.5, x=2.0, t=2.0, compare={"w": 1.0})
    first = stepper.first_difference
    stepper.goto(first["step"] - 1)
    assert stepper.view.boxes[first["node"]].get_linestyle() == "-"
    assert stepper.view.labels[first["node"]].get_text().endswith("yours ?")
    assert "your dL/dw = 1, reference -4: differs" in stepper.summary()         # dL/dw = 2(wx - t)x = -4


def test_graph_stepper_compare_rejects_unknown_names_and_non_numbers():
    with pytest.raises(KeyError, match=r"compare names a node 'v' the graph does not have; its nodes are"):
        GraphStepper("w * x", w=1.0, x=2.0, compare={"v": 1.0})
    with pytest.raises(TypeError, match=r"compare\['w'\] must be a number"):
        GraphStepper("w * x", w=1.0, x=2.0, compare={"w": "2"})


def test_network_stepper_compare_shows_yours_beside_the_reference_and_marks_the_first_difference():
    x, y = data()
    reference = NetworkStepper(make_mlp(), x, y, nn.MSELoss())
    grads = {n: g for e in reference.trace for n, g in e.param_grads.items()}
    wrong = grads["0.weight"].copy()
    wrong[3, 1] += 0.5                                                 # one wrong entry in the first layer
    mine = {"0.weight": wrong, "0.bias": grads["0.bias"], "2.weight": grads["2.weight"] * -1.0}
    stepper = NetworkStepper(make_mlp(), x, y, nn.MSELoss(), compare=mine)
    rows = {row["name"]: row for row in stepper.comparison}
    assert rows["0.bias"]["match"] and not rows["0.weight"]["match"] and not rows["2.weight"]["match"]
    assert rows["0.weight"]["worst"] == (3, 1) and rows["0.weight"]["max_diff"] == pytest.approx(0.5)
    first = stepper.first_difference
    assert first["name"] == "2.weight" and first["step"] < rows["0.weight"]["step"]    # backward order
    assert stepper.weight == ("2.weight", first["worst"])                # the picture opens on the difference
    stepper.goto(first["step"])
    assert "yours vs reference for 2.weight: largest difference" in stepper.text()
    assert "(the first gradient that differs)" in stepper.text()
    mark = stepper.view.marks["difference"]
    assert mark[0] == "2.weight" and mark[1] == first["worst"] and mark[3] == first["step"]
    line = stepper.view.markers["difference"][0]
    assert len(line.get_xdata()) == 2                                  # drawn, now that backprop reached it
    stepper.goto(first["step"] - 1)
    assert len(stepper.view.markers["difference"][0].get_xdata()) == 0
    stepper.run_backward()
    assert "2 of your 3 gradients differ; the first, in backward order, is 2.weight" in stepper.text()


def test_network_stepper_compare_rejects_wrong_names_and_shapes():
    x, y = data()
    with pytest.raises(KeyError, match=r"compare names '9.weight', but the model's parameters are"):
        NetworkStepper(make_mlp(), x, y, nn.MSELoss(), compare={"9.weight": np.zeros(2)})
    with pytest.raises(ValueError, match=r"your gradient for 0.weight has shape \(2,\), but 0.weight has shape"):
        NetworkStepper(make_mlp(), x, y, nn.MSELoss(), compare={"0.weight": np.zeros(2)})


def test_network_stepper_marks_the_selected_weight_in_the_picture_and_menu():
    model = make_mlp()
    stepper = NetworkStepper(model, *data(), nn.MSELoss(), weight=("2.weight", (0, 1)))
    stepper.run_backward()
    line = stepper.view.markers["selected"][0]
    c = stepper.view.weights.index("2.weight")
    (x0, x1), (y0, y1) = line.get_xdata(), line.get_ydata()
    assert (x0, y0) == tuple(stepper.view.xy[c][1]) and (x1, y1) == tuple(stepper.view.xy[c + 1][0])
    assert stepper.view.markers["selected"][2].get_text() == "selected: 2.weight[0, 1]"
    menu = stepper.widget.children[2]
    assert menu.value == ("2.weight", (0, 1))
    menu.value = ("0.bias", (1,))
    ring = stepper.view.markers["selected"][1].get_offsets()
    assert stepper.weight == ("0.bias", (1,)) and tuple(ring[0]) == tuple(stepper.view.xy[1][1])
    stepper.select_weight("0.weight", (1, 0))                          # in code: the menu follows
    assert menu.value == ("0.weight", (1, 0)) and "dL/d0.weight[1, 0]" in stepper._text.value
