"""Playground: choose data, network and optimiser, press Train, watch it learn."""
from __future__ import annotations

import html
import threading
import time
from numbers import Integral, Real

from ... import data, nn, optim
from ...train import accuracy, fit
from ..viz.curves import TrainingView
from ..viz.style import StepRenderer, new_figure

DATASETS = {"xor": data.xor, "moons": data.moons, "spirals": data.spirals, "circles": data.circles}
ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
OPTIMIZERS = {
    "sgd": lambda params, lr, momentum: optim.SGD(params, lr=lr, momentum=momentum),
    "adam": lambda params, lr, momentum: optim.Adam(params, lr=lr),       # Adam has its own momentum (beta1)
    "rmsprop": lambda params, lr, momentum: optim.RMSprop(params, lr=lr, momentum=momentum),
}
REDRAW_SECONDS = 0.25      # while training, redraw the picture at most this often


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


class Playground:
    """Train a small classifier on 2-D toy data and watch the loss and decision boundary.

    dataset: "xor", "moons", "spirals" or "circles"; hidden_layers (1-6) of ``width``
    neurons with ``activation`` ("relu", "tanh", "sigmoid"); optimizer: "sgd", "adam"
    or "rmsprop" with learning rate ``lr`` and ``momentum`` (SGD and RMSprop; Adam keeps
    its own); mini-batches of ``batch_size``; ``epochs`` per press of Train.

    Plain Python: ``train()`` (blocks), ``step()`` (one epoch), ``stop()``, ``reset()``,
    ``configure(**settings)``, ``state``, ``figure``, ``summary()``. In Jupyter the Train
    button trains in a background thread, so Stop stays clickable.
    """

    title = "Playground"

    def __init__(self, dataset: str = "moons", hidden_layers: int = 2, width: int = 8, activation: str = "tanh",
                 optimizer: str = "adam", lr: float = 0.01, batch_size: int = 32, momentum: float = 0.9,
                 epochs: int = 50, n: int = 200, seed: int = 0):
        self._widget = self._image = self._status = None
        self._thread, self._stop = None, False
        self._figure = new_figure((9, 3.8), pyplot=False)
        self.configure(dataset=dataset, hidden_layers=hidden_layers, width=width, activation=activation,
                       optimizer=optimizer, lr=lr, batch_size=batch_size, momentum=momentum, epochs=epochs,
                       n=n, seed=seed)

    # --- settings and model ---------------------------------------------------------------------
    def configure(self, **settings) -> None:
        """Change settings (same names as the constructor) and start again from fresh weights."""
        s = {**getattr(self, "settings", {}), **settings}
        unknown = set(settings) - {"dataset", "hidden_layers", "width", "activation", "optimizer", "lr",
                                   "batch_size", "momentum", "epochs", "n", "seed"}
        if unknown:
            raise TypeError(f"Playground: unknown setting(s) {sorted(unknown)}.")
        self.settings = {
            "dataset": _choice("dataset", s["dataset"], DATASETS),
            "hidden_layers": _whole("hidden_layers", s["hidden_layers"], 1, 6),
            "width": _whole("width", s["width"], 1, 64),
            "activation": _choice("activation", s["activation"], ACTIVATIONS),
            "optimizer": _choice("optimizer", s["optimizer"], OPTIMIZERS),
            "lr": _number("lr", s["lr"], 1e-6, 10.0),
            "batch_size": _whole("batch_size", s["batch_size"], 1, 10_000),
            "momentum": _number("momentum", s["momentum"], 0.0, 1.0),
            "epochs": _whole("epochs", s["epochs"], 1, 10_000),
            "n": _whole("n", s["n"], 8, 5_000),
            "seed": _whole("seed", s["seed"], 0, 2**31),
        }
        self.reset()

    def reset(self) -> None:
        """New data, new weights, empty history."""
        s = self.settings
        self.X, self.y = DATASETS[s["dataset"]](n=s["n"], rng=s["seed"])
        self.classes = int(self.y.max()) + 1
        init = "kaiming_uniform" if s["activation"] == "relu" else "xavier_uniform"
        sizes = [2] + [s["width"]] * s["hidden_layers"]
        layers = []
        for i in range(s["hidden_layers"]):
            layers += [nn.Linear(sizes[i], sizes[i + 1], rng=s["seed"] + i, init=init), ACTIVATIONS[s["activation"]]()]
        layers.append(nn.Linear(sizes[-1], self.classes, rng=s["seed"] + 100, init="xavier_uniform"))
        self.model = nn.Sequential(*layers)
        self.loss_fn = nn.CrossEntropyLoss()
        self.optimizer = OPTIMIZERS[s["optimizer"]](self.model.parameters(), s["lr"], s["momentum"])
        self.losses: list[float] = []
        self.accuracies: list[float] = []
        self.error = ""
        self._figure.clear()
        self.view = TrainingView(self.X, self.y, self.classes, self._figure)
        self._renderer = StepRenderer(self._figure, None)
        self.view.update(self.losses, self.model)
        self._refresh()

    # --- training ---------------------------------------------------------------------------------
    def train(self, epochs: int | None = None):
        """Train for ``epochs`` (default: the setting) or until stop(); returns fit's History."""
        if self.running and threading.current_thread() is not self._thread:
            raise RuntimeError("Playground: already training (Train button); press Stop or call stop() first.")
        self._stop, self.error = False, ""
        last_draw = [0.0]

        def callback(event: str, info: dict):
            if event == "epoch_end":
                self.losses.append(info["history"]["loss"][-1])
                self.accuracies.append(info["history"]["accuracy"][-1])
                if time.monotonic() - last_draw[0] > REDRAW_SECONDS:
                    last_draw[0] = time.monotonic()
                    self.view.update(self.losses, self.model)
                    self._refresh()
            return "stop" if self._stop else None

        try:
            history = fit(self.model, self.loss_fn, self.optimizer, (self.X, self.y),
                          epochs=epochs or self.settings["epochs"], batch_size=self.settings["batch_size"],
                          rng=self.settings["seed"] + len(self.losses), progress=False, callbacks=[callback])
        finally:
            self.view.update(self.losses, self.model)
            self._refresh()
        return history

    def step(self) -> None:
        """Train one epoch."""
        self.train(epochs=1)

    def stop(self) -> None:
        """Ask a running train() to stop after the current mini-batch."""
        self._stop = True

    @property
    def running(self) -> bool:
        """True while the Train button's background thread is training."""
        return self._thread is not None and self._thread.is_alive()

    # --- what is shown ----------------------------------------------------------------------------
    def text(self) -> str:
        """One line about the latest epoch (or the error that stopped training)."""
        if self.error:
            return f"training stopped: {self.error}"
        if not self.losses:
            return f"epoch 0: not trained yet (accuracy {accuracy(self.model, self.X, self.y):.1%})"
        return (f"epoch {len(self.losses)}: loss {self.losses[-1]:.4g}, training accuracy "
                f"{self.accuracies[-1]:.1%}" + ("  (training...)" if self.running else ""))

    @property
    def state(self) -> dict:
        """{"epoch", "loss", "accuracy", "running", "settings", "text"}."""
        return {"epoch": len(self.losses), "loss": self.losses[-1] if self.losses else None,
                "accuracy": self.accuracies[-1] if self.accuracies else None, "running": self.running,
                "settings": dict(self.settings), "text": self.text()}

    @property
    def figure(self):
        """The matplotlib Figure: loss curve and decision boundary."""
        return self._figure

    def summary(self) -> str:
        """The settings, the network's layer sizes and the latest epoch, as plain text."""
        s = self.settings
        shape = " -> ".join(str(k) for k in [2] + [s["width"]] * s["hidden_layers"] + [self.classes])
        return (f"Playground: {s['dataset']} ({s['n']} points, {self.classes} classes); network {shape} with "
                f"{s['activation']}; {s['optimizer']} lr={s['lr']:g}"
                + (f" momentum={s['momentum']:g}" if s["optimizer"] != "adam" else "")
                + f", batch size {s['batch_size']}\n{self.text()}")

    def __repr__(self) -> str:
        return f"Playground(epoch {len(self.losses)}, {self.settings['dataset']})"

    # --- the Jupyter widget -----------------------------------------------------------------------
    @property
    def widget(self):
        """The ipywidgets box (built on first use)."""
        if self._widget is None:
            self._widget = self._build_widget()
            self._refresh()
        return self._widget

    def _build_widget(self):
        import ipywidgets as w

        s = self.settings
        controls = {
            "dataset": w.Dropdown(options=list(DATASETS), value=s["dataset"], description="data"),
            "hidden_layers": w.IntSlider(value=s["hidden_layers"], min=1, max=6, description="depth"),
            "width": w.IntSlider(value=s["width"], min=1, max=32, description="width"),
            "activation": w.Dropdown(options=list(ACTIVATIONS), value=s["activation"], description="activation"),
            "optimizer": w.Dropdown(options=list(OPTIMIZERS), value=s["optimizer"], description="optimiser"),
            "lr": w.FloatLogSlider(value=s["lr"], base=10, min=-4, max=0, description="lr"),
            "batch_size": w.Dropdown(options=[4, 8, 16, 32, 64, 128, 256], value=s["batch_size"]
                                     if s["batch_size"] in (4, 8, 16, 32, 64, 128, 256) else 32, description="batch"),
            "momentum": w.FloatSlider(value=s["momentum"], min=0.0, max=0.99, step=0.01, description="momentum"),
            "epochs": w.IntSlider(value=s["epochs"], min=1, max=500, description="epochs"),
        }

        def changed(_change) -> None:
            self._halt()
            self.configure(**{key: c.value for key, c in controls.items()})

        for c in controls.values():
            c.observe(changed, names="value")
        train = w.Button(description="Train", button_style="success")
        stop = w.Button(description="Stop", button_style="warning")
        reset = w.Button(description="Reset")
        train.on_click(lambda _b: self._train_in_background())
        stop.on_click(lambda _b: self.stop())
        reset.on_click(lambda _b: (self._halt(), self.reset()))
        self._status = w.HTML()
        self._image = w.Image(format="png")
        boxes = list(controls.values())
        return w.VBox([w.HBox(boxes[:3]), w.HBox(boxes[3:6]), w.HBox(boxes[6:]), w.HBox([train, stop, reset]),
                       self._status, self._image])

    def _halt(self) -> None:
        """Stop background training and wait for it, so nothing draws while we rebuild."""
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _train_in_background(self) -> None:
        if self.running:
            return

        def run() -> None:
            try:
                self.train()
            except Exception as exc:  # shown to the learner instead of dying silently in a thread
                self.error = f"{type(exc).__name__}: {exc}"
                self._refresh()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def _refresh(self) -> None:
        if self._image is None:
            return
        self._status.value = f"<div style='font-family: monospace'>{html.escape(self.text())}</div>"
        self._image.value = self._renderer.render()

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = self.summary()
        return bundle
