"""The training loop: it learns, records history, stops on request, fails loudly."""
import matplotlib
import numpy as np
import pytest

from bplearn import nn
from bplearn.data import DataLoader, linear_regression, moons, spirals, train_val_split, xor
from bplearn.nn.activations import ReLU, Sigmoid, Tanh
from bplearn.nn.losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from bplearn.nn import Module
from bplearn.optim import SGD, Adam
from bplearn.train import History, StopTraining, accuracy, accuracy_rule, evaluate, fit, predict, train_step


def mlp(act, seed=0, outputs=1):
    return nn.Sequential(nn.Linear(2, 16, rng=seed), act(), nn.Linear(16, 16, rng=seed + 1), act(),
                         nn.Linear(16, outputs, rng=seed + 2))


def binary(make, **kwargs):
    X, y = make(**kwargs)
    return X, y.reshape(-1, 1)


def fixed_linear(weight, bias):
    layer = nn.Linear(len(weight[0]), len(weight))
    layer.weight.data[...] = weight
    layer.bias.data[...] = bias
    return nn.Sequential(layer)


class ModeProbe(Module):
    """Identity layer that records the model's mode at every forward."""

    def __init__(self):
        self.modes = []

    def forward(self, x):
        self.modes.append(self.training)
        return x

    def backward(self, grad_out):
        return grad_out


# --- it learns ------------------------------------------------------------------------

@pytest.mark.parametrize("make, act", [(xor, Tanh), (moons, ReLU)], ids=["xor-tanh", "moons-relu"])
def test_mlp_with_bce_with_logits_learns_to_95_percent(make, act):
    X, y = binary(make, n=200, rng=0)
    model = mlp(act)
    history = fit(model, BCEWithLogitsLoss(), Adam(model.parameters(), lr=0.01), (X, y),
                  epochs=60, progress=False)
    assert history["accuracy"][-1] >= 0.95
    assert history["loss"][-1] < history["loss"][0] / 5
    X_new, y_new = binary(make, n=200, rng=1)                    # fresh points from the same shapes
    assert accuracy(model, X_new, y_new) >= 0.95


def test_cross_entropy_on_spirals_improves_accuracy_with_argmax():
    X, y = spirals(n=300, classes=3, rng=0)
    model = mlp(ReLU, outputs=3)
    history = fit(model, CrossEntropyLoss(), Adam(model.parameters(), lr=0.02), (X, y), epochs=40,
                  progress=False)
    assert history["accuracy"][0] < 0.7 and history["accuracy"][-1] > 0.85


def test_linear_regression_with_mse_finds_the_true_coefficients_and_records_no_accuracy():
    X, y, w, b = linear_regression(n=200, n_features=2, noise=0.01, return_coef=True)
    model = nn.Sequential(nn.Linear(2, 1, rng=0))
    history = fit(model, MSELoss(), SGD(model.parameters(), lr=0.1), (X, y), epochs=30, progress=False)
    assert set(history) == {"loss"}
    np.testing.assert_allclose(model[0].weight.data[0], w, atol=0.01)
    np.testing.assert_allclose(model[0].bias.data[0], b, atol=0.01)


def test_fit_is_deterministic_for_the_same_seeds():
    X, y = binary(moons, n=100)
    runs = []
    for _ in range(2):
        model = mlp(Tanh)
        runs.append(fit(model, BCEWithLogitsLoss(), SGD(model.parameters(), lr=0.1, momentum=0.9), (X, y),
                        epochs=5, rng=3, progress=False))
    assert runs[0] == runs[1]


def test_train_step_makes_one_hand_computed_sgd_update():
    model = fixed_linear([[1.0]], [0.0])
    X, y = np.array([[1.0], [2.0]]), np.array([[3.0], [4.0]])
    pred, loss = train_step(model, MSELoss(), SGD(model.parameters(), lr=0.1), X, y)
    # pred = (1, 2), errors (-2, -2): loss 4, dL/dpred = (-2, -2), dL/dw = -2*1 - 2*2 = -6, dL/db = -4
    np.testing.assert_array_equal(pred, [[1.0], [2.0]])
    assert loss == 4.0
    np.testing.assert_allclose(model[0].weight.data, [[1.6]], rtol=1e-15)
    np.testing.assert_allclose(model[0].bias.data, [0.4], rtol=1e-15)


# --- history ------------------------------------------------------------------------------

def test_history_has_one_entry_per_epoch_for_every_key():
    X, y = binary(moons, n=120)
    train, val = train_val_split(X, y)
    model = mlp(Tanh)
    history = fit(model, BCEWithLogitsLoss(), Adam(model.parameters(), lr=0.01), train, val_data=val,
                  epochs=7, progress=False)
    assert isinstance(history, History) and history.epochs == 7 and not history.stopped_early
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(values) == 7 for values in history.values())
    assert repr(history).startswith("History(epochs=7, loss=")


def test_epoch_loss_is_the_batch_size_weighted_mean_of_the_batch_losses():
    X, y = binary(xor, n=50)                                     # batches of 16, 16, 16, 2
    batch_losses = []
    model = mlp(Tanh)
    history = fit(model, BCEWithLogitsLoss(), SGD(model.parameters(), lr=0.05), (X, y), epochs=1,
                  batch_size=16, progress=False,
                  callbacks=[lambda event, info: batch_losses.append(info["loss"]) if event == "batch_end" else None])
    expected = np.dot(batch_losses, [16, 16, 16, 2]) / 50
    assert history["loss"] == [pytest.approx(expected, rel=1e-14)]


def test_validation_numbers_equal_evaluate_on_the_validation_set():
    X, y = binary(moons, n=100)
    train, val = train_val_split(X, y, rng=1)
    model = mlp(ReLU)
    history = fit(model, BCEWithLogitsLoss(), Adam(model.parameters(), lr=0.01), train, val_data=val,
                  epochs=3, progress=False)
    assert evaluate(model, BCEWithLogitsLoss(), *val) == {
        "loss": history["val_loss"][-1], "accuracy": history["val_accuracy"][-1]}


def test_fit_accepts_a_dataloader_and_uses_its_batches():
    X, y = binary(xor, n=40)
    steps = []
    model = mlp(Tanh)
    fit(model, BCEWithLogitsLoss(), SGD(model.parameters(), lr=0.1), DataLoader(X, y, batch_size=10),
        epochs=2, batch_size=999, progress=False,
        callbacks=[lambda event, info: steps.append(info["step"]) if event == "batch_end" else None])
    assert steps == list(range(1, 9))


def test_history_plot_draws_titled_labelled_loss_and_accuracy_curves():
    X, y = binary(moons, n=60)
    train, val = train_val_split(X, y)
    model = mlp(Tanh)
    history = fit(model, BCEWithLogitsLoss(), Adam(model.parameters()), train, val_data=val, epochs=4,
                  progress=False)
    fig = history.plot()
    assert isinstance(fig, matplotlib.figure.Figure)
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_title() == "Loss per epoch" and acc_ax.get_title() == "Accuracy per epoch"
    assert loss_ax.get_xlabel() == "epoch" and loss_ax.get_ylabel() == "loss"
    assert [t.get_text() for t in acc_ax.get_legend().get_texts()] == ["training", "validation"]
    np.testing.assert_array_equal(loss_ax.lines[1].get_ydata(), history["val_loss"])
    matplotlib.pyplot.close(fig)


def test_history_plot_of_a_regression_has_only_the_loss_panel_and_empty_history_refuses():
    X, y = linear_regression(n=20)
    model = nn.Sequential(nn.Linear(1, 1))
    fig = fit(model, MSELoss(), SGD(model.parameters(), lr=0.1), (X, y), epochs=2, progress=False).plot()
    assert len(fig.axes) == 1
    matplotlib.pyplot.close(fig)
    with pytest.raises(ValueError, match=r"nothing recorded yet; run fit\(...\) first"):
        History().plot()


# --- callbacks and early stopping ------------------------------------------------------------

def test_callback_returning_stop_ends_training_after_that_epoch():
    X, y = binary(xor, n=64)
    events = []

    def stop_at_three(event, info):
        events.append(event)
        if event == "epoch_end":
            assert set(info) == {"epoch", "history", "model", "optimizer"}
            assert info["history"].epochs == info["epoch"]
            return "stop" if info["epoch"] == 3 else None
        assert set(info) == {"epoch", "step", "loss"}

    model = mlp(Tanh)
    history = fit(model, BCEWithLogitsLoss(), SGD(model.parameters(), lr=0.1), (X, y), epochs=10,
                  batch_size=32, callbacks=[stop_at_three], progress=False)
    assert history.epochs == 3 and history.stopped_early
    assert events == (["batch_end"] * 2 + ["epoch_end"]) * 3


def test_raising_stop_training_in_batch_end_stops_after_that_batch_and_records_the_partial_epoch():
    X, y = binary(xor, n=64)
    steps = []

    def stop_at_step_5(event, info):
        if event == "batch_end":
            steps.append(info["step"])
            if info["step"] == 5:
                raise StopTraining

    model = mlp(Tanh)
    history = fit(model, BCEWithLogitsLoss(), SGD(model.parameters(), lr=0.1), (X, y), epochs=10,
                  batch_size=16, callbacks=stop_at_step_5, progress=False)
    assert steps == [1, 2, 3, 4, 5]
    assert history.epochs == 2 and history.stopped_early                # 4 batches per epoch


def test_callback_returning_something_else_is_a_clear_error():
    X, y = binary(xor, n=16)
    model = mlp(Tanh)
    with pytest.raises(TypeError, match="returned True on 'batch_end'. A callback returns None to carry on "
                                        "or the string 'stop'"):
        fit(model, BCEWithLogitsLoss(), SGD(model.parameters(), lr=0.1), (X, y), epochs=1,
            callbacks=[lambda event, info: True], progress=False)


def test_clip_norm_caps_the_gradient_before_every_step():
    X, y = binary(moons, n=64)
    model = mlp(ReLU)
    norms = []

    def grad_norm(event, info):
        if event == "batch_end":                                          # grads survive until zero_grad
            norms.append(np.sqrt(sum(np.sum(p.grad**2) for p in model.parameters())))

    fit(model, BCEWithLogitsLoss(), SGD(model.parameters(), lr=0.1), (X, y), epochs=2, clip_norm=1e-3,
        callbacks=[grad_norm], progress=False)
    assert len(norms) == 4 and max(norms) <= 1e-3


# --- modes, progress, errors ------------------------------------------------------------------

def test_model_is_in_train_mode_for_training_eval_mode_for_validation_and_restored_after():
    X, y = binary(xor, n=32)
    probe = ModeProbe()
    model = nn.Sequential(nn.Linear(2, 4), probe, Tanh(), nn.Linear(4, 1))
    model.eval()
    fit(model, BCEWithLogitsLoss(), SGD(model.parameters(), lr=0.1), (X, y), val_data=(X, y), epochs=2,
        batch_size=16, progress=False)
    assert probe.modes == [True, True, False] * 2                          # 2 training batches, 1 validation
    assert model.training is False and probe.training is False


def test_divergence_ends_training_with_a_printed_message_instead_of_a_traceback(capsys):
    X, y = linear_regression(n=32, n_features=3, rng=0)
    model = nn.Sequential(nn.Linear(3, 1, rng=0), nn.Tanh(), nn.Linear(1, 1, rng=1))
    with np.errstate(all="ignore"):
        history = fit(model, MSELoss(), SGD(model.parameters(), lr=1e6), (X, y), epochs=50, progress=False)
    assert history.diverged_at is not None and 1 <= history.diverged_at < 50
    assert history.epochs == history.diverged_at - 1                 # the epochs completed before it
    assert all(np.isfinite(history["loss"]))
    assert history.divergence.startswith(f"fit: diverged at epoch {history.diverged_at} (try a smaller learning "
                                         f"rate, e.g. lr=100000 instead of lr=1e+06;")
    assert "NaN or inf" in history.divergence                        # the layer's own explanation follows
    assert capsys.readouterr().out == history.divergence + "\n"
    assert f"diverged_at={history.diverged_at}" in repr(history)


def test_a_run_that_does_not_diverge_says_so():
    X, y = binary(xor, n=32)
    model = mlp(Tanh)
    history = fit(model, BCEWithLogitsLoss(), SGD(model.parameters(), lr=0.1), (X, y), epochs=2, progress=False)
    assert history.diverged_at is None and history.divergence == "" and "diverged" not in repr(history)


def test_divergence_in_validation_is_reported_too(capsys):
    X, y = linear_regression(n=16, n_features=2, rng=0)
    X_val = X.copy()
    X_val[0, 0] = np.nan                                    # bad validation data: the first layer names it
    model = nn.Sequential(nn.Linear(2, 1, rng=0))
    history = fit(model, MSELoss(), SGD(model.parameters(), lr=0.01), (X, y), val_data=(X_val, y), epochs=3,
                  progress=False)
    assert history.diverged_at == 1 and "Linear(in_features=2" in history.divergence
    assert "NaN or inf in the input" in capsys.readouterr().out


def test_progress_false_prints_nothing(capsys):
    X, y = binary(xor, n=32)
    model = mlp(Tanh)
    fit(model, BCEWithLogitsLoss(), SGD(model.parameters(), lr=0.1), (X, y), val_data=(X, y), epochs=3,
        progress=False)
    assert capsys.readouterr() == ("", "")


def test_progress_bar_shows_epochs_and_the_loss(capsys):
    X, y = binary(xor, n=32)
    model = mlp(Tanh)
    fit(model, BCEWithLogitsLoss(), SGD(model.parameters(), lr=0.1), (X, y), epochs=3, progress=True)
    err = capsys.readouterr().err
    assert "epoch 3/3" in err and "loss=" in err and "3/3" in err


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(data=np.zeros((4, 2))), TypeError, r"fit: data must be a pair \(X, y\) or a DataLoader, got ndarray"),
    (dict(epochs=0), ValueError, "epochs must be a whole number >= 1, got 0"),
    (dict(metrics=("f1",)), ValueError, r"unknown metric\(s\) \['f1'\]; available: \['accuracy'\]"),
    (dict(clip_norm=-1), ValueError, r"fit: clip_norm must be in \(0, inf\), got -1\.0"),
    (dict(epochs=2.5), TypeError, "fit: epochs must be a whole number >= 1, got 2.5"),
])
def test_fit_rejects_bad_arguments_with_a_clear_message(kwargs, error, message):
    model = mlp(Tanh)
    args = dict(data=binary(xor, n=8), epochs=1) | kwargs
    with pytest.raises(error, match=message):
        fit(model, BCEWithLogitsLoss(), SGD(model.parameters(), lr=0.1), progress=False, **args)


# --- accuracy, predict, evaluate on hand-made outputs --------------------------------------------

def test_accuracy_rule_follows_the_loss_type():
    assert accuracy_rule(CrossEntropyLoss()) == "argmax"
    assert accuracy_rule(BCEWithLogitsLoss()) == 0.0
    assert accuracy_rule(BCELoss()) == 0.5
    assert accuracy_rule(MSELoss()) is None


def test_accuracy_thresholds_a_single_logit_at_zero():
    model = fixed_linear([[1.0]], [0.0])                               # output = x
    X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    assert accuracy(model, X, np.array([[0], [1], [1], [1]])) == 0.75   # guesses 0, 0, 1, 1
    assert accuracy(model, X, np.array([0, 1, 1, 1]), threshold=1.5) == 0.5   # guesses 0, 0, 0, 1


def test_accuracy_takes_the_argmax_of_several_outputs():
    model = fixed_linear(np.eye(3), np.zeros(3))                       # logits = x
    X = np.array([[3.0, 1.0, 0.0], [0.0, 0.0, 5.0], [1.0, 2.0, 0.0]])
    assert accuracy(model, X, np.array([0, 2, 0])) == pytest.approx(2 / 3)


def test_fit_accuracy_with_sigmoid_and_bce_thresholds_probabilities_at_one_half():
    model = nn.Sequential(nn.Linear(1, 1), Sigmoid())
    model[0].weight.data[...] = 1.0
    model[0].bias.data[...] = 0.0
    X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    y = np.array([[0.0], [1.0], [1.0], [1.0]])                          # p > 0.5 where x > 0: 3 of 4 right
    history = fit(model, BCELoss(), SGD(model.parameters(), lr=1e-9), (X, y), epochs=1, progress=False)
    assert history["accuracy"] == [0.75]


def test_evaluate_in_uneven_batches_equals_the_loss_on_the_whole_set():
    X, y = binary(moons, n=23)
    model = mlp(Tanh)
    whole = BCEWithLogitsLoss()(model(X), y)
    result = evaluate(model, BCEWithLogitsLoss(), X, y, batch_size=5)
    assert result["loss"] == pytest.approx(whole, rel=1e-13)


def test_evaluate_adds_up_a_sum_reduced_loss_over_batches():
    X, y = moons(n=23)
    model = mlp(Tanh, outputs=2)
    whole = CrossEntropyLoss(reduction="sum")(model(X), y)
    result = evaluate(model, CrossEntropyLoss(reduction="sum"), X, y, batch_size=5, metrics=())
    assert result == {"loss": pytest.approx(whole, rel=1e-13)}


def test_predict_returns_eval_mode_outputs_in_order():
    probe = ModeProbe()
    model = nn.Sequential(probe, nn.Linear(2, 3, rng=0))
    X = np.random.default_rng(0).standard_normal((7, 2))
    out = predict(model, X, batch_size=3)
    np.testing.assert_allclose(out, X @ model[1].weight.data.T + model[1].bias.data, rtol=1e-14)
    assert probe.modes == [False, False, False] and model.training
