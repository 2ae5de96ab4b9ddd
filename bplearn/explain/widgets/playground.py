"""Playground: choose data, network and optimiser, press Train, watch it learn.

Three parts, each small, around one state (the settings, the model and its history):

* ``Playground``          the state and the plain-Python API: configure, train, stop, reset;
* ``PlaygroundPicture``   drawing: the loss curve and decision boundary, and the status text;
* ``PlaygroundControls``  events: the Jupyter controls, drawn from the state, and what a click does.

The model is rebuilt only when the learner asks for it: ``reset()`` (the Reset button),
or a change of the data or the architecture (the status then says so). A new learning
rate, momentum or optimiser keeps the trained weights; a control that reports the
value it already has (a float echoed back by the browser) changes nothing at all.
"""
from __future__ import annotations

import copy
import math
import threading
import time
from numbers import Integral, Real

import numpy as np

from ... import data, nn, optim
from ...errors import NonFiniteError
from ...train import accuracy, fit
from ..viz.curves import TrainingView
from ..viz.style import StepRenderer, new_figure
from .base import TEXT_CLASS, ControlSync, TextFallback, html_text, log_choices, same_setting

DATASETS = {"xor": data.xor, "moons": data.moons, "spirals": data.spirals, "circles": data.circles}
ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
OPTIMIZERS = {
    "sgd": lambda params, lr, momentum: optim.SGD(params, lr=lr, momentum=momentum),
    "adam": lambda params, lr, momentum: optim.Adam(params, lr=lr),       # Adam has its own momentum (beta1)
    "rmsprop": lambda params, lr, momentum: optim.RMSprop(params, lr=lr, momentum=momentum),
}
REBUILD = ("dataset", "n", "seed", "hidden_layers", "width", "activation")   # these need a new model
REDRAW_SECONDS = 0.25      # while training, redraw the picture at most this often
EXPLODED = 50.0            # a loss this many times its untrained value means training diverged
BATCH_SIZES = (4, 8, 16, 32, 64, 128, 256)


def _choice(name: str, value: str, options: dict) -> str:
    key = str(value).lower()
    if key not in options:
        raise ValueError(f"Playground: {name}={value!r} is not available; choose one of {sorted(options)}.")
    return key


def _whole(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or not low <= value <= high:
        raise ValueError(f"Playground: {name} must be a whole number from {low} to {high}, got {value!r}.")
    return int(value)


def _number(name: str, value, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not low <= value < high:
        raise ValueError(f"Playground: {name} must be a number in [{low:g}, {high:g}), got {value!r}.")
    return float(value)


CHECKS = {                 # setting -> its check; the ranges are also the controls' ranges
    "dataset": lambda v: _choice("dataset", v, DATASETS),
    "hidden_layers": lambda v: _whole("hidden_layers", v, 1, 6),
    "width": lambda v: _whole("width", v, 1, 64),
    "activation": lambda v: _choice("activation", v, ACTIVATIONS),
    "optimizer": lambda v: _choice("optimizer", v, OPTIMIZERS),
    "lr": lambda v: _number("lr", v, 1e-6, 10.0),
    "batch_size": lambda v: _whole("batch_size", v, 1, 10_000),
    "momentum": lambda v: _number("momentum", v, 0.0, 1.0),
    "epochs": lambda v: _whole("epochs", v, 1, 10_000),
    "n": lambda v: _whole("n", v, 8, 5_000),
    "seed": lambda v: _whole("seed", v, 0, 2**31),
}


def build_model(s: dict, classes: int) -> nn.Sequential:
    """2 inputs -> hidden_layers x (Linear(width) + activation) -> Linear(classes), seeded."""
    init = "kaiming_uniform" if s["activation"] == "relu" else "xavier_uniform"
    sizes = [2] + [s["width"]] * s["hidden_layers"]
    layers = []
    for i in range(s["hidden_layers"]):
        layers += [nn.Linear(sizes[i], sizes[i + 1], rng=s["seed"] + i, init=init), ACTIVATIONS[s["activation"]]()]
    layers.append(nn.Linear(sizes[-1], classes, rng=s["seed"] + 100, init="xavier_uniform"))
    return nn.Sequential(*layers)


class Playground(TextFallback):
    """Train a small classifier on 2-D toy data and watch the loss and decision boundary.

    dataset: "xor", "moons", "spirals" or "circles"; hidden_layers (1-6) of ``width``
    neurons with ``activation`` ("relu", "tanh", "sigmoid"); optimizer: "sgd", "adam"
    or "rmsprop" with learning rate ``lr`` and ``momentum`` (SGD and RMSprop; Adam keeps
    its own); mini-batches of ``batch_size``; ``epochs`` per press of Train.

    Plain Python: ``train()`` (blocks), ``step()`` (one epoch), ``stop()``, ``reset()``,
    ``configure(**settings)``, ``state``, ``figure``, ``summary()``. In Jupyter the Train
    button trains in a background thread, so Stop stays clickable.

    ``status`` says what happened last: "new model (...)", "training", "done",
    "stopped", "diverged at epoch N ..." or the error that ended training.
    """

    title = "Playground"

    def __init__(self, dataset: str = "moons", hidden_layers: int = 2, width: int = 8, activation: str = "tanh",
                 optimizer: str = "adam", lr: float = 0.01, batch_size: int = 32, momentum: float = 0.9,
                 epochs: int = 50, n: int = 200, seed: int = 0):
        self.settings: dict = {}
        self._controls: PlaygroundControls | None = None
        self._thread, self._stop, self._training = None, False, False
        self.picture = PlaygroundPicture()
        self.configure(dataset=dataset, hidden_layers=hidden_layers, width=width, activation=activation,
                       optimizer=optimizer, lr=lr, batch_size=batch_size, momentum=momentum, epochs=epochs,
                       n=n, seed=seed)

    # --- settings and model ---------------------------------------------------------------------
    def configure(self, **settings) -> None:
        """Change settings (same names as the constructor).

        Data or architecture changes build a new model from fresh weights; lr, momentum and
        the optimiser apply to the model as trained so far; batch_size and epochs to the next
        Train. Settings equal to the current ones (0.9 vs 0.9000000000000001) change nothing.
        """
        unknown = set(settings) - set(CHECKS)
        if unknown:
            raise TypeError(f"Playground: unknown setting(s) {sorted(unknown)}; available: {sorted(CHECKS)}.")
        new = {k: CHECKS[k](v) for k, v in settings.items()}
        changed = {k: v for k, v in new.items() if k not in self.settings or not same_setting(self.settings[k], v)}
        if not changed:
            return
        self._halt()
        first = not self.settings
        self.settings = {**self.settings, **changed}
        self._apply(changed, first)

    def _apply(self, changed: dict, first: bool) -> None:
        """Rebuild, or give the optimiser its new settings, or just redraw (batch size, epochs)."""
        rebuild = [f"{k} {v}" for k, v in changed.items() if k in REBUILD]
        optimiser = [f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}"
                     for k, v in changed.items() if k in ("optimizer", "lr", "momentum")]
        if first or rebuild:
            self.reset(reason=", ".join(rebuild) if not first else "")
            return
        if optimiser:
            self._new_optimizer()
            self.status = "optimiser: " + ", ".join(optimiser)
        self.show()

    def reset(self, reason: str = "Reset") -> None:
        """New data, new weights, empty history (the Reset button)."""
        self._halt()
        s = self.settings
        self.X, self.y = DATASETS[s["dataset"]](n=s["n"], rng=s["seed"])
        self.classes = int(self.y.max()) + 1
        self.model = build_model(s, self.classes)
        self.loss_fn = nn.CrossEntropyLoss()
        self.start_loss = float(self.loss_fn(self.model(self.X), self.y))   # what "exploding" is measured against
        self._new_optimizer()
        self.losses: list[float] = []
        self.accuracies: list[float] = []
        self.status = f"new model ({reason})" if reason else "new model"
        self.picture.new_data(self.X, self.y, self.classes)
        self.picture.follow(self.model)
        self.show()

    def _new_optimizer(self) -> None:
        s = self.settings
        self.optimizer = OPTIMIZERS[s["optimizer"]](self.model.parameters(), s["lr"], s["momentum"])

    # --- training ---------------------------------------------------------------------------------
    def train(self, epochs: int | None = None):
        """Train for ``epochs`` (default: the setting) or until stop(); returns fit's History."""
        if self._training and threading.current_thread() is not self._thread:
            raise RuntimeError("Playground: already training (Train button); press Stop or call stop() first.")
        self._stop, self._training, self.status = False, True, "training"
        self.show()
        try:
            history = fit(self.model, self.loss_fn, self.optimizer, (self.X, self.y),
                          epochs=epochs or self.settings["epochs"], batch_size=self.settings["batch_size"],
                          rng=self.settings["seed"] + len(self.losses), progress=False,
                          callbacks=[self._epoch_callback()])
        except Exception as exc:           # shown to the learner instead of dying silently in a thread
            self._training, self.status = False, f"error: {type(exc).__name__}: {exc}"
            self.show()
            raise
        self._training = False
        if history.diverged_at is not None:                # NaN or inf: fit stopped and kept the epochs before
            self.status = self._diverged(history.diverged_at, "the loss became NaN or infinite")
        elif not self.status.startswith("diverged"):       # not ended by our own exploding-loss check
            self.status = "stopped" if history.stopped_early else "done"
        self.show()                                        # the final epoch, with the final status
        return history

    def _epoch_callback(self):
        """fit callback: record each epoch, redraw now and then, stop on Stop or an exploding loss."""
        last_draw = [0.0]

        def callback(event: str, info: dict):
            if event != "epoch_end":
                return "stop" if self._stop else None
            self.losses.append(info["history"]["loss"][-1])
            self.accuracies.append(info["history"]["accuracy"][-1])
            loss = self.losses[-1]
            if not math.isfinite(loss) or loss > EXPLODED * self.start_loss:
                self.status = self._diverged(len(self.losses), f"loss {loss:.4g}, over {EXPLODED:g}× its untrained value "
                                             f"{self.start_loss:.4g}")
                return "stop"
            if time.monotonic() - last_draw[0] > REDRAW_SECONDS:
                last_draw[0] = time.monotonic()
                self.show()
            return "stop" if self._stop else None
        return callback

    def _diverged(self, epoch: int, what: str) -> str:
        return f"diverged at epoch {epoch} ({what}): try a smaller learning rate than {self.settings['lr']:g}"

    def step(self) -> None:
        """Train one epoch."""
        self.train(epochs=1)

    def stop(self) -> None:
        """Ask a running train() to stop after the current mini-batch."""
        self._stop = True

    @property
    def running(self) -> bool:
        """True while training (in train() or the Train button's background thread)."""
        return self._training

    def train_in_background(self) -> None:
        """What the Train button does: train in a thread, so Stop stays clickable. Ignored while training."""
        if self._training:
            return
        self._training = True                               # at once, so a second click cannot start another
        self._thread = threading.Thread(target=self._train_quietly, daemon=True)
        self._thread.start()

    def _train_quietly(self) -> None:
        try:
            self.train()
        except Exception:                                   # noqa: BLE001 - already shown in the status
            pass

    def _halt(self) -> None:
        """Stop background training and wait for it, so nothing draws while we rebuild."""
        if self._thread is not None and self._thread is not threading.current_thread():
            self.stop()
            self._thread.join(timeout=30)

    # --- what is shown ----------------------------------------------------------------------------
    def text(self) -> str:
        """One line: the latest epoch and what happened (done, stopped, diverged, ...)."""
        if not self.losses:
            try:
                start = f"accuracy {accuracy(self.picture.snapshot(), self.X, self.y):.1%}"
            except NonFiniteError:
                start = "the model outputs NaN"
            return f"epoch 0: not trained yet ({start}); {self.status}"
        return (f"epoch {len(self.losses)}: loss {self.losses[-1]:.4g}, training accuracy "
                f"{self.accuracies[-1]:.1%}; {self.status}")

    @property
    def state(self) -> dict:
        """{"epoch", "loss", "accuracy", "running", "status", "settings", "text"}."""
        return {"epoch": len(self.losses), "loss": self.losses[-1] if self.losses else None,
                "accuracy": self.accuracies[-1] if self.accuracies else None, "running": self.running,
                "status": self.status, "settings": dict(self.settings), "text": self.text()}

    @property
    def figure(self):
        """The matplotlib Figure: loss curve and decision boundary."""
        return self.picture.figure

    def summary(self) -> str:
        """The settings, the network's layer sizes and the latest epoch, as plain text."""
        s = self.settings
        shape = " -> ".join(str(k) for k in [2] + [s["width"]] * s["hidden_layers"] + [self.classes])
        return (f"Playground: {s['dataset']} ({s['n']} points, {self.classes} classes); network {shape} with "
                f"{s['activation']}; {s['optimizer']} lr={s['lr']:g}"
                + (f" momentum={s['momentum']:g}" if s["optimizer"] != "adam" else "")
                + f", batch size {s['batch_size']}, {s['epochs']} epochs per Train\n{self.text()}")

    def __repr__(self) -> str:
        return f"Playground(epoch {len(self.losses)}, {self.settings['dataset']}, {self.status})"

    def show(self) -> None:
        """Draw the state: the picture always, the controls and text when the widget exists."""
        self.picture.draw(self.losses, f"epoch {len(self.losses)}, {self.status.split(' (')[0]}")
        if self._controls is not None:
            self._controls.show(self)

    @property
    def widget(self):
        """The ipywidgets box (built on first use)."""
        if self._controls is None:
            self._controls = PlaygroundControls(self)
            self.show()
        return self._controls.box


class PlaygroundPicture:
    """Drawing: one off-screen figure with the loss curve and the decision boundary."""

    def __init__(self):
        self.figure = new_figure((9, 3.8), pyplot=False)
        self.view = None
        self._twin, self._pairs = None, []

    def new_data(self, X, y, classes: int) -> None:
        """Start a fresh picture for new data (the old points and regions go)."""
        self.figure.clear()
        self.view = TrainingView(X, y, classes, self.figure)
        self.renderer = StepRenderer(self.figure, None)

    def follow(self, model) -> None:
        """Draw ``model``'s regions from now on (call it where the model is built, before training).

        The regions come from a twin of the model. A redraw asked for by the kernel's main thread
        (a click, a summary) must not run forward through the model while the training thread sits
        between a batch's forward and backward, which would overwrite the caches backward needs;
        nor may it deep-copy the live model, whose layers gain attributes while it trains. So the
        twin is built here, once, and each draw only copies the weight arrays into it.
        """
        self._twin = copy.deepcopy(model)
        self._pairs = list(zip(self._twin.parameters(), model.parameters()))

    def snapshot(self):
        """The twin, holding the followed model's current weights (a plain array copy: safe mid-batch)."""
        for mine, live in self._pairs:
            np.copyto(mine.data, live.data)
        return self._twin

    def draw(self, losses, title: str) -> None:
        self.view.update(losses, self.snapshot(), title)

    def png(self) -> bytes:
        return self.renderer.render()


class PlaygroundControls:
    """Events: the Jupyter controls, set from the playground's state, and what each one does."""

    def __init__(self, playground: Playground):
        import ipywidgets as w

        self.sync = ControlSync()
        self.inputs = {
            "dataset": w.Dropdown(options=list(DATASETS), description="data"),
            "hidden_layers": w.IntSlider(min=1, max=6, description="depth"),
            "width": w.IntSlider(min=1, max=64, description="width"),
            "activation": w.Dropdown(options=list(ACTIVATIONS), description="activation"),
            "optimizer": w.Dropdown(options=list(OPTIMIZERS), description="optimiser"),
            "lr": w.SelectionSlider(options=log_choices(1e-6, 5.0), value=0.01, description="lr"),
            "batch_size": w.Dropdown(options=list(BATCH_SIZES), description="batch"),
            "momentum": w.FloatSlider(min=0.0, max=0.999, step=0.001, readout_format=".3f", description="momentum"),
            "epochs": w.BoundedIntText(min=1, max=10_000, description="epochs"),
        }
        for key, control in self.inputs.items():
            control.observe(lambda change, key=key: self._changed(playground, key, change["new"]), names="value")
        self.train = w.Button(description="Train", button_style="success", tooltip="train for the epochs set")
        self.stop = w.Button(description="Stop", button_style="warning", tooltip="stop after this mini-batch")
        self.reset = w.Button(description="Reset", tooltip="new weights, empty history")
        self.train.on_click(lambda _b: playground.train_in_background())
        self.stop.on_click(lambda _b: playground.stop())
        self.reset.on_click(lambda _b: playground.reset())
        self.status = w.HTML()
        self.status.add_class(TEXT_CLASS)
        self.image = w.Image(format="png")
        self.image.add_class("bplearn-picture")
        rows = list(self.inputs.values())
        self.box = w.VBox([w.HBox(rows[:3]), w.HBox(rows[3:6]), w.HBox(rows[6:]),
                           w.HBox([self.train, self.stop, self.reset]), self.status, self.image])
        self.box.add_class("bplearn-widget")
        self.box.add_class("bplearn-playground")

    def _changed(self, playground: Playground, key: str, value) -> None:
        if not self.sync.ignores(self.inputs[key], value, playground.settings[key]):
            playground.configure(**{key: value})

    def show(self, playground: Playground) -> None:
        """Make every control, the status text and the picture show the playground's state."""
        s = playground.settings
        for key, control in self.inputs.items():
            self.sync.put(control, s[key])
        training = playground.running
        self.train.description = "Training…" if training else "Train"
        self.train.disabled, self.stop.disabled = training, not training
        self.status.value = html_text(playground.text())
        self.image.value = playground.picture.png()
